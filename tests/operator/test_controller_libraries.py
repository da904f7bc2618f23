"""The preflight's check of the controller's Python (plugins/filter/controller.py): the libraries
the chosen DNS provider needs, the interpreter's path and the pip line in the message; the same
ranges as meta/ee-requirements.txt, which ansible-builder reads."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.lms.mail.plugins.filter.controller import (
    PROVIDER_LIBRARIES,
    controller_library_problems,
)
from ansible_collections.lms.mail.plugins.module_utils import requirements
from ansible_collections.lms.mail.plugins.module_utils.requirements import LIBRARIES

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("provider", sorted(PROVIDER_LIBRARIES))
def test_this_controller_has_every_provider_library(provider):
    assert controller_library_problems(provider) == []


def test_a_missing_provider_library_names_the_interpreter_and_the_pip_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "requests", None)
    monkeypatch.setattr(requirements, "installed_version", lambda package: None)
    assert controller_library_problems("rfc2136") == []
    (problem,) = controller_library_problems(["none", "cloudflare"])
    assert sys.executable in problem
    assert f"{sys.executable} -m pip install 'requests>=2.31,<3'" in problem


def test_a_version_outside_the_range_is_refused():
    (problem,) = controller_library_problems("digitalocean", {"dnspython": "1.16.0"})
    assert "dnspython 1.16.0 is too old" in problem


def test_an_unknown_provider_is_an_error():
    with pytest.raises(AnsibleFilterError, match="unknown DNS provider 'route53'"):
        controller_library_problems("route53")


def test_the_declared_requirements_are_the_checked_ones():
    """meta/ee-requirements.txt (what an execution environment and `pip install -r` get) lists
    exactly the libraries the modules check, with the same ranges."""
    lines = [
        line.split("#")[0].strip()
        for line in (ROOT / "meta" / "ee-requirements.txt").read_text().splitlines()
        if line.split("#")[0].strip()
    ]
    used = {name for names in PROVIDER_LIBRARIES.values() for name in names}
    assert sorted(lines) == sorted(LIBRARIES[name].spec for name in used)
