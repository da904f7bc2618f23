"""direct transport: the host's own Postfix delivers to the recipient's MX, found through
the lab's DNS, and is no open relay."""

from __future__ import annotations

import pytest

from tests import lab


@pytest.fixture
def sut(host):
    return lab.instance(host)


def test_listens_on_loopback_only(sut):
    assert sut.socket("tcp://127.0.0.1:25").is_listening
    assert not sut.socket("tcp://0.0.0.0:25").is_listening


def test_names_come_from_the_inventory(sut):
    assert sut.check_output("postconf -h myhostname smtp_helo_name myorigin").split() == [
        "moodle.school.test",
        "moodle.school.test",
        "school.test",
    ]
    assert sut.check_output("postconf -h relayhost") == ""


def test_message_from_sendmail_reaches_the_mx(sut):
    msg = lab.new_message("noreply@school.test", "someone@students.test")
    subject = lab.sendmail(sut, msg)
    received = lab.find_message(subject, "someone@students.test")
    assert received["Return-Path"] == "<noreply@school.test>"
    # the MX saw the HELO name the PTR record will carry
    assert "from moodle.school.test" in received["Received"]


def test_message_over_smtp_reaches_the_mx(sut):
    msg = lab.new_message("noreply@school.test", "someone@students.test")
    cmd = sut.run(
        "swaks --silent 2 --server 127.0.0.1:25 --from noreply@school.test --to someone@students.test "
        "--header %s --body 'over SMTP'",
        f"Subject: {msg['Subject']}",
    )
    assert cmd.rc == 0, cmd.stdout + cmd.stderr
    lab.find_message(msg["Subject"], "someone@students.test")
