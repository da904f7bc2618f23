#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: mailbox_message_info
short_description: Wait for a message in an IMAP mailbox and report what the receiver said about it
version_added: 0.1.0
description:
  - Read-only. Logs in to an IMAP mailbox, waits until a message whose Subject contains
    O(subject_contains) is there, and returns its header and the receiver's verdicts from its
    C(Authentication-Results) fields (RFC 8601) - SPF, DKIM, DMARC and any other method.
  - Only the fields whose authserv-id is one of O(authserv_ids) are believed. Any server on
    the way, the sender included, can add an C(Authentication-Results) field and name any
    authserv-id in it; the others are left out and listed in RV(ignored_authserv_ids).
  - The mailbox is opened with C(EXAMINE) and headers are read with C(BODY.PEEK), so nothing
    changes - the message stays unread, no flag is set.
  - The newest matching message is reported (the highest UID), so a marker sent again is
    found in its latest copy.
  - It also judges the message as a deliverability check would - SPF passed, a DKIM signature
    aligned with the From domain passed, DMARC passed - in RV(aligned) and RV(problems).
author: lms.mail developers (@lms-mail)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  imap_host:
    description: The IMAP server's host name or address.
    type: str
    required: true
  imap_port:
    description: The IMAP server's port. Defaults to C(993) for O(imap_tls=imaps), C(143) otherwise.
    type: int
  imap_tls:
    description:
      - C(imaps) - TLS from the first byte (usually port 993).
      - C(starttls) - plain IMAP upgraded with STARTTLS before the login (usually port 143).
      - C(none) - no TLS; the password crosses the network in clear. For a server on the same
        host or a test network only.
    type: str
    choices: [imaps, starttls, none]
    default: imaps
  validate_certs:
    description:
      - Verify the server's certificate and that it names O(imap_host).
      - Turn off only for a test server; then anyone on the path can read the password.
    type: bool
    default: true
  imap_ca_file:
    description:
      - A file of CA certificates (PEM) to verify the server's certificate with, instead of the
        system's CAs. On the host the module runs on - the controller, with C(delegate_to=localhost).
      - For a server whose certificate a private CA signed.
    type: path
  imap_user:
    description: The login name.
    type: str
    required: true
  imap_password:
    description: The login password.
    type: str
    required: true
  mailbox:
    description:
      - The mailbox (folder) to look in, e.g. C(INBOX), C(Junk), C(INBOX.Spam) or C(INBOX/Spam)
        depending on the server's hierarchy separator.
    type: str
    default: INBOX
  subject_contains:
    description:
      - Text the Subject contains, compared without regard to case, as IMAP C(SEARCH SUBJECT)
        does; each candidate's Subject is decoded and checked again before it is reported.
      - Use a marker unique to one run (a timestamp or random token), so an older message is
        never taken for the new one.
    type: str
    required: true
  authserv_ids:
    description:
      - The receiving server's own authserv-ids - what its SPF, DKIM and DMARC checkers write
        first in their C(Authentication-Results) fields (OpenDKIM's and OpenDMARC's
        C(AuthservID), policyd-spf's C(Authserv_Id); by default the host name, e.g.
        C(mx.students.test); C(mx.google.com) at Gmail).
      - Compared without regard to case; C(id/jobid) (C(AuthservIDWithJobID)) counts as C(id).
    type: list
    elements: str
    required: true
  timeout:
    description: Seconds to wait for the message to arrive. C(0) looks once.
    type: float
    default: 180
  poll_interval:
    description: Seconds between two looks into the mailbox.
    type: float
    default: 5
notes:
  - Each network operation (connecting, the TLS handshake, an IMAP command) waits at most
    O(timeout) seconds, but never less than 5 and never more than 30.
  - The results are as trustworthy as the receiver makes them - RFC 8601 asks a receiver to
    remove fields that bear its own authserv-id from incoming mail before adding its own.
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
    details: The module never changes anything; check mode runs it the same way.
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: A marker unique to this run
  ansible.builtin.set_fact:
    marker: "lms-{{ now(utc=true, fmt='%Y%m%d%H%M%S') }}"

- name: Send a marked message from the Moodle server
  ansible.builtin.command:
    cmd: /usr/sbin/sendmail -f noreply@school.example student@students.example
    stdin: "Subject: deliverability {{ marker }}\n\nA test from lms.mail.\n"
  changed_when: true

- name: Wait for it at the receiver and read its verdicts
  lms.mail.mailbox_message_info:
    imap_host: imap.students.example
    imap_user: student@students.example
    imap_password: "{{ vault_student_password }}"
    subject_contains: "{{ marker }}"
    authserv_ids: [mx.students.example]
    timeout: 300
  delegate_to: localhost
  register: received

- name: Fail unless SPF, DKIM and DMARC passed
  ansible.builtin.assert:
    that:
      - received.auth.spf.result | default('') == 'pass'
      - received.auth.dkim | selectattr('result', 'eq', 'pass') | list | length > 0
      - received.auth.dmarc.result | default('') == 'pass'
    fail_msg: "{{ received.authentication_results }}"

- name: A server whose certificate a private CA signed, over STARTTLS, in the Junk folder
  lms.mail.mailbox_message_info:
    imap_host: mail.students.internal
    imap_tls: starttls
    imap_ca_file: "{{ playbook_dir }}/files/students-ca.pem"
    imap_user: student
    imap_password: "{{ vault_student_password }}"
    mailbox: Junk
    subject_contains: "{{ marker }}"
    authserv_ids: [mx.students.internal]
    timeout: 30
  delegate_to: localhost
"""

RETURN = r"""
message:
  description: The message found.
  returned: success
  type: dict
  contains:
    uid:
      description: Its IMAP UID in O(mailbox).
      type: int
    subject:
      description: The Subject, decoded.
      type: str
    from:
      description: The From field, decoded.
      type: str
    to:
      description: The To field, decoded.
      type: str
    date:
      description: The Date field.
      type: str
    message_id:
      description: The Message-ID field.
      type: str
    return_path:
      description: The Return-Path the receiver recorded (the envelope sender); empty when none.
      type: str
    received:
      description: The Received fields, topmost (the last hop) first, unfolded.
      type: list
      elements: str
    headers:
      description: Every header field, in order, as C([name, value]) with the value unfolded.
      type: list
      elements: list
  sample:
    uid: 42
    subject: "deliverability lms-20260101120000"
    from: "Moodle <noreply@school.example>"
    to: student@students.example
    date: "Thu, 01 Jan 2026 12:00:00 +0000"
    message_id: "<20260101120000.4ABC@school.example>"
    return_path: "<noreply@school.example>"
    received: ["from moodle.school.example (moodle.school.example [192.0.2.10]) by mx.students.example ..."]
    headers: [["Return-Path", "<noreply@school.example>"], ["Subject", "deliverability lms-20260101120000"]]
authentication_results:
  description:
    - The results of the trusted C(Authentication-Results) fields, topmost field first, each
      field's results in its order.
    - C(properties) maps C(ptype.property) in lower case (C(header.d), C(header.from),
      C(smtp.mailfrom), C(policy.*)) to its value.
  returned: success
  type: list
  elements: dict
  sample:
    - authserv_id: mx.students.example
      method: dkim
      result: pass
      reason: null
      comment: "2048-bit key; unprotected"
      properties: {"header.d": "school.example", "header.s": "202601", "header.b": "AbCd1234"}
    - authserv_id: mx.students.example
      method: spf
      result: pass
      reason: null
      comment: sender SPF authorized
      properties: {"smtp.mailfrom": "school.example"}
auth:
  description:
    - The verdicts a deliverability check asks about, from RV(authentication_results) -
      C(spf) and C(dmarc) the first trusted result of that method (null when none), C(dkim)
      every trusted DKIM result (one per signature).
  returned: success
  type: dict
  sample:
    spf: {"authserv_id": "mx.students.example", "method": "spf", "result": "pass", "reason": null,
          "comment": "sender SPF authorized", "properties": {"smtp.mailfrom": "school.example"}}
    dkim: []
    dmarc: null
from_domain:
  description:
    - The domain of the From field's address (RFC 5322.From), the one DMARC judges, in lower
      case; empty when the field holds no single address.
  returned: success
  type: str
  sample: school.example
aligned:
  description:
    - The signing domains (C(header.d)) of the passing trusted DKIM results aligned with
      RV(from_domain) - equal, or one a subdomain of the other (relaxed alignment, RFC 7489
      section 3.1.1, without the public suffix list). Empty when no signature counts for DMARC.
  returned: success
  type: list
  elements: str
  sample: [school.example]
problems:
  description:
    - The receiver's verdict - what its trusted results say is wrong, each as a sentence that
      names the fix - SPF not C(pass), no passing DKIM signature aligned with RV(from_domain),
      DMARC not C(pass). Empty when the message was accepted as signed, aligned and authorised.
  returned: success
  type: list
  elements: str
  sample: ["the receiver found DMARC fail for school.example"]
report:
  description:
    - "RV(authentication_results), one line each - C(authserv-id: method=result ptype.property=value ...)."
  returned: success
  type: list
  elements: str
  sample: ["mx.students.example: spf=pass smtp.mailfrom=school.example"]
ignored_authserv_ids:
  description: The authserv-ids of the C(Authentication-Results) fields left out, each once.
  returned: success
  type: list
  elements: str
  sample: [mail.attacker.example]
waited:
  description: Seconds from the start until the message was found.
  returned: success
  type: float
  sample: 12.4
error:
  description:
    - On failure, what went wrong - C(ConnectionFailed), C(CertificateNotTrusted), C(TlsFailed),
      C(LoginFailed), C(MailboxNotFound), C(MessageNotFound) or C(ImapError).
  returned: failure
  type: str
  sample: MessageNotFound
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.lms.mail.plugins.module_utils.imap import MailboxError, wait_for_message


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "imap_host": {"type": "str", "required": True},
            "imap_port": {"type": "int"},
            "imap_tls": {"type": "str", "default": "imaps", "choices": ["imaps", "starttls", "none"]},
            "validate_certs": {"type": "bool", "default": True},
            "imap_ca_file": {"type": "path"},
            "imap_user": {"type": "str", "required": True},
            "imap_password": {"type": "str", "required": True, "no_log": True},
            "mailbox": {"type": "str", "default": "INBOX"},
            "subject_contains": {"type": "str", "required": True},
            "authserv_ids": {"type": "list", "elements": "str", "required": True},
            "timeout": {"type": "float", "default": 180.0},
            "poll_interval": {"type": "float", "default": 5.0},
        },
        supports_check_mode=True,
    )
    try:
        result, problems = wait_for_message(module.params)
    except (MailboxError, ValueError) as exc:
        # Ansible masks no_log values in the output anyway; no message is built with the password
        module.fail_json(msg=str(exc), error=type(exc).__name__)
    for problem in problems:
        module.warn(problem)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
