"""The preflight's rule for target hosts (plugins/filter/host.py)."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.lms.mail.plugins.filter.host import host_problems


def facts(distribution="Debian", major="12", service_mgr="systemd"):
    return {"distribution": distribution, "distribution_major_version": major, "service_mgr": service_mgr}


@pytest.mark.parametrize("major", ["12", "13"])
def test_supported_debian_with_systemd_has_no_problem(major):
    assert host_problems(facts(major=major)) == []


@pytest.mark.parametrize(
    ("distribution", "major"), [("Debian", "11"), ("Debian", "14"), ("Ubuntu", "24"), ("CentOS", "9")]
)
def test_an_unsupported_release_is_named(distribution, major):
    (problem,) = host_problems(facts(distribution, major))
    assert f"{distribution} {major} is not a release the roles support (Debian 12 and 13)" in problem


@pytest.mark.parametrize("manager", ["sysvinit", "service", "openrc", ""])
def test_no_systemd_as_pid_1_is_named_with_the_fix(manager):
    (problem,) = host_problems(facts(service_mgr=manager))
    assert problem.startswith("systemd is not PID 1")
    assert "--systemd=always" in problem


def test_both_problems_are_reported_together():
    assert len(host_problems(facts("Alpine", "3", "openrc"))) == 2


def test_without_facts_the_filter_says_what_it_needs():
    with pytest.raises(AnsibleFilterError, match="gather_subset min"):
        host_problems({})
