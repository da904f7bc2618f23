"""Each forum mode converges and a second run changes nothing: teacher_address (Debian 12)
lists the teachers' domains and hands them on as moodle_sender_domains; reply_by_email (Debian
13) sets the inbound settings, keeps the IMAP password out of Ansible's output and enables the
forum's reply handler through Moodle's API, and says clearly when Moodle is not installed.
The stand-in "database" and API are described in lab/files/standin/lib/setup.php."""

from __future__ import annotations

import json
import uuid

import moodle_site
import pytest
from moodle_site import STANDIN_DB

from tests import lab

# The secrets beside the settings file (roles/moodle: never in its diff)
SECRETS_FILE = "/var/www/moodle/config-mail-secrets.php"

STUDENT = "someone@students.test"
IMAP_PASSWORD = "lab-imap-secret-7d1f"  # noqa: S105 (lab-only)
REPLY_BY_EMAIL = json.dumps(
    {
        "moodle_forum_mode": "reply_by_email",
        "moodle_messageinbound_mailbox": "forumreplies",
        "moodle_messageinbound_domain": "school.test",
        "moodle_messageinbound_host": "imap.school.test:993",
        "moodle_messageinbound_hostssl": "ssl",
        "moodle_messageinbound_hostuser": "forumreplies@school.test",
        "moodle_messageinbound_hostpass": IMAP_PASSWORD,
    }
)


@pytest.fixture
def sut(host):
    moodle_site.install_scripts(host.backend.host)
    return lab.instance(host)


def only_on(host, release: str) -> None:
    if not host.backend.host.endswith(release):
        pytest.skip(f"this mode is converged on {release}; the rendering does not depend on the release")


def test_teacher_address(sut, host):
    only_on(host, "bookworm")
    modes = json.dumps(
        {
            "moodle_forum_mode": "teacher_address",
            "moodle_allowedemaildomains": ["teachers.test", "*.school.test"],
        }
    )
    try:
        output = moodle_site.converge_twice(host.backend.host, modes)
        # (comma-separated: the same text in every callback's result format)
        assert "moodle_sender_domains=school.test,teachers.test" in output
        cfg, forced = moodle_site.cfg(sut)
        assert cfg["allowedemaildomains"] == "teachers.test\n*.school.test"
        # inbound mail is left to Moodle outside reply_by_email: not forced off
        assert "allowedemaildomains" in forced and "messageinbound_enabled" not in forced

        marker = uuid.uuid4().hex
        used = moodle_site.send(sut, f"teacher {marker}", "--from=teacher@teachers.test")
        received = lab.find_message(marker, STUDENT)
        # From the teacher (domain allowed), the envelope sender stays the no-reply address
        assert used["from"] == "teacher@teachers.test"
        assert received["From"].addresses[0].addr_spec == "teacher@teachers.test"
        assert received["Return-Path"] == "<noreply@school.test>"
    finally:
        moodle_site.restore(host.backend.host)


def test_reply_by_email(sut, host, monkeypatch):
    only_on(host, "trixie")
    monkeypatch.setenv("ANSIBLE_DIFF_ALWAYS", "1")  # diffs must not show the password either
    assert moodle_site.reply_handler_enabled(sut) == 0
    try:
        output = moodle_site.converge_twice(host.backend.host, REPLY_BY_EMAIL)
        assert IMAP_PASSWORD not in output
        assert moodle_site.reply_handler_enabled(sut) == 1
        cfg, forced = moodle_site.cfg(sut)
        expected = {
            "messageinbound_enabled": 1,
            "messageinbound_mailbox": "forumreplies",
            "messageinbound_domain": "school.test",
            "messageinbound_host": "imap.school.test:993",
            "messageinbound_hostssl": "ssl",
            "messageinbound_hostuser": "forumreplies@school.test",
            "messageinbound_hostpass": IMAP_PASSWORD,
            "allowedemaildomains": "",
        }
        assert {name: cfg[name] for name in expected} == expected
        assert set(expected) <= set(forced)

        marker = uuid.uuid4().hex
        used = moodle_site.send(sut, f"forum post {marker}", "--from=teacher@teachers.test")
        received = lab.find_message(marker, STUDENT)
        reply_to = received["Reply-To"].addresses[0].addr_spec
        assert reply_to == used["reply_to"][0]
        assert reply_to.startswith("forumreplies+") and reply_to.endswith("@school.test")
        assert received["From"].addresses[0].addr_spec == "noreply@school.test"
    finally:
        moodle_site.restore(host.backend.host)
    # leaving reply_by_email disables the handler again and forces no inbound setting
    assert moodle_site.reply_handler_enabled(sut) == 0
    cfg, forced = moodle_site.cfg(sut)
    assert not [name for name in forced if name.startswith("messageinbound_")]
    assert IMAP_PASSWORD not in sut.file(SECRETS_FILE).content_string


def test_reply_by_email_before_moodle_is_installed(sut, host):
    only_on(host, "trixie")
    sut.check_output("mv %s %s.installed", STANDIN_DB, STANDIN_DB)
    try:
        run = moodle_site.converge(host.backend.host, REPLY_BY_EMAIL)
        assert "is not installed yet" in run.stdout and "was NOT enabled" in run.stdout, run.stdout[-3000:]
        assert IMAP_PASSWORD not in run.stdout + run.stderr
        # nothing was written where the database would be
        assert not sut.file(STANDIN_DB).exists
    finally:
        sut.check_output("mv %s.installed %s", STANDIN_DB, STANDIN_DB)
        moodle_site.restore(host.backend.host)
