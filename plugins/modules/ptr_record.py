#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: ptr_record
short_description: Point an IP address's reverse DNS (PTR) at the mail server's host name
version_added: 0.1.0
description:
  - Sets the PTR record of an IPv4 or IPv6 address to a host name, leaving no PTR to another
    name; with O(state=absent), removes it.
  - V(rfc2136) and V(cloudflare) write the PTR into the reverse zone (C(in-addr.arpa) or
    C(ip6.arpa)) when the provider serves it; V(digitalocean) renames the droplet that holds the
    address, which is how DigitalOcean sets reverse DNS.
  - When the provider cannot set the PTR (no reverse zone, no droplet with that address), the
    module fails with the instruction for the hosting provider's control panel.
  - Returns whether forward-confirmed reverse DNS holds (PTR to the name, and the name's A or
    AAAA records contain the address), which receivers check before accepting mail.
author: lms.mail developers (@lms-mail)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - lms.mail.dns_provider
  - lms.mail.dns_provider.resolver
options:
  ip:
    description: The sending server's public IPv4 or IPv6 address.
    type: str
    required: true
  hostname:
    description:
      - The host name the address must resolve back to (the server's HELO name).
      - Required with O(state=present). With O(state=absent), only a PTR naming this host is
        removed; without it, every PTR of the address.
    type: str
  state:
    description:
      - V(present) points the address at O(hostname); V(absent) removes its PTR.
      - On V(digitalocean) the PTR is the droplet's name and cannot be removed, so V(absent) fails
        when the droplet's name is the PTR to remove, and changes nothing otherwise.
    type: str
    choices: [present, absent]
    default: present
notes:
  - The forward check reads the host name's A/AAAA records through the provider when it serves
    the name's zone (so a record created just before counts), otherwise through O(resolver).
  - That check runs before anything is written. A server that answers it with REFUSED, SERVFAIL
    or not at all makes the module fail, naming the server and its answer, without a change.
"""

EXAMPLES = r"""
- name: Reverse DNS of the mail server (reverse zone on our BIND)
  lms.mail.ptr_record:
    provider: rfc2136
    server: ns1.school.example
    tsig_key_name: ansible
    tsig_key_secret: "{{ vault_tsig_secret }}"
    ip: 192.0.2.25
    hostname: mail.school.example
  delegate_to: localhost
  register: ptr

- name: Stop when receivers would not see forward-confirmed reverse DNS
  ansible.builtin.assert:
    that: ptr.fcrdns

- name: Retire the reverse DNS of an old address
  lms.mail.ptr_record:
    provider: rfc2136
    server: ns1.school.example
    tsig_key_name: ansible
    tsig_key_secret: "{{ vault_tsig_secret }}"
    ip: 192.0.2.24
    hostname: oldmail.school.example
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
ptr:
  description: The PTR names of the address after the task (in check mode, what they would be).
  returned: always
  type: list
  elements: str
  sample: [mail.school.example]
previous:
  description: The PTR names before the task.
  returned: always
  type: list
  elements: str
fcrdns:
  description: Whether a PTR name resolves back to the address (forward-confirmed reverse DNS).
  returned: always
  type: bool
forward_addresses:
  description: The addresses of O(hostname) of the same IP version.
  returned: always
  type: list
  elements: str
"""

import ipaddress

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.lms.mail.plugins.module_utils.dns_lookup import DnsLookup, PublishedLookup
from ansible_collections.lms.mail.plugins.module_utils.dns_module import run_record_module
from ansible_collections.lms.mail.plugins.module_utils.dns_output import record_diff
from ansible_collections.lms.mail.plugins.module_utils.dns_provider import (
    DnsError,
    Record,
    TemporaryDnsError,
    reverse_name,
)
from ansible_collections.lms.mail.plugins.module_utils.dns_records import DEFAULT_TTL
from ansible_collections.lms.mail.plugins.module_utils.dns_registry import build_provider
from ansible_collections.lms.mail.plugins.module_utils.dns_values import validate_domain, validate_ip
from ansible_collections.lms.mail.plugins.module_utils.spf import SpfTempError

# addresses a server may have on its interface but never shows to a receiver (RFC 1918, CGNAT,
# unique local); the documentation ranges are left out because labs and tests use them
_INTERNAL = [
    ipaddress.ip_network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
]


def run(module: AnsibleModule) -> dict:
    params = module.params
    ip = ipaddress.ip_address(validate_ip(params["ip"]))
    if ip.is_loopback or ip.is_link_local or any(ip in net for net in _INTERNAL if net.version == ip.version):
        module.warn(f"{ip} is not a public address: receivers see the server's public address, not this one")
    hostname = validate_domain(params["hostname"], "hostname") if params["hostname"] else None
    present = params["state"] == "present"

    provider = build_provider(params)
    current = provider.get_ptr(str(ip))
    previous = [r.value.rstrip(".").lower() for r in current]
    # the names the PTR gives once the task is done: the host name (also as written differently,
    # which names the same host), or what stays after the removal
    if present:
        after = [hostname] * max(1, previous.count(hostname))
    else:
        after = [v for v in previous if hostname not in (None, v)]

    # Forward-confirmed reverse DNS is read before anything is written: a DNS server that does
    # not answer (REFUSED, SERVFAIL, a timeout) says nothing about the name, so the task stops
    # there rather than change the PTR on data it does not have.
    lookup = PublishedLookup(
        provider, lambda: DnsLookup(params["resolver"], params["resolver_port"], params["timeout"])
    )
    addresses: list[str] = []
    confirmed = False
    for name in dict.fromkeys(after):
        try:
            found = lookup.addresses(name, ip.version)
        except (SpfTempError, DnsError) as exc:
            raise TemporaryDnsError(
                f"the PTR of {ip} was not changed: the addresses of {name} could not be read ({exc}). "
                "Run again once DNS answers."
            ) from None
        if name == hostname:
            addresses = found
        if any(ipaddress.ip_address(a) == ip for a in found):
            confirmed = True

    # The provider decides what to write; check mode asks it the same question with dry_run, so
    # the prediction is the real run's answer.
    if present:
        # the provider decides, also when only the TTL asked for differs
        changed = provider.set_ptr(str(ip), hostname, params["ttl"], dry_run=module.check_mode)
        if not changed:
            after = previous
    else:
        doomed = [v for v in previous if hostname in (None, v)]
        changed = bool(doomed) and provider.delete_ptr(str(ip), hostname, dry_run=module.check_mode)
        if not changed:
            after = previous
    if present and not confirmed:
        kind = "A" if ip.version == 4 else "AAAA"
        module.warn(
            f"forward-confirmed reverse DNS does not hold: {hostname} has no {kind} record {ip}. "
            f"Publish {hostname} {kind} {ip}, or receivers may refuse the server's mail."
        )

    name = reverse_name(str(ip))
    output = {
        "changed": changed,
        "ptr": after,
        "previous": previous,
        "fcrdns": confirmed,
        "forward_addresses": addresses,
    }
    if module._diff:
        ttl = current[0].ttl if current else DEFAULT_TTL
        output["diff"] = record_diff(
            name,
            "PTR",
            [Record(name, "PTR", v, ttl) for v in previous],
            [Record(name, "PTR", v, ttl if params["ttl"] is None else params["ttl"]) for v in after],
        )
    return output


def main() -> None:
    options = {
        "ip": {"type": "str", "required": True},
        "hostname": {"type": "str"},
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    }
    run_record_module(run, options, ("state", "present", ("hostname",)), resolver=True)


if __name__ == "__main__":
    main()
