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


@pytest.fixture(scope="session")
def restored():
    """The scenario's own settings again at the end of the session."""
    yield
    moodle_real.restore()


@pytest.fixture(scope="session", params=moodle_real.MODES, ids=[f"{m}-{a}" for m, a in moodle_real.MODES])
def converged(request, sut, restored):
    """(mode, method, the converges' output): this mode converged twice, the second run changing
    nothing. The scenario's own mode was converged twice by Molecule's converge and idempotence
    steps: once more must change nothing. A failing converge fails every test of its mode."""
    mode, method = request.param
    extra = moodle_real.mode_vars(mode, method)
    if request.param == moodle_real.DEFAULT_MODE:
        run = moodle_real.converge(extra)
        assert lab.recap(run, moodle_real.HOST)["changed"] == 0, lab.changed_tasks(run)
        return mode, method, run.stdout + run.stderr
    first = moodle_real.converge(extra)
    second = moodle_real.converge(extra)
    assert lab.recap(second, moodle_real.HOST)["changed"] == 0, lab.changed_tasks(second)
    return mode, method, first.stdout + first.stderr + second.stdout + second.stderr
