"""lms.mail.mailbox_message_info against a real Dovecot (tests/mailbox/dovecot.py): finding the
message and the receiver's trusted verdicts, waiting for it, and every failure a user meets,
each naming the option to change and never the password."""

from __future__ import annotations

import imaplib
import ssl
import threading
import time

import pytest
from ansible_collections.lms.mail.plugins.module_utils.imap import imap_utf7, imap_utf7_decode

from tests.dns.bind import free_port
from tests.dns.modules import run_module, run_playbook
from tests.mailbox.dovecot import DovecotServer, make_message
from tests.mailbox.fields import GMAIL, OPENDKIM, OPENDMARC, POLICYD_SPF

FORGED = (
    "mx.students.test.attacker.example; spf=pass smtp.mailfrom=school.test; dkim=pass header.d=school.test"
)
# as the lab's MX stacks them: each milter and the policy service adds its field on top
RECEIVER_FIELDS = [OPENDMARC, OPENDKIM, POLICYD_SPF, FORGED]


def info(server: DovecotServer, check_mode: bool = False, **overrides) -> dict:
    return run_module("mailbox_message_info", server.module_args(**overrides), check_mode=check_mode)


def imap_flags(server: DovecotServer) -> dict[str, str]:
    """Message-ID -> FLAGS of every INBOX message, read in a session of the test's own (EXAMINE)."""
    context = ssl.create_default_context(cafile=str(server.ca_file))
    with imaplib.IMAP4_SSL(server.host, server.imaps_port, ssl_context=context) as client:
        client.login(server.user, server.password)
        client.select("INBOX", readonly=True)
        _, data = client.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    flags = {}
    for item in data:
        if isinstance(item, tuple):
            message_id = item[1].decode().split(":", 1)[1].strip()
            flags[message_id] = item[0].decode().split("FLAGS (", 1)[1].split(")", 1)[0]
    return flags


# -- found ----------------------------------------------------------------------------------------


def test_found_with_the_trusted_verdicts_only(dovecot_server, marker):
    sent = make_message(f"Forum post {marker}", RECEIVER_FIELDS)
    dovecot_server.deliver(sent)
    result = info(dovecot_server, subject_contains=marker)
    assert not result.get("failed"), result
    assert result["changed"] is False
    message = result["message"]
    assert message["subject"] == f"Forum post {marker}"
    assert message["from"] == "Moodle <noreply@school.test>"
    assert message["to"] == "student@students.test"
    assert message["message_id"] == sent["Message-ID"]
    assert message["return_path"] == "<noreply@school.test>"
    assert message["date"] == sent["Date"]
    # Received is folded in the file; unfolded here
    assert message["received"] == [
        "from moodle.school.test (moodle.school.test [10.89.231.40]) by mx.students.test (Postfix) "
        "with ESMTPS id 4ABC123 for <student@students.test>; Mon, 30 Nov 2026 10:00:00 +0000 (UTC)"
    ]
    assert message["headers"][0] == ["Return-Path", "<noreply@school.test>"]
    assert [name for name, _ in message["headers"]].count("Authentication-Results") == 4

    # the forged field says spf=pass and dkim=pass too: none of it is counted
    assert [(r["method"], r["result"]) for r in result["authentication_results"]] == [
        ("dmarc", "pass"),
        ("dkim", "pass"),
        ("spf", "pass"),
    ]
    assert result["ignored_authserv_ids"] == ["mx.students.test.attacker.example"]
    auth = result["auth"]
    assert auth["spf"] == {
        "authserv_id": "mx.students.test",
        "method": "spf",
        "result": "pass",
        "reason": None,
        "comment": "sender SPF authorized",
        "properties": {"smtp.mailfrom": "school.test"},
    }
    assert [d["properties"]["header.d"] for d in auth["dkim"]] == ["school.test"]
    assert auth["dkim"][0]["comment"] == "2048-bit key; unprotected"
    assert auth["dmarc"]["properties"] == {"header.from": "school.test"}
    assert 0 <= result["waited"] < 5
    assert result["warnings"] == []


def test_a_forged_field_alone_gives_no_verdict(dovecot_server, marker):
    dovecot_server.deliver(make_message(f"Forged {marker}", [FORGED, GMAIL]))
    result = info(dovecot_server, subject_contains=marker)
    assert result["authentication_results"] == []
    assert result["auth"] == {"spf": None, "dkim": [], "dmarc": None}
    assert result["ignored_authserv_ids"] == ["mx.students.test.attacker.example", "mx.google.com"]


def test_gmail_as_the_receiver(dovecot_server, marker):
    dovecot_server.deliver(make_message(f"At Gmail {marker}", [GMAIL, FORGED]))
    result = info(dovecot_server, subject_contains=marker, authserv_ids=["mx.google.com"])
    assert [r["method"] for r in result["authentication_results"]] == ["dkim", "spf", "dmarc"]
    assert result["auth"]["dmarc"]["comment"] == "p=NONE sp=NONE dis=NONE"


def test_an_unreadable_trusted_result_is_a_warning(dovecot_server, marker):
    fields = ["mx.students.test; spf=pass smtp.mailfrom school.test; dkim=pass header.d=school.test"]
    dovecot_server.deliver(make_message(f"Odd {marker}", fields))
    result = info(dovecot_server, subject_contains=marker)
    assert [r["method"] for r in result["authentication_results"]] == ["dkim"]
    assert result["auth"]["spf"] is None
    assert any("spf=pass smtp.mailfrom school.test" in w and "skipped" in w for w in result["warnings"])


def test_the_newest_match_is_reported(dovecot_server, marker):
    dovecot_server.deliver(make_message(f"First {marker}", Message_ID="<first@school.test>"))
    dovecot_server.deliver(make_message(f"Second {marker}", Message_ID="<second@school.test>"))
    result = info(dovecot_server, subject_contains=marker.upper())  # as IMAP: case does not matter
    assert result["message"]["message_id"] == "<second@school.test>"


def test_an_encoded_subject_is_decoded_and_found_by_its_non_ascii_text(dovecot_server, marker):
    subject = f"Überprüfung der Zustellung {marker}"
    raw = dovecot_server.deliver(make_message(subject)).read_bytes()
    assert b"Subject: =?utf-8?" in raw  # the file holds an RFC 2047 encoded-word
    result = info(dovecot_server, subject_contains=f"Überprüfung der Zustellung {marker}")
    assert result["message"]["subject"] == subject


def test_another_folder_with_a_non_ascii_name(dovecot_server, marker):
    name = "Spam-Überprüft"
    dovecot_server.make_folder(imap_utf7(name))
    dovecot_server.deliver(make_message(f"Filed {marker}", [OPENDMARC]), folder=imap_utf7(name))
    result = info(dovecot_server, subject_contains=marker, mailbox=name)
    assert result["auth"]["dmarc"]["result"] == "pass"
    missing = info(dovecot_server, subject_contains=marker, timeout=0)
    assert missing["error"] == "MessageNotFound"  # not in INBOX
    # a folder that is not there lists the others by their names, not their IMAP encoding
    wrong = info(dovecot_server, subject_contains=marker, mailbox="Spam")
    assert wrong["error"] == "MailboxNotFound" and name in wrong["msg"]


def test_imap_utf7_matches_rfc_3501():
    assert imap_utf7("~peter/mail/台北/日本語") == "~peter/mail/&U,BTFw-/&ZeVnLIqe-"
    assert imap_utf7("A&B") == "A&-B"
    for name in ("~peter/mail/台北/日本語", "A&B", "Spam-Überprüft", "Входящие 📬"):
        assert imap_utf7_decode(imap_utf7(name)) == name
    assert imap_utf7_decode("&not base64-") == "&not base64-"


# -- waiting --------------------------------------------------------------------------------------


def test_a_message_that_arrives_later_is_waited_for(dovecot_server, marker):
    timer = threading.Timer(3, dovecot_server.deliver, [make_message(f"Late {marker}", [OPENDKIM])])
    timer.start()
    try:
        result = info(dovecot_server, subject_contains=marker, timeout=20, poll_interval=0.5)
    finally:
        timer.cancel()
        timer.join()
    assert not result.get("failed"), result
    assert 2.5 <= result["waited"] < 10
    assert result["auth"]["dkim"][0]["result"] == "pass"


def test_not_arrived_within_the_timeout(dovecot_server, marker):
    dovecot_server.deliver(make_message("Something else entirely"))
    started = time.monotonic()
    result = info(dovecot_server, subject_contains=marker, timeout=1.5, poll_interval=0.5)
    assert 1.5 <= time.monotonic() - started < 8
    assert result["failed"] is True and result["error"] == "MessageNotFound"
    message = result["msg"]
    for part in (marker, "subject_contains", "'INBOX'", dovecot_server.user, dovecot_server.host, "1.5 s"):
        assert part in message, message
    assert "timeout" in message and "mailbox" in message


# -- nothing changes ------------------------------------------------------------------------------


def test_check_mode_returns_the_same_and_the_message_stays_unseen(dovecot_server, marker):
    sent = make_message(f"Unseen {marker}", RECEIVER_FIELDS)
    path = dovecot_server.deliver(sent)
    assert path.parent.name == "new" and ":2," not in path.name
    normal = info(dovecot_server, subject_contains=marker)
    checked = info(dovecot_server, check_mode=True, subject_contains=marker)
    for key in ("message", "authentication_results", "auth", "ignored_authserv_ids", "changed"):
        assert checked[key] == normal[key], key
    # the file is where it was delivered, as it was: EXAMINE does not even move it to cur/,
    # where a Maildir keeps the flags in the file's name
    assert path.exists() and path.read_bytes() == sent.as_bytes()
    assert [f.name for f in dovecot_server.message_files() if f.name.startswith(path.name)] == [path.name]
    assert "\\Seen" not in imap_flags(dovecot_server)[sent["Message-ID"]]


# -- TLS modes ------------------------------------------------------------------------------------


def test_starttls_on_the_plain_port(dovecot_server, marker):
    dovecot_server.deliver(make_message(f"Starttls {marker}", [OPENDMARC]))
    result = info(
        dovecot_server, subject_contains=marker, imap_tls="starttls", imap_port=dovecot_server.imap_port
    )
    assert result["auth"]["dmarc"]["result"] == "pass", result


def test_no_tls_on_the_plain_port(dovecot_server, marker):
    dovecot_server.deliver(make_message(f"Plain {marker}", [OPENDMARC]))
    result = info(
        dovecot_server,
        subject_contains=marker,
        imap_tls="none",
        imap_port=dovecot_server.imap_port,
        imap_ca_file=None,
    )
    assert result["auth"]["dmarc"]["result"] == "pass", result


def test_a_private_ca_without_imap_ca_file_is_refused(dovecot_server, marker):
    result = info(dovecot_server, subject_contains=marker, imap_ca_file=None)
    assert result["failed"] is True and result["error"] == "CertificateNotTrusted"
    assert "imap_ca_file" in result["msg"] and "validate_certs" in result["msg"]
    assert f"{dovecot_server.host}:{dovecot_server.imaps_port}" in result["msg"]
    assert "unable to get local issuer certificate" in result["msg"]


def test_the_same_server_is_trusted_with_its_ca_file_or_without_validation(dovecot_server, marker):
    dovecot_server.deliver(make_message(f"Trusted {marker}", [OPENDKIM]))
    assert info(dovecot_server, subject_contains=marker)["auth"]["dkim"]
    unchecked = info(dovecot_server, subject_contains=marker, imap_ca_file=None, validate_certs=False)
    assert unchecked["auth"]["dkim"], unchecked


def test_a_missing_ca_file_is_named(dovecot_server, marker, tmp_path):
    result = info(dovecot_server, subject_contains=marker, imap_ca_file=str(tmp_path / "nope.pem"))
    assert result["error"] == "CertificateNotTrusted" and "imap_ca_file" in result["msg"]
    assert "nope.pem does not exist" in result["msg"]


def test_a_ca_file_that_is_no_certificate_is_named(dovecot_server, marker, tmp_path):
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate\n")
    result = info(dovecot_server, subject_contains=marker, imap_ca_file=str(bad))
    assert result["error"] == "CertificateNotTrusted" and "imap_ca_file" in result["msg"]


def test_imaps_against_the_plain_port_names_imap_tls(dovecot_server, marker):
    result = info(dovecot_server, subject_contains=marker, imap_port=dovecot_server.imap_port)
    assert result["error"] == "TlsFailed"
    assert "imap_tls" in result["msg"] and "imap_port" in result["msg"]


# -- connection and login -------------------------------------------------------------------------


def test_connection_refused_names_host_and_port(dovecot_server, marker):
    port = free_port()  # nothing listens there
    result = info(dovecot_server, subject_contains=marker, imap_port=port)
    assert result["error"] == "ConnectionFailed"
    assert (
        f"127.0.0.1:{port}" in result["msg"] and "imap_host" in result["msg"] and "imap_port" in result["msg"]
    )
    assert "refused" in result["msg"].lower()


def test_a_server_that_never_answers_is_a_timeout(dovecot_server, marker, silent_port):
    started = time.monotonic()
    result = info(dovecot_server, subject_contains=marker, imap_port=silent_port, timeout=1)
    # each operation waits at least 5 s (IO_TIMEOUT_MIN), whatever the timeout option says
    assert 4.5 <= time.monotonic() - started < 15
    assert result["error"] == "ConnectionFailed"
    assert "did not answer within 5 s" in result["msg"] and "imap_port" in result["msg"]


def test_a_wrong_password_names_user_and_password_option_but_not_the_password(own_dovecot, marker):
    wrong = "Wrong-" + own_dovecot.password[::-1]
    result = info(own_dovecot, subject_contains=marker, imap_password=wrong)
    assert result["failed"] is True and result["error"] == "LoginFailed"
    message = result["msg"]
    assert own_dovecot.user in message and "imap_user" in message and "imap_password" in message
    assert "AUTHENTICATIONFAILED" in message
    # not there, and not masked by Ansible either: the module never put it in
    assert wrong not in str(result) and own_dovecot.password not in str(result) and "********" not in message


def test_a_missing_mailbox_is_named_with_the_existing_ones(dovecot_server, marker):
    result = info(dovecot_server, subject_contains=marker, mailbox="Archive")
    assert result["error"] == "MailboxNotFound"
    assert "'Archive'" in result["msg"] and "Check mailbox" in result["msg"]
    assert "Mailbox doesn't exist: Archive" in result["msg"]  # what Dovecot said
    assert "INBOX" in result["msg"].split("The user's mailboxes: ")[1].rstrip(".").split(", ")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"subject_contains": ""}, "subject_contains must not be empty"),
        ({"authserv_ids": [" "]}, "authserv_ids must name"),
        ({"poll_interval": 0}, "poll_interval"),
    ],
)
def test_bad_options(dovecot_server, overrides, message):
    result = info(dovecot_server, **{"subject_contains": "x", **overrides})
    assert result["failed"] is True and message in result["msg"]


# -- through ansible-playbook ---------------------------------------------------------------------


def test_through_ansible_playbook_the_password_is_never_shown(own_dovecot, marker, tmp_path):
    own_dovecot.deliver(make_message(f"Playbook {marker}", RECEIVER_FIELDS))
    args = own_dovecot.module_args(subject_contains=marker)
    tasks = [
        {"name": "found", "lms.mail.mailbox_message_info": args, "register": "found"},
        {
            "name": "verdicts",
            "ansible.builtin.assert": {
                "that": [
                    "found.auth.spf.result == 'pass'",
                    "found.auth.dmarc.result == 'pass'",
                    "found.auth.dkim | map(attribute='result') | list == ['pass']",
                    "found is not changed",
                ]
            },
        },
        {
            "name": "wrong password",
            "lms.mail.mailbox_message_info": {**args, "imap_password": "x" + own_dovecot.password},
            "ignore_errors": True,
        },
    ]
    run = run_playbook(tmp_path, tasks, "-v")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "ok=3" in run.stdout and "ignored=1" in run.stdout, run.stdout
    assert "imap_password" in run.stdout  # the failure's message is there...
    assert own_dovecot.password not in run.stdout + run.stderr  # ...the password is not
