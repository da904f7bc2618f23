"""lms.mail.mail_dns_info's report lines (module_utils/mail_report.py), as the verify role shows
them. Pure Python, over results in the module's shape."""

from __future__ import annotations

from ansible_collections.lms.mail.plugins.module_utils.mail_report import dns_report_lines

NAME = "site1._domainkey.school.test"


def dkim(**info) -> dict:
    return {"name": NAME, "found": True, "key_type": "rsa", "matches": True, **info}


def test_a_domain_as_receivers_find_it():
    result = {
        "spf": {
            "record": "v=spf1 ip4:192.0.2.10 ~all",
            "results": {"192.0.2.10": {"result": "pass", "mechanism": "ip4:192.0.2.10"}},
        },
        "dkim": {"site1": dkim(), "ed1": dkim(name="ed1._domainkey.school.test", key_type="ed25519")},
        "dmarc": {"record": "v=DMARC1; p=none"},
        "ptr": {"192.0.2.10": {"names": ["mail.school.test"], "fcrdns": True}},
    }
    assert dns_report_lines("school.test", result) == [
        "DNS school.test:",
        "  SPF pass for 192.0.2.10 (ip4:192.0.2.10)",
        f"  DKIM {NAME}: rsa key published, the signing key",
        "  DKIM ed1._domainkey.school.test: ed25519 key published, the signing key",
        "  DMARC v=DMARC1; p=none",
        "  PTR 192.0.2.10 -> mail.school.test, forward-confirmed",
    ]


def test_what_is_missing_or_wrong_is_said():
    result = {
        "spf": {"record": "", "results": {"192.0.2.10": {"result": "fail", "mechanism": ""}}},
        "dkim": {
            "site1": dkim(matches=False),
            "old": {"name": "old._domainkey.school.test", "found": False},
            "any": dkim(name="any._domainkey.school.test", matches=None),
        },
        "dmarc": {"record": ""},
        "ptr": {"192.0.2.10": {"names": [], "fcrdns": False}, "2001:db8::1": {"names": ["a.test", "b.test"]}},
    }
    assert dns_report_lines("school.test", result) == [
        "DNS school.test:",
        "  SPF fail for 192.0.2.10",
        f"  DKIM {NAME}: rsa key published, NOT the signing key",
        "  DKIM old._domainkey.school.test: nothing published",
        # no key to compare with (a selector asked for alone): only what is published
        "  DKIM any._domainkey.school.test: rsa key published",
        "  DMARC none",
        "  PTR 192.0.2.10 -> none, NOT forward-confirmed",
        "  PTR 2001:db8::1 -> a.test, b.test, NOT forward-confirmed",
    ]


def test_without_addresses_the_spf_record_itself():
    result = {"spf": {"record": "v=spf1 include:relay.example -all", "results": {}}, "dmarc": {}}
    assert dns_report_lines("school.test", result) == [
        "DNS school.test:",
        "  SPF v=spf1 include:relay.example -all",
        "  DMARC none",
    ]
    assert dns_report_lines("school.test", {})[1] == "  SPF none"
