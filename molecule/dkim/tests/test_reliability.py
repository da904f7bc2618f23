"""Never lost, never unsigned, Moodle never refused (postfix_milter_mode after_queue, the
default): 200 messages handed over while the signers are stopped, and 200 while they are
killed (SIGKILL) mid-stream, are all taken at once, held in the queue while no signer answers,
and all arrive at the lab's MX, each once and each with valid signatures; systemd brings a
killed signer back by itself. Counted by Message-ID at the receiver. On the Debian 13 platform,
whose two signers (RSA and Ed25519) both have to come back: the mail path is the same on 12."""

from __future__ import annotations

import io
import subprocess
import tarfile
import time
import uuid

import pytest

from tests import lab

MESSAGES = 200
RECIPIENT = "someone@students.test"
MAILDIR = "/var/mail/vhosts/students.test"

# Runs on the server: MESSAGES messages the way Moodle hands them over (one SMTP session to
# 127.0.0.1:25, as Moodle's mailer keeps its connection), each with its own Message-ID; with a
# kill command, it is run once after a quarter of them, while the queue is passing the first
# ones to the signers. Prints how many the server accepted.
SENDER = r"""
import smtplib, subprocess, sys
from email.message import EmailMessage
marker, count, kill = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
accepted = 0
with smtplib.SMTP("127.0.0.1", 25, timeout=60) as smtp:
    for n in range(count):
        if kill and n == count // 4:
            subprocess.run(kill, check=True)
        msg = EmailMessage()
        msg["From"] = "Moodle School <noreply@school.test>"
        msg["To"] = "someone@students.test"
        msg["Subject"] = f"reliability {marker} {n}"
        msg["Message-ID"] = f"<{marker}.{n}@school.test>"
        msg.set_content(f"Message {n} of a burst ({marker}).\n")
        smtp.send_message(msg)
        accepted += 1
print(accepted)
"""


@pytest.fixture
def sut(host):
    if not host.backend.host.endswith("trixie"):
        pytest.skip("the mail path does not depend on the release; Debian 13 has two signers to bring back")
    return lab.instance(host)


@pytest.fixture
def published(host) -> dict[str, str]:
    return lab.exported_dkim_records(host.backend.host)


SIGNERS = ["opendkim", "opendkim-ed25519"]


def send(host, marker: str, kill: list[str] | None = None) -> int:
    run = subprocess.run(
        ["podman", "exec", "-i", host.backend.host, "python3", "-", marker, str(MESSAGES), *(kill or [])],
        input=SENDER,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return int(run.stdout.strip())


def arrived(marker: str) -> list[bytes]:
    """Every message of this burst in the MX's mailbox, raw, fetched in one tar stream."""
    container = lab.LAB["lab_parts"]["mx"]["container"]
    script = f"grep -rlZF -- {marker} {MAILDIR}/new {MAILDIR}/cur | xargs -0 -r tar -cf - --"
    run = subprocess.run(["podman", "exec", container, "sh", "-c", script], capture_output=True, check=False)
    if not run.stdout:
        return []
    with tarfile.open(fileobj=io.BytesIO(run.stdout)) as tar:
        return [tar.extractfile(member).read() for member in tar.getmembers() if member.isfile()]


def wait_for_all(marker: str, timeout: float = 240.0) -> list[bytes]:
    deadline = time.monotonic() + timeout
    while True:
        messages = arrived(marker)
        if len(messages) >= MESSAGES or time.monotonic() > deadline:
            return messages
        time.sleep(3)


def message_id(raw: bytes) -> str:
    for line in raw.split(b"\n"):
        if line.lower().startswith(b"message-id:"):
            return line.split(b":", 1)[1].strip().decode()
    return ""


def audit(messages: list[bytes], marker: str, published: dict[str, str]) -> dict[str, int]:
    """Lost, duplicated and unsigned messages of a burst, by Message-ID: unsigned means without a
    valid RSA and a valid Ed25519 signature of school.test."""
    ids = [message_id(raw) for raw in messages]
    wanted = {f"<{marker}.{n}@school.test>" for n in range(MESSAGES)}
    unsigned = 0
    for raw in messages:
        signatures = lab.dkim_signatures(raw)
        algorithms = sorted(s["a"] for s in signatures if s["d"] == "school.test")
        valid = all(lab.dkim_verify_with_records(raw, published, i) for i in range(len(signatures)))
        if algorithms != ["ed25519-sha256", "rsa-sha256"] or not valid:
            unsigned += 1
    return {
        "arrived": len(set(ids) & wanted),
        "lost": len(wanted - set(ids)),
        "duplicated": len(ids) - len(set(ids)),
        "unsigned": unsigned,
    }


def restarts(sut) -> dict[str, int]:
    return {s: int(sut.check_output("systemctl show -p NRestarts --value %s", s)) for s in SIGNERS}


def test_mail_waits_in_the_queue_while_the_signers_are_stopped(sut, host, published):
    marker = f"stopped{uuid.uuid4().hex[:12]}"
    sut.run_expect([0], "systemctl stop " + " ".join(SIGNERS))
    try:
        assert send(host, marker) == MESSAGES, "Moodle was refused"
        time.sleep(5)
        assert arrived(marker) == [], "mail left while no signer was running"
        queued = sut.check_output("postqueue -j | grep -c %s || true", "noreply@school.test")
        assert int(queued) >= MESSAGES, "not every message waits in the queue"
    finally:
        sut.run_expect([0], "systemctl start " + " ".join(SIGNERS))
    counts = audit(wait_for_all(marker), marker, published)
    print(f"signers stopped, then started: {MESSAGES} sent, {counts}")
    assert counts == {"arrived": MESSAGES, "lost": 0, "duplicated": 0, "unsigned": 0}


def test_signers_killed_mid_stream_come_back_and_nothing_leaves_unsigned(sut, host, published):
    marker = f"killed{uuid.uuid4().hex[:12]}"
    before = restarts(sut)
    kill = ["systemctl", "kill", "--signal=SIGKILL", *SIGNERS]
    assert send(host, marker, kill) == MESSAGES, "Moodle was refused"
    counts = audit(wait_for_all(marker), marker, published)
    print(f"signers killed after {MESSAGES // 4} of {MESSAGES}: {counts}")
    assert counts == {"arrived": MESSAGES, "lost": 0, "duplicated": 0, "unsigned": 0}
    after = restarts(sut)
    assert all(after[s] == before[s] + 1 for s in SIGNERS), (before, after)
    assert all(sut.service(s).is_running for s in SIGNERS)
