"""What the tests' own servers (a real BIND, a real Dovecot) share: a child process stopped at the
end, politely first, and use as a context manager."""

from __future__ import annotations

import subprocess


class LocalServer:
    """Mixed into a server's dataclass, which has a `process: subprocess.Popen | None` field."""

    process: subprocess.Popen | None

    def stop(self) -> None:
        """Stop the process the fixture started (nothing for a server found elsewhere)."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
