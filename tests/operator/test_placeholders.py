"""The preflight refuses the customer template's examples (plugins/filter/placeholders.py)."""

from __future__ import annotations

import pytest
from ansible_collections.lms.mail.plugins.filter.placeholders import inventory_placeholders


def test_the_templates_examples_are_named():
    problems = inventory_placeholders(
        {
            "mail_domain": "school.example",
            "moodle_noreplyaddress": "noreply@school.example",
            "dns_spf_relay_mechanisms": ["include:_spf.corp.example"],
            "dns_public_ipv4": "203.0.113.10",
            "moodle_forum_mode": "noreply",
        },
        host="moodle.school.example",
        user="deploy",
    )
    assert problems == [
        "the host name moodle.school.example",
        "ansible_user: deploy",
        "mail_domain: school.example",
        "moodle_noreplyaddress: school.example",
        "dns_spf_relay_mechanisms: _spf.corp.example",
        "dns_public_ipv4: 203.0.113.10",
    ]


def test_a_filled_in_inventory_passes():
    assert (
        inventory_placeholders(
            {
                "mail_domain": "school.test",
                "mail_hostname": "moodle.school.test",
                "postfix_relay_host": "smtp.mailservice.test",
                "dns_resolver": ["10.89.231.53"],
                "verify_imap_host": "imap.examplecorp.com",  # not a reserved name
                "note": "for example, an example",
            },
            host="10.89.231.40",
            user="admin",
        )
        == []
    )


def test_a_secret_is_never_quoted():
    (problem,) = inventory_placeholders({"postfix_relay_password": "hunter2@pw.example"})
    assert problem == "postfix_relay_password: holds an example value"
    assert "hunter2" not in problem


@pytest.mark.parametrize(
    "name",
    ["moodle_smtppass", "moodle_messageinbound_hostpass", "dkim_import_keys", "dns_ptr_provider_options"],
)
def test_every_secret_variable_is_named_without_its_value(name):
    (problem,) = inventory_placeholders({name: "Tr0ub4.example"})
    assert problem == f"{name}: holds an example value"


def test_documentation_ipv6_and_example_com_count():
    assert inventory_placeholders({"dns_public_ipv6": "2001:db8::25", "x": "mail.example.com"}) == [
        "dns_public_ipv6: 2001:db8::25",
        "x: mail.example.com",
    ]
