"""The controller's declared requirements, as wheels on this machine.

tests/operator makes a controller from nothing but what the project declares: ansible-core (its
range in pyproject.toml) and the collection's meta/ee-requirements.txt. Tests send traffic only to
this machine, so they install from this wheelhouse (`pip install --no-index`); `make unit` fills
it first from the package index (`python tests/operator/wheelhouse.py`), again only when the
declarations change. It holds both ends of each declared range: the newest versions the ranges
allowed when it was filled, and the lowest ones (tests/constraints-lowest.txt), for
test_library_ranges.py.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WHEELHOUSE = ROOT / ".venv" / "wheelhouse"
STAMP = WHEELHOUSE / "requirements.txt"
LOWEST = ROOT / "tests" / "constraints-lowest.txt"


def ansible_core() -> str:
    """ansible-core as pyproject.toml declares it: the one requirement a controller brings."""
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    (spec,) = [d for d in declared if d.startswith("ansible-core")]
    return spec


def requirements() -> str:
    """The requirement lines a fresh controller installs: ansible-core, then the collection's."""
    return f"{ansible_core()}\n{(ROOT / 'meta' / 'ee-requirements.txt').read_text()}"


def stamp() -> str:
    """What the wheelhouse was filled for: the requirements, then the lowest versions."""
    pins = [line for line in LOWEST.read_text().splitlines() if line.strip() and not line.startswith("#")]
    return f"{requirements()}# lowest\n" + "".join(f"{pin}\n" for pin in pins)


def filled() -> bool:
    return STAMP.is_file() and STAMP.read_text() == stamp()


def fill() -> None:
    if filled():
        return
    WHEELHOUSE.mkdir(parents=True, exist_ok=True)
    download = [sys.executable, "-m", "pip", "download", "--quiet", "--dest", WHEELHOUSE]
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as wanted:
        wanted.write(requirements())
        wanted.flush()
        subprocess.run([*download, "-r", wanted.name], check=True)
    subprocess.run([*download, "-r", ROOT / "meta" / "ee-requirements.txt", "-c", LOWEST], check=True)
    STAMP.write_text(stamp())


if __name__ == "__main__":
    fill()
