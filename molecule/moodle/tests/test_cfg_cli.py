"""moodle_apply_method cfg_cli against the stand-in of Moodle's admin/cli/cfg.php
(lab/files/standin/admin/cli/cfg.php: the real script's options and exit codes, 0 found, 3 not set,
4 forced in config.php), under Moodle 5.1's public/ layout (Debian 13): settings go to the
"database" read-compare-set, a second run changes nothing, secrets stay in the settings file,
and a setting config.php forces is reported as a conflict, once, not retried."""

from __future__ import annotations

import json

import moodle_site
import pytest
from moodle_site import CFG_CALLS, CONFIG_PHP, SETTINGS_FILE

from tests import lab

# The secrets beside the settings file (roles/moodle: never in its diff)
SECRETS_FILE = "/var/www/moodle/config-mail-secrets.php"

SMTP_PASSWORD = "lab-smtp-secret-3c9a"  # noqa: S105 (lab-only)
# Credentials go to a relay Moodle talks to itself (the local Postfix offers no login: refused),
# over TLS; this test sends nothing.
CFG_CLI = json.dumps(
    {
        "moodle_apply_method": "cfg_cli",
        "moodle_smtphosts": "smtp.mailservice.test:587",
        "moodle_smtpsecure": "tls",
        "moodle_smtpuser": "moodle",
        "moodle_smtppass": SMTP_PASSWORD,
    }
)


@pytest.fixture
def sut(host):
    if not host.backend.host.endswith("trixie"):
        pytest.skip("cfg_cli runs on Debian 13, whose tree has Moodle 5.1's public/ layout")
    moodle_site.install_scripts(host.backend.host)
    return lab.instance(host)


def set_calls(sut, name: str) -> int:
    log = sut.file(CFG_CALLS)
    calls = [json.loads(line) for line in log.content_string.splitlines()] if log.exists else []
    return sum(1 for args in calls if f"--name={name}" in args and any(a.startswith("--set") for a in args))


def test_settings_go_through_cfg_php_once(sut, host, monkeypatch):
    monkeypatch.setenv("ANSIBLE_DIFF_ALWAYS", "1")
    try:
        before = set_calls(sut, "smtphosts")
        output = moodle_site.converge_twice(host.backend.host, CFG_CLI)
        assert SMTP_PASSWORD not in output
        # set once by the first run; the second run read it and left it alone
        assert set_calls(sut, "smtphosts") == before + 1

        stored = moodle_site.standin_db(sut)["config"]["core"]
        assert stored["smtphosts"] == "smtp.mailservice.test:587"
        assert stored["smtpuser"] == "moodle"
        assert stored["smtpmaxbulk"] == "10"
        assert stored["emailheaders"] == "X-Course-Mail: lms.mail\nX-Lab: molecule"
        assert "smtppass" not in stored  # the secret never reaches the database

        settings = sut.file(SETTINGS_FILE).content_string
        assert f"$CFG->smtppass = '{SMTP_PASSWORD}';" in sut.file(SECRETS_FILE).content_string
        assert SMTP_PASSWORD not in settings  # the settings file, whose diff is shown, has no secret
        assert "$CFG->smtphosts" not in settings  # never both ways for one setting

        cfg, forced = moodle_site.cfg(sut)
        assert cfg["smtphosts"] == "smtp.mailservice.test:587" and "smtphosts" not in forced
        assert cfg["smtppass"] == SMTP_PASSWORD and "smtppass" in forced
    finally:
        moodle_site.restore(host.backend.host)


def test_setting_forced_in_config_php_is_a_clear_conflict(sut, host):
    sut.check_output(
        "sed -i %s %s", r"/lms.mail: Moodle's mail settings/i $CFG->smtphosts = '127.0.0.1:2525';", CONFIG_PHP
    )
    try:
        before = set_calls(sut, "smtphosts")
        run = moodle_site.converge(host.backend.host, CFG_CLI, check=False)
        output = run.stdout + run.stderr
        assert run.returncode != 0
        assert "Conflict: smtphosts is forced in config.php" in output, output[-3000:]
        assert "cfg.php exit\ncode 4" in output or "cfg.php exit code 4" in " ".join(output.split())
        assert set_calls(sut, "smtphosts") == before + 1  # tried once, not retried
        assert SMTP_PASSWORD not in output
    finally:
        sut.check_output("sed -i %s %s", r"/^\$CFG->smtphosts = '127.0.0.1:2525';$/d", CONFIG_PHP)
        moodle_site.restore(host.backend.host)
