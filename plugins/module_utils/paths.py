# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Paths looked at as they are, never following a link: lstat(2) alone, nothing opened."""

from __future__ import annotations

import grp
import os
import pwd
import stat


def _name(lookup, number: int) -> str | None:
    try:
        return lookup(number)[0]
    except KeyError:
        return None


def look(path: str) -> dict:
    """What ansible.builtin.stat with follow=false says of the keys the roles read: exists,
    the kind (isreg, isdir, islnk), nlink, owner, group and mode. A missing path (or one under a
    missing or non-directory parent) is {'exists': False}; any other error is raised."""
    try:
        info = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return {"exists": False, "path": path}
    mode = info.st_mode
    return {
        "exists": True,
        "path": path,
        "isreg": stat.S_ISREG(mode),
        "isdir": stat.S_ISDIR(mode),
        "islnk": stat.S_ISLNK(mode),
        "nlink": info.st_nlink,
        "uid": info.st_uid,
        "gid": info.st_gid,
        "pw_name": _name(pwd.getpwuid, info.st_uid),
        "gr_name": _name(grp.getgrgid, info.st_gid),
        "mode": f"{stat.S_IMODE(mode):04o}",
        "size": info.st_size,
    }


def look_all(paths: list[str]) -> list[dict]:
    """One result per path, in order, shaped as a looped stat's results (item, stat), so that
    the filters reading those (lms.mail.planted_paths) read these unchanged."""
    return [{"item": path, "stat": look(path)} for path in paths]
