"""Reach the lab's containers from tests: the lab's facts, testinfra hosts over podman, and
sending and finding real messages. Used by the Molecule verifiers and the lab tests."""

from __future__ import annotations

import email
import email.policy
import json
import os
import pathlib
import re
import subprocess
import sys
import time
import uuid
from email.message import EmailMessage

import testinfra
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
os.environ.setdefault("CONTAINERS_CONF", str(ROOT / "lab" / "containers.conf"))
LAB = yaml.safe_load((ROOT / "lab" / "lab.yml").read_text())


def podman_host(container: str):
    """A testinfra host that runs commands in a lab container through `podman exec`."""
    return testinfra.get_host(f"podman://{container}")


def part(name: str):
    """One of the lab's parts: dns, mx, relay, probe."""
    return podman_host(LAB["lab_parts"][name]["container"])


def instance(host):
    """The podman host behind Molecule's (ansible) host fixture: same container, faster."""
    return podman_host(host.backend.host)


def copy_files(container: str, local_dir: str, remote_dir: str) -> None:
    """Copy the files of a local directory into a container's directory (made if missing)."""
    subprocess.run(["podman", "exec", container, "mkdir", "-p", remote_dir], check=True)
    for name in os.listdir(local_dir):
        subprocess.run(
            ["podman", "cp", os.path.join(local_dir, name), f"{container}:{remote_dir}/{name}"], check=True
        )


def php_as(sut, user: str, script: str, *args: str) -> str:
    """Run a PHP script on a host as this user (Moodle's PHP runs as the web server's); its output."""
    cmd = sut.run(f"runuser -u {user} -- php %s " + " ".join(["%s"] * len(args)), script, *args)
    assert cmd.rc == 0, cmd.stdout + cmd.stderr
    return cmd.stdout


def new_message(sender: str, recipient: str, subject: str = "lms.mail lab test") -> EmailMessage:
    """A message with a unique marker in its subject, so that a test finds its own message."""
    marker = uuid.uuid4().hex
    msg = EmailMessage()
    msg["From"] = f"Moodle School <{sender}>"
    msg["To"] = recipient
    msg["Subject"] = f"{subject} {marker}"
    msg["Message-ID"] = f"<{marker}@lab.test>"
    msg.set_content(f"Sent by the lms.mail tests ({marker}).\n")
    return msg


def sendmail(host, msg: EmailMessage, envelope_sender: str | None = None) -> str:
    """Submit a message the way PHP's mail() does: through /usr/sbin/sendmail on the host."""
    sender = envelope_sender or email.utils.parseaddr(msg["From"])[1]
    cmd = host.run(
        "printf '%%s' %s | /usr/sbin/sendmail -f %s -t", msg.as_string(policy=email.policy.SMTP), sender
    )
    assert cmd.rc == 0, cmd.stderr
    return msg["Subject"]


def find_message(subject: str, recipient: str, timeout: float = 60.0) -> email.message.Message:
    """Wait for the message with this subject, delivered to this recipient, on the lab's MX."""
    maildir = f"/var/mail/vhosts/{recipient.split('@')[1]}"
    mx = part("mx")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = mx.run("grep -rlF -- %s %s/new %s/cur 2>/dev/null", subject, maildir, maildir)
        for path in found.stdout.split():
            message = email.message_from_string(mx.file(path).content_string, policy=email.policy.default)
            if message["Delivered-To"] == recipient:
                return message
        time.sleep(1)
    raise AssertionError(f"no message {subject!r} for {recipient} on the lab's MX after {timeout:.0f}s")


def mail_log(host, since: str = "-10min") -> str:
    """Postfix's log on a host (systemd's journal: the lab images have no syslog daemon)."""
    return host.run("journalctl --no-pager -q --since=%s SYSLOG_FACILITY=2", since).stdout


def converge(
    scenario_dir: str,
    host: str,
    *extra_vars: str,
    options: tuple[str, ...] = (),
    check: bool = True,
    playbook: str = "converge.yml",
) -> subprocess.CompletedProcess:
    """Run a Molecule scenario's converge playbook (or another, by path) again for one host,
    with extra variables (each as -e would take it) and ansible-playbook options, from inside
    its verifier."""
    args = ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], "--limit", f"localhost,{host}"]
    for extra in extra_vars:
        args += ["-e", extra]
    run = subprocess.run(
        [*args, *options, os.path.join(scenario_dir, playbook)],
        capture_output=True,
        text=True,
        check=False,
    )
    # Molecule makes Ansible colour its output (through more than one variable); tests read text.
    run.stdout, run.stderr = (re.sub(r"\x1b\[[0-9;]*m", "", text) for text in (run.stdout, run.stderr))
    if check:
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return run


def converge_twice(scenario_dir: str, host: str, *extra_vars: str) -> str:
    """Converge with these variables, then again: the second run must change nothing. Both
    runs' output."""
    first = converge(scenario_dir, host, *extra_vars)
    second = converge(scenario_dir, host, *extra_vars)
    assert recap(second, host)["changed"] == 0, changed_tasks(second) or second.stdout[-3000:]
    return first.stdout + first.stderr + second.stdout + second.stderr


def recap(run: subprocess.CompletedProcess, host: str) -> dict[str, int]:
    """The PLAY RECAP counters of one host: {"ok": .., "changed": .., "failed": ..}."""
    line = next(line for line in run.stdout.splitlines()[::-1] if line.startswith(host + " "))
    return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", line)}


def changed_tasks(run: subprocess.CompletedProcess) -> list[str]:
    """The names of the tasks that reported a change in a run's output, for failure messages."""
    names, task = [], ""
    for line in run.stdout.splitlines():
        if line.startswith(("TASK [", "RUNNING HANDLER [")):
            task = line.split("[", 1)[1].rsplit("]", 1)[0]
        elif line.startswith("changed:") and task not in names:
            names.append(task)
    return names


def validation_instance(host):
    """The podman host of a scenario's Debian 12 instance, for bad-input tests; the other
    platforms skip them: input is checked before anything reaches the host, whatever its release."""
    import pytest

    if not host.backend.host.endswith("bookworm"):
        pytest.skip("input validation is the same on every release")
    return instance(host)


def refused(
    scenario_dir: str, sut, host: str, *extra_vars: str, expected: str, state: str, secret: str = ""
) -> subprocess.CompletedProcess:
    """Converge with bad input and check that it is refused before anything changes: the run
    fails with a message containing `expected` (compared with runs of white space folded), the
    recap counts no change, the host's `state` command prints what it printed before, and
    `secret` appears nowhere in the output."""
    before = sut.check_output(state)
    run = converge(scenario_dir, host, *extra_vars, check=False)
    output = run.stdout + run.stderr
    assert run.returncode != 0, output[-2000:]
    assert " ".join(expected.split()) in " ".join(output.split()), output[-3000:]
    assert recap(run, host)["changed"] == 0, output[-3000:]
    if secret:
        assert secret not in output, "a secret was printed"
    assert sut.check_output(state) == before
    return run


def find_message_bytes(subject: str, recipient: str, timeout: float = 60.0) -> bytes:
    """The message as it arrived on the lab's MX, byte for byte (signatures cover the bytes)."""
    delivered = find_message(subject, recipient, timeout)
    maildir = f"/var/mail/vhosts/{recipient.split('@')[1]}"
    mx = part("mx")
    found = mx.run("grep -rlF -- %s %s/new %s/cur", delivered["Message-ID"] or subject, maildir, maildir)
    for path in found.stdout.split():
        raw = subprocess.run(
            ["podman", "exec", LAB["lab_parts"]["mx"]["container"], "cat", path],
            capture_output=True,
            check=True,
        ).stdout
        if f"Delivered-To: {recipient}".encode() in raw and subject.encode() in raw:
            return raw
    raise AssertionError(f"message {subject!r} for {recipient} vanished from the lab's MX")


def dkim_signatures(raw: bytes) -> list[dict[str, str]]:
    """The tags of each DKIM-Signature header of a message, in header order (the order dkimpy
    numbers them: index 0 is the topmost, the one the last signer added)."""
    import dkim
    import dkim.util

    headers, _ = dkim.rfc822_parse(raw)
    return [
        {k.decode(): v.decode() for k, v in dkim.util.parse_tag_value(value).items()}
        for name, value in headers
        if name.lower() == b"dkim-signature"
    ]


def dkim_verify_with_records(raw: bytes, records: dict[str, str], index: int = 0) -> bool:
    """Verify one of a message's DKIM signatures with dkimpy against the given TXT records
    ({"sel._domainkey.domain": "v=DKIM1; k=rsa; p=..."}) instead of DNS."""
    import dkim

    def dnsfunc(name, timeout=5):
        return records.get(name.decode().rstrip(".").lower(), "").encode()

    return bool(dkim.DKIM(raw).verify(idx=index, dnsfunc=dnsfunc))


def dkim_verify_on_mx(raw: bytes, index: int = 0) -> subprocess.CompletedProcess:
    """Verify one of a message's DKIM signatures on the lab's MX with dkimpy (python3-dkim),
    which reads the key from DNS through the lab's resolver, as a receiving server would."""
    return subprocess.run(
        ["podman", "exec", "-i", LAB["lab_parts"]["mx"]["container"], "dkimverify", "--index", str(index)],
        input=raw,
        capture_output=True,
        check=False,
    )


def tsig_secret() -> str:
    """The secret of the lab DNS's update key (RFC 2136 with TSIG)."""
    text = part("dns").check_output("cat /etc/bind/lab-update.key")
    return text.split("secret", 1)[1].split('"')[1]


def dns_options() -> dict:
    """The lms.mail DNS modules' options for the lab's DNS: RFC 2136 with the lab's TSIG key."""
    return {
        "provider": "rfc2136",
        "server": LAB["lab_parts"]["dns"]["ip"],
        "port": 53,
        "tsig_key_name": LAB["lab_tsig_key_name"],
        "tsig_key_secret": tsig_secret(),
    }


def dns_module(module: str, args: dict) -> dict:
    """Run one of the lms.mail DNS modules on the controller, as the dns role does; its result."""
    run = subprocess.run(
        [
            "ansible",
            "localhost",
            "-i",
            "localhost,",
            "-c",
            "local",
            "-e",
            f"ansible_python_interpreter={sys.executable}",
            "-m",
            module,
            "-a",
            json.dumps(args),
        ],
        # the result as JSON whatever the caller's settings (Molecule's verify step forces colour,
        # and its timer callback prints after the JSON, which is read alone; the project's
        # ansible.cfg prints results as YAML)
        env=dict(
            os.environ,
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_FORCE_COLOR="0",
            ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
            ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
        ),
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    result, _ = json.JSONDecoder().raw_decode(run.stdout[run.stdout.index("{") :])
    return result["plays"][0]["tasks"][0]["hosts"]["localhost"]


def exported_dkim_records(instance: str) -> dict[str, str]:
    """The signing DKIM records (name -> value) the converge exported for a Molecule instance
    (dkim-records-<instance>.json in the scenario's ephemeral directory)."""
    path = pathlib.Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / f"dkim-records-{instance}.json"
    return {r["name"]: r["value"] for r in json.loads(path.read_text()) if r["signing"]}
