"""DigitalOceanProvider driven through the real python-digitalocean library against the local v2
emulator, including proof that no request leaves for another host."""

from __future__ import annotations

import base64

import digitalocean
import pytest
from ansible_collections.lms.mail.plugins.module_utils.dns_digitalocean import DigitalOceanProvider
from ansible_collections.lms.mail.plugins.module_utils.dns_provider import (
    DnsError,
    PtrUnsupported,
    Record,
)

from tests.dns.emulators import DigitalOceanEmulator

ZONE = "school.test"
TOKEN = "do-test-token"  # noqa: S105 - the emulator's fake token
SPF = "v=spf1 include:_spf.office.test ~all"
DKIM_4096 = "v=DKIM1; k=rsa; p=" + base64.b64encode(bytes(range(256)) * 2 + bytes(38)).decode()
# Where the emulator's pagination links point in the escape test: a reserved name that cannot
# resolve, and is never contacted because the guard (sent_urls, in emulator_fixtures.py)
# refuses it before any connection.
FOREIGN_ORIGIN = "http://api.escape.invalid"


def make_provider(api: DigitalOceanEmulator, **kwargs: object) -> DigitalOceanProvider:
    options: dict[str, object] = {
        "timeout": 5.0,
        "max_retries": 2,
        "page_size": 5,
        "action_poll_interval": 0.01,
    }
    options.update(kwargs)
    return DigitalOceanProvider(TOKEN, base_url=api.base_url, **options)  # type: ignore[arg-type]


@pytest.fixture
def api(digitalocean_api: DigitalOceanEmulator, sent_urls: list[str]) -> DigitalOceanEmulator:
    digitalocean_api.add_domain(ZONE)
    return digitalocean_api


@pytest.fixture
def do(api: DigitalOceanEmulator, monkeypatch: pytest.MonkeyPatch) -> DigitalOceanProvider:
    # The provider must not depend on the library's environment variables.
    for name in (
        "DIGITALOCEAN_END_POINT",
        "DIGITALOCEAN_ACCESS_TOKEN",
        "PYTHON_DIGITALOCEAN_REQUEST_TIMEOUT_SEC",
    ):
        monkeypatch.delenv(name, raising=False)
    return make_provider(api)


def record_lists(api: DigitalOceanEmulator) -> list:
    return [r for r in api.requests("GET") if r.path.rstrip("/").endswith("/records")]


def test_names_are_relative_on_the_wire_and_absolute_in_records(
    api: DigitalOceanEmulator, do: DigitalOceanProvider
) -> None:
    zone = do.find_zone(ZONE)
    apex = do.create_record(zone, Record(name=ZONE, type="TXT", value=SPF, ttl=300))
    sub = do.create_record(zone, Record(name="_dmarc.school.test", type="TXT", value="v=DMARC1; p=none"))
    assert [r["name"] for r in api.find(ZONE, "@", "TXT")] == ["@"]
    assert [r["data"] for r in api.find(ZONE, "_dmarc", "TXT")] == ["v=DMARC1; p=none"]
    assert do.list_records(zone, ZONE, "TXT") == [apex]
    assert do.list_records(zone, "_dmarc.school.test", "TXT") == [sub]
    # The list filter carries the fully qualified name, as DigitalOcean documents it.
    assert {r.query["name"][0] for r in record_lists(api)} == {ZONE, "_dmarc.school.test"}


def test_dkim_4096_round_trips_as_digitalocean_stores_it(
    api: DigitalOceanEmulator, do: DigitalOceanProvider
) -> None:
    zone = do.find_zone(ZONE)
    name = "s2026._domainkey.school.test"
    do.create_record(zone, Record(name=name, type="TXT", value=DKIM_4096))
    assert [r["data"] for r in api.find(ZONE, "s2026._domainkey")] == [DKIM_4096]
    assert [r.value for r in do.list_records(zone, name, "TXT")] == [DKIM_4096]
    # A key another tool stored as quoted strings reads as the same joined value.
    chunks = [DKIM_4096[i : i + 255] for i in range(0, len(DKIM_4096), 255)]
    api.seed_record(ZONE, "old._domainkey", "TXT", " ".join(f'"{c}"' for c in chunks))
    assert [r.value for r in do.list_records(zone, "old._domainkey.school.test", "TXT")] == [DKIM_4096]


def test_500_on_a_read_is_retried(api: DigitalOceanEmulator, do: DigitalOceanProvider) -> None:
    zone = do.find_zone(ZONE)
    api.inject(status=500, times=1, path_contains="/records", method="GET")
    do_fast = make_provider(api, sleep=lambda _s: None)
    assert do_fast.list_records(zone, ZONE, "TXT") == []
    assert [r.status for r in record_lists(api)] == [500, 200]


def test_500_on_a_create_is_not_repeated(api: DigitalOceanEmulator, do: DigitalOceanProvider) -> None:
    # A POST that failed with 5xx may have been applied; a blind retry could duplicate the record.
    zone = do.find_zone(ZONE)
    api.inject(status=500, times=1, method="POST", after=True)
    with pytest.raises(DnsError, match="HTTP 500.*run again"):
        do.create_record(zone, Record(name=ZONE, type="TXT", value=SPF))
    assert len(api.requests("POST")) == 1
    assert len(api.find(ZONE, "@", "TXT")) == 1  # applied once, never twice


def test_no_request_escapes_the_end_point(
    api: DigitalOceanEmulator, do: DigitalOceanProvider, sent_urls: list[str]
) -> None:
    # The emulator answers with pagination links to a foreign host; the provider pages by number.
    api.links_origin = FOREIGN_ORIGIN
    for i in range(7):
        api.seed_record(ZONE, "@", "TXT", f"token-{i}")
    droplet = api.add_droplet("web-1", "203.0.113.10")
    zone = do.find_zone(ZONE)
    assert len(do.list_records(zone, ZONE, "TXT")) == 7
    created = do.create_record(zone, Record(name="mail.school.test", type="A", value="203.0.113.10"))
    do.update_record(zone, created, Record(name="mail.school.test", type="A", value="203.0.113.11"))
    do.delete_record(zone, created)
    assert do.set_ptr("203.0.113.10", "mail.school.test") is True
    assert api.droplets[droplet]["name"] == "mail.school.test"
    # Every request the library sent reached the emulator, and the emulator saw each of them.
    assert sent_urls and all(url.startswith(api.base_url) for url in sent_urls)
    assert len(sent_urls) == len(api.requests())


def test_the_end_point_guard_refuses_a_foreign_url(
    api: DigitalOceanEmulator, do: DigitalOceanProvider
) -> None:
    from ansible_collections.lms.mail.plugins.module_utils.dns_digitalocean import _Api

    with pytest.raises(DnsError, match="refusing to send a request outside"):
        do._new(_Api).get_data(FOREIGN_ORIGIN + "/v2/domains")
    assert api.requests() == []


def test_library_children_would_escape_which_is_why_the_provider_builds_its_own(
    api: DigitalOceanEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The trap this provider avoids: records built by Domain.get_records do not carry the end
    # point of the Domain that listed them. (Only inspected, never used to send.)
    monkeypatch.delenv("DIGITALOCEAN_END_POINT", raising=False)
    api.seed_record(ZONE, "@", "TXT", SPF)
    domain = digitalocean.Domain(token=TOKEN, end_point=api.base_url, name=ZONE)
    children = domain.get_records()
    assert children and all(child.end_point != api.base_url for child in children)


def test_ptr_renames_the_droplet_holding_the_address(
    api: DigitalOceanEmulator, do: DigitalOceanProvider
) -> None:
    api.add_droplet("db-1", "203.0.113.20")
    web = api.add_droplet("web-1", "203.0.113.10", ipv6="2001:db8::10")
    assert [r.value for r in do.get_ptr("203.0.113.10")] == ["web-1"]
    api.clear_log()

    assert do.set_ptr("2001:db8:0:0::10", "mail.school.test") is True
    assert api.droplets[web]["name"] == "mail.school.test"
    posts = api.requests("POST")
    assert [(p.path.rstrip("/"), p.body) for p in posts] == [
        (f"/v2/droplets/{web}/actions", {"type": "rename", "name": "mail.school.test"})
    ]
    assert any("/actions/" in r.path for r in api.requests("GET"))  # it waited for the action

    api.clear_log()
    assert do.set_ptr("203.0.113.10", "MAIL.school.test.") is False
    assert api.writes() == []
    assert [r.value for r in do.get_ptr("203.0.113.10")] == ["mail.school.test"]


def test_a_rename_action_that_errors_is_a_failure(
    api: DigitalOceanEmulator, do: DigitalOceanProvider
) -> None:
    web = api.add_droplet("web-1", "203.0.113.10")
    api.action_outcome = "errored"
    api.action_polls = 3
    with pytest.raises(DnsError, match="ended as 'errored'"):
        do.set_ptr("203.0.113.10", "mail.school.test")
    assert api.droplets[web]["name"] == "web-1"
    assert len([r for r in api.requests("GET") if "/actions/" in r.path]) == 3


def test_ptr_for_an_address_no_droplet_holds_gives_the_panel_instruction(
    api: DigitalOceanEmulator, do: DigitalOceanProvider
) -> None:
    api.add_droplet("web-1", "203.0.113.10", private_ipv4="10.10.0.5")
    for ip in ("198.51.100.7", "10.10.0.5"):  # unknown, and a droplet's private address
        with pytest.raises(PtrUnsupported) as err:
            do.set_ptr(ip, "mail.school.test")
        assert ip in str(err.value) and "control panel of the hosting provider" in str(err.value)
    assert api.writes() == []
