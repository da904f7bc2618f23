#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: dns_records_wait
short_description: Wait until a zone's authoritative name servers answer with records just published
version_added: 0.1.0
description:
  - Read-only. After records were published through a provider's API or an RFC 2136 update,
    asks each authoritative name server of each record's zone directly (without recursion, so
    no cache stands in between) until every one answers with the record, or until O(timeout)
    seconds are spent.
  - The servers are the zone's NS records, found through O(resolver); O(nameservers) names them
    instead (a primary on another port, a test server).
  - Bounded and reported, never failing for a record still missing - RV(ready) says whether every
    server answers with every record, RV(waited) how long it took, and RV(missing) what each
    server still answered instead. Judging the records is left to the next task
    (M(lms.mail.mail_dns_info)).
  - TXT records match by their joined value (however they are split into strings), names (PTR,
    CNAME) case and final dot aside, addresses as addresses.
author: lms.mail developers (@lms-mail)
extends_documentation_fragment:
  - lms.mail.read_only
  - lms.mail.read_only.posix
  - lms.mail.dns_provider.resolver
options:
  records:
    description:
      - The records to wait for, each with C(name), C(type) (TXT, PTR, A, AAAA, CNAME or MX) and
        C(value) (a TXT value unsplit and unquoted; MX as C(preference exchange)). Other keys are
        ignored, so the dns role's C(dns_published) can be given as it is.
    type: list
    elements: dict
    required: true
  resolver:
    description:
      - Addresses of the DNS servers that find each zone and its name servers; without it, the
        controller's resolvers.
  nameservers:
    description: Addresses of the authoritative servers to ask, instead of the zones' NS records.
    type: list
    elements: str
  nameserver_port:
    description: Port of the O(nameservers).
    type: int
    default: 53
  timeout:
    description: Seconds to wait at most, over all rounds.
    type: float
    default: 300
  interval:
    description: Seconds between two rounds of questions.
    type: float
    default: 5
  query_timeout:
    description: Seconds to wait for each answer.
    type: float
    default: 3
attributes:
  check_mode:
    details: The module never changes anything; in check mode nothing was published, so it does not wait.
requirements:
  - dnspython
"""

EXAMPLES = r"""
- name: Wait until the name servers serve the records the dns role published
  lms.mail.dns_records_wait:
    records: "{{ dns_published }}"
    timeout: 300
  delegate_to: localhost
  register: served

- name: Say how long it took
  ansible.builtin.debug:
    msg: "{{ served.report }}"
"""

RETURN = r"""
ready:
  description: Whether every authoritative server answered with every record.
  returned: always
  type: bool
waited:
  description: Seconds spent.
  returned: always
  type: float
  sample: 12.3
rounds:
  description: Rounds of questions.
  returned: always
  type: int
records:
  description: How many distinct records were waited for.
  returned: always
  type: int
servers:
  description: Each zone and the servers asked, C(name (address)).
  returned: always
  type: dict
  sample: {"school.example": ["ns1.host.example (192.0.2.53)"]}
missing:
  description: For each record a server still did not answer with, what that server answered.
  returned: always
  type: list
  elements: str
  sample:
    - "_dmarc.school.example TXT at ns1.host.example (192.0.2.53): NXDOMAIN (the name does not exist there)"
report:
  description: One sentence saying all of the above.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.lms.mail.plugins.module_utils.dns_module import run_module
from ansible_collections.lms.mail.plugins.module_utils.dns_wait import DnsAsker, expected_records, wait_for


def run(module: AnsibleModule) -> dict:
    params = module.params
    records = expected_records(params["records"])
    for option in ("timeout", "interval", "query_timeout"):
        if not 0 <= params[option] <= 86400:
            raise ValueError(f"{option}: {params[option]} is not between 0 and 86400 seconds")
    if module.check_mode or not records:
        why = "check mode: nothing was published" if records else "no records to wait for"
        return {"changed": False, "ready": True, "waited": 0.0, "rounds": 0, "records": len(records),
                "servers": {}, "missing": [], "report": f"not waited ({why})"}  # fmt: skip
    asker = DnsAsker(
        params["resolver"], params["resolver_port"], params["nameservers"], params["nameserver_port"],
        params["query_timeout"],
    )  # fmt: skip
    outcome = wait_for(records, asker.servers_of, asker.ask, params["timeout"], params["interval"])
    return {"changed": False, **outcome.as_dict()}


def main() -> None:
    run_module(
        run,
        {
            "records": {"type": "list", "elements": "dict", "required": True},
            "resolver": {"type": "list", "elements": "str"},
            "resolver_port": {"type": "int", "default": 53},
            "nameservers": {"type": "list", "elements": "str"},
            "nameserver_port": {"type": "int", "default": 53},
            "timeout": {"type": "float", "default": 300.0},
            "interval": {"type": "float", "default": 5.0},
            "query_timeout": {"type": "float", "default": 3.0},
        },
    )


if __name__ == "__main__":
    main()
