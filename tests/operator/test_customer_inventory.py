"""The customer template as an engineer uses it: copied, filled in, its secret in the vault file
beside it (encrypted with ansible-vault), every value seen by `ansible-inventory --host`, and
site.yml's preflight passing against a lab host; left unfilled, the preflight refuses it before
connecting, naming the files to fill in. A missing inventory fails the run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.lab import LAB, ROOT

BIN = Path(sys.executable).parent
SECRET = "relay-application-password-7f3a"  # noqa: S105 - the test's own, never a real one
HOST = LAB["lab_demo_server"]["container"]


def run(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    if check:
        assert proc.returncode == 0, f"{argv}\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}"
    return proc


def fill(path: Path, replacements: list[tuple[str, str]]) -> None:
    """What the engineer does in an editor: each line of the template replaced, or uncommented."""
    text = path.read_text()
    for old, new in replacements:
        assert text.count(old) == 1, f"the template no longer has {old!r} in {path.name}"
        text = text.replace(old, new)
    path.write_text(text)


def filled_in(tmp_path: Path) -> Path:
    inventory = tmp_path / "acme"
    shutil.copytree(ROOT / "inventories" / "customer", inventory)
    fill(
        inventory / "hosts.yml",
        [
            ("    moodle.school.example:\n", f"    {HOST}:\n"),
            (
                "      ansible_user: deploy\n",
                "      ansible_user: root\n"
                "      ansible_connection: lab_podman\n"
                "      ansible_python_interpreter: /usr/bin/python3\n",
            ),
        ],
    )
    fill(
        inventory / "group_vars" / "moodle" / "main.yml",
        [
            ("mail_domain: school.example", "mail_domain: school.test"),
            ("mail_hostname: moodle.school.example", "mail_hostname: moodle.school.test"),
            ("mail_transport: direct\n", ""),
            ("# mail_transport: relay_corporate", "mail_transport: relay_corporate"),
            ("# postfix_relay_host: smtp.corp.example ", "postfix_relay_host: smtp.mailservice.test "),
            ("# postfix_relay_username: moodle ", "postfix_relay_username: moodle@mailservice.test "),
            (
                '# postfix_relay_password: "{{ vault_mail_relay_password }}"     # optional, with',
                'postfix_relay_password: "{{ vault_mail_relay_password }}"     # optional, with',
            ),
            (
                "# dns_spf_relay_mechanisms: [include:_spf.corp.example]",
                "dns_spf_relay_mechanisms: [ip4:10.89.231.30]",
            ),
            ("moodle_noreplyaddress: noreply@school.example", "moodle_noreplyaddress: noreply@school.test"),
        ],
    )
    vault = inventory / "group_vars" / "moodle" / "vault.yml"
    fill(
        vault,
        [("# vault_mail_relay_password: the-application-password", f"vault_mail_relay_password: {SECRET}")],
    )
    password_file = tmp_path / "vault-password"
    password_file.write_text("test-vault-password\n")
    run(str(BIN / "ansible-vault"), "encrypt", "--vault-password-file", str(password_file), str(vault))
    assert vault.read_text().startswith("$ANSIBLE_VAULT;") and SECRET not in vault.read_text()
    return inventory


def test_a_filled_in_copy_is_read_whole_and_passes_preflight(tmp_path):
    inventory = filled_in(tmp_path)
    password = ["--vault-password-file", str(tmp_path / "vault-password")]
    seen = yaml.safe_load(
        run(str(BIN / "ansible-inventory"), "-i", str(inventory), *password, "--host", HOST).stdout
    )
    main = yaml.safe_load((inventory / "group_vars" / "moodle" / "main.yml").read_text())
    # every key of main.yml and of the vault: both files of the group are read
    assert {k: seen.get(k) for k in main} == main
    assert seen["vault_mail_relay_password"] == SECRET
    assert seen["dns_spf_relay_mechanisms"] == ["ip4:10.89.231.30"]
    assert seen["ansible_become"] is True

    preflight = run(
        str(BIN / "ansible-playbook"), "site.yml", "-i", str(inventory), *password, "--tags", "preflight"
    )
    assert "failed=0" in preflight.stdout
    assert SECRET not in preflight.stdout + preflight.stderr
    # --tags preflight: the roles did not run
    assert "lms.mail.postfix : Install" not in preflight.stdout


def test_the_unfilled_template_is_refused_before_connecting(tmp_path):
    inventory = tmp_path / "acme"
    shutil.copytree(ROOT / "inventories" / "customer", inventory)
    refused = run(str(BIN / "ansible-playbook"), "site.yml", "-i", str(inventory), check=False)
    assert refused.returncode != 0
    flat = " ".join(refused.stdout.split())
    assert f"fill in {inventory}/hosts.yml and {inventory}/group_vars/moodle/main.yml" in flat
    for left in (
        "the host name moodle.school.example",
        "ansible_user: deploy",
        "mail_domain: school.example",
    ):
        assert left in flat
    assert "UNREACHABLE" not in refused.stdout  # refused before any connection


def test_a_missing_inventory_fails():
    missing = run(
        str(BIN / "ansible-playbook"), "site.yml", "-i", "customer-that-does-not-exist", check=False
    )
    assert missing.returncode != 0
    assert "No inventory was parsed" in missing.stdout + missing.stderr
