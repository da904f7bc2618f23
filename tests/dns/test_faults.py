"""DNS faults (issue 13): the Cloudflare and DigitalOcean emulators answer 429, 500 or nothing at
all in the middle of a module run. The module retries within its budget, honouring Retry-After,
then either succeeds or fails with a message that names the provider and the status; and a dump
of the whole zone afterwards shows nothing half-written: the records as they were, or with the
one complete change, never a second SPF record, a lost TXT or a truncated value. A rerun once the
API is well again converges, and the run after it changes nothing.

Each run is the real spf_record module (in-process) over the provider's requests client; the
include target's zone is in the emulator, so nothing leaves this machine.
"""

from __future__ import annotations

import email.utils
import time
from typing import Any

import pytest
from ansible_collections.lms.mail.plugins.module_utils.dns_cloudflare import CloudflareProvider
from ansible_collections.lms.mail.plugins.module_utils.dns_digitalocean import DigitalOceanProvider
from ansible_collections.lms.mail.plugins.module_utils.dns_http import retry_delay
from ansible_collections.lms.mail.plugins.module_utils.dns_provider import RateLimited

from tests.dns.emulators.cloudflare import _txt_strings
from tests.dns.modules import run_module
from tests.dns.test_api_modules import (
    DOMAIN,
    MERGED,
    OFFICE_SPF,
    VERIFICATION,
    Backend,
    CloudflareBackend,
    DigitalOceanBackend,
    spf,
)

TITLE = {"cloudflare": "Cloudflare", "digitalocean": "DigitalOcean"}
RETRIES = 3  # the providers' default max_retries


def _backend(request: pytest.FixtureRequest) -> Backend:
    if request.param == "cloudflare":
        backend: Backend = CloudflareBackend(request.getfixturevalue("cloudflare_api"))
    else:
        backend = DigitalOceanBackend(request.getfixturevalue("digitalocean_api"))
    backend.seed_txt(DOMAIN, VERIFICATION)
    return backend


@pytest.fixture(params=["cloudflare", "digitalocean"])
def backend(request: pytest.FixtureRequest) -> Backend:
    """The apex holds the customer's SPF record and a site verification: the module merges."""
    backend = _backend(request)
    backend.seed_txt(DOMAIN, OFFICE_SPF)
    return backend


@pytest.fixture(params=["cloudflare", "digitalocean"])
def no_spf(request: pytest.FixtureRequest) -> Backend:
    """The apex holds a site verification and no SPF record: the module creates one."""
    return _backend(request)


def zone_dump(backend: Backend) -> list[tuple[str, str, str]]:
    """Every record of the zone as the emulator holds it: (name, type, joined value), sorted."""
    out = []
    if isinstance(backend, CloudflareBackend):
        for r in backend.api.records[backend.api.zone_id(DOMAIN)].values():
            strings = _txt_strings(r["content"]) if r["type"] == "TXT" else None
            out.append((r["name"], r["type"], "".join(strings) if strings is not None else r["content"]))
    else:
        for r in backend.api.records[DOMAIN].values():
            name = DOMAIN if r["name"] == "@" else f"{r['name']}.{DOMAIN}"
            out.append((name, r["type"], r["data"]))
    return sorted(out)


def _merged_dump(before: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    return sorted((DOMAIN, "TXT", MERGED) if row == (DOMAIN, "TXT", OFFICE_SPF) else row for row in before)


def write_method(backend: Backend) -> str:
    """How the provider merges into the existing SPF record."""
    return "PATCH" if isinstance(backend, CloudflareBackend) else "PUT"


def statuses(backend: Backend, method: str) -> list[int]:
    return [r.status for r in backend.api.requests(method)]


def settle(seconds: float) -> None:
    """Let a slow answer the client gave up on finish in the emulator before the zone is read."""
    time.sleep(seconds)


def assert_converges(backend: Backend) -> None:
    """With the API well again: a rerun leaves exactly the merged record, the next changes nothing."""
    again = run_module("spf_record", spf(backend))
    assert not again.get("failed"), again
    last = run_module("spf_record", spf(backend))
    assert last["changed"] is False and not last.get("failed"), last
    assert sorted(v for _, v in backend.txt(DOMAIN)) == sorted([MERGED, VERIFICATION])


# -- 429 ------------------------------------------------------------------------------------------


def test_429_mid_run_is_retried_after_retry_after(backend: Backend) -> None:
    backend.api.inject(status=429, retry_after=1, times=1, method=write_method(backend))
    started = time.monotonic()
    result = run_module("spf_record", spf(backend))
    assert result["changed"] is True and not result.get("failed"), result
    assert time.monotonic() - started >= 1.0  # Retry-After was honoured
    assert statuses(backend, write_method(backend)) == [429, 200]
    assert sorted(v for _, v in backend.txt(DOMAIN)) == sorted([MERGED, VERIFICATION])


def test_429_beyond_the_retries_fails_naming_the_provider_and_changes_nothing(backend: Backend) -> None:
    before = zone_dump(backend)
    backend.api.inject(status=429, retry_after=0.05, times=100, method=write_method(backend))
    result = run_module("spf_record", spf(backend))
    assert result.get("failed") is True and result["error"] == "RateLimited", result
    assert TITLE[backend.provider] in result["msg"] and "429" in result["msg"]
    assert f"after {RETRIES} retries" in result["msg"]
    assert statuses(backend, write_method(backend)) == [429] * (RETRIES + 1)  # bounded
    assert zone_dump(backend) == before
    backend.api.faults.clear()
    assert_converges(backend)


@pytest.mark.parametrize(
    "provider_class", [CloudflareProvider, DigitalOceanProvider], ids=["cloudflare", "do"]
)
def test_a_retry_after_beyond_the_budget_is_not_waited_for(
    provider_class: Any, request: pytest.FixtureRequest
) -> None:
    if provider_class is CloudflareProvider:
        api = request.getfixturevalue("cloudflare_api")
        api.add_zone(DOMAIN)
        token = "cf-test-token"  # noqa: S105 - the emulator's fake token
    else:
        api = request.getfixturevalue("digitalocean_api")
        api.add_domain(DOMAIN)
        token = "do-test-token"  # noqa: S105 - the emulator's fake token
    provider = provider_class(token, base_url=api.base_url, timeout=5.0, retry_budget=2.0)
    zone = provider.find_zone(DOMAIN)
    api.inject(status=429, retry_after=30, times=1)
    started = time.monotonic()
    with pytest.raises(RateLimited) as err:
        provider.list_records(zone, DOMAIN, "TXT")
    assert time.monotonic() - started < 1.0
    assert "due in 30 s (Retry-After), beyond what is left of the 2 s retry budget" in str(err.value)


# -- 500 ------------------------------------------------------------------------------------------


def test_500_on_a_read_mid_run_is_retried(backend: Backend) -> None:
    # the zone is known; the first listing of the apex's TXT records fails once
    backend.api.inject(status=500, retry_after=0.05, times=1, method="GET", path_contains="records")
    result = run_module("spf_record", spf(backend))
    assert result["changed"] is True and not result.get("failed"), result
    assert 500 in statuses(backend, "GET")
    assert sorted(v for _, v in backend.txt(DOMAIN)) == sorted([MERGED, VERIFICATION])


def test_500_on_the_merge_is_retried(backend: Backend) -> None:
    backend.api.inject(status=500, retry_after=0.05, times=2, method=write_method(backend))
    result = run_module("spf_record", spf(backend))
    assert result["changed"] is True and not result.get("failed"), result
    assert statuses(backend, write_method(backend)) == [500, 500, 200]
    assert sorted(v for _, v in backend.txt(DOMAIN)) == sorted([MERGED, VERIFICATION])


def test_500_that_persists_fails_naming_provider_and_status_and_changes_nothing(backend: Backend) -> None:
    before = zone_dump(backend)
    backend.api.inject(status=500, retry_after=0.05, times=100, method=write_method(backend))
    result = run_module("spf_record", spf(backend))
    assert result.get("failed") is True, result
    assert TITLE[backend.provider] in result["msg"] and "HTTP 500" in result["msg"], result
    assert f"after {RETRIES} retries" in result["msg"]
    assert zone_dump(backend) == before
    backend.api.faults.clear()
    assert_converges(backend)


def test_a_create_applied_before_a_500_leaves_one_whole_record(no_spf: Backend) -> None:
    # the POST is carried out, then answered 500 (a gateway error after the fact)
    backend = no_spf
    before = zone_dump(backend)
    backend.api.inject(status=500, retry_after=0.05, times=1, method="POST", after=True)
    result = run_module("spf_record", spf(backend, mechanisms=["ip4:203.0.113.10"]))
    wanted = "v=spf1 ip4:203.0.113.10 ~all"
    if isinstance(backend, CloudflareBackend):
        # repeated; Cloudflare refuses the repeat as identical, which is success
        assert result["changed"] is True and not result.get("failed"), result
        assert statuses(backend, "POST") == [500, 400]
    else:
        # DigitalOcean would hold the record twice: a POST is never repeated, the failure says why
        assert result.get("failed") is True, result
        assert "DigitalOcean" in result["msg"] and "HTTP 500" in result["msg"]
        assert "may or may not have been applied" in result["msg"]
        assert statuses(backend, "POST") == [500]
    # applied whole, exactly once
    assert zone_dump(backend) == sorted([*before, (DOMAIN, "TXT", wanted)])
    again = run_module("spf_record", spf(backend, mechanisms=["ip4:203.0.113.10"]))
    assert again["changed"] is False and not again.get("failed"), again


# -- no answer ------------------------------------------------------------------------------------


def test_a_timeout_on_a_read_mid_run_is_retried(backend: Backend) -> None:
    backend.api.inject(delay=1.0, times=1, method="GET", path_contains="records")
    result = run_module("spf_record", spf(backend, timeout=0.4))
    assert result["changed"] is True and not result.get("failed"), result
    settle(0.7)
    assert sorted(v for _, v in backend.txt(DOMAIN)) == sorted([MERGED, VERIFICATION])


def test_a_write_that_never_answers_fails_clearly_and_leaves_no_half_record(backend: Backend) -> None:
    before = zone_dump(backend)
    backend.api.inject(delay=0.8, times=100, method=write_method(backend))
    result = run_module("spf_record", spf(backend, timeout=0.3))
    assert result.get("failed") is True and result["error"] == "ApiTimeout", result
    message = result["msg"]
    assert TITLE[backend.provider] in message and "did not answer within 0.3 s" in message, message
    assert f"tried {RETRIES + 1} times" in message
    settle(1.0)
    # The emulator carried out the edits it answered too late: the zone holds the record as it
    # was or as merged, whole, and still one SPF record.
    assert zone_dump(backend) in (before, _merged_dump(before))
    backend.api.faults.clear()
    assert_converges(backend)


def test_a_create_that_never_answers_is_one_record_once_the_api_has_caught_up(no_spf: Backend) -> None:
    backend = no_spf
    before = zone_dump(backend)
    wanted = "v=spf1 ip4:203.0.113.10 ~all"
    # the POST is carried out 0.8 s later, long after the client gave up on it
    backend.api.inject(delay=0.8, times=1, method="POST")
    result = run_module("spf_record", spf(backend, mechanisms=["ip4:203.0.113.10"], timeout=0.3))
    if isinstance(backend, CloudflareBackend):
        # repeated: whichever of the two is carried out second is refused as identical
        assert result["changed"] is True and not result.get("failed"), result
    else:
        # never repeated (DigitalOcean would hold it twice); the failure says what to do
        assert result.get("failed") is True and result["error"] == "ApiTimeout", result
        assert "DigitalOcean did not answer within 0.3 s" in result["msg"] and "tried once" in result["msg"]
        assert "may or may not have been applied" in result["msg"]
    settle(1.2)
    assert zone_dump(backend) == sorted([*before, (DOMAIN, "TXT", wanted)])
    again = run_module("spf_record", spf(backend, mechanisms=["ip4:203.0.113.10"]))
    assert again["changed"] is False and not again.get("failed"), again


@pytest.mark.parametrize(
    ("header", "low", "high"),
    [("2", 2.0, 2.0), ("0.25", 0.25, 0.25), ("3600", 60.0, 60.0), ("soon", 0.5, 0.5), (None, 0.5, 0.5)],
)
def test_retry_after_in_seconds_or_garbage(header: str | None, low: float, high: float) -> None:
    # capped at a minute; a value that is no number and no date falls back to the backoff
    response = type("Answer", (), {"headers": {} if header is None else {"Retry-After": header}})()
    assert low <= retry_delay(response, 0) <= high


def test_retry_after_as_an_http_date() -> None:
    when = email.utils.formatdate(time.time() + 3, usegmt=True)
    response = type("Answer", (), {"headers": {"Retry-After": when}})()
    assert 1.5 <= retry_delay(response, 0) <= 3.0
