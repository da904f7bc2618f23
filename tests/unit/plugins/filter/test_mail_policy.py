"""The safety rules the postfix and dkim roles apply to their merged settings
(plugins/filter/mail_policy.py)."""

from __future__ import annotations

import pytest
from ansible_collections.lms.mail.plugins.filter.mail_policy import (
    network_list_problems,
    opendkim_conf_problems,
    planted_paths,
    postfix_main_cf_problems,
    restriction_problem,
    sasl_credential_problems,
)

SAFE = {
    "mynetworks": "127.0.0.0/8 [::1]/128 10.89.231.0/24 [2001:db8::]/48",
    "smtpd_relay_restrictions": "permit_mynetworks, reject_unauth_destination",
    "smtp_tls_security_level": "secure",
}


def test_the_roles_own_settings_are_safe():
    assert postfix_main_cf_problems(SAFE, relay_auth=True) == []


@pytest.mark.parametrize(
    "value",
    [
        "permit_mynetworks, reject_unauth_destination",
        "permit_mynetworks permit_sasl_authenticated defer_unauth_destination",
        "reject_non_fqdn_recipient, permit_mynetworks, reject_unauth_destination, permit",
        "reject",
    ],
)
def test_restrictions_that_stop_relaying(value):
    assert restriction_problem(value) == ""


@pytest.mark.parametrize(
    "value",
    [
        "permit",
        "permit_mynetworks",
        "",
        "permit, reject_unauth_destination",
        "check_client_access x, reject_unauth_destination",
    ],
)
def test_restrictions_that_relay(value):
    assert restriction_problem(value)


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"mynetworks": "0.0.0.0/0"}, "postfix_main_cf_extra.mynetworks"),
        ({"mynetworks": "[::]/0"}, "postfix_main_cf_extra.mynetworks"),
        ({"mynetworks": "[fe80::1%eth0]"}, "postfix_main_cf_extra.mynetworks"),
        ({"smtpd_relay_restrictions": "permit"}, "postfix_main_cf_extra.smtpd_relay_restrictions"),
        (
            {"smtpd_relay_restrictions": "", "smtpd_recipient_restrictions": "permit_mynetworks"},
            "postfix_main_cf_extra.smtpd_recipient_restrictions",
        ),
        ({"relay_domains": "static:ALL"}, "postfix_main_cf_extra.relay_domains"),
        ({"mydestination": "$myhostname, static:ALL"}, "postfix_main_cf_extra.mydestination"),
        ({"virtual_alias_domains": "static:ALL"}, "postfix_main_cf_extra.virtual_alias_domains"),
        ({"virtual_mailbox_domains": "pcre:/etc/any.pcre"}, "postfix_main_cf_extra.virtual_mailbox_domains"),
        ({"virtual_alias_domains": "regexp:/etc/postfix/any"}, "postfix_main_cf_extra.virtual_alias_domains"),
        ({"mydestination": "inline:{school.test=x}"}, "postfix_main_cf_extra.mydestination"),
        ({"smtp_tls_security_level": "encrypt"}, "postfix_main_cf_extra.smtp_tls_security_level"),
        ({"smtp_tls_security_level": "none"}, "postfix_main_cf_extra.smtp_tls_security_level"),
        ({"smtp_tls_policy_maps": "hash:/etc/postfix/tls"}, "postfix_main_cf_extra.smtp_tls_policy_maps"),
        ({"myhostname": "a.test\nrelay_domains = static:ALL"}, "postfix_main_cf_extra.myhostname"),
    ],
)
def test_extra_settings_cannot_undo_the_rules(extra, named):
    problems = postfix_main_cf_problems({**SAFE, **extra}, extra=extra, relay_auth=True)
    assert any(problem.startswith(named) for problem in problems), problems


@pytest.mark.parametrize(
    "extra",
    [
        {"mydestination": "$myhostname, localhost.$mydomain, localhost, school.test"},
        {"virtual_alias_domains": "hash:/etc/postfix/virtual_domains"},
        {"virtual_mailbox_domains": "lists.school.test, ${mydomain}"},
        {"virtual_alias_domains": ""},
    ],
)
def test_domain_lists_of_names_and_keyed_tables_pass(extra):
    assert postfix_main_cf_problems({**SAFE, **extra}, extra=extra, relay_auth=True) == []


def test_the_role_variable_is_named_when_the_value_is_the_roles():
    problems = postfix_main_cf_problems({**SAFE, "mynetworks": "127.0.0.0/8 0.0.0.0/0"})
    assert problems and problems[0].startswith("postfix_mynetworks:")
    assert "postfix_mynetworks_allow_wide" in problems[0]


def test_wide_networks_pass_with_the_override():
    settings = {**SAFE, "mynetworks": "0.0.0.0/0 [::]/0"}
    assert postfix_main_cf_problems(settings, allow_wide_mynetworks=True) == []


def test_encrypt_is_fine_without_a_password():
    assert postfix_main_cf_problems({**SAFE, "smtp_tls_security_level": "encrypt"}) == []


def test_trusted_hosts():
    assert network_list_problems(["10.89.231.0/24", "192.0.2.1"], "dkim_trusted_hosts", False, "x") == []
    assert network_list_problems(["0.0.0.0/0"], "dkim_trusted_hosts", True, "x") == []
    for bad in (["0.0.0.0/0"], ["::/0"], ["fe80::1%eth0\n0.0.0.0/0"], ["10.0.0.0/8 "]):
        problems = network_list_problems(bad, "dkim_trusted_hosts", False, "dkim_trusted_hosts_allow_wide")
        assert problems and problems[0].startswith("dkim_trusted_hosts:"), bad


@pytest.mark.parametrize("name", ["socket", "SOCKET", "internalhosts", "InternalHosts", "mta", "keyfile"])
def test_managed_opendkim_names_in_any_case(name):
    managed = ["Socket", "InternalHosts", "MTA", "KeyFile"]
    assert opendkim_conf_problems({name: "x"}, managed)


def test_opendkim_extra_that_passes():
    assert opendkim_conf_problems({"LogWhy": True, "Canonicalization": "relaxed/simple"}, ["Socket"]) == []


@pytest.mark.parametrize(
    ("user", "password", "named"),
    [
        ("moo:dle", "secret", "postfix_relay_username"),
        ("moodle\nx", "secret", "postfix_relay_username"),
        ("moo dle", "secret", "postfix_relay_username"),
        ("moodle", "sec\nret", "postfix_relay_password"),
        ("moodle", " secret", "postfix_relay_password"),
        ("moodle", "secret ", "postfix_relay_password"),
    ],
)
def test_sasl_credentials(user, password, named):
    problems = sasl_credential_problems(user, password)
    assert problems and problems[0].startswith(named)
    assert all(password.strip() not in problem for problem in problems)


def test_sasl_credentials_that_fit():
    assert sasl_credential_problems("moodle@school.test", "p@ss: w0rd") == []


def test_planted_paths():
    def stat(path, **kind):
        return {"item": path, "stat": {"exists": True, "pw_name": "opendkim", "nlink": 1, **kind}}

    results = [
        stat("/k", isdir=True, islnk=False),
        stat("/k/a", isdir=True, islnk=False),
        stat("/k/b", isdir=False, islnk=True),
        stat("/k/c", isdir=True, islnk=False, pw_name="www-data"),
        stat("/k/a/s.private", isreg=True, islnk=False),
        stat("/k/a/l.private", isreg=False, islnk=True),
        stat("/k/a/h.private", isreg=True, islnk=False, nlink=2),
        stat("/k/a/d.private", isreg=False, isdir=True, islnk=False),
        {"item": "/k/a/new.private", "stat": {"exists": False}},
    ]
    planted = planted_paths(results, ["/k", "/k/a", "/k/b", "/k/c"], ["root", "opendkim"])
    assert planted == ["/k/b", "/k/c", "/k/a/l.private", "/k/a/h.private", "/k/a/d.private"]
