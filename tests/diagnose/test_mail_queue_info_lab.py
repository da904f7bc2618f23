"""mail_queue_info and playbooks/diagnose.yml against a real Postfix: a fresh lab container on the
lab network delivering directly, with one message deferred (its recipient's host, probe.lab.test,
refuses port 25) and one bounced (an unknown user at the lab MX: the MX files every students.test
address, so the unknown user is one at its own address, nosuchuser@[10.89.231.25], which the MX
checks against its local users). Nothing leaves the lab network."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.diagnose.mail_host import (
    ansible_env,
    diagnose,
    in_container,
    mail_host,
    mail_queue_info,
    sendmail,
    wait_for,
)
from tests.lab import LAB, ROOT

MX_IP = LAB["lab_parts"]["mx"]["ip"]
PROBE = LAB["lab_parts"]["probe"]["hostname"]
SENDER = f"noreply@{LAB['lab_customer_domain']}"
DEFERRED_TO = f"teacher@{PROBE}"
BOUNCED_TO = f"nosuchuser@[{MX_IP}]"


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    """The mail host with a deferred and a bounced message in its log."""
    with mail_host(tmp_path_factory.mktemp("direct"), "diagnose") as (name, inventory):
        sendmail(name, SENDER, DEFERRED_TO, "Forum digest")
        sendmail(name, SENDER, BOUNCED_TO, "Password reset")

        def logged():
            log = in_container(name, "journalctl", "-q", "--no-pager", "SYSLOG_FACILITY=2").stdout
            return "status=deferred" in log and "status=bounced" in log

        wait_for("the deferral and the bounce in Postfix's log", logged)
        yield name, inventory


def by_recipient(result: dict) -> dict[str, dict]:
    return {d["recipient"]: d for d in result["deliveries"]}


def test_the_deferred_and_the_bounced_message_are_named_with_their_fix(host):
    name, _ = host
    queue_before = in_container(name, "postqueue", "-j").stdout
    result = mail_queue_info(host, "since=1h", check=True)
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
    assert "mail_transport" in deferred["failure"]["fix"]

    [queued] = [q for q in result["queue"] if q["recipients"][0]["address"] == DEFERRED_TO]
    assert queued["queue_name"] == "deferred"
    assert queued["recipients"][0]["failure"]["kind"] == "port25_blocked"
    assert {f["kind"] for f in result["findings"]} >= {"unknown_recipient", "port25_blocked"}
    assert result["summary"]["bounced"] >= 1 and result["summary"]["deferred"] >= 1
    # read-only: the queue is as it was
    assert in_container(name, "postqueue", "-j").stdout == queue_before


def test_filters_narrow_to_one_person_and_one_status(host):
    result = mail_queue_info(host, f"recipient={DEFERRED_TO.upper()}", "since=1h")
    assert [d["recipient"] for d in result["deliveries"]] == [DEFERRED_TO]
    assert [q["recipients"][0]["address"] for q in result["queue"]] == [DEFERRED_TO]
    assert result["verdict"].startswith(f"Mail to {DEFERRED_TO.upper()} is waiting in the queue")
    bounced = mail_queue_info(host, "statuses=bounced", "since=1h")
    assert bounced["deliveries"] and {d["status"] for d in bounced["deliveries"]} == {"bounced"}
    future = mail_queue_info(host, "since=2099-01-01T00:00:00")
    assert future["deliveries"] == []


def test_diagnose_playbook_writes_the_report(host, tmp_path):
    name, inventory = host
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


def test_diagnose_names_the_unknown_user_and_the_blocked_port_with_their_fixes(host, tmp_path):
    """The whole window, as an operator first runs it: both failures named with their fix."""
    report, markdown = diagnose(host, tmp_path, "diagnose_since=1h")
    found = {f["kind"]: f for f in report["findings"]}
    assert set(found) >= {"unknown_recipient", "port25_blocked"}, found
    assert found["unknown_recipient"]["side"] == "receiving"
    assert BOUNCED_TO in found["unknown_recipient"]["recipients"]
    for kind in ("unknown_recipient", "port25_blocked"):
        assert found[kind]["title"] in markdown and found[kind]["fix"] in markdown
    assert "User unknown in local recipient table" in markdown
