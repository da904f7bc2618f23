"""Failures produced for real in the lab, each read back by playbooks/diagnose.yml (the report
an operator reads, as JSON and as Markdown) with its kind, its side and its fix: through the lab
relay that plays a public service (smtp.mailservice.test:587, SASL over STARTTLS, sender = login,
10240000-byte SIZE), a relay that does not resolve or does not answer, the lab MX's own size
limit, this server's own size limit, and Postfix stopped while mail is handed over; and the lab MX
refusing as receivers do: SPF failing for a domain whose SPF allows no host, a mailbox over its
quota, a relay that rate-limits. One container, reconfigured case by case; only lab hosts are
reached."""

from __future__ import annotations

import datetime
import json
import subprocess
import time

import pytest

from tests.diagnose.mail_host import (
    ansible_env,
    diagnose,
    in_container,
    mail_host,
    mail_queue_info,
    podman,
    sendmail,
    sh,
    wait_for,
)
from tests.lab import LAB, ROOT

RELAY = LAB["lab_parts"]["relay"]["hostname"]
NOWHERE = "smtp.nowhere." + RELAY.split(".", 1)[1]  # in the relay's zone, which the lab DNS answers
LOGIN = LAB["lab_relay_login"]
TO = LAB["lab_mailbox_login"]  # postmaster@students.test, a mailbox of the lab MX
OVER_10MB = 10_600_000  # above the relay's and the MX's message_size_limit (Postfix's default, 10240000)

RELAY_CONF = (
    f"postconf -e 'relayhost=[{RELAY}]:587' smtp_sasl_auth_enable=yes "
    "smtp_sasl_password_maps=texthash:/etc/postfix/sasl_passwd smtp_sasl_security_options=noanonymous "
    "smtp_tls_security_level=secure smtp_tls_CAfile=/etc/postfix/lab-ca.pem message_size_limit=50000000"
)
DIRECT_CONF = (
    "postconf -e relayhost= smtp_sasl_auth_enable=no smtp_tls_security_level=may smtp_tls_CAfile= "
    "message_size_limit=50000000"
)


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    with mail_host(tmp_path_factory.mktemp("failures"), "failures") as (name, inventory):
        copied = podman("cp", str(ROOT / "lab" / ".state" / "ca.pem"), f"{name}:/etc/postfix/lab-ca.pem")
        assert copied.returncode == 0, copied.stderr
        yield name, inventory


def configure(name: str, conf: str, password: str = LAB["lab_relay_password"]) -> float:
    """Empty the queue, set Postfix up, and return the moment from which the case's log counts."""
    sh(
        name,
        f"postsuper -d ALL >/dev/null 2>&1 || true; printf '[{RELAY}]:587 {LOGIN}:%s\\n' '{password}' "
        f"> /etc/postfix/sasl_passwd; chmod 600 /etc/postfix/sasl_passwd; {conf}; postfix reload >/dev/null",
    )
    time.sleep(1)
    return time.time()


def since(moment: float) -> str:
    return "since=" + datetime.datetime.fromtimestamp(moment - 1, datetime.UTC).isoformat(timespec="seconds")


def wait_for_status(name: str, moment: float, status: str) -> None:
    def logged():
        log = in_container(
            name, "journalctl", "-q", "--no-pager", "SYSLOG_FACILITY=2", f"--since=@{int(moment) - 1}"
        ).stdout
        return f"status={status}" in log

    wait_for(f"a {status} delivery in Postfix's log", logged)


CASES = [
    # (case, Postfix's settings, relay password, sender, size, status, kind, side, the fix names)
    ("wrong password", RELAY_CONF, "not-the-password", LOGIN, 0, "deferred", "auth_failed", "sending",
     "postfix_relay_password"),
    ("a From other than the login", RELAY_CONF, None, "noreply@school.test", 0, "bounced",
     "sender_not_allowed", "sending", "postfix_relay_rewrite_sender"),
    ("a message over the relay's size limit", RELAY_CONF, None, LOGIN, OVER_10MB, "bounced",
     "message_too_large", "sending", "postfix_message_size_limit"),
    ("a certificate from a CA this server does not trust", RELAY_CONF + " smtp_tls_CAfile=", None, LOGIN, 0,
     "deferred", "tls_failed", "sending", "postfix_relay_tls_ca_cert"),
    ("a relay name that does not resolve", RELAY_CONF + f" 'relayhost=[{NOWHERE}]:587'",
     None, LOGIN, 0, "deferred", "relay_host_not_found", "sending", "postfix_relay_host"),
    ("a relay port where nothing listens", RELAY_CONF + f" 'relayhost=[{RELAY}]:2525'", None, LOGIN, 0,
     "deferred", "connection_failed", "sending", "postfix_relay_port"),
    ("a message over the receiver's size limit", DIRECT_CONF, None, "noreply@school.test", OVER_10MB,
     "bounced", "message_too_large", "receiving", "maxbytes"),
]  # fmt: skip


def named(report: dict, markdown: str, kind: str, fix: str) -> None:
    """The report names the kind with its fix, in its JSON and in the Markdown a person reads."""
    found = {f["kind"]: f for f in report["findings"]}
    assert kind in found, f"the report names {sorted(found)}, not {kind}"
    assert fix in found[kind]["fix"], found[kind]
    assert f"`{kind}`" in markdown and found[kind]["title"] in markdown and fix in markdown


@pytest.mark.parametrize(
    ("case", "conf", "password", "sender", "size", "status", "kind", "side", "names"),
    CASES,
    ids=[c[0] for c in CASES],
)
def test_a_failure_is_named_with_its_fix(
    host, tmp_path, case, conf, password, sender, size, status, kind, side, names
):
    name, _ = host
    moment = configure(name, conf, password or LAB["lab_relay_password"])
    sendmail(name, sender, TO, f"lms.mail diagnosis: {case}", size)
    wait_for_status(name, moment, status)
    report, markdown = diagnose(host, tmp_path, f"diagnose_{since(moment)}", f"diagnose_recipient={TO}")
    [delivery] = [d for d in report["deliveries"] if d["sender"] == sender]
    assert delivery["status"] == status, delivery
    assert (delivery["failure"]["kind"], delivery["failure"]["side"]) == (kind, side), delivery
    assert names in delivery["failure"]["fix"]
    named(report, markdown, kind, names)


# The lab MX as receivers refuse (lab/templates/mx-main.cf.j2): an SPF check that rejects on Fail
# for one address, a mailbox over its Dovecot quota, and a listener that plays a relay allowing
# one message per client and minute.
SPF_FAIL_DOMAIN = "spf-fail." + LAB["lab_customer_domain"]  # its SPF: "v=spf1 -all"
MX = LAB["lab_parts"]["mx"]["hostname"]
RATE_LIMITED_CONF = (
    f"postconf -e 'relayhost=[{MX}]:{LAB['lab_mx_rate_limited_port']}' smtp_sasl_auth_enable=no "
    "smtp_tls_security_level=may smtp_tls_CAfile= message_size_limit=50000000"
)
RECEIVER_CASES = [
    # (case, Postfix's settings, sender, recipient, messages, status, kind, side, the fix says)
    ("a receiver that rejects mail whose SPF fails", DIRECT_CONF, f"noreply@{SPF_FAIL_DOMAIN}",
     LAB["lab_mx_spf_strict_recipient"], 1, "bounced", "sender_authentication_rejected", "receiving",
     "dns_provider"),
    ("a full mailbox", DIRECT_CONF, "noreply@school.test", LAB["lab_mx_full_recipient"], 1, "bounced",
     "mailbox_full", "receiving", "free their mailbox"),
    ("a relay that rate-limits", RATE_LIMITED_CONF, "noreply@school.test", TO, 3, "deferred", "rate_limited",
     "sending", "postfix_relay_per_minute_limit"),
]  # fmt: skip


@pytest.fixture(scope="module")
def spf_fail_domain():
    """A sender domain whose SPF allows no host (published in the lab DNS over RFC 2136)."""
    ns = LAB["lab_parts"]["dns"]
    update = f'server {ns["ip"]}\nupdate {{}} {SPF_FAIL_DOMAIN}. 300 TXT "v=spf1 -all"\nsend\n'
    added = in_container(
        ns["container"], "nsupdate", "-k", "/etc/bind/lab-update.key", stdin=update.format("add")
    )
    assert added.returncode == 0, added.stderr
    yield SPF_FAIL_DOMAIN
    in_container(ns["container"], "nsupdate", "-k", "/etc/bind/lab-update.key", stdin=update.format("delete"))


@pytest.mark.parametrize(
    ("case", "conf", "sender", "recipient", "messages", "status", "kind", "side", "says"),
    RECEIVER_CASES,
    ids=[c[0] for c in RECEIVER_CASES],
)
def test_a_receiver_refusal_is_named_with_its_fix(
    host, tmp_path, spf_fail_domain, case, conf, sender, recipient, messages, status, kind, side, says
):
    name, _ = host
    moment = configure(name, conf)
    for number in range(messages):
        sendmail(name, sender, recipient, f"lms.mail diagnosis: {case} ({number + 1})")
    wait_for_status(name, moment, status)
    report, markdown = diagnose(
        host, tmp_path, f"diagnose_{since(moment)}", f"diagnose_recipient={recipient}"
    )
    failed = [d for d in report["deliveries"] if d["sender"] == sender and d["status"] == status]
    assert failed, report["deliveries"]
    failure = failed[0]["failure"]
    assert (failure["kind"], failure["side"]) == (kind, side), failed[0]
    assert says in failure["fix"]
    named(report, markdown, kind, says)


def test_diagnose_names_the_full_mailbox_of_the_student_who_got_nothing(host, tmp_path):
    name, inventory = host
    full = LAB["lab_mx_full_recipient"]
    moment = configure(name, DIRECT_CONF)
    sendmail(name, "noreply@school.test", full, "lms.mail diagnosis: the student who got nothing")
    wait_for_status(name, moment, "bounced")
    run = subprocess.run(
        ["ansible-playbook", "playbooks/diagnose.yml", "-i", str(inventory),
         "-e", f"diagnose_recipient={full}", "-e", f"diagnose_{since(moment)}", "-e", "diagnose_dns=false",
         "-e", f"diagnose_report_dir={tmp_path}"],
        cwd=ROOT, env=dict(ansible_env(), ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default"),
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    report = json.loads((tmp_path / f"diagnose-{name}.json").read_text())
    markdown = (tmp_path / f"diagnose-{name}.md").read_text()
    assert [f["kind"] for f in report["findings"]] == ["mailbox_full"]
    assert "the recipient's mailbox is full" in markdown
    assert "552 5.2.2" in markdown and "Mailbox is full" in markdown
    assert "Only the recipient can free their mailbox" in markdown


def test_a_message_over_this_server_limit_is_refused_when_handed_over(host, tmp_path):
    name, _ = host
    moment = configure(name, DIRECT_CONF + " message_size_limit=10240000")
    refused = in_container(
        name, "sh", "-c",
        f"python3 -c \"print('Subject: too big'); print(); print(('x' * 76 + chr(10)) * {OVER_10MB // 77})\" "
        "| runuser -u www-data -- /usr/sbin/sendmail -f noreply@school.test " + TO,
    )  # fmt: skip
    assert refused.returncode != 0
    assert "message file too big" in refused.stderr
    wait_for(
        "the refusal among Postfix's problems",
        lambda: [
            p for p in mail_queue_info(host, since(moment))["problems"] if "message file too big" in p["text"]
        ],
    )
    report, markdown = diagnose(host, tmp_path, f"diagnose_{since(moment)}")
    [problem] = [p for p in report["problems"] if "message file too big" in p["text"]]
    failure = problem["failure"]
    assert (failure["kind"], failure["side"]) == ("message_too_large", "sending")
    assert "postfix_message_size_limit" in failure["fix"]
    named(report, markdown, "message_too_large", "postfix_message_size_limit")


def test_postfix_stopped_while_moodle_hands_mail_over(host):
    name, _ = host
    configure(name, DIRECT_CONF)
    sh(name, "systemctl stop postfix")
    try:
        sendmail(name, "noreply@school.test", TO, "lms.mail diagnosis: Postfix stopped")
        result = mail_queue_info(host, "since=10m")
        assert result["postfix"]["running"] is False
        assert "Mail system is down" in result["postfix"]["queue_error"]
        [waiting] = [q for q in result["queue"] if q["queue_name"] == "maildrop"]
        failure = waiting["recipients"][0]["failure"]
        assert (failure["kind"], failure["side"]) == ("local_mta_not_running", "sending")
        assert "local_mta_not_running" in {f["kind"] for f in result["findings"]}
    finally:
        sh(name, "systemctl start postfix")
