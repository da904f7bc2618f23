"""The receiver's verdict on a message (module_utils/auth_results.py): the From domain, DMARC's
relaxed DKIM alignment and the problems the verify role reports. Pure Python."""

from __future__ import annotations

import pytest
from ansible_collections.lms.mail.plugins.module_utils.auth_results import (
    aligned_dkim,
    from_domain,
    relaxed_aligned,
    result_line,
    trusted_results,
    verdict_problems,
)

MX = "mx.students.test"


def results(*fields: str) -> list[dict]:
    return [r.as_dict() for r in trusted_results(fields, [MX]).results]


PASSING = results(
    f"{MX}; spf=pass (sender SPF authorized) smtp.mailfrom=school.test",
    f"{MX}; dkim=pass (2048-bit key) header.d=school.test header.s=site1 header.b=AbCd",
    f"{MX}; dmarc=pass (p=none dis=none) header.from=school.test",
)


@pytest.mark.parametrize(
    ("field", "domain"),
    [
        ("noreply@school.test", "school.test"),
        ('"Moodle School" <noreply@School.Test>', "school.test"),
        ("Moodle <noreply@school.test.>", "school.test"),
        ("=?utf-8?q?x?= <a@mail.school.test>", "mail.school.test"),
        ("", ""),
        ("undisclosed-recipients:;", ""),
        ("no address", ""),
        # two authors: DMARC has no single From domain to judge
        ("a@school.test, b@other.test", ""),
    ],
)
def test_from_domain(field, domain):
    assert from_domain(field) == domain


@pytest.mark.parametrize(
    ("signer", "author", "aligned"),
    [
        ("school.test", "school.test", True),
        ("SCHOOL.test.", "school.test", True),
        ("school.test", "mail.school.test", True),  # the organisational domain signs a subdomain
        ("mail.school.test", "school.test", True),
        ("school.test", "otherschool.test", False),  # a suffix that is not a label boundary
        ("evil-school.test", "school.test", False),
        ("students.test", "school.test", False),
        ("", "school.test", False),
        ("school.test", "", False),
    ],
)
def test_relaxed_alignment(signer, author, aligned):
    assert relaxed_aligned(signer, author) is aligned


def test_aligned_dkim_counts_passing_aligned_signatures_once():
    found = results(
        f"{MX}; dkim=pass header.d=school.test header.s=a; dkim=pass header.d=School.Test header.s=b",
        f"{MX}; dkim=fail header.d=mail.school.test header.s=c",
        f"{MX}; dkim=pass header.d=relay.example header.s=d; spf=pass smtp.mailfrom=school.test",
    )
    assert aligned_dkim(found, "school.test") == ["school.test"]
    assert aligned_dkim(found, "other.test") == []


def test_a_message_signed_aligned_and_authorised_has_no_problem():
    assert verdict_problems(PASSING, "school.test") == []


def test_each_failed_check_is_one_problem_naming_the_fix():
    found = results(
        f"{MX}; spf=softfail (domain does not designate) smtp.mailfrom=school.test",
        f"{MX}; dkim=pass header.d=relay.example; dkim=fail header.d=school.test",
        f"{MX}; dmarc=fail header.from=school.test",
    )
    assert verdict_problems(found, "school.test") == [
        "the receiver found SPF softfail (domain does not designate): the envelope sender domain "
        "must authorise the sending address",
        "the receiver found no passing DKIM signature of school.test (found: pass, fail): the key "
        "must be published and the signer must sign that domain",
        "the receiver found DMARC fail for school.test",
    ]


def test_missing_verdicts_are_problems_too():
    assert verdict_problems([], "school.test") == [
        "the receiver found SPF missing: the envelope sender domain must authorise the sending address",
        "the receiver found no passing DKIM signature of school.test (found: none): the key must be "
        "published and the signer must sign that domain",
        "the receiver found DMARC missing for school.test",
    ]


def test_a_message_without_one_from_domain_fails_alignment():
    problems = verdict_problems(PASSING, "")
    assert problems == [
        "the receiver found no passing DKIM signature of the From address (none found) (found: pass): "
        "the key must be published and the signer must sign that domain",
    ]


def test_the_first_spf_and_dmarc_result_count():
    found = results(
        f"{MX}; spf=fail smtp.mailfrom=school.test; dmarc=fail header.from=school.test",
        f"{MX}; spf=pass smtp.mailfrom=school.test; dkim=pass header.d=school.test; dmarc=pass",
    )
    problems = verdict_problems(found, "school.test")
    assert [p.split(" for ")[0].split(":")[0] for p in problems] == [
        "the receiver found SPF fail",
        "the receiver found DMARC fail",
    ]


def test_result_line():
    assert [result_line(r) for r in PASSING] == [
        f"{MX}: spf=pass smtp.mailfrom=school.test",
        f"{MX}: dkim=pass header.d=school.test header.s=site1 header.b=AbCd",
        f"{MX}: dmarc=pass header.from=school.test",
    ]
    assert result_line({"authserv_id": MX, "method": "auth", "result": "none", "properties": {}}) == (
        f"{MX}: auth=none"
    )
