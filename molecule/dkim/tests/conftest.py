"""Fixtures of the dkim scenario's verifier."""

from __future__ import annotations

import pytest
import rotation


@pytest.fixture
def ed25519(host) -> bool:
    """Whether this platform signs with an Ed25519 key too (molecule.yml's host_vars)."""
    return bool(host.ansible.get_variables().get("dkim_ed25519", False))


@pytest.fixture
def cleanup_dns():
    """Selectors a test publishes, (domain, selector), removed from the lab's DNS at the end
    whatever happened."""
    names: list[tuple[str, str]] = []
    yield names
    options = rotation.dns_options()
    for domain, selector in names:
        rotation.dkim_record(options, domain=domain, selector=selector, state="absent")
