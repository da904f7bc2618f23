"""The dns role tests' data: the Moodle server they describe, the DKIM records the dkim role
would export for it (built by the same code as its dkim_txt filter), and the dns_* settings of
the test BIND."""

from __future__ import annotations

from typing import Any

from ansible_collections.lms.mail.plugins.module_utils.dkim import build_record, public_key_value
from cryptography.hazmat.primitives import serialization

from tests.dns.bind import BindServer

DOMAIN = "school.test"
HOST = "moodle.school.test"
# Not the baseline's mail.school.test / 192.0.2.25, so that SPF and the PTR have work to do.
IPV4 = "192.0.2.26"
IPV6 = "2001:db8::26"
SELECTOR = "s202507"


def public_pem(private) -> str:
    return (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def dkim_records(domain: str, rsa_pem: str, ed25519_pem: str) -> list[dict[str, Any]]:
    """dkim_dns_records as the dkim role exports them with dkim_ed25519: true."""
    records = []
    for selector, algorithm, pem in (
        (SELECTOR, "rsa", rsa_pem),
        (f"{SELECTOR}-ed25519", "ed25519", ed25519_pem),
    ):
        value, _ = public_key_value(pem, algorithm)
        records.append(
            {
                "domain": domain,
                "selector": selector,
                "algorithm": algorithm,
                "signing": True,
                "name": f"{selector}._domainkey.{domain}",
                "type": "TXT",
                "value": build_record(value, algorithm),
            }
        )
    return records


def provider_vars(bind: BindServer) -> dict[str, Any]:
    """The dns_* settings of the test BIND: updates with its TSIG key, reads through it too."""
    return {
        "dns_provider": "rfc2136",
        "dns_server": bind.host,
        "dns_port": bind.port,
        "dns_tsig_key_name": bind.key_name,
        "dns_tsig_key_secret": bind.key_secret,
        "dns_tsig_key_algorithm": bind.key_algorithm,
        "dns_resolver": [bind.host],
        "dns_resolver_port": bind.port,
    }
