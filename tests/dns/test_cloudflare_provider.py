"""CloudflareProvider driven through the real `cloudflare` SDK against the local v4 emulator."""

from __future__ import annotations

import base64
import time

import pytest
from ansible_collections.lms.mail.plugins.module_utils.dns_cloudflare import CloudflareProvider
from ansible_collections.lms.mail.plugins.module_utils.dns_provider import (
    AuthenticationFailed,
    DnsError,
    PtrUnsupported,
    RateLimited,
    Record,
    ZoneNotFound,
)

from tests.dns.emulator_fixtures import filler_rows
from tests.dns.emulators import CloudflareEmulator
from tests.dns.emulators.cloudflare import _txt_strings

ZONE = "school.test"
SPF = "v=spf1 include:_spf.office.test ~all"
VERIFICATION = "site-verification=Zm9vYmFyYmF6"
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


def test_find_zone_takes_the_longest_apex(api: CloudflareEmulator, cf: CloudflareProvider) -> None:
    api.add_zone("lab.school.test")
    assert cf.find_zone("_dmarc.school.test").name == ZONE
    deep = cf.find_zone("sel._domainkey.lab.school.test")
    assert (deep.name, deep.id) == ("lab.school.test", api.zone_id("lab.school.test"))


def test_zone_not_found_names_the_domain(cf: CloudflareProvider) -> None:
    with pytest.raises(ZoneNotFound, match=r"other\.test"):
        cf.find_zone("mail.other.test")


def test_create_then_list_returns_the_record(api: CloudflareEmulator, cf: CloudflareProvider) -> None:
    zone = cf.find_zone(ZONE)
    created = cf.create_record(zone, Record(name=ZONE, type="TXT", value=SPF, ttl=300))
    assert created.id and created.value == SPF and created.ttl == 300
    # Cloudflare receives quoted character-strings, never bare text.
    assert api.find(ZONE, ZONE, "TXT")[0]["content"] == f'"{SPF}"'
    assert cf.list_records(zone, ZONE, "TXT") == [created]
    assert cf.list_records(zone, "www.school.test", "TXT") == []


def test_list_reads_every_page_and_no_more(api: CloudflareEmulator, cf: CloudflareProvider) -> None:
    api.seed_records(ZONE, filler_rows(300, "TXT"))
    for i in range(12):
        api.seed_record(ZONE, ZONE, "TXT", f'"token-{i}"')
    zone = cf.find_zone(ZONE)
    api.clear_log()
    values = [r.value for r in cf.list_records(zone, ZONE, "TXT")]
    assert values == [f"token-{i}" for i in range(12)]
    # 12 records at 5 per page: pages 1..3, and no fourth request for an empty page.
    pages = [r.query["page"] for r in list_requests(api)]
    assert pages == [["1"], ["2"], ["3"]]
    assert all(r.query["name.exact"] == [ZONE] and r.query["type"] == ["TXT"] for r in list_requests(api))


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


def test_update_and_delete_touch_one_value_only(api: CloudflareEmulator, cf: CloudflareProvider) -> None:
    api.seed_record(ZONE, ZONE, "TXT", f'"{SPF}"')
    verification = api.seed_record(ZONE, ZONE, "TXT", f'"{VERIFICATION}"')
    other = api.seed_record(ZONE, ZONE, "TXT", '"another-tool=1"')
    zone = cf.find_zone(ZONE)
    spf = next(r for r in cf.list_records(zone, ZONE, "TXT") if r.value == SPF)
    merged = "v=spf1 include:_spf.office.test ip4:203.0.113.10 ~all"

    cf.update_record(zone, spf, Record(name=ZONE, type="TXT", value=merged, ttl=spf.ttl))
    after = {r.value: r.id for r in cf.list_records(zone, ZONE, "TXT")}
    assert after == {merged: spf.id, VERIFICATION: verification["id"], "another-tool=1": other["id"]}
    assert [r.method for r in api.writes()] == ["PATCH"]

    # Without an id the record is found by its value.
    cf.delete_record(zone, Record(name=ZONE, type="TXT", value="another-tool=1"))
    assert sorted(r.value for r in cf.list_records(zone, ZONE, "TXT")) == sorted([merged, VERIFICATION])
    assert [r.method for r in api.writes()] == ["PATCH", "DELETE"]


def test_deleting_a_record_that_is_already_gone_is_not_an_error(
    api: CloudflareEmulator, cf: CloudflareProvider
) -> None:
    zone = cf.find_zone(ZONE)
    cf.delete_record(zone, Record(name=ZONE, type="TXT", value=SPF, id="0" * 32))
    assert [r.status for r in api.writes()] == [404]


def test_429_is_retried_after_retry_after(api: CloudflareEmulator, cf: CloudflareProvider) -> None:
    zone = cf.find_zone(ZONE)
    api.inject(status=429, retry_after=1, times=1, path_contains="dns_records")
    started = time.monotonic()
    assert cf.list_records(zone, ZONE, "TXT") == []
    assert time.monotonic() - started >= 1.0
    assert [r.status for r in list_requests(api)] == [429, 200]


def test_429_beyond_the_retry_budget_is_rate_limited(api: CloudflareEmulator) -> None:
    cf = make_provider(api, max_retries=1)
    zone = cf.find_zone(ZONE)
    api.inject(status=429, retry_after=0.05, times=10, path_contains="dns_records")
    with pytest.raises(RateLimited, match="429.*after 1 retries"):
        cf.list_records(zone, ZONE, "TXT")
    assert len(list_requests(api)) == 2  # bounded: the first try and one retry


def test_500_then_success(api: CloudflareEmulator, cf: CloudflareProvider) -> None:
    zone = cf.find_zone(ZONE)
    api.inject(status=500, retry_after=0.05, times=1, path_contains="dns_records")
    assert cf.list_records(zone, ZONE, "TXT") == []
    assert [r.status for r in list_requests(api)] == [500, 200]


def test_a_create_applied_before_a_500_is_not_duplicated(
    api: CloudflareEmulator, cf: CloudflareProvider
) -> None:
    # The SDK repeats the POST after the 500; Cloudflare refuses the repeat as identical.
    zone = cf.find_zone(ZONE)
    api.inject(status=500, retry_after=0.05, times=1, method="POST", after=True)
    created = cf.create_record(zone, Record(name=ZONE, type="TXT", value=SPF))
    assert created.value == SPF and created.id == api.find(ZONE, ZONE, "TXT")[0]["id"]
    assert len(api.find(ZONE, ZONE, "TXT")) == 1
    assert [r.status for r in api.requests("POST")] == [500, 400]


def test_bad_token_is_a_clear_error_without_the_token(api: CloudflareEmulator) -> None:
    wrong = "not-the-right-token-3f9a"
    cf = CloudflareProvider(wrong, base_url=api.base_url, max_retries=0)
    with pytest.raises(AuthenticationFailed) as err:
        cf.find_zone(ZONE)
    assert "HTTP 401" in str(err.value) and "api_token" in str(err.value)
    assert wrong not in str(err.value)


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


def test_a_slow_answer_times_out(api: CloudflareEmulator) -> None:
    cf = make_provider(api, timeout=0.3, max_retries=0)
    zone = cf.find_zone(ZONE)
    api.inject(delay=1.5, times=1, path_contains="dns_records")
    started = time.monotonic()
    with pytest.raises(DnsError, match=r"did not answer within 0\.3 s"):
        cf.list_records(zone, ZONE, "TXT")
    assert time.monotonic() - started < 1.2


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


def test_ten_thousand_records_seed_fast_and_one_name_is_two_requests(
    api: CloudflareEmulator, cf: CloudflareProvider
) -> None:
    started = time.monotonic()
    api.seed_records(ZONE, filler_rows(10_000))
    assert time.monotonic() - started < 2.0
    api.seed_record(ZONE, ZONE, "TXT", f'"{SPF}"')
    zone = cf.find_zone(ZONE)
    assert [r.value for r in cf.list_records(zone, ZONE, "TXT")] == [SPF]
    assert len(api.requests()) == 2  # the zone lookup and one page of the exact-name listing
