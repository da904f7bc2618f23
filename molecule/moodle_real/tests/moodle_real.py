"""The real Moodle 4.4 on the molecule/moodle_real instance, read through Moodle itself: its
admin/cli scripts, $CFG as its config.php gives it, its database (psql), and messages sent by its
own email_to_user(). The forum modes and apply methods the tests converge, and what Moodle must
believe after each."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess

from tests import lab

# the scenario's one platform (molecule.yml)
HOST = "lmsmail-moodle-real"
SCENARIO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PHP_DIR = os.path.join(SCENARIO, "tests", "php")
REMOTE_PHP = "/usr/local/share/lms-mail-tests"
MOODLE_DIR = "/var/www/moodle"
CONFIG_PHP = f"{MOODLE_DIR}/config.php"
SETTINGS_FILE = f"{MOODLE_DIR}/config-mail.php"
DB_PASSWORD = "lab-moodle-db-password"  # noqa: S105 (the lab image's, lab/files/moodle-real/install-moodle)
REPLY_HANDLER = "\\mod_forum\\message\\inbound\\reply_handler"
STUDENT = "someone@students.test"
TEACHER = "teacher@teachers.test"
IMAP_PASSWORD = "lab-imap-secret-real-5b2e"  # noqa: S105 (lab-only)
SECRETS = ("smtppass", "messageinbound_hostpass")

# The scenario's own settings (molecule.yml), as Moodle reads them back: cfg.php prints strings.
BASE = {
    "smtphosts": "127.0.0.1:25",
    "smtpsecure": "",
    "smtpauthtype": "LOGIN",
    "smtpuser": "",
    "smtppass": "",
    "smtpmaxbulk": "10",
    "noreplyaddress": "noreply@school.test",
    "allowedemaildomains": "",
    "emaildkimselector": "",
    "emailfromvia": "1",
    "mailnewline": "LF",
    "emailsubjectprefix": "[St. John's \\ School]",
    "emailheaders": "X-Course-Mail: lms.mail\nX-Lab: moodle_real",
}
INBOUND = {
    "messageinbound_enabled": "1",
    "messageinbound_mailbox": "forumreplies",
    "messageinbound_domain": "school.test",
    "messageinbound_host": "imap.school.test:993",
    "messageinbound_hostssl": "ssl",
    "messageinbound_hostuser": "forumreplies@school.test",
    "messageinbound_hostpass": IMAP_PASSWORD,
}
FORUM_MODES = {
    "noreply": ({}, {}),
    "teacher_address": (
        {"moodle_forum_mode": "teacher_address", "moodle_allowedemaildomains": ["teachers.test"]},
        {"allowedemaildomains": "teachers.test"},
    ),
    "reply_by_email": (
        {"moodle_forum_mode": "reply_by_email"}
        | {f"moodle_{name}": value for name, value in INBOUND.items() if name != "messageinbound_enabled"},
        INBOUND,
    ),
}
# Every forum mode with the settings file, then with Moodle's cfg.php. The scenario's own
# (noreply, config_php) comes first, so the first converge finds the host as Molecule's converge
# (and test_failures.py, which ends there) left it; each mode after reply_by_email (noreply with
# cfg.php, then teacher_address with cfg.php after reply_by_email with cfg.php) leaves it, so that
# leaving reply_by_email is what disables the handler again, with either method.
DEFAULT_MODE = ("noreply", "config_php")
MODES = [
    DEFAULT_MODE,
    ("teacher_address", "config_php"),
    ("reply_by_email", "config_php"),
    ("noreply", "cfg_cli"),
    ("reply_by_email", "cfg_cli"),
    ("teacher_address", "cfg_cli"),
]
# The moodle role alone (the signer, Postfix and the records cover every mode's domains already).
MOODLE_PLAYBOOK = "moodle.yml"


def mode_vars(mode: str, method: str) -> str:
    """The extra variables (JSON for -e) of one forum mode and apply method."""
    return json.dumps({"moodle_apply_method": method, **FORUM_MODES[mode][0]})


def expected_settings(mode: str) -> dict[str, str]:
    """Every setting the role manages in this mode, as Moodle must read it."""
    return {**BASE, **FORUM_MODES[mode][1]}


def install_scripts(container: str) -> None:
    """Copy the PHP scripts of tests/php into the instance."""
    lab.copy_files(container, PHP_DIR, REMOTE_PHP)


def php(sut, script: str, *args: str) -> str:
    """Run one of the test scripts as the web server's user, as Moodle's PHP runs."""
    return lab.php_as(sut, "www-data", f"{REMOTE_PHP}/{script}", *args)


def cfg(sut) -> tuple[dict, list[str]]:
    """$CFG after Moodle's config.php and setup, and the names config.php forced."""
    dump = json.loads(php(sut, "moodle-cfg.php", CONFIG_PHP).splitlines()[-1])
    return dump["cfg"], dump["forced"]


def cfg_cli(sut, calls: list[list[str]]) -> list[tuple[int, str]]:
    """Moodle's own admin/cli/cfg.php as the web server's user, once per list of arguments, all in
    one shell on the instance (each podman exec costs more than cfg.php itself): the exit code
    and output (stdout and stderr) of each call."""
    cfg_php = shlex.quote(f"{MOODLE_DIR}/admin/cli/cfg.php")
    script = "".join(
        f"echo '@@ call'; runuser -u www-data -- php {cfg_php} {shlex.join(args)} 2>&1; echo \"@@ exit $?\"\n"
        for args in calls
    )
    output = sut.check_output("bash -c %s", script)
    results = re.findall(r"^@@ call\n(.*?)^@@ exit (\d+)$", output + "\n", re.S | re.M)
    assert len(results) == len(calls), output
    return [(int(code), text.removesuffix("\n")) for text, code in results]


def cfg_reads(sut, names: list[str]) -> dict[str, str]:
    """Settings as Moodle's cfg.php reads them (--json: exact, multi-line values included), as
    text (cfg.php prints each setting's JSON)."""
    reads = {}
    for name, (code, text) in zip(
        names, cfg_cli(sut, [[f"--name={name}", "--json"] for name in names]), strict=True
    ):
        assert code == 0, f"cfg.php --name={name}: exit {code}: {text}"
        value = json.loads(text)
        reads[name] = value if isinstance(value, str) else json.dumps(value)
    return reads


def psql(sut, query: str, **params: str) -> str:
    """A query on Moodle's database as PostgreSQL's superuser (unaligned, tuples only), its
    values bound by psql (:'name' in the query for each params name), never pasted in."""
    options = " ".join(["-v %s"] * len(params))
    return sut.check_output(
        f"printf %s %s | runuser -u postgres -- psql -d moodle -At -v ON_ERROR_STOP=1 {options}",
        "%s",
        query,
        *[f"{name}={value}" for name, value in params.items()],
    )


def handler_row(sut, classname: str = REPLY_HANDLER) -> str:
    """The row of an inbound message handler: id|component|classname|enabled."""
    query = "SELECT id, component, classname, enabled FROM mdl_messageinbound_handlers WHERE classname = :'c'"
    return psql(sut, query, c=classname)


def reply_handler_enabled(sut) -> int:
    return int(handler_row(sut).rsplit("|", 1)[1])


def send(sut, subject: str, *options: str, to: str = STUDENT) -> dict:
    """Send one message with Moodle's email_to_user(); what it returned."""
    output = php(sut, "moodle-send.php", CONFIG_PHP, to, subject, *options)
    result = json.loads(output.splitlines()[-1])
    assert result["sent"] is True, output
    return result


def authentication_results(message) -> str:
    """The lab MX's verdicts in a delivered message, one line."""
    mx_id = lab.LAB["lab_parts"]["mx"]["hostname"]
    results = [r for r in message.get_all("Authentication-Results", []) if r.strip().startswith(mx_id)]
    return " ".join(" ".join(results).split())


def converge(*extra_vars: str, **kwargs) -> subprocess.CompletedProcess:
    """The moodle role on the instance, with these extra variables (each as -e takes it)."""
    return lab.converge(SCENARIO, HOST, *extra_vars, playbook=MOODLE_PLAYBOOK, **kwargs)
