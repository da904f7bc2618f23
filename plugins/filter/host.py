# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a target host lacks for the roles: the rule site.yml's preflight applies to the facts of
each host before anything changes on any of them."""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

# The releases the roles are tested on (Molecule: Debian 12 and 13).
SUPPORTED_RELEASES = {"Debian": ("12", "13")}


def host_problems(facts: Mapping) -> list[str]:
    """One sentence per thing the host lacks, each naming it and the fix; [] for a good host.

    ``facts`` are the host's gathered facts (``ansible_facts``, at least the ``min`` subset)."""
    if not isinstance(facts, Mapping) or "distribution" not in facts:
        raise AnsibleFilterError(
            "host_problems needs the host's facts (ansible.builtin.setup with gather_subset min)"
        )
    problems = []
    distribution = str(facts.get("distribution", ""))
    major = str(facts.get("distribution_major_version", ""))
    supported = SUPPORTED_RELEASES.get(distribution, ())
    if major not in supported:
        releases = ", ".join(
            f"{name} {' and '.join(versions)}" for name, versions in SUPPORTED_RELEASES.items()
        )
        problems.append(
            f"{distribution or 'an unknown system'} {major or '(no version)'} is not a release the roles "
            f"support ({releases}): run them on one of those"
        )
    manager = str(facts.get("service_mgr", ""))
    if manager != "systemd":
        problems.append(
            f"systemd is not PID 1 (the service manager found is {manager or 'unknown'}): Postfix and "
            "OpenDKIM are run as systemd services; in a container, start it with systemd as its init "
            "(for podman: --systemd=always and /sbin/init as the command)"
        )
    return problems


class FilterModule:
    def filters(self):
        return {"host_problems": host_problems}
