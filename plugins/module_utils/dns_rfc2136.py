# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""RFC 2136 dynamic updates with TSIG (BIND, Knot, PowerDNS), through dnspython.

Reads go to the same server as the updates, so the module sees exactly what it is about to
change (a recursive resolver could answer from a stale cache). Every change is a per-value
`add` or `delete` of one rdata: never a `replace`, which would swap the whole RRset and with
it every other TXT value at the name (site verifications, other selectors).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import socket
from collections.abc import Mapping
from typing import Any

from ansible_collections.lms.mail.plugins.module_utils.dns_provider import (
    AuthenticationFailed,
    DnsError,
    DnsProvider,
    Record,
    TemporaryDnsError,
    Zone,
    ZoneNotFound,
)
from ansible_collections.lms.mail.plugins.module_utils.requirements import load
from ansible_collections.lms.mail.plugins.module_utils.txt import join_txt, split_txt

# dnspython, bound when a provider is made (_load_dnspython): importing this file costs nothing
dns: Any = None


def _load_dnspython() -> None:
    global dns  # the package, bound once on first use
    dns = load(
        "dnspython",
        "dns.exception",
        "dns.message",
        "dns.name",
        "dns.query",
        "dns.rcode",
        "dns.rdata",
        "dns.rdataclass",
        "dns.rdatatype",
        "dns.rdtypes.ANY.TXT",
        "dns.tsig",
        "dns.update",
    )


# The TSIG algorithms dnspython signs with, written here only: the modules' tsig_key_algorithm
# choices are this list (dns_options.py); the doc fragment and the dns role's argument specs are
# checked against it (tests/unit/plugins/module_utils/test_dns_registry.py).
DEFAULT_TSIG_ALGORITHM = "hmac-sha256"
TSIG_ALGORITHMS = (
    "hmac-md5",
    "hmac-sha1",
    "hmac-sha224",
    "hmac-sha256",
    "hmac-sha384",
    "hmac-sha512",
)


def _tsig_errors() -> tuple[type[BaseException], ...]:
    # the server rejected our signature (unknown key, wrong secret, clock skew) or answered
    # with a signature we cannot verify
    return (
        dns.tsig.PeerError,
        dns.tsig.BadSignature,
        dns.tsig.BadTime,
        dns.message.UnknownTSIGKey,
    )


class Rfc2136Provider(DnsProvider):
    @classmethod
    def from_options(cls, options: Mapping[str, Any], token: str | None) -> Rfc2136Provider:
        return cls(
            server=options.get("server") or "",
            port=options.get("port") or 53,
            tsig_key_name=options.get("tsig_key_name"),
            tsig_key_secret=options.get("tsig_key_secret"),
            tsig_key_algorithm=options.get("tsig_key_algorithm") or DEFAULT_TSIG_ALGORITHM,
            timeout=options.get("timeout") or 10.0,
        )

    def __init__(
        self,
        server: str,
        port: int = 53,
        tsig_key_name: str | None = None,
        tsig_key_secret: str | None = None,
        tsig_key_algorithm: str = DEFAULT_TSIG_ALGORITHM,
        timeout: float = 10.0,
    ):
        _load_dnspython()
        if not server:
            raise DnsError("the rfc2136 provider needs 'server': the primary DNS server that accepts updates")
        self.server_name = server
        self.port = int(port)
        self.timeout = float(timeout)
        self.server = self._address(server)
        self.key_name = tsig_key_name or ""
        self.keyring = None
        if tsig_key_name or tsig_key_secret:
            if not (tsig_key_name and tsig_key_secret):
                raise DnsError("TSIG needs both tsig_key_name and tsig_key_secret")
            algorithm = (tsig_key_algorithm or DEFAULT_TSIG_ALGORITHM).lower()
            if algorithm not in TSIG_ALGORITHMS:
                raise DnsError(f"tsig_key_algorithm {algorithm!r} is not one of {', '.join(TSIG_ALGORITHMS)}")
            try:
                base64.b64decode(tsig_key_secret, validate=True)
            except (binascii.Error, ValueError):
                raise DnsError(
                    "tsig_key_secret is not valid base64 (copy the secret from the key file)"
                ) from None
            self.keyring = dns.tsig.Key(tsig_key_name, tsig_key_secret, algorithm)

    def _address(self, server: str) -> str:
        try:
            return str(ipaddress.ip_address(server))
        except ValueError:
            pass
        try:
            infos = socket.getaddrinfo(server, self.port, proto=socket.IPPROTO_UDP)
        except socket.gaierror as exc:
            raise DnsError(f"cannot resolve the DNS server name {server!r}: {exc}") from None
        return str(infos[0][4][0])

    @property
    def where(self) -> str:
        return f"{self.server_name} port {self.port}"

    # -- transport ------------------------------------------------------------------------------

    def _send(self, message, tcp: bool = False):
        try:
            if tcp:
                response = dns.query.tcp(message, self.server, timeout=self.timeout, port=self.port)
            else:
                response = dns.query.udp_with_fallback(
                    message, self.server, timeout=self.timeout, port=self.port
                )[0]
        except dns.exception.Timeout:
            raise DnsError(
                f"no answer from the DNS server {self.where} within {self.timeout:g} s: "
                "is the server running and is the port reachable from the controller?"
            ) from None
        except _tsig_errors() as exc:
            raise AuthenticationFailed(self._tsig_message(type(exc).__name__)) from None
        except OSError as exc:
            raise DnsError(f"cannot talk to the DNS server {self.where}: {exc.strerror or exc}") from None
        except dns.exception.DNSException as exc:
            raise DnsError(f"bad answer from the DNS server {self.where}: {exc}") from None
        if response.rcode() == dns.rcode.NOTAUTH and self._tsig_failed(response):
            raise AuthenticationFailed(self._tsig_message(dns.rcode.to_text(response.tsig_error or 0)))
        return response

    @staticmethod
    def _tsig_failed(response) -> bool:
        return bool(getattr(response, "tsig_error", 0))

    def _tsig_message(self, detail: str) -> str:
        if self.keyring is None:
            return f"the DNS server {self.where} requires TSIG: set tsig_key_name and tsig_key_secret"
        return (
            f"the DNS server {self.where} rejected the TSIG key {self.key_name!r} ({detail}): "
            "check tsig_key_name, tsig_key_secret and tsig_key_algorithm against the server's key "
            "and that the controller's clock is right"
        )

    def _query(self, name: str, rtype: str):
        query = dns.message.make_query(name + ".", rtype)
        if self.keyring is not None:
            query.use_tsig(self.keyring)
        return self._send(query)

    # -- DnsProvider ------------------------------------------------------------------------------

    def find_zone(self, fqdn: str) -> Zone:
        fqdn = fqdn.rstrip(".").lower()
        response = self._query(fqdn, "SOA")
        rcode = response.rcode()
        if rcode in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
            # the SOA comes back in the answer (fqdn is the apex) or in the authority section
            # (fqdn is inside the zone); either way its owner is the zone apex
            for section in (response.answer, response.authority):
                for rrset in section:
                    if rrset.rdtype == dns.rdatatype.SOA:
                        return Zone(name=rrset.name.to_text(omit_final_dot=True).lower(), id="")
        if rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN, dns.rcode.REFUSED, dns.rcode.NOTAUTH):
            # SERVFAIL (a zone that failed to load) and the like: the server cannot say today
            raise TemporaryDnsError(
                f"the DNS server {self.where} answered {dns.rcode.to_text(rcode)} for {fqdn} SOA: "
                "a temporary error, nothing is changed; check the server's log and run again"
            )
        # a primary refuses (or is not authoritative for) names outside the zones it serves
        raise ZoneNotFound(
            f"the DNS server {self.where} serves no zone that holds {fqdn} "
            f"(answer: {dns.rcode.to_text(rcode)}); check the domain and the server"
        )

    def list_records(self, zone: Zone, name: str, rtype: str) -> list[Record]:
        name = name.rstrip(".").lower()
        self._check_in_zone(zone, name)
        response = self._query(name, rtype)
        rcode = response.rcode()
        if rcode == dns.rcode.NXDOMAIN:
            return []
        if rcode != dns.rcode.NOERROR:
            raise TemporaryDnsError(
                f"the DNS server {self.where} answered {dns.rcode.to_text(rcode)} for {name} {rtype}: "
                "nothing is known about the records there, so nothing is changed"
            )
        records = []
        wanted = dns.rdatatype.from_text(rtype)
        for rrset in response.answer:
            if rrset.rdtype != wanted or rrset.name.to_text(omit_final_dot=True).lower() != name:
                continue
            for rdata in rrset:
                records.append(Record(name=name, type=rtype.upper(), value=_value(rdata), ttl=rrset.ttl))
        return records

    def create_record(self, zone: Zone, record: Record) -> Record:
        self._check_in_zone(zone, record.name)
        update = self._update(zone)
        update.add(record.name + ".", record.ttl, _rdata(record))
        self._apply(update, zone, f"add {record.type} at {record.name}")
        return record

    def update_record(self, zone: Zone, old: Record, new: Record) -> Record:
        """Delete the old value and add the new one in one UPDATE message: the server applies
        it atomically, so a reader never sees the name without the record."""
        self._check_in_zone(zone, new.name)
        stored = self._stored_rdatas(zone, old)
        if not stored:
            raise DnsError(
                f"the {old.type} record {old.value!r} at {old.name} changed on {self.where} "
                "while the task ran; run it again"
            )
        update = self._update(zone)
        for rdata in stored:
            update.delete(old.name + ".", rdata)
        # all records of an RRset share one TTL: a TTL given here applies to the whole RRset
        update.add(new.name + ".", new.ttl, _rdata(new))
        self._apply(update, zone, f"update {new.type} at {new.name}")
        return new

    def delete_record(self, zone: Zone, record: Record) -> None:
        self._check_in_zone(zone, record.name)
        stored = self._stored_rdatas(zone, record)
        if not stored:
            return
        update = self._update(zone)
        for rdata in stored:
            update.delete(record.name + ".", rdata)
        self._apply(update, zone, f"delete {record.type} at {record.name}")

    # -- helpers -------------------------------------------------------------------------------

    def _stored_rdatas(self, zone: Zone, record: Record) -> list:
        """The exact rdata on the server for a value: a TXT split differently from ours would not
        match a delete built from our own split, and the server would keep it."""
        response = self._query(record.name, record.type)
        wanted = dns.rdatatype.from_text(record.type)
        found = []
        for rrset in response.answer:
            if rrset.rdtype != wanted or rrset.name.to_text(omit_final_dot=True).lower() != record.name:
                continue
            found.extend(rdata for rdata in rrset if _value(rdata) == record.value)
        return found

    def _update(self, zone: Zone):
        update = dns.update.UpdateMessage(zone.name + ".")
        if self.keyring is not None:
            update.use_tsig(self.keyring)
        return update

    def _apply(self, update, zone: Zone, what: str) -> None:
        # TCP: a DKIM TXT with a 4096-bit key plus TSIG does not reliably fit a UDP datagram
        response = self._send(update, tcp=True)
        rcode = response.rcode()
        if rcode == dns.rcode.NOERROR:
            return
        if rcode == dns.rcode.REFUSED:
            who = f"the key {self.key_name!r}" if self.keyring is not None else "unsigned updates"
            raise DnsError(
                f"the DNS server {self.where} refused to {what} in zone {zone.name}: its "
                f"update-policy (or allow-update) must grant {who} on that zone"
            )
        if rcode in (dns.rcode.NOTZONE, dns.rcode.NOTAUTH):
            raise ZoneNotFound(
                f"the DNS server {self.where} is not the primary for zone {zone.name} ({what})"
            )
        raise DnsError(f"the DNS server {self.where} answered {dns.rcode.to_text(rcode)} to {what}")

    @staticmethod
    def _check_in_zone(zone: Zone, name: str) -> None:
        if name != zone.name and not name.endswith("." + zone.name):
            raise ZoneNotFound(f"{name} is not inside the zone {zone.name}")


def _value(rdata) -> str:
    if rdata.rdtype in (dns.rdatatype.TXT, dns.rdatatype.SPF):
        return join_txt(rdata.strings)
    return rdata.to_text().rstrip(".")


def _rdata(record: Record):
    if record.type.upper() == "TXT":
        return dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, dns.rdatatype.TXT, split_txt(record.value))
    # names in the value are absolute: the interface gives them without the trailing dot
    return dns.rdata.from_text(
        dns.rdataclass.IN, record.type.upper(), record.value, origin=dns.name.root, relativize=False
    )
