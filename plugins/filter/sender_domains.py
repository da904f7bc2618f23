# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The domains mail is sent as, as the dkim, dns and verify roles' defaults take them: the one
rule of where they come from, written once."""

from __future__ import annotations

from collections.abc import Sequence

from ansible.errors import AnsibleFilterError


def sender_domains(handed_over: object, mail_domain: object = "") -> list:
    """The moodle role's domains (``moodle_sender_domains``) where it handed them over, even none;
    else the shared fact ``mail_domain`` alone; else no domain (the role's checks then ask for it)."""
    if handed_over is not None:
        if isinstance(handed_over, (str, bytes)) or not isinstance(handed_over, Sequence):
            kind = type(handed_over).__name__
            raise AnsibleFilterError(f"sender_domains takes a list of domains, not {kind}")
        return list(handed_over)
    return [mail_domain] if isinstance(mail_domain, str) and mail_domain else []


class FilterModule:
    def filters(self):
        return {"sender_domains": sender_domains}
