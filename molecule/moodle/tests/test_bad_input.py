"""The no-reply warnings say why, before the refusal of a missing config.php. The bad input
itself (the forum modes, the inbound mailbox, SMTP hosts and credentials, moodle_php, the
settings file's path, the paths, Moodle's own DKIM) is refused by the role's validate entry
point before anything changes: those cases are rows of tests/security/bad_input_cases.yml, all
run in one ansible-playbook run on the lab's Moodle-shaped tree. Checked on one platform:
validation does not depend on the release."""

from __future__ import annotations

import json

import moodle_site
import pytest

from tests import lab


@pytest.fixture
def sut(host):
    return lab.validation_instance(host)


def flat(text: str) -> str:
    return " ".join(text.split())


def test_no_reply_warnings_say_why(sut, host):
    # a personal address of a public service, and no config.php: the warnings come first
    bad = {"moodle_noreplyaddress": "ivan.petrov@gmail.com", "moodle_dir": "/srv/no-moodle-here"}
    run = lab.converge(moodle_site.SCENARIO, host.backend.host, json.dumps(bad), check=False)
    output = flat(run.stdout)
    assert "does not look like a dedicated address: replies, auto-replies and bounces" in output
    assert "belongs to a public mail service, and moodle_mail_transport is direct" in output
    assert "SPF and DMARC do not allow this server" in output
