"""Moodle's side of missing mail: its settings, as cfg.php prints them, judged against this
server's Postfix and the sending domain."""

from __future__ import annotations

import pytest
from ansible_collections.lms.mail.plugins.module_utils import moodle_mail

HEALTHY = {
    "smtphosts": "127.0.0.1:25",
    "smtpuser": "",
    "noreplyaddress": "noreply@school.example",
    "divertallemailsto": "",
    "noemailever": None,
    "wwwroot": "https://moodle.school.example",
}


def kinds(settings, **kwargs):
    defaults = {"signing_domains": ["school.example"], "inet_interfaces": "loopback-only", "reachable": {}}
    return [p["kind"] for p in moodle_mail.moodle_problems(settings, **(defaults | kwargs))]


def test_cfg_php_outcomes():
    # what Moodle 4.4's admin/cli/cfg.php --json prints, and exit 3 for no such setting
    assert moodle_mail.cfg_value(0, '"127.0.0.1:25"\n', "smtphosts") == "127.0.0.1:25"
    assert moodle_mail.cfg_value(0, '"1"\n', "noemailever") == "1"
    assert moodle_mail.cfg_value(3, "No such configuration variable found.\n", "noemailever") is None
    with pytest.raises(ValueError, match="exited with 2"):
        moodle_mail.cfg_value(2, "", "smtphosts")
    with pytest.raises(ValueError, match="printed no JSON"):
        moodle_mail.cfg_value(0, "!!! Error reading from database !!!", "smtphosts")


def test_a_healthy_site_has_no_problem():
    assert kinds(HEALTHY) == []
    assert kinds(HEALTHY | {"smtphosts": ""}) == []


@pytest.mark.parametrize(
    ("change", "kind"),
    [
        ({"noemailever": "1"}, "moodle_noemailever"),
        ({"noemailever": True}, "moodle_noemailever"),
        ({"divertallemailsto": "qa@school.example"}, "moodle_divert"),
        ({"smtphosts": "smtp.gmail.com:587"}, "moodle_bypasses_postfix"),
        ({"smtpuser": "moodle"}, "moodle_smtp_login_to_local"),
        ({"noreplyaddress": "noreply@other.example"}, "moodle_noreply_not_signed"),
        ({"noreplyaddress": "no reply"}, "moodle_noreply_invalid"),
    ],
)
def test_each_misconfiguration_is_named(change, kind):
    assert kind in kinds(HEALTHY | change)


def test_noemailever_off_values():
    for off in (None, "", "0", 0, False):
        assert "moodle_noemailever" not in kinds(HEALTHY | {"noemailever": off})


def test_postfix_must_listen_where_moodle_sends():
    assert kinds(HEALTHY, inet_interfaces=None) == ["local_mta_not_running"]
    assert kinds(HEALTHY, inet_interfaces="192.0.2.10") == ["local_mta_not_running"]
    assert kinds(HEALTHY, inet_interfaces="all") == []
    assert kinds(HEALTHY, reachable={"127.0.0.1:25": False}) == ["local_mta_not_running"]
    problem = moodle_mail.moodle_problems(HEALTHY, inet_interfaces="192.0.2.10")[0]
    assert "inet_interfaces = 192.0.2.10" in problem["detail"]
    assert "moodle_smtphosts" in problem["fix"] and "postfix_inet_interfaces" in problem["fix"]


def test_the_relay_login_must_be_the_sender_unless_postfix_rewrites_it():
    assert kinds(HEALTHY, relay_login="moodle@gmail.example") == ["sender_not_allowed"]
    assert kinds(HEALTHY, relay_login="moodle@gmail.example", relay_rewrite_sender=True) == []
    assert (
        kinds(
            HEALTHY | {"noreplyaddress": "Moodle@Gmail.example"},
            relay_login="moodle@gmail.example",
            signing_domains=[],
        )
        == []
    )


def test_the_noreply_address_defaults_to_the_site_host():
    settings = HEALTHY | {"noreplyaddress": ""}
    assert moodle_mail.noreply_address(settings) == "noreply@moodle.school.example"
    assert kinds(settings) == ["moodle_noreply_not_signed"]
    assert kinds(settings, signing_domains=["moodle.school.example"]) == []


@pytest.mark.parametrize(
    ("value", "hosts"),
    [
        ("", []),
        (None, []),
        ("127.0.0.1", [("127.0.0.1", 25)]),
        ("localhost:2525", [("localhost", 2525)]),
        ("smtp.example.org:465;127.0.0.1:25", [("smtp.example.org", 465), ("127.0.0.1", 25)]),
        ("[::1]:25", [("::1", 25)]),
        ("::1", [("::1", 25)]),
        ("ssl://smtp.example.org:465", [("smtp.example.org", 465)]),
    ],
)
def test_smtphosts(value, hosts):
    assert moodle_mail.smtp_hosts(value) == hosts
