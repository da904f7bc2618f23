# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""DMARC policy records (RFC 7489 §6.3): validate every tag, merge a task's tags into the
published record, compare by meaning.

Tags the task does not set keep their published value: a customer's existing `rua` (often a
reporting service's address) must not vanish because the task only tightens `p`.
"""

from __future__ import annotations

import re

POLICIES = ("none", "quarantine", "reject")
ALIGNMENTS = ("r", "s")
# the order tags are written in; v= must be first and p= should follow (RFC 7489 §6.3)
TAG_ORDER = ("v", "p", "sp", "pct", "adkim", "aspf", "fo", "rf", "ri", "rua", "ruf")
# RFC 7489 §6.3 defaults: a missing tag means this value, so writing it is not a change
DEFAULTS = {"adkim": "r", "aspf": "r", "pct": "100", "fo": "0", "rf": "afrf", "ri": "86400"}
_URI = re.compile(r"^mailto:(?P<local>[^@\s,!;]+)@(?P<domain>[A-Za-z0-9.-]+\.[A-Za-z0-9-]+)(?:!\d+[kmgt]?)?$")


class DmarcError(ValueError):
    """A tag value receivers would not accept; the message names the tag and the fix."""


def is_dmarc(value: str) -> bool:
    return re.match(r"^\s*v\s*=\s*DMARC1\s*(;|$)", value) is not None


def parse_dmarc(value: str) -> dict[str, str]:
    """The tags of a DMARC record in their order; DmarcError when it is not one."""
    if not is_dmarc(value):
        raise DmarcError(f"not a DMARC record (must start with 'v=DMARC1'): {value!r}")
    tags: dict[str, str] = {}
    for part in value.split(";"):
        part = part.strip()
        if not part:
            continue
        name, sep, tag_value = part.partition("=")
        if not sep:
            raise DmarcError(f"not a tag=value pair in the DMARC record: {part!r}")
        tags[name.strip().lower()] = tag_value.strip()
    return tags


def validate_tags(tags: dict[str, str]) -> None:
    """Raise DmarcError naming the first tag a receiver would reject or misread."""
    if tags.get("v") != "DMARC1":
        raise DmarcError("v must be DMARC1")
    if "p" not in tags:
        raise DmarcError("p (policy) is required: none, quarantine or reject")
    for tag in ("p", "sp"):
        if tag in tags and tags[tag] not in POLICIES:
            raise DmarcError(f"{tag}={tags[tag]!r} is not a policy: use none, quarantine or reject")
    for tag in ("adkim", "aspf"):
        if tag in tags and tags[tag] not in ALIGNMENTS:
            raise DmarcError(f"{tag}={tags[tag]!r}: use r (relaxed) or s (strict)")
    if "pct" in tags and not (tags["pct"].isdigit() and 0 <= int(tags["pct"]) <= 100):
        raise DmarcError(f"pct={tags['pct']!r}: use a whole number from 0 to 100")
    if "ri" in tags and not (tags["ri"].isdigit() and int(tags["ri"]) > 0):
        raise DmarcError(f"ri={tags['ri']!r}: use a number of seconds, e.g. 86400")
    if "fo" in tags:
        options = tags["fo"].split(":")
        if not all(o in ("0", "1", "d", "s") for o in options):
            raise DmarcError(f"fo={tags['fo']!r}: use 0, 1, d or s, separated by ':'")
    if "rf" in tags and tags["rf"].lower() != "afrf":
        raise DmarcError(f"rf={tags['rf']!r}: the only report format is afrf")
    for tag in ("rua", "ruf"):
        if tag in tags:
            for uri in report_uris(tags[tag]):
                if not _URI.match(uri):
                    raise DmarcError(
                        f"{tag} address {uri!r} is not a mailto: URI such as mailto:dmarc@example.com"
                    )


def report_uris(value: str) -> list[str]:
    return [u.strip() for u in value.split(",") if u.strip()]


def uri_domain(uri: str) -> str:
    match = _URI.match(uri)
    return match.group("domain").lower() if match else ""


def merge_dmarc(existing: str | None, changes: dict[str, str | None]) -> str:
    """The DMARC record with changes applied: None leaves a tag as published, "" removes it."""
    tags = parse_dmarc(existing) if existing else {"v": "DMARC1"}
    for tag, value in changes.items():
        if value is None:
            continue
        if value == "":
            tags.pop(tag, None)
        else:
            tags[tag] = value
    tags["v"] = "DMARC1"
    validate_tags(tags)
    ordered = [t for t in TAG_ORDER if t in tags] + [t for t in tags if t not in TAG_ORDER]
    return "; ".join(f"{t}={tags[t]}" for t in ordered)


def same_policy(a: str, b: str) -> bool:
    """Equal for a receiver: same tags once defaults are filled in (sp defaults to p)."""
    try:
        tags_a, tags_b = parse_dmarc(a), parse_dmarc(b)
    except DmarcError:
        return a == b
    for tags in (tags_a, tags_b):
        for tag, default in DEFAULTS.items():
            tags.setdefault(tag, default)
        if "p" in tags:
            tags.setdefault("sp", tags["p"])
        for tag in ("rua", "ruf"):
            if tag in tags:
                tags[tag] = ",".join(report_uris(tags[tag]))
    return tags_a == tags_b
