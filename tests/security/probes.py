"""Probes run from the lab's probe container against a server under test."""

from __future__ import annotations

from tests import lab


def nmap_open_relay(target: str) -> str:
    """nmap's smtp-open-relay script against TARGET:25, from lmsmail-probe: its report ("Server
    doesn't seem to be an open relay" or "Server is an open relay")."""
    return lab.part("probe").check_output(
        "nmap -Pn -n -p 25 --script smtp-open-relay --script-args %s %s",
        "smtp-open-relay.domain=lab.test,smtp-open-relay.from=probe@lab.test,"
        "smtp-open-relay.to=relaytest@students.test",
        target,
    )
