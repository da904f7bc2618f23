"""site.yml's preflight knows the host: a target whose PID 1 is not systemd (a container started
with another command, a chroot) fails before any change, with what is missing and the fix,
instead of failing half-way at the first service start."""

from __future__ import annotations

import os
import subprocess
import uuid

import pytest

from tests.lab import LAB, ROOT

# Everything site.yml could write to before the first service start.
FINGERPRINT = "find /etc /var/www /usr/local -xdev -type f -print0 | sort -z | xargs -0 md5sum"


def podman(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["podman", *args], capture_output=True, text=True, check=False)


@pytest.fixture
def without_systemd(tmp_path):
    """A lab container whose PID 1 is a plain process, and an inventory that adds it to the lab's
    moodle group (so it gets the lab's complete, valid input)."""
    name = f"lmsmail-nosystemd-{uuid.uuid4().hex[:6]}"
    started = podman(
        "run",
        "-d",
        "--name",
        name,
        "--network",
        LAB["lab_network"],
        "--label",
        "lms.mail.lab=test",
        LAB["lab_images"]["bookworm"],
        "sleep",
        "infinity",
    )
    assert started.returncode == 0, started.stderr
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        "moodle:\n  hosts:\n"
        f"    {name}:\n"
        "      ansible_connection: lab_podman\n"
        "      ansible_python_interpreter: /usr/bin/python3\n"
    )
    try:
        yield name, inventory
    finally:
        podman("rm", "--force", "--time", "0", name)


def test_a_host_without_systemd_fails_preflight_before_any_change(without_systemd):
    name, inventory = without_systemd
    before = podman("exec", name, "sh", "-c", FINGERPRINT).stdout
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0")
    run = subprocess.run(
        ["ansible-playbook", "site.yml", "-i", "inventories/lab", "-i", str(inventory), "--limit", name],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode != 0
    assert "systemd is not PID 1" in run.stdout, run.stdout[-3000:]
    assert "--systemd=always" in run.stdout
    # the input checks were not reached, let alone a role
    assert "Check the input of each role" not in run.stdout
    assert podman("exec", name, "sh", "-c", FINGERPRINT).stdout == before
