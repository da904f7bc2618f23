# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What writing the role's master.cf would take from a customer's Postfix: the services of the
master.cf found on the host that the new one lacks. The postfix role writes master.cf whole (the
signing path needs two services of its own); on a host where someone else wrote master.cf, a
service it would drop (a submission port, a content filter of the customer's) stops the run."""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

# Services of Debian 12's packaged master.cf (pipe transports to programs such a server does not
# have installed: maildrop, uucp, ifmail, bsmtp, scalemail, mailman) that the role's master.cf
# leaves out; Debian 13's packaged master.cf no longer lists them.
DEBIAN_UNUSED = frozenset(
    f"{name}/unix" for name in ("maildrop", "uucp", "ifmail", "bsmtp", "scalemail-backend", "mailman")
)

# The first line of a service: name and type, at the start of the line (continuations start with
# white space, comments with #).
_SERVICE = re.compile(r"([^\s#][^\s]*)[ \t]+([a-z-]+)(?:[ \t]|$)")


def master_cf_services(text: str) -> list[str]:
    """The services ("name/type") a master.cf defines, in its order."""
    if not isinstance(text, str):
        raise AnsibleFilterError(f"master_cf_services needs master.cf's text, got {type(text).__name__}")
    services = []
    for line in text.splitlines():
        match = _SERVICE.match(line)
        if match and f"{match[1]}/{match[2]}" not in services:
            services.append(f"{match[1]}/{match[2]}")
    return services


def master_cf_dropped(current: str, new: str, owner_mark: str = "") -> list[str]:
    """The services of the current master.cf the new one would drop, Debian's unused pipe
    transports aside; [] when the current file carries ``owner_mark`` (the role wrote it: its
    services are the role's to change)."""
    if owner_mark and owner_mark in current:
        return []
    kept = set(master_cf_services(new)) | DEBIAN_UNUSED
    return [service for service in master_cf_services(current) if service not in kept]


class FilterModule:
    def filters(self):
        return {"master_cf_dropped": master_cf_dropped}
