"""The library check behind the modules' missing_required_lib messages (issue 11, point 1)."""

from __future__ import annotations

import sys

import pytest
from ansible.module_utils.basic import missing_required_lib
from ansible_collections.lms.mail.plugins.module_utils import requirements
from ansible_collections.lms.mail.plugins.module_utils.requirements import MissingLibrary, check


def test_the_installed_libraries_are_in_their_ranges():
    for name in requirements.LIBRARIES:
        check(name)


def test_a_library_that_does_not_import_is_named_with_its_pip_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "requests", None)
    monkeypatch.setattr(requirements, "installed_version", lambda package: None)
    with pytest.raises(MissingLibrary) as err:
        check("requests")
    message = err.value.message(missing_required_lib)
    assert "Failed to import the required Python library (requests>=2.31,<3)" in message
    assert "requests is not installed" in message
    assert f"{sys.executable} -m pip install 'requests>=2.31,<3'" in message


def test_an_installed_library_that_does_not_import_is_reported_too_old(monkeypatch):
    # e.g. a distribution whose module has another name in an old major
    monkeypatch.setitem(sys.modules, "dns.version", None)
    monkeypatch.setattr(requirements, "installed_version", lambda package: "1.16.0")
    with pytest.raises(
        MissingLibrary, match=r"dnspython 1.16.0 is installed .* too old .* dnspython>=2.6,<3"
    ):
        check("dnspython")


@pytest.mark.parametrize(
    ("name", "version", "problem"),
    [
        ("requests", "3.0.0", "newer major version"),
        ("dnspython", "1.16.0", "too old"),
        ("dnspython", "3.0.0", "newer major version"),
        ("requests", "2.25.1", "too old"),
    ],
)
def test_a_version_outside_the_range_is_refused(name, version, problem):
    with pytest.raises(MissingLibrary, match=problem):
        check(name, version=version)


@pytest.mark.parametrize(
    ("name", "version"),
    [("dnspython", "2.6.1"), ("dnspython", "2.9.0"), ("requests", "2.31.0")],
)
def test_a_version_in_the_range_passes(name, version):
    check(name, version=version)
