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
author: lms.mail contributors
extends_documentation_fragment:
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
  keep_stricter_policy:
    description:
      - Keep a published C(p=) that is stricter than O(policy) (V(reject) over V(quarantine) over
        V(none)) and warn, instead of weakening what the domain's owner chose.
    type: bool
    default: false
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
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
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
records:
  description: All TXT records at the name after the task.
  returned: always
  type: list
  elements: dict
"""

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
)
from ansible_collections.lms.mail.plugins.module_utils.dns_module import (
    PROVIDER_REQUIRED_IF,
    RecordSet,
    build_provider,
    provider_argument_spec,
    run_module,
    validate_domain,
)


def _uris(values: list[str] | None) -> str | None:
    if values is None:
        return None
    uris = []
    for value in values:
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


def run(module: AnsibleModule) -> dict:
    params = module.params
    domain = validate_domain(params["domain"])
    name = f"_dmarc.{domain}"
    changes = requested_tags(params)
    if params["state"] == "present":
        # validate the task's own tags before reading anything (the published ones come later)
        merge_dmarc(None, dict(changes, p=changes["p"] or "none"))

    records = RecordSet(build_provider(params), name, "TXT")
    published = [r for r in records.current if is_dmarc(r.value)]
    value = None
    if params["state"] == "present":
        base = published[0].value if published else None
        if base is None and changes["p"] is None:
            raise DmarcError(f"{name} has no DMARC record yet: set policy (none, quarantine or reject)")
        kept = parse_dmarc(base).get("p") if base and params["keep_stricter_policy"] else None
        if kept in POLICIES and changes["p"] and POLICIES.index(kept) > POLICIES.index(changes["p"]):
            module.warn(f"{name} keeps p={kept}, stricter than the policy asked ({changes['p']})")
            changes["p"] = kept
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
        module, name, "TXT", name=name, record=record, tags=parse_dmarc(record) if record else {}
    )


def main() -> None:
    argument_spec = provider_argument_spec()
    argument_spec.update(
        domain={"type": "str", "required": True},
        policy={"type": "str", "choices": list(POLICIES), "aliases": ["p"]},
        keep_stricter_policy={"type": "bool", "default": False},
        subdomain_policy={"type": "str", "choices": list(POLICIES), "aliases": ["sp"]},
        percent={"type": "int", "aliases": ["pct"]},
        rua={"type": "list", "elements": "str"},
        ruf={"type": "list", "elements": "str"},
        adkim={"type": "str", "choices": ["r", "s"]},
        aspf={"type": "str", "choices": ["r", "s"]},
        fo={"type": "str"},
        ri={"type": "int"},
        state={"type": "str", "choices": ["present", "absent"], "default": "present"},
    )
    run_module(run, argument_spec, PROVIDER_REQUIRED_IF)


if __name__ == "__main__":
    main()
