"""The proof on a real Moodle: lms.mail.verify has Moodle's own email_to_user() send its message
(the role's Moodle path), and the lab's receiver judges what Moodle really sends."""

from __future__ import annotations

import json
import re

import moodle_real

from tests import lab


def test_the_proof_is_sent_by_moodle_and_passes(sut, tmp_path):
    """In whichever forum mode the instance is: each sends from the no-reply user with the
    scenario's extra headers."""
    report = tmp_path / "report.md"
    run = lab.converge(
        moodle_real.SCENARIO,
        moodle_real.HOST,
        json.dumps({"verify_report_path": str(report)}),
        playbook="verify-role.yml",
    )
    text = report.read_text()
    assert "Verdict: signed, aligned and accepted" in text, text + run.stdout[-3000:]
    assert "sent by Moodle's email_to_user()" in text, text
    subject = re.search(r'Message "([^"]+)"', text).group(1)
    message = lab.find_message(subject, "postmaster@students.test")
    # Moodle's own mail: its configured extra headers and its no-reply sender, which only
    # email_to_user() adds (a sendmail probe would carry neither)
    assert message["X-Course-Mail"] == "lms.mail", message.as_string()[:2000]
    assert message["From"].addresses[0].addr_spec == "noreply@school.test"
    assert message["Return-Path"] == "<noreply@school.test>"
