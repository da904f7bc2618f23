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
    monkeypatch.setitem(sys.modules, "cloudflare", None)
    monkeypatch.setattr(requirements, "installed_version", lambda package: None)
    with pytest.raises(MissingLibrary) as err:
        check("cloudflare")
    message = err.value.message(missing_required_lib)
    assert "Failed to import the required Python library (cloudflare>=4.3,<6)" in message
    assert "cloudflare is not installed" in message
    assert f"{sys.executable} -m pip install 'cloudflare>=4.3,<6'" in message


def test_the_cloudflare_2_sdk_is_reported_too_old(monkeypatch):
    # cloudflare 2.x installs the module CloudFlare: `import cloudflare` fails although the
    # distribution is there
    monkeypatch.setitem(sys.modules, "cloudflare", None)
    monkeypatch.setattr(requirements, "installed_version", lambda package: "2.20.0")
    with pytest.raises(
        MissingLibrary, match=r"cloudflare 2.20.0 is installed .* too old .* cloudflare>=4.3,<6"
    ):
        check("cloudflare")


@pytest.mark.parametrize(
    ("name", "version", "problem"),
    [
        ("cloudflare", "3.1.1", "too old"),
        ("cloudflare", "4.2.0", "too old"),
        ("cloudflare", "6.0.0", "newer major version"),
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
    [("cloudflare", "4.3.0"), ("cloudflare", "5.9.0"), ("dnspython", "2.6.1"), ("requests", "2.31.0")],
)
def test_a_version_in_the_range_passes(name, version):
    check(name, version=version)
