#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: mail_dns_info
short_description: Read a domain's mail DNS as a receiving server sees it
version_added: 0.1.0
description:
  - Read-only. For a domain, the sending IPs, DKIM selectors and the server's host name, reports
    SPF (the record, whether it authorises each IP, its DNS lookup count), DKIM (the published
    key and whether it matches a given public key), DMARC (the parsed policy), PTR and
    forward-confirmed reverse DNS of each IP, and the MX records.
  - SPF authorisation is evaluated as receivers do (RFC 7208 check_host over ip4, ip6, a, mx,
    include, exists, ptr, redirect and all), not matched as text.
  - Queries go to O(resolver) (address and port) so that a lab's own DNS server can answer;
    without it, to the controller's resolvers.
author: lms.mail contributors
options:
  domain:
    description: The sender domain (the part after C(@) of the From and envelope sender).
    type: str
    required: true
  ips:
    description: The addresses mail is sent from.
    type: list
    elements: str
    default: []
  selectors:
    description: DKIM selectors to read.
    type: list
    elements: str
    default: []
  dkim_keys:
    description:
      - Expected public keys by selector (PEM, a DKIM record or the C(p=) value); the result says
        whether the published key matches. Selectors named here are read even when not in
        O(selectors).
    type: dict
    default: {}
  hostname:
    description: The sending server's host name (HELO); checked against the PTR of each IP.
    type: str
  sender:
    description: Envelope sender used for SPF macros; defaults to C(postmaster@<domain>).
    type: str
  resolver:
    description: Addresses of the DNS servers to query.
    type: list
    elements: str
  resolver_port:
    description: Port of the O(resolver) servers.
    type: int
    default: 53
  timeout:
    description: Seconds to wait for each DNS answer.
    type: float
    default: 5
notes:
  - SPF is evaluated as RFC 7208 describes, with one simplification the RFC allows (section
    7.3) - the C(%{p}) macro (the client's validated host name) expands to C(unknown), as at a
    receiver that does not validate it. The RFC advises against C(%{p}); a record that relies
    on it may evaluate differently at receivers that do.
attributes:
  check_mode:
    support: full
    details: The module never changes anything.
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: What receivers see for the Moodle server's mail
  lms.mail.mail_dns_info:
    domain: school.example
    ips: [192.0.2.10]
    selectors: ["202501"]
    dkim_keys:
      "202501": "{{ lookup('ansible.builtin.file', 'keys/202501.pub') }}"
    hostname: mail.school.example
  delegate_to: localhost
  register: mail_dns

- name: Fail when SPF does not authorise the server
  ansible.builtin.assert:
    that: mail_dns.spf.authorised['192.0.2.10']
    fail_msg: "{{ mail_dns.problems | join('; ') }}"
"""

RETURN = r"""
spf:
  description: The SPF record and its evaluation.
  returned: always
  type: dict
  contains:
    found:
      description: Whether exactly one SPF record is published.
      type: bool
    record:
      description: The SPF record (the first, when several).
      type: str
    records:
      description: Every SPF record at the domain.
      type: list
      elements: str
    lookups:
      description: DNS lookups the record costs (RFC 7208 section 4.6.4).
      type: int
    lookup_chain:
      description: The path to the 11th lookup when over the limit.
      type: str
    lookup_problems:
      description: Include or redirect targets that could not be followed.
      type: list
      elements: str
    authorised:
      description: IP to whether check_host returns pass.
      type: dict
    results:
      description: IP to the check_host result, the matched mechanism and the reason.
      type: dict
  sample:
    found: true
    record: v=spf1 ip4:192.0.2.10 ~all
    authorised: {"192.0.2.10": true}
dkim:
  description: Selector to the published key, its validity and whether it matches O(dkim_keys).
  returned: always
  type: dict
  sample: {"202501": {"found": true, "record": "v=DKIM1; k=rsa; p=MIIB...", "matches": true}}
dmarc:
  description: The DMARC record and its tags.
  returned: always
  type: dict
  sample: {"found": true, "record": "v=DMARC1; p=none", "tags": {"v": "DMARC1", "p": "none"}}
ptr:
  description: IP to its PTR names, FCrDNS and whether a PTR name equals O(hostname).
  returned: always
  type: dict
  sample: {"192.0.2.10": {"names": ["mail.school.example"], "fcrdns": true, "matches_hostname": true}}
mx:
  description: The MX records, lowest preference first.
  returned: always
  type: list
  elements: dict
  sample: [{"preference": 10, "host": "mail.school.example"}]
hostname:
  description: O(hostname) and its addresses.
  returned: when O(hostname) is set
  type: dict
problems:
  description: What a receiver would hold against this domain's mail, one sentence each.
  returned: always
  type: list
  elements: str
"""

import ipaddress

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.lms.mail.plugins.module_utils.dkim import (
    DkimError,
    parse_tags,
    public_key_value,
    validate_selector,
)
from ansible_collections.lms.mail.plugins.module_utils.dmarc import (
    DmarcError,
    is_dmarc,
    parse_dmarc,
    validate_tags,
)
from ansible_collections.lms.mail.plugins.module_utils.dns_lookup import DnsLookup, fcrdns
from ansible_collections.lms.mail.plugins.module_utils.dns_module import run_module, validate_domain
from ansible_collections.lms.mail.plugins.module_utils.dns_provider import DnsError
from ansible_collections.lms.mail.plugins.module_utils.spf import (
    SpfTempError,
    check_host,
    count_lookups,
    is_spf,
)


def spf_info(lookup: DnsLookup, domain: str, ips: list[str], sender: str, helo: str, problems: list) -> dict:
    records = [v for v in lookup.txt(domain) if is_spf(v)]
    info: dict = {
        "found": len(records) == 1,
        "record": records[0] if records else "",
        "records": records,
        "lookups": 0,
        "lookup_chain": "",
        "lookup_problems": [],
        "authorised": {},
        "results": {},
    }
    if not records:
        problems.append(f"{domain} publishes no SPF record")
    elif len(records) > 1:
        problems.append(f"{domain} publishes {len(records)} SPF records: every receiver returns permerror")
    else:
        counted = count_lookups(records[0], domain, lookup.txt)
        info.update(
            lookups=counted.count,
            lookup_chain=" -> ".join(counted.chain or []),
            lookup_problems=counted.problems,
        )
        if counted.exceeded:
            problems.append(counted.message())
    for ip in ips:
        result = check_host(ip, domain, lookup, sender=sender, helo=helo)
        info["results"][ip] = {
            "result": result.result,
            "mechanism": result.mechanism,
            "reason": result.reason,
        }
        info["authorised"][ip] = result.result == "pass"
        if result.result != "pass":
            problems.append(f"SPF of {domain} gives {result.result} for {ip} ({result.reason})")
    return info


def dkim_info(lookup: DnsLookup, domain: str, selector: str, expected: str | None, problems: list) -> dict:
    name = f"{selector}._domainkey.{domain}"
    values = lookup.txt(name)
    keys = [v for v in values if "p=" in v]
    info: dict = {"name": name, "found": bool(keys), "record": keys[0] if keys else "", "valid": False}
    info.update(key_type="", public_key="", key_bits=None, matches=None, error="")
    if not keys:
        problems.append(f"no DKIM key is published at {name}")
    else:
        try:
            tags = parse_tags(keys[0])
            key_type = tags.get("k", "rsa")
            public, bits = public_key_value(tags.get("p", ""), key_type)
            info.update(valid=True, key_type=key_type, public_key=public, key_bits=bits)
        except DkimError as exc:
            info["error"] = str(exc)
            problems.append(f"the DKIM key at {name} is not usable: {exc}")
        if len(keys) > 1:
            problems.append(f"{name} publishes {len(keys)} DKIM keys; verifiers may pick either")
    if expected is not None:
        try:
            wanted, _ = public_key_value(expected, info["key_type"] or "rsa")
        except DkimError as exc:
            raise ValueError(f"dkim_keys[{selector!r}] is not a usable public key: {exc}") from None
        info["matches"] = bool(info["public_key"]) and info["public_key"] == wanted
        if not info["matches"]:
            problems.append(f"the key published at {name} is not the signing server's key")
    return info


def dmarc_info(lookup: DnsLookup, domain: str, problems: list) -> dict:
    name = f"_dmarc.{domain}"
    records = [v for v in lookup.txt(name) if is_dmarc(v)]
    info: dict = {"name": name, "found": len(records) == 1, "record": records[0] if records else ""}
    info.update(tags={}, valid=False, error="")
    if not records:
        problems.append(f"{domain} publishes no DMARC record at {name}")
        return info
    if len(records) > 1:
        info["error"] = f"{len(records)} DMARC records: receivers apply none"
        problems.append(f"{name}: {info['error']}")
        return info
    try:
        tags = parse_dmarc(records[0])
        validate_tags(tags)
        info.update(tags=tags, valid=True)
    except DmarcError as exc:
        info["error"] = str(exc)
        problems.append(f"the DMARC record at {name} is invalid: {exc}")
    return info


def ptr_info(lookup: DnsLookup, ip: str, hostname: str | None, problems: list) -> dict:
    names, confirmed = fcrdns(lookup, ip)
    matches = hostname in names if hostname else None
    if not names:
        problems.append(f"{ip} has no PTR record (reverse DNS)")
    elif not confirmed:
        problems.append(f"reverse DNS of {ip} ({', '.join(names)}) does not resolve back to {ip}")
    if hostname and names and not matches:
        problems.append(f"the PTR of {ip} ({', '.join(names)}) is not the HELO name {hostname}")
    return {"names": names, "fcrdns": confirmed, "matches_hostname": matches}


def run(module: AnsibleModule) -> dict:
    try:
        return report(module.params)
    except SpfTempError as exc:
        raise DnsError(f"DNS did not answer: {exc}") from None


def report(params: dict) -> dict:
    domain = validate_domain(params["domain"])
    ips = []
    for ip in params["ips"]:
        try:
            ips.append(str(ipaddress.ip_address(ip.strip())))
        except ValueError:
            raise ValueError(f"ips: {ip!r} is not an IPv4 or IPv6 address") from None
    hostname = validate_domain(params["hostname"], "hostname") if params["hostname"] else None
    expected_keys = {validate_selector(s): k for s, k in (params["dkim_keys"] or {}).items()}
    selectors = [validate_selector(s) for s in params["selectors"]]
    selectors += [s for s in expected_keys if s not in selectors]
    sender = params["sender"] or f"postmaster@{domain}"

    lookup = DnsLookup(params["resolver"], params["resolver_port"], params["timeout"])
    problems: list[str] = []
    result: dict = {"changed": False}
    result["spf"] = spf_info(lookup, domain, ips, sender, hostname or "", problems)
    result["dkim"] = {s: dkim_info(lookup, domain, s, expected_keys.get(s), problems) for s in selectors}
    result["dmarc"] = dmarc_info(lookup, domain, problems)
    result["ptr"] = {ip: ptr_info(lookup, ip, hostname, problems) for ip in ips}
    result["mx"] = [{"preference": p, "host": h} for p, h in lookup.mx_records(domain)]
    if hostname:
        result["hostname"] = {"name": hostname, "addresses": lookup.addresses(hostname)}
    result["problems"] = problems
    return result


def main() -> None:
    run_module(
        run,
        {
            "domain": {"type": "str", "required": True},
            "ips": {"type": "list", "elements": "str", "default": []},
            "selectors": {"type": "list", "elements": "str", "default": []},
            "dkim_keys": {"type": "dict", "default": {}, "no_log": False},
            "hostname": {"type": "str"},
            "sender": {"type": "str"},
            "resolver": {"type": "list", "elements": "str"},
            "resolver_port": {"type": "int", "default": 53},
            "timeout": {"type": "float", "default": 5.0},
        },
    )


if __name__ == "__main__":
    main()
