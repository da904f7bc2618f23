"""SPF: parsing, merging in place, the RFC 7208 lookup count and check_host evaluation."""

from __future__ import annotations

import pytest
from ansible_collections.lms.mail.plugins.module_utils.spf import (
    SpfError,
    check_host,
    combine_spf,
    count_lookups,
    merge_spf,
    parse_spf,
    parse_term,
)

from tests.dns.spf_fake import FakeDns

# -- parsing -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "qualifier", "arg", "cidr4", "cidr6"),
    [
        ("ip4:192.0.2.0/24", "ip4", "", "192.0.2.0", 24, None),
        ("-ip6:2001:db8::/32", "ip6", "-", "2001:db8::", None, 32),
        ("a:host.test/28//64", "a", "", "host.test", 28, 64),
        ("mx//64", "mx", "", "", None, 64),
        ("?include:_spf.office.test", "include", "?", "_spf.office.test", None, None),
        ("~ALL", "all", "~", "", None, None),
        ("exists:%{i}.bl.test", "exists", "", "%{i}.bl.test", None, None),
    ],
)
def test_parse_term(text, name, qualifier, arg, cidr4, cidr6):
    term = parse_term(text)
    assert (term.name, term.qualifier, term.arg, term.cidr4, term.cidr6) == (
        name,
        qualifier,
        arg,
        cidr4,
        cidr6,
    )
    assert term.text == text


@pytest.mark.parametrize(
    "text",
    [
        "ip4:300.1.1.1",
        "ip4:2001:db8::1",
        "ip6:192.0.2.1",
        "ip4:192.0.2.0/33",
        "include:",
        "include",
        "foo:x.test",
        "all:x.test",
        "a:x.test/40",
        "exists:%{z}.test",
        "redirect=",
    ],
)
def test_invalid_terms_are_refused(text):
    with pytest.raises(SpfError):
        parse_term(text)


def test_modifiers_and_directives_keep_their_order():
    record = parse_spf("v=spf1 mx include:_spf.office.test -all exp=explain.test")
    assert [t.name for t in record.terms] == ["mx", "include", "all", "exp"]
    assert str(record) == "v=spf1 mx include:_spf.office.test -all exp=explain.test"


def test_two_redirects_are_refused():
    with pytest.raises(SpfError, match="twice"):
        parse_spf("v=spf1 redirect=a.test redirect=b.test")


def test_not_spf_is_refused():
    with pytest.raises(SpfError, match="v=spf1"):
        parse_spf("v=spf10 mx")


# -- merging -------------------------------------------------------------------------------------

CUSTOMER = "v=spf1 include:_spf.google.com ~all"


def test_merge_keeps_include_its_order_and_softfail():
    merged = merge_spf(CUSTOMER, ["ip4:192.0.2.10", "ip6:2001:db8::10"])
    assert merged == "v=spf1 include:_spf.google.com ip4:192.0.2.10 ip6:2001:db8::10 ~all"


def test_merge_of_present_terms_changes_nothing():
    assert merge_spf(CUSTOMER, ["include:_SPF.Google.com."]) == CUSTOMER
    assert merge_spf("v=spf1 ip4:192.0.2.10/32 -all", ["ip4:192.0.2.10"]) == "v=spf1 ip4:192.0.2.10/32 -all"


def test_merge_replaces_a_different_qualifier_in_place():
    assert merge_spf("v=spf1 mx ?a ~all", ["a"]) == "v=spf1 mx a ~all"


def test_merge_removes_absent_terms_whatever_their_qualifier():
    merged = merge_spf("v=spf1 mx ?ip4:198.51.100.7 include:x.test -all", absent=["ip4:198.51.100.7"])
    assert merged == "v=spf1 mx include:x.test -all"


def test_merge_sets_all_only_when_asked():
    assert merge_spf(CUSTOMER, ["mx"], all_qualifier="-all").endswith(" mx -all")
    assert merge_spf("v=spf1 mx", ["a"]) == "v=spf1 mx a"  # no all stays no all


def test_new_record_gets_softfail_by_default():
    assert merge_spf(None, ["ip4:192.0.2.10"]) == "v=spf1 ip4:192.0.2.10 ~all"


def test_new_directive_goes_before_all_and_modifiers_stay_last():
    merged = merge_spf("v=spf1 mx -all exp=e.test", ["a"])
    assert merged == "v=spf1 mx a -all exp=e.test"
    assert merge_spf("v=spf1 mx redirect=r.test", ["a"]) == "v=spf1 mx a redirect=r.test"


def test_merge_refuses_all_as_a_mechanism_and_contradictions():
    with pytest.raises(SpfError, match="all option"):
        merge_spf(CUSTOMER, ["-all"])
    with pytest.raises(SpfError, match="both present and absent"):
        merge_spf(CUSTOMER, ["mx"], ["mx"])


def test_combine_two_records_keeps_the_first_order_and_all():
    combined = combine_spf(["v=spf1 include:_spf.office.test ~all", "v=spf1 ip4:192.0.2.10 mx -all"])
    assert combined == "v=spf1 include:_spf.office.test ip4:192.0.2.10 mx ~all"


# -- lookup counting -------------------------------------------------------------------------------


def _chain_dns(levels: int) -> dict:
    data = {}
    for i in range(1, levels):
        data[(f"_spf{i}.chain.test", "TXT")] = [f"v=spf1 a mx include:_spf{i + 1}.chain.test ~all"]
    data[(f"_spf{levels}.chain.test", "TXT")] = ["v=spf1 ip4:203.0.113.0/24 ~all"]
    return data


def test_count_follows_includes_recursively():
    dns = FakeDns(_chain_dns(3))
    counted = count_lookups("v=spf1 include:_spf1.chain.test ~all", "school.test", dns.txt)
    # include(1) + [a, mx, include](2 levels) = 7
    assert counted.count == 7
    assert not counted.exceeded
    assert counted.chain is None


def test_count_above_ten_names_the_chain_to_the_eleventh():
    dns = FakeDns(_chain_dns(5))
    counted = count_lookups("v=spf1 mx include:_spf1.chain.test ~all", "school.test", dns.txt)
    assert counted.count == 14
    assert counted.exceeded
    assert counted.chain == [
        "school.test",
        "include:_spf1.chain.test",
        "include:_spf2.chain.test",
        "include:_spf3.chain.test",
        "include:_spf4.chain.test",
    ]
    message = counted.message()
    assert "14 DNS lookups" in message
    assert "school.test -> include:_spf1.chain.test -> include:_spf2.chain.test" in message


def test_ten_lookups_is_allowed():
    record = "v=spf1 " + " ".join(f"a:h{i}.test" for i in range(10)) + " -all"
    counted = count_lookups(record, "school.test", FakeDns({}).txt)
    assert counted.count == 10 and not counted.exceeded


def test_redirect_counts_only_without_all_and_ip_terms_never():
    dns = FakeDns({("r.test", "TXT"): ["v=spf1 mx -all"]})
    assert count_lookups("v=spf1 ip4:192.0.2.1 ip6:2001:db8::1 redirect=r.test", "s.test", dns.txt).count == 2
    assert count_lookups("v=spf1 ip4:192.0.2.1 -all redirect=r.test", "s.test", dns.txt).count == 0


def test_count_reports_loops_missing_records_and_dns_failures():
    dns = FakeDns(
        {("loop.test", "TXT"): ["v=spf1 include:school.test -all"], ("nospf.test", "TXT"): ["hello"]},
        failing=("down.test",),
    )
    counted = count_lookups(
        "v=spf1 include:loop.test include:nospf.test include:down.test -all", "school.test", dns.txt
    )
    assert counted.count == 4
    problems = " ".join(counted.problems)
    assert "include loop" in problems
    assert "nospf.test has no SPF record" in problems
    assert "timeout for down.test" in problems


# -- check_host ------------------------------------------------------------------------------------

ZONE = {
    ("school.test", "TXT"): ["v=spf1 include:_spf.office.test a:web.school.test mx ~all", "other=thing"],
    ("_spf.office.test", "TXT"): ["v=spf1 ip4:198.51.100.0/24 ip6:2001:db8:100::/48 -all"],
    ("web.school.test", "A"): ["192.0.2.80"],
    ("school.test", "MX"): ["mail.school.test"],
    ("mail.school.test", "A"): ["192.0.2.25"],
    ("mail.school.test", "AAAA"): ["2001:db8::25"],
    ("redir.test", "TXT"): ["v=spf1 redirect=school.test"],
    ("strict.test", "TXT"): ["v=spf1 ip4:192.0.2.0/28 -all"],
    ("two.test", "TXT"): ["v=spf1 -all", "v=spf1 mx -all"],
    ("bad.test", "TXT"): ["v=spf1 ip4:not-an-ip -all"],
    ("exists.test", "TXT"): ["v=spf1 exists:%{ir}.%{v}.allow.exists.test -all"],
    ("10.2.0.192.in-addr.allow.exists.test", "A"): ["127.0.0.2"],
    ("ptr.test", "TXT"): ["v=spf1 ptr:school.test -all"],
    ("192.0.2.25", "PTR"): ["mail.school.test"],
    ("192.0.2.26", "PTR"): ["fake.school.test"],
    ("pmacro.test", "TXT"): ["v=spf1 exists:%{p}.allow.pmacro.test -all"],
    ("unknown.allow.pmacro.test", "A"): ["127.0.0.2"],
}


@pytest.mark.parametrize(
    ("ip", "domain", "result"),
    [
        ("198.51.100.7", "school.test", "pass"),  # through the include
        ("2001:db8:100::1", "school.test", "pass"),
        ("192.0.2.80", "school.test", "pass"),  # a:web
        ("192.0.2.25", "school.test", "pass"),  # mx
        ("2001:db8::25", "school.test", "pass"),  # mx over AAAA
        ("203.0.113.9", "school.test", "softfail"),  # ~all; the include's -all does not leak
        ("192.0.2.5", "strict.test", "pass"),
        ("192.0.2.50", "strict.test", "fail"),
        ("198.51.100.7", "redir.test", "pass"),
        ("203.0.113.9", "redir.test", "softfail"),
        ("192.0.2.1", "nothing.test", "none"),
        ("192.0.2.1", "two.test", "permerror"),
        ("192.0.2.1", "bad.test", "permerror"),
        ("192.0.2.10", "exists.test", "pass"),  # macro: 10.2.0.192.in-addr.allow...
        ("192.0.2.11", "exists.test", "fail"),
        ("192.0.2.25", "ptr.test", "pass"),  # PTR name forward-confirmed
        ("192.0.2.26", "ptr.test", "fail"),  # PTR name without the address
        ("::ffff:192.0.2.5", "strict.test", "pass"),  # IPv4-mapped is the IPv4 address
    ],
)
def test_check_host(ip, domain, result):
    assert check_host(ip, domain, FakeDns(ZONE)).result == result


def test_check_host_names_the_matching_mechanism():
    outcome = check_host("198.51.100.7", "school.test", FakeDns(ZONE))
    assert (
        outcome.mechanism == "school.test: include:_spf.office.test -> _spf.office.test: ip4:198.51.100.0/24"
    )
    assert outcome.lookups == 1


def test_more_than_ten_lookups_is_permerror():
    data = {(f"l{i}.test", "TXT"): [f"v=spf1 include:l{i + 1}.test -all"] for i in range(12)}
    data[("school.test", "TXT")] = ["v=spf1 include:l0.test -all"]
    outcome = check_host("192.0.2.99", "school.test", FakeDns(data))
    assert outcome.result == "permerror"
    assert "more than 10 DNS lookups" in outcome.reason


def test_more_than_two_void_lookups_is_permerror():
    data = {("school.test", "TXT"): ["v=spf1 a:v1.test a:v2.test a:v3.test -all"]}
    outcome = check_host("192.0.2.99", "school.test", FakeDns(data))
    assert outcome.result == "permerror"
    assert "void" in outcome.reason


def test_dns_failure_is_temperror():
    data = {("school.test", "TXT"): ["v=spf1 include:down.test -all"]}
    assert (
        check_host("192.0.2.99", "school.test", FakeDns(data, failing=("down.test",))).result == "temperror"
    )
    assert check_host("192.0.2.99", "down.test", FakeDns({}, failing=("down.test",))).result == "temperror"


def test_include_of_a_domain_without_spf_is_permerror():
    data = {("school.test", "TXT"): ["v=spf1 include:nospf.test -all"]}
    assert check_host("192.0.2.99", "school.test", FakeDns(data)).result == "permerror"


def test_no_match_after_a_failing_include_is_neutral_without_a_mechanism():
    data = {
        ("school.test", "TXT"): ["v=spf1 include:_spf.office.test"],
        ("_spf.office.test", "TXT"): ["v=spf1 ip4:198.51.100.0/24 -all"],
    }
    outcome = check_host("203.0.113.9", "school.test", FakeDns(data))
    assert (outcome.result, outcome.mechanism, outcome.reason) == ("neutral", "", "no mechanism matched")


def test_p_macro_expands_to_unknown_without_a_ptr_lookup():
    # RFC 7208 §7.3 allows "unknown" for %{p}; documented in spf.py and mail_dns_info
    dns = FakeDns(ZONE)
    assert check_host("192.0.2.25", "pmacro.test", dns).result == "pass"  # its PTR is valid, all the same
    assert ("unknown.allow.pmacro.test", "A") in dns.queries
    assert not any(rtype == "PTR" for _, rtype in dns.queries)
