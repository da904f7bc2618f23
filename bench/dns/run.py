"""Entry point of the DNS benchmark: `.venv/bin/python bench/dns/run.py [--repeat N] [--records N]`.

Run as a script, Python puts only bench/dns on the path; the benchmark imports the repository's
test servers (tests.dns) and the collection (ansible_collections.lms.mail, through the
collections/ link), so the repository root and collections/ go first, before those imports.
"""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO), str(REPO / "collections")]

from bench.dns.harness import main  # noqa: E402 - needs the path set above

if __name__ == "__main__":
    sys.exit(main())
