# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""DMARC policy records (RFC 7489 §6.3): validate every tag, merge a task's tags into the
published record, compare by meaning.

Tags the task does not set keep their published value: a customer's existing `rua` (often a
reporting service's address) must not vanish because the task only tightens `p`.
"""

from __future__ import annotations

import re

from ansible_collections.lms.mail.plugins.module_utils.tag_list import parse_tag_list

POLICIES = ("none", "quarantine", "reject")
ALIGNMENTS = ("r", "s")
# the order tags are written in; v= must be first and p= should follow (RFC 7489 §6.3)
TAG_ORDER = ("v", "p", "sp", "pct", "adkim", "aspf", "fo", "rf", "ri", "rua", "ruf")
# RFC 7489 §6.3 defaults: a missing tag means this value, so writing it is not a change
DEFAULTS = {"adkim": "r", "aspf": "r", "pct": "100", "fo": "0", "rf": "afrf", "ri": "86400"}
_URI = re.compile(
    r"mailto:(?P<local>[^@\s\x00-\x1f\x7f,!;]+)@(?P<domain>[A-Za-z0-9.-]+\.[A-Za-z0-9-]+)(?:!\d+[kmgt]?)?"
)


class DmarcError(ValueError):
    """A tag value receivers would not accept; the message names the tag and the fix."""


def is_dmarc(value: str) -> bool:
    """RFC 7489's dmarc-version: blanks (space, tab) only around its parts, then ';' or the end
    of the value. A newline is no blank there, and `$` would also match before a final one."""
    return re.match(r"[ \t]*v[ \t]*=[ \t]*DMARC1[ \t]*(?:;|\Z)", value) is not None


def parse_dmarc(value: str) -> dict[str, str]:
    """The tags of a DMARC record in their order; DmarcError when it is not one. The tag-list is
    DKIM's (module_utils/tag_list.py: a tag twice makes it invalid), with the names folded to
    lower case as RFC 7489's grammar reads them."""
    if not is_dmarc(value):
        raise DmarcError(f"not a DMARC record (must start with 'v=DMARC1'): {value!r}")
    return parse_tag_list(value, fold_case=True, error=DmarcError, where=" in the DMARC record")


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
                if not _URI.fullmatch(uri):
                    raise DmarcError(
                        f"{tag} address {uri!r} is not a mailto: URI such as mailto:dmarc@example.com"
                    )


def report_uris(value: str) -> list[str]:
    return [u.strip() for u in value.split(",") if u.strip()]


def uri_domain(uri: str) -> str:
    match = _URI.fullmatch(uri)
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


def _strength(policy: str | None) -> int:
    return POLICIES.index(policy) if policy in POLICIES else 0


def weaker_changes(published: str | None, changes: dict[str, str | None]) -> dict[str, tuple[str, str]]:
    """The changes that would weaken the published record, as {tag: (published, asked)}.

    Weakening is: a p= less strict (none < quarantine < reject); an sp= less strict than the
    subdomain policy in force (sp=, or p= without it); a lower pct= while p= stays as it is
    (a stricter p= at a lower pct is still stricter: the rest get the next lower policy,
    RFC 7489 section 6.6.4); adkim or aspf from strict (s) to relaxed (r), or removed.
    """
    if not published:
        return {}
    tags = parse_dmarc(published)
    weaker: dict[str, tuple[str, str]] = {}
    p_now = tags.get("p")
    p_asked = changes.get("p")
    if p_asked is not None and p_now in POLICIES and _strength(p_asked) < _strength(p_now):
        weaker["p"] = (p_now, p_asked)
    sp_now = tags.get("sp", p_now)
    sp_asked = changes.get("sp")
    if sp_asked is not None and sp_now in POLICIES:
        asked = sp_asked or (p_asked or p_now)  # "" removes sp=: p= then applies to subdomains
        if _strength(asked) < _strength(sp_now):
            weaker["sp"] = (sp_now, sp_asked)
    pct_asked = changes.get("pct")
    p_final = p_now if "p" in weaker or p_asked is None else p_asked
    if pct_asked is not None and p_final == p_now and p_now != "none":
        pct_now = tags.get("pct", DEFAULTS["pct"])
        asked = pct_asked or DEFAULTS["pct"]
        if pct_now.isdigit() and asked.isdigit() and int(asked) < int(pct_now):
            weaker["pct"] = (pct_now, pct_asked)
    for tag in ("adkim", "aspf"):
        asked = changes.get(tag)
        if asked is not None and tags.get(tag) == "s" and (asked or DEFAULTS[tag]) == "r":
            weaker[tag] = ("s", asked)
    return weaker
