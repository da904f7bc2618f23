"""An in-memory SpfResolver for the SPF unit tests: zone data as a dict, with a query count."""

from __future__ import annotations

from ansible_collections.lms.mail.plugins.module_utils.spf import SpfTempError


class FakeDns:
    def __init__(self, data: dict[tuple[str, str], list[str]], failing: tuple[str, ...] = ()):
        self.data = data
        self.failing = failing
        self.queries: list[tuple[str, str]] = []

    def _get(self, name: str, rtype: str) -> list[str]:
        self.queries.append((name, rtype))
        if name in self.failing:
            raise SpfTempError(f"timeout for {name}")
        return list(self.data.get((name.lower(), rtype), []))

    def txt(self, name: str) -> list[str]:
        return self._get(name, "TXT")

    def a(self, name: str) -> list[str]:
        return self._get(name, "A")

    def aaaa(self, name: str) -> list[str]:
        return self._get(name, "AAAA")

    def mx(self, name: str) -> list[str]:
        return self._get(name, "MX")

    def ptr(self, ip: str) -> list[str]:
        return self._get(ip, "PTR")
