"""DigitalOceanProvider (DigitalOcean's v2 API over a requests Session) against the local v2
emulator, including proof that no request leaves for another host."""

from __future__ import annotations

import base64
import importlib
import sys
import time

import pytest
import requests
from ansible_collections.lms.mail.plugins.module_utils import dns_digitalocean
from ansible_collections.lms.mail.plugins.module_utils.dns_digitalocean import (
    DigitalOceanProvider,
    EndPointEscape,
)
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
    # An absolute URL, a path that climbs out of /v2/, and the session used directly: each is
    # refused by the session's adapters before a connection is opened.
    for path in (FOREIGN_ORIGIN + "/v2/domains", "../../other/domains"):
        with pytest.raises(EndPointEscape, match="refusing to send a request outside"):
            do._request("a test", "GET", path)
    with pytest.raises(EndPointEscape):
        do._session.post(FOREIGN_ORIGIN + "/v2/domains", json={})
    assert api.requests() == []


def test_a_domain_name_cannot_move_the_request(api: DigitalOceanEmulator, do: DigitalOceanProvider) -> None:
    # a zone name is one path segment, whatever it holds
    assert do._lookup_zone("school.test/../../x") is None
    assert all(r.path.startswith("/v2/domains/") for r in api.requests())


def test_the_provider_needs_no_private_hook_of_any_library(
    api: DigitalOceanEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Finding 12: the provider used to override python-digitalocean's name-mangled
    # BaseAPI.__perform_request; a refactor upstream would have dropped the end-point check,
    # the timeout and the retries without a sound. It now speaks the v2 API through requests'
    # public Session and adapters, so it works with that library absent altogether.
    for name in ("digitalocean", "digitalocean.baseapi"):
        monkeypatch.setitem(sys.modules, name, None)  # import digitalocean fails
    module = importlib.reload(dns_digitalocean)
    try:
        provider = module.DigitalOceanProvider(
            TOKEN, base_url=api.base_url, timeout=5.0, max_retries=1, sleep=lambda _s: None
        )
        zone = provider.find_zone(ZONE)
        api.inject(status=429, retry_after=0, times=1, method="POST")
        created = provider.create_record(zone, Record(name=ZONE, type="TXT", value=SPF))
        assert created.id and [r.status for r in api.requests("POST")] == [429, 201]
        assert "_BaseAPI__perform_request" not in vars(module) and not hasattr(module, "BaseAPI")
    finally:
        monkeypatch.undo()
        importlib.reload(dns_digitalocean)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_every_request_has_the_timeout(api: DigitalOceanEmulator, method: str) -> None:
    # no retry: a read that timed out would be repeated (tests/dns/test_faults.py)
    provider = make_provider(api, timeout=0.2, max_retries=0)
    zone = provider.find_zone(ZONE)
    seen = len(api.requests(method))
    api.inject(delay=0.6, times=1, method=method)
    with pytest.raises(DnsError, match="did not answer within 0.2 s"):
        if method == "GET":
            provider.list_records(zone, ZONE, "TXT")
        else:
            provider.create_record(zone, Record(name=ZONE, type="TXT", value=SPF))
    # let the slow answer finish while the emulator still runs
    deadline = time.monotonic() + 3
    while len(api.requests(method)) == seen and time.monotonic() < deadline:
        time.sleep(0.05)


def test_a_redirect_is_not_followed_with_the_token(
    api: DigitalOceanEmulator, do: DigitalOceanProvider
) -> None:
    # requests would follow a 3xx; the session allows none, so the token never goes to Location
    zone = do.find_zone(ZONE)
    api.inject(status=302, times=1, method="GET")
    with pytest.raises(DnsError, match="redirects are not followed"):
        do.list_records(zone, ZONE, "TXT")
    assert isinstance(do._session, requests.Session) and do._session.max_redirects == 0


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
