"""A mail host of the diagnosis tests: a fresh lab container (Debian 12, Postfix 3.7) on the lab
network, resolving through the lab's DNS only, reached through podman; and the way to run
lms.mail.mail_queue_info on it and read its result."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator

from tests.lab import LAB, ROOT


def podman(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["podman", *args], input=stdin, capture_output=True, text=True, check=False)


def in_container(name: str, *argv: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return podman("exec", "-i", name, *argv, stdin=stdin)


def sh(name: str, script: str) -> str:
    """Run a shell script as root in the container; its output, or the test fails."""
    run = in_container(name, "sh", "-ec", script)
    assert run.returncode == 0, f"{script}\n{run.stdout}{run.stderr}"
    return run.stdout


def wait_for(what: str, check, timeout: float = 90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


@contextlib.contextmanager
def mail_host(tmp_path, prefix: str) -> Iterator[tuple[str, object]]:
    """A running container with Postfix delivering directly (loopback only), and an inventory
    that puts it in the moodle group. Removed afterwards."""
    name = f"lmsmail-{prefix}-{uuid.uuid4().hex[:6]}"
    # A patient resolver: on a machine under load (CI's lanes, 2 cores) the lab's BIND was seen
    # to take over 5 s, the resolver's default, twice in a row; Postfix then defers the case's
    # message as "Host or domain name not found ... try again" (4.4.3), which is right for a
    # server but not the failure the case produces.
    started = podman(
        "run", "-d", "--name", name, "--hostname", "diag.school.test",
        "--network", LAB["lab_network"], "--dns", LAB["lab_parts"]["dns"]["ip"],
        "--dns-option", "timeout:15", "--dns-option", "attempts:3",
        "--systemd=always", "--label", "lms.mail.lab=test",
        LAB["lab_images"]["bookworm"], "/sbin/init",
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    try:
        wait_for(
            "systemd",
            lambda: (
                in_container(name, "systemctl", "is-system-running").stdout.strip() in ("running", "degraded")
            ),
        )
        sh(
            name,
            "postconf -e myhostname=diag.school.test myorigin=school.test mydestination=localhost "
            "inet_interfaces=loopback-only inet_protocols=ipv4 relayhost= && systemctl start postfix",
        )
        inventory = tmp_path / "hosts.yml"
        inventory.write_text(
            "moodle:\n  hosts:\n"
            f"    {name}:\n"
            "      ansible_connection: lab_podman\n"
            "      ansible_python_interpreter: /usr/bin/python3\n"
            "      mail_domain: school.test\n"
            "      postfix_transport: direct\n"
        )
        yield name, inventory
    finally:
        podman("rm", "--force", "--time", "0", name)


def sendmail(name: str, sender: str, recipient: str, subject: str, size: int = 0) -> None:
    """Hand a message to the container's Postfix as Moodle's mail() does: sendmail, run as the web
    server's user. size: pad the body to about that many bytes (made inside the container)."""
    # the values reach the script as arguments, never inside its code
    script = (
        "import subprocess, sys\n"
        "sender, recipient, subject, size = sys.argv[1:]\n"
        "head = f'From: {sender}\\nTo: {recipient}\\nSubject: {subject}\\n\\n'\n"
        "head += 'Sent by the lms.mail tests.\\n'\n"
        "body = ('x' * 76 + '\\n') * (int(size) // 77)\n"
        "argv = ['runuser', '-u', 'www-data', '--', '/usr/sbin/sendmail', '-f', sender, recipient]\n"
        "run = subprocess.run(argv, input=(head + body).encode(), capture_output=True)\n"
        "sys.stderr.write(run.stderr.decode())\n"
        "sys.exit(run.returncode)\n"
    )
    run = in_container(name, "python3", "-c", script, sender, recipient, subject, str(size))
    assert run.returncode == 0, run.stderr


def ansible_env() -> dict:
    return dict(
        os.environ,
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
        ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
    )


def mail_queue_info(host: tuple[str, object], *args: str, check: bool = False) -> dict:
    """lms.mail.mail_queue_info's result on the host, run through Ansible as a play would."""
    name, inventory = host
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


def diagnose(host: tuple[str, object], report_dir, *extra: str) -> tuple[dict, str]:
    """playbooks/diagnose.yml run on the host as an operator runs it (extra: its -e settings);
    the report it wrote, as JSON and as the Markdown a person reads."""
    name, inventory = host
    argv = ["ansible-playbook", "playbooks/diagnose.yml", "-i", str(inventory), "-e", "diagnose_dns=false",
            "-e", f"diagnose_report_dir={report_dir}"]  # fmt: skip
    for setting in extra:
        argv += ["-e", setting]
    run = subprocess.run(
        argv,
        cwd=ROOT,
        env=dict(ansible_env(), ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default"),
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    report = json.loads((report_dir / f"diagnose-{name}.json").read_text())
    return report, (report_dir / f"diagnose-{name}.md").read_text()
