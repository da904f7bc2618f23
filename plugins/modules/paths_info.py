#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: paths_info
short_description: Look at many paths as they are, never following a link, in one call
version_added: 0.1.0
description:
  - "lstat(2) of each path: whether it exists, is a regular file, a directory or a link, its
    number of names, owner, group and mode. Nothing is followed; nothing is opened unless
    O(checksum) asks for a regular file's content."
  - "One call instead of a loop of M(ansible.builtin.stat) with C(follow=false): the roles look at
    the files they write as root in directories a service user owns with it, in one round trip."
  - "The result's RV(results) has the shape of a looped stat's, so the filters that read those
    (P(lms.mail.planted_paths#filter)) read it unchanged."
author: lms.mail developers (@lms-mail)
extends_documentation_fragment:
  - lms.mail.read_only
  - lms.mail.read_only.posix
options:
  paths:
    description:
      - Absolute paths to look at, taken as written (no C(~) or C($VAR) expanded), so that what
        is looked at is the path the next task writes.
    type: list
    elements: str
    required: true
  checksum:
    description:
      - "The paths, among O(paths), whose content's SHA-1 is returned too (RV(results[].stat.checksum),
        as M(ansible.builtin.stat)'s) where they are regular files, read with C(O_NOFOLLOW): never through
        a link, and none when the path was replaced between the look and the read. A role compares it
        with what it would write and runs its write task only where they differ."
      - "Name no file that holds a secret: a checksum of a short secret can be guessed."
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Look at the tables before writing them (their content's SHA-1 too)
  lms.mail.paths_info:
    paths: ["/etc/opendkim", "/etc/opendkim/KeyTable", "/etc/opendkim/SigningTable"]
    checksum: ["/etc/opendkim/KeyTable", "/etc/opendkim/SigningTable"]
  register: tables

- name: Look at the key directories as they are (never following a link)
  lms.mail.paths_info:
    paths: ["/etc/dkimkeys", "/etc/dkimkeys/school.example"]
  register: key_dirs

- name: Check that nothing was planted
  ansible.builtin.assert:
    that: key_dirs.results | lms.mail.planted_paths(['/etc/dkimkeys'], ['root', 'opendkim']) == []
"""

RETURN = r"""
results:
  description: One entry per path, in order, C(item) the path and C(stat) what lstat(2) says.
  returned: always
  type: list
  elements: dict
  contains:
    item:
      description: The path, as given in O(paths).
      type: str
    stat:
      description:
        - What lstat(2) says, in M(ansible.builtin.stat)'s keys; only C(exists) and C(path) where
          the path does not exist.
      type: dict
      contains:
        checksum:
          description: The content's SHA-1, for a regular file named in O(checksum).
          returned: when the path is in O(checksum) and is a regular file
          type: str
  sample:
    - item: /var/www/moodle/config.php
      stat: {exists: true, path: /var/www/moodle/config.php, isreg: true, isdir: false, islnk: false,
             nlink: 1, uid: 0, gid: 33, pw_name: root, gr_name: www-data, mode: "0640", size: 1012}
    - item: /var/www/moodle/config-mail.php
      stat: {exists: false, path: /var/www/moodle/config-mail.php}
    - item: /etc/opendkim/KeyTable
      stat: {exists: true, path: /etc/opendkim/KeyTable, isreg: true, isdir: false, islnk: false,
             nlink: 1, uid: 0, gid: 0, pw_name: root, gr_name: root, mode: "0644", size: 240,
             checksum: 2aae6c35c94fcfb415dbe95f408b9ce91ee846ed}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.lms.mail.plugins.module_utils.paths import look_all


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "paths": {"type": "list", "elements": "str", "required": True},
            "checksum": {"type": "list", "elements": "str", "default": []},
        },
        supports_check_mode=True,
    )
    relative = [path for path in module.params["paths"] if not path.startswith("/")]
    if relative:
        module.fail_json(msg=f"paths must be absolute: {', '.join(relative)}")
    try:
        results = look_all(module.params["paths"], module.params["checksum"])
    except OSError as error:
        module.fail_json(msg=f"cannot look at {error.filename}: {error.strerror}")
    module.exit_json(changed=False, results=results)


if __name__ == "__main__":
    main()
