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


def test_a_checksum_of_a_regular_file_only(tree):
    import hashlib

    assert look(str(tree / "dir" / "file"), checksum=True)["checksum"] == hashlib.sha1(b"x").hexdigest()  # noqa: S324
    assert "checksum" not in look(str(tree / "dir" / "file"))
    # a link is never read through, whatever it points to; a directory has none either
    assert "checksum" not in look(str(tree / "dir" / "link"), checksum=True)
    assert "checksum" not in look(str(tree / "dir"), checksum=True)
    assert (
        "checksum"
        not in look_all([str(tree / "dir" / "file")], checksum=[str(tree / "dir" / "other")])[0]["stat"]
    )
    assert look_all([str(tree / "dir" / "none")], checksum=[str(tree / "dir" / "none")]) == [
        {"item": str(tree / "dir" / "none"), "stat": {"exists": False, "path": str(tree / "dir" / "none")}}
    ]


def test_no_checksum_when_the_file_was_replaced_after_the_look(tree):
    from ansible_collections.lms.mail.plugins.module_utils.paths import sha1_of

    path = tree / "dir" / "file"
    looked = os.lstat(path)
    path.unlink()
    path.symlink_to(tree / "target")
    assert sha1_of(str(path), looked) is None  # the link is not opened (O_NOFOLLOW)
    path.unlink()
    path.write_text("y")
    assert sha1_of(str(path), looked) in (None, sha1_of(str(path), os.lstat(path)))  # another inode: none
    assert sha1_of(str(path), os.lstat(path)) is not None


def test_what_a_write_must_still_touch(tree):
    import hashlib

    from ansible_collections.lms.mail.plugins.filter.mail_policy import path_unlike, paths_unlike_filter

    file, link, hard, none, directory = (str(tree / "dir" / n) for n in ("file", "link", "hard", "none", ""))
    directory = directory.rstrip("/")
    results = look_all([file, link, hard, none, directory], checksum=[file, link, hard, none])
    me = results[0]["stat"]["pw_name"]
    group = results[0]["stat"]["gr_name"]
    mode = results[0]["stat"]["mode"]
    sha1 = hashlib.sha1(b"x").hexdigest()  # noqa: S324
    assert not path_unlike(results, file, me, group, mode, sha1)
    assert not path_unlike(results, file)  # nothing compared but that it is a regular file
    assert path_unlike(results, file, "someone-else")
    assert path_unlike(results, file, me, "another-group")
    assert path_unlike(results, file, mode="0777" if mode != "0777" else "0700")
    assert not path_unlike(results, file, mode=int(mode, 8))
    assert path_unlike(results, file, checksum=hashlib.sha1(b"y").hexdigest())  # noqa: S324
    assert path_unlike(results, file, directory=True)
    assert path_unlike(results, link)  # a link is always touched (the write task refuses or replaces it)
    assert path_unlike(results, none)
    assert path_unlike(results, str(tree / "never-looked-at"))
    assert not path_unlike(results, directory, me, directory=True)
    assert path_unlike(results, directory)
    assert paths_unlike_filter(results, [none, file, link, hard], me) == [none, link]


def test_find_entries_read_as_a_look(tree):
    """ansible.builtin.find's files (the stat keys and `path`, no `stat`) read by planted_paths
    and paths_unlike as they are."""
    from ansible_collections.lms.mail.plugins.filter.mail_policy import paths_unlike_filter

    def found(path):
        entry = look(str(path))
        return {k: v for k, v in entry.items() if k != "exists"}

    entries = [found(tree / "dir" / n) for n in ("file", "link", "hard")]
    me = entries[0]["pw_name"]
    paths = [e["path"] for e in entries]
    assert planted_paths(entries, [], [me]) == paths[1:]
    assert paths_unlike_filter(entries, paths, me, mode=entries[0]["mode"]) == paths[1:]
