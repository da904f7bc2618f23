"""Probes run from the lab's probe container against a server under test."""

from __future__ import annotations

import json
import re

from tests import lab
from tests.security.cases import CASES

# The battery's rows (bad_input_cases.yml) that would open the server to anyone if they were
# accepted: probed for on a converged server by no_open_relay_even_with_the_overrides.
OPEN_RELAY_ROWS = (
    "postfix-mynetworks-ipv4-any",
    "postfix-extra-mynetworks-any",
    "postfix-extra-relay-restrictions-permit",
    "postfix-extra-relay-domains-static-all",
)
# What a refused run must leave as it was.
POSTFIX_STATE = "sha256sum /etc/postfix/main.cf; ls -l --time-style=+%s /etc/postfix"


def nmap_open_relay(target: str) -> str:
    """nmap's smtp-open-relay script against TARGET:25, from lmsmail-probe: its report ("Server
    doesn't seem to be an open relay" or "Server is an open relay")."""
    return lab.part("probe").check_output(
        "nmap -Pn -n -p 25 --script smtp-open-relay --script-args %s %s",
        "smtp-open-relay.domain=lab.test,smtp-open-relay.from=probe@lab.test,"
        "smtp-open-relay.to=relaytest@students.test",
        target,
    )


def assert_no_open_relay(target: str) -> str:
    """The probe reaches port 25 and finds no relay: its report."""
    report = nmap_open_relay(target)
    assert "25/tcp open" in report, report
    assert "doesn't seem to be an open relay" in report, report
    assert not re.search(r"Server is an open relay", report), report
    return report


def no_open_relay_even_with_the_overrides(scenario_dir: str, sut, host: str, *extra_vars: str) -> str:
    """A converged server (its scenario's converge with `extra_vars` opens Postfix to the lab
    network) is probed; then each battery row in OPEN_RELAY_ROWS is given to that converge and
    must be refused before any change, naming the row's variable; then the probe again. The
    last report."""
    address = sut.interface("eth0").addresses[0]
    assert_no_open_relay(address)
    rows = {case["id"]: case for case in CASES}
    for row in (rows[name] for name in OPEN_RELAY_ROWS):
        # the row's own listening setting is what extra_vars already give
        bad = {name: value for name, value in row["vars"].items() if name != "postfix_inet_interfaces"}
        refusal, expected = json.dumps(bad), row["variable"]
        lab.refused(scenario_dir, sut, host, *extra_vars, refusal, expected=expected, state=POSTFIX_STATE)
    return assert_no_open_relay(address)
