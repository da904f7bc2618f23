"""What went wrong against a real Moodle, each as a test: no copy of config.php (the database
password) in Moodle's directory, which is the web root; config.php the web user cannot read is a
clear error before any change; --diff shows no secret, old or new, and no $CFG->dbpass; a moved
settings file takes its old files with it; credentials towards the local Postfix are refused
with the reason; a reply_by_email run that cannot enable the forum's handler changes nothing."""

from __future__ import annotations

import json
import shlex

import moodle_real
import pytest
from moodle_real import CONFIG_PHP, DB_PASSWORD, HOST, MOODLE_DIR, REPLY_HANDLER, SCENARIO

from tests import lab

# What a refused run must leave as it was: Moodle's directory (names, sizes, times), config.php
# and the settings files, the handler rows and the mail settings in Moodle's database.
STATE = (
    f"ls -la --time-style=+%s {MOODLE_DIR}; sha256sum {CONFIG_PHP} {MOODLE_DIR}/config-mail*.php; "  # noqa: S608
    "runuser -u postgres -- psql -d moodle -Atc "
    + shlex.quote(
        "SELECT classname, enabled FROM mdl_messageinbound_handlers ORDER BY id; "
        "SELECT name, value FROM mdl_config WHERE name LIKE 'smtp%' OR name LIKE 'messageinbound%' "
        "OR name IN ('noreplyaddress', 'allowedemaildomains') ORDER BY name"
    )
)
RENAME = "UPDATE mdl_messageinbound_handlers SET classname = :'new' WHERE classname = :'old'"
SMTP_PASSWORDS = ("lab-smtp-secret-old-81c4", "lab-smtp-secret-new-2d90")
IMAP_PASSWORDS = ("lab-imap-secret-old-6a1b", "lab-imap-secret-new-f37e")
RELAY = {
    "moodle_smtphosts": "smtp.mailservice.test:587",
    "moodle_smtpsecure": "tls",
    "moodle_smtpuser": "moodle@mailservice.test",
}
MOVED = f"{MOODLE_DIR}/config-mail-moved.php"


def reply_by_email(password: str = moodle_real.IMAP_PASSWORD) -> dict:
    mode = json.loads(moodle_real.mode_vars("reply_by_email", "config_php"))
    return {**mode, "moodle_messageinbound_hostpass": password}


def refuses(sut, extra_vars: dict, expected: str, secret: str = moodle_real.IMAP_PASSWORD) -> None:
    """The whole converge with these variables fails with `expected` in its output before it
    changes anything (STATE), and never prints `secret`."""
    lab.refused(SCENARIO, sut, HOST, json.dumps(extra_vars), expected=expected, state=STATE, secret=secret)


def converge_with_diff(*extra_vars: dict) -> str:
    run = moodle_real.converge(*map(json.dumps, extra_vars), options=("--diff",))
    return run.stdout + run.stderr


def copies_of_config_php(sut) -> list[str]:
    """Files under Moodle's directory (the web root) that look like copies of config.php."""
    found = sut.check_output("find %s -xdev -name %s ! -path %s", MOODLE_DIR, "config.php?*", CONFIG_PHP)
    return found.split()


def with_secrets(index: int) -> dict:
    """A relay's credentials and reply_by_email's inbound mailbox, with the index-th passwords."""
    return {**RELAY, "moodle_smtppass": SMTP_PASSWORDS[index]} | reply_by_email(IMAP_PASSWORDS[index])


@pytest.fixture(scope="module")
def moved(sut):
    """Three converges with --diff, what each printed and left: the settings file moved while
    Moodle's secrets are set; moved back while they change; then the scenario's own settings
    again, which removes them (and which test_modes.py's first mode converges once more)."""
    before = sut.check_output("ls %s", MOODLE_DIR).split()
    away = converge_with_diff(with_secrets(0) | {"moodle_settings_file": MOVED})
    there = {
        "listing": sut.check_output("ls %s", MOODLE_DIR).split(),
        "config.php": sut.file(CONFIG_PHP).content_string,
        "cfg": moodle_real.cfg(sut),
        "copies": copies_of_config_php(sut),
    }
    back = converge_with_diff(with_secrets(1))
    after = sut.check_output("ls %s", MOODLE_DIR).split()
    restored = converge_with_diff()
    return {"before": before, "there": there, "after": after, "output": away + back + restored}


def test_a_moved_settings_file_takes_its_old_files_with_it(moved):
    old = [name for name in moved["before"] if name.startswith("config-mail")]
    assert "config-mail.php" in old
    there = moved["there"]
    assert "config-mail-moved.php" in there["listing"]
    assert not set(old) & set(there["listing"]), f"left behind: {sorted(set(old) & set(there['listing']))}"
    assert "config-mail-moved.php" in there["config.php"] and "'/config-mail.php'" not in there["config.php"]
    values, forced = there["cfg"]
    # Moodle reads the new one
    assert values["smtphosts"] == RELAY["moodle_smtphosts"] and "smtphosts" in forced
    assert values["smtppass"] == SMTP_PASSWORDS[0] and "smtppass" in forced
    # and back again: the moved files, with their secrets, go too
    assert not [name for name in moved["after"] if name.startswith("config-mail-moved")], moved["after"]


def test_no_copy_of_config_php_in_moodles_directory(moved, sut):
    """Changing config.php's require line leaves no copy of config.php (with the database
    password) in Moodle's directory, which the web server serves; a backup, if any, is root's
    alone, outside it."""
    assert moved["there"]["copies"] == []
    assert copies_of_config_php(sut) == []
    backups = sut.run("find /var/backups/lms-mail -printf '%%u %%g %%m %%p\\n'")
    for line in backups.stdout.splitlines():
        user, group, mode, path = line.split(" ", 3)
        assert (user, group) == ("root", "root") and int(mode, 8) & 0o077 == 0, line


def test_diff_shows_no_secret_and_no_database_password(moved):
    """--diff output of runs that set, change and remove Moodle's secrets (and move the files
    that hold them) shows none of them, old or new, and never config.php's $CFG->dbpass (also not
    when config.php's line changes)."""
    output = moved["output"]
    for secret in (*SMTP_PASSWORDS, *IMAP_PASSWORDS, DB_PASSWORD):
        assert secret not in output, f"{secret} was printed"
    assert "$CFG->dbpass" not in output
    assert "--- before" in output  # the runs did show diffs


def test_config_php_the_web_user_cannot_read_is_a_clear_error(sut):
    """Moodle's installer run as root leaves config.php root:root 0640: the role's helpers, which
    run as the web user, cannot load it. The run stops before any change and says why."""
    sut.check_output("chown root:root %s && chmod 0640 %s", CONFIG_PHP, CONFIG_PHP)
    try:
        refuses(sut, reply_by_email(), f"moodle_web_user www-data cannot read moodle_config_php {CONFIG_PHP}")
    finally:
        sut.check_output("chown root:www-data %s", CONFIG_PHP)


def test_smtp_credentials_towards_the_local_postfix_are_refused(sut):
    """The local Postfix offers Moodle no login: with a user and password Moodle would try one,
    fail ("SMTP connect() failed") and send nothing."""
    secret = "lab-smtp-secret-local-0e57"  # noqa: S105 (lab-only)
    refuses(
        sut,
        {"moodle_smtpuser": "moodle", "moodle_smtppass": secret},
        "the local Postfix, which accepts Moodle's mail without a login",
        secret,
    )


def test_reply_by_email_that_cannot_enable_the_handler_changes_nothing(sut):
    """A Moodle whose forum has no reply handler (its row renamed here): the run fails, and
    nothing is half-applied (no forced messageinbound_enabled, no inbound settings)."""
    hidden = REPLY_HANDLER + "_hidden"
    moodle_real.psql(sut, RENAME, old=REPLY_HANDLER, new=hidden)
    try:
        refuses(sut, reply_by_email(), REPLY_HANDLER)
        _, forced = moodle_real.cfg(sut)
        assert "messageinbound_enabled" not in forced
    finally:
        moodle_real.psql(sut, RENAME, old=hidden, new=REPLY_HANDLER)
