"""CloudflareProvider (Cloudflare's v4 API over requests) against the local v4 emulator."""

from __future__ import annotations

import base64

import pytest
from ansible_collections.lms.mail.plugins.module_utils.dns_cloudflare import CloudflareProvider
from ansible_collections.lms.mail.plugins.module_utils.dns_provider import (
    AuthenticationFailed,
    PtrUnsupported,
    Record,
)

from tests.dns.emulators import CloudflareEmulator
from tests.dns.emulators.cloudflare import _txt_strings

ZONE = "school.test"
SPF = "v=spf1 include:_spf.office.test ~all"
# A 4096-bit RSA public key is 550 bytes of DER, 736 characters of base64.
DKIM_4096 = "v=DKIM1; k=rsa; p=" + base64.b64encode(bytes(range(256)) * 2 + bytes(38)).decode()


def make_provider(api: CloudflareEmulator, **kwargs: object) -> CloudflareProvider:
    options: dict[str, object] = {"timeout": 5.0, "max_retries": 2, "page_size": 5}
    options.update(kwargs)
    return CloudflareProvider("cf-test-token", base_url=api.base_url, **options)  # type: ignore[arg-type]


@pytest.fixture
def api(cloudflare_api: CloudflareEmulator) -> CloudflareEmulator:
    cloudflare_api.add_zone(ZONE)
    return cloudflare_api


@pytest.fixture
def cf(api: CloudflareEmulator) -> CloudflareProvider:
    return make_provider(api)


def list_requests(api: CloudflareEmulator) -> list:
    return [r for r in api.requests("GET") if r.path.endswith("/dns_records")]


def test_create_then_list_returns_the_record(api: CloudflareEmulator, cf: CloudflareProvider) -> None:
    zone = cf.find_zone(ZONE)
    created = cf.create_record(zone, Record(name=ZONE, type="TXT", value=SPF, ttl=300))
    assert created.id and created.value == SPF and created.ttl == 300
    # Cloudflare receives quoted character-strings, never bare text.
    assert api.find(ZONE, ZONE, "TXT")[0]["content"] == f'"{SPF}"'
    assert cf.list_records(zone, ZONE, "TXT") == [created]
    assert cf.list_records(zone, "www.school.test", "TXT") == []


def test_list_stops_on_an_exactly_full_last_page(api: CloudflareEmulator, cf: CloudflareProvider) -> None:
    for i in range(10):
        api.seed_record(ZONE, "mail.school.test", "A", f"192.0.2.{i + 1}")
    zone = cf.find_zone(ZONE)
    api.clear_log()
    assert len(cf.list_records(zone, "mail.school.test", "A")) == 10
    assert len(list_requests(api)) == 2


def test_dkim_4096_is_split_into_255_byte_strings_and_joined_back(
    api: CloudflareEmulator, cf: CloudflareProvider
) -> None:
    zone = cf.find_zone(ZONE)
    name = "s2026._domainkey.school.test"
    cf.create_record(zone, Record(name=name, type="TXT", value=DKIM_4096))
    stored = _txt_strings(api.find(ZONE, name, "TXT")[0]["content"])
    assert stored is not None and len(stored) == 3
    assert all(len(s.encode()) <= 255 for s in stored)
    assert "".join(stored) == DKIM_4096
    assert [r.value for r in cf.list_records(zone, name, "TXT")] == [DKIM_4096]


def test_values_split_or_quoted_differently_read_as_the_same_value(
    api: CloudflareEmulator, cf: CloudflareProvider
) -> None:
    # Another tool split the key at 200 bytes; a short SPF was stored without quotes.
    name = "old._domainkey.school.test"
    chunks = [DKIM_4096[i : i + 200] for i in range(0, len(DKIM_4096), 200)]
    api.seed_record(ZONE, name, "TXT", " ".join(f'"{c}"' for c in chunks))
    api.seed_record(ZONE, ZONE, "TXT", SPF)
    zone = cf.find_zone(ZONE)
    assert [r.value for r in cf.list_records(zone, name, "TXT")] == [DKIM_4096]
    assert [r.value for r in cf.list_records(zone, ZONE, "TXT")] == [SPF]


def test_deleting_a_record_that_is_already_gone_is_not_an_error(
    api: CloudflareEmulator, cf: CloudflareProvider
) -> None:
    zone = cf.find_zone(ZONE)
    cf.delete_record(zone, Record(name=ZONE, type="TXT", value=SPF, id="0" * 32))
    assert [r.status for r in api.writes()] == [404]


def test_500_then_success(api: CloudflareEmulator, cf: CloudflareProvider) -> None:
    zone = cf.find_zone(ZONE)
    api.inject(status=500, retry_after=0.05, times=1, path_contains="dns_records")
    assert cf.list_records(zone, ZONE, "TXT") == []
    assert [r.status for r in list_requests(api)] == [500, 200]


def test_a_create_applied_before_a_500_is_not_duplicated(
    api: CloudflareEmulator, cf: CloudflareProvider
) -> None:
    # The provider repeats the POST after the 500; Cloudflare refuses the repeat as identical.
    zone = cf.find_zone(ZONE)
    api.inject(status=500, retry_after=0.05, times=1, method="POST", after=True)
    created = cf.create_record(zone, Record(name=ZONE, type="TXT", value=SPF))
    assert created.value == SPF and created.id == api.find(ZONE, ZONE, "TXT")[0]["id"]
    assert len(api.find(ZONE, ZONE, "TXT")) == 1
    assert [r.status for r in api.requests("POST")] == [500, 400]


def test_token_without_edit_permission_says_which_permission(api: CloudflareEmulator) -> None:
    api.read_only_tokens.add("read-only")
    cf = CloudflareProvider("read-only", base_url=api.base_url, max_retries=0)
    zone = cf.find_zone(ZONE)
    with pytest.raises(AuthenticationFailed, match=r"HTTP 403.*DNS:Edit"):
        cf.create_record(zone, Record(name=ZONE, type="TXT", value=SPF))


def test_missing_token_fails_before_any_request(api: CloudflareEmulator) -> None:
    with pytest.raises(AuthenticationFailed, match="CLOUDFLARE_API_TOKEN"):
        CloudflareProvider("", base_url=api.base_url)
    assert api.requests() == []


def test_ptr_without_a_reverse_zone_gives_the_panel_instruction(cf: CloudflareProvider) -> None:
    with pytest.raises(PtrUnsupported) as err:
        cf.set_ptr("203.0.113.10", "mail.school.test")
    message = str(err.value)
    assert "203.0.113.10" in message and "10.113.0.203.in-addr.arpa" in message
    assert "control panel of the hosting provider" in message


def test_ptr_in_a_delegated_reverse_zone(api: CloudflareEmulator, cf: CloudflareProvider) -> None:
    api.add_zone("113.0.203.in-addr.arpa")
    assert cf.set_ptr("203.0.113.10", "mail.school.test") is True
    assert [r.value for r in cf.get_ptr("203.0.113.10")] == ["mail.school.test"]
    api.clear_log()
    assert cf.set_ptr("203.0.113.10", "mail.school.test.") is False
    assert api.writes() == []
    assert cf.set_ptr("203.0.113.10", "smtp.school.test") is True
    assert [r.method for r in api.writes()] == ["PATCH"]
    assert [r["content"] for r in api.find("113.0.203.in-addr.arpa", "10.113.0.203.in-addr.arpa")] == [
        "smtp.school.test"
    ]
