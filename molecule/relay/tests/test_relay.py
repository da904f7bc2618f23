"""relay_public: a public service played by the lab's relay. The sender is rewritten to the
login, the password stays private, a wrong password defers mail without losing it, and the
server opened to the network is no open relay."""

from __future__ import annotations

import json
import os
import re
import time

import pytest

from tests import lab
from tests.security.probes import nmap_open_relay

LOGIN = lab.LAB["lab_relay_login"]
PASSWORD = lab.LAB["lab_relay_password"]
SCENARIO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def sut(host):
    return lab.instance(host)


def converge(host, *extra_vars: str) -> str:
    run = lab.converge(SCENARIO, host, *extra_vars)
    return run.stdout + run.stderr


def test_relay_and_tls_mode_follow_the_preset(sut, host):
    cfg = dict(line.split(" = ", 1) for line in sut.check_output("postconf -n").splitlines())
    port, wrapper = ("587", "no") if host.backend.host.endswith("bookworm") else ("465", "yes")
    assert cfg["relayhost"] == f"[smtp.mailservice.test]:{port}"
    assert cfg["smtp_tls_wrappermode"] == wrapper
    assert cfg["smtp_tls_security_level"] == "secure"
    assert cfg["smtp_destination_rate_delay"] == "1s"
    assert cfg["smtp_destination_concurrency_failed_cohort_limit"] == "10"
    # the session to the relay kept across the 1 s pace, TLS through tlsproxy
    assert cfg["smtp_tls_connection_reuse"] == "yes"
    assert cfg["smtp_connection_cache_time_limit"] == "2s"
    assert sut.check_output("postconf -M tlsproxy/unix").split()[:2] == ["tlsproxy", "unix"]
    assert "smtp_destination_concurrency_limit" not in cfg
    # the service's published size limit (gmail's SIZE; yandex's unverified 25 MiB)
    assert cfg["message_size_limit"] == ("35882577" if port == "587" else "26214400")
    assert cfg["mailbox_size_limit"] == "51200000"


def test_credentials_are_private(sut):
    for path in ("/etc/postfix/sasl_passwd", "/etc/postfix/sasl_passwd.db"):
        f = sut.file(path)
        assert (f.user, f.group, f.mode) == ("root", "root", 0o600), path
    assert PASSWORD not in sut.file("/etc/postfix/main.cf").content_string


def test_sender_is_rewritten_to_the_login(sut):
    msg = lab.new_message("noreply@school.test", "someone@students.test")
    received = lab.find_message(lab.sendmail(sut, msg), "someone@students.test")
    assert received["Return-Path"] == f"<{LOGIN}>"
    assert received["From"] == f"Moodle School <{LOGIN}>"  # the display name stays


def test_wrong_password_defers_then_delivers_once_fixed(sut, host):
    """On Debian 13 (TLS from the first byte, port 465) alone: smtp_sasl_auth_soft_bounce is the
    same on both releases, and each re-converge costs CI a minute."""
    if not host.backend.host.endswith("trixie"):
        pytest.skip("the soft bounce is Postfix's on both releases; Debian 13 checks it")
    output = converge(host.backend.host, "postfix_relay_password=wrong-application-password")
    assert "wrong-application-password" not in output
    msg = lab.new_message("noreply@school.test", "someone@students.test")
    lab.sendmail(sut, msg)

    deadline = time.monotonic() + 60
    while "SASL authentication failed" not in lab.mail_log(sut, "-2min"):
        assert time.monotonic() < deadline, "the relay never refused the wrong password"
        time.sleep(1)
    # deferred, with the reason, and still in the queue: not bounced, not lost
    queue = sut.check_output("mailq")
    assert "SASL authentication failed" in queue and "someone@students.test" in queue, queue
    assert "status=bounced" not in lab.mail_log(sut, "-2min")

    output = converge(host.backend.host)
    assert PASSWORD not in output
    received = lab.find_message(msg["Subject"], "someone@students.test")
    assert received["Return-Path"] == f"<{LOGIN}>"


def test_no_open_relay_from_the_network(sut, host):
    """On Debian 12 alone: the same main.cf restrictions on both releases, and each re-converge
    costs CI a minute."""
    if not host.backend.host.endswith("bookworm"):
        pytest.skip("the relay restrictions are the role's, whatever the release")
    address = sut.interface("eth0").addresses[0]
    assert sut.socket(f"tcp://{address}:25").is_listening or sut.socket("tcp://0.0.0.0:25").is_listening
    report = nmap_open_relay(address)
    assert "doesn't seem to be an open relay" in report, report
    assert not re.search(r"Server is an open relay", report)

    # The probe can tell: trusting the lab's whole network makes it an open relay for the probe.
    converge(host.backend.host, json.dumps({"postfix_mynetworks": [lab.LAB["lab_subnet"]]}))
    try:
        assert "Server is an open relay" in nmap_open_relay(address)
    finally:
        converge(host.backend.host)


def test_a_relay_with_a_certificate_for_another_name_never_gets_the_password(sut, host):
    """A man in the middle with a certificate a trusted CA issued for another name: played by the
    lab relay reached by its address, which its certificate (smtp.mailservice.test) does not
    name. `encrypt` would hand it the password, so the role refuses it; with `secure` Postfix
    refuses the TLS session before AUTH: the relay logs no login from this server."""
    if not host.backend.host.endswith("bookworm"):
        pytest.skip("the TLS rule is the role's and Postfix's, whatever the release")
    relay = lab.part("relay")
    relay_ip = lab.LAB["lab_parts"]["relay"]["ip"]
    client = sut.interface("eth0").addresses[0]
    since = relay.check_output("date '+%Y-%m-%d %H:%M:%S'")

    lab.refused(
        SCENARIO,
        sut,
        host.backend.host,
        json.dumps({"postfix_relay_host": relay_ip, "postfix_relay_tls_level": "encrypt"}),
        expected="postfix_relay_tls_level must be secure or verify",
        state="sha256sum /etc/postfix/main.cf /etc/postfix/sasl_passwd",
        secret=PASSWORD,
    )

    converge(host.backend.host, json.dumps({"postfix_relay_host": relay_ip}))
    try:
        msg = lab.new_message("noreply@school.test", "someone@students.test", "lms.mail mitm test")
        lab.sendmail(sut, msg)
        deadline = time.monotonic() + 60
        while not re.search(
            r"certificate verification failed|Server certificate not verified", lab.mail_log(sut, "-2min")
        ):
            assert time.monotonic() < deadline, lab.mail_log(sut, "-2min")[-2000:]
            time.sleep(1)
        relay_log = relay.run("journalctl --no-pager -q --since=%s", since).stdout
        logins = [line for line in relay_log.splitlines() if client in line and "sasl" in line.lower()]
        assert logins == [], logins
        assert "someone@students.test" in sut.check_output("mailq")  # deferred, not lost
    finally:
        converge(host.backend.host)
    lab.find_message(msg["Subject"], "someone@students.test")
