# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The attributes of the lms.mail modules that change nothing (mail_queue_info, moodle_mail_info,
mail_dns_info, dns_records_wait, paths_info, warn); POSIX: the platform of those that run on any
POSIX host."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: The module never changes anything; check mode runs it the same way.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode),
      when in diff mode.
    support: none
    details: Nothing changes, so there is no difference to show.
"""

    POSIX = r"""
attributes:
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: posix
"""
