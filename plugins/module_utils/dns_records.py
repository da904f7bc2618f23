# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the DNS layer speaks of: a zone, a record, and names in the form they are compared in.
The providers (dns_provider.py), the planner (dns_plan.py) and the output (dns_output.py) share
these; nothing here reads or writes DNS."""

from __future__ import annotations

import dataclasses
import ipaddress

DEFAULT_TTL = 3600  # a record created without a TTL asked for


@dataclasses.dataclass(frozen=True)
class Zone:
    name: str  # the zone apex, lower case, no trailing dot
    id: str = ""  # the provider's identifier; the name for RFC 2136


@dataclasses.dataclass(frozen=True)
class Record:
    name: str  # fully qualified, lower case, no trailing dot
    type: str  # "TXT", "PTR", "A", ...
    value: str  # TXT: the joined, unquoted value; others: the presentation form without a trailing dot
    ttl: int = DEFAULT_TTL
    id: str = ""  # the provider's identifier; empty for RFC 2136 and for records not yet created


def normalise_name(name: str) -> str:
    """A name as the interface speaks it: lower case, no surrounding blanks, no trailing dot."""
    return name.strip().rstrip(".").lower()


def reverse_name(ip: str) -> str:
    """The PTR owner name of an IPv4 or IPv6 address, without the trailing dot."""
    return ipaddress.ip_address(ip).reverse_pointer.lower()
