#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: dmarc_record
short_description: Set the DMARC policy record of a domain
version_added: 0.1.0
description:
  - Ensures the DMARC record at C(_dmarc.<domain>) carries the given tags, each validated
    before anything is changed.
  - Tags the task does not set keep their published value (a reporting service's C(rua), for
    example); set a list option to V([]) to remove that tag.
  - Only the DMARC record at that name is changed. Several DMARC records (which make receivers
    ignore DMARC) are merged into one.
  - The published record is compared by meaning (defaults filled in, spacing ignored), so an
    equivalent record is never rewritten.
  - A published policy is never weakened unless O(weaken_policy=true) - a stricter C(p=) or
    C(sp=), a higher C(pct=) under the same C(p=), a strict C(adkim=) or C(aspf=) are kept, with
    a warning, and RV(kept) says what was kept instead of what was asked.
author: lms.mail developers (@lms-mail)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - lms.mail.dns_provider
options:
  domain:
    description: The domain the policy is for.
    type: str
    required: true
  policy:
    description: The C(p=) tag. Required when the domain has no DMARC record yet.
    type: str
    choices: [none, quarantine, reject]
    aliases: [p]
  weaken_policy:
    description:
      - Publish the tags asked for even when they are weaker than the published ones - a less
        strict C(p=) (V(reject) over V(quarantine) over V(none)) or C(sp=), a lower C(pct=) under the
        same C(p=), C(adkim) or C(aspf) from V(s) to V(r).
      - When false (the default), such tags keep their published value, the module warns, and
        RV(kept) lists them; the other tags are set as asked.
    type: bool
    default: false
  keep_stricter_policy:
    description:
      - Deprecated and ignored - a stricter published policy is always kept, unless
        O(weaken_policy=true).
    type: bool
  subdomain_policy:
    description: The C(sp=) tag (policy for subdomains; defaults to O(policy) at receivers).
    type: str
    choices: [none, quarantine, reject]
    aliases: [sp]
  percent:
    description: The C(pct=) tag, 0 to 100.
    type: int
    aliases: [pct]
  rua:
    description: Addresses for aggregate reports, as C(mailto:) URIs (or plain addresses).
    type: list
    elements: str
  ruf:
    description: Addresses for failure reports, as C(mailto:) URIs (or plain addresses).
    type: list
    elements: str
  adkim:
    description: DKIM alignment, V(r) relaxed or V(s) strict.
    type: str
    choices: [r, s]
  aspf:
    description: SPF alignment, V(r) relaxed or V(s) strict.
    type: str
    choices: [r, s]
  fo:
    description: Failure reporting options, e.g. V(1) or V(d:s).
    type: str
  ri:
    description: Aggregate report interval in seconds.
    type: int
  state:
    description: V(absent) removes the DMARC record(s) at the name.
    type: str
    choices: [present, absent]
    default: present
"""

EXAMPLES = r"""
- name: Start monitoring with reports
  lms.mail.dmarc_record:
    provider: cloudflare
    domain: school.example
    policy: none
    rua: [mailto:dmarc@school.example]
  delegate_to: localhost

- name: Enforce once reports look clean, keeping the published rua
  lms.mail.dmarc_record:
    provider: cloudflare
    domain: school.example
    policy: quarantine
    percent: 50
  delegate_to: localhost
"""

RETURN = r"""
name:
  description: The name of the DMARC record.
  returned: always
  type: str
  sample: _dmarc.school.example
record:
  description: The DMARC record after the task (empty with O(state=absent)).
  returned: always
  type: str
  sample: v=DMARC1; p=quarantine; pct=50; rua=mailto:dmarc@school.example
tags:
  description: The tags of that record.
  returned: always
  type: dict
  sample: {"v": "DMARC1", "p": "quarantine", "pct": "50"}
kept:
  description:
    - The tags whose published value was kept because the value asked for would have weakened
      the policy (see O(weaken_policy)), each with both values. Empty when none was.
  returned: always
  type: dict
  sample: {"p": {"published": "reject", "asked": "none"}}
records:
  description: All TXT records at the name after the task.
  returned: always
  type: list
  elements: dict
"""

import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.lms.mail.plugins.module_utils.dmarc import (
    POLICIES,
    DmarcError,
    is_dmarc,
    merge_dmarc,
    parse_dmarc,
    report_uris,
    same_policy,
    uri_domain,
    weaker_changes,
)
from ansible_collections.lms.mail.plugins.module_utils.dns_module import run_record_module
from ansible_collections.lms.mail.plugins.module_utils.dns_plan import RecordSet
from ansible_collections.lms.mail.plugins.module_utils.dns_registry import build_provider
from ansible_collections.lms.mail.plugins.module_utils.dns_values import validate_domain


def _uris(values: list[str] | None) -> str | None:
    if values is None:
        return None
    uris = []
    for value in values:
        if re.search(r"[\x00-\x1f\x7f]", value or ""):
            raise DmarcError(f"report address {value!r} contains a control character (a line break?)")
        for uri in report_uris(value):
            uris.append(uri if uri.lower().startswith("mailto:") else f"mailto:{uri}")
    return ",".join(uris)


def requested_tags(params: dict) -> dict[str, str | None]:
    def text(value) -> str | None:
        return None if value is None else str(value)

    return {
        "p": params["policy"],
        "sp": params["subdomain_policy"],
        "pct": text(params["percent"]),
        "adkim": params["adkim"],
        "aspf": params["aspf"],
        "fo": params["fo"],
        "ri": text(params["ri"]),
        "rua": _uris(params["rua"]),
        "ruf": _uris(params["ruf"]),
    }


def _readable(name: str, published: str) -> None:
    """A published record this module cannot read is one receivers ignore: say so, change nothing."""
    try:
        parse_dmarc(published)
    except DmarcError as exc:
        raise DmarcError(
            f"the DMARC record published at {name} is invalid, so receivers apply no DMARC policy "
            f"({exc}). Correct it by hand, or remove it (state: absent) and run again."
        ) from None


def run(module: AnsibleModule) -> dict:
    params = module.params
    domain = validate_domain(params["domain"])
    name = f"_dmarc.{domain}"
    changes = requested_tags(params)
    if params["state"] == "present":
        # validate the task's own tags before reading anything (the published ones come later)
        merge_dmarc(None, dict(changes, p=changes["p"] or "none"))

    if params["keep_stricter_policy"] is not None:
        module.deprecate(
            "keep_stricter_policy is ignored: a stricter published policy is always kept "
            "(set weaken_policy: true to weaken it)",
            version="1.0.0",
            collection_name="lms.mail",
        )
    records = RecordSet(build_provider(params), name, "TXT")
    published = [r for r in records.current if is_dmarc(r.value)]
    value = None
    kept: dict[str, dict[str, str]] = {}
    if params["state"] == "present":
        base = published[0].value if published else None
        if base is not None:
            _readable(name, base)
        if base is None and changes["p"] is None:
            raise DmarcError(f"{name} has no DMARC record yet: set policy (none, quarantine or reject)")
        if len(published) > 1:
            # receivers apply no DMARC policy at all while there are several: none is in force
            module.warn(
                f"{name} had {len(published)} DMARC records, so receivers applied none; "
                "they are merged into one with the tags asked"
            )
        elif not params["weaken_policy"]:
            for tag, (was, asked) in weaker_changes(base, changes).items():
                kept[tag] = {"published": was, "asked": asked}
                changes[tag] = None  # None: the published value stays
            if kept:
                listing = "; ".join(
                    f"{tag}={v['published']}, stricter than the {'policy' if tag == 'p' else tag} asked "
                    f"({v['asked'] or 'removed'})"
                    for tag, v in kept.items()
                )
                module.warn(
                    f"{name} keeps {listing}: a published policy is never weakened unless weaken_policy: true"
                )
        try:
            value = merge_dmarc(base, changes)
        except DmarcError as exc:
            raise DmarcError(f"the DMARC record at {name} would be invalid: {exc}") from None
        for uri in report_uris(",".join(filter(None, [changes["rua"], changes["ruf"]]))):
            target = uri_domain(uri)
            if target and target != domain and not target.endswith("." + domain):
                module.warn(
                    f"reports go to {target}, another domain: it must publish "
                    f"{domain}._report._dmarc.{target} TXT 'v=DMARC1' to accept them (RFC 7489 7.1)"
                )

    result = records.ensure_one(value, is_dmarc, module.check_mode, same=same_policy, ttl=params["ttl"])
    record = result.first(is_dmarc)
    return result.output(
        module, name, "TXT", name=name, record=record, tags=parse_dmarc(record) if record else {}, kept=kept
    )


def main() -> None:
    options = {
        "domain": {"type": "str", "required": True},
        "policy": {"type": "str", "choices": list(POLICIES), "aliases": ["p"]},
        "weaken_policy": {"type": "bool", "default": False},
        "keep_stricter_policy": {"type": "bool"},
        "subdomain_policy": {"type": "str", "choices": list(POLICIES), "aliases": ["sp"]},
        "percent": {"type": "int", "aliases": ["pct"]},
        "rua": {"type": "list", "elements": "str"},
        "ruf": {"type": "list", "elements": "str"},
        "adkim": {"type": "str", "choices": ["r", "s"]},
        "aspf": {"type": "str", "choices": ["r", "s"]},
        "fo": {"type": "str"},
        "ri": {"type": "int"},
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    }
    run_record_module(run, options)


if __name__ == "__main__":
    main()
