# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Paths looked at as they are, never following a link: lstat(2), and a regular file's content
read with O_NOFOLLOW when its checksum is asked for; and which of them a write must still touch."""

from __future__ import annotations

import grp
import hashlib
import os
import pwd
import stat


def _name(lookup, number: int) -> str | None:
    try:
        return lookup(number)[0]
    except KeyError:
        return None


def sha1_of(path: str, looked: os.stat_result) -> str | None:
    """The SHA-1 of a regular file's content (as ansible.builtin.stat's checksum), read without
    following a link (O_NOFOLLOW) or blocking on anything but a file (O_NONBLOCK); None when the
    path is no longer the file lstat saw (replaced between the two, or not a regular file)."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    with os.fdopen(descriptor, "rb") as opened:
        now = os.fstat(opened.fileno())
        if not stat.S_ISREG(now.st_mode) or (now.st_dev, now.st_ino) != (looked.st_dev, looked.st_ino):
            return None
        digest = hashlib.sha1()  # noqa: S324 - a content comparison, as ansible.builtin.stat's checksum
        for block in iter(lambda: opened.read(65536), b""):
            digest.update(block)
    return digest.hexdigest()


def look(path: str, checksum: bool = False) -> dict:
    """What ansible.builtin.stat with follow=false says of the keys the roles read: exists,
    the kind (isreg, isdir, islnk), nlink, owner, group and mode; with `checksum`, a regular
    file's SHA-1 too (read with O_NOFOLLOW, never through a link). A missing path (or one under a
    missing or non-directory parent) is {'exists': False}; any other error is raised."""
    try:
        info = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return {"exists": False, "path": path}
    mode = info.st_mode
    looked = {
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
    if checksum and stat.S_ISREG(mode):
        looked["checksum"] = sha1_of(path, info)
    return looked


def look_all(paths: list[str], checksum: list[str] | tuple = ()) -> list[dict]:
    """One result per path, in order, shaped as a looped stat's results (item, stat), so that
    the filters reading those (lms.mail.planted_paths) read these unchanged; with the SHA-1 of
    the content of those also named in `checksum` (and regular files)."""
    summed = set(checksum)
    return [{"item": path, "stat": look(path, path in summed)} for path in paths]


def entry_stat(entry: dict) -> tuple[str, dict]:
    """The path and what was seen of it, from one entry of a look: paths_info's or a looped
    stat's results ({item, stat}), or ansible.builtin.find's files (the stat keys and `path`,
    each one found, so there)."""
    if "stat" in entry:
        return str(entry.get("item")), entry.get("stat") or {}
    return str(entry.get("path")), {"exists": True, **entry}


def _octal(mode: int | str) -> int:
    return mode if isinstance(mode, int) else int(str(mode), 8)


def unlike(seen: dict, owner: str | None = None, group: str | None = None, mode: str | None = None,
           checksum: str | None = None, directory: bool = False) -> bool:  # fmt: skip
    """Whether a write task must still touch a path seen so: missing, a link, not the kind
    expected (a directory, else a regular file), or another owner, group, mode (octal string)
    or content (SHA-1) than given; what is not given is not compared."""
    if not seen.get("exists") or seen.get("islnk") or not seen.get("isdir" if directory else "isreg"):
        return True
    if owner is not None and seen.get("pw_name") != owner:
        return True
    if group is not None and seen.get("gr_name") != group:
        return True
    if mode is not None and _octal(seen.get("mode", "-1")) != _octal(mode):
        return True
    return checksum is not None and seen.get("checksum") != checksum


def paths_unlike(entries: list[dict], paths: list[str], **wanted) -> list[str]:
    """Of `paths`, in their order, those a write task must still touch (unlike(), above), from a
    look's entries; a path the look did not see counts as one to touch."""
    seen = dict(entry_stat(entry) for entry in entries)
    return [path for path in paths if path not in seen or unlike(seen[path], **wanted)]
