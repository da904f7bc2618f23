"""The record modules over RFC 2136 against a real BIND: the case list of issue 3.

"No write" is proven by the zone's SOA serial: BIND raises it on every applied update.
"""

from __future__ import annotations

import pytest

from tests.dns.bind import BindServer
from tests.dns.modules import run_module

SPF = "v=spf1 include:_spf.office.test ~all"
VERIFICATION = "google-site-verification=abc123-keep-me"


def spf(bind: BindServer, check_mode: bool = False, diff: bool = False, **args) -> dict:
    options = bind.provider_args(resolver=[bind.host], resolver_port=bind.port, domain="school.test")
    return run_module("spf_record", {**options, **args}, check_mode=check_mode, diff=diff)


# -- spf_record ------------------------------------------------------------------------------------


def test_spf_created_from_nothing(bind_zones):
    result = spf(bind_zones, domain="empty.test", mechanisms=["ip4:192.0.2.10", "mx"])
    assert result["changed"] is True
    assert result["record"] == "v=spf1 ip4:192.0.2.10 mx ~all"
    assert bind_zones.txt("empty.test") == ["v=spf1 ip4:192.0.2.10 mx ~all"]


def test_spf_merge_keeps_include_order_softfail_and_other_txt(bind_zones):
    result = spf(bind_zones, mechanisms=["ip4:192.0.2.10", "ip6:2001:db8::10"])
    assert result["changed"] is True
    assert result["previous"] == SPF
    merged = "v=spf1 include:_spf.office.test ip4:192.0.2.10 ip6:2001:db8::10 ~all"
    assert bind_zones.txt("school.test") == [VERIFICATION, merged]
    assert result["lookups"] == 1


def test_spf_second_run_changes_nothing_and_writes_nothing(bind_zones):
    spf(bind_zones, mechanisms=["ip4:192.0.2.10"])
    serial = bind_zones.serial("school.test")
    again = spf(bind_zones, mechanisms=["ip4:192.0.2.10"])
    assert again["changed"] is False
    assert bind_zones.serial("school.test") == serial


def test_spf_check_mode_writes_nothing_but_reports_the_change(bind_zones):
    serial = bind_zones.serial("school.test")
    result = spf(bind_zones, check_mode=True, mechanisms=["ip4:192.0.2.10"], all="-all")
    assert result["changed"] is True
    assert result["record"] == "v=spf1 include:_spf.office.test ip4:192.0.2.10 -all"
    assert bind_zones.serial("school.test") == serial
    assert bind_zones.txt("school.test") == [VERIFICATION, SPF]


def test_spf_diff_shows_the_record_set_before_and_after(bind_zones):
    result = spf(bind_zones, diff=True, mechanisms=["a"])
    diff = result["diff"]
    assert diff["before"] == (
        f'school.test. 3600 IN TXT "{VERIFICATION}"\nschool.test. 3600 IN TXT "{SPF}"\n'
    )
    assert 'school.test. 3600 IN TXT "v=spf1 include:_spf.office.test a ~all"' in diff["after"]
    assert VERIFICATION in diff["after"]


def test_spf_passing_everyone_is_refused_unless_allowed_and_kept_with_a_warning(bind_zones):
    serial = bind_zones.serial("empty.test")
    refused = spf(bind_zones, domain="empty.test", mechanisms=["mx"], all="+all")
    assert refused["failed"] is True and "+all lets every host" in refused["msg"], refused
    assert "allow_wide: true" in refused["msg"] and bind_zones.serial("empty.test") == serial
    asked = spf(bind_zones, domain="empty.test", mechanisms=["mx"], all="+all", allow_wide=True)
    assert bind_zones.txt("empty.test") == ["v=spf1 mx +all"]
    assert any("empty.test ends in +all" in w and "all: '~all'" in w for w in asked["warnings"])
    # the domain's owner's +all is kept as found (never changed behind their back), with a warning
    kept = spf(bind_zones, domain="empty.test", mechanisms=["a"])
    assert kept["record"] == "v=spf1 mx a +all"
    assert any("ends in +all" in w for w in kept["warnings"])
    fixed = spf(bind_zones, domain="empty.test", all="~all")
    assert fixed["record"] == "v=spf1 mx a ~all" and not fixed.get("warnings")
    assert not spf(bind_zones, mechanisms=["a"]).get("warnings")


def test_spf_absent_removes_only_that_mechanism(bind_zones):
    spf(bind_zones, mechanisms=["ip4:192.0.2.10", "mx"])
    result = spf(bind_zones, mechanisms=["ip4:192.0.2.10"], state="absent")
    assert result["record"] == "v=spf1 include:_spf.office.test mx ~all"
    assert bind_zones.txt("school.test") == [VERIFICATION, "v=spf1 include:_spf.office.test mx ~all"]


def test_spf_absent_on_a_domain_without_spf_creates_nothing(bind_zones):
    serial = bind_zones.serial("empty.test")
    result = spf(bind_zones, domain="empty.test", mechanisms=["mx"], state="absent")
    assert result["changed"] is False and result["record"] == ""
    assert bind_zones.serial("empty.test") == serial


def test_two_spf_records_are_refused_unless_merge_is_asked(bind_zones):
    bind_zones.add("school.test", "school.test", "TXT", "v=spf1 ip4:198.51.100.200 -all")
    serial = bind_zones.serial("school.test")
    refused = spf(bind_zones, mechanisms=["mx"])
    assert refused["failed"] is True
    assert "2 SPF records" in refused["msg"] and "merge_duplicates" in refused["msg"]
    assert bind_zones.serial("school.test") == serial

    merged = spf(bind_zones, mechanisms=["mx"], merge_duplicates=True)
    assert merged["changed"] is True
    assert bind_zones.txt("school.test") == [
        VERIFICATION,
        "v=spf1 include:_spf.office.test ip4:198.51.100.200 mx ~all",
    ]


def test_eleven_lookups_are_refused_naming_the_chain(bind_zones):
    serial = bind_zones.serial("school.test")
    result = spf(bind_zones, mechanisms=["include:_spf1.chain.test"])
    assert result["failed"] is True
    assert "needs 11 DNS lookups" in result["msg"]
    assert (
        "school.test -> include:_spf1.chain.test -> include:_spf2.chain.test -> include:_spf3.chain.test"
        " -> include:_spf4.chain.test -> include:_spf5.chain.test" in result["msg"]
    )
    assert bind_zones.serial("school.test") == serial


def test_ten_lookups_are_accepted(bind_zones):
    result = spf(bind_zones, domain="empty.test", mechanisms=["include:_spf1.chain.test"])
    assert result["changed"] is True and result["lookups"] == 10


def test_include_without_spf_is_refused_naming_it(bind_zones):
    # finding 17: receivers return permerror for the whole record, so it is never published
    serial = bind_zones.serial("school.test")
    result = spf(bind_zones, mechanisms=["include:nothing.office.test"])
    assert result["failed"] is True, result
    assert "school.test -> include:nothing.office.test" in result["msg"]
    assert "nothing.office.test has no SPF record (permerror)" in result["msg"]
    assert bind_zones.serial("school.test") == serial and bind_zones.txt("school.test") == [VERIFICATION, SPF]


def test_spf_over_512_bytes_warns(bind_zones):
    terms = [f"ip4:198.51.100.{i}" for i in range(1, 40)]
    result = spf(bind_zones, mechanisms=terms)
    assert result["changed"] is True
    assert any("512-byte UDP" in w for w in result["warnings"])


def test_ttl_is_kept_unless_set(bind_zones):
    spf(bind_zones, mechanisms=["mx"])
    result = spf(bind_zones, mechanisms=["mx"], ttl=300)
    assert result["changed"] is True
    assert bind_zones.query("school.test", "TXT")  # still answers
    assert {r["ttl"] for r in result["records"] if r["value"].startswith("v=spf1")} == {300}
    assert spf(bind_zones, mechanisms=["mx"])["changed"] is False


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"mechanisms": ["ip4:300.0.0.1"]}, "invalid address"),
        ({"mechanisms": ["-all"]}, "all option"),
        ({"domain": "not a domain"}, "not a valid domain"),
        ({"domain": "example.test", "mechanisms": ["mx"]}, "serves no zone"),
    ],
)
def test_bad_input_fails_clearly_and_writes_nothing(bind_zones, args, message):
    serial = bind_zones.serial("school.test")
    result = spf(bind_zones, **args)
    assert result["failed"] is True and message in result["msg"]
    assert bind_zones.serial("school.test") == serial


def test_bad_tsig_secret_is_a_clear_error_without_the_secret(bind_zones):
    wrong = "B" * 43 + "="
    result = spf(bind_zones, mechanisms=["mx"], tsig_key_secret=wrong)
    assert result["failed"] is True
    assert result["error"] == "AuthenticationFailed"
    assert "rejected the TSIG key" in result["msg"]
    assert wrong not in str(result)


def test_server_timeout_is_a_clear_error(bind_zones, silent_port):
    result = spf(bind_zones, mechanisms=["mx"], port=silent_port, timeout=0.5)
    assert result["failed"] is True
    assert f"no answer from the DNS server 127.0.0.1 port {silent_port} within 0.5 s" in result["msg"]


def test_rfc2136_needs_a_server(bind_zones):
    result = spf(bind_zones, mechanisms=["mx"], server=None)
    assert result["failed"] is True and "server" in result["msg"]


# -- dkim_record -----------------------------------------------------------------------------------


def dkim(bind: BindServer, check_mode: bool = False, **args) -> dict:
    options = bind.provider_args(domain="school.test", selector="mail")
    return run_module("dkim_record", {**options, **args}, check_mode=check_mode)


def test_dkim_4096_bit_key_round_trips_in_255_byte_strings(bind_zones, rsa4096_pem):
    result = dkim(bind_zones, public_key=rsa4096_pem)
    assert result["changed"] is True and result["key_bits"] == 4096
    [strings] = bind_zones.txt_strings("mail._domainkey.school.test")
    assert len(strings) == 3 and all(len(s) <= 255 for s in strings)
    assert bind_zones.txt("mail._domainkey.school.test") == [result["record"]]
    serial = bind_zones.serial("school.test")
    assert dkim(bind_zones, public_key=rsa4096_pem)["changed"] is False
    assert bind_zones.serial("school.test") == serial


def test_dkim_rotation_replaces_only_that_selector(bind_zones, rsa2048_pem, rsa4096_pem):
    bind_zones.add("school.test", "mail._domainkey.school.test", "TXT", "unrelated=keep")
    dkim(bind_zones, public_key=rsa2048_pem)
    result = dkim(bind_zones, public_key=rsa4096_pem)
    assert result["changed"] is True
    values = bind_zones.txt("mail._domainkey.school.test")
    assert len(values) == 2 and "unrelated=keep" in values and result["record"] in values
    other = bind_zones.txt("other._domainkey.school.test")
    assert other == ["v=DKIM1; k=rsa; p=MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAKJ"]


def test_dkim_check_mode_and_absent(bind_zones, rsa2048_pem):
    serial = bind_zones.serial("school.test")
    assert dkim(bind_zones, check_mode=True, public_key=rsa2048_pem)["changed"] is True
    assert bind_zones.serial("school.test") == serial
    result = dkim(bind_zones, selector="other", state="absent")
    assert result["changed"] is True and result["record"] == ""
    assert bind_zones.txt("other._domainkey.school.test") == []
    assert dkim(bind_zones, selector="other", state="absent")["changed"] is False


def test_dkim_refuses_bad_keys_and_selectors(bind_zones):
    assert "private key" in dkim(bind_zones, public_key="-----BEGIN PRIVATE KEY-----\nAAAA\n")["msg"]
    assert "selector" in dkim(bind_zones, selector="bad selector", public_key="AAAA")["msg"]
    assert "public_key" in dkim(bind_zones)["msg"]


# -- dmarc_record ----------------------------------------------------------------------------------


def dmarc(bind: BindServer, check_mode: bool = False, diff: bool = False, **args) -> dict:
    options = bind.provider_args(domain="school.test")
    return run_module("dmarc_record", {**options, **args}, check_mode=check_mode, diff=diff)


def test_dmarc_tags_are_set_and_an_equivalent_record_is_left_alone(bind_zones):
    result = dmarc(bind_zones, policy="quarantine", pct=50, rua=["dmarc@school.test"], adkim="s")
    assert result["changed"] is True
    expected = "v=DMARC1; p=quarantine; pct=50; adkim=s; rua=mailto:dmarc@school.test"
    assert bind_zones.txt("_dmarc.school.test") == [expected]
    serial = bind_zones.serial("school.test")
    again = dmarc(bind_zones, policy="quarantine", percent=50, aspf="r")  # aspf=r is the default
    assert again["changed"] is False
    assert bind_zones.serial("school.test") == serial


def test_dmarc_keeps_tags_the_task_does_not_set(bind_zones):
    dmarc(bind_zones, policy="none", rua=["mailto:reports@school.test"])
    result = dmarc(bind_zones, policy="reject", diff=True)
    assert result["tags"] == {"v": "DMARC1", "p": "reject", "rua": "mailto:reports@school.test"}
    assert "p=none" in result["diff"]["before"] and "p=reject" in result["diff"]["after"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"policy": "none", "rua": ["mailto:not-an-address"]}, "rua address"),
        ({"policy": "none", "fo": "x"}, "fo="),
        ({"policy": "none", "pct": 150}, "pct="),
        ({"policy": "none", "ri": 0}, "ri="),
        ({"policy": "drop"}, "value of policy must be one of"),
    ],
)
def test_dmarc_bad_tags_fail_before_any_write(bind_zones, args, message):
    serial = bind_zones.serial("school.test")
    result = dmarc(bind_zones, **args)
    assert result["failed"] is True and message in result["msg"]
    assert bind_zones.serial("school.test") == serial


def test_dmarc_needs_a_policy_for_a_new_record(bind_zones):
    result = dmarc(bind_zones, domain="empty.test", rua=["a@empty.test"])
    assert result["failed"] is True and "set policy" in result["msg"]


def test_dmarc_duplicates_become_one_record(bind_zones):
    bind_zones.add("school.test", "_dmarc.school.test", "TXT", "v=DMARC1; p=reject")
    result = dmarc(bind_zones, policy="quarantine")
    assert result["changed"] is True
    assert bind_zones.txt("_dmarc.school.test") == ["v=DMARC1; p=quarantine"]


def test_a_published_dmarc_record_naming_a_tag_twice_is_invalid_and_left_alone(bind_zones):
    # RFC 6376 section 3.2 (the tag-list DMARC uses): a tag named twice makes the whole record
    # invalid, so receivers apply no policy; reading either value would be a guess
    bind_zones.add("empty.test", "_dmarc.empty.test", "TXT", "v=DMARC1; p=none; P=reject")
    serial = bind_zones.serial("empty.test")
    result = dmarc(bind_zones, domain="empty.test", policy="quarantine")
    assert result["failed"] is True
    assert "_dmarc.empty.test is invalid" in result["msg"] and "tag 'p' appears twice" in result["msg"]
    assert bind_zones.serial("empty.test") == serial


def test_dmarc_external_report_address_warns(bind_zones):
    result = dmarc(bind_zones, policy="none", rua=["mailto:x@reports.test"])
    assert any("reports.test" in w and "_report._dmarc" in w for w in result["warnings"])


# -- ptr_record ------------------------------------------------------------------------------------


def ptr(bind: BindServer, check_mode: bool = False, diff: bool = False, **args) -> dict:
    options = bind.provider_args(resolver=[bind.host], resolver_port=bind.port)
    return run_module("ptr_record", {**options, **args}, check_mode=check_mode, diff=diff)


def test_ptr_is_set_and_forward_confirmed(bind_zones):
    bind_zones.add("school.test", "smtp.school.test", "A", "192.0.2.30")
    serial = bind_zones.serial("2.0.192.in-addr.arpa")
    checked = ptr(bind_zones, check_mode=True, ip="192.0.2.30", hostname="smtp.school.test")
    assert checked["changed"] is True and checked["fcrdns"] is True
    assert bind_zones.serial("2.0.192.in-addr.arpa") == serial
    result = ptr(bind_zones, diff=True, ip="192.0.2.30", hostname="smtp.school.test")
    assert result["changed"] is True and result["fcrdns"] is True and result["ptr"] == ["smtp.school.test"]
    assert result["diff"]["after"] == "30.2.0.192.in-addr.arpa. 3600 IN PTR smtp.school.test.\n"
    assert ptr(bind_zones, ip="192.0.2.30", hostname="smtp.school.test")["changed"] is False


def test_ptr_ipv6_and_existing_ptr(bind_zones):
    assert ptr(bind_zones, ip="192.0.2.25", hostname="mail.school.test")["changed"] is False
    result = ptr(bind_zones, ip="2001:db8::25", hostname="mail.school.test")
    assert result["changed"] is True and result["fcrdns"] is True


def test_ptr_ttl_asked_for_is_applied_to_a_correct_ptr(bind_zones):
    reverse = "25.2.0.192.in-addr.arpa"
    serial = bind_zones.serial("2.0.192.in-addr.arpa")
    checked = ptr(bind_zones, check_mode=True, ip="192.0.2.25", hostname="mail.school.test", ttl=300)
    assert checked["changed"] is True and bind_zones.serial("2.0.192.in-addr.arpa") == serial
    result = ptr(bind_zones, diff=True, ip="192.0.2.25", hostname="mail.school.test", ttl=300)
    assert result["changed"] is True and result["ptr"] == ["mail.school.test"]
    assert result["diff"]["after"] == f"{reverse}. 300 IN PTR mail.school.test.\n"
    assert [(a.ttl, [r.to_text() for r in a]) for a in bind_zones.rrsets(reverse, "PTR")] == [
        (300, ["mail.school.test."])
    ]
    assert ptr(bind_zones, ip="192.0.2.25", hostname="mail.school.test", ttl=300)["changed"] is False
    assert ptr(bind_zones, ip="192.0.2.25", hostname="mail.school.test")["changed"] is False


def test_ptr_without_forward_record_warns(bind_zones):
    result = ptr(bind_zones, ip="192.0.2.31", hostname="nohost.school.test")
    assert result["changed"] is True and result["fcrdns"] is False
    assert any("forward-confirmed reverse DNS does not hold" in w for w in result["warnings"])


def test_ptr_without_reverse_zone_gives_the_panel_instruction(bind_zones):
    result = ptr(bind_zones, ip="198.51.100.7", hostname="mail.school.test")
    assert result["failed"] is True and result["error"] == "PtrUnsupported"
    assert "control panel of the hosting provider" in result["msg"]


def test_ptr_absent_removes_only_the_named_ptr_then_all(bind_zones):
    reverse = "25.2.0.192.in-addr.arpa"
    bind_zones.add("2.0.192.in-addr.arpa", reverse, "PTR", "old.school.test.")
    serial = bind_zones.serial("2.0.192.in-addr.arpa")
    checked = ptr(bind_zones, check_mode=True, ip="192.0.2.25", hostname="old.school.test", state="absent")
    assert checked["changed"] is True and checked["ptr"] == ["mail.school.test"], checked
    assert bind_zones.serial("2.0.192.in-addr.arpa") == serial
    result = ptr(bind_zones, diff=True, ip="192.0.2.25", hostname="old.school.test", state="absent")
    assert result["changed"] is True and result["ptr"] == ["mail.school.test"] and result["fcrdns"] is True
    assert [r.target.to_text() for r in bind_zones.query(reverse, "PTR")] == ["mail.school.test."]
    assert "old.school.test" in result["diff"]["before"] and "old.school.test" not in result["diff"]["after"]
    again = ptr(bind_zones, ip="192.0.2.25", hostname="old.school.test", state="absent")
    assert again["changed"] is False

    gone = ptr(bind_zones, ip="192.0.2.25", state="absent")
    assert gone["changed"] is True and gone["ptr"] == [] and gone["warnings"] == [], gone
    assert bind_zones.query(reverse, "PTR") == []
    assert ptr(bind_zones, ip="192.0.2.25", state="absent")["changed"] is False


def test_ptr_present_needs_a_hostname(bind_zones):
    result = ptr(bind_zones, ip="192.0.2.25")
    assert result["failed"] is True and "hostname" in result["msg"]


# -- mail_dns_info ---------------------------------------------------------------------------------


def test_mail_dns_info_reads_what_receivers_see(bind_zones, rsa2048_pem, rsa4096_pem):
    dkim(bind_zones, public_key=rsa2048_pem)
    serial = bind_zones.serial("school.test")
    info = run_module(
        "mail_dns_info",
        {
            "domain": "school.test",
            "ips": ["198.51.100.7", "203.0.113.9", "192.0.2.25"],
            "selectors": ["mail"],
            "dkim_keys": {"mail": rsa2048_pem, "other": rsa4096_pem},
            "hostname": "mail.school.test",
            "resolver": [bind_zones.host],
            "resolver_port": bind_zones.port,
        },
    )
    assert info["changed"] is False
    assert info["spf"]["record"] == SPF and info["spf"]["lookups"] == 1
    assert info["spf"]["authorised"] == {"198.51.100.7": True, "203.0.113.9": False, "192.0.2.25": False}
    assert info["spf"]["results"]["203.0.113.9"]["result"] == "softfail"
    assert info["dkim"]["mail"]["matches"] is True and info["dkim"]["mail"]["key_bits"] == 2048
    assert info["dkim"]["other"]["matches"] is False  # a 512-bit placeholder, refused
    assert info["dmarc"]["tags"] == {"v": "DMARC1", "p": "none"}
    assert info["ptr"]["192.0.2.25"] == {
        "names": ["mail.school.test"],
        "fcrdns": True,
        "matches_hostname": True,
        "temperror": False,
    }
    # the test BIND serves no 100.51.198.in-addr.arpa and refuses the query: a temperror, never
    # "no PTR record" (finding 16)
    assert info["ptr"]["198.51.100.7"] == {
        "names": [],
        "fcrdns": None,
        "matches_hostname": None,
        "temperror": True,
    }
    assert not any("198.51.100.7 has no PTR" in p for p in info["problems"])
    assert any(
        t.startswith("temperror: the PTR record of 198.51.100.7") and "REFUSED" in t
        for t in info["temperrors"]
    )
    assert info["mx"] == [{"preference": 10, "host": "mail.school.test"}]
    assert info["hostname"]["addresses"] == ["192.0.2.25", "2001:db8::25"]
    assert any("203.0.113.9" in p for p in info["problems"])
    assert bind_zones.serial("school.test") == serial


def test_mail_dns_info_fails_clearly_when_the_resolver_is_silent(silent_port):
    info = run_module(
        "mail_dns_info",
        {"domain": "school.test", "resolver": ["127.0.0.1"], "resolver_port": silent_port, "timeout": 0.5},
    )
    assert info["failed"] is True and "DNS did not answer" in info["msg"]
