# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller's Python libraries the DNS modules need, and the check that names the missing
or unfit one: its pip package and the version range lms.mail is tested with.

The modules turn MissingLibrary into Ansible's own missing_required_lib message (the library, the
controller's host and interpreter), followed by the `pip install` line. The ranges are those of
pyproject.toml; a version outside them (a future major) is refused here rather than failing later
with an AttributeError.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
import sys
import traceback
from typing import Any


@dataclasses.dataclass(frozen=True)
class Library:
    package: str  # the pip package
    module: str  # what is imported
    lowest: tuple[int, ...]  # the lowest version tested
    below: tuple[int, ...]  # the first version not supported (the next major)
    needed_for: str  # for the message: "by the rfc2136 provider and for reading DNS"

    @property
    def spec(self) -> str:
        return f"{self.package}>={_text(self.lowest)},<{_text(self.below)}"


LIBRARIES = {
    "dnspython": Library("dnspython", "dns.version", (2, 6), (3,), "to read DNS and by the rfc2136 provider"),
    # the cloudflare and digitalocean providers speak their APIs over requests (no SDK: dns_http.py)
    "requests": Library(
        "requests", "requests", (2, 31), (3,), "by the cloudflare and digitalocean providers"
    ),
}


class MissingLibrary(Exception):
    """A library a module needs is not importable, or its version is outside the tested range."""

    def __init__(self, library: Library, problem: str, import_traceback: str | None = None):
        super().__init__(problem)
        self.library = library
        self.problem = problem
        self.import_traceback = import_traceback

    def message(self, missing_required_lib) -> str:
        """Ansible's message for a missing library, then what is wrong and the line that fixes it."""
        reason = self.library.needed_for
        return (
            f"{missing_required_lib(self.library.spec, reason=reason)}. {self.problem}. "
            f"Install it for that interpreter: {sys.executable} -m pip install '{self.library.spec}'"
        )


def installed_version(package: str) -> str | None:
    # imported here: importlib.metadata costs about 20 ms, and a module that imports fine
    # names its version itself (module_version)
    from importlib import metadata

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def module_version(module: object) -> str | None:
    """The version an imported library states itself (requests.__version__, dns.version.version)."""
    for attribute in ("__version__", "version"):
        value = getattr(module, attribute, None)
        if isinstance(value, str):
            return value
    return None


def check(name: str, version: str | None = None) -> None:
    """Raise MissingLibrary unless the library imports and its version is in the tested range.
    version overrides the installed one (for the tests)."""
    library = LIBRARIES[name]
    try:
        module = importlib.import_module(library.module)
    except ImportError as exc:
        installed = installed_version(library.package)
        if installed is not None:
            problem = (
                f"{library.package} {installed} is installed but cannot be imported as "
                f"'{library.module}' ({exc}): it is too old or broken, lms.mail needs {library.spec}"
            )
        else:
            problem = f"{library.package} is not installed"
        raise MissingLibrary(library, problem, traceback.format_exc()) from None
    found = version or module_version(module) or installed_version(library.package)
    parsed = _parse(found)
    if parsed is None:
        return  # a build without metadata (a vendored copy): it imported, trust it
    if parsed < library.lowest:
        raise MissingLibrary(library, f"{library.package} {found} is too old: lms.mail needs {library.spec}")
    if parsed >= library.below:
        raise MissingLibrary(
            library,
            f"{library.package} {found} is a newer major version than lms.mail supports ({library.spec})",
        )


def require(name: str) -> None:
    """What the modules call before they use a library."""
    check(name)


def load(name: str, *submodules: str) -> Any:
    """The library's top-level package once require(name) passed, with these submodules imported.

    The one import guard of the optional libraries: the files that use one bind it on first use
    (`global dns; dns = load("dnspython", "dns.resolver")`), so that importing those files costs
    nothing and a controller without the library fails only where it is needed, with the pip line.
    """
    require(name)
    for submodule in submodules:
        importlib.import_module(submodule)
    return importlib.import_module(LIBRARIES[name].module.partition(".")[0])


def _parse(version: str | None) -> tuple[int, ...] | None:
    if not version:
        return None
    match = re.match(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?", version)
    if not match:
        return None
    return tuple(int(part) for part in match.groups() if part is not None)


def _text(version: tuple[int, ...]) -> str:
    return ".".join(str(part) for part in version)
