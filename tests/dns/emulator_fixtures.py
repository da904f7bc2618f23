"""pytest fixtures for the Cloudflare and DigitalOcean API emulators: a fresh server and empty
state for every test, bound to 127.0.0.1 on a free port; and the guard that no request of the
DigitalOcean library leaves for another host."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests.adapters

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


@pytest.fixture
def sent_urls(monkeypatch: pytest.MonkeyPatch, digitalocean_api: DigitalOceanEmulator) -> Iterator[list[str]]:
    """Every URL requests is asked to send during a DigitalOcean test; a URL outside the emulator
    fails the test before a connection is opened."""
    urls: list[str] = []
    original = requests.adapters.HTTPAdapter.send

    def guarded_send(self: requests.adapters.HTTPAdapter, request: requests.PreparedRequest, **kw: object):
        urls.append(str(request.url))
        if not str(request.url).startswith(digitalocean_api.base_url):
            raise AssertionError(f"a request escaped the emulator: {request.url}")
        return original(self, request, **kw)

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", guarded_send)
    yield urls
    assert all(url.startswith(digitalocean_api.base_url) for url in urls)
