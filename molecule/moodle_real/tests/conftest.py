"""Fixtures of the moodle_real verifier. One converge is shared by many checks: the `converged`
fixture converges a forum mode with an apply method twice, once per session and mode, and every
test that takes it runs against that state (pytest groups them by mode)."""

from __future__ import annotations

import moodle_real
import pytest

from tests import lab


@pytest.fixture(scope="session")
def sut():
    """The instance (one platform: moodle_real.HOST) as a testinfra host over podman."""
    moodle_real.install_scripts(moodle_real.HOST)
    return lab.podman_host(moodle_real.HOST)


@pytest.fixture(scope="session", params=moodle_real.MODES, ids=[f"{m}-{a}" for m, a in moodle_real.MODES])
def converged(request, sut):
    """(mode, method, the converges' output): this mode converged twice, the second run changing
    nothing. A failing converge fails every test of its mode. The scenario's own mode (first in
    MODES) was converged by Molecule's converge step, and again by the last converge of
    test_failures.py, which runs before test_modes.py: once more must change nothing.
    The session ends in the last mode of MODES, with no converge back: Molecule destroys the
    instance next, and a new session (molecule verify again) starts with test_failures.py, whose
    converges end in the scenario's own mode."""
    mode, method = request.param
    extra = moodle_real.mode_vars(mode, method)
    runs = [moodle_real.converge(extra)]
    if request.param != moodle_real.DEFAULT_MODE:
        runs.append(moodle_real.converge(extra))
    assert lab.recap(runs[-1], moodle_real.HOST)["changed"] == 0, lab.changed_tasks(runs[-1])
    return mode, method, "".join(run.stdout + run.stderr for run in runs)
