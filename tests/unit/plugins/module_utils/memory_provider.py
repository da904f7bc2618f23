"""A DNS provider that keeps its zones in memory: a fourth provider written as a new one would be,
one class, added to the registry alone by the `memory` fixture (test_dns_registry.py)."""

from __future__ import annotations

from ansible_collections.lms.mail.plugins.module_utils.dns_provider import (
    DnsProvider,
    Record,
    Zone,
    ZoneNotFound,
    normalise_name,
)


class MemoryProvider(DnsProvider):
    """Zones held in a dict {apex: [Record]}, shared by every provider made in a test; each write
    is logged in `writes`, so a test sees what was written, not only the result."""

    zones: dict[str, list[Record]] = {}
    writes: list[tuple[str, Record]] = []

    @classmethod
    def from_options(cls, options, token):
        return cls()

    def find_zone(self, fqdn: str) -> Zone:
        labels = normalise_name(fqdn).split(".")
        for i in range(len(labels) - 1):
            if ".".join(labels[i:]) in self.zones:
                return Zone(".".join(labels[i:]))
        raise ZoneNotFound(f"no zone holds {fqdn}")

    def list_records(self, zone: Zone, name: str, rtype: str) -> list[Record]:
        return [r for r in self.zones[zone.name] if r.name == name and r.type == rtype]

    def create_record(self, zone: Zone, record: Record) -> Record:
        self.writes.append(("create", record))
        self.zones[zone.name].append(record)
        return record

    def update_record(self, zone: Zone, old: Record, new: Record) -> Record:
        self.writes.append(("update", new))
        records = self.zones[zone.name]
        records[next(i for i, r in enumerate(records) if r is old)] = new
        return new

    def delete_record(self, zone: Zone, record: Record) -> None:
        self.writes.append(("delete", record))
        records = self.zones[zone.name]
        del records[next(i for i, r in enumerate(records) if r is record)]
