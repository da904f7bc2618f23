#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: spf_record
short_description: Merge mechanisms into a domain's one SPF record
version_added: 0.1.0
description:
  - Ensures SPF mechanisms (C(ip4), C(ip6), C(a), C(mx), C(include), C(exists), ...) are present
    in, or absent from, the single SPF record of a domain.
  - The record is merged in place. Mechanisms the task does not name keep their text and order,
    the C(all) qualifier is kept unless O(all) is set, new mechanisms go just before C(all).
    A second SPF record is never created; other TXT records at the name are never touched.
  - Two existing SPF records (a permerror at every receiver) make the module fail, unless
    O(merge_duplicates) asks to merge them into one.
  - Counts the DNS lookups of the resulting record recursively (RFC 7208 section 4.6.4; include,
    a, mx, ptr, exists, redirect) and fails before writing when they exceed 10, naming the chain
    of includes that leads to the 11th.
  - Refuses to publish a record whose include or redirect target publishes no SPF record (or
    several, or an invalid one, or loops) - receivers return permerror for the whole record. The
    message names the include.
  - A DNS server that answers an include target's lookup with anything but data or NXDOMAIN
    (REFUSED, SERVFAIL) or not at all is a temporary error - the module fails, naming the server
    and its answer, and changes nothing.
  - Refuses to add a term that lets a large part of the Internet pass (V(+all), or a pass
    C(ip4)/C(ip6)/C(a)/C(mx) term wider than a /8 for IPv4 or a /32 for IPv6) unless
    O(allow_wide=true). Such terms already published by the domain's owner are kept, with a warning.
  - Warns when the TXT answer at the name no longer fits a 512-byte UDP response.
author: lms.mail developers (@lms-mail)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - lms.mail.dns_provider
  - lms.mail.dns_provider.resolver
options:
  domain:
    description: The domain whose SPF record (a TXT record at the domain itself) is managed.
    type: str
    required: true
  mechanisms:
    description:
      - SPF terms to make present or absent, as written in a record, e.g. V(ip4:192.0.2.10),
        V(include:_spf.mail.example), V(mx), V(-ip4:198.51.100.7), V(redirect=_spf.example).
      - A term matches an existing one with the same mechanism and target whatever its
        qualifier; with O(state=present) a different qualifier is replaced in place.
      - Do not list C(all) here; use O(all).
      - One term per item, without blanks or control characters.
    type: list
    elements: str
    default: []
  state:
    description: Whether the O(mechanisms) must be present or absent.
    type: str
    choices: [present, absent]
    default: present
  all:
    description:
      - The record's C(all) term. Unset keeps the existing one; a new record gets V(~all).
      - V(+all) lets every host pass SPF as the domain; it is refused unless O(allow_wide=true).
        A published record ending in V(+all) (or a bare C(all)) is kept as found, with a warning.
    type: str
    choices: ["-all", "~all", "?all", "+all"]
  allow_wide:
    description:
      - Publish V(+all) or a pass term wider than a /8 (IPv4) or a /32 (IPv6), such as
        V(ip4:0.0.0.0/0) or V(ip6:::/0), when the task asks for it. Such a record lets that
        whole network send mail as the domain, so SPF no longer tells a forger from the domain.
      - Without it (the default) the module fails before any change and names the term.
      - Terms the domain's owner published already are never removed by this module; they are
        kept with a warning.
    type: bool
    default: false
  merge_duplicates:
    description:
      - When the domain has two or more SPF records, merge them into one and delete the rest.
        The records are taken in sorted order; the first one's terms and C(all) come first,
        then the terms only the others have.
      - When false, such a domain makes the module fail without changing anything.
    type: bool
    default: false
  check_lookups:
    description:
      - Count the DNS lookups of the resulting record (following includes) and fail above 10, or
        when an include or redirect target has no usable SPF record or cannot be read.
      - Include targets in zones of the provider are read through the provider, others through
        O(resolver).
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Allow the Moodle server to send for school.example, keep the office's include
  lms.mail.spf_record:
    provider: cloudflare
    domain: school.example
    mechanisms:
      - ip4:192.0.2.10
      - ip6:2001:db8::10
  delegate_to: localhost

- name: Remove a retired relay, tighten the policy (RFC 2136 with TSIG)
  lms.mail.spf_record:
    provider: rfc2136
    server: ns1.school.example
    tsig_key_name: ansible
    tsig_key_secret: "{{ vault_tsig_secret }}"
    domain: school.example
    mechanisms: [ip4:198.51.100.7]
    state: absent
    all: "-all"
  delegate_to: localhost
"""

RETURN = r"""
record:
  description:
    - The SPF record after the task (in check mode, what it would be).
    - Empty when the domain has none.
  returned: always
  type: str
  sample: v=spf1 include:_spf.office.example ip4:192.0.2.10 ~all
previous:
  description: The SPF record before the task (records joined by C( | ) when there were several).
  returned: always
  type: str
  sample: v=spf1 include:_spf.office.example ~all
lookups:
  description:
    - DNS lookups a receiver makes to evaluate the record (RFC 7208 section 4.6.4).
    - V(-1) when not counted.
  returned: always
  type: int
  sample: 3
lookup_problems:
  description:
    - Include or redirect targets that could not be followed (no SPF record, loops, DNS failures).
    - Only ones that leave the record unchanged are returned; the others make the module fail.
  returned: always
  type: list
  elements: str
records:
  description: All TXT records at the domain after the task.
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.lms.mail.plugins.module_utils.dns_lookup import DnsLookup, PublishedLookup
from ansible_collections.lms.mail.plugins.module_utils.dns_module import run_record_module
from ansible_collections.lms.mail.plugins.module_utils.dns_plan import RecordSet
from ansible_collections.lms.mail.plugins.module_utils.dns_provider import DnsError, TemporaryDnsError
from ansible_collections.lms.mail.plugins.module_utils.dns_registry import build_provider
from ansible_collections.lms.mail.plugins.module_utils.dns_values import validate_domain
from ansible_collections.lms.mail.plugins.module_utils.spf import (
    SpfError,
    SpfTempError,
    combine_spf,
    count_lookups,
    is_spf,
    merge_spf,
    parse_spf,
    parse_term,
    too_wide,
)
from ansible_collections.lms.mail.plugins.module_utils.txt import udp_answer_size


def run(module: AnsibleModule) -> dict:
    params = module.params
    domain = validate_domain(params["domain"])
    # an empty item is nothing to do; anything else must be exactly one term
    terms = [t for t in params["mechanisms"] if t != ""]
    for term in terms:
        try:
            parse_term(term)  # a syntax error fails here, before the provider is contacted
        except SpfError as exc:
            raise SpfError(f"mechanisms: {exc}") from None
    _refuse_wide(params, terms)

    provider = build_provider(params)
    records = RecordSet(provider, domain, "TXT")
    spf = [r for r in records.current if is_spf(r.value)]
    previous = " | ".join(r.value for r in spf)
    if len(spf) > 1 and not params["merge_duplicates"]:
        listing = "; ".join(repr(r.value) for r in spf)
        raise SpfError(
            f"{domain} has {len(spf)} SPF records ({listing}): receivers treat that as a permerror "
            "and no SPF check passes. Set merge_duplicates: true to merge them into one."
        )
    base = combine_spf([r.value for r in spf]) if len(spf) > 1 else (spf[0].value if spf else None)

    present = terms if params["state"] == "present" else []
    absent = terms if params["state"] == "absent" else []
    if base is None and not present and params["all"] is None:
        # nothing to remove from a record that does not exist: do not create one
        wanted_value = None
    else:
        wanted_value = merge_spf(base, present, absent, params["all"])

    if wanted_value is not None:
        # kept, never changed behind the customer's back, but never silently either
        for term in parse_spf(wanted_value).terms:
            why = too_wide(term)
            if why and term.name == "all":
                module.warn(
                    f"the SPF record of {domain} ends in {term.text}: every host on the Internet passes "
                    f"SPF as {domain}, so SPF protects nothing. Set all: '~all' (or '-all') to fix it."
                )
            elif why:
                module.warn(
                    f"the SPF record of {domain} has {why}: all of it may send as {domain}. Remove "
                    f"it (state: absent, mechanisms: ['{term.text}']) unless that is intended."
                )

    lookups, problems = -1, []
    changes_record = wanted_value is not None and (len(spf) != 1 or spf[0].value != wanted_value)
    if wanted_value is not None and params["check_lookups"]:
        lookup = PublishedLookup(
            provider,
            lambda: DnsLookup(params["resolver"], params["resolver_port"], params["timeout"]),
        )
        counted = count_lookups(wanted_value, domain, _safe_txt(lookup))
        lookups, problems = counted.count, counted.problems
        if changes_record and counted.temperrors:
            raise TemporaryDnsError(
                f"the SPF record of {domain} was not changed: an include or redirect target could not "
                f"be read ({'; '.join(counted.temperrors)}). Run again once DNS answers."
            )
        if changes_record and counted.permerrors:
            raise SpfError(
                f"the SPF record of {domain} was not changed: receivers would return permerror for the "
                f"whole record because of {'; '.join(counted.permerrors)}. Remove that include or "
                "redirect (state: absent) or have its target publish one SPF record."
            )
        if counted.exceeded:
            if changes_record:
                raise SpfError(counted.message())
            module.warn(counted.message())
        for problem in problems:
            module.warn(f"SPF include/redirect target problem: {problem}")

    # with no wanted value there is no SPF record at all (see above): nothing to change
    result = records.ensure_one(wanted_value, is_spf, module.check_mode, ttl=params["ttl"])
    after_values = [r.value for r in result.after]
    size = udp_answer_size(domain, after_values)
    if size > 512:
        module.warn(
            f"the TXT answer at {domain} is {size} bytes, more than fits a 512-byte UDP response: "
            "receivers without EDNS must retry over TCP and some fail the SPF check. Shorten the "
            "record (fewer terms, ip ranges instead of single addresses) or move TXT records away."
        )
    return result.output(
        module,
        domain,
        "TXT",
        record=wanted_value or "",
        previous=previous,
        lookups=lookups,
        lookup_problems=problems,
    )


def _refuse_wide(params: dict, terms: list[str]) -> None:
    """The task's own terms (and all) that would let a large network pass, unless allowed."""
    if params["allow_wide"] or params["state"] != "present":
        return
    asked = [("mechanisms", parse_term(t)) for t in terms]
    if params["all"] is not None:
        asked.append(("all", parse_term(params["all"])))
    for what, term in asked:
        why = too_wide(term)
        if why:
            raise SpfError(
                f"{what}: {why}, so SPF would no longer tell a forger from {params['domain']}. Use the "
                "sending servers' own addresses or networks (at most a /8 for IPv4, a /32 for IPv6), "
                "or set allow_wide: true if that is really meant."
            )


def _safe_txt(lookup: PublishedLookup):
    def txt(name: str) -> list[str]:
        try:
            return lookup.txt(name)
        except DnsError as exc:
            # counting reads other zones; their failure is a problem to report, not a reason
            # to leave the record unpublished
            raise SpfTempError(str(exc)) from None

    return txt


def main() -> None:
    options = {
        "domain": {"type": "str", "required": True},
        "mechanisms": {"type": "list", "elements": "str", "default": []},
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        "all": {"type": "str", "choices": ["-all", "~all", "?all", "+all"]},
        "merge_duplicates": {"type": "bool", "default": False},
        "check_lookups": {"type": "bool", "default": True},
        "allow_wide": {"type": "bool", "default": False},
    }
    run_record_module(run, options, resolver=True)


if __name__ == "__main__":
    main()
