# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one "ensure these records at this name" step of the record modules: plan, then apply.

This is where lms.mail differs from the modules it replaces: the plan compares the records the
module owns at a name (the SPF record, a DKIM key, the DMARC record, the PTR) with the wanted
ones, changes only those, one record at a time, and leaves every other record at the name alone.
Check mode computes the same plan and writes nothing; diff shows the whole record set at the
name before and after, so the user sees what stays too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.lms.mail.plugins.module_utils.dns_output import record_dicts, record_diff
from ansible_collections.lms.mail.plugins.module_utils.dns_records import DEFAULT_TTL, Record, Zone

if TYPE_CHECKING:  # the providers plan their PTR writes here: no import of them at run time
    from ansible_collections.lms.mail.plugins.module_utils.dns_provider import DnsProvider
from ansible_collections.lms.mail.plugins.module_utils.txt import normalize_txt


@dataclasses.dataclass
class Plan:
    """The writes that turn the current records into the wanted ones."""

    creates: list[Record] = dataclasses.field(default_factory=list)
    updates: list[tuple[Record, Record]] = dataclasses.field(default_factory=list)
    deletes: list[Record] = dataclasses.field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.creates or self.updates or self.deletes)

    def after(self, current: list[Record]) -> list[Record]:
        """The record set at the name once the plan is applied."""
        replaced = {id(old): new for old, new in self.updates}
        deleted = {id(r) for r in self.deletes}
        result = [replaced.get(id(r), r) for r in current if id(r) not in deleted]
        return result + self.creates


def same_value(a: Record, b: Record) -> bool:
    if a.type == "TXT":
        return normalize_txt(a.value) == normalize_txt(b.value)
    return a.value.rstrip(".").lower() == b.value.rstrip(".").lower()


def plan_records(
    current: list[Record],
    wanted: list[Record],
    owns: Callable[[Record], bool],
    same: Callable[[Record, Record], bool] = same_value,
    ttl: int | None = None,
) -> Plan:
    """Match the owned records at a name to the wanted ones.

    A wanted record already there (by `same`, and by TTL when a TTL is asked for) is kept as
    published; the rest are matched to leftover owned records as in-place updates (so a
    changed SPF record stays one record, never a second one), then created; owned records left
    over are deleted. Records not owned are never in the plan.
    """
    plan = Plan()
    spare = [r for r in current if owns(r)]
    missing = []
    for record in wanted:
        match = next((r for r in spare if same(r, record) and (ttl is None or r.ttl == ttl)), None)
        if match is None:
            missing.append(record)
        else:
            spare.remove(match)
    for record in missing:
        # same value, other TTL first: then only the TTL changes
        old = next((r for r in spare if same(r, record)), None) or (spare[0] if spare else None)
        if old is not None:
            spare.remove(old)
            new_ttl = ttl if ttl is not None else old.ttl
            plan.updates.append((old, dataclasses.replace(record, ttl=new_ttl, id=old.id)))
        else:
            plan.creates.append(dataclasses.replace(record, ttl=ttl if ttl is not None else DEFAULT_TTL))
    plan.deletes.extend(spare)
    return plan


def apply_plan(provider: DnsProvider, zone: Zone, plan: Plan) -> None:
    # updates and creates before deletes: a reader sees the new record before the old one goes
    for old, new in plan.updates:
        provider.update_record(zone, old, new)
    for record in plan.creates:
        provider.create_record(zone, record)
    for record in plan.deletes:
        provider.delete_record(zone, record)


@dataclasses.dataclass
class EnsureResult:
    changed: bool
    before: list[Record]
    after: list[Record]
    plan: Plan

    def diff(self, name: str, rtype: str) -> dict:
        return record_diff(name, rtype, self.before, self.after)

    def first(self, kind: Callable[[str], bool]) -> str:
        """The value of the first record of a kind after the task; empty when there is none."""
        return next((r.value for r in self.after if kind(r.value)), "")

    def output(self, module: AnsibleModule, record_name: str, rtype: str, /, **fields) -> dict:
        """A record module's return value: changed, its own fields, every record at the name
        after the task, and the diff when --diff asks for it."""
        output = {"changed": self.changed, **fields, "records": record_dicts(self.after)}
        if module._diff:
            output["diff"] = self.diff(record_name, rtype)
        return output


class RecordSet:
    """The records of one type at one name, read once, changed through a plan."""

    def __init__(self, provider: DnsProvider, name: str, rtype: str, zone: Zone | None = None):
        self.provider = provider
        self.name = name.rstrip(".").lower()
        self.rtype = rtype
        self.zone = zone or provider.find_zone(self.name)
        self.current = provider.list_records(self.zone, self.name, rtype)

    def ensure(
        self,
        wanted: list[Record],
        owns: Callable[[Record], bool],
        check_mode: bool,
        same: Callable[[Record, Record], bool] = same_value,
        ttl: int | None = None,
    ) -> EnsureResult:
        plan = plan_records(self.current, wanted, owns, same, ttl)
        after = plan.after(self.current)
        if plan.changed and not check_mode:
            apply_plan(self.provider, self.zone, plan)
        return EnsureResult(changed=plan.changed, before=list(self.current), after=after, plan=plan)

    def ensure_one(
        self,
        value: str | None,
        kind: Callable[[str], bool],
        check_mode: bool,
        same: Callable[[str, str], bool] | None = None,
        ttl: int | None = None,
    ) -> EnsureResult:
        """Make value the one record of its kind at the name (None: no record of that kind),
        comparing values with same (by default as same_value does); other records stay."""
        wanted = [] if value is None else [Record(self.name, self.rtype, value)]
        same_record = same_value if same is None else (lambda a, b: same(a.value, b.value))
        return self.ensure(wanted, lambda r: kind(r.value), check_mode, same_record, ttl)
