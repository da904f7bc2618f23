"""Run lms.mail modules the two ways the tests need: in-process (fast, for the case list) and
through a real `ansible-playbook` (the way users run them)."""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import yaml
from ansible.module_utils import _internal as module_internal
from ansible.module_utils.common import warnings as module_warnings
from ansible.module_utils.testing import patch_module_args

REPO = Path(__file__).resolve().parents[2]


def run_module(name: str, args: dict, check_mode: bool = False, diff: bool = False) -> dict:
    """The JSON result of lms.mail.<name> run in this process, as Ansible would receive it."""
    module = importlib.import_module(f"ansible_collections.lms.mail.plugins.modules.{name}")
    module_args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    # warnings are collected process-wide (one module per process in real runs): start empty
    module_warnings._global_warnings.clear()
    module_warnings._global_deprecations.clear()
    out = io.StringIO()
    # A real module runs in a process of its own, where module_utils' warn() records into the
    # result. Once any controller code is imported in this process (the filter plugins' unit
    # tests import ansible.errors and the templar), ansible-core flags it as the controller and
    # warn() prints through Display instead: the result would then carry no warnings.
    was_controller = module_internal.is_controller
    module_internal.is_controller = False
    try:
        with patch_module_args(module_args), contextlib.redirect_stdout(out):
            try:
                module.main()
            except SystemExit:
                pass
            else:
                raise AssertionError(f"{name} returned without exit_json/fail_json")
    finally:
        module_internal.is_controller = was_controller
    result = json.loads(out.getvalue())
    # ansible-core 2.19 returns warnings as structured events; the tests read their text
    result["warnings"] = [
        w["event"]["msg"] if isinstance(w, dict) and "event" in w else str(w)
        for w in result.get("warnings", [])
    ]
    return result


def run_playbook(tmp_path: Path, tasks: list[dict], *extra: str) -> subprocess.CompletedProcess:
    """ansible-playbook on localhost with the repository's ansible.cfg and the venv's Python."""
    playbook = tmp_path / "play.yml"
    play = {
        "hosts": "localhost",
        "connection": "local",
        "gather_facts": False,
        "vars": {"ansible_python_interpreter": sys.executable},
        "tasks": tasks,
    }
    playbook.write_text(yaml.safe_dump([play], sort_keys=False))
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    return subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", str(playbook), *extra],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
