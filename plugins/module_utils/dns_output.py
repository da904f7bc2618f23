# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the record modules show records: zone-file lines for --diff, dicts for the return value."""

from __future__ import annotations

from ansible_collections.lms.mail.plugins.module_utils.dns_records import Record
from ansible_collections.lms.mail.plugins.module_utils.txt import normalize_txt


def render(records: list[Record]) -> str:
    """A record set in zone-file form, for --diff."""
    lines = []
    for r in sorted(records, key=lambda r: (r.name, r.type, r.value)):
        value = r.value
        if r.type == "TXT":
            value = '"' + normalize_txt(r.value).replace('"', '\\"') + '"'
        elif r.type in ("PTR", "CNAME", "NS", "MX") and not value.endswith("."):
            value += "."  # a host name, absolute as a zone file writes it
        lines.append(f"{r.name}. {r.ttl} IN {r.type} {value}")
    return "\n".join(lines) + ("\n" if lines else "")


def record_diff(name: str, rtype: str, before: list[Record], after: list[Record]) -> dict:
    """The --diff of the records of one type at one name."""
    return {
        "before": render(before),
        "after": render(after),
        "before_header": f"{name} {rtype} (before)",
        "after_header": f"{name} {rtype} (after)",
    }


def record_dicts(records: list[Record]) -> list[dict]:
    """Records for a module's return value."""
    return [{"name": r.name, "type": r.type, "value": r.value, "ttl": r.ttl} for r in records]
