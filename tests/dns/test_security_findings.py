"""Issue 10's DNS findings (3, 11, 12, 15, 16, 17) and issue 11's missing_required_lib, against
the real BIND of tests/dns/bind.py and the Cloudflare and DigitalOcean emulators.

Each test failed before its fix. "Nothing written" is proven by the zone's SOA serial (BIND) or
the emulator's write log. The temperror cases use zones of that BIND which answer REFUSED
(refused.test, allow-query none) and SERVFAIL (broken.test, a zone named cannot load), and a
port that never answers (silent_port): only loopback is ever contacted.
"""

from __future__ import annotations

import sys

import pytest
from ansible_collections.lms.mail.plugins.module_utils import requirements

from tests.dns.bind import BindServer
from tests.dns.modules import run_module
from tests.dns.test_api_modules import Backend, CloudflareBackend, DigitalOceanBackend, closed_udp_port

SPF = "v=spf1 include:_spf.office.test ~all"
VERIFICATION = "google-site-verification=abc123-keep-me"


def spf(bind: BindServer, check_mode: bool = False, **args) -> dict:
    options = bind.provider_args(resolver=[bind.host], resolver_port=bind.port, domain="school.test")
    return run_module("spf_record", {**options, **args}, check_mode=check_mode)


def dmarc(bind: BindServer, check_mode: bool = False, diff: bool = False, **args) -> dict:
    options = bind.provider_args(domain="school.test")
    return run_module("dmarc_record", {**options, **args}, check_mode=check_mode, diff=diff)


def ptr(bind: BindServer, **args) -> dict:
    return run_module(
        "ptr_record", {**bind.provider_args(resolver=[bind.host], resolver_port=bind.port), **args}
    )


def info(bind: BindServer, **args) -> dict:
    return run_module("mail_dns_info", {"resolver": [bind.host], "resolver_port": bind.port, **args})


# -- 15: dmarc_record never weakens a published policy unless asked in so many words -------------


def test_dmarc_keeps_a_published_reject_when_none_is_asked(bind_zones):
    dmarc(bind_zones, policy="reject", rua=["dmarc@school.test"])
    serial = bind_zones.serial("school.test")
    for check_mode in (True, False):
        kept = dmarc(bind_zones, check_mode=check_mode, diff=True, policy="none")
        assert kept["changed"] is False and kept["tags"]["p"] == "reject", kept
        assert kept["kept"] == {"p": {"published": "reject", "asked": "none"}}
        assert any(
            "keeps p=reject, stricter than the policy asked (none)" in w and "weaken_policy: true" in w
            for w in kept["warnings"]
        )
    assert bind_zones.serial("school.test") == serial
    assert bind_zones.txt("_dmarc.school.test") == ["v=DMARC1; p=reject; rua=mailto:dmarc@school.test"]


def test_dmarc_keeps_stricter_sp_pct_and_alignment_but_sets_the_rest(bind_zones):
    bind_zones.reset()
    dmarc(bind_zones, policy="quarantine", sp="reject", pct=100, adkim="s")
    result = dmarc(bind_zones, policy="quarantine", sp="none", pct=20, adkim="r", aspf="s")
    assert result["changed"] is True, result
    assert set(result["kept"]) == {"sp", "pct", "adkim"}
    assert result["kept"]["pct"] == {"published": "100", "asked": "20"}
    # aspf=s is stricter, so it is set; what was kept stays as published
    assert bind_zones.txt("_dmarc.school.test") == [
        "v=DMARC1; p=quarantine; sp=reject; pct=100; adkim=s; aspf=s"
    ]


def test_dmarc_a_stricter_policy_at_a_lower_pct_is_set(bind_zones):
    # the usual roll-out: none, then quarantine for 10 % of the mail
    result = dmarc(bind_zones, policy="quarantine", pct=10)
    assert result["changed"] is True and result["kept"] == {}, result
    assert bind_zones.txt("_dmarc.school.test") == ["v=DMARC1; p=quarantine; pct=10"]


def test_dmarc_weakens_only_with_weaken_policy(bind_zones):
    dmarc(bind_zones, policy="reject")
    weakened = dmarc(bind_zones, policy="none", weaken_policy=True, diff=True)
    assert weakened["changed"] is True and weakened["kept"] == {} and not weakened.get("warnings"), weakened
    assert "p=reject" in weakened["diff"]["before"] and "p=none" in weakened["diff"]["after"]
    assert bind_zones.txt("_dmarc.school.test") == ["v=DMARC1; p=none"]


def test_dmarc_keep_stricter_policy_false_no_longer_weakens(bind_zones):
    dmarc(bind_zones, policy="reject")
    result = dmarc(bind_zones, policy="none", keep_stricter_policy=False)
    assert result["changed"] is False and result["kept"]["p"]["published"] == "reject", result
    assert "keep_stricter_policy is ignored" in str(result.get("deprecations")), result


def test_dmarc_kept_on_the_api_providers(backend: Backend) -> None:
    name = "_dmarc.school.test"
    backend.seed_txt(name, "v=DMARC1; p=reject; rua=mailto:dmarc@school.test")
    backend.api.clear_log()
    result = run_module("dmarc_record", backend.args(domain="school.test", policy="none"))
    assert result["changed"] is False and result["kept"]["p"]["published"] == "reject", result
    assert backend.api.writes() == []


# -- 16: an answer other than NOERROR/NXDOMAIN is a temporary error that stops the change -------


@pytest.mark.parametrize(
    ("target", "rcode"), [("_spf.refused.test", "REFUSED"), ("_spf.broken.test", "SERVFAIL")]
)
def test_spf_include_target_not_answered_stops_the_change(bind_zones, target, rcode):
    serial = bind_zones.serial("school.test")
    result = spf(bind_zones, mechanisms=[f"include:{target}"])
    assert result["failed"] is True and result["error"] == "TemporaryDnsError", result
    assert f"{bind_zones.host} port {bind_zones.port} answered {rcode}" in result["msg"]
    assert f"include:{target}" in result["msg"] and "has no SPF record" not in result["msg"]
    assert bind_zones.serial("school.test") == serial


def test_spf_include_target_timing_out_stops_the_change(bind_zones, silent_port):
    serial = bind_zones.serial("school.test")
    result = spf(
        bind_zones, mechanisms=["include:_spf.elsewhere.test"], resolver_port=silent_port, timeout=0.5
    )
    assert result["failed"] is True and result["error"] == "TemporaryDnsError", result
    assert f"no answer from 127.0.0.1 port {silent_port} (timeout)" in result["msg"]
    assert bind_zones.serial("school.test") == serial


def test_spf_on_a_zone_the_server_cannot_load_is_a_temporary_error(bind_zones):
    result = spf(bind_zones, domain="broken.test", mechanisms=["mx"])
    assert result["failed"] is True and result["error"] == "TemporaryDnsError", result
    assert "answered SERVFAIL" in result["msg"]


def test_ptr_stops_when_the_host_name_cannot_be_read(bind_zones):
    serial = bind_zones.serial("2.0.192.in-addr.arpa")
    for hostname, rcode in (("mail.refused.test", "REFUSED"), ("mail.broken.test", "SERVFAIL")):
        result = ptr(bind_zones, ip="192.0.2.30", hostname=hostname)
        assert result["failed"] is True and result["error"] == "TemporaryDnsError", result
        assert f"answered {rcode}" in result["msg"] and "was not changed" in result["msg"]
    assert bind_zones.serial("2.0.192.in-addr.arpa") == serial
    assert bind_zones.query("30.2.0.192.in-addr.arpa", "PTR") == []


def test_mail_dns_info_reports_temperror_never_no_record(bind_zones):
    report = info(
        bind_zones, domain="refused.test", ips=["192.0.2.25"], selectors=["mail"], hostname="mail.broken.test"
    )
    assert not report.get("failed"), report
    assert (
        report["spf"]["temperror"] is True and report["spf"]["results"]["192.0.2.25"]["result"] == "temperror"
    )
    assert report["dkim"]["mail"]["temperror"] is True and report["dmarc"]["temperror"] is True
    assert report["hostname"]["temperror"] is True
    # the PTR answered: that part is judged
    assert report["ptr"]["192.0.2.25"]["names"] == ["mail.school.test"]
    problems = " | ".join(report["problems"])
    assert "publishes no SPF record" not in problems and "no DMARC record" not in problems
    assert "no DKIM key is published" not in problems
    where = f"{bind_zones.host} port {bind_zones.port}"
    assert any(f"refused.test TXT: {where} answered REFUSED" in t for t in report["temperrors"]), report
    assert any(f"mail.broken.test A: {where} answered SERVFAIL" in t for t in report["temperrors"]), report


def test_mail_dns_info_spf_evaluation_with_an_include_not_answered_is_temperror(bind_zones):
    bind_zones.add("school.test", "school.test", "TXT", "v=spf1 include:_spf.refused.test -all")
    bind_zones.add("school.test", "_dmarc.school.test", "TXT", "v=DMARC1; p=none")
    report = info(bind_zones, domain="school.test", ips=["192.0.2.10"])
    spf_records = report["spf"]["records"]
    assert len(spf_records) == 2  # the baseline's and this one: a permerror whatever the include says
    bind_zones.reset()
    # one record whose include is refused
    bind_zones.add("empty.test", "empty.test", "TXT", "v=spf1 include:_spf.refused.test -all")
    report = info(bind_zones, domain="empty.test", ips=["192.0.2.10"])
    result = report["spf"]["results"]["192.0.2.10"]
    assert result["result"] == "temperror" and "answered REFUSED" in result["reason"], report
    assert not any("has no SPF record" in p for p in report["problems"])


# -- 17: an include target without SPF is refused, naming it --------------------------------------


def test_include_target_problems_are_refused_on_the_api_providers(backend: Backend) -> None:
    backend.seed_txt("school.test", SPF)
    zone = "office.test"
    if isinstance(backend, CloudflareBackend):
        backend.api.seed_record(zone, "two.office.test", "TXT", '"v=spf1 -all"')
        backend.api.seed_record(zone, "two.office.test", "TXT", '"v=spf1 mx -all"')
    else:
        assert isinstance(backend, DigitalOceanBackend)
        backend.api.seed_record(zone, "two", "TXT", "v=spf1 -all")
        backend.api.seed_record(zone, "two", "TXT", "v=spf1 mx -all")
    backend.api.clear_log()
    args = dict(domain="school.test", resolver=["127.0.0.1"], resolver_port=closed_udp_port())
    for target, why in (
        ("nothing.office.test", "has no SPF record"),
        ("two.office.test", "has 2 SPF records"),
    ):
        result = run_module("spf_record", backend.args(mechanisms=[f"include:{target}"], **args))
        assert result.get("failed") is True and result["error"] == "SpfError", result
        assert f"include:{target}" in result["msg"] and why in result["msg"]
    assert backend.api.writes() == []


def test_a_published_broken_include_is_reported_while_nothing_changes(bind_zones):
    bind_zones.reset()
    bind_zones.add("empty.test", "empty.test", "TXT", "v=spf1 include:nothing.office.test ~all")
    serial = bind_zones.serial("empty.test")
    same = spf(bind_zones, domain="empty.test", mechanisms=["include:nothing.office.test"])
    assert same["changed"] is False and not same.get("failed"), same
    assert any("nothing.office.test has no SPF record" in w for w in same["warnings"])
    changed = spf(bind_zones, domain="empty.test", mechanisms=["mx"])
    assert changed["failed"] is True and "include:nothing.office.test" in changed["msg"], changed
    assert bind_zones.serial("empty.test") == serial


# -- 11: no token over plain http to another host; no SPF term that lets everyone pass -------------


def test_plain_http_to_a_remote_api_is_refused_before_any_request(backend: Backend) -> None:
    args = backend.args(domain="school.test", mechanisms=["mx"], api_base_url="http://api.example.test/v4/")
    result = run_module("spf_record", args)
    assert result.get("failed") is True and "plain http to another host" in result["msg"], result
    assert backend.token not in str(result) and backend.api.requests() == []


@pytest.mark.parametrize(
    "term",
    ["ip4:0.0.0.0/0", "ip6:::/0", "ip4:0.0.0.0/1", "ip6:2000::/3", "+ip4:10.0.0.0/7", "a:mail.school.test/0"],
)
def test_spf_wide_terms_are_refused_unless_allowed(bind_zones, term):
    serial = bind_zones.serial("school.test")
    refused = spf(bind_zones, mechanisms=[term])
    assert refused["failed"] is True and term in refused["msg"] and "allow_wide: true" in refused["msg"], (
        refused
    )
    assert bind_zones.serial("school.test") == serial
    allowed = spf(bind_zones, mechanisms=[term], allow_wide=True)
    assert allowed["changed"] is True and term in allowed["record"], allowed
    assert any(term in w for w in allowed["warnings"])


def test_spf_networks_up_to_a_slash_8_and_fail_terms_are_accepted(bind_zones):
    result = spf(bind_zones, mechanisms=["ip4:10.0.0.0/8", "ip6:2001:db8::/32", "-ip4:0.0.0.0/0"])
    assert result["changed"] is True and not result.get("warnings"), result


def test_spf_wide_terms_already_published_are_kept_with_a_warning(bind_zones):
    bind_zones.add("empty.test", "empty.test", "TXT", "v=spf1 ip4:0.0.0.0/0 ~all")
    result = spf(bind_zones, domain="empty.test", mechanisms=["mx"])
    assert result["record"] == "v=spf1 ip4:0.0.0.0/0 mx ~all", result
    assert any("ip4:0.0.0.0/0 lets 4294967296 IPv4 addresses pass" in w for w in result["warnings"])


def test_mail_dns_info_names_a_record_that_lets_everyone_pass(bind_zones):
    bind_zones.add("empty.test", "empty.test", "TXT", "v=spf1 ip6:::/0 mx +all")
    report = info(bind_zones, domain="empty.test", ips=["192.0.2.10"])
    assert report["spf"]["authorised"] == {"192.0.2.10": True}
    wide = [p for p in report["problems"] if "SPF does not tell a forger" in p]
    assert len(wide) == 2 and "ip6:::/0" in wide[0] and "+all lets every host" in wide[1], report


# -- 3: nothing leaves its line -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "args", "refusal"),
    [
        ("spf_record", {"domain": "school.test\n", "mechanisms": ["mx"]}, "is not a valid domain name"),
        ("spf_record", {"domain": "school\n.test", "mechanisms": ["mx"]}, "is not a valid domain name"),
        ("spf_record", {"mechanisms": ["include:_spf.office.test\n+all"]}, "contains a blank, a control"),
        ("spf_record", {"mechanisms": ["ip6:fe80::1%eth0"]}, "without a %scope"),
        ("dkim_record", {"selector": "mail\n", "public_key": "AAAA"}, "invalid DKIM selector"),
        ("dkim_record", {"selector": "mail\n.x", "public_key": "AAAA"}, "invalid DKIM selector"),
        ("dmarc_record", {"policy": "none", "rua": ["dmarc@school.test\n"]}, "contains a control character"),
        ("ptr_record", {"ip": "192.0.2.30\n", "hostname": "mail.school.test"}, "not a plain IPv4 or IPv6"),
        ("ptr_record", {"ip": "fe80::1%eth0", "hostname": "mail.school.test"}, "not a plain IPv4 or IPv6"),
        ("ptr_record", {"ip": "192.0.2.30", "hostname": "mail.school.test\n"}, "is not a valid domain name"),
        ("spf_record", {"mechanisms": ["mx"], "tsig_key_name": "lms-test-key\n"}, "is not a key name"),
    ],
)
def test_a_value_with_a_line_break_is_refused_before_any_change(bind_zones, module, args, refusal):
    serials = {zone: bind_zones.serial(zone) for zone in ("school.test", "2.0.192.in-addr.arpa")}
    options = bind_zones.provider_args()
    if module in ("spf_record", "ptr_record"):
        options.update(resolver=[bind_zones.host], resolver_port=bind_zones.port)
    if module != "ptr_record":
        options["domain"] = "school.test"
    result = run_module(module, {**options, **args})
    assert result.get("failed") is True and refusal in result["msg"], result
    assert {zone: bind_zones.serial(zone) for zone in serials} == serials


def test_a_token_with_a_line_break_is_refused_without_echo(backend: Backend) -> None:
    token = backend.token + "\nX-Injected: 1"
    result = run_module("spf_record", backend.args(domain="school.test", mechanisms=["mx"], api_token=token))
    assert result.get("failed") is True and "api_token" in result["msg"], result
    assert "X-Injected" not in str(result) and backend.api.requests() == []


# -- issue 11: a missing or unfit library is Ansible's missing_required_lib message -------------


@pytest.mark.parametrize("provider", ["cloudflare", "digitalocean"])
def test_a_missing_provider_library_is_named_with_pip_line(backend_for, monkeypatch, provider):
    backend = backend_for(provider)
    monkeypatch.setitem(sys.modules, "requests", None)
    monkeypatch.setattr(requirements, "installed_version", lambda name: None)
    result = run_module("spf_record", backend.args(domain="school.test", mechanisms=["mx"]))
    assert result.get("failed") is True and result["error"] == "MissingLibrary", result
    assert "Failed to import the required Python library (requests>=2.31,<3)" in result["msg"]
    assert f"{sys.executable} -m pip install 'requests>=2.31,<3'" in result["msg"]
    assert backend.api.requests() == []


def test_cloudflare_needs_no_sdk(cloudflare_api, monkeypatch):
    # the provider speaks the v4 API over requests: a controller without the cloudflare package
    # (or with the 2.x one, module CloudFlare) publishes all the same
    backend = CloudflareBackend(cloudflare_api)
    monkeypatch.setitem(sys.modules, "cloudflare", None)
    result = run_module("spf_record", backend.args(domain="school.test", mechanisms=["mx"]))
    assert result.get("changed") is True, result
    assert [r["content"] for r in cloudflare_api.find("school.test", "school.test", "TXT")] == [
        '"v=spf1 mx ~all"'
    ]


def test_mail_dns_info_without_dnspython_says_so(monkeypatch, bind_server):
    monkeypatch.setitem(sys.modules, "dns.version", None)
    result = info(bind_server, domain="school.test")
    assert result.get("failed") is True and result["error"] == "MissingLibrary", result
    assert "dnspython>=2.6,<3" in result["msg"] and "DNS did not answer" not in result["msg"]


@pytest.fixture
def backend_for(request: pytest.FixtureRequest):
    def make(provider: str) -> Backend:
        if provider == "cloudflare":
            return CloudflareBackend(request.getfixturevalue("cloudflare_api"))
        return DigitalOceanBackend(request.getfixturevalue("digitalocean_api"))

    return make


@pytest.fixture(params=["cloudflare", "digitalocean"])
def backend(request: pytest.FixtureRequest, backend_for) -> Backend:
    return backend_for(request.param)
