# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waiting, bounded, until a zone's authoritative name servers answer with records just published.

A provider's API (Cloudflare, DigitalOcean) or an RFC 2136 primary accepts a change at once; the
name servers receivers ask serve it a moment later (a provider's edge, a secondary's zone
transfer). Judging the records before then would fail a run that did everything right. So, after
publishing, each record is asked of each of its zone's authoritative servers directly (no
recursion, no cache in between) until every server answers with it, or the time is up. The
outcome is reported either way: how long it took, which servers were asked, and for each record
still missing, what each server answered instead.

The rules (what counts as "answers with the record", when to stop) are plain functions over an
`ask` callable, so that tests drive them with a clock of their own; `DnsAsker` is the network
side, on dnspython.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.lms.mail.plugins.module_utils.requirements import require
from ansible_collections.lms.mail.plugins.module_utils.txt import join_txt

dns: Any = None  # dnspython, imported on first use (see dns_lookup._load_dnspython)

TYPES = ("TXT", "PTR", "A", "AAAA", "CNAME", "MX")


def _load_dnspython() -> None:
    global dns  # the package, bound once on first use
    require("dnspython")
    import dns.exception
    import dns.flags
    import dns.message
    import dns.name
    import dns.query
    import dns.rcode
    import dns.rdata
    import dns.rdataclass
    import dns.rdatatype
    import dns.resolver


@dataclass(frozen=True)
class Expected:
    """One record that must be served: name (absolute, lower case, no final dot), type, value."""

    name: str
    type: str
    value: str

    def __str__(self) -> str:
        return f"{self.name} {self.type}"


@dataclass(frozen=True)
class Server:
    name: str
    address: str
    port: int = 53

    def __str__(self) -> str:
        where = self.address if self.port == 53 else f"{self.address} port {self.port}"
        return f"{self.name} ({where})" if self.name and self.name != self.address else where


@dataclass
class Answer:
    """What a server said for a name and type: the values found (TXT joined, others as text),
    or why there are none (NXDOMAIN, REFUSED, a timeout...)."""

    values: list[str] = field(default_factory=list)
    error: str = ""

    def __str__(self) -> str:
        if self.error:
            return self.error
        return ", ".join(repr(v) for v in self.values) if self.values else "no such record"


def expected_records(records: list[dict]) -> list[Expected]:
    """The records to wait for, checked: each a dict with name, type and value; duplicates once."""
    out: list[Expected] = []
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise ValueError(
                f"records[{index}]: a dict with name, type and value, not {type(record).__name__}"
            )
        missing = [
            k for k in ("name", "type", "value") if not isinstance(record.get(k), str) or not record[k]
        ]
        if missing:
            raise ValueError(f"records[{index}]: {', '.join(missing)} missing or not a string")
        rtype = record["type"].upper()
        if rtype not in TYPES:
            raise ValueError(f"records[{index}]: type {record['type']!r} is not one of {', '.join(TYPES)}")
        name = record["name"].strip().rstrip(".").lower()
        if not name or any(c.isspace() for c in name):
            raise ValueError(f"records[{index}]: name {record['name']!r} is not a DNS name")
        item = Expected(name, rtype, record["value"])
        if item not in out:
            out.append(item)
    return out


def _canonical_name(value: str) -> str:
    return value.strip().rstrip(".").lower()


def matches(expected: Expected, answer: Answer) -> bool:
    """Whether the answer holds the expected record. TXT: by the joined value, exactly (how it is
    split into strings does not matter); names (PTR, CNAME): case and final dot aside;
    addresses: as addresses; MX: "preference exchange"."""
    if answer.error:
        return False
    if expected.type == "TXT":
        return expected.value in answer.values
    if expected.type in ("PTR", "CNAME"):
        return _canonical_name(expected.value) in [_canonical_name(v) for v in answer.values]
    if expected.type in ("A", "AAAA"):
        try:
            want = ipaddress.ip_address(expected.value.strip())
            return any(ipaddress.ip_address(v) == want for v in answer.values)
        except ValueError:
            return False
    # MX
    want_mx = expected.value.split()
    if len(want_mx) != 2:
        return False
    return any(
        v.split()[0] == want_mx[0] and _canonical_name(v.split()[1]) == _canonical_name(want_mx[1])
        for v in answer.values
        if len(v.split()) == 2
    )


@dataclass
class Outcome:
    ready: bool
    waited: float
    rounds: int
    servers: dict[str, list[str]]
    missing: list[str]
    records: int

    def as_dict(self) -> dict:
        return {
            "ready": self.ready,
            "waited": round(self.waited, 1),
            "rounds": self.rounds,
            "servers": self.servers,
            "missing": self.missing,
            "records": self.records,
            "report": self.report(),
        }

    def report(self) -> str:
        asked = "; ".join(
            f"{zone}: {', '.join(names) or 'none found'}" for zone, names in self.servers.items()
        )
        if self.ready:
            return (
                f"the authoritative name servers answer with the {self.records} record(s) published "
                f"after {self.waited:.0f} s ({asked})"
            )
        return (
            f"after {self.waited:.0f} s ({self.rounds} round(s)), not every authoritative name server "
            f"answers with the records published ({asked}): " + "; ".join(self.missing)
        )


def wait_for(
    records: list[Expected],
    servers_of: Callable[[str], tuple[str, list[Server]]],
    ask: Callable[[Server, str, str], Answer],
    timeout: float,
    interval: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Ask every authoritative server of each record's zone, round after round, until each has
    answered with the record (a server that did is not asked again for it), or until the next
    pause would go past timeout seconds: the wait ends by timeout plus one round's questions.
    servers_of(name) -> (zone, servers); a failure to find them (DnsWaitError) is retried next
    round and reported as the record's state."""
    start = clock()
    confirmed: set[tuple[Expected, Server]] = set()
    last: dict[Expected, list[str]] = {}
    zones: dict[str, list[Server]] = {}
    zone_of: dict[Expected, str] = {}
    rounds = 0
    while True:
        rounds += 1
        for record in records:
            if record not in zone_of:
                try:
                    zone, servers = servers_of(record.name)
                except DnsWaitError as exc:
                    last[record] = [f"{record}: its name servers: {exc}"]
                    continue
                zone_of[record] = zone
                zones.setdefault(zone, servers)
            said = []
            for server in zones[zone_of[record]]:
                if (record, server) in confirmed:
                    continue
                answer = ask(server, record.name, record.type)
                if matches(record, answer):
                    confirmed.add((record, server))
                else:
                    said.append(f"{record} at {server}: {answer}")
            last[record] = said
        missing = [line for record in records for line in last.get(record, [])]
        waited = clock() - start
        if not missing or waited + interval > timeout:
            servers = {zone: [str(s) for s in found] for zone, found in zones.items()}
            return Outcome(not missing, waited, rounds, servers, missing, len(records))
        sleep(interval)


class DnsWaitError(Exception):
    pass


class DnsAsker:
    """The network side: finds a name's zone and its authoritative servers through a resolver,
    and asks one server for a name and type, without recursion."""

    def __init__(
        self,
        resolver: list[str] | None = None,
        resolver_port: int = 53,
        nameservers: list[str] | None = None,
        nameserver_port: int = 53,
        query_timeout: float = 3.0,
    ):
        _load_dnspython()
        if resolver:
            self.resolver = dns.resolver.Resolver(configure=False)
            self.resolver.nameservers = [str(ipaddress.ip_address(r)) for r in resolver]
        else:
            self.resolver = dns.resolver.Resolver()
        self.resolver.port = int(resolver_port)
        self.resolver.timeout = self.resolver.lifetime = float(query_timeout)
        self.nameservers = [
            Server("", str(ipaddress.ip_address(n)), int(nameserver_port)) for n in nameservers or []
        ]
        self.query_timeout = float(query_timeout)

    def servers_of(self, name: str) -> tuple[str, list[Server]]:
        try:
            zone = dns.resolver.zone_for_name(name, resolver=self.resolver)
        except dns.exception.DNSException as exc:
            raise DnsWaitError(f"no zone found for {name}: {exc}") from None
        zone_text = zone.to_text(omit_final_dot=True).lower()
        if self.nameservers:
            return zone_text, list(self.nameservers)
        try:
            ns_names = sorted(
                r.target.to_text(omit_final_dot=True).lower() for r in self.resolver.resolve(zone, "NS")
            )
        except dns.exception.DNSException as exc:
            raise DnsWaitError(f"the NS records of {zone_text}: {exc}") from None
        servers = []
        for ns in ns_names:
            addresses = self._addresses(ns, "A") or self._addresses(ns, "AAAA")
            if not addresses:
                raise DnsWaitError(f"the name server {ns} of {zone_text} has no address")
            servers.extend(Server(ns, address) for address in addresses)
        if not servers:
            raise DnsWaitError(f"{zone_text} has no NS records")
        return zone_text, servers

    def _addresses(self, name: str, rtype: str) -> list[str]:
        try:
            answer = self.resolver.resolve(name, rtype, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            return []
        except dns.exception.DNSException as exc:
            raise DnsWaitError(f"the address of the name server {name}: {exc}") from None
        return [r.address for r in answer.rrset] if answer.rrset is not None else []

    def ask(self, server: Server, name: str, rtype: str) -> Answer:
        query = dns.message.make_query(name + ".", rtype)
        query.flags &= ~dns.flags.RD  # the server's own data, not a recursive answer
        try:
            response = dns.query.udp(query, server.address, port=server.port, timeout=self.query_timeout)
            if response.flags & dns.flags.TC:
                response = dns.query.tcp(query, server.address, port=server.port, timeout=self.query_timeout)
        except dns.exception.Timeout:
            return Answer(error="no answer (timeout)")
        except (dns.exception.DNSException, OSError) as exc:
            return Answer(error=f"asking failed ({exc})")
        rcode = response.rcode()
        if rcode == dns.rcode.NXDOMAIN:
            return Answer(error="NXDOMAIN (the name does not exist there yet)")
        if rcode != dns.rcode.NOERROR:
            return Answer(error=f"answered {dns.rcode.to_text(rcode)}")
        if not response.flags & dns.flags.AA:
            return Answer(error="answered without authority (not a server of the zone)")
        qname = dns.name.from_text(name + ".")
        rdtype = dns.rdatatype.from_text(rtype)
        values = []
        for rrset in response.answer:
            if rrset.name == qname and rrset.rdtype == rdtype:
                for rdata in rrset:
                    values.append(join_txt(rdata.strings) if rtype == "TXT" else rdata.to_text())
        return Answer(values)
