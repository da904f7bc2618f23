# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""lms.mail.warn: an Ansible warning ([WARNING]: ...) from a play, for preflight findings that
do not stop the run but must not drown among ok lines (ansible.builtin.debug prints an ok line,
which no one reads and no callback counts as a warning). Runs on the controller only."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("msg",))
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        messages = self._task.args.get("msg")
        if isinstance(messages, str):
            messages = [messages]
        if not isinstance(messages, list) or not all(isinstance(m, str) and m.strip() for m in messages):
            raise AnsibleActionFail("lms.mail.warn: msg must be a non-empty text or a list of them")
        result.update(changed=False, warnings=[" ".join(m.split()) for m in messages], msg=messages)
        return result
