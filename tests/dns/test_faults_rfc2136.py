"""DNS faults over RFC 2136 (issue 13): the primary answers the UPDATE of a run with SERVFAIL or
REFUSED, or not at all, or applies it and its answer is lost on the way. The run fails within
its time budget, with a message that names the server and what it answered; a transfer of the
whole zone afterwards shows nothing half-written (the zone as it was, or with the one complete
change); a rerun once the server is well again converges, and the run after it changes nothing.

The server is the tests' real BIND (tests/dns/bind.py); the faults come from a forwarder of this
test's own on 127.0.0.1 in front of it, which passes every query to BIND and BIND's answers
back, and meets each UPDATE with the fault planned for it. A SERVFAIL or REFUSED it answers
itself is signed with the TSIG key, as BIND signs its own: the client sees what a failing
primary sends (BIND answers SERVFAIL when it cannot write the zone's journal, REFUSED when its
update-policy does not grant the key). Each run is the real spf_record module (in-process),
merging into the customer's SPF record: its UPDATE deletes the old value and adds the merged one
in one message, which BIND applies whole or not at all.
"""

from __future__ import annotations

import importlib
import socket
import socketserver
import struct
import threading
import time
from collections.abc import Iterator

import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.zone
import pytest

from tests.dns.bind import BindServer, free_port
from tests.dns.modules import run_module

# imported before any run is timed (run_module imports it on first use)
importlib.import_module("ansible_collections.lms.mail.plugins.modules.spf_record")

ZONE = "school.test"
SPF = "v=spf1 include:_spf.office.test ~all"
MERGED = "v=spf1 include:_spf.office.test ip4:192.0.2.10 ~all"
VERIFICATION = "google-site-verification=abc123-keep-me"
TIMEOUT = 2.0  # the module's timeout option, per message
# A run meets at most one unanswered message (the UPDATE): one timeout, and the reads, which
# answer at once; slack for a loaded CI machine. A retry loop would go beyond it.
BUDGET = 2 * TIMEOUT + 4
UPDATE = 5  # the UPDATE opcode (RFC 2136)


class FaultyForwarder:
    """UDP and TCP on 127.0.0.1, in front of BIND. Each UPDATE takes the next fault of `plan`
    (then "pass" once the plan is used up):
    - "pass": to BIND and its answer back;
    - "servfail", "refused": that answer, signed with the key, and BIND never sees the update;
    - "hang": nothing passed, nothing answered (the primary gone in the middle of the run);
    - "lost": passed to BIND, which applies it, and its answer dropped.
    `updates` records the fault each UPDATE met."""

    def __init__(self, bind: BindServer) -> None:
        self.bind = bind
        self.plan: list[str] = []
        self.updates: list[str] = []
        self.port = free_port()
        forwarder = self

        class Udp(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                wire, sock = self.request
                answer = forwarder.answer(wire)
                if answer is not None:
                    sock.sendto(answer, self.client_address)

        class Tcp(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                while (wire := _read_framed(self.request)) is not None:
                    answer = forwarder.answer(wire)
                    if answer is not None:
                        self.request.sendall(struct.pack("!H", len(answer)) + answer)

        socketserver.ThreadingUDPServer.allow_reuse_address = True
        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.servers = [
            socketserver.ThreadingUDPServer(("127.0.0.1", self.port), Udp),
            socketserver.ThreadingTCPServer(("127.0.0.1", self.port), Tcp),
        ]
        for server in self.servers:
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True).start()

    def answer(self, wire: bytes) -> bytes | None:
        if (wire[2] >> 3) & 0xF != UPDATE:
            return self._to_bind(wire)
        fault = self.plan.pop(0) if self.plan else "pass"
        self.updates.append(fault)
        if fault in ("servfail", "refused"):
            update = dns.message.from_wire(wire, keyring=self.bind.keyring)
            response = dns.message.make_response(update)  # signed with the update's key
            response.set_rcode(dns.rcode.from_text(fault.upper()))
            return response.to_wire()
        if fault == "hang":
            return None
        answer = self._to_bind(wire)
        return None if fault == "lost" else answer

    def _to_bind(self, wire: bytes) -> bytes:
        with socket.create_connection((self.bind.host, self.bind.port), timeout=10) as sock:
            sock.sendall(struct.pack("!H", len(wire)) + wire)
            answer = _read_framed(sock)
        assert answer is not None, "BIND closed the connection without an answer"
        return answer

    def close(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


def _read_framed(sock: socket.socket) -> bytes | None:
    """One DNS message over TCP (RFC 1035 4.2.2: a two-byte length first); None at the end."""
    data = b""
    while len(data) < 2:
        chunk = sock.recv(2 - len(data))
        if not chunk:
            return None
        data += chunk
    (length,) = struct.unpack("!H", data)
    wire = b""
    while len(wire) < length:
        chunk = sock.recv(length - len(wire))
        if not chunk:
            return None
        wire += chunk
    return wire


@pytest.fixture
def forwarder(bind_zones: BindServer) -> Iterator[FaultyForwarder]:
    forwarder = FaultyForwarder(bind_zones)
    try:
        yield forwarder
    finally:
        forwarder.close()


def spf(bind: BindServer, port: int) -> dict:
    """spf_record through the forwarder: the customer's SPF gains this server's address."""
    args = bind.provider_args(port=port, timeout=TIMEOUT, domain=ZONE, mechanisms=["ip4:192.0.2.10"])
    return run_module("spf_record", args)


def zone_dump(bind: BindServer) -> list[tuple[str, str, str]]:
    """Every record of the zone, from BIND itself (a zone transfer), the SOA aside."""
    transfer = dns.zone.from_xfr(
        dns.query.xfr(
            bind.host, ZONE + ".", port=bind.port, keyring=bind.keyring, lifetime=10, relativize=False
        ),
        relativize=False,
    )
    return sorted(
        (name.to_text(), dns.rdatatype.to_text(rdataset.rdtype), rdata.to_text())
        for name, node in transfer.nodes.items()
        for rdataset in node.rdatasets
        if rdataset.rdtype != dns.rdatatype.SOA
        for rdata in rdataset
    )


EXPECTED = {
    "servfail": "answered SERVFAIL to update TXT at school.test",
    "refused": "refused to update TXT at school.test in zone school.test",
    "hang": f"within {TIMEOUT:g} s",
    "lost": f"within {TIMEOUT:g} s",
}


@pytest.mark.parametrize("fault", ["servfail", "refused", "hang", "lost"])
def test_a_failing_update_fails_clearly_and_leaves_the_zone_whole(forwarder, bind_zones, fault) -> None:
    before, serial = zone_dump(bind_zones), bind_zones.serial(ZONE)
    forwarder.plan = [fault]
    started = time.monotonic()
    result = spf(bind_zones, forwarder.port)
    took = time.monotonic() - started

    assert result.get("failed") is True, result
    assert f"127.0.0.1 port {forwarder.port}" in result["msg"] and EXPECTED[fault] in result["msg"], result
    assert took < BUDGET, f"{took:.1f} s: beyond the run's budget"
    assert forwarder.updates == [fault], forwarder.updates  # the update was not sent twice blindly

    after = zone_dump(bind_zones)
    txt = sorted(value for name, rtype, value in after if name == ZONE + "." and rtype == "TXT")
    if fault == "lost":
        # applied whole: the merged SPF replaced the old one, the other TXT kept, nothing else moved
        assert txt == sorted([f'"{MERGED}"', f'"{VERIFICATION}"']), after
        assert [r for r in after if r[1] != "TXT"] == [r for r in before if r[1] != "TXT"]
        assert bind_zones.serial(ZONE) == serial + 1
    else:
        assert after == before and bind_zones.serial(ZONE) == serial

    # the server well again: the rerun converges, the next run changes nothing and writes nothing
    again = spf(bind_zones, forwarder.port)
    assert not again.get("failed") and again["record"] == MERGED, again
    assert again["changed"] is (fault != "lost"), again
    serial = bind_zones.serial(ZONE)
    last = spf(bind_zones, forwarder.port)
    assert last["changed"] is False and not last.get("failed"), last
    assert bind_zones.serial(ZONE) == serial
    assert bind_zones.txt(ZONE) == sorted([MERGED, VERIFICATION])
