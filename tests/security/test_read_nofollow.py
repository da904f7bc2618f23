"""roles/dkim/files/read_nofollow.py: how the dkim role and playbooks/rotate_dkim.yml read, as
root, files in a directory another user may have had: the selector state, the selectors waiting
to be retired, the private keys (given to openssl on its stdin). Nothing is read through a link,
a FIFO (which would hang the run), a hard link or a file of another owner; a missing file is
exit 3."""

from __future__ import annotations

import os
import pwd
import subprocess
import sys

import pytest

from tests.lab import ROOT

SCRIPT = (ROOT / "roles" / "dkim" / "files" / "read_nofollow.py").read_text()
ME = pwd.getpwuid(os.getuid()).pw_name


def read(path, owners=ME, *command):
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, str(path), owners, *command],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )


def test_a_regular_file_is_read(tmp_path):
    (tmp_path / "state.json").write_text('{"school.test": "s1"}\n')
    run = read(tmp_path / "state.json")
    assert (run.returncode, run.stdout) == (0, '{"school.test": "s1"}\n')


def test_the_file_is_given_to_a_command_on_its_stdin(tmp_path):
    (tmp_path / "key").write_text("line one\nline two\n")
    run = read(tmp_path / "key", ME, "wc", "-l")
    assert (run.returncode, run.stdout.strip()) == (0, "2")


def test_a_missing_file_is_exit_3(tmp_path):
    assert read(tmp_path / "missing").returncode == 3


@pytest.mark.parametrize("kind", ["link", "link-to-dir", "fifo", "hard-link", "directory"])
def test_anything_but_a_file_of_one_name_is_refused_naming_it(tmp_path, kind):
    target = tmp_path / "target"
    target.write_text("SECRET-TARGET\n")
    path = tmp_path / "planted"
    if kind == "link":
        path.symlink_to(target)
    elif kind == "link-to-dir":
        path.symlink_to(tmp_path)
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "hard-link":
        os.link(target, path)
    else:
        path.mkdir()
    run = read(path)
    assert run.returncode == 1, run
    assert str(path) in run.stderr and "SECRET-TARGET" not in run.stdout + run.stderr
    # nor is the target given to a command
    assert "SECRET-TARGET" not in read(path, ME, "cat").stdout


def test_a_file_of_another_owner_is_refused(tmp_path):
    (tmp_path / "state.json").write_text("{}\n")
    other = "nobody" if ME != "nobody" else "root"
    run = read(tmp_path / "state.json", other)
    assert run.returncode == 1 and f"owned by {other}" in run.stderr
