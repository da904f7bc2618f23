# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The preflight's check that a customer inventory was filled in: the template's examples left
in (inventories/customer/) would configure a real server for a domain nobody owns.

What counts as an example: a name under the reserved .example TLD or example.com/.net/.org
(RFC 2606), a documentation address (RFC 5737: 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24;
RFC 3849: 2001:db8::/32), and the template's SSH user `deploy`. Only the example found and the
variable holding it are named, never the rest of a value (it may be a secret).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping

# A dotted name ending in .example, or example.com/.net/.org or a name under them.
_EXAMPLE_NAME = re.compile(
    r"(?<![\w.-])((?:[a-z0-9_-]+\.)*example\.(?:com|net|org)|(?:[a-z0-9_-]+\.)+example)(?![\w-]|\.[\w-])",
    re.IGNORECASE,
)
_ADDRESS = re.compile(
    r"(?<![\w.:])([0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9a-f]{1,4}(?::[0-9a-f]{0,4}){2,7})(?![\w.:])", re.I
)
_DOCUMENTATION_NETWORKS = [
    ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
]
# The template's SSH user.
EXAMPLE_USERS = {"deploy"}
# Variables that may hold a secret: an example in them is reported without what was found.
# Broad on purpose (moodle_smtppass, messageinbound_hostpass, dkim_import_keys, the providers'
# *_options with their tokens): a value hidden that need not be costs nothing.
_SECRET_NAME = re.compile(r"(pass|secret|token|private|key|options|credential|vault)", re.IGNORECASE)


def _examples_in(text: str) -> list[str]:
    found = [match.group(1).lower() for match in _EXAMPLE_NAME.finditer(text)]
    for match in _ADDRESS.finditer(text):
        try:
            address = ipaddress.ip_address(match.group(1))
        except ValueError:
            continue
        if any(address in network for network in _DOCUMENTATION_NETWORKS):
            found.append(str(address))
    return found


def _walk(value, found: list[str]) -> None:
    if isinstance(value, str):
        found += _examples_in(value)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _walk(key, found)
            _walk(item, found)
    elif isinstance(value, (list, tuple, set)):
        for item in value:
            _walk(item, found)


def inventory_placeholders(variables: Mapping, host: str = "", user: str | None = None) -> list[str]:
    """What of the template is left: ["mail_domain: school.example", "ansible_user: deploy", ...],
    in the variables' order, each variable once; [] when the inventory was filled in."""
    problems = []
    host_examples = _examples_in(str(host or ""))
    if host_examples:
        problems.append(f"the host name {host}")
    if user is not None and str(user) in EXAMPLE_USERS:
        problems.append(f"ansible_user: {user}")
    for name, value in (variables or {}).items():
        found: list[str] = []
        _walk(value, found)
        if found and _SECRET_NAME.search(str(name)):
            problems.append(f"{name}: holds an example value")
        elif found:
            problems.append(f"{name}: {', '.join(dict.fromkeys(found))}")
    return problems


class FilterModule:
    def filters(self):
        return {"inventory_placeholders": inventory_placeholders}
