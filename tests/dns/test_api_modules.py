"""The record modules over the Cloudflare and DigitalOcean providers, against the local API
emulators: in-process for the case list, and through `ansible-playbook` once per provider.

Every DNS query a module might make outside the provider (the SPF lookup count) goes to a closed
port on 127.0.0.1: the include target's zone is seeded in the emulator, so the count is served
by the provider and nothing leaves this machine.
"""

from __future__ import annotations

import abc
import socket
from pathlib import Path
from typing import Any

import pytest

from tests.dns.emulators import CloudflareEmulator, DigitalOceanEmulator
from tests.dns.emulators._server import EmulatorServer
from tests.dns.emulators.cloudflare import _txt_strings
from tests.dns.modules import run_module, run_playbook

DOMAIN = "school.test"
OFFICE_SPF = "v=spf1 include:_spf.office.test ~all"
VERIFICATION = "site-verification=Zm9vYmFyYmF6"
MERGED = "v=spf1 include:_spf.office.test ip4:203.0.113.10 ~all"


def closed_udp_port() -> int:
    """A loopback port nothing listens on: a stray DNS query fails here, on this machine."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Backend(abc.ABC):
    """One provider's emulator seen the same way for both: seed TXT, read TXT, count writes."""

    provider: str
    token: str
    api: EmulatorServer

    @abc.abstractmethod
    def seed_txt(self, name: str, value: str) -> None:
        """Store a TXT record as the provider would hold it."""

    @abc.abstractmethod
    def txt(self, name: str) -> list[tuple[str, str]]:
        """(id, joined value) of the TXT records at a fully qualified name."""

    def args(self, **extra: Any) -> dict[str, Any]:
        base = {
            "provider": self.provider,
            "api_token": self.token,
            "api_base_url": self.api.base_url,  # type: ignore[attr-defined]
            "timeout": 5.0,
        }
        base.update(extra)
        return base


class CloudflareBackend(Backend):
    provider = "cloudflare"
    token = "cf-test-token"  # noqa: S105 - the emulator's fake token

    def __init__(self, api: CloudflareEmulator) -> None:
        self.api = api
        api.add_zone(DOMAIN)
        api.add_zone("office.test")
        api.seed_record("office.test", "_spf.office.test", "TXT", '"v=spf1 ip4:192.0.2.0/24 -all"')

    def seed_txt(self, name: str, value: str) -> None:
        self.api.seed_record(DOMAIN, name, "TXT", f'"{value}"')

    def txt(self, name: str) -> list[tuple[str, str]]:
        out = []
        for record in self.api.find(DOMAIN, name, "TXT"):
            strings = _txt_strings(record["content"])
            out.append((record["id"], "".join(strings) if strings is not None else record["content"]))
        return out


class DigitalOceanBackend(Backend):
    provider = "digitalocean"
    token = "do-test-token"  # noqa: S105 - the emulator's fake token

    def __init__(self, api: DigitalOceanEmulator) -> None:
        self.api = api
        api.add_domain(DOMAIN)
        api.add_domain("office.test")
        api.seed_record("office.test", "_spf", "TXT", "v=spf1 ip4:192.0.2.0/24 -all")

    @staticmethod
    def _relative(name: str) -> str:
        return "@" if name == DOMAIN else name[: -len(DOMAIN) - 1]

    def seed_txt(self, name: str, value: str) -> None:
        self.api.seed_record(DOMAIN, self._relative(name), "TXT", value)

    def txt(self, name: str) -> list[tuple[str, str]]:
        return [(str(r["id"]), r["data"]) for r in self.api.find(DOMAIN, self._relative(name), "TXT")]


@pytest.fixture(params=["cloudflare", "digitalocean"])
def backend(request: pytest.FixtureRequest) -> Backend:
    if request.param == "cloudflare":
        return CloudflareBackend(request.getfixturevalue("cloudflare_api"))
    return DigitalOceanBackend(request.getfixturevalue("digitalocean_api"))


def spf(backend: Backend, **extra: Any) -> dict[str, Any]:
    args = backend.args(
        domain=DOMAIN,
        mechanisms=["ip4:203.0.113.10"],
        resolver=["127.0.0.1"],
        resolver_port=closed_udp_port(),
    )
    args.update(extra)
    return args


def seed_customer_zone(backend: Backend) -> dict[str, str]:
    """The apex as customers have it: their office's SPF and a site-verification TXT."""
    backend.seed_txt(DOMAIN, OFFICE_SPF)
    backend.seed_txt(DOMAIN, VERIFICATION)
    return {value: rid for rid, value in backend.txt(DOMAIN)}


def test_spf_created_from_nothing(backend: Backend) -> None:
    result = run_module("spf_record", spf(backend))
    assert result["changed"] is True and not result.get("failed"), result
    assert [v for _, v in backend.txt(DOMAIN)] == ["v=spf1 ip4:203.0.113.10 ~all"]


def test_spf_merge_keeps_order_all_and_the_other_txt(backend: Backend) -> None:
    before = seed_customer_zone(backend)
    backend.api.clear_log()
    result = run_module("spf_record", spf(backend))
    assert result["changed"] is True and result["record"] == MERGED, result
    after = {value: rid for rid, value in backend.txt(DOMAIN)}
    # The one SPF record changed in place (same id); the verification record is untouched.
    assert after == {MERGED: before[OFFICE_SPF], VERIFICATION: before[VERIFICATION]}
    assert [w.method for w in backend.api.writes()] in (["PATCH"], ["PUT"])


def test_second_run_changes_nothing_and_writes_nothing(backend: Backend) -> None:
    seed_customer_zone(backend)
    assert run_module("spf_record", spf(backend))["changed"] is True
    backend.api.clear_log()
    again = run_module("spf_record", spf(backend))
    assert again["changed"] is False and again["record"] == MERGED, again
    assert backend.api.writes() == []


def test_check_mode_writes_nothing_and_diff_shows_before_and_after(backend: Backend) -> None:
    before = seed_customer_zone(backend)
    backend.api.clear_log()
    result = run_module("spf_record", spf(backend), check_mode=True, diff=True)
    assert result["changed"] is True and result["record"] == MERGED, result
    assert backend.api.writes() == []
    assert {value: rid for rid, value in backend.txt(DOMAIN)} == before
    diff = result["diff"]
    assert OFFICE_SPF in diff["before"] and MERGED not in diff["before"]
    assert MERGED in diff["after"] and OFFICE_SPF not in diff["after"]
    assert VERIFICATION in diff["before"] and VERIFICATION in diff["after"]


def test_two_spf_records_are_refused_without_a_write(backend: Backend) -> None:
    backend.seed_txt(DOMAIN, OFFICE_SPF)
    backend.seed_txt(DOMAIN, "v=spf1 mx -all")
    backend.api.clear_log()
    result = run_module("spf_record", spf(backend))
    assert result.get("failed") is True and "2 SPF records" in result["msg"], result
    assert backend.api.writes() == []


def test_an_idn_domain_is_published_under_its_a_label(cloudflare_api: CloudflareEmulator) -> None:
    # A U-label domain (as a user types it) becomes its A-label (punycode) form at the module
    # boundary, whichever the provider: providers and DNS only know the latter.
    backend = CloudflareBackend(cloudflare_api)
    idn = "xn--bcher-kva.test"
    cloudflare_api.add_zone(idn)
    result = run_module("spf_record", spf(backend, domain="Bücher.test", mechanisms=["mx"]), diff=True)
    assert result["changed"] is True and not result.get("failed"), result
    assert f"{idn}. " in result["diff"]["after"]
    assert [r["content"] for r in cloudflare_api.find(idn, idn, "TXT")] == ['"v=spf1 mx ~all"']
    bad = run_module("spf_record", spf(backend, domain="bü cher.test", mechanisms=["mx"]))
    assert bad.get("failed") is True and "not a valid domain name" in bad["msg"], bad


def test_bad_token_fails_clearly_without_printing_it(backend: Backend) -> None:
    wrong = "wrong-token-9d1c"
    result = run_module("spf_record", spf(backend, api_token=wrong))
    assert result.get("failed") is True and result["error"] == "AuthenticationFailed", result
    assert "HTTP 401" in result["msg"] and wrong not in str(result)


def test_rate_limited_once_then_published(backend: Backend) -> None:
    seed_customer_zone(backend)
    backend.api.inject(status=429, retry_after=1, times=1, method="GET")
    result = run_module("spf_record", spf(backend))
    assert result["changed"] is True and not result.get("failed"), result
    assert any(r.status == 429 for r in backend.api.requests())
    assert MERGED in [v for _, v in backend.txt(DOMAIN)]


def test_zone_not_found_is_a_clear_failure(backend: Backend) -> None:
    result = run_module("spf_record", spf(backend, domain="other.test", mechanisms=["mx"]))
    assert result.get("failed") is True and result["error"] == "ZoneNotFound", result
    assert "other.test" in result["msg"]
    assert backend.api.writes() == []


def test_spf_record_through_ansible_playbook(backend: Backend, tmp_path: Path) -> None:
    before = seed_customer_zone(backend)
    task = {"lms.mail.spf_record": spf(backend)}
    tasks = [
        {"name": "check mode writes nothing", **task, "check_mode": True, "register": "dry"},
        {"name": "merge", **task, "register": "first"},
        {"name": "second run", **task, "register": "second"},
        {
            "name": "results",
            "ansible.builtin.assert": {
                "that": [
                    "dry is changed",
                    "first is changed",
                    "second is not changed",
                    f"first.record == '{MERGED}'",
                ]
            },
        },
    ]
    backend.api.clear_log()
    proc = run_playbook(tmp_path, tasks, "--diff")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # changed: the check-mode task (it would change) and the real merge; not the second run
    assert "ok=4" in proc.stdout and "changed=2" in proc.stdout and "failed=0" in proc.stdout
    assert f"+{DOMAIN}. " in proc.stdout and MERGED in proc.stdout  # --diff printed the new set
    assert backend.token not in proc.stdout + proc.stderr  # no_log on the token
    # Exactly one write in the whole play: the in-place update of the SPF record.
    assert len(backend.api.writes()) == 1
    assert {value: rid for rid, value in backend.txt(DOMAIN)} == {
        MERGED: before[OFFICE_SPF],
        VERIFICATION: before[VERIFICATION],
    }


def test_dkim_4096_round_trips_and_the_second_run_writes_nothing(backend: Backend, rsa4096_pem: str) -> None:
    name = f"s2026._domainkey.{DOMAIN}"
    args = backend.args(domain=DOMAIN, selector="s2026", public_key=rsa4096_pem)
    first = run_module("dkim_record", args)
    assert first["changed"] is True and first["key_bits"] == 4096, first
    published = [value for _, value in backend.txt(name)]
    assert published == [first["record"]] and len(first["record"]) > 700
    if isinstance(backend, CloudflareBackend):
        # Cloudflare holds it as quoted character-strings of at most 255 bytes each.
        strings = _txt_strings(backend.api.find(DOMAIN, name, "TXT")[0]["content"])
        assert strings is not None and len(strings) == 3 and all(len(s) <= 255 for s in strings)
    backend.api.clear_log()
    again = run_module("dkim_record", args)
    assert again["changed"] is False and again["record"] == first["record"], again
    assert backend.api.writes() == []


def test_dkim_absent_removes_only_that_selector(backend: Backend, rsa4096_pem: str) -> None:
    for selector in ("old", "new"):
        args = backend.args(domain=DOMAIN, selector=selector, public_key=rsa4096_pem)
        assert run_module("dkim_record", args)["changed"] is True
    retired = run_module("dkim_record", backend.args(domain=DOMAIN, selector="old", state="absent"))
    assert retired["changed"] is True, retired
    assert backend.txt(f"old._domainkey.{DOMAIN}") == []
    assert len(backend.txt(f"new._domainkey.{DOMAIN}")) == 1


def ptr_args(backend: Backend, **extra: Any) -> dict[str, Any]:
    args = backend.args(
        ip="203.0.113.10",
        hostname=f"mail.{DOMAIN}",
        resolver=["127.0.0.1"],
        resolver_port=closed_udp_port(),
    )
    args.update(extra)
    return args


def test_ptr_record_renames_the_droplet(digitalocean_api: DigitalOceanEmulator) -> None:
    backend = DigitalOceanBackend(digitalocean_api)
    api = digitalocean_api
    web = api.add_droplet("web-1", "203.0.113.10")
    api.seed_record(DOMAIN, "mail", "A", "203.0.113.10")
    api.clear_log()

    dry = run_module("ptr_record", ptr_args(backend), check_mode=True, diff=True)
    assert dry["changed"] is True and dry["previous"] == ["web-1"], dry
    assert api.writes() == [] and api.droplets[web]["name"] == "web-1"
    assert "web-1" in dry["diff"]["before"] and f"mail.{DOMAIN}" in dry["diff"]["after"]

    done = run_module("ptr_record", ptr_args(backend))
    assert done["changed"] is True and done["ptr"] == [f"mail.{DOMAIN}"] and done["fcrdns"] is True, done
    assert api.droplets[web]["name"] == f"mail.{DOMAIN}"
    assert [(w.path.rstrip("/"), w.body) for w in api.writes()] == [
        (f"/v2/droplets/{web}/actions", {"type": "rename", "name": f"mail.{DOMAIN}"})
    ]

    api.clear_log()
    again = run_module("ptr_record", ptr_args(backend))
    assert again["changed"] is False and again["fcrdns"] is True, again
    assert api.writes() == []


def test_ptr_absent_cannot_remove_a_droplet_name(digitalocean_api: DigitalOceanEmulator) -> None:
    backend = DigitalOceanBackend(digitalocean_api)
    web = digitalocean_api.add_droplet(f"mail.{DOMAIN}", "203.0.113.10")
    other = run_module("ptr_record", ptr_args(backend, hostname=f"old.{DOMAIN}", state="absent"))
    assert other["changed"] is False and other["ptr"] == [f"mail.{DOMAIN}"], other
    for check_mode in (True, False):
        refused = run_module("ptr_record", ptr_args(backend, state="absent"), check_mode=check_mode)
        assert refused.get("failed") is True and refused["error"] == "PtrUnsupported", refused
        assert "rename the droplet" in refused["msg"]
    assert digitalocean_api.writes() == [] and digitalocean_api.droplets[web]["name"] == f"mail.{DOMAIN}"


def test_ptr_record_without_a_droplet_gives_the_panel_instruction(
    digitalocean_api: DigitalOceanEmulator,
) -> None:
    backend = DigitalOceanBackend(digitalocean_api)
    result = run_module("ptr_record", ptr_args(backend))
    assert result.get("failed") is True and result["error"] == "PtrUnsupported", result
    assert "control panel of the hosting provider" in result["msg"] and "203.0.113.10" in result["msg"]
    assert digitalocean_api.writes() == []


def test_ptr_record_in_a_cloudflare_reverse_zone(cloudflare_api: CloudflareEmulator) -> None:
    backend = CloudflareBackend(cloudflare_api)
    no_zone = run_module("ptr_record", ptr_args(backend))
    assert no_zone.get("failed") is True and no_zone["error"] == "PtrUnsupported", no_zone
    assert "delegated to this Cloudflare account" in no_zone["msg"]

    cloudflare_api.add_zone("113.0.203.in-addr.arpa")
    cloudflare_api.seed_record(DOMAIN, f"mail.{DOMAIN}", "A", "203.0.113.10")
    done = run_module("ptr_record", ptr_args(backend))
    assert done["changed"] is True and done["fcrdns"] is True, done
    published = cloudflare_api.find("113.0.203.in-addr.arpa", "10.113.0.203.in-addr.arpa", "PTR")
    assert [r["content"] for r in published] == [f"mail.{DOMAIN}"]
    cloudflare_api.clear_log()
    assert run_module("ptr_record", ptr_args(backend))["changed"] is False
    assert cloudflare_api.writes() == []


def test_ptr_record_through_ansible_playbook(digitalocean_api: DigitalOceanEmulator, tmp_path: Path) -> None:
    backend = DigitalOceanBackend(digitalocean_api)
    web = digitalocean_api.add_droplet("web-1", "203.0.113.10")
    digitalocean_api.seed_record(DOMAIN, "mail", "A", "203.0.113.10")
    task = {"lms.mail.ptr_record": ptr_args(backend)}
    tasks = [
        {"name": "rename", **task, "register": "first"},
        {"name": "again", **task, "register": "second"},
        {
            "name": "results",
            "ansible.builtin.assert": {"that": ["first is changed", "first.fcrdns", "second is not changed"]},
        },
    ]
    proc = run_playbook(tmp_path, tasks)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert digitalocean_api.droplets[web]["name"] == f"mail.{DOMAIN}"
    assert len(digitalocean_api.writes()) == 1


def test_dmarc_changes_only_the_dmarc_record(backend: Backend) -> None:
    name = f"_dmarc.{DOMAIN}"
    backend.seed_txt(name, "v=DMARC1; p=none; rua=mailto:dmarc@school.test")
    backend.seed_txt(name, "unrelated-note=keep-me")
    args = backend.args(domain=DOMAIN, policy="quarantine", percent=50)
    result = run_module("dmarc_record", args)
    assert result["changed"] is True, result
    # The published rua is kept, the new tags are set, the other TXT at the name stays.
    assert result["tags"]["rua"] == "mailto:dmarc@school.test" and result["tags"]["p"] == "quarantine"
    assert sorted(v for _, v in backend.txt(name)) == sorted([result["record"], "unrelated-note=keep-me"])
    backend.api.clear_log()
    assert run_module("dmarc_record", args)["changed"] is False
    assert backend.api.writes() == []


def test_dmarc_invalid_tag_fails_before_any_request(backend: Backend) -> None:
    result = run_module("dmarc_record", backend.args(domain=DOMAIN, policy="reject", percent=150))
    assert result.get("failed") is True and "pct" in result["msg"].lower(), result
    assert backend.api.requests() == []


def test_ptr_check_mode_predicts_the_real_run(cloudflare_api: CloudflareEmulator) -> None:
    # Two PTRs that differ only in case and trailing dot name the same host: the real run keeps
    # both (nothing to change), so check mode must not report a change either.
    backend = CloudflareBackend(cloudflare_api)
    cloudflare_api.add_zone("113.0.203.in-addr.arpa")
    cloudflare_api.seed_record(DOMAIN, f"mail.{DOMAIN}", "A", "203.0.113.10")
    for value in (f"mail.{DOMAIN}", f"MAIL.{DOMAIN}."):
        cloudflare_api.seed_record("113.0.203.in-addr.arpa", "10.113.0.203.in-addr.arpa", "PTR", value)
    cloudflare_api.clear_log()
    dry = run_module("ptr_record", ptr_args(backend), check_mode=True)
    real = run_module("ptr_record", ptr_args(backend))
    assert dry["changed"] is real["changed"] is False, (dry, real)
    assert dry["ptr"] == real["ptr"] and cloudflare_api.writes() == []
