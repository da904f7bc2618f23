"""The Authentication-Results parser: RFC 8601's own examples (appendix B), the fields the lab's
receiver writes (OpenDKIM, OpenDMARC, policyd-spf as Debian 12 ships them) and Gmail's, forged
fields, and input that must give a clear error or a skipped result, never a crash."""

from __future__ import annotations

import pytest
from ansible_collections.lms.mail.plugins.module_utils.auth_results import (
    parse_authentication_results,
    trusted_results,
)

from tests.mailbox.fields import (
    GMAIL,
    OPENDKIM,
    OPENDKIM_FAIL,
    OPENDMARC,
    POLICYD_SPF,
    POLICYD_SPF_HELO,
)


def results(value: str) -> list[dict]:
    return [r.as_dict() for r in parse_authentication_results(value).results]


def short(value: str) -> list[tuple]:
    """(method, result, reason, comment, properties) of each result."""
    return [(r["method"], r["result"], r["reason"], r["comment"], r["properties"]) for r in results(value)]


# -- RFC 8601 appendix B ------------------------------------------------------------------------


def test_b2_service_provided_but_no_authentication_done():
    field = parse_authentication_results("example.org 1; none")
    assert (field.authserv_id, field.version, field.results, field.skipped) == ("example.org", 1, [], [])


def test_b3_spf():
    assert short("example.com;\n                  spf=pass smtp.mailfrom=example.net") == [
        ("spf", "pass", None, None, {"smtp.mailfrom": "example.net"})
    ]


def test_b4_several_methods_and_fields_single_mta():
    first = (
        "example.com;\n    auth=pass (cram-md5) smtp.auth=sender@example.net;\n"
        "    spf=pass smtp.mailfrom=example.net"
    )
    assert short(first) == [
        ("auth", "pass", None, "cram-md5", {"smtp.auth": "sender@example.net"}),
        ("spf", "pass", None, None, {"smtp.mailfrom": "example.net"}),
    ]
    second = "example.com; iprev=pass\n    policy.iprev=192.0.2.200"
    assert short(second) == [("iprev", "pass", None, None, {"policy.iprev": "192.0.2.200"})]


def test_b5_different_mtas_same_authserv_id():
    values = [
        "example.com;\n    dkim=pass (good signature) header.d=example.com",
        "example.com;\n    auth=pass (cram-md5) smtp.auth=sender@example.com;\n"
        "    spf=fail smtp.mailfrom=example.com",
    ]
    trusted = trusted_results(values, ["example.com"])
    assert [(r.method, r.result) for r in trusted.results] == [
        ("dkim", "pass"),
        ("auth", "pass"),
        ("spf", "fail"),
    ]


def test_b6_multi_tiered_with_reasons_and_header_b():
    ours = (
        'example.com;\n    dkim=pass reason="good signature"\n      header.i=@mail-router.example.net;\n'
        '    dkim=fail reason="bad signature"\n      header.i=@newyork.example.com'
    )
    assert short(ours) == [
        ("dkim", "pass", "good signature", None, {"header.i": "@mail-router.example.net"}),
        ("dkim", "fail", "bad signature", None, {"header.i": "@newyork.example.com"}),
    ]
    theirs = (
        "mail-router.example.net;\n    dkim=pass (good signature) header.d=newyork.example.com\n"
        "      header.b=oINEO8hg;\n    dkim=fail (bad signature) header.d=mail-router.example.net\n"
        "      header.b=EToRSuvU"
    )
    assert [r["properties"]["header.b"] for r in results(theirs)] == ["oINEO8hg", "EToRSuvU"]
    # the router's field is another ADMD's claim: only ours is believed
    trusted = trusted_results([ours, theirs], ["example.com"])
    assert len(trusted.results) == 2 and trusted.ignored_authserv_ids == ["mail-router.example.net"]


def test_b7_comments_everywhere_are_dropped():
    value = (
        "foo.example.net (foobar) 1 (baz);\n"
        "    dkim (Because I like it) / 1 (One yay) = (wait for it) fail\n"
        "      policy (A dot can go here) . (like that) expired\n"
        "      (this surprised me) = (as I wasn't expecting it) 1362471462"
    )
    field = parse_authentication_results(value)
    assert (field.authserv_id, field.version) == ("foo.example.net", 1)
    [result] = field.results
    assert (result.method, result.method_version, result.result) == ("dkim", 1, "fail")
    assert result.properties == {"policy.expired": "1362471462"}
    assert result.comment is None  # the comments are not right after the result


# -- what real receivers write --------------------------------------------------------------------


def test_gmail():
    assert short(GMAIL) == [
        ("dkim", "pass", None, None, {"header.i": "@example.com", "header.s": "sel", "header.b": "abc"}),
        (
            "spf",
            "pass",
            None,
            "google.com: domain of x@example.com designates 192.0.2.1 as permitted sender",
            {"smtp.mailfrom": "x@example.com"},
        ),
        ("dmarc", "pass", None, "p=NONE sp=NONE dis=NONE", {"header.from": "example.com"}),
    ]


def test_opendkim_pass_and_fail():
    [passed] = results(OPENDKIM)
    assert passed["comment"] == "2048-bit key; unprotected"
    assert passed["properties"] == {
        "header.d": "school.test",
        "header.i": "@school.test",
        "header.a": "rsa-sha256",
        "header.s": "202611",
        "header.b": "AbCd1234",
    }
    [failed] = results(OPENDKIM_FAIL)
    assert (failed["result"], failed["reason"]) == ("fail", "signature verification failed")
    # the comment after the reason still counts; a base64 prefix keeps its / + and =
    assert failed["comment"] == "2048-bit key; unprotected"
    assert failed["properties"]["header.b"] == "Ab/C+d=x"


def test_opendmarc():
    assert short(OPENDMARC) == [("dmarc", "pass", None, "p=none dis=none", {"header.from": "school.test"})]


def test_policyd_spf_mailfrom_and_helo():
    # the comment after smtp.mailfrom (with its ";" and "<UNKNOWN>") is not another result
    assert short(POLICYD_SPF) == [
        ("spf", "pass", None, "sender SPF authorized", {"smtp.mailfrom": "school.test"})
    ]
    assert short(POLICYD_SPF_HELO) == [
        ("spf", "none", None, "no SPF record", {"smtp.helo": "moodle.school.test"})
    ]


def test_case_of_method_result_and_property_names_is_ignored():
    [result] = results("MX.Students.Test; DKIM=Pass Header.D=School.Test")
    assert (result["method"], result["result"], result["properties"]) == (
        "dkim",
        "pass",
        {"header.d": "School.Test"},
    )
    assert trusted_results(["MX.Students.Test; spf=pass"], ["mx.students.test"]).results


def test_quoted_values_nested_comments_and_escapes():
    value = (
        r"mx.test; dkim=neutral (outer (inner \) still) done) "
        r'reason="a \"quoted\" reason; not the end" header.d="d.test"'
    )
    [result] = results(value)
    assert result["comment"] == "outer (inner ) still) done"
    assert result["reason"] == 'a "quoted" reason; not the end'
    assert result["properties"] == {"header.d": "d.test"}


def test_quoted_local_part_and_unquoted_ipv6():
    [result] = results('mx.test; spf=pass smtp.mailfrom="john doe"@example.com policy.iprev=2001:db8::1')
    assert result["properties"] == {"smtp.mailfrom": '"john doe"@example.com', "policy.iprev": "2001:db8::1"}


def test_trailing_semicolon_and_bare_name_value_are_accepted():
    # Microsoft writes "action=none" without a ptype, and some servers end with ";"
    assert short("mx.test; dmarc=pass action=none header.from=a.test;") == [
        ("dmarc", "pass", None, None, {"action": "none", "header.from": "a.test"})
    ]


def test_authserv_id_with_job_id_counts_as_the_id():
    trusted = trusted_results(
        ["mx.students.test/4ABC123; dkim=pass header.d=school.test"], ["mx.students.test"]
    )
    assert [r.authserv_id for r in trusted.results] == ["mx.students.test/4ABC123"]


# -- trust ----------------------------------------------------------------------------------------


def test_only_trusted_fields_count_and_the_forged_one_is_listed_once():
    forged = (
        "mx.students.test.attacker.example; spf=pass smtp.mailfrom=school.test; "
        "dmarc=pass header.from=school.test"
    )
    values = [OPENDMARC, OPENDKIM, POLICYD_SPF, forged, GMAIL, forged]
    trusted = trusted_results(values, ["mx.students.test"])
    assert [(r.method, r.result) for r in trusted.results] == [
        ("dmarc", "pass"),
        ("dkim", "pass"),
        ("spf", "pass"),
    ]
    assert trusted.ignored_authserv_ids == ["mx.students.test.attacker.example", "mx.google.com"]
    assert trusted.problems == []


def test_a_trailing_dot_and_case_in_the_trusted_ids_do_not_matter():
    assert trusted_results([OPENDMARC], ["MX.STUDENTS.TEST."]).results


def test_nothing_is_trusted_without_ids():
    trusted = trusted_results([OPENDKIM], [])
    assert trusted.results == [] and trusted.ignored_authserv_ids == ["mx.students.test"]


# -- malformed input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "empty"),
        ("   (just a comment)  ", "empty"),
        ("; spf=pass", "no authserv-id"),
        ("spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=example.com; dkim=none", "no authserv-id"),
        ("mx.test", "neither a result nor 'none'"),
        ("mx.test spf=pass", "expected ';' after the authserv-id"),
        ('"mx.test; spf=pass', "unterminated quoted string"),
        ("mx.test (unclosed; spf=pass", "unterminated comment"),
    ],
)
def test_an_unreadable_field_is_a_clear_value_error(value, message):
    with pytest.raises(ValueError, match=message):
        parse_authentication_results(value)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("spf", "expected '=' after the method 'spf'"),
        ("spf=", "expected the result of 'spf'"),
        ("=pass", "expected a method name"),
        ("dkim/x=pass", "version of method 'dkim'"),
        ("spf=pass smtp=", "expected the value of 'smtp'"),
        ("spf=pass smtp.mailfrom", "expected '=' after 'smtp.mailfrom'"),
        ("spf=pass smtp.=x", "expected a property name"),
        ("spf=pass smtp mailfrom=x", "expected '.' or '='"),
        ('dkim=fail reason="unterminated', "unterminated quoted string"),
        ("dkim=fail (unterminated", "unterminated comment"),
    ],
)
def test_an_unreadable_result_is_skipped_and_the_others_kept(bad, message):
    field = parse_authentication_results(
        f"mx.test; dmarc=pass header.from=a.test; {bad}; dkim=pass header.d=a.test"
    )
    methods = [r.method for r in field.results]
    # after an unterminated comment or string nothing can be read; before it everything is kept
    assert methods[0] == "dmarc" and methods in (["dmarc", "dkim"], ["dmarc"])
    [skipped] = field.skipped
    assert message in skipped and skipped.startswith("mx.test: result")


def test_unreadable_fields_become_problems_never_exceptions():
    values = [
        "",
        "garbage without semicolon",
        "mx.test; spf=pass smtp.mailfrom=(",
        OPENDMARC,
        "\x00;\x01=\x02",
    ]
    trusted = trusted_results(values, ["mx.test", "mx.students.test"])
    assert [r.method for r in trusted.results] == ["dmarc"]
    assert len(trusted.problems) == 4
    assert all("Authentication-Results" in p or "skipped" in p for p in trusted.problems)


@pytest.mark.parametrize(
    "value",
    [
        "(",
        ")",
        '"',
        "\\",
        "a;(",
        'a;"',
        "a;b=c d.e=(",
        "a;b/",
        "a;b/1",
        "a; ;;; none",
        "a 99999999999999999999; none",
    ],
)
def test_fragments_never_crash(value):
    try:
        field = parse_authentication_results(value)
    except ValueError:
        return
    assert isinstance(field.results, list)
