"""The lab itself: `lab/up.yml` brings it back from a machine whose processes were killed (CI
runs on a snapshot of a machine whose session ended: podman still counts the lab as running),
and that run, a second one over the rest of the lab, changes nothing else."""

from __future__ import annotations

import os
import re
import subprocess

from tests.lab import LAB, ROOT, changed_tasks

PROBE = LAB["lab_parts"]["probe"]["container"]


def podman(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["podman", *args], capture_output=True, text=True, check=False)


def lab_up() -> subprocess.CompletedProcess:
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0")
    run = subprocess.run(
        ["ansible-playbook", "lab/up.yml"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr
    return run


def kill_processes(container: str) -> None:
    """Kill a container's init and conmon, as the end of a session does: podman is not told."""
    pids = podman("inspect", container, "--format", "{{.State.Pid}} {{.State.ConmonPid}}").stdout.split()
    subprocess.run(["kill", "-9", *pids], check=True)


def test_up_revives_a_lab_left_dead_and_then_changes_nothing():
    if podman("exec", PROBE, "true").returncode != 0:  # `make unit` brings the lab up first
        lab_up()
    kill_processes(PROBE)
    assert podman("exec", PROBE, "true").returncode != 0
    assert re.search(r"running", podman("inspect", PROBE, "--format", "{{.State.Status}}").stdout)

    # the lab was up before (make lab, or the run above): this run is a second one for all but the
    # probe, so its removal and its new start are the only changes (a third run took ~180 s)
    revived = lab_up()
    assert changed_tasks(revived) == ["Remove the ones whose processes are gone", "Start the lab's parts"]
    # and of the loops' items, the probe's alone: no other part removed or started again
    assert set(re.findall(r"^changed: \[localhost\] => \(item=([^)]+)\)", revived.stdout, re.M)) == {PROBE}
    assert podman("exec", PROBE, "true").returncode == 0
