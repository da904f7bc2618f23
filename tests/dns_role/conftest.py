"""Fixtures of the dns role's tests: DKIM keys made once, and a Moodle server of school.test on
the test BIND at its baseline."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from tests.dns.bind import BindServer
from tests.dns_role.records import DOMAIN, HOST, IPV4, IPV6, dkim_records, provider_vars, public_pem


@pytest.fixture(scope="session")
def dkim_keys() -> tuple[str, str]:
    """(RSA 2048, Ed25519) public keys in PEM."""
    return (
        public_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        public_pem(ed25519.Ed25519PrivateKey.generate()),
    )


@pytest.fixture
def server_vars(bind_zones: BindServer, dkim_keys: tuple[str, str]) -> dict[str, Any]:
    """A Moodle server of school.test sending directly, as the customer's file and the other
    roles' facts describe it, with the test BIND at its baseline as its DNS provider."""
    bind_zones.add("school.test", HOST, "A", IPV4)
    bind_zones.add("school.test", HOST, "AAAA", IPV6)
    return {
        "mail_domain": DOMAIN,
        "mail_hostname": HOST,
        "mail_transport": "direct",
        "dns_public_ipv4": IPV4,
        "dkim_dns_records": dkim_records(DOMAIN, *dkim_keys),
        **provider_vars(bind_zones),
    }
