"""The lab DNS as tests/operator changes it: RFC 2136 updates of the test's own names, signed
with the lab's key (the zones school.test and the lab's reverse zone take them)."""

from __future__ import annotations

import dns.name
import dns.query
import dns.rcode
import dns.tsigkeyring
import dns.update

from tests.lab import LAB, tsig_secret

DNS_SERVER = LAB["lab_parts"]["dns"]["ip"]
ZONES = (LAB["lab_customer_domain"], LAB["lab_reverse_zone"])


def update(zone: str, change) -> None:
    """One RFC 2136 update of the lab DNS, signed with the lab's key; it must succeed."""
    message = dns.update.UpdateMessage(
        zone + ".",
        keyring=dns.tsigkeyring.from_text({LAB["lab_tsig_key_name"]: tsig_secret()}),
        keyalgorithm="hmac-sha256",
    )
    change(message)
    answer = dns.query.tcp(message, DNS_SERVER, port=53, timeout=10)
    assert answer.rcode() == dns.rcode.NOERROR, dns.rcode.to_text(answer.rcode())


def zone_of(name: dns.name.Name) -> str:
    (zone,) = [z for z in ZONES if name.is_subdomain(dns.name.from_text(z))]
    return zone


def remove(names: set[dns.name.Name]) -> None:
    for name in names:
        update(zone_of(name), lambda message, name=name: message.delete(name))
