"""The collection as a user gets it: `ansible-galaxy collection build` keeps the lab, Molecule,
the tests, the benchmarks, CI and the project's tooling out of the tarball; installed from the
tarball into an empty collections path, `lms.mail.site` is a playbook ansible-playbook finds,
and ansible-builder lists the controller's Python packages from it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# Only from a clone: nothing under these may be in the artifact.
KEPT_OUT = (
    "lab/",
    "molecule/",
    "bench/",
    "tests/",
    ".venv/",
    "collections/",
    ".ci/",
    "inventories/lab/",
    ".ansible/",
    ".pytest_cache/",
    ".ruff_cache/",
)
KEPT_OUT_FILES = ("Makefile", "pyproject.toml", "ansible.cfg", "site.yml", ".ansible-lint", ".yamllint")
NEEDED = (
    "MANIFEST.json",
    "README.md",
    "meta/runtime.yml",
    "meta/execution-environment.yml",
    "meta/ee-requirements.txt",
    "playbooks/site.yml",
    "playbooks/verify.yml",
    "inventories/customer/hosts.yml",
    "inventories/customer/group_vars/moodle/main.yml",
    "inventories/customer/group_vars/moodle/vault.yml",
    "plugins/filter/records.py",
    "roles/dns/tasks/main.yml",
)


def run(*argv: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, f"{argv}:\n{proc.stdout}\n{proc.stderr}"
    return proc


def test_the_tarball_holds_the_collection_and_nothing_of_the_projects_tooling(tarball):
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    leaked = [n for n in names if n.startswith(KEPT_OUT) or n in KEPT_OUT_FILES or "__pycache__" in n]
    assert leaked == []
    assert [n for n in NEEDED if n not in names] == []
    # the records a run writes beside an inventory are the customer's, never shipped
    assert not [n for n in names if "/records/" in n or "-records/" in n]


@pytest.fixture(scope="module")
def installed(tarball, tmp_path_factory) -> Path:
    """The tarball installed into an empty collections path, as a user installs it."""
    path = tmp_path_factory.mktemp("collections")
    home = tmp_path_factory.mktemp("home")
    # from outside the clone, whose ansible.cfg resolves lms.mail to the checkout itself
    run(
        str(BIN / "ansible-galaxy"),
        "collection",
        "install",
        "--offline",
        "-p",
        str(path),
        str(tarball),
        cwd=home,
        env=user_env(path, home),
    )
    assert (path / "ansible_collections" / "lms" / "mail" / "MANIFEST.json").exists()
    return path


def user_env(installed: Path, home: Path) -> dict:
    """A user's environment: no project ansible.cfg, only the installed collection."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(installed), ANSIBLE_CONFIG=str(home / "none.cfg"), HOME=str(home))
    return env


def test_lms_mail_site_runs_as_a_collection_playbook(installed, tmp_path):
    inventory = tmp_path / "acme"
    shutil.copytree(installed / "ansible_collections/lms/mail/inventories/customer", inventory)

    def listing(what: str) -> str:
        argv = [str(BIN / "ansible-playbook"), "lms.mail.site", "-i", str(inventory), what]
        return run(*argv, cwd=tmp_path, env=user_env(installed, tmp_path)).stdout

    tasks = listing("--list-tasks")
    assert "Check that the inventory was filled in" in tasks
    assert "lms.mail.dns : Show the records to publish by hand" in tasks
    assert "Say what is pending" in tasks
    tags = listing("--list-tags")
    for tag in ("preflight", "moodle", "dkim", "postfix", "dns", "verify"):
        assert tag in tags


def test_ansible_builder_lists_the_controller_packages(installed):
    builder = shutil.which("ansible-builder", path=str(BIN)) or pytest.fail(
        "ansible-builder is in the test extra: pip install -e '.[test]'"
    )
    listed = run(builder, "introspect", str(installed))
    for spec in ("dnspython>=2.6,<3", "requests>=2.31,<3"):
        assert f"{spec}  # from collection lms.mail" in listed.stdout, listed.stdout
