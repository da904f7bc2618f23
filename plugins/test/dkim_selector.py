# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jinja test: is the value a DKIM selector that DNS can carry (one or more DNS labels)? The same
rule as the dkim_record module's (module_utils/dkim.py), so the role refuses what the module would."""

from __future__ import annotations

from ansible_collections.lms.mail.plugins.module_utils.dkim import DkimError, validate_selector


def dkim_selector(value: object) -> bool:
    if not isinstance(value, str) or value != value.strip().rstrip("."):
        return False
    try:
        validate_selector(value)
    except DkimError:
        return False
    return True


class TestModule:
    def tests(self):
        return {"dkim_selector": dkim_selector}
