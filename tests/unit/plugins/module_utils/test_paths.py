"""lms.mail.paths_info's look: lstat of real files in a temporary directory, links never followed,
read by the same filter the roles use (planted_paths)."""

from __future__ import annotations

import os

import pytest
from ansible_collections.lms.mail.plugins.filter.mail_policy import planted_paths
from ansible_collections.lms.mail.plugins.module_utils.paths import look, look_all


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "file").write_text("x")
    (tmp_path / "target").write_text("secret")
    os.chmod(tmp_path / "target", 0o600)
    (tmp_path / "dir" / "link").symlink_to(tmp_path / "target")
    (tmp_path / "dir" / "dangling").symlink_to(tmp_path / "nowhere")
    os.link(tmp_path / "target", tmp_path / "dir" / "hard")
    (tmp_path / "dir" / "dirlink").symlink_to(tmp_path / "dir")
    return tmp_path


def test_a_regular_file(tree):
    info = look(str(tree / "dir" / "file"))
    assert info["exists"] and info["isreg"] and not info["islnk"] and not info["isdir"]
    assert info["nlink"] == 1
    assert info["uid"] == os.getuid()
    assert info["size"] == 1


def test_a_link_is_never_followed(tree):
    info = look(str(tree / "dir" / "link"))
    assert info["exists"] and info["islnk"]
    assert not info["isreg"]
    assert info["size"] == len(str(tree / "target"))  # the link's own size, not the target's
    dangling = look(str(tree / "dir" / "dangling"))
    assert dangling["exists"] and dangling["islnk"]
    dirlink = look(str(tree / "dir" / "dirlink"))
    assert dirlink["islnk"] and not dirlink["isdir"]


def test_a_hard_link_has_two_names(tree):
    info = look(str(tree / "dir" / "hard"))
    assert info["isreg"] and info["nlink"] == 2
    assert info["mode"] == "0600"


def test_missing_paths(tree):
    assert look(str(tree / "dir" / "none")) == {"exists": False, "path": str(tree / "dir" / "none")}
    assert not look(str(tree / "none" / "deeper"))["exists"]
    assert not look(str(tree / "dir" / "file" / "under-a-file"))["exists"]


def test_a_directory(tree):
    info = look(str(tree / "dir"))
    assert info["isdir"] and not info["isreg"] and not info["islnk"]


def test_the_results_read_by_planted_paths(tree):
    paths = [str(tree / "dir" / name) for name in ("file", "link", "hard", "none", "dangling")]
    results = look_all(paths)
    assert [r["item"] for r in results] == paths
    owner = results[0]["stat"]["pw_name"]
    planted = planted_paths(results, [], [owner])
    assert planted == [paths[1], paths[2], paths[4]]
    assert planted_paths(look_all([str(tree / "dir")]), [str(tree / "dir")], [owner]) == []
    assert planted_paths(look_all([str(tree / "dir")]), [], [owner]) == [str(tree / "dir")]
    assert planted_paths(look_all([str(tree / "dir" / "file")]), [], ["someone-else"]) == [paths[0]]


def test_the_module_looks_at_the_path_as_written(tree, monkeypatch):
    """lms.mail.paths_info through Ansible: a path with `$VAR` or `~` is looked at as written
    (Ansible's `path` type would expand them and look somewhere else than the next task writes)."""
    import json
    import pathlib
    import subprocess
    import sys

    root = pathlib.Path(__file__).resolve().parents[4]
    (tree / "dir" / "$HOME").write_text("x")
    monkeypatch.setenv("ANSIBLE_CONFIG", str(root / "ansible.cfg"))
    monkeypatch.setenv("ANSIBLE_LOAD_CALLBACK_PLUGINS", "1")
    monkeypatch.setenv("ANSIBLE_STDOUT_CALLBACK", "json")
    written = f"{tree}/dir/$HOME"
    run = subprocess.run(
        [str(pathlib.Path(sys.executable).parent / "ansible"), "localhost", "-i", "localhost,",
         "-c", "local", "-e", f"ansible_python_interpreter={sys.executable}",
         "-m", "lms.mail.paths_info", "-a", json.dumps({"paths": [written]})],
        cwd=root, capture_output=True, text=True, check=True,
    )  # fmt: skip
    result = json.loads(run.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    assert result["results"] == [{"item": written, "stat": look(written)}]
    assert result["results"][0]["stat"]["isreg"]
