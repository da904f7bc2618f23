"""`ansible-test sanity` on the collection as it is shipped: `make lint` runs it.

ansible-test runs only from a directory whose real path is .../ansible_collections/lms/mail; the
clone's collections/ link does not count (ansible-test resolves it to the clone). So the
collection is built as a user gets it (`ansible-galaxy collection build`, which leaves out the
lab, Molecule, the tests and the benchmarks by build_ignore), unpacked into such a directory,
with the ignore file beside it, and tested there: what Galaxy's importer checks is the artifact.

Most sanity tests run in virtual environments ansible-test makes once and keeps
(~/.ansible/test/venv), with their pinned packages from PyPI. It bootstraps pip in each with a
get-pip.py downloaded from a host outside the package registries, which this project's machines
cannot reach. ansible-test takes the script from its cache when it is there (its own error
message says so), so a stand-in is put there: it installs the same pip version, from Python's
own ensurepip and then PyPI. Arguments are passed on: `python tests/sanity/run.py --test pylint`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"

STAND_IN = '''\
"""Stand-in for get-pip.py, written by lms.mail's tests/sanity/run.py: ansible-test runs it in a
new virtual environment without pip, as `python get-pip.py [options] pip==VERSION`."""
import subprocess
import sys

args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
subprocess.run([sys.executable, "-m", "ensurepip", "--default-pip"], check=True, stdout=subprocess.DEVNULL)
subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *args], check=True)
# ensurepip brings setuptools on some Pythons; get-pip.py was told not to install it
subprocess.run([sys.executable, "-m", "pip", "uninstall", "--quiet", "--yes", "setuptools"], check=False)
'''


def pip_bootstrap_stand_in() -> None:
    """Put the stand-in where ansible-test looks for its cached get-pip.py; a real one is kept."""
    from ansible_test._internal.python_requirements import get_venv_packages

    version = get_venv_packages(SimpleNamespace(version=PYTHON))["pip"]
    cache = Path.home() / ".ansible/test/cache" / f"get_pip_{version.replace('.', '_')}.py"
    if not cache.exists():
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(STAND_IN)


def extract(archive: tarfile.TarFile, where: Path) -> None:
    """Unpack only files and directories inside `where`. tarfile's "data" filter does that, but
    Debian 12's Python 3.11.2 (a fresh machine's) predates it (3.11.4): there the same rule here."""
    if hasattr(tarfile, "data_filter"):
        archive.extractall(where, filter="data")
        return
    for member in archive.getmembers():
        inside = (where / member.name).resolve().is_relative_to(where.resolve())
        if not (member.isfile() or member.isdir()) or not inside:
            raise SystemExit(f"{archive.name}: {member.name} is no file or directory inside the collection")
    archive.extractall(where)  # noqa: S202 - every member checked above


def unpacked_collection(workdir: Path) -> Path:
    """The built artifact unpacked at workdir/ansible_collections/lms/mail, with the ignore files."""
    build = workdir / "build"
    subprocess.run(
        [BIN / "ansible-galaxy", "collection", "build", "--output-path", build, ROOT],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    (artifact,) = build.glob("lms-mail-*.tar.gz")
    collection = workdir / "ansible_collections/lms/mail"
    collection.mkdir(parents=True)
    with tarfile.open(artifact) as archive:
        extract(archive, collection)
    ignores = collection / "tests/sanity"
    ignores.mkdir(parents=True)
    for ignore in (ROOT / "tests/sanity").glob("ignore-*.txt"):
        shutil.copy(ignore, ignores)
    return collection


def main(argv: list[str]) -> int:
    started = time.monotonic()
    pip_bootstrap_stand_in()
    with tempfile.TemporaryDirectory(prefix="lmsmail-sanity.") as workdir:
        collection = unpacked_collection(Path(workdir))
        env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
        argv = [BIN / "ansible-test", "sanity", "--python", PYTHON, "--local", "--color", "no", *argv]
        code = subprocess.run(argv, cwd=collection, env=env, check=False).returncode
    print(f"ansible-test sanity: exit {code} in {time.monotonic() - started:.0f} s")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
