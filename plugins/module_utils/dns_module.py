# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The main() of every lms.mail DNS module. The rest of what they share lives by job:
dns_options.py (the options), dns_registry.py (the providers and the factory), dns_plan.py (the
ensure step), dns_output.py (diff and return value), dns_values.py (the values' checks),
dns_lookup.py (reading DNS as a receiver does)."""

from __future__ import annotations

from collections.abc import Callable

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.lms.mail.plugins.module_utils.dns_options import (
    provider_required_if,
    record_argument_spec,
)
from ansible_collections.lms.mail.plugins.module_utils.dns_provider import DnsError
from ansible_collections.lms.mail.plugins.module_utils.dns_registry import provider_token
from ansible_collections.lms.mail.plugins.module_utils.requirements import MissingLibrary


def run_module(
    run: Callable[[AnsibleModule], dict], argument_spec: dict, required_if: list | None = None
) -> None:
    """Every lms.mail DNS module's main(): parse the options (check mode supported), run, and
    turn a DnsError or ValueError into a failure whose message is fit for the user, and a
    missing or unfit library into Ansible's missing_required_lib message."""
    module = AnsibleModule(
        argument_spec=argument_spec, required_if=required_if or [], supports_check_mode=True
    )
    # A token from the environment is as secret as api_token (no_log): masked in all output.
    token = provider_token(module.params)
    if token:
        module.no_log_values.add(token)
    try:
        result = run(module)
    except MissingLibrary as exc:
        module.fail_json(
            msg=exc.message(missing_required_lib), error="MissingLibrary", exception=exc.import_traceback
        )
    except (DnsError, ValueError) as exc:
        module.fail_json(msg=str(exc), error=type(exc).__name__)
    module.exit_json(**result)


def run_record_module(
    run: Callable[[AnsibleModule], dict], options: dict, *required_if: tuple, resolver: bool = False
) -> None:
    """A record module's main(): its own options and required_if beside the provider options
    (and the resolver's, when it reads DNS as a receiver would) and each provider's requirements."""
    run_module(run, record_argument_spec(options, resolver=resolver), provider_required_if(*required_if))
