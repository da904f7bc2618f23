"""Each forum mode (noreply, teacher_address, reply_by_email) with each apply method (the settings
file, Moodle's cfg.php), converged twice, the second run changing nothing (conftest.converged),
then read through the real Moodle: its cfg.php, $CFG after its setup, its handler table, its own
email_to_user() judged by the lab's MX, and its upgrade and cron scripts."""

from __future__ import annotations

import json
import re
import uuid

import moodle_real
import pytest
from moodle_real import CONFIG_PHP, DB_PASSWORD, IMAP_PASSWORD, SETTINGS_FILE, STUDENT, TEACHER

from tests import lab


def test_secrets_stay_out_of_the_output(converged):
    mode, method, output = converged
    assert IMAP_PASSWORD not in output
    assert DB_PASSWORD not in output


def test_cfg_php_reads_every_managed_setting(converged, sut):
    """cfg.php --name=NAME reads each setting as the mode wants it; setting it (to the value it
    has) exits 4 where config.php forces it, and 0 where it is stored in the database."""
    mode, method, _ = converged
    expected = moodle_real.expected_settings(mode)
    reads = moodle_real.cfg_reads(sut, list(expected))
    print(f"cfg.php reads ({mode}, {method}): {json.dumps(reads)}")  # shown with -rA, for the notes
    assert reads == expected
    sets = moodle_real.cfg_cli(
        sut, [[f"--name={name}", f"--set={value}"] for name, value in expected.items()]
    )
    for name, (code, text) in zip(expected, sets, strict=True):
        if method == "config_php" or name in moodle_real.SECRETS:
            assert code == 4, f"{name}: exit {code} {text}"
            assert "hard-set in the config.php, unable to change" in text, text
        else:
            assert code == 0, f"{name}: exit {code} {text}"


def test_cfg_after_moodle_setup(converged, sut):
    """$CFG as Moodle's config.php and lib/setup.php leave it, and the names config.php forced."""
    mode, method, _ = converged
    values, forced = moodle_real.cfg(sut)
    expected = moodle_real.expected_settings(mode)
    assert {name: str(values.get(name)) for name in expected} == expected
    managed = set(expected)
    if method == "config_php":
        assert managed <= set(forced)
    else:
        # only the secrets stay in the files; everything else is the administrators' to change
        assert managed & set(forced) <= set(moodle_real.SECRETS), sorted(managed & set(forced))
    assert values["dbpass"] == DB_PASSWORD  # config.php's own settings still there


def test_messageinbound_enabled_is_forced_only_in_reply_by_email(converged, sut):
    """Outside reply_by_email, Moodle's incoming mail (also its other handlers, such as "email to
    private files") stays the administrators' choice: not forced, not in the settings file."""
    mode, method, _ = converged
    _, forced = moodle_real.cfg(sut)
    settings = sut.file(SETTINGS_FILE).content_string
    if mode == "reply_by_email" and method == "config_php":
        assert "messageinbound_enabled" in forced
    else:
        assert "messageinbound_enabled" not in forced
        assert "$CFG->messageinbound_enabled" not in settings


def test_reply_handler_row(converged, sut):
    """The forum's reply handler (a row of Moodle's mdl_messageinbound_handlers, read with psql)
    is enabled in reply_by_email and disabled in the other modes: leaving reply_by_email
    disables it again (the modes run in moodle_real.MODES's order, each after another)."""
    mode, method, _ = converged
    row = moodle_real.handler_row(sut)
    print(f"mdl_messageinbound_handlers ({mode}, {method}): {row}")  # shown with -rA, for the notes
    assert row.startswith("2|mod_forum|\\mod_forum\\message\\inbound\\reply_handler|"), row
    assert moodle_real.reply_handler_enabled(sut) == (1 if mode == "reply_by_email" else 0), row


def test_moodle_mail_is_signed_aligned_and_accepted(converged, sut):
    """A message sent by Moodle's own email_to_user() leaves through the role's Postfix, signed,
    and the lab's MX finds spf, dkim and dmarc pass, the signature the From domain's."""
    mode, _, _ = converged
    marker = uuid.uuid4().hex
    options = ["--from=" + TEACHER] if mode == "teacher_address" else []
    if mode == "reply_by_email":
        options.append("--reply-by-email")
    sent = moodle_real.send(sut, f"moodle_real {mode} {marker}", *options)
    message = lab.find_message(marker, STUDENT)

    from_address = message["From"].addresses[0].addr_spec
    domain = from_address.split("@")[1]
    assert from_address == (TEACHER if mode == "teacher_address" else "noreply@school.test")
    assert message["Return-Path"] == "<noreply@school.test>"
    results = moodle_real.authentication_results(message)
    print(f"From: {message['From']}; Authentication-Results: {results}")  # shown with -rA, for the notes
    for method in ("spf", "dkim", "dmarc"):
        assert f"{method}=pass" in results, results
    assert f"header.d={domain}" in results, results  # aligned: the From domain signed
    signed = [sig["d"] for sig in lab.dkim_signatures(lab.find_message_bytes(marker, STUDENT))]
    assert domain in signed, signed
    if mode == "reply_by_email":
        reply_to = message["Reply-To"].addresses[0].addr_spec
        assert reply_to == sent["reply_to"]
        assert re.fullmatch(r"forumreplies\+[A-Za-z0-9+/=]+@school\.test", reply_to), reply_to


@pytest.mark.parametrize("user", ["root", "www-data"])
def test_upgrade_and_cron_still_run(converged, sut, user):
    """Moodle's own upgrade and cron scripts succeed after the role, as root and as the web user."""
    for script in ("admin/cli/upgrade.php --non-interactive", "admin/cli/cron.php --keep-alive=0"):
        run = sut.run(f"cd {moodle_real.MOODLE_DIR} && runuser -u {user} -- php {script}")
        assert run.rc == 0, f"{script} as {user}: exit {run.rc}\n{run.stdout[-2000:]}{run.stderr[-2000:]}"


def test_config_php_stays_whole(converged, sut):
    """config.php requires the settings file once, just before Moodle's setup line, and keeps
    its owner and mode."""
    lines = sut.file(CONFIG_PHP).content_string.splitlines()
    setup = lines.index("require_once(__DIR__ . '/lib/setup.php');")
    assert "config-mail.php" in lines[setup - 1]
    assert sum("config-mail.php" in line for line in lines) == 1
    stat = sut.file(CONFIG_PHP)
    assert (stat.user, stat.group, stat.mode) == ("root", "www-data", 0o640)
