# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for the dns role: the records it ensures, Moodle's own DKIM keys as records, and the
records as the run left them. The rules are module_utils/mail_records.py's."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.lms.mail.plugins.module_utils.dkim import DkimError
from ansible_collections.lms.mail.plugins.module_utils.mail_records import (
    MailRecordsError,
    key_records,
    mail_records,
    published_records,
)


def dkim_key_records(public_keys, selector: str, key_type: str = "rsa") -> list[dict]:
    try:
        return key_records(public_keys or {}, selector, key_type)
    except (MailRecordsError, DkimError) as exc:
        raise AnsibleFilterError(f"dkim_key_records: {exc}") from None


def dns_mail_records(settings) -> list[dict]:
    try:
        return mail_records(settings)
    except MailRecordsError as exc:
        raise AnsibleFilterError(f"dns_mail_records: {exc}") from None


def dns_published_records(records, registered) -> list[dict]:
    """registered: the publishing tasks' registered loops ({results: [...]}), skipped ones too."""
    results = [result for loop in registered or [] if loop for result in (loop.get("results") or [])]
    return published_records(records, results)


class FilterModule:
    def filters(self):
        return {
            "dkim_key_records": dkim_key_records,
            "dns_mail_records": dns_mail_records,
            "dns_published_records": dns_published_records,
        }
