#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: dkim_record
short_description: Publish or retire one DKIM selector's public key
version_added: 0.1.0
description:
  - Publishes the DKIM key record C(<selector>._domainkey.<domain>) from a public key given as
    PEM, as OpenDKIM's C(selector.txt), as a DKIM record or as the bare C(p=) value.
  - The value is split into 255-byte strings, so 2048- and 4096-bit RSA keys publish correctly;
    the published key is compared by meaning, so a provider that splits or quotes differently
    never causes a change.
  - Only the DKIM record of that selector is changed; other selectors and other TXT records at
    the name are left alone. O(state=absent) removes a retired selector.
author: lms.mail developers (@lms-mail)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - lms.mail.dns_provider
options:
  domain:
    description: The signing domain (the C(d=) of the signatures).
    type: str
    required: true
  selector:
    description: The selector (the C(s=) of the signatures), e.g. V(mail) or V(202501).
    type: str
    required: true
  public_key:
    description:
      - The public key. Required with O(state=present).
      - Never give the private key; the module refuses one.
    type: str
  key_type:
    description: The key algorithm (C(k=) tag).
    type: str
    choices: [rsa, ed25519]
    default: rsa
  testing:
    description: Publish C(t=y) (testing mode; verifiers treat failures as unsigned).
    type: bool
    default: false
  state:
    description: V(present) publishes the key; V(absent) removes the selector's DKIM record.
    type: str
    choices: [present, absent]
    default: present
"""

EXAMPLES = r"""
- name: Publish the DKIM key OpenDKIM generated
  lms.mail.dkim_record:
    provider: digitalocean
    domain: school.example
    selector: "202501"
    public_key: "{{ lookup('ansible.builtin.file', 'keys/202501.pub') }}"
  delegate_to: localhost

- name: Retire the previous selector after the rotation
  lms.mail.dkim_record:
    provider: rfc2136
    server: ns1.school.example
    tsig_key_name: ansible
    tsig_key_secret: "{{ vault_tsig_secret }}"
    domain: school.example
    selector: "202407"
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
name:
  description: The name of the DKIM record.
  returned: always
  type: str
  sample: 202501._domainkey.school.example
record:
  description: The DKIM record after the task; empty with O(state=absent).
  returned: always
  type: str
  sample: v=DKIM1; k=rsa; p=MIIBIjANBgkqh...
key_bits:
  description: Size of the published key in bits, when it could be read.
  returned: when O(state=present)
  type: int
  sample: 2048
records:
  description: All TXT records at the name after the task.
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.lms.mail.plugins.module_utils import dkim
from ansible_collections.lms.mail.plugins.module_utils.dns_module import run_record_module
from ansible_collections.lms.mail.plugins.module_utils.dns_plan import RecordSet
from ansible_collections.lms.mail.plugins.module_utils.dns_registry import build_provider
from ansible_collections.lms.mail.plugins.module_utils.dns_values import validate_domain


def run(module: AnsibleModule) -> dict:
    params = module.params
    name = dkim.key_name(validate_domain(params["domain"]), dkim.validate_selector(params["selector"]))
    value, extra = None, {}
    if params["state"] == "present":
        try:
            value, bits = dkim.key_record(params["public_key"], params["key_type"], params["testing"])
        except dkim.DkimError as exc:
            raise dkim.DkimError(f"public_key: {exc}") from None
        extra["key_bits"] = bits

    records = RecordSet(build_provider(params), name, "TXT")
    is_dkim = dkim.is_dkim
    result = records.ensure_one(value, is_dkim, module.check_mode, same=dkim.same_record, ttl=params["ttl"])
    return result.output(module, name, "TXT", name=name, record=result.first(is_dkim), **extra)


def main() -> None:
    options = {
        "domain": {"type": "str", "required": True},
        "selector": {"type": "str", "required": True},
        # a public key is not a secret; no_log would only hide what the user needs to check
        "public_key": {"type": "str", "no_log": False},
        "key_type": {"type": "str", "choices": list(dkim.KEY_TYPES), "default": "rsa"},
        "testing": {"type": "bool", "default": False},
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    }
    run_record_module(run, options, ("state", "present", ("public_key",)))


if __name__ == "__main__":
    main()
