# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jinja tests for validating mail-related input before anything changes.

Used by every role's preflight assertions, so that a bad host name, network or address
fails with the role's own message instead of deep inside Postfix or a DNS API.
"""

from __future__ import annotations

import ipaddress
import re

# RFC 1123 labels: letters, digits and inner hyphens, at most 63 characters each.
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
# The local part of an address as mail systems accept it (dot-atom, no quoting).
_LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")


def fqdn(value: object) -> bool:
    """A fully qualified host or domain name: at least two labels, no trailing dot needed."""
    if not isinstance(value, str):
        return False
    name = value[:-1] if value.endswith(".") else value
    labels = name.split(".")
    return len(name) <= 253 and len(labels) >= 2 and all(_LABEL.match(label) for label in labels)


def ip_address(value: object) -> bool:
    """An IPv4 or IPv6 address."""
    try:
        ipaddress.ip_address(str(value))
    except ValueError:
        return False
    return True


def ip_network(value: object) -> bool:
    """An IPv4 or IPv6 network in CIDR form (host bits must be zero), or a single address."""
    try:
        ipaddress.ip_network(str(value).strip("[]").replace("]/", "/"), strict=True)
    except ValueError:
        return False
    return True


def email_address(value: object) -> bool:
    """A plain mail address, local@domain, with a fully qualified domain."""
    if not isinstance(value, str) or value.count("@") != 1:
        return False
    local, domain = value.split("@")
    return len(local) <= 64 and bool(_LOCAL_PART.match(local)) and fqdn(domain)


class TestModule:
    def tests(self) -> dict:
        return {
            "fqdn": fqdn,
            "ip_address": ip_address,
            "ip_network": ip_network,
            "email_address": email_address,
        }
