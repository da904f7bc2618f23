"""pytest fixtures for the Cloudflare and DigitalOcean API emulators: a fresh server and empty
state for every test, bound to 127.0.0.1 on a free port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.dns.emulators import CloudflareEmulator, DigitalOceanEmulator


def filler_rows(count: int, rtype: str = "A") -> list[tuple[str, str, str]]:
    """`count` unrelated records (relative names) for large-zone tests and benchmarks; every
    value is distinct so that no two rows collide."""
    rows = []
    for i in range(count):
        if rtype == "TXT":
            rows.append((f"host{i}", "TXT", f"filler-{i}"))
        else:
            rows.append((f"host{i}", "A", f"198.51.100.{i % 250 + 1}"))
    return rows


@pytest.fixture
def cloudflare_api() -> Iterator[CloudflareEmulator]:
    emulator = CloudflareEmulator()
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def digitalocean_api() -> Iterator[DigitalOceanEmulator]:
    emulator = DigitalOceanEmulator()
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()
