"""Postfix's log read back into deliveries, from real Postfix 3.7.11 lines.

The fixtures were produced in the lab (a Debian 12 container on the lab network, 2026-12-02):
direct delivery to the lab MX (sent; an unknown user at its address literal, bounced 5.1.1; a
domain its MX does not serve, bounced 554 5.7.1; a host whose port 25 refuses, deferred; names
that do not resolve), then through the lab relay smtp.mailservice.test:587 (a wrong password,
deferred 4.7.8 and sent once corrected; a From other than the login, bounced 553 5.7.1; a message
over the relay's SIZE; an untrusted certificate; a relayhost that does not resolve; a closed
port; no TLS), then a submission over the local size limit (NOQUEUE reject and sendmail's
"message file too big") and Postfix stopped while mail was queued.
- postfix-3.7-journal.jsonl: `journalctl -o json --output-fields=...` of SYSLOG_FACILITY=2,
  each entry cut to the fields the reader uses (the timestamps and text are untouched);
- postfix-3.7-mail.log: the same entries as `journalctl -o short`, the line format of rsyslog's
  traditional /var/log/mail.log (Debian 12);
- postfix-3.7-mail-rfc3339.log: the same as `-o short-iso-precise`, RFC 3339 time stamps as
  rsyslog writes them on Debian 13;
- postfix-3.7-long-queue-ids.log: one bounce with enable_long_queue_ids = yes;
- postqueue-j.jsonl: `postqueue -j` with the deferred message left in the queue.
"""

from __future__ import annotations

import datetime
import json
import pathlib

import pytest
from ansible_collections.lms.mail.plugins.module_utils import postfix_log

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
UTC = datetime.UTC
# the lab run's day, for the year of the traditional lines
LAB_NOW = datetime.datetime(2026, 12, 2, 4, 0, tzinfo=UTC)


def lines(name: str) -> list[str]:
    return (FIXTURES / name).read_text().splitlines()


def assemble(records) -> postfix_log.Assembler:
    assembler = postfix_log.Assembler()
    for record in records:
        assembler.add(record)
    return assembler


@pytest.fixture(scope="module")
def journal() -> postfix_log.Assembler:
    return assemble(postfix_log.journal_records(lines("postfix-3.7-journal.jsonl")))


@pytest.fixture(scope="module")
def by_id(journal) -> dict[str, dict]:
    return {d["queue_id"]: d for d in journal.deliveries() if d["queue_id"]}


def test_a_bounce_at_the_receiver_keeps_what_the_server_said(by_id):
    bounce = by_id["6CE911FE052"]
    assert bounce["status"] == "bounced"
    assert bounce["dsn"] == "5.1.1"
    assert bounce["sender"] == "noreply@school.test"
    assert bounce["recipient"] == "nosuchuser@[10.89.231.25]"
    assert bounce["relay"] == "10.89.231.25[10.89.231.25]:25"
    assert bounce["reply"] == (
        "550 5.1.1 <nosuchuser@[10.89.231.25]>: Recipient address rejected: User unknown in local "
        "recipient table"
    )
    assert bounce["reply_from"] == "10.89.231.25[10.89.231.25]"
    assert bounce["in_reply_to"] == "RCPT TO command"
    assert bounce["message_id"] == "20261202025849.6CE911FE052@diag.school.test"
    assert bounce["submitted_by"] == "sendmail (uid 0)"
    assert bounce["notification_queue_id"] == "857421FE00D"
    assert bounce["delay"] == pytest.approx(0.11)
    assert bounce["delays"] == "0.01/0/0.08/0.01"
    assert bounce["time"] == "2026-12-02T02:58:49+00:00"


def test_a_deferral_is_one_entry_with_its_attempts_and_postfix_own_text(by_id):
    deferred = by_id["0A24B1FE25F"]
    assert deferred["status"] == "deferred"
    assert deferred["dsn"] == "4.4.1"
    assert deferred["relay"] == "none"
    assert deferred["reply"] == "connect to probe.lab.test[10.89.231.30]:25: Connection refused"
    assert deferred["reply_from"] is None
    assert deferred["attempts"] == 2
    assert deferred["first_attempt"] < deferred["time"]


def test_the_latest_attempt_wins_a_wrong_password_then_sent(by_id, journal):
    tried = [a for a in journal.attempts if a["queue_id"] == "3780F1FE0C5"]
    assert [a["status"] for a in tried] == ["deferred", "sent"]
    assert tried[0]["dsn"] == "4.7.8"
    assert tried[0]["reply"].startswith("SASL authentication failed; server smtp.mailservice.test")
    assert "535 5.7.8 Error: authentication failed" in tried[0]["reply"]
    assert by_id["3780F1FE0C5"]["status"] == "sent"
    assert by_id["3780F1FE0C5"]["attempts"] == 2


def test_the_relay_refusing_the_sender(by_id):
    refused = by_id["6CBEB1FE002"]
    assert refused["status"] == "bounced"
    assert refused["reply"] == (
        "553 5.7.1 <noreply@school.test>: Sender address rejected: not owned by user moodle@mailservice.test"
    )
    assert refused["reply_from"] == "smtp.mailservice.test[10.89.231.26]"


def test_postfix_own_size_refusal_has_the_message_size(by_id):
    big = by_id["B66641FE2D6"]
    assert big["dsn"] == "5.3.4"
    assert big["size"] == 10920284
    assert (
        big["reply"]
        == "message size 10920284 exceeds size limit 10240000 of server smtp.mailservice.test[10.89.231.26]"
    )


def test_a_submission_refused_by_this_postfix_is_a_rejected_delivery(journal):
    refused = [d for d in journal.deliveries() if d["status"] == "rejected"]
    assert len(refused) == 1
    assert refused[0]["queue_id"] is None
    assert refused[0]["sender"] == "noreply@school.test"
    assert refused[0]["recipient"] == ""
    assert refused[0]["dsn"] == "5.3.4"
    assert refused[0]["reply"] == "552 5.3.4 Message size exceeds fixed limit"
    assert refused[0]["submitted_by"] == "SMTP from localhost[127.0.0.1]"


def test_problems_are_the_lines_about_no_one_delivery(journal):
    texts = [p["text"] for p in journal.problems]
    assert "moodle@mailservice.test(0): message file too big" in texts
    assert "1DE331FE308: queue file size limit exceeded" in texts
    assert "relayhost configuration problem" in texts
    assert any(t.startswith("Mail system is down -- accessing queue directly") for t in texts)
    assert any(t.startswith("certificate verification failed for smtp.mailservice.test") for t in texts)
    # a delivery line's own text is not repeated as a problem
    assert not any(t.startswith("connect to ") for t in texts)


def test_every_status_line_becomes_an_attempt(journal):
    status_lines = [line for line in lines("postfix-3.7-mail.log") if ", status=" in line and " to=<" in line]
    assert len(journal.attempts) == len(status_lines) + 1  # and the NOQUEUE reject


@pytest.mark.parametrize("name", ["postfix-3.7-mail.log", "postfix-3.7-mail-rfc3339.log"])
def test_a_syslog_file_reads_as_the_journal_does(journal, name):
    from_file = assemble(postfix_log.syslog_records(lines(name), now=LAB_NOW, tz=UTC))
    ours = [(d["queue_id"], d["recipient"], d["status"], d["dsn"], d["reply"]) for d in journal.deliveries()]
    theirs = [
        (d["queue_id"], d["recipient"], d["status"], d["dsn"], d["reply"]) for d in from_file.deliveries()
    ]
    assert theirs == ours
    for mine, other in zip(journal.deliveries(), from_file.deliveries(), strict=True):
        # the traditional format has whole seconds only
        assert abs(mine["timestamp"] - other["timestamp"]) < 1


def test_traditional_lines_are_read_in_the_host_zone_and_year():
    line = "Dec 31 23:59:59 moodle postfix/smtp[1]: 4C1A2B3C4D: removed"
    [record] = postfix_log.syslog_records([line], now=datetime.datetime(2027, 1, 1, 0, 5, tzinfo=UTC), tz=UTC)
    assert record.time == datetime.datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()
    plus3 = datetime.timezone(datetime.timedelta(hours=3))
    [record] = postfix_log.syslog_records([line], now=datetime.datetime(2027, 1, 1, tzinfo=plus3), tz=plus3)
    assert record.time == datetime.datetime(2026, 12, 31, 20, 59, 59, tzinfo=UTC).timestamp()


def test_long_queue_ids():
    assembler = assemble(
        postfix_log.syslog_records(lines("postfix-3.7-long-queue-ids.log"), now=LAB_NOW, tz=UTC)
    )
    [first, notification] = assembler.deliveries()
    assert first["queue_id"] == "4jfN7r4HqczHkNv"
    assert first["dsn"] == "5.1.1"
    assert first["submitted_by"] == "sendmail (uid 33)"
    assert first["notification_queue_id"] == "4jfN7r4Wh7zHkNw"
    assert notification["queue_id"] == "4jfN7r4Wh7zHkNw"
    assert notification["sender"] == ""


def test_a_message_that_is_not_utf8_and_lines_that_are_not_json():
    entry = json.loads(lines("postfix-3.7-journal.jsonl")[0])
    entry["MESSAGE"] = list("4C1A2B3C4D: message-id=<caf\xe9@school.test>".encode("latin-1"))
    records = list(
        postfix_log.journal_records(["", "-- No entries --", "[1, 2]", "{not json", json.dumps(entry)])
    )
    assert len(records) == 1
    assert records[0].message == "4C1A2B3C4D: message-id=<caf\ufffd@school.test>"


def test_only_postfix_programs_count():
    assert postfix_log.is_postfix("postfix/smtp")
    assert postfix_log.is_postfix("postfix/submission/smtpd")
    assert postfix_log.is_postfix("postfix-out/qmgr", ["postfix-out"])
    assert not postfix_log.is_postfix("postfixadmin")
    assert not postfix_log.is_postfix("opendkim")


@pytest.fixture
def deliveries(journal):
    return journal.deliveries()


def test_select_by_recipient_sender_status_and_time(deliveries):
    # sent twice: once in the first direct round, once for the report
    chosen = postfix_log.select(deliveries, recipient="NOSUCHUSER@[10.89.231.25]")
    assert [d["queue_id"] for d in chosen] == ["6CE911FE052", "7349F1FE273"]
    assert {d["sender"] for d in postfix_log.select(deliveries, sender="Moodle@MailService.test")} == {
        "moodle@mailservice.test"
    }
    bounced = postfix_log.select(deliveries, statuses=["bounced"])
    assert bounced and {d["status"] for d in bounced} == {"bounced"}
    start = datetime.datetime(2026, 12, 2, 2, 59, 30, tzinfo=UTC).timestamp()
    end = datetime.datetime(2026, 12, 2, 3, 0, 0, tzinfo=UTC).timestamp()
    window = postfix_log.select(deliveries, since=start, until=end)
    assert window and all(start <= d["timestamp"] <= end for d in window)
    # the three deferred then were tried again later: their latest attempt is outside the window
    assert [d["queue_id"] for d in window] == ["B66641FE2D6", "060F51FE26D"]


def test_select_keeps_the_newest(deliveries):
    assert postfix_log.select(deliveries, limit=2) == deliveries[-2:]
    assert postfix_log.select(deliveries, limit=0) == []


@pytest.mark.parametrize(
    ("text", "seconds_back"),
    [("90m", 5400), ("2h", 7200), ("7d", 604800), ("1w", 604800), ("30 s", 30), ("1.5h", 5400)],
)
def test_durations(text, seconds_back):
    assert postfix_log.parse_time(text, 1_000_000.0) == 1_000_000.0 - seconds_back


def test_times():
    assert (
        postfix_log.parse_time("2026-12-02T03:00:00+01:00", 0)
        == datetime.datetime(2026, 12, 2, 2, 0, tzinfo=UTC).timestamp()
    )
    assert (
        postfix_log.parse_time("2026-12-02T03:00:00", 0)
        == datetime.datetime(2026, 12, 2, 3, tzinfo=UTC).timestamp()
    )
    assert postfix_log.parse_time("", 5) is None
    with pytest.raises(ValueError, match="neither a duration"):
        postfix_log.parse_time("yesterday", 0)


def test_the_queue_from_postqueue_j():
    [entry] = postfix_log.queue_entries(lines("postqueue-j.jsonl") + ["", "postqueue: warning: not json"])
    assert entry["queue_id"] == "6F4911FE267"
    assert (
        entry["recipients"][0]["delay_reason"]
        == "connect to probe.lab.test[10.89.231.30]:25: Connection refused"
    )


def test_split_reply():
    assert postfix_log.split_reply(
        "host mx.students.test[10.89.231.25] said: 554 5.7.1 <a@teachers.test>: Relay access denied "
        "(in reply to RCPT TO command)"
    ) == (
        "554 5.7.1 <a@teachers.test>: Relay access denied",
        "mx.students.test[10.89.231.25]",
        "RCPT TO command",
    )
    assert postfix_log.split_reply("Server certificate not verified") == (
        "Server certificate not verified",
        None,
        None,
    )
