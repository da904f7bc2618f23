# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jinja tests for validating mail-related input before anything changes.

Used by every role's preflight assertions, so that a bad host name, network or address
fails with the role's own message instead of deep inside Postfix or a DNS API.

One strict definition of each kind of value: the whole text must match (re.fullmatch, never a
pattern ending in `$`, which lets a trailing newline through), no white space or control
character anywhere, and an address or network must be written exactly as its canonical form
(no IPv6 scope id, no upper case, no leading zeros): a value that passes can be written into
main.cf, TrustedHosts or a DNS record without leaving its line.
"""

from __future__ import annotations

import ipaddress
import re

from ansible_collections.lms.mail.plugins.module_utils.spf import SINGLE_MODIFIERS, SpfError, parse_term

# RFC 1123 labels: letters, digits and inner hyphens, at most 63 characters each.
_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
# The local part of an address as mail systems accept it (dot-atom, no quoting).
_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
# Printable ASCII without the space: what every kind of value below is made of.
_PRINTABLE = re.compile(r"[\x21-\x7e]+")
# An absolute path a role writes into or runs from: components of letters, digits and . _ + -,
# no "." or ".." component, no "//", no trailing "/".
_PATH = re.compile(r"(/(?!\.\.?(?:/|\Z))[A-Za-z0-9._+-]+)+")

# The shortest prefixes accepted for networks allowed to send or to be signed for, unless a
# role's override says otherwise: a /8 holds 16 million IPv4 addresses, a /32 IPv6 network is a
# whole provider's allocation. Anything wider is the Internet, not a customer's network.
MIN_IPV4_PREFIX = 8
MIN_IPV6_PREFIX = 32


def printable(value: object) -> bool:
    """A non-empty string of printable ASCII, without white space or control characters."""
    return isinstance(value, str) and _PRINTABLE.fullmatch(value) is not None


def fqdn(value: object) -> bool:
    """A fully qualified host or domain name: at least two labels, an optional trailing dot."""
    if not printable(value):
        return False
    name = value[:-1] if value.endswith(".") else value
    labels = name.split(".")
    return len(name) <= 253 and len(labels) >= 2 and all(_LABEL.fullmatch(label) for label in labels)


def _address(value: object) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not printable(value) or "%" in value:
        return None
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    return address if str(address) == value else None


def ip_address(value: object) -> bool:
    """An IPv4 or IPv6 address, written in its canonical form (192.0.2.1, 2001:db8::1)."""
    return _address(value) is not None


def network(value: object) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """The network a value names (ADDRESS/PREFIX with zero host bits, or a single address, both
    canonical), or None."""
    if not printable(value) or "%" in value:
        return None
    address, slash, prefix = value.partition("/")
    if _address(address) is None or (slash and not re.fullmatch(r"0|[1-9][0-9]{0,2}", prefix)):
        return None
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError:
        return None
    return net


def ip_network(value: object) -> bool:
    """An IPv4 or IPv6 network in CIDR form (host bits must be zero), or a single address."""
    return network(value) is not None


def wide_network(value: object) -> bool:
    """A network wider than a /8 (IPv4) or a /32 (IPv6): 0.0.0.0/0, ::/0 and their like."""
    net = network(value)
    if net is None:
        return False
    return net.prefixlen < (MIN_IPV4_PREFIX if net.version == 4 else MIN_IPV6_PREFIX)


def loopback(value: object) -> bool:
    """This host itself: localhost, or a loopback address (127.0.0.0/8, ::1) in canonical form."""
    if value == "localhost":
        return True
    address = _address(value)
    return address is not None and address.is_loopback


def email_address(value: object) -> bool:
    """A plain mail address, local@domain, with a fully qualified domain."""
    if not printable(value) or value.count("@") != 1:
        return False
    local, domain = value.split("@")
    return len(local) <= 64 and _LOCAL_PART.fullmatch(local) is not None and fqdn(domain)


def milter_socket(value: object) -> bool:
    """A milter's socket as Postfix takes it: inet:HOST:PORT (a name or an IPv4 address) or
    unix:/ABSOLUTE/PATH."""
    if not printable(value):
        return False
    kind, dummy, rest = value.partition(":")
    if kind == "unix":
        return rest.startswith("/")
    host, dummy, port = rest.rpartition(":")
    return (
        kind == "inet"
        and re.fullmatch(r"[1-9][0-9]{0,4}", port) is not None
        and int(port) <= 65535
        and (host == "localhost" or fqdn(host) or ip_address(host))
    )


def sender_pattern(value: object) -> bool:
    """A SigningTable sender: an address or a pattern such as *@lists.school.example."""
    return printable(value) and re.fullmatch(r"[^@]+@[A-Za-z0-9*][A-Za-z0-9.*-]*", value) is not None


def absolute_path(value: object) -> bool:
    """An absolute path such as /etc/dkimkeys: components of letters, digits and . _ + - only,
    none of them "." or "..", no doubled or trailing "/" (a value that stays one argument and one
    line, and names one place)."""
    return printable(value) and _PATH.fullmatch(value) is not None


def spf_term(value: object) -> bool:
    """One SPF term a role may add to a record, as the spf_record module parses it: a mechanism
    other than all (ip4:192.0.2.25, include:_spf.corp.example, mx, a:/24) or a redirect= or exp=
    modifier. all is the role's own variable (dns_spf_all)."""
    if not printable(value):
        return False
    try:
        term = parse_term(value)
    except SpfError:
        return False
    return term.name in SINGLE_MODIFIERS if term.modifier else term.name != "all"


class TestModule:
    def tests(self) -> dict:
        return {
            "fqdn": fqdn,
            "ip_address": ip_address,
            "ip_network": ip_network,
            "wide_network": wide_network,
            "email_address": email_address,
            "printable": printable,
            "loopback": loopback,
            "milter_socket": milter_socket,
            "sender_pattern": sender_pattern,
            "absolute_path": absolute_path,
            "spf_term": spf_term,
        }
