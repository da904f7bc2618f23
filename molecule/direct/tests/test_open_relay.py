"""Never an open relay (direct transport): opened to the lab network, the server relays for no
one (nmap's smtp-open-relay from the lab's probe container); the settings that would make it
one are refused before any change; the validator refuses what smtpd would refuse at start.
Checked on one platform: the rules are the role's, whatever the release."""

from __future__ import annotations

import json
import os
import re

import pytest

from tests import lab
from tests.security.probes import nmap_open_relay

SCENARIO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STATE = "sha256sum /etc/postfix/main.cf; ls -l --time-style=+%s /etc/postfix"
OPEN = json.dumps({"postfix_inet_interfaces": ["all"]})


@pytest.fixture
def sut(host):
    return lab.validation_instance(host)


def test_no_open_relay_from_the_network(sut, host):
    address = sut.interface("eth0").addresses[0]
    lab.converge(SCENARIO, host.backend.host, OPEN)
    try:
        report = nmap_open_relay(address)
        assert "25/tcp open" in report, report
        assert "doesn't seem to be an open relay" in report, report
        assert not re.search(r"Server is an open relay", report)
        # What would open it is refused before any change, and the server stays closed.
        for extra in (
            {"postfix_mynetworks": ["0.0.0.0/0"]},
            {"postfix_main_cf_extra": {"mynetworks": "0.0.0.0/0"}},
            {"postfix_main_cf_extra": {"smtpd_relay_restrictions": "permit"}},
            {"postfix_main_cf_extra": {"relay_domains": "static:ALL"}},
        ):
            name = next(iter(extra))
            if name == "postfix_main_cf_extra":
                name += "." + next(iter(extra[name]))
            lab.refused(SCENARIO, sut, host.backend.host, OPEN, json.dumps(extra), expected=name, state=STATE)
        assert "doesn't seem to be an open relay" in nmap_open_relay(address)
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
