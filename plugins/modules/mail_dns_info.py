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
  - Only data and NXDOMAIN are answers. A lookup answered with REFUSED, SERVFAIL or any other
    code, or not answered at all, is a temperror - the check that needed it reports C(temperror)
    (in RV(temperrors), RV(problems) and the check's own C(temperror) flag), never "no record".
    When not one lookup is answered, the module fails.
author: lms.mail developers (@lms-mail)
extends_documentation_fragment:
  - lms.mail.read_only
  - lms.mail.read_only.posix
  - lms.mail.dns_provider.resolver
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
  timeout:
    description: Seconds to wait for each DNS answer.
    type: float
    default: 5
notes:
  - SPF is evaluated as RFC 7208 describes, with one simplification the RFC allows (section
    7.3) - the C(%{p}) macro (the client's validated host name) expands to C(unknown), as at a
    receiver that does not validate it. The RFC advises against C(%{p}); a record that relies
    on it may evaluate differently at receivers that do.
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
  description:
    - What a receiver would hold against this domain's mail, one sentence each.
    - Lookups DNS did not answer are listed too, starting with C(temperror:).
  returned: always
  type: list
  elements: str
report:
  description:
    - What a receiver finds, as the verify role shows it - C(DNS domain:), then one line for each
      SPF result (or the record when no address was checked), DKIM selector, the DMARC record and
      each PTR.
  returned: always
  type: list
  elements: str
  sample: ["DNS school.example:", "  SPF pass for 192.0.2.10 (ip4:192.0.2.10)",
           "  DKIM 202601._domainkey.school.example: rsa key published, the signing key",
           "  DMARC v=DMARC1; p=none", "  PTR 192.0.2.10 -> mail.school.example, forward-confirmed"]
temperrors:
  description:
    - The lookups DNS did not answer (REFUSED, SERVFAIL, timeouts), each naming the server and its
      answer. The checks that needed them (C(temperror) true in C(spf), C(dkim), C(dmarc), C(ptr),
      C(hostname); result V(temperror) in C(spf.results)) conclude nothing.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.lms.mail.plugins.module_utils.dkim import (
    DkimError,
    key_name,
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
from ansible_collections.lms.mail.plugins.module_utils.dns_module import run_module
from ansible_collections.lms.mail.plugins.module_utils.dns_provider import TemporaryDnsError
from ansible_collections.lms.mail.plugins.module_utils.dns_values import (
    has_blank_or_control,
    validate_domain,
    validate_ip,
)
from ansible_collections.lms.mail.plugins.module_utils.mail_report import dns_report_lines
from ansible_collections.lms.mail.plugins.module_utils.spf import (
    SpfError,
    SpfTempError,
    check_host,
    count_lookups,
    is_spf,
    parse_spf,
    too_wide,
)


class Reader:
    """The DNS reads of one report. A read that DNS did not answer (REFUSED, SERVFAIL, a timeout)
    is a temperror: it is recorded, and the check that needed it concludes nothing."""

    def __init__(self, lookup: DnsLookup, problems: list[str]):
        self.lookup = lookup
        self.problems = problems
        self.temperrors: list[str] = []

    def __call__(self, what: str, read, *args):
        """read(*args), or None after recording the temperror (what: the check that needed it)."""
        try:
            return read(*args)
        except SpfTempError as exc:
            text = f"temperror: {what} could not be read, nothing is concluded about it: {exc}"
            self.temperrors.append(text)
            self.problems.append(text)
            return None


def spf_info(read: Reader, domain: str, ips: list[str], sender: str, helo: str, problems: list) -> dict:
    info: dict = {
        "found": False,
        "record": "",
        "records": [],
        "lookups": 0,
        "lookup_chain": "",
        "lookup_problems": [],
        "authorised": {},
        "results": {},
        "temperror": False,
    }
    values = read(f"the SPF record of {domain}", read.lookup.txt, domain)
    if values is None:
        info["temperror"] = True
        for ip in ips:
            info["results"][ip] = {"result": "temperror", "mechanism": "", "reason": read.temperrors[-1]}
            info["authorised"][ip] = False
        return info
    records = [v for v in values if is_spf(v)]
    info.update(found=len(records) == 1, record=records[0] if records else "", records=records)
    if not records:
        problems.append(f"{domain} publishes no SPF record")
    elif len(records) > 1:
        problems.append(f"{domain} publishes {len(records)} SPF records: every receiver returns permerror")
    else:
        try:
            wide = [too_wide(term) for term in parse_spf(records[0]).terms]
        except SpfError:
            wide = []  # check_host below reports the permerror
        for why in filter(None, wide):
            problems.append(f"the SPF record of {domain} has {why}: SPF does not tell a forger from {domain}")
        counted = count_lookups(records[0], domain, read.lookup.txt)
        info.update(
            lookups=counted.count,
            lookup_chain=" -> ".join(counted.chain or []),
            lookup_problems=counted.problems,
        )
        if counted.exceeded:
            problems.append(counted.message())
        for problem in counted.permerrors:
            problems.append(f"SPF of {domain}: {problem}")
        for problem in counted.temperrors:
            text = f"temperror: SPF of {domain}: {problem}"
            read.temperrors.append(text)
            problems.append(text)
    for ip in ips:
        result = check_host(ip, domain, read.lookup, sender=sender, helo=helo)
        info["results"][ip] = {
            "result": result.result,
            "mechanism": result.mechanism,
            "reason": result.reason,
        }
        info["authorised"][ip] = result.result == "pass"
        if result.result == "temperror":
            text = f"temperror: SPF of {domain} for {ip} could not be evaluated: {result.reason}"
            read.temperrors.append(text)
            problems.append(text)
        elif result.result != "pass":
            problems.append(f"SPF of {domain} gives {result.result} for {ip} ({result.reason})")
    return info


def dkim_info(read: Reader, domain: str, selector: str, expected: str | None, problems: list) -> dict:
    name = key_name(domain, selector)
    info: dict = {"name": name, "found": False, "record": "", "valid": False, "temperror": False}
    info.update(key_type="", public_key="", key_bits=None, matches=None, error="")
    values = read(f"the DKIM key at {name}", read.lookup.txt, name)
    if values is None:
        info["temperror"] = True
        return info
    keys = [v for v in values if "p=" in v]
    info.update(found=bool(keys), record=keys[0] if keys else "")
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
        wanted = _expected_key(expected, info["key_type"] or "rsa", selector)
        info["matches"] = bool(info["public_key"]) and info["public_key"] == wanted
        if not info["matches"]:
            problems.append(f"the key published at {name} is not the signing server's key")
    return info


def _expected_key(expected: str, key_type: str, selector: str) -> str:
    try:
        wanted = public_key_value(expected, key_type)[0]
    except DkimError as exc:
        raise ValueError(f"dkim_keys[{selector!r}] is not a usable public key: {exc}") from None
    return wanted


def dmarc_info(read: Reader, domain: str, problems: list) -> dict:
    name = f"_dmarc.{domain}"
    info: dict = {"name": name, "found": False, "record": "", "temperror": False}
    info.update(tags={}, valid=False, error="")
    values = read(f"the DMARC record at {name}", read.lookup.txt, name)
    if values is None:
        info["temperror"] = True
        return info
    records = [v for v in values if is_dmarc(v)]
    info.update(found=len(records) == 1, record=records[0] if records else "")
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


def ptr_info(read: Reader, ip: str, hostname: str | None, problems: list) -> dict:
    found = read(f"the PTR record of {ip}", fcrdns, read.lookup, ip)
    if found is None:
        return {"names": [], "fcrdns": None, "matches_hostname": None, "temperror": True}
    names, confirmed = found
    matches = hostname in names if hostname else None
    if not names:
        problems.append(f"{ip} has no PTR record (reverse DNS)")
    elif not confirmed:
        problems.append(f"reverse DNS of {ip} ({', '.join(names)}) does not resolve back to {ip}")
    if hostname and names and not matches:
        problems.append(f"the PTR of {ip} ({', '.join(names)}) is not the HELO name {hostname}")
    return {"names": names, "fcrdns": confirmed, "matches_hostname": matches, "temperror": False}


def run(module: AnsibleModule) -> dict:
    return report(module.params)


def report(params: dict) -> dict:
    domain = validate_domain(params["domain"])
    ips = [validate_ip(ip, "ips") for ip in params["ips"]]
    hostname = validate_domain(params["hostname"], "hostname") if params["hostname"] else None
    expected_keys = {validate_selector(s): k for s, k in (params["dkim_keys"] or {}).items()}
    selectors = [validate_selector(s) for s in params["selectors"]]
    selectors += [s for s in expected_keys if s not in selectors]
    sender = params["sender"] or f"postmaster@{domain}"
    if has_blank_or_control(sender) or sender.count("@") != 1:
        raise ValueError(f"sender {sender!r} is not one address such as postmaster@{domain}")
    validate_domain(sender.rpartition("@")[2], "the domain of sender")

    lookup = DnsLookup(params["resolver"], params["resolver_port"], params["timeout"])
    problems: list[str] = []
    read = Reader(lookup, problems)
    result: dict = {"changed": False}
    result["spf"] = spf_info(read, domain, ips, sender, hostname or "", problems)
    result["dkim"] = {s: dkim_info(read, domain, s, expected_keys.get(s), problems) for s in selectors}
    result["dmarc"] = dmarc_info(read, domain, problems)
    result["ptr"] = {ip: ptr_info(read, ip, hostname, problems) for ip in ips}
    mx = read(f"the MX records of {domain}", lookup.mx_records, domain)
    result["mx"] = [{"preference": p, "host": h} for p, h in mx or []]
    if hostname:
        addresses = read(f"the addresses of {hostname}", lookup.addresses, hostname)
        result["hostname"] = {"name": hostname, "addresses": addresses or [], "temperror": addresses is None}
    if lookup.answered == 0 and read.temperrors:
        # not one answer: there is nothing to report at all
        raise TemporaryDnsError(f"DNS did not answer: {read.temperrors[0]}")
    result["temperrors"] = read.temperrors
    result["problems"] = problems
    result["report"] = dns_report_lines(domain, result)
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
