# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for the dns role: the PTR owner name of an address, by the same code as ptr_record's,
so that what the role lists is what the module writes."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.lms.mail.plugins.module_utils.dns_provider import reverse_name


def reverse_pointer(ip: str) -> str:
    """The name of an address's PTR record: 4.3.2.1.in-addr.arpa, or the 32 nibbles of an IPv6
    address under ip6.arpa."""
    try:
        return reverse_name(str(ip))
    except ValueError as exc:
        raise AnsibleFilterError(f"reverse_pointer: {exc}") from None


class FilterModule:
    def filters(self):
        return {"reverse_pointer": reverse_pointer}
