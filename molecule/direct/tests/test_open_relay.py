"""Never an open relay (direct transport): opened to the lab network, the server relays for no
one (nmap's smtp-open-relay from the lab's probe container); the settings that would make it
one are refused before any change; the validator refuses what smtpd would refuse at start.
Checked on one platform: the rules are the role's, whatever the release."""

from __future__ import annotations

import json
import os

import pytest

from tests import lab
from tests.security.probes import no_open_relay_even_with_the_overrides

SCENARIO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OPEN = json.dumps({"postfix_inet_interfaces": ["all"]})


@pytest.fixture
def sut(host):
    return lab.validation_instance(host)


def test_no_open_relay_from_the_network(sut, host):
    lab.converge(SCENARIO, host.backend.host, OPEN)
    try:
        print(no_open_relay_even_with_the_overrides(SCENARIO, sut, host.backend.host, OPEN))
    finally:
        lab.converge(SCENARIO, host.backend.host)


def test_validator_refuses_what_smtpd_refuses_at_start(sut):
    """smtpd_relay_restrictions = permit passes `postfix check`; smtpd then exits fatally."""
    candidate = sut.check_output("mktemp")
    try:
        sut.check_output(
            "grep -v '^smtpd_relay_restrictions' /etc/postfix/main.cf > %s && "
            "echo 'smtpd_relay_restrictions = permit' >> %s",
            candidate,
            candidate,
        )
        assert sut.run("postfix check").rc == 0
        run = sut.run("/usr/local/libexec/lms-mail/validate-postfix-main-cf %s", candidate)
        assert run.rc != 0
        assert "smtpd_relay_restrictions = permit" in run.stderr, run.stderr
    finally:
        sut.run("rm -f %s", candidate)
