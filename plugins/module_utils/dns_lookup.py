# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read-only DNS queries through a resolver the user names (address and port).

mail_dns_info, the SPF lookup count and the FCrDNS check read DNS as a receiving mail server
would. The resolver is configurable so that a lab's own DNS server (or a test's BIND on
loopback) can answer; without one, the controller's /etc/resolv.conf is used.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import Any

from ansible_collections.lms.mail.plugins.module_utils.dns_provider import DnsProvider, ZoneNotFound
from ansible_collections.lms.mail.plugins.module_utils.requirements import load
from ansible_collections.lms.mail.plugins.module_utils.spf import SpfTempError
from ansible_collections.lms.mail.plugins.module_utils.txt import join_txt

# dnspython is imported when a DnsLookup is made (_load_dnspython), not with this module: a run
# that reads only through an API provider (a no-op spf_record on Cloudflare) never needs it, and
# importing it costs about 0.1 s of every task.
dns: Any = None


def _load_dnspython() -> None:
    global dns  # the package, bound once on first use
    dns = load("dnspython", "dns.exception", "dns.resolver", "dns.reversename")


class DnsLookup:
    """Implements spf.SpfResolver: [] for NXDOMAIN and empty answers (NOERROR without data),
    SpfTempError for everything else.

    Only those two answers are data. REFUSED, SERVFAIL, any other rcode and a timeout say
    nothing about the name: a receiver gets a temporary error from them, so the modules must
    not conclude "no record" from them either. The error names the server and its answer.
    """

    def __init__(self, nameservers: list[str] | None = None, port: int = 53, timeout: float = 5.0):
        _load_dnspython()
        if nameservers:
            self.resolver = dns.resolver.Resolver(configure=False)
            self.resolver.nameservers = [_address(ns, port) for ns in nameservers]
            self.where = ", ".join(f"{ns} port {port}" for ns in nameservers)
        else:
            self.resolver = dns.resolver.Resolver()
            self.where = "the controller's resolvers (/etc/resolv.conf)"
        self.resolver.port = int(port)
        self.resolver.timeout = float(timeout)
        self.resolver.lifetime = float(timeout)
        self.queries = 0
        self.answered = 0  # queries that got data or NXDOMAIN

    def _answer(self, name: str, rtype: str):
        self.queries += 1
        qname = name if name.endswith(".") else name + "."
        try:
            answer = self.resolver.resolve(qname, rtype, search=False, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            self.answered += 1
            return None
        except dns.resolver.NoNameservers as exc:
            raise SpfTempError(f"{name} {rtype}: {_server_errors(exc, self.where)}") from None
        except dns.exception.Timeout:
            raise SpfTempError(f"{name} {rtype}: no answer from {self.where} (timeout)") from None
        except (dns.exception.DNSException, OSError) as exc:
            raise SpfTempError(f"{name} {rtype}: looking it up at {self.where} failed: {exc}") from None
        self.answered += 1
        return answer

    def _rdatas(self, name: str, rtype: str) -> list:
        answer = self._answer(name, rtype)
        if answer is None or answer.rrset is None:
            return []
        return list(answer.rrset)

    def txt(self, name: str) -> list[str]:
        return [join_txt(r.strings) for r in self._rdatas(name, "TXT")]

    def a(self, name: str) -> list[str]:
        return [r.address for r in self._rdatas(name, "A")]

    def aaaa(self, name: str) -> list[str]:
        return [r.address for r in self._rdatas(name, "AAAA")]

    def addresses(self, name: str) -> list[str]:
        return self.a(name) + self.aaaa(name)

    def mx(self, name: str) -> list[str]:
        return [host for dummy, host in self.mx_records(name)]

    def mx_records(self, name: str) -> list[tuple[int, str]]:
        records = [
            (r.preference, r.exchange.to_text(omit_final_dot=True).lower()) for r in self._rdatas(name, "MX")
        ]
        return sorted(records)

    def ptr(self, ip: str) -> list[str]:
        name = dns.reversename.from_address(ip).to_text(omit_final_dot=True)
        return [r.target.to_text(omit_final_dot=True).lower() for r in self._rdatas(name, "PTR")]


def fcrdns(lookup: DnsLookup, ip: str) -> tuple[list[str], bool]:
    """PTR names of ip and whether one of them resolves back to ip (forward-confirmed rDNS)."""
    address = ipaddress.ip_address(ip)
    names = lookup.ptr(ip)
    for name in names:
        forward = lookup.a(name) if address.version == 4 else lookup.aaaa(name)
        if any(ipaddress.ip_address(a) == address for a in forward):
            return names, True
    return names, False


def _server_errors(exc, where: str) -> str:
    """Each server's answer from dnspython's NoNameservers, e.g. '127.0.0.1 port 5300 answered
    REFUSED': the servers it asked all answered something other than NOERROR or NXDOMAIN."""
    errors = exc.kwargs.get("errors") or []
    said = []
    for error in errors:
        # dnspython >= 2.4 names a server "Do53:127.0.0.1@5300"; older ones give the address
        server, port, what = str(error[0]).removeprefix("Do53:").rsplit("@", 1)[0], error[2], error[3]
        answer = f"answered {what}" if isinstance(what, str) else f"failed ({what})"
        said.append(f"{server} port {port} {answer}")
    text = "; ".join(dict.fromkeys(said)) or f"no server at {where} answered"
    return f"{text} (a temporary error: nothing can be concluded about the name)"


def _address(server: str, port: int) -> str:
    try:
        return str(ipaddress.ip_address(server))
    except ValueError:
        pass
    try:
        return str(socket.getaddrinfo(server, port, proto=socket.IPPROTO_UDP)[0][4][0])
    except socket.gaierror as exc:
        raise SpfTempError(f"cannot resolve the resolver name {server!r}: {exc}") from None


class PublishedLookup:
    """TXT and address lookups that read what the provider publishes, and DNS for the rest.

    Used for the SPF lookup count and the FCrDNS check right after a change: the provider
    has the new data at once, while a resolver may still serve the old answer from its cache.
    Names in zones the provider does not hold (a mail service's include target) go to DNS.
    """

    def __init__(self, provider: DnsProvider, dns_lookup: Callable[[], object]):
        self.provider = provider
        self._dns_lookup_factory = dns_lookup
        self._dns = None

    @property
    def dns(self):
        if self._dns is None:
            self._dns = self._dns_lookup_factory()
        return self._dns

    def _published(self, name: str, rtype: str) -> list[str] | None:
        try:
            zone = self.provider.find_zone(name)
        except ZoneNotFound:
            return None
        return [r.value for r in self.provider.list_records(zone, name.rstrip(".").lower(), rtype)]

    def txt(self, name: str) -> list[str]:
        published = self._published(name, "TXT")
        return published if published is not None else self.dns.txt(name)

    def addresses(self, name: str, version: int) -> list[str]:
        rtype = "A" if version == 4 else "AAAA"
        published = self._published(name, rtype)
        if published is not None:
            return published
        return self.dns.a(name) if version == 4 else self.dns.aaaa(name)
