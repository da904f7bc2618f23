"""The two policy rules the record modules apply before any write, as tables (pure functions):
when a DMARC change weakens the published policy (issue 10, finding 15), and when an SPF term
lets too much of the Internet pass (finding 11)."""

from __future__ import annotations

import pytest
from ansible_collections.lms.mail.plugins.module_utils.dmarc import weaker_changes
from ansible_collections.lms.mail.plugins.module_utils.spf import count_lookups, parse_term, too_wide

from tests.dns.spf_fake import FakeDns


@pytest.mark.parametrize(
    ("published", "asked", "weaker"),
    [
        ("v=DMARC1; p=reject", {"p": "none"}, {"p": ("reject", "none")}),
        ("v=DMARC1; p=reject", {"p": "quarantine"}, {"p": ("reject", "quarantine")}),
        ("v=DMARC1; p=quarantine", {"p": "reject"}, {}),
        ("v=DMARC1; p=none", {"p": "none"}, {}),
        # sp: against the subdomain policy in force, sp= or else p=
        ("v=DMARC1; p=reject", {"p": "reject", "sp": "none"}, {"sp": ("reject", "none")}),
        ("v=DMARC1; p=none; sp=quarantine", {"sp": "none"}, {"sp": ("quarantine", "none")}),
        ("v=DMARC1; p=none; sp=quarantine", {"sp": "reject"}, {}),
        ("v=DMARC1; p=quarantine; sp=reject", {"sp": ""}, {"sp": ("reject", "")}),  # removed: p applies
        # pct: lower under the same p weakens; a stricter p at a lower pct is still stricter
        ("v=DMARC1; p=reject", {"pct": "50"}, {"pct": ("100", "50")}),
        ("v=DMARC1; p=reject; pct=50", {"pct": "20"}, {"pct": ("50", "20")}),
        ("v=DMARC1; p=reject; pct=50", {"pct": "100"}, {}),
        ("v=DMARC1; p=none", {"p": "quarantine", "pct": "10"}, {}),
        ("v=DMARC1; p=none", {"pct": "10"}, {}),  # none at any pct is none
        ("v=DMARC1; p=reject", {"p": "none", "pct": "10"}, {"p": ("reject", "none"), "pct": ("100", "10")}),
        # alignment: strict to relaxed
        ("v=DMARC1; p=none; adkim=s", {"adkim": "r"}, {"adkim": ("s", "r")}),
        ("v=DMARC1; p=none; aspf=s", {"aspf": ""}, {"aspf": ("s", "")}),
        ("v=DMARC1; p=none", {"adkim": "r", "aspf": "s"}, {}),
        (None, {"p": "none"}, {}),
    ],
)
def test_weaker_dmarc_changes(published, asked, weaker):
    changes = {"p": None, "sp": None, "pct": None, "adkim": None, "aspf": None, **asked}
    assert weaker_changes(published, changes) == weaker


@pytest.mark.parametrize(
    ("term", "wide"),
    [
        ("+all", True),
        ("all", True),
        ("~all", False),
        ("-all", False),
        ("?all", False),
        ("ip4:0.0.0.0/0", True),
        ("ip4:10.0.0.0/7", True),
        ("ip4:10.0.0.0/8", False),
        ("ip4:192.0.2.10", False),
        ("-ip4:0.0.0.0/0", False),  # a fail term protects
        ("~ip4:0.0.0.0/1", False),
        ("ip6:::/0", True),
        ("ip6:2001:db8::/31", True),
        ("ip6:2001:db8::/32", False),
        ("a:mail.school.test/0", True),
        ("mx/4", True),
        ("mx//16", True),
        ("a/24//64", False),
        ("include:_spf.office.test", False),
        ("redirect=_spf.office.test", False),
    ],
)
def test_wide_spf_terms(term, wide):
    assert bool(too_wide(parse_term(term))) is wide


def test_include_problems_are_sorted_into_permerrors_and_temperrors():
    dns = FakeDns(
        {
            ("nospf.test", "TXT"): ["not spf"],
            ("two.test", "TXT"): ["v=spf1 -all", "v=spf1 mx -all"],
            ("bad.test", "TXT"): ["v=spf1 ip4:300.1.1.1 -all"],
            ("ok.test", "TXT"): ["v=spf1 -all"],
        },
        failing=("down.test",),
    )
    counted = count_lookups(
        "v=spf1 include:nospf.test include:two.test include:bad.test include:down.test include:ok.test "
        "include:%{d}.test ~all",
        "school.test",
        dns.txt,
    )
    assert [p.split(": ", 1)[0] for p in counted.permerrors] == [
        "school.test -> include:nospf.test",
        "school.test -> include:two.test",
        "school.test -> include:bad.test",
    ]
    assert counted.temperrors == ["school.test -> include:down.test: temperror: timeout for down.test"]
    assert len(counted.problems) == 5  # and the macro target, which is only reported
