"""Fixtures shared by the DNS tests. The BIND server itself is in tests/dns/bind.py (registered
in tests/conftest.py); this file holds test data that is costly to make, made once."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa


def _pem(private) -> str:
    return (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture(scope="session")
def rsa2048_pem() -> str:
    return _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope="session")
def rsa4096_pem() -> str:
    # a 4096-bit key's p= value is ~736 characters: three 255-byte strings in DNS
    return _pem(rsa.generate_private_key(public_exponent=65537, key_size=4096))


@pytest.fixture(scope="session")
def ed25519_pem() -> str:
    return _pem(ed25519.Ed25519PrivateKey.generate())
