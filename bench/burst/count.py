#!/usr/bin/python3
"""Run inside a container (python3 -c): print 'INDEX MTIME SIGNED' for every file under the given
directories whose Message-ID is <bench-burst-RUN-INDEX@...>. SIGNED is 1 when it carries a
DKIM-Signature for d=school.test. argv: RUN DIR..."""

import os
import re
import sys

wanted = re.compile(
    rb"^message-id:\s*<bench-burst-" + re.escape(sys.argv[1].encode()) + rb"-(\d+)@", re.I | re.M
)
signature = re.compile(rb"^dkim-signature:.*?(?:^\S|\Z)", re.I | re.M | re.S)
for top in sys.argv[2:]:
    for folder, _, files in os.walk(top):
        for name in files:
            path = os.path.join(folder, name)
            try:
                with open(path, "rb") as handle:
                    head = handle.read(65536).replace(b"\r\n", b"\n")
                mtime = os.stat(path).st_mtime
            except OSError:
                continue
            found = wanted.search(head)
            if found:
                signed = any(
                    b"d=school.test" in m.group(0).replace(b"\n", b"").replace(b" ", b"").replace(b"\t", b"")
                    for m in signature.finditer(head)
                )
                print(found.group(1).decode(), f"{mtime:.6f}", int(signed))
