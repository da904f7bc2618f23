"""Check mode and diff are honest: on a converged host --check changes nothing and reports
nothing; a changed variable shows its main.cf diff in check mode and writes nothing."""

from __future__ import annotations

import os

import pytest

from tests import lab

SCENARIO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def sut(host):
    return lab.instance(host)


def test_check_mode_on_a_converged_host_reports_nothing(sut, host):
    run = lab.converge(SCENARIO, host.backend.host, options=("--check", "--diff"))
    assert lab.recap(run, host.backend.host)["changed"] == 0, run.stdout[-3000:]


def test_check_mode_shows_the_diff_and_writes_nothing(sut, host):
    before = sut.check_output("sha256sum /etc/postfix/main.cf")
    run = lab.converge(
        SCENARIO, host.backend.host, "postfix_inet_protocols=all", options=("--check", "--diff")
    )
    assert "-inet_protocols = ipv4" in run.stdout and "+inet_protocols = all" in run.stdout, run.stdout[
        -3000:
    ]
    assert lab.recap(run, host.backend.host)["changed"] > 0
    assert sut.check_output("sha256sum /etc/postfix/main.cf") == before
    assert sut.check_output("postconf -h inet_protocols") == "ipv4"
