"""lab/install-host-packages: named and dovecot, which the tests start on loopback ports of their
own, are disabled even when an apt-get fails after their packages were unpacked. Run with stub
dpkg-query, apt-get and systemctl first on PATH, which record what they are asked."""

from __future__ import annotations

import os
import pathlib
import stat
import subprocess

import pytest

from tests.lab import ROOT

SCRIPT = ROOT / "lab" / "install-host-packages"


def stub(directory: pathlib.Path, name: str, body: str) -> None:
    path = directory / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def run(tmp_path: pathlib.Path, apt_install_rc: int) -> tuple[subprocess.CompletedProcess, str]:
    bin_dir, systemd = tmp_path / "bin", tmp_path / "systemd"
    bin_dir.mkdir()
    systemd.mkdir()
    calls = tmp_path / "calls"
    # bind9 and dovecot-imapd are missing, everything else is installed.
    stub(
        bin_dir,
        "dpkg-query",
        'case "$*" in *bind9*|*dovecot-imapd*) exit 1;; esac; echo "install ok installed"\n',
    )
    stub(
        bin_dir,
        "apt-get",
        f'echo "apt-get $*" >> {calls}; case "$*" in *install*) exit {apt_install_rc};; esac\n',
    )
    stub(bin_dir, "systemctl", f'echo "systemctl $*" >> {calls}\n')
    stub(bin_dir, "sudo", '"$@"\n')
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", LMS_SYSTEMD_RUN_DIR=str(systemd))
    result = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, check=False)
    return result, calls.read_text() if calls.exists() else ""


@pytest.mark.parametrize("apt_install_rc", [0, 100])
def test_services_are_disabled_whether_apt_get_succeeds_or_fails(tmp_path, apt_install_rc):
    result, calls = run(tmp_path, apt_install_rc)
    assert (result.returncode != 0) == (apt_install_rc != 0), result.stderr
    assert "systemctl disable --now named" in calls, calls
    assert "systemctl disable --now dovecot.socket dovecot.service" in calls, calls
