"""The value kinds of plugins/test/mail_input.py: every kind row of the bad-input battery
(tests/security/bad_input_cases.yml) is refused, and the ordinary values the roles take pass."""

from __future__ import annotations

import pytest
from ansible_collections.lms.mail.plugins.test import dkim_selector, mail_input

from tests.security.cases import rows

KINDS = {**mail_input.TestModule().tests(), **dkim_selector.TestModule().tests()}
KIND_ROWS = rows("kind")


@pytest.mark.parametrize("case", KIND_ROWS, ids=[case["id"] for case in KIND_ROWS])
def test_battery_value_is_refused(case):
    kind = case["target"].split(":", 1)[1]
    assert KINDS[kind](case["value"]) is False, f"{kind} accepted {case['value']!r}"


ACCEPTED = {
    "ip_address": ["192.0.2.1", "10.89.231.40", "2001:db8::1", "::1", "127.0.0.1"],
    "ip_network": [
        "192.0.2.0/24",
        "10.0.0.0/8",
        "0.0.0.0/0",
        "2001:db8::/48",
        "::/0",
        "192.0.2.7",
        "2001:db8::1",
    ],
    "fqdn": ["school.test", "moodle.school.test", "school.test.", "xn--80ak6aa92e.test", "a-b.c1.test"],
    "email_address": ["noreply@school.test", "first.last+tag@school.test", "o'brien@school.test"],
    "milter_socket": ["inet:127.0.0.1:8891", "inet:localhost:8891", "unix:/run/opendkim/opendkim.sock"],
    "loopback": ["localhost", "127.0.0.1", "127.8.9.1", "::1"],
    "sender_pattern": ["*@lists.school.test", "teacher@school.test", "*@*.school.test"],
    "printable": ["moodle@school.test", "p@ss:w0rd!"],
    "dkim_selector": ["202501", "mail", "s1-ed25519"],
    "spf_term": [
        "ip4:192.0.2.25",
        "ip6:2001:db8::25",
        "include:_spf.corp.test",
        "mx",
        "a/24",
        "redirect=x.test",
    ],
    "absolute_path": ["/etc/dkimkeys", "/var/lib/lms-mail", "/srv/mail.keys/v1_2+x"],
}


@pytest.mark.parametrize(("kind", "value"), [(k, v) for k, values in ACCEPTED.items() for v in values])
def test_ordinary_value_is_accepted(kind, value):
    assert KINDS[kind](value) is True


@pytest.mark.parametrize(
    ("value", "wide"),
    [
        ("0.0.0.0/0", True),
        ("10.0.0.0/7", True),
        ("10.0.0.0/8", False),
        ("192.0.2.0/24", False),
        ("::/0", True),
        ("2001:db8::/31", True),
        ("2001:db8::/32", False),
        ("2001:db8::1", False),
        ("not a network", False),
    ],
)
def test_wide_network(value, wide):
    assert mail_input.wide_network(value) is wide


def test_no_pattern_ends_in_dollar():
    """A pattern ending in `$` (re.match) lets a trailing newline through: the kinds use fullmatch."""
    import inspect

    assert '$")' not in inspect.getsource(mail_input)
    assert ".match(" not in inspect.getsource(mail_input)
