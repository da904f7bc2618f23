# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The records a person publishes by hand (dns_provider none), in the two forms people paste:

- zone-file lines, `NAME. [TTL] IN TYPE RDATA`, absolute names, a TXT value split into quoted
  character-strings of at most 255 bytes (module_utils/txt.py's split, the one the modules
  write with), `"` and `\\` escaped and any byte outside printable ASCII written as `\\DDD`, so
  that BIND, dnspython and a zone editor read back exactly the value;
- the panel form a hosting company's web page asks for: the name within the zone (`@` for the
  apex), the type, and the value unsplit and unquoted.

Records are grouped by the domain whose zone holds them; a PTR goes to a block of its own,
since the reverse zone belongs to whoever owns the address. The block printed at the end of a
run, the Markdown file and the zone file on the controller are all rendered here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.lms.mail.plugins.module_utils.txt import split_txt

REVERSE = "reverse DNS"
_QUOTED_TYPES = {"TXT", "SPF"}
_NAME_TYPES = {"PTR", "CNAME", "NS"}


def _escape(chunk: bytes) -> str:
    """A character-string's bytes inside double quotes, as RFC 1035 §5.1 presents them."""
    out = []
    for byte in chunk:
        if byte in (0x22, 0x5C):  # " and \
            out.append("\\" + chr(byte))
        elif 0x20 <= byte <= 0x7E:
            out.append(chr(byte))
        else:
            out.append(f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


def txt_rdata(value: str) -> str:
    """`"chunk1" "chunk2"`: the value split at 255 bytes (never inside a UTF-8 character), each
    chunk quoted and escaped for a zone file."""
    return " ".join(_escape(chunk) for chunk in split_txt(str(value)))


def _absolute(name: str) -> str:
    name = str(name).strip()
    return name if name.endswith(".") else name + "."


def _record(record: Mapping) -> tuple[str, str, str]:
    try:
        name, rtype, value = record["name"], str(record["type"]).upper(), record["value"]
    except (KeyError, TypeError):
        raise AnsibleFilterError(f"a record needs name, type and value: {record!r}") from None
    if not name or value is None:
        raise AnsibleFilterError(f"a record needs a name and a value: {record!r}")
    return str(name).rstrip("."), rtype, str(value)


def zone_line(record: Mapping) -> str:
    """One record as a zone-file line, e.g. `_dmarc.school.example. 3600 IN TXT "v=DMARC1; p=none"`."""
    name, rtype, value = _record(record)
    if rtype in _QUOTED_TYPES:
        rdata = txt_rdata(value)
    elif rtype in _NAME_TYPES:
        rdata = _absolute(value)
    else:
        rdata = value
    ttl = record.get("ttl")
    return f"{_absolute(name)} {str(int(ttl)) + ' ' if ttl else ''}IN {rtype} {rdata}"


def _zone_of(name: str, domains: Iterable[str]) -> str | None:
    """The longest of the domains that name is, or is under."""
    name = name.lower()
    found = None
    for domain in domains:
        domain = str(domain).lower().rstrip(".")
        if (name == domain or name.endswith("." + domain)) and (found is None or len(domain) > len(found)):
            found = domain
    return found


def _relative(name: str, zone: str) -> str:
    if name.lower() == zone:
        return "@"
    return name[: -(len(zone) + 1)]


def manual_records(records: Iterable[Mapping], domains: Iterable[str] | None = None) -> list[dict]:
    """The records grouped into one block per zone, in the order the domains come:
    [{zone, records: [{name, panel_name, type, value, line, note, kind}]}]. A record's zone is
    the longest of domains it falls under (else its own name); PTR records form the last block,
    zone "reverse DNS"."""
    records = list(records or [])
    domains = list(dict.fromkeys(str(d).lower().rstrip(".") for d in (domains or [])))
    # the domains the records name themselves (SPF's owner is the domain) count too
    for record in records:
        name, rtype = _record(record)[:2]
        if rtype != "PTR" and record.get("kind") in ("spf", None) and _zone_of(name, domains) is None:
            domains.append(name.lower())
    blocks: dict[str, list[dict]] = {}
    for record in records:
        name, rtype, value = _record(record)
        if rtype == "PTR":
            zone = REVERSE
            panel_name = name
        else:
            zone = _zone_of(name, domains) or name.lower()
            panel_name = _relative(name, zone)
        blocks.setdefault(zone, []).append(
            {
                "kind": record.get("kind", ""),
                "name": name,
                "panel_name": panel_name,
                "type": rtype,
                "value": value.rstrip(".") if rtype in _NAME_TYPES else value,
                "ttl": record.get("ttl"),
                "line": zone_line(record),
                "note": str(record.get("note") or ""),
            }
        )
    order = [d for d in domains if d in blocks] + sorted(
        z for z in blocks if z not in domains and z != REVERSE
    )
    if REVERSE in blocks:
        order.append(REVERSE)
    return [{"zone": zone, "records": blocks[zone]} for zone in order]


def _heading(zone: str) -> str:
    if zone == REVERSE:
        return "reverse DNS (set it where the address is hosted, often at the hosting company)"
    return f"zone {zone}"


def records_text(
    blocks: list[Mapping], host: str, files: Iterable[str] = (), pending: Iterable[str] = ()
) -> str:
    """The block printed at the end of a run: per zone, the zone-file lines, then the panel form.
    files: where the same records were written; pending: further lines (a DKIM key made on the
    first run)."""
    out = [f"DNS records to publish by hand for {host}"]
    files = [f for f in files if f]
    if files:
        out.append("(also in " + " and ".join(files) + "; copy the lines from there: in a zone file a")
        out.append(" line must start at its first column, an indented one belongs to the name above it)")
    for block in blocks:
        out.append("")
        out.append(f"== {_heading(block['zone'])}")
        out.append("zone-file lines:")
        out.extend(record["line"] for record in block["records"])
        out.append("in a web panel (name / type / value):")
        for record in block["records"]:
            out.append(f"  {record['panel_name']}  /  {record['type']}  /  {record['value']}")
        notes = [f"  {r['name']} {r['type']}: {r['note']}" for r in block["records"] if r["note"]]
        if notes:
            out.append("notes:")
            out.extend(notes)
    pending = [p for p in pending if p]
    if pending:
        out.append("")
        out.extend(pending)
    return "\n".join(out)


def _md(text: str) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|")


def records_markdown(
    blocks: list[Mapping], host: str, verify_command: str = "", pending: Iterable[str] = ()
) -> str:
    """The Markdown file <records dir>/<host>.md: per zone, the zone-file lines in a code block and
    the panel form as a table."""
    out = [f"# DNS records to publish for {host}", ""]
    out.append("Publish each record below in its zone: paste the zone-file lines into a zone file, or")
    out.append("enter name, type and value in the DNS provider's web panel (the value as one piece, without")
    out.append("quotes: the panel splits it itself).")
    if verify_command:
        out += ["", "Then check them, and the mail, with:", "", "```sh", verify_command, "```"]
    for block in blocks:
        out += ["", f"## {_heading(block['zone'])}", "", "Zone-file lines:", "", "```"]
        out.extend(record["line"] for record in block["records"])
        out += ["```", "", "In a web panel:", "", "| name | type | value |", "|---|---|---|"]
        for record in block["records"]:
            out.append(f"| {_md(record['panel_name'])} | {record['type']} | {_md(record['value'])} |")
        notes = [r for r in block["records"] if r["note"]]
        if notes:
            out.append("")
            out.extend(f"- `{r['name']}` {r['type']}: {r['note']}" for r in notes)
    pending = [p for p in pending if p]
    if pending:
        out += [""] + [f"- {p}" for p in pending]
    return "\n".join(out) + "\n"


def records_zone(blocks: list[Mapping], host: str) -> str:
    """The zone file <records dir>/<host>.zone: every record as an absolute zone-file line, each
    zone's after a comment naming it, so that a zone file can take its block (or $INCLUDE it)."""
    out = [f"; DNS records to publish for {host} (lms.mail): absolute names, one block per zone."]
    for block in blocks:
        out += [";", f"; {_heading(block['zone'])}"]
        for record in block["records"]:
            if record["note"]:
                out.append(f"; {record['note']}")
            out.append(record["line"])
    return "\n".join(out) + "\n"


class FilterModule:
    def filters(self):
        return {
            "zone_line": zone_line,
            "manual_records": manual_records,
            "records_text": records_text,
            "records_markdown": records_markdown,
            "records_zone": records_zone,
        }
