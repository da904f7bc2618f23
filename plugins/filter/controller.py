# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The preflight's check of the controller: the Python libraries the chosen DNS providers need,
importable by the Python that runs ansible-playbook. The DNS tasks run on the controller with
that same interpreter (delegate_to: localhost, ansible_python_interpreter: ansible_playbook_python),
and a filter runs inside it, so what this finds is what the modules will find.

The libraries, their import names and version ranges are module_utils/requirements.py's (the
modules' own check, and the ranges of meta/ee-requirements.txt): one list.
"""

from __future__ import annotations

from collections.abc import Iterable

from ansible.errors import AnsibleFilterError
from ansible.module_utils.basic import missing_required_lib
from ansible_collections.lms.mail.plugins.module_utils.dns_registry import PROVIDERS
from ansible_collections.lms.mail.plugins.module_utils.requirements import LIBRARIES, MissingLibrary, check

# What each provider's modules import: the provider registry's libraries, and dnspython always
# (the SPF merge reads DNS, and so does the verify role's proof, lms.mail.mail_dns_info, with
# dns_provider none too).
PROVIDER_LIBRARIES = {
    "none": ("dnspython",),
    **{name: tuple(dict.fromkeys(("dnspython", *entry.libraries))) for name, entry in PROVIDERS.items()},
}


def controller_library_problems(providers: str | Iterable[str], version_of=None) -> list[str]:
    """One message per library the providers need that the controller's Python lacks or has in an
    untested version: the library, this interpreter's path and the `pip install` line. [] when all
    are fit. version_of (tests): {pip package: version} overriding the installed versions."""
    if isinstance(providers, str):
        providers = [providers]
    needed: list[str] = []
    for provider in providers:
        if provider not in PROVIDER_LIBRARIES:
            raise AnsibleFilterError(
                f"controller_library_problems: unknown DNS provider {provider!r}, "
                f"one of {', '.join(sorted(PROVIDER_LIBRARIES))}"
            )
        needed += [name for name in PROVIDER_LIBRARIES[provider] if name not in needed]
    problems = []
    for name in needed:
        try:
            check(name, (version_of or {}).get(LIBRARIES[name].package))
        except MissingLibrary as exc:
            problems.append(exc.message(missing_required_lib))
    return problems


class FilterModule:
    def filters(self):
        return {"controller_library_problems": controller_library_problems}
