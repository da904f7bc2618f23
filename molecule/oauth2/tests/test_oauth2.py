"""postfix_relay_auth oauth2: Microsoft 365 (Debian 12, client credentials) and Google Workspace
(Debian 13, a refresh token seeded into emailproxy's store), played by the lab's relay and its
OAuth 2.0 provider (60 s tokens, every bearer token introspected by the relay's Dovecot).

Mail reaches the relay logged in with XOAUTH2; tokens are renewed for minutes of sending; a
revoked credential defers mail (never bounces it) with the reason in Postfix's log and
emailproxy's journal, and the role re-run with the new credential delivers it; secrets never
appear in `-vvv --diff` output; Microsoft 365 with a password is warned about in preflight and
refused by the relay with 5.7.30."""

from __future__ import annotations

import base64
import configparser
import json
import os
import re
import subprocess
import time

import pytest
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from tests import lab

SCENARIO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOGIN = lab.LAB["lab_relay_oauth2_login"]
CLIENTS = lab.LAB["lab_oauth2_clients_dir"]
TENANT = "7b0c1f2e-5a4d-4c3b-9e8f-0a1b2c3d4e5f"  # molecule.yml's oauth2_tenant
SECRET = "lab-client-secret-one"  # noqa: S105 (molecule.yml's oauth2_secret)
REFRESH = "lab-refresh-token-one"  # molecule.yml's oauth2_refresh_token (Debian 13)
STORE = "/var/lib/lms-mail-emailproxy/tokens"
UNIT = "lms-mail-emailproxy"


@pytest.fixture
def sut(host):
    return lab.instance(host)


def is_microsoft(host) -> bool:
    return host.backend.host.endswith("bookworm")


def register(client_id: str, secret: str, refresh_token: str) -> None:
    """Write (or change: a revocation) the client's registration at the lab's provider."""
    client = {"tenant": TENANT, "secret": secret, "refresh_token": refresh_token, "mailbox": LOGIN}
    subprocess.run(
        [
            "podman",
            "exec",
            "-i",
            lab.LAB["lab_parts"]["relay"]["container"],
            "sh",
            "-c",
            'umask 022 && cat > "$1"',
            "sh",
            f"{CLIENTS}/{client_id}.json",
        ],
        input=json.dumps(client),
        text=True,
        check=True,
    )


def journal(container_host, unit: str, since: str) -> str:
    return container_host.run("journalctl --no-pager -q -o short-iso -u %s --since=%s", unit, since).stdout


def local_password(sut) -> str:
    line = sut.file("/etc/postfix/sasl_passwd").content_string.splitlines()[-1]
    return line.split(" ", 1)[1].split(":", 1)[1]


def stored_tokens(sut) -> list[str]:
    """The tokens emailproxy keeps, decrypted as emailproxy does (PBKDF2-SHA256 of the local
    password with the stored salt, Fernet), so that a test can look for them in output."""
    store = configparser.ConfigParser(interpolation=None)
    store.read_string(sut.run("cat %s", STORE).stdout)
    if not store.has_option(LOGIN, "token_salt"):  # none yet, or dropped by emailproxy after a refusal
        return []
    entry = store[LOGIN]
    kdf = PBKDF2HMAC(
        algorithm=hashes.SHA256(),
        length=32,
        salt=base64.b64decode(entry["token_salt"]),
        iterations=int(entry["token_iterations"]),
    )
    fernet = Fernet(base64.urlsafe_b64encode(kdf.derive(local_password(sut).encode())))
    tokens = []
    for name in ("access_token", "refresh_token"):
        if name in entry:
            try:
                tokens.append(fernet.decrypt(entry[name].encode()).decode())
            except InvalidToken:
                pytest.fail(f"emailproxy's {name} does not decrypt with the local password")
    return tokens


def wait_for(predicate, what: str, timeout: float = 90.0):
    deadline = time.monotonic() + timeout
    while True:
        found = predicate()
        if found:
            return found
        assert time.monotonic() < deadline, what
        time.sleep(2)


def test_postfix_hands_mail_to_emailproxy_on_loopback(sut):
    cfg = dict(line.split(" = ", 1) for line in sut.check_output("postconf -n").splitlines())
    assert cfg["relayhost"] == "[127.0.0.1]:10587"
    assert cfg["smtp_sasl_auth_enable"] == "yes"
    listening = sut.check_output("ss -Hltn 'sport = :10587'")
    assert [line.split()[3] for line in listening.splitlines()] == ["127.0.0.1:10587"], listening
    for path in ("/etc/lms-mail/emailproxy/emailproxy.config", "/etc/postfix/sasl_passwd"):
        f = sut.file(path)
        assert (f.user, f.group, f.mode) == ("root", "root", 0o600), path
    assert sut.file("/etc/lms-mail/emailproxy").mode == 0o700
    assert SECRET not in sut.file("/etc/postfix/main.cf").content_string
    assert SECRET not in sut.file("/etc/postfix/sasl_passwd").content_string
    # emailproxy runs as a user of its own, never root
    user = sut.check_output("systemctl show -P User %s", UNIT)
    pid = sut.check_output("systemctl show -P MainPID %s", UNIT)
    assert sut.check_output("ps -o user= -p %s", pid) not in ("root", "")
    assert user == "" or user != "root"


def test_a_message_arrives_through_the_xoauth2_relay(sut, host):
    since = sut.check_output("date -u '+%Y-%m-%d %H:%M:%S'")
    msg = lab.new_message(LOGIN, "someone@students.test")
    received = lab.find_message(lab.sendmail(sut, msg), "someone@students.test")
    assert received["Return-Path"] == f"<{LOGIN}>"
    relay_log = lab.mail_log(lab.part("relay"), since)
    logins = [
        line for line in relay_log.splitlines() if f"sasl_method=XOAUTH2, sasl_username={LOGIN}" in line
    ]
    assert logins, relay_log[-2000:]
    grants = journal(lab.part("relay"), "lab-oauth2-provider", since)
    assert f"issued client_id={host.backend.host}" in grants, grants[-2000:]
    if not is_microsoft(host):
        # Google: the access token came from the refresh token the role seeded
        assert "seeded the token store" in journal(sut, UNIT, "-1day")


def test_tokens_of_60_seconds_are_renewed_over_three_minutes(sut, host):
    """Both instances at once (the wait is the point, not the release): a message every 45 s for
    three minutes to each, with tokens that live 60 s; every one arrives, and the provider's log
    shows the grants spread over the whole time."""
    if not is_microsoft(host):
        pytest.skip("runs for both instances in the Debian 12 pass")
    suts = {name: lab.podman_host(name) for name in ("lmsmail-oauth2-bookworm", "lmsmail-oauth2-trixie")}
    since = sut.check_output("date -u '+%Y-%m-%d %H:%M:%S'")
    sent = []
    for round_ in range(5):
        for name, each in suts.items():
            msg = lab.new_message(LOGIN, "someone@students.test", subject=f"token round {round_} {name}")
            sent.append(lab.sendmail(each, msg))
        if round_ < 4:
            time.sleep(45)
    for subject in sent:
        lab.find_message(subject, "someone@students.test", timeout=120)
    grants = journal(lab.part("relay"), "lab-oauth2-provider", since)
    for name in suts:
        times = re.findall(rf"^(\S+) \S+ \S+: issued client_id={name} ", grants, re.MULTILINE)
        assert len(times) >= 4, grants[-3000:]
        first, last = (time.mktime(time.strptime(t[:19], "%Y-%m-%dT%H:%M:%S")) for t in (times[0], times[-1]))
        assert last - first >= 150, times
        print(f"{name}: {len(times)} tokens issued from {times[0]} to {times[-1]}")


def test_failures_defer_mail_until_the_role_runs_with_the_fix(sut, host):
    """Microsoft 365 (Debian 12): the old password login is warned about in preflight and refused
    by the relay with 5.7.30; then the app's secret is replaced in Entra (the server's is revoked)
    and the role runs back to OAuth 2.0 with the old one. Google (Debian 13): the mailbox's
    refresh token is revoked. Either way the mail waits in the queue, never bounced, with the
    reason in Postfix's log and emailproxy's journal, and leaves once the role runs with the new
    credential; that run, with -vvv --diff, prints no secret."""
    name = host.backend.host
    since = sut.check_output("date -u '+%Y-%m-%d %H:%M:%S'")
    waiting = []
    if is_microsoft(host):
        run = lab.converge(
            SCENARIO, name, "postfix_relay_auth=password", "postfix_relay_password=the-old-mailbox-password"
        )
        output = " ".join((run.stdout + run.stderr).split())
        warning = "[WARNING]: postfix_relay_preset microsoft365 with postfix_relay_auth password"
        assert warning in output, output[-3000:]
        assert "550 5.7.30 Basic authentication is not supported" in output
        assert "the-old-mailbox-password" not in output
        assert sut.check_output("systemctl is-active %s || true", UNIT) != "active"
        msg = lab.new_message(LOGIN, "someone@students.test")
        waiting.append(lab.sendmail(sut, msg))
        log = wait_for(
            lambda: (
                (text := lab.mail_log(sut, since))
                and "5.7.30 Basic authentication is not supported" in text
                and text
            ),
            "the relay never answered the password login with 5.7.30",
        )
        print(next(line for line in log.splitlines() if "5.7.30" in line))
        new, fix = "lab-client-secret-two", ["oauth2_secret=lab-client-secret-two"]
        # the secret is replaced in Entra; the role runs back to OAuth 2.0 with the old one
        lab.converge(SCENARIO, name, "oauth2_registered_secret=lab-client-secret-two")
    else:
        new, fix = "lab-refresh-token-two", ["oauth2_refresh_token=lab-refresh-token-two"]
        lab.converge(SCENARIO, name, "oauth2_registered_refresh_token=lab-refresh-token-two")
    old_tokens = stored_tokens(sut)
    msg = lab.new_message(LOGIN, "someone@students.test")
    waiting.append(lab.sendmail(sut, msg))
    log = wait_for(
        lambda: (text := lab.mail_log(sut, since)) and "Email OAuth 2.0 Proxy: Login failed" in text and text,
        "Postfix never logged emailproxy's refusal",
    )
    refusals = [
        line
        for line in log.splitlines()
        if "Email OAuth 2.0 Proxy: Login failed" in line and "status=deferred" in line
    ]
    assert refusals, log[-3000:]
    print(refusals[0])
    assert "status=bounced" not in lab.mail_log(sut, since)
    assert "someone@students.test" in sut.check_output("mailq")
    # the provider's reason: Microsoft's AADSTS code in emailproxy's journal; Google's refusal of
    # the refresh token, after which emailproxy gives up
    proxy_log = journal(sut, UNIT, since)
    provider_log = journal(lab.part("relay"), "lab-oauth2-provider", since)
    if is_microsoft(host):
        assert "AADSTS7000215" in proxy_log, proxy_log[-2000:]
        assert f"refused client_id={name}: invalid client secret" in provider_log
    else:
        assert "Retrying login due to exception while refreshing access token" in proxy_log, proxy_log[-2000:]
        assert f"refused client_id={name}: invalid refresh token" in provider_log
    print("\n".join(line for line in proxy_log.splitlines() if "Login failed" in line or "exception" in line))

    # the role re-run with the new credential, with everything Ansible can print
    run = lab.converge(
        SCENARIO,
        name,
        *fix,
        f"oauth2_registered_secret={new if is_microsoft(host) else SECRET}",
        f"oauth2_registered_refresh_token={'' if is_microsoft(host) else new}",
        options=("-vvv", "--diff"),
    )
    output = run.stdout + run.stderr
    for subject in waiting:
        lab.find_message(subject, "someone@students.test", timeout=90)
    secrets = {SECRET, REFRESH, new, local_password(sut), *old_tokens, *stored_tokens(sut)}
    secrets.discard("")
    leaked = [s[:6] + "..." for s in secrets if s in output]
    assert not leaked, f"secrets in the -vvv --diff output: {leaked}"
    assert len(output) > 50_000  # really verbose: the check above had something to look through
