"""The cases where CloudflareProvider and DigitalOceanProvider must behave alike, each run against
its own emulator through its real HTTP client. What only one of them does (Cloudflare's quoted strings
and identical-record answer, DigitalOcean's relative names, end-point guard and droplet PTR) is
in test_cloudflare_provider.py and test_digitalocean_provider.py."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable

import pytest
from ansible_collections.lms.mail.plugins.module_utils.dns_cloudflare import CloudflareProvider
from ansible_collections.lms.mail.plugins.module_utils.dns_digitalocean import DigitalOceanProvider
from ansible_collections.lms.mail.plugins.module_utils.dns_provider import (
    AuthenticationFailed,
    DnsError,
    DnsProvider,
    RateLimited,
    Record,
    ZoneNotFound,
)

from tests.dns.emulator_fixtures import filler_rows
from tests.dns.emulators import CloudflareEmulator, DigitalOceanEmulator
from tests.dns.emulators._server import EmulatorServer, LoggedRequest

ZONE = "school.test"
SPF = "v=spf1 include:_spf.office.test ~all"
VERIFICATION = "site-verification=Zm9vYmFyYmF6"


@dataclasses.dataclass
class Api:
    """One provider and its emulator, seen the same way."""

    emulator: EmulatorServer
    add_zone: Callable[[str], object]
    zone_id: Callable[[str], str]  # the provider's id of a zone, by name
    provider_class: Callable[..., DnsProvider]
    token: str
    options: dict[str, object]  # the test defaults: short timeout, few retries, small pages
    records_path: str  # in the path of every record listing (for faults and counting)
    name_filter: str  # the listing's query parameter that carries the fully qualified name
    edit_method: str  # how the provider changes a record in place
    seed: Callable[[str, str], dict]  # (fully qualified name, TXT value) -> the stored record

    def make(self, token: str = "", **options: object) -> DnsProvider:
        return self.provider_class(
            token or self.token, base_url=self.emulator.base_url, **{**self.options, **options}
        )

    def record_lists(self) -> list[LoggedRequest]:
        return [r for r in self.emulator.requests("GET") if r.path.rstrip("/").endswith(self.records_path)]


def _cloudflare(api: CloudflareEmulator) -> Api:
    api.add_zone(ZONE)
    return Api(
        emulator=api,
        add_zone=api.add_zone,
        zone_id=api.zone_id,
        provider_class=CloudflareProvider,
        token="cf-test-token",  # noqa: S106 - the emulator's fake token
        options={"timeout": 5.0, "max_retries": 2, "page_size": 5},
        records_path="/dns_records",
        name_filter="name.exact",
        edit_method="PATCH",
        seed=lambda name, value: api.seed_record(ZONE, name, "TXT", f'"{value}"'),
    )


def _digitalocean(api: DigitalOceanEmulator) -> Api:
    api.add_domain(ZONE)
    return Api(
        emulator=api,
        add_zone=api.add_domain,
        zone_id=lambda name: name,  # DigitalOcean knows a domain by its name
        provider_class=DigitalOceanProvider,
        token="do-test-token",  # noqa: S106 - the emulator's fake token
        options={"timeout": 5.0, "max_retries": 2, "page_size": 5, "action_poll_interval": 0.01},
        records_path="/records",
        name_filter="name",
        edit_method="PUT",
        seed=lambda name, value: api.seed_record(
            ZONE, "@" if name == ZONE else name.removesuffix("." + ZONE), "TXT", value
        ),
    )


@pytest.fixture(params=["cloudflare", "digitalocean"])
def api(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Api:
    if request.param == "cloudflare":
        return _cloudflare(request.getfixturevalue("cloudflare_api"))
    request.getfixturevalue("sent_urls")  # no request may leave the emulator
    # The provider must not depend on the library's environment variables.
    for name in (
        "DIGITALOCEAN_END_POINT",
        "DIGITALOCEAN_ACCESS_TOKEN",
        "PYTHON_DIGITALOCEAN_REQUEST_TIMEOUT_SEC",
    ):
        monkeypatch.delenv(name, raising=False)
    return _digitalocean(request.getfixturevalue("digitalocean_api"))


@pytest.fixture
def provider(api: Api) -> DnsProvider:
    return api.make()


def test_find_zone_takes_the_longest_apex_and_names_a_missing_one(api: Api, provider: DnsProvider) -> None:
    api.add_zone("lab.school.test")
    assert provider.find_zone("_dmarc.school.test").name == ZONE
    deep = provider.find_zone("sel._domainkey.lab.school.test")
    assert (deep.name, deep.id) == ("lab.school.test", api.zone_id("lab.school.test"))
    with pytest.raises(ZoneNotFound, match=r"mail\.other\.test"):
        provider.find_zone("mail.other.test")


def test_list_reads_every_page_and_no_more(api: Api, provider: DnsProvider) -> None:
    api.emulator.seed_records(ZONE, filler_rows(300, "TXT"))
    for i in range(12):
        api.seed(ZONE, f"token-{i}")
    zone = provider.find_zone(ZONE)
    api.emulator.clear_log()
    assert [r.value for r in provider.list_records(zone, ZONE, "TXT")] == [f"token-{i}" for i in range(12)]
    # 12 records at 5 per page: pages 1..3, and no fourth request for an empty page.
    lists = api.record_lists()
    assert [r.query["page"] for r in lists] == [["1"], ["2"], ["3"]]
    assert all(r.query[api.name_filter] == [ZONE] and r.query["type"] == ["TXT"] for r in lists)


def test_update_and_delete_touch_one_value_only(api: Api, provider: DnsProvider) -> None:
    api.seed(ZONE, SPF)
    verification = api.seed(ZONE, VERIFICATION)
    other = api.seed(ZONE, "another-tool=1")
    zone = provider.find_zone(ZONE)
    spf = next(r for r in provider.list_records(zone, ZONE, "TXT") if r.value == SPF)
    merged = "v=spf1 include:_spf.office.test ip4:203.0.113.10 ~all"

    updated = provider.update_record(zone, spf, Record(name=ZONE, type="TXT", value=merged, ttl=spf.ttl))
    assert (updated.id, updated.value, updated.name) == (spf.id, merged, ZONE)
    after = {r.value: r.id for r in provider.list_records(zone, ZONE, "TXT")}
    assert after == {
        merged: spf.id,
        VERIFICATION: str(verification["id"]),
        "another-tool=1": str(other["id"]),
    }
    assert [r.method for r in api.emulator.writes()] == [api.edit_method]

    # Without an id the record is found by its value.
    provider.delete_record(zone, Record(name=ZONE, type="TXT", value="another-tool=1"))
    assert sorted(r.value for r in provider.list_records(zone, ZONE, "TXT")) == sorted([merged, VERIFICATION])
    assert [r.method for r in api.emulator.writes()] == [api.edit_method, "DELETE"]


def test_429_is_retried_after_retry_after(api: Api, provider: DnsProvider) -> None:
    zone = provider.find_zone(ZONE)
    api.emulator.inject(status=429, retry_after=1, times=1, path_contains=api.records_path)
    started = time.monotonic()
    assert provider.list_records(zone, ZONE, "TXT") == []
    assert time.monotonic() - started >= 1.0
    assert [r.status for r in api.record_lists()] == [429, 200]


def test_429_beyond_the_retry_budget_is_rate_limited(api: Api) -> None:
    provider = api.make(max_retries=1)
    zone = provider.find_zone(ZONE)
    api.emulator.inject(status=429, retry_after=0.05, times=10, path_contains=api.records_path)
    with pytest.raises(RateLimited, match="429.*after 1 retries"):
        provider.list_records(zone, ZONE, "TXT")
    assert len(api.record_lists()) == 2  # bounded: the first try and one retry


def test_bad_token_is_a_clear_error_without_the_token(api: Api) -> None:
    wrong = "not-the-right-token-3f9a"
    provider = api.make(token=wrong, max_retries=0)
    with pytest.raises(AuthenticationFailed) as err:
        provider.find_zone(ZONE)
    assert "HTTP 401" in str(err.value) and "api_token" in str(err.value)
    assert wrong not in str(err.value)


def test_a_slow_answer_times_out_without_touching_the_environment(api: Api) -> None:
    provider = api.make(timeout=0.3, max_retries=0)
    zone = provider.find_zone(ZONE)
    api.emulator.inject(delay=1.5, times=1, path_contains=api.records_path)
    started = time.monotonic()
    with pytest.raises(DnsError, match=r"did not answer within 0\.3 s"):
        provider.list_records(zone, ZONE, "TXT")
    assert time.monotonic() - started < 1.2
    # python-digitalocean read its timeout from there; the providers pass it on every request
    assert "PYTHON_DIGITALOCEAN_REQUEST_TIMEOUT_SEC" not in os.environ


def test_ten_thousand_records_seed_fast_and_one_name_is_two_requests(api: Api, provider: DnsProvider) -> None:
    # CPU time, not wall: at load 20 (make check beside Molecule) the seed took 2.4-2.6 s of wall
    started = time.process_time()
    api.emulator.seed_records(ZONE, filler_rows(10_000))
    assert time.process_time() - started < 2.0
    api.seed(ZONE, SPF)
    zone = provider.find_zone(ZONE)
    assert [r.value for r in provider.list_records(zone, ZONE, "TXT")] == [SPF]
    assert len(api.emulator.requests()) == 2  # the zone lookup and one page of the exact-name listing
