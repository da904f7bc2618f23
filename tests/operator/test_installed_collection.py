"""The collection as an operator installs it, on a controller made from the declared requirements
only: a fresh virtualenv with ansible-core (pyproject.toml's range) and the installed collection's
meta/ee-requirements.txt, the tarball installed with ansible-galaxy into an empty collections
path, nothing of the clone on the way (no ansible.cfg, no collections/ link, no .venv)."""

from __future__ import annotations

import json
import re
import sys
import tarfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.operator import wheelhouse
from tests.operator.test_package import ROOT, run, tarball, user_env  # noqa: F401 (tarball: a fixture)

# What only a clone holds, or a secret: none of it may be in the artifact.
SECRET_NAMES = re.compile(r"(\.pem|\.key|\.private|vault[-_.]pass(word)?(\.txt)?|id_(rsa|ed25519))$")
# a key block with its base64 body, a vault-encrypted file (patterns that merely name them are fine)
SECRET_TEXT = re.compile(rb"-----BEGIN [A-Z ]*PRIVATE KEY-----\r?\n[A-Za-z0-9+/]{40}|\A\$ANSIBLE_VAULT;")


@pytest.fixture(scope="module")
def controller(tarball, tmp_path_factory) -> SimpleNamespace:  # noqa: F811 (pytest passes the fixture)
    """A fresh controller: venv, the declared requirements from the wheelhouse, the tarball."""
    if not wheelhouse.filled():
        pytest.skip("no wheelhouse of the declared requirements: python tests/operator/wheelhouse.py")
    base = tmp_path_factory.mktemp("controller")
    venv, path, home = base / "venv", base / "collections", base / "home"
    home.mkdir()
    run(sys.executable, "-m", "venv", str(venv), cwd=base)
    pip = (str(venv / "bin/pip"), "install", "-q", "--no-index", "--find-links", str(wheelhouse.WHEELHOUSE))
    run(*pip, wheelhouse.ansible_core(), cwd=base)
    env = user_env(path, home)
    galaxy = str(venv / "bin/ansible-galaxy")
    run(galaxy, "collection", "install", "--offline", "-p", str(path), str(tarball), cwd=home, env=env)
    installed = path / "ansible_collections/lms/mail"
    # the README's order: the collection, then its Python requirements from the installed copy
    run(*pip, "-r", str(installed / "meta/ee-requirements.txt"), cwd=base)
    return SimpleNamespace(bin=venv / "bin", path=path, home=home, installed=installed, env=env)


def ansible(controller: SimpleNamespace, tool: str, *args: str | Path, cwd: Path | None = None) -> str:
    argv = (str(controller.bin / tool), *map(str, args))
    return run(*argv, cwd=cwd or controller.home, env=controller.env).stdout


def test_the_tarball_holds_no_secret_and_nothing_only_a_clone_runs(tarball):  # noqa: F811
    with tarfile.open(tarball) as archive:
        members = archive.getmembers()
        texts = {m.name: archive.extractfile(m).read() for m in members if m.isfile()}
    names = [m.name for m in members]
    clone_only = ("lab", "molecule", "tests", "bench", ".venv", ".ci", "collections")
    assert [n for n in names if n.split("/")[0] in clone_only] == []
    assert [n for n in names if SECRET_NAMES.search(n)] == []
    assert [n for n, text in texts.items() if SECRET_TEXT.search(text)] == []
    # links and absolute or climbing paths would reach outside the install directory
    assert [m.name for m in members if m.issym() or m.islnk()] == []
    assert [n for n in names if n.startswith("/") or ".." in n.split("/")] == []


def test_every_module_plugin_and_role_documents_itself_on_the_fresh_controller(controller):
    modules = sorted(p.stem for p in (controller.installed / "plugins/modules").glob("*.py"))
    specs = (controller.installed / "roles").glob("*/meta/argument_specs.yml")
    roles = sorted(p.parent.parent.name for p in specs)
    assert modules and roles
    assert sorted(p.name for p in (controller.installed / "roles").iterdir()) == roles, "a role without specs"
    for kind, names in (("module", modules), ("filter", None), ("test", None), ("role", roles)):
        listed = json.loads(ansible(controller, "ansible-doc", "-t", kind, "--list", "--json", "lms.mail"))
        if names is not None:
            assert sorted(listed) == [f"lms.mail.{n}" for n in names], kind
        assert listed, kind
        docs = json.loads(ansible(controller, "ansible-doc", "-t", kind, "--json", *sorted(listed)))
        assert sorted(docs) == sorted(listed), kind
        for name, doc in docs.items():
            if kind == "role":
                assert doc["entry_points"]["main"]["short_description"], name
            else:
                assert doc["doc"]["short_description"] or doc["doc"].get("description"), name


def readme_own_playbook() -> str:
    """The README's playbook of one's own that reuses the roles (section 'Use the collection')."""
    section = (ROOT / "README.md").read_text().split("## Use the collection", 1)[1].split("\n## ", 1)[0]
    (playbook,) = re.findall(r"```yaml\n(.*?)```", section, re.S)
    return playbook


def test_the_readme_playbook_and_lms_mail_site_pass_a_syntax_check(controller, tmp_path):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("moodle:\n  hosts:\n    moodle.school.test:\n")
    playbook = tmp_path / "mail.yml"
    playbook.write_text(readme_own_playbook())
    assert "lms.mail." in playbook.read_text()
    for entry in (playbook, "lms.mail.site", "lms.mail.verify", "lms.mail.rotate_dkim", "lms.mail.diagnose"):
        out = ansible(controller, "ansible-playbook", "--syntax-check", "-i", inventory, entry, cwd=tmp_path)
        assert "playbook:" in out, out
