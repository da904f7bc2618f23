#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: warn
short_description: Print an Ansible warning from a play
version_added: 0.1.0
description:
  - "Prints each message as an Ansible warning (C([WARNING]: ...)), the way modules report
    theirs, instead of an ok line as M(ansible.builtin.debug) does. The roles' preflight uses it
    for findings that do not stop the run."
  - Runs on the controller (an action plugin); changes nothing.
author: lms.mail developers (@lms-mail)
extends_documentation_fragment:
  - lms.mail.read_only
  - ansible.builtin.action_common_attributes
options:
  msg:
    description: The warning, or a list of warnings. White space runs are folded to one space.
    type: raw
    required: true
attributes:
  platform:
    platforms: all
"""

EXAMPLES = r"""
- name: Warn about a relay login that is about to stop working
  lms.mail.warn:
    msg: "{{ postfix_relay_preset | lms.mail.relay_auth_warnings(postfix_relay_auth) }}"
  when: postfix_relay_preset | lms.mail.relay_auth_warnings(postfix_relay_auth) | length > 0
"""

RETURN = r"""
msg:
  description: The warnings printed.
  returned: always
  type: list
  elements: str
"""
