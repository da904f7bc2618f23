"""Bad input fails before anything changes, with a message that names the variable and the fix;
the no-reply warnings say why. Checked on one platform: validation does not depend on the release."""

from __future__ import annotations

import json

import moodle_site
import pytest
from moodle_site import CONFIG_PHP, SETTINGS_FILE

from tests import lab

SECRET = "secret-in-clear-51e0"  # noqa: S105 (a lab-only value the output must never show)
INBOUND = {
    "moodle_forum_mode": "reply_by_email",
    "moodle_messageinbound_domain": "school.test",
    "moodle_messageinbound_host": "imap.school.test",
    "moodle_messageinbound_hostuser": "forumreplies",
    "moodle_messageinbound_hostpass": SECRET,
}

CASES = {
    "teacher_address with reply_by_email": (
        {
            **INBOUND,
            "moodle_messageinbound_mailbox": "forumreplies",
            "moodle_allowedemaildomains": ["teachers.test"],
        },
        "exclude each other: replies must\ncome back to the one address Moodle reads",
    ),
    "mailbox over 15 characters": (
        {**INBOUND, "moodle_messageinbound_mailbox": "forum-replies-inbox"},
        "19 characters: Moodle allows at most 15",
    ),
    "smtpsecure not in Moodle's list": ({"moodle_smtpsecure": "starttls"}, "moodle_smtpsecure"),
    "invalid no-reply address": (
        {"moodle_noreplyaddress": "noreply@school"},
        "moodle_noreplyaddress (noreply@school)",
    ),
    "invalid teacher domain": (
        {"moodle_forum_mode": "teacher_address", "moodle_allowedemaildomains": ["teachers"]},
        "moodle_allowedemaildomains",
    ),
    "password in clear to a remote host": (
        {
            "moodle_smtphosts": "smtp.mailservice.test:25",
            "moodle_smtpuser": "moodle",
            "moodle_smtppass": SECRET,
        },
        "never crosses the network in clear",
    ),
    "credentials towards the local Postfix": (
        {"moodle_smtpuser": "moodle", "moodle_smtppass": SECRET, "moodle_smtpsecure": "tls"},
        "the local Postfix, which accepts Moodle's mail\nwithout a login and offers none",
    ),
    "a command in moodle_php": (
        {"moodle_php": "/usr/bin/php$(touch /tmp/pwned)"},
        "moodle_php (/usr/bin/php$(touch /tmp/pwned)) must be the absolute path",
    ),
    "PHP code in moodle_settings_file": (
        {"moodle_settings_file": "/var/www/moodle/x');system('id');//.php"},
        "goes into config.php's PHP code",
    ),
    "missing config.php": (
        {"moodle_dir": "/srv/no-moodle-here"},
        "/srv/no-moodle-here/config.php does not exist",
    ),
}


@pytest.fixture
def sut(host):
    return lab.validation_instance(host)


STATE = f"sha256sum {CONFIG_PHP} {SETTINGS_FILE}; ls -l --time-style=+%s /var/www/moodle"


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("case", CASES)
def test_bad_input_fails_before_any_change(sut, host, case):
    extra_vars, expected = CASES[case]
    lab.refused(
        moodle_site.SCENARIO,
        sut,
        host.backend.host,
        json.dumps(extra_vars),
        expected=expected,
        state=STATE,
        secret=SECRET,
    )


def test_no_reply_warnings_say_why(sut, host):
    # a personal address of a public service, and no config.php: the warnings come first
    bad = {"moodle_noreplyaddress": "ivan.petrov@gmail.com", "moodle_dir": "/srv/no-moodle-here"}
    run = lab.converge(moodle_site.SCENARIO, host.backend.host, json.dumps(bad), check=False)
    output = flat(run.stdout)
    assert "does not look like a dedicated address: replies, auto-replies and bounces" in output
    assert "belongs to a public mail service, and postfix_transport is direct" in output
    assert "SPF and DMARC do not allow this server" in output
