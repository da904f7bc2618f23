"""The Moodle-shaped site on a molecule/moodle instance, seen through real PHP: $CFG as config.php
gives it, messages sent with Debian's PHPMailer the way Moodle uses the settings, and the
stand-in "database" (a JSON file in the data root; see lab/files/standin/lib/setup.php)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import time

from tests import lab

SCENARIO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PHP_DIR = os.path.join(SCENARIO, "tests", "php")
MOODLE_DIR = "/var/www/moodle"
CONFIG_PHP = f"{MOODLE_DIR}/config.php"
SETTINGS_FILE = f"{MOODLE_DIR}/config-mail.php"
DATAROOT = "/var/www/moodledata"
STANDIN_DB = f"{DATAROOT}/standin-db.json"
CFG_CALLS = f"{DATAROOT}/standin-cfg-calls.log"
REMOTE_PHP = "/usr/local/share/lms-mail-tests"
REPLY_HANDLER = "\\mod_forum\\message\\inbound\\reply_handler"
# What the tests converge: the moodle role alone (Postfix stays as the scenario's converge left it)
MOODLE_PLAYBOOK = os.path.join(SCENARIO, "tests", "moodle.yml")


def install_scripts(container: str) -> None:
    """Copy the PHP scripts of tests/php into the instance."""
    lab.copy_files(container, PHP_DIR, REMOTE_PHP)


def php(sut, script: str, *args: str) -> str:
    """Run one of the test scripts as the web server's user, as Moodle's PHP runs."""
    return lab.php_as(sut, "www-data", f"{REMOTE_PHP}/{script}", *args)


def cfg(sut) -> tuple[dict, list[str]]:
    """$CFG after loading config.php, and the names config.php forced."""
    dump = json.loads(php(sut, "dump-cfg.php", CONFIG_PHP))
    return dump["cfg"], dump["forced"]


def send(sut, subject: str, *options: str, to: str = "someone@students.test") -> dict:
    """Send one message with PHPMailer as Moodle would; what it used (From, envelope sender, ...)."""
    return json.loads(php(sut, "send-like-moodle.php", *options, CONFIG_PHP, to, subject))


def standin_db(sut) -> dict:
    return json.loads(sut.file(STANDIN_DB).content_string)


def reply_handler_enabled(sut) -> int:
    rows = standin_db(sut)["messageinbound_handlers"]
    return next(row["enabled"] for row in rows if row["classname"] == REPLY_HANDLER)


def find_raw_message(subject: str, recipient: str, timeout: float = 60.0) -> bytes:
    """The bytes of a delivered message on the lab's MX, as filed (for DKIM verification)."""
    maildir = f"/var/mail/vhosts/{recipient.split('@')[1]}"
    mx = lab.part("mx")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = mx.run("grep -rlF -- %s %s/new %s/cur 2>/dev/null", subject, maildir, maildir)
        if found.stdout.split():
            return mx.file(found.stdout.split()[0]).content
        time.sleep(1)
    raise AssertionError(f"no message {subject!r} for {recipient} on the lab's MX after {timeout:.0f}s")


def dkim_record(sut, domain: str, selector: str) -> bytes:
    """The DKIM TXT record the DNS role would publish for the key Moodle signs with."""
    pem = sut.check_output("openssl pkey -pubout -in %s", f"{DATAROOT}/dkim/{domain}/{selector}.private")
    body = "".join(line for line in pem.splitlines() if not line.startswith("-----"))
    base64.b64decode(body)  # a real key, not an error message
    return f"v=DKIM1; k=rsa; p={body}".encode()


def converge(host: str, *extra_vars: str, **kwargs) -> subprocess.CompletedProcess:
    """Converge the moodle role alone with these variables (lab.converge's options)."""
    return lab.converge(SCENARIO, host, *extra_vars, playbook=MOODLE_PLAYBOOK, **kwargs)


def converge_twice(host: str, *extra_vars: str) -> str:
    """Converge the moodle role with these variables, then again: the second run must change
    nothing. Both runs' output."""
    first = converge(host, *extra_vars)
    second = converge(host, *extra_vars)
    assert lab.recap(second, host)["changed"] == 0, lab.changed_tasks(second) or second.stdout[-3000:]
    return first.stdout + first.stderr + second.stdout + second.stderr


def restore(host: str) -> None:
    """Back to the scenario's own settings (config_php, noreply)."""
    converge(host)
