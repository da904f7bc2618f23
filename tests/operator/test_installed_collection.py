"""The collection as an operator installs it, on a controller made from the declared requirements
only: a fresh virtualenv with ansible-core (pyproject.toml's range) and the installed collection's
meta/ee-requirements.txt, the tarball installed with ansible-galaxy into an empty collections
path, nothing of the clone on the way (no ansible.cfg, no collections/ link, no .venv)."""

from __future__ import annotations

import json
import re
import subprocess
import tarfile
from pathlib import Path
from types import SimpleNamespace

from tests.operator.test_package import ROOT, run

# What only a clone holds, or a secret: none of it may be in the artifact.
SECRET_NAMES = re.compile(r"(\.pem|\.key|\.private|vault[-_.]pass(word)?(\.txt)?|id_(rsa|ed25519))$")
# a key block with its base64 body, a vault-encrypted file (patterns that merely name them are fine)
SECRET_TEXT = re.compile(rb"-----BEGIN [A-Z ]*PRIVATE KEY-----\r?\n[A-Za-z0-9+/]{40}|\A\$ANSIBLE_VAULT;")


def ansible(controller: SimpleNamespace, tool: str, *args: str | Path, cwd: Path | None = None) -> str:
    argv = (str(controller.bin / tool), *map(str, args))
    return run(*argv, cwd=cwd or controller.home, env=controller.env).stdout


def test_the_tarball_holds_no_secret_and_nothing_only_a_clone_runs(tarball):
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


def test_lms_mail_site_refuses_an_inventory_that_does_not_exist(controller, tmp_path):
    """Without the clone's ansible.cfg (unparsed_is_failed), Ansible skips every play of a
    missing inventory and exits 0; lms.mail.site itself refuses it, before any host is reached."""
    argv = (str(controller.bin / "ansible-playbook"), "lms.mail.site", "-i", "customer")
    run = subprocess.run(argv, cwd=tmp_path, env=controller.env, capture_output=True, text=True, check=False)
    assert run.returncode != 0, run.stdout
    assert "The inventory has no host in the group moodle" in run.stdout
    assert "-i inventories/<customer>" in run.stdout
