"""The README's customer steps, run as written, in a fresh shell, from a copy of the clone, against
a fresh lab host: a container of the lab image whose Postfix and OpenDKIM packages are purged, so
that, like a new customer's server, it has Moodle (the lab's stand-in tree) and nothing of the
roles. The "fill in" comment is where the test edits the copied template, as the engineer does;
the last command runs with --check: a dry run on a fresh host must be green (the real run is
Molecule site's). Afterwards the host is as it was: check mode changed nothing."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from subprocess import PIPE

import pytest

from tests.lab import LAB, ROOT
from tests.lab_env.test_preflight_host import FINGERPRINT, podman
from tests.operator.test_customer_inventory import fill

HOSTNAME = "readme.school.test"  # no record in the lab DNS: check mode publishes nothing
VAULT_PASSWORD = "readme-vault-password"  # noqa: S105 - the test's own
# what the engineer types at each prompt (ansible-vault asks twice, ansible-playbook once)
TYPED = f"{VAULT_PASSWORD}\n" * 2
# A shell as a user opens it: no virtualenv on PATH, nothing of the Makefile's environment.
# The test reaches its host over podman: podman's own settings (CI runs on a storage of its own,
# CONTAINERS_STORAGE_CONF) pass through, or the connection looks for the host in another storage.
FRESH_SHELL = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    **{name: value for name, value in os.environ.items() if name.startswith("CONTAINERS_")},
}


def customer_steps() -> list[str]:
    """The lines of the sh block in the README's section for a customer."""
    section = (ROOT / "README.md").read_text().split("## For a customer, from a clone", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section.split("\n## ", 1)[0], re.S)
    assert block, "the README's customer section has no sh block"
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


@contextlib.contextmanager
def lab_host(name: str, hostname: str, purge: bool) -> Iterator[str]:
    """A lab container the roles never ran on, with Moodle's stand-in tree; its address. purge:
    without Postfix and OpenDKIM, as a new customer's server (the lab has no network, so a host
    the roles really run on keeps the image's packages, installed and never configured)."""
    started = podman(
        "run", "-d", "--name", name, "--hostname", hostname, "--network", LAB["lab_network"],
        "--dns", LAB["lab_parts"]["dns"]["ip"], "--systemd=always", "--label", "lms.mail.lab=test",
        LAB["lab_images"]["bookworm"], "/sbin/init",
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    try:
        if purge:
            purge_cmd = "DEBIAN_FRONTEND=noninteractive apt-get purge -y -q postfix opendkim opendkim-tools"
            assert podman("exec", name, "sh", "-c", purge_cmd).returncode == 0
        address = podman(
            "inspect", name, "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}"
        )
        standin = subprocess.run(
            [
                ROOT / ".venv/bin/ansible-playbook", "lab/moodle-standin.yml", "-i", f"{name},",
                "-e", "ansible_connection=lab_podman",
                "-e", "ansible_python_interpreter=/usr/bin/python3",
                "-e", "moodle_dir=/var/www/moodle moodle_dataroot=/var/www/moodledata",
                "-e", f"mail_hostname={hostname}",
            ],
            cwd=ROOT, env=dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg")),
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert standin.returncode == 0, standin.stdout[-3000:]
        yield address.stdout.strip()
    finally:
        podman("rm", "--force", "--time", "0", name)


@pytest.fixture
def fresh_host():
    """A purged lab host (see lab_host); removed afterwards."""
    name = f"lmsmail-readme-{uuid.uuid4().hex[:6]}"
    with lab_host(name, HOSTNAME, purge=True) as address:
        yield name, address


@pytest.fixture
def clone(tmp_path) -> Path:
    """A copy of the clone's files (tracked and new), with its virtualenv, as `make venv` left it."""
    copy = tmp_path / "clone"
    copy.mkdir()
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout  # fmt: skip
    existing = b"\0".join(f for f in files.split(b"\0") if f and os.path.lexists(ROOT / os.fsdecode(f)))
    packed = subprocess.run(
        ["tar", "--null", "-T", "-", "-cf", "-"], cwd=ROOT, input=existing, stdout=PIPE, check=True
    )
    subprocess.run(["tar", "-xf", "-", "-C", copy], input=packed.stdout, check=True)
    (copy / ".venv").symlink_to(ROOT / ".venv")
    return copy


def fill_in(
    inventory: Path, host: str, address: str, domain: str = "school.test", hostname: str = HOSTNAME
) -> None:
    fill(
        inventory / "hosts.yml",
        [
            ("    moodle.school.example:\n", f"    {host}:\n"),
            # podman stands in for SSH: the lab host is a container on this machine
            (
                "      ansible_user: deploy\n",
                "      ansible_user: root\n"
                "      ansible_connection: lab_podman\n"
                "      ansible_python_interpreter: /usr/bin/python3\n"
                f"      ansible_podman_extra_env: {{CONTAINERS_CONF: {ROOT / 'lab/containers.conf'}}}\n",
            ),
        ],
    )
    fill(
        inventory / "group_vars/moodle/main.yml",
        [
            ("mail_domain: school.example", f"mail_domain: {domain}"),
            ("mail_hostname: moodle.school.example", f"mail_hostname: {hostname}"),
            ("moodle_noreplyaddress: noreply@school.example", f"moodle_noreplyaddress: noreply@{domain}"),
            # the lab network has no default route; names are read from the lab's DNS only
            (
                "# dns_public_ipv4: 203.0.113.10 ",
                f"dns_resolver: [{LAB['lab_parts']['dns']['ip']}]\ndns_public_ipv4: {address} ",
            ),
        ],
    )


def test_the_readme_customer_steps_work_as_written_and_check_mode_is_green_on_a_fresh_host(fresh_host, clone):
    host, address = fresh_host
    steps = customer_steps()
    commands = [s for s in steps if not s.startswith("#")]
    assert [c.split()[0] for c in commands] == ["cp", ".venv/bin/ansible-vault", ".venv/bin/ansible-playbook"]
    assert commands[-1].startswith(".venv/bin/ansible-playbook site.yml -i inventories/acme")
    before = podman("exec", host, "sh", "-c", FINGERPRINT).stdout
    inventory = clone / "inventories/acme"
    filled = False
    for step in steps:
        if step.startswith("# fill in"):
            fill_in(inventory, host, address)
            filled = True
            continue
        if step.startswith("#"):
            continue
        argv = step + (" --check" if step.startswith(".venv/bin/ansible-playbook") else "")
        # setsid: no terminal, so the password prompts read what the engineer types from stdin
        done = subprocess.run(
            ["bash", "-c", argv], cwd=clone, env=FRESH_SHELL, input=TYPED, capture_output=True, text=True,
            start_new_session=True, timeout=1800, check=False,
        )  # fmt: skip
        assert done.returncode == 0, f"{argv}\n{done.stdout[-6000:]}\n{done.stderr[-3000:]}"
    assert filled
    assert (inventory / "group_vars/moodle/vault.yml").read_text().startswith("$ANSIBLE_VAULT;")
    out = done.stdout
    (clone.parent / "readme-check.out").write_text(out)  # the dry run as the engineer saw it
    recap = re.search(
        rf"^{re.escape(host)}\s*: ok=(\d+)\s+changed=(\d+)\s+unreachable=0\s+failed=0", out, re.M
    )
    assert recap, out[-6000:]
    # honest: on a host without Postfix and OpenDKIM a dry run says it would change things
    assert int(recap.group(2)) > 0
    assert "pending" in out
    # and it changed nothing
    assert (
        podman("exec", host, "dpkg-query", "-W", "-f", "${Status}", "postfix").stdout
        != "install ok installed"
    )
    assert podman("exec", host, "sh", "-c", FINGERPRINT).stdout == before
