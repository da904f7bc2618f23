#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: moodle_mail_info
short_description: Read Moodle's mail settings as Moodle does, and name what keeps its mail from arriving
version_added: 0.1.0
description:
  - Read-only, on the Moodle server. Reads Moodle's mail settings through Moodle's own
    C(admin/cli/cfg.php --name=NAME --json), run as the web server's user, so that values forced in
    C(config.php) count as Moodle sees them. The SMTP password is never read.
  - Judges them against this server's Postfix and the sending domain - C(noemailever) or
    C(divertallemailsto) on; C(smtphosts) sending past the local Postfix, or to a loopback address
    Postfix does not listen on (C(inet_interfaces)) or where nothing answers; a login to the local
    Postfix; the no-reply address outside the signed domains, or not the relay's login when the
    relay sends only as its login - each with its fix, in the shape of M(lms.mail.mail_queue_info)'s
    findings.
  - Finds Moodle's code in O(moodle_dir) or, for Moodle 5.1 and later, in its C(public/) directory.
author: lms.mail developers (@lms-mail)
extends_documentation_fragment:
  - lms.mail.read_only
options:
  moodle_dir:
    description: Moodle's directory, the one holding C(config.php).
    type: path
    required: true
  web_user:
    description: The user the web server runs Moodle as; C(cfg.php) runs as this user (through C(runuser)).
    type: str
    default: www-data
  php:
    description: The PHP command-line interpreter.
    type: path
    default: /usr/bin/php
  signing_domains:
    description:
      - The domains this server signs mail for (DKIM); a no-reply address outside them is a problem.
      - Empty skips that check.
    type: list
    elements: str
    default: []
  relay_login:
    description:
      - The relay's login when Postfix relays through a public service that sends only as its login
        (C(postfix_relay_username)); empty when it does not.
    type: str
    default: ""
  relay_rewrite_sender:
    description: Whether Postfix rewrites the sender to O(relay_login) (C(postfix_relay_rewrite_sender)).
    type: bool
    default: false
  timeout:
    description: Seconds to wait for a connection to a loopback host Moodle sends to.
    type: float
    default: 3
notes:
  - Run it with root privileges (C(become=true)), which C(runuser) needs.
  - Connections are made only to loopback addresses in Moodle's C(smtphosts), to see whether something
    answers there; nothing is sent.
attributes:
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: debian
    details: A host with Moodle and PHP's command line, and C(runuser) (util-linux).
"""

EXAMPLES = r"""
- name: What Moodle itself says about its mail
  lms.mail.moodle_mail_info:
    moodle_dir: /var/www/moodle
    signing_domains: [school.example]
  become: true
  register: moodle_mail

- name: Name each problem and its fix
  ansible.builtin.debug:
    msg: "{{ item.title }} ({{ item.detail }}): {{ item.fix }}"
  loop: "{{ moodle_mail.problems }}"
  loop_control:
    label: "{{ item.kind }}"

- name: Behind a public service that sends only as its login
  lms.mail.moodle_mail_info:
    moodle_dir: /var/www/moodle
    relay_login: moodle.school@gmail.example
    relay_rewrite_sender: false
  become: true
"""

RETURN = r"""
settings:
  description: Each setting read, as Moodle reads it; null when Moodle has no such setting.
  returned: success
  type: dict
  sample: {smtphosts: "127.0.0.1:25", smtpuser: "", noreplyaddress: noreply@school.example,
           noemailever: null, divertallemailsto: "", maxbytes: "0", wwwroot: "https://moodle.school.example"}
noreply_address:
  description: The no-reply address Moodle uses (C(noreplyaddress), or noreply@ and the host of C(wwwroot)).
  returned: success
  type: str
  sample: noreply@school.example
smtp:
  description:
    - How Moodle hands mail over - C(sendmail) (C(smtphosts) empty, PHP's mail()) or C(smtp) - the hosts,
      and for each loopback one whether something answered.
  returned: success
  type: dict
  sample: {mode: smtp, hosts: ["127.0.0.1:25"], reachable: {"127.0.0.1:25": true}}
problems:
  description:
    - What keeps Moodle's mail from arriving, each with C(kind), C(side), C(title), C(fix) and C(detail).
  returned: success
  type: list
  elements: dict
  sample:
    - kind: moodle_noemailever
      side: sending
      title: Moodle is set to send no mail at all
      fix: "Remove $CFG->noemailever from config.php (moodle_noemailever: false): ..."
      detail: noemailever is set (config.php)
moodle:
  description: Where Moodle's C(cfg.php) was found and Postfix's C(inet_interfaces) (null without Postfix).
  returned: success
  type: dict
  sample: {cfg_php: /var/www/moodle/admin/cli/cfg.php, inet_interfaces: loopback-only}
"""

import os
import re
import socket

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.lms.mail.plugins.module_utils import moodle_mail

_PATH = re.compile(r"/[A-Za-z0-9._/+-]*")
_USER = re.compile(r"[a-z_][a-z0-9_-]{0,31}")


def find_cfg_php(moodle_dir: str) -> str | None:
    for layout in ("", "public/"):
        path = os.path.join(moodle_dir, layout + "admin/cli/cfg.php")
        if os.path.isfile(path):
            return path
    return None


def reachable(host: str, port: int, timeout: float) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def run(module: AnsibleModule) -> dict:
    params = module.params
    for name, pattern in (("moodle_dir", _PATH), ("php", _PATH), ("web_user", _USER)):
        if not pattern.fullmatch(params[name] or ""):
            module.fail_json(
                msg=f"{name} ({params[name]!r}) must be an absolute path of letters, digits and . _ / + -"
                if pattern is _PATH
                else f"web_user ({params[name]!r}) must be a user name such as www-data"
            )
    cfg_php = find_cfg_php(params["moodle_dir"])
    if not cfg_php:
        module.fail_json(
            msg=f"no Moodle at moodle_dir {params['moodle_dir']}: neither admin/cli/cfg.php nor "
            f"public/admin/cli/cfg.php is there. Set moodle_dir to the directory holding config.php"
        )
    runuser = module.get_bin_path("runuser", required=True)

    settings = {}
    for name in moodle_mail.SETTINGS:
        rc, out, err = module.run_command(
            [runuser, "-u", params["web_user"], "--", params["php"], cfg_php, f"--name={name}", "--json"]
        )
        try:
            settings[name] = moodle_mail.cfg_value(rc, out, name)
        except ValueError as exc:
            module.fail_json(msg=f"Moodle could not read its settings: {exc}: {err.strip()[-500:]}")

    inet_interfaces = None
    postconf = module.get_bin_path("postconf")
    if postconf:
        rc, out, _err = module.run_command([postconf, "-xh", "inet_interfaces"])
        if rc == 0:
            inet_interfaces = out.strip()

    hosts = moodle_mail.smtp_hosts(settings.get("smtphosts"))
    answered = {
        f"{host}:{port}": reachable(host, port, params["timeout"])
        for host, port in hosts
        if moodle_mail.is_loopback(host)
    }
    problems = moodle_mail.moodle_problems(
        settings,
        signing_domains=params["signing_domains"],
        relay_login=params["relay_login"],
        relay_rewrite_sender=params["relay_rewrite_sender"],
        inet_interfaces=inet_interfaces,
        reachable=answered,
    )
    return {
        "changed": False,
        "settings": settings,
        "noreply_address": moodle_mail.noreply_address(settings),
        "smtp": {
            "mode": "smtp" if hosts else "sendmail",
            "hosts": [f"{host}:{port}" for host, port in hosts],
            "reachable": answered,
        },
        "problems": problems,
        "moodle": {"cfg_php": cfg_php, "inet_interfaces": inet_interfaces},
    }


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "moodle_dir": {"type": "path", "required": True},
            "web_user": {"type": "str", "default": "www-data"},
            "php": {"type": "path", "default": "/usr/bin/php"},
            "signing_domains": {"type": "list", "elements": "str", "default": []},
            "relay_login": {"type": "str", "default": ""},
            "relay_rewrite_sender": {"type": "bool", "default": False},
            "timeout": {"type": "float", "default": 3.0},
        },
        supports_check_mode=True,
    )
    module.exit_json(**run(module))


if __name__ == "__main__":
    main()
