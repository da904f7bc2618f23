# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One interface over the DNS providers lms.mail publishes records through.

Every module (spf_record, dkim_record, dmarc_record, ptr_record) talks to a DnsProvider and
never to a provider SDK, so that merge rules, check mode and diff are written once.
A provider reads and writes single records: it never replaces a whole RRset, so records the
module does not own (other TXT values at the same name) are never touched. Record, Zone and the
name helpers are dns_records.py's, and are taken from here too.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any

from ansible_collections.lms.mail.plugins.module_utils.dns_plan import Plan, apply_plan, plan_records
from ansible_collections.lms.mail.plugins.module_utils.dns_records import (
    Record,
    Zone,
    normalise_name,
    reverse_name,
)


class DnsError(Exception):
    """A provider failure with a message fit for the user (no secrets in it)."""


class ZoneNotFound(DnsError):
    pass


class TemporaryDnsError(DnsError):
    """DNS answered neither with data nor with NXDOMAIN (REFUSED, SERVFAIL, a timeout): nothing is
    known about the name, so nothing is changed on the strength of it."""


class AuthenticationFailed(DnsError):
    pass


class RateLimited(DnsError):
    pass


class PtrUnsupported(DnsError):
    """The provider cannot set PTR records; the message says what to do in the hoster's panel."""


class DnsProvider(abc.ABC):
    """Find a zone, list records by name and type, create, update and delete one record."""

    @classmethod
    def from_options(cls, options: Mapping[str, Any], token: str | None) -> DnsProvider:
        """The provider a module's options describe (the lms.mail.dns_provider options, checked
        already); token is api_token or the provider's environment variable. The registry's
        factory (dns_registry.build_provider) calls it."""
        raise NotImplementedError(f"{cls.__name__} cannot be built from a module's options")

    @abc.abstractmethod
    def find_zone(self, fqdn: str) -> Zone:
        """The zone that holds fqdn (the longest matching apex); ZoneNotFound otherwise."""

    @abc.abstractmethod
    def list_records(self, zone: Zone, name: str, rtype: str) -> list[Record]:
        """Records of one type at one name, with TXT values joined and unquoted."""

    @abc.abstractmethod
    def create_record(self, zone: Zone, record: Record) -> Record:
        """Add one record next to any others at that name."""

    @abc.abstractmethod
    def update_record(self, zone: Zone, old: Record, new: Record) -> Record:
        """Replace one record's value (and TTL) in place, leaving the rest of the RRset."""

    @abc.abstractmethod
    def delete_record(self, zone: Zone, record: Record) -> None:
        """Remove exactly this record (this value), nothing else at the name."""

    # -- PTR --------------------------------------------------------------------------------------
    # Added for ptr_record. The default keeps PTR records in a reverse zone served by this
    # provider (RFC 2136, a reverse zone delegated to a Cloudflare account); providers that set
    # reverse DNS another way (DigitalOcean: the droplet's name) override both methods.

    def get_ptr(self, ip: str) -> list[Record]:
        """The PTR records of ip; PtrUnsupported when this provider cannot hold them."""
        name = reverse_name(ip)
        return self.list_records(self._ptr_zone(ip), name, "PTR")

    def set_ptr(self, ip: str, fqdn: str, ttl: int | None = None, dry_run: bool = False) -> bool:
        """Point ip's PTR at fqdn, leaving no PTR to another name; True when something changed.
        ttl None keeps the record's TTL (3600 for a new one). With dry_run, the same decision
        without a write (what check mode reports). Planned as the TXT records are
        (dns_plan.plan_records): a PTR to another name is updated in place, the rest deleted."""
        zone = self._ptr_zone(ip)
        name = reverse_name(ip)
        target = normalise_name(fqdn)
        current = self.list_records(zone, name, "PTR")
        # a second PTR makes receivers pick one at random: FCrDNS would hold only sometimes. A
        # further one naming the host (in another case, with a trailing dot) names the same host:
        # it is not this task's to change, and stays.
        same_host = [r for r in current if normalise_name(r.value) == target][1:]
        plan = plan_records(
            current,
            [Record(name, "PTR", target)],
            owns=lambda record: all(record is not other for other in same_host),
            ttl=ttl,
        )
        return self._write_plan(zone, plan, dry_run)

    def delete_ptr(self, ip: str, fqdn: str | None = None, dry_run: bool = False) -> bool:
        """Remove ip's PTR records (only the ones naming fqdn when given); True when something
        changed. With dry_run, the same decision without a write."""
        zone = self._ptr_zone(ip)
        target = normalise_name(fqdn) if fqdn else None
        current = self.list_records(zone, reverse_name(ip), "PTR")
        plan = Plan(deletes=[r for r in current if target is None or normalise_name(r.value) == target])
        return self._write_plan(zone, plan, dry_run)

    def _write_plan(self, zone: Zone, plan: Plan, dry_run: bool) -> bool:
        if plan.changed and not dry_run:
            apply_plan(self, zone, plan)
        return plan.changed

    def _ptr_zone(self, ip: str) -> Zone:
        try:
            return self.find_zone(reverse_name(ip))
        except ZoneNotFound:
            raise PtrUnsupported(self.ptr_panel_instruction(ip)) from None

    def ptr_panel_instruction(self, ip: str) -> str:
        """What to do when no reverse zone for ip is served by this provider."""
        return (
            f"no reverse zone for {ip} ({reverse_name(ip)} or a parent) is served by this DNS "
            f"provider. Set the PTR (reverse DNS) of {ip} in the control panel of the hosting "
            "provider that owns the address, to the server's host name."
        )
