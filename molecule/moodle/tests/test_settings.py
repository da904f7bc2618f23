"""The scenario's own converge (noreply mode, config_php): the settings file is valid PHP,
private, required once from config.php just before Moodle's setup, and $CFG as PHP loads it holds
every setting, forced. Messages sent with Debian's PHPMailer as Moodle uses those settings reach
the lab's MX, over SMTP through the local Postfix and through mail(); on Debian 13 Moodle's own
DKIM signature verifies against the key the role placed."""

from __future__ import annotations

import json
import re
import uuid

import dkim
import moodle_site
import pytest
from moodle_site import CONFIG_PHP, DATAROOT, SETTINGS_FILE

from tests import lab

# The secrets beside the settings file (roles/moodle: never in its diff)
SECRETS_FILE = "/var/www/moodle/config-mail-secrets.php"

TEACHER = "teacher@teachers.test"
STUDENT = "someone@students.test"


def expected_settings(dkim_selector: str) -> dict:
    """Every setting the scenario manages, as $CFG must hold it (molecule.yml's variables)."""
    return {
        "smtphosts": "127.0.0.1:25",
        "smtpsecure": "",
        "smtpauthtype": "LOGIN",
        "smtpuser": "",
        "smtppass": "",
        "smtpmaxbulk": 10,
        "noreplyaddress": "noreply@school.test",
        "allowedemaildomains": "",
        "emaildkimselector": dkim_selector,
        "emailfromvia": 1,
        "mailnewline": "LF",
        "emailsubjectprefix": "[St. John's \\ School]",
        "emailheaders": "X-Course-Mail: lms.mail\nX-Lab: molecule",
    }


@pytest.fixture
def sut(host):
    moodle_site.install_scripts(host.backend.host)
    return lab.instance(host)


@pytest.fixture
def signs(host):
    """Debian 13 runs Moodle's own DKIM signer (molecule.yml), Debian 12 does not."""
    return host.backend.host.endswith("trixie")


def new_subject() -> tuple[str, str]:
    """A subject, and the unique marker in it to find the message by (the script repeats the
    subject in the body: a header may be encoded and folded anywhere)."""
    marker = uuid.uuid4().hex
    return f"lms.mail moodle {marker}", marker


def address(header) -> tuple[str, str]:
    return header.addresses[0].display_name, header.addresses[0].addr_spec


def test_php_files_pass_php_lint(sut):
    for path in (SETTINGS_FILE, CONFIG_PHP):
        cmd = sut.run("php -l %s", path)
        assert cmd.rc == 0 and "No syntax errors" in cmd.stdout, cmd.stdout + cmd.stderr


def test_settings_file_is_readable_by_root_and_the_web_server_only(sut):
    f = sut.file(SETTINGS_FILE)
    assert (f.user, f.group, f.mode) == ("root", "www-data", 0o640)


def test_config_php_requires_it_once_just_before_setup(sut):
    lines = sut.file(CONFIG_PHP).content_string.splitlines()
    ours = [i for i, line in enumerate(lines) if "lms.mail: Moodle's mail settings" in line]
    assert len(ours) == 1, lines
    assert lines[ours[0]].startswith("require_once(__DIR__ . '/config-mail.php');")
    assert re.match(r"require_once\(__DIR__ \. '/(public/)?lib/setup\.php'\);", lines[ours[0] + 1])
    # no copy of config.php (the database password) in Moodle's directory, the web root
    names = sut.check_output("ls -A %s", "/var/www/moodle").split()
    assert [name for name in names if name.startswith("config.php")] == ["config.php"]


def test_secrets_are_in_a_file_of_their_own(sut):
    """The settings file (whose diff Ansible may show) holds no secret; it requires the secrets file."""
    settings = sut.file(SETTINGS_FILE).content_string
    assert "smtppass" not in settings.replace("// The secrets (smtppass)", "")
    assert "require_once(__DIR__ . '/config-mail-secrets.php');" in settings
    secrets = sut.file(SECRETS_FILE)
    assert (secrets.user, secrets.group, secrets.mode) == ("root", "www-data", 0o640)
    assert "$CFG->smtppass = '';" in secrets.content_string


def test_cfg_holds_every_setting_forced(sut, signs):
    cfg, forced = moodle_site.cfg(sut)
    expected = expected_settings("moodle" if signs else "")
    assert {name: cfg.get(name) for name in expected} == expected
    assert set(expected) <= set(forced)
    # not managed: Moodle keeps its own value, the admin UI may change it
    # (messageinbound_enabled: outside reply_by_email Moodle's own, so that its other inbound
    # handlers stay the administrators' choice)
    unmanaged = ("sitemailcharset", "divertallemailsto", "noemailever", "messageinbound_mailbox")
    for name in (*unmanaged, "messageinbound_enabled"):
        assert name not in forced
    # the database still fills in what config.php does not force
    assert cfg["rolesactive"] == "1"


def test_moodle_dkim_key_is_the_web_servers_alone(sut, signs):
    key = sut.file(f"{DATAROOT}/dkim/school.test/moodle.private")
    if not signs:
        assert not key.exists
        return
    assert (key.user, key.group, key.mode) == ("www-data", "www-data", 0o600)


def test_message_over_smtp_like_moodle_reaches_the_mx(sut, signs):
    subject, marker = new_subject()
    used = moodle_site.send(sut, subject, f"--from={TEACHER}")
    assert used["transport"] == "smtp"
    received = lab.find_message(marker, STUDENT)
    # the teacher's domain is not allowed in noreply mode: From is the no-reply address
    assert address(received["From"]) == ("Teacher Example (via School)", "noreply@school.test")
    assert address(received["Reply-To"]) == ("Teacher Example", TEACHER)
    assert received["Return-Path"] == "<noreply@school.test>"
    assert received["Subject"] == f"[St. John's \\ School] {subject}"
    assert received["X-Course-Mail"] == "lms.mail"
    # through the local Postfix (127.0.0.1:25), which delivered it to the MX
    assert "from moodle.school.test" in received["Received"]
    assert ("DKIM-Signature" in received) == signs
    if signs:
        raw = moodle_site.find_raw_message(marker, STUDENT)
        record = moodle_site.dkim_record(sut, "school.test", "moodle")
        assert b"s=moodle" in raw and b"d=school.test" in raw
        published = {b"moodle._domainkey.school.test.": record}
        assert dkim.verify(raw, dnsfunc=lambda name, timeout=5: published.get(name))


def test_message_through_mail_like_moodle_reaches_the_mx(sut):
    subject, marker = new_subject()
    used = moodle_site.send(sut, subject, "--mail")
    assert used == {
        "transport": "mail",
        "from": "noreply@school.test",
        "sender": "noreply@school.test",
        "reply_to": [],
        "dkim": used["dkim"],
    }
    received = lab.find_message(marker, STUDENT)
    assert address(received["From"]) == ("Teacher Example (via School)", "noreply@school.test")
    assert received["Reply-To"] is None
    assert received["Return-Path"] == "<noreply@school.test>"
    # handed to sendmail: Postfix's pickup, not its SMTP server, took it in
    assert "by moodle.school.test (Postfix, from userid 33)" in received.get_all("Received")[-1]


def test_staging_charset_and_kill_switch_settings_are_forced(sut, host):
    """The settings the scenario leaves unmanaged, set once: the staging diversion (a list of
    exceptions becomes one per line, as Moodle splits them), the charset and noemailever reach
    $CFG forced, and a second run changes nothing."""
    if not host.backend.host.endswith("bookworm"):
        pytest.skip("the rendering does not depend on the release")
    staging = json.dumps(
        {
            "moodle_divertallemailsto": "staging@students.test",
            "moodle_divertallemailsexcept": [r"@school\.test$", r"^teacher@"],
            "moodle_sitemailcharset": "0",
            "moodle_noemailever": True,
        }
    )
    try:
        moodle_site.converge_twice(host.backend.host, staging)
        cfg, forced = moodle_site.cfg(sut)
        assert cfg["divertallemailsto"] == "staging@students.test"
        assert cfg["divertallemailsexcept"] == "@school\\.test$\n^teacher@"
        assert cfg["sitemailcharset"] == "0"
        assert cfg["noemailever"] is True
        assert {"divertallemailsto", "divertallemailsexcept", "sitemailcharset", "noemailever"} <= set(forced)
    finally:
        moodle_site.restore(host.backend.host)
    cfg, forced = moodle_site.cfg(sut)
    assert "noemailever" not in forced and "divertallemailsto" not in forced


@pytest.mark.parametrize("planted", ["key", "directory"])
def test_a_link_planted_by_the_web_user_is_refused(sut, host, signs, planted):
    """The data root is the web server's user's: a key (or a domain's key directory) replaced by
    a link to a root-owned file is refused, by path, before any change; root never follows it."""
    if not signs:
        pytest.skip("Moodle's own DKIM keys are placed on Debian 13 only (molecule.yml)")
    domain_dir = f"{DATAROOT}/dkim/school.test"
    key = f"{domain_dir}/moodle.private"
    target, path = ("/etc/shadow", key) if planted == "key" else ("/etc", domain_dir)
    as_web_user = "runuser -u www-data -- "
    sut.check_output(as_web_user + "mv %s %s.kept", path, path)
    sut.check_output(as_web_user + "ln -s %s %s", target, path)
    try:
        lab.refused(
            moodle_site.SCENARIO,
            sut,
            host.backend.host,
            expected=f"symbolic link, www-data, 777, {path}",
            state=f"stat -c '%U:%G %a' /etc/shadow /etc; sha256sum {CONFIG_PHP} {SETTINGS_FILE}",
        )
    finally:
        sut.check_output(as_web_user + "rm %s", path)
        sut.check_output(as_web_user + "mv %s.kept %s", path, path)
