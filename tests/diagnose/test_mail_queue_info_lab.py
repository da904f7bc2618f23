"""mail_queue_info and playbooks/diagnose.yml against a real Postfix: a fresh lab container on the
lab network delivering directly, with one message deferred (its recipient's host, probe.lab.test,
refuses port 25) and one bounced (an unknown user at the lab MX: the MX files every students.test
address, so the unknown user is one at its own address, nosuchuser@[10.89.231.25], which the MX
checks against its local users). Nothing leaves the lab network."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid

import pytest

from tests.lab import LAB, ROOT

MX_IP = LAB["lab_parts"]["mx"]["ip"]
PROBE = LAB["lab_parts"]["probe"]["hostname"]
SENDER = f"noreply@{LAB['lab_customer_domain']}"
DEFERRED_TO = f"teacher@{PROBE}"
BOUNCED_TO = f"nosuchuser@[{MX_IP}]"


def podman(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["podman", *args], input=stdin, capture_output=True, text=True, check=False)


def in_container(name: str, *argv: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return podman("exec", "-i", name, *argv, stdin=stdin)


def wait_for(what: str, check, timeout: float = 90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def mail_host(tmp_path_factory):
    """A lab container with Postfix delivering directly, a deferred and a bounced message in its
    log, and an inventory for it. Removed afterwards."""
    name = f"lmsmail-diagnose-{uuid.uuid4().hex[:6]}"
    started = podman(
        "run", "-d", "--name", name, "--hostname", "diag.school.test",
        "--network", LAB["lab_network"], "--dns", LAB["lab_parts"]["dns"]["ip"],
        "--systemd=always", "--label", "lms.mail.lab=test",
        LAB["lab_images"]["bookworm"], "/sbin/init",
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    try:
        wait_for("systemd", lambda: in_container(name, "systemctl", "is-system-running").stdout.strip()
                 in ("running", "degraded"))  # fmt: skip
        setup = in_container(
            name,
            "sh",
            "-ec",
            "postconf -e myhostname=diag.school.test myorigin=school.test mydestination=localhost "
            "inet_interfaces=loopback-only inet_protocols=ipv4 relayhost= && systemctl start postfix",
        )
        assert setup.returncode == 0, setup.stderr
        for recipient, subject in ((DEFERRED_TO, "Forum digest"), (BOUNCED_TO, "Password reset")):
            sent = in_container(
                name,
                "runuser", "-u", "www-data", "--", "/usr/sbin/sendmail", "-f", SENDER, recipient,
                stdin=f"From: {SENDER}\nTo: {recipient}\nSubject: {subject}\n\nSent by the lms.mail tests.\n",
            )  # fmt: skip
            assert sent.returncode == 0, sent.stderr

        def logged():
            log = in_container(name, "journalctl", "-q", "--no-pager", "SYSLOG_FACILITY=2").stdout
            return "status=deferred" in log and "status=bounced" in log and log

        wait_for("the deferral and the bounce in Postfix's log", logged)
        inventory = tmp_path_factory.mktemp("inventory") / "hosts.yml"
        inventory.write_text(
            "moodle:\n  hosts:\n"
            f"    {name}:\n"
            "      ansible_connection: containers.podman.podman\n"
            "      ansible_python_interpreter: /usr/bin/python3\n"
            "      mail_domain: school.test\n"
            "      postfix_transport: direct\n"
        )
        yield name, inventory
    finally:
        podman("rm", "--force", "--time", "0", name)


def ansible_env() -> dict:
    return dict(
        os.environ,
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
        ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
    )


def module(mail_host, *args: str, check: bool = False) -> dict:
    name, inventory = mail_host
    run = subprocess.run(
        ["ansible", name, "-i", str(inventory), "-m", "lms.mail.mail_queue_info", "-a", " ".join(args)]
        + (["--check"] if check else []),
        cwd=ROOT,
        env=ansible_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return json.loads(run.stdout)["plays"][0]["tasks"][0]["hosts"][name]


def by_recipient(result: dict) -> dict[str, dict]:
    return {d["recipient"]: d for d in result["deliveries"]}


def test_the_deferred_and_the_bounced_message_are_named_with_their_fix(mail_host):
    name, _ = mail_host
    queue_before = in_container(name, "postqueue", "-j").stdout
    result = module(mail_host, "since=1h", check=True)
    assert result["changed"] is False
    assert result["log"]["source"] == "journal"
    assert result["postfix"]["running"] is True
    assert result["postfix"]["relayhost"] == ""

    deliveries = by_recipient(result)
    bounced = deliveries[BOUNCED_TO]
    assert bounced["status"] == "bounced"
    assert bounced["dsn"] == "5.1.1"
    assert bounced["sender"] == SENDER
    assert bounced["submitted_by"] == "sendmail (uid 33)"
    assert "User unknown in local recipient table" in bounced["reply"]
    assert bounced["failure"]["kind"] == "unknown_recipient"
    assert bounced["failure"]["side"] == "receiving"
    assert "Moodle profile" in bounced["failure"]["fix"]

    deferred = deliveries[DEFERRED_TO]
    assert deferred["status"] == "deferred"
    assert deferred["dsn"] == "4.4.1"
    assert (
        deferred["reply"] == f"connect to {PROBE}[{LAB['lab_parts']['probe']['ip']}]:25: Connection refused"
    )
    assert deferred["failure"]["kind"] == "port25_blocked"
    assert deferred["failure"]["side"] == "sending"
    assert deferred["failure"]["temporary"] is True
    assert "postfix_transport" in deferred["failure"]["fix"]

    [queued] = [q for q in result["queue"] if q["recipients"][0]["address"] == DEFERRED_TO]
    assert queued["queue_name"] == "deferred"
    assert queued["recipients"][0]["failure"]["kind"] == "port25_blocked"
    assert {f["kind"] for f in result["findings"]} >= {"unknown_recipient", "port25_blocked"}
    assert result["summary"]["bounced"] >= 1 and result["summary"]["deferred"] >= 1
    # read-only: the queue is as it was
    assert in_container(name, "postqueue", "-j").stdout == queue_before


def test_filters_narrow_to_one_person_and_one_status(mail_host):
    result = module(mail_host, f"recipient={DEFERRED_TO.upper()}", "since=1h")
    assert [d["recipient"] for d in result["deliveries"]] == [DEFERRED_TO]
    assert [q["recipients"][0]["address"] for q in result["queue"]] == [DEFERRED_TO]
    assert result["verdict"].startswith(f"Mail to {DEFERRED_TO.upper()} is waiting in the queue")
    bounced = module(mail_host, "statuses=bounced", "since=1h")
    assert bounced["deliveries"] and {d["status"] for d in bounced["deliveries"]} == {"bounced"}
    future = module(mail_host, "since=2099-01-01T00:00:00")
    assert future["deliveries"] == []


def test_diagnose_playbook_writes_the_report(mail_host, tmp_path):
    name, inventory = mail_host
    run = subprocess.run(
        ["ansible-playbook", "playbooks/diagnose.yml", "-i", str(inventory),
         "-e", f"diagnose_recipient={DEFERRED_TO}", "-e", "diagnose_dns=false",
         "-e", f"diagnose_report_dir={tmp_path}"],
        cwd=ROOT,
        env=dict(ansible_env(), ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default"),
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    markdown = (tmp_path / f"diagnose-{name}.md").read_text()
    report = json.loads((tmp_path / f"diagnose-{name}.json").read_text())
    assert f"Mail to {DEFERRED_TO} is waiting in the queue" in markdown
    assert "outgoing port 25 is blocked" in markdown
    assert "No Moodle found on this server" in markdown
    assert [f["kind"] for f in report["findings"]] == ["port25_blocked"]
    assert report["recipient"] == DEFERRED_TO
    assert "outgoing port 25 is blocked" in run.stdout
