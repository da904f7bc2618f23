"""Both ends of each declared controller library range (meta/ee-requirements.txt), tested: the
lowest versions (tests/constraints-lowest.txt, pyproject.toml's lower bounds) and the newest the
ranges allowed when the wheelhouse was filled (tests/operator/wheelhouse.py), each installed from
the local wheelhouse into a directory of its own, then the tests of the code that imports them -
the DNS modules against a real BIND and the API emulators (tests/dns) and the module_utils unit
tests - run with that directory first on the path, so the modules Ansible starts import those
versions too."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from packaging.requirements import Requirement
from packaging.utils import parse_wheel_filename

from tests.operator import wheelhouse

ROOT = wheelhouse.ROOT
# the libraries the DNS modules import, and how their version is read
LIBRARIES = {"dnspython": "dns.version.version", "requests": "requests.__version__"}
SUITE = ("tests/dns", "tests/unit/plugins/module_utils")


def declared() -> dict[str, Requirement]:
    lines = (ROOT / "meta/ee-requirements.txt").read_text().splitlines()
    found = [Requirement(line.split("#", 1)[0]) for line in lines if line.split("#", 1)[0].strip()]
    return {r.name: r for r in found}


def lowest() -> dict[str, str]:
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", wheelhouse.LOWEST.read_text(), re.M)
    return dict(pins)


def newest() -> dict[str, str]:
    """The newest version of each library in the wheelhouse that its declared range allows."""
    wheels = [parse_wheel_filename(p.name) for p in wheelhouse.WHEELHOUSE.glob("*.whl")]
    out = {}
    for name, requirement in declared().items():
        allowed = [str(v) for n, v, *_ in wheels if n == name and v in requirement.specifier]
        out[name] = max(allowed, key=lambda v: tuple(map(int, re.findall(r"\d+", v))))
    return out


def installed() -> dict[str, str]:
    """The versions of the clone's virtualenv, the one this pytest runs in."""
    from importlib.metadata import version

    return {name: version(name) for name in LIBRARIES}


def test_the_lowest_versions_are_the_declared_lower_bounds():
    ranges = declared()
    assert sorted(lowest()) == sorted(ranges) == sorted(LIBRARIES)
    for name, version in lowest().items():
        (floor,) = [s.version for s in ranges[name].specifier if s.operator == ">="]
        assert version.startswith(floor), f"{name}: {version} is not the lower bound {floor}"


@pytest.mark.parametrize("end", ["lowest", "newest"])
def test_the_dns_modules_pass_with_each_end_of_the_ranges(end, tmp_path):
    if not wheelhouse.filled():
        pytest.skip("no wheelhouse of the declared requirements: python tests/operator/wheelhouse.py")
    expected = lowest() if end == "lowest" else newest()
    if end == "newest" and installed() == expected:
        # CI makes the clone's virtualenv fresh, so it holds the newest: the rest of this pytest
        # run (tests/dns among it) is this test, and running it twice would only cost time
        pytest.skip(f"the clone's .venv holds the newest ({expected}): the main run tests them")
    target = tmp_path / end
    pins = [f"{name}=={version}" for name, version in expected.items()]
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-index",
         "--find-links", wheelhouse.WHEELHOUSE, "--target", target,
         "-r", ROOT / "meta/ee-requirements.txt", *pins],
        check=True, capture_output=True,
    )  # fmt: skip
    path = [str(target), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(path))
    versions = ", ".join(f"{name!r}: {attribute}" for name, attribute in LIBRARIES.items())
    read = f"import json, dns.version, requests; print(json.dumps({{{versions}}}))"
    got = subprocess.run([sys.executable, "-c", read], env=env, capture_output=True, text=True, check=True)
    assert json.loads(got.stdout) == expected
    suite = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *SUITE],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800, check=False,
    )  # fmt: skip
    assert suite.returncode == 0, f"{expected}\n{suite.stdout[-6000:]}\n{suite.stderr[-2000:]}"
    assert re.search(r"\d+ passed", suite.stdout.splitlines()[-1]), suite.stdout[-2000:]
