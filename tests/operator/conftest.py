"""What several operator tests share, made once per pytest run: the built tarball, and a fresh
controller made from the declared requirements only (a virtualenv with ansible-core, the
tarball installed into an empty collections path, then the installed collection's
meta/ee-requirements.txt, all from the local wheelhouse, tests/operator/wheelhouse.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.operator import wheelhouse
from tests.operator.test_package import BIN, ROOT, run, user_env


@pytest.fixture(scope="session")
def tarball(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("build")
    run(str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(out), str(ROOT))
    (built,) = out.glob("lms-mail-*.tar.gz")
    return built


@pytest.fixture(scope="session")
def controller(tarball, tmp_path_factory) -> SimpleNamespace:
    """A fresh controller: venv, the declared requirements from the wheelhouse, the tarball."""
    if not wheelhouse.filled():
        pytest.skip("no wheelhouse of the declared requirements: python tests/operator/wheelhouse.py")
    base = tmp_path_factory.mktemp("controller")
    venv, path, home = base / "venv", base / "collections", base / "home"
    home.mkdir()
    run(sys.executable, "-m", "venv", str(venv), cwd=base)
    pip = (str(venv / "bin/pip"), "install", "-q", "--no-index", "--find-links", str(wheelhouse.WHEELHOUSE))
    run(*pip, wheelhouse.ansible_core(), cwd=base)
    env = user_env(path, home)
    galaxy = str(venv / "bin/ansible-galaxy")
    run(galaxy, "collection", "install", "--offline", "-p", str(path), str(tarball), cwd=home, env=env)
    installed = path / "ansible_collections/lms/mail"
    # the README's order: the collection, then its Python requirements from the installed copy
    run(*pip, "-r", str(installed / "meta/ee-requirements.txt"), cwd=base)
    return SimpleNamespace(bin=venv / "bin", path=path, home=home, installed=installed, env=env)
