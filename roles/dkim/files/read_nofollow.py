# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read a file as root without following a link: python3 -c "$(cat read_nofollow.py)" PATH OWNERS [COMMAND...]

The file is opened with O_NOFOLLOW and judged by what was opened (fstat on the descriptor), so
nothing swapped in between a check and the read is followed: a link, a FIFO, a device, a file with
a second name (a hard link to a file elsewhere) or one owned by a user not in OWNERS (names,
comma-separated) is refused with a message naming the path. The file is copied to stdout, or
given as stdin to COMMAND (so that `openssl pkey -pubout` reads a private key that never leaves
the host). Exit 3: the file does not exist.
"""

import os
import pwd
import stat
import sys

MISSING = 3


def main(argv: list[str]) -> int:
    path, owners, command = argv[1], argv[2].split(","), argv[3:]
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY)
    except FileNotFoundError:
        return MISSING
    except OSError as error:
        sys.stderr.write(f"{path}: {error.strerror}: a link is never followed here; nothing was read\n")
        return 1
    info = os.fstat(fd)
    uids = {pwd.getpwnam(name).pw_uid for name in owners}
    if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1 or info.st_uid not in uids:
        sys.stderr.write(
            f"{path}: not a regular file with one name owned by {' or '.join(owners)}; "
            "someone may have planted it: nothing was read\n"
        )
        return 1
    if command:
        os.dup2(fd, 0)
        os.execvp(command[0], command)  # noqa: S606 - an argv list, no shell
    with os.fdopen(fd, "rb") as source:
        sys.stdout.buffer.write(source.read())
    return 0


sys.exit(main(sys.argv))
