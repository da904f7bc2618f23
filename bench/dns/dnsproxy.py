"""A counting DNS proxy on 127.0.0.1: every DNS message a client sends (UDP datagram or
length-prefixed TCP message) is logged with its opcode, then forwarded unchanged to the real
server behind it (the benchmark's BIND) and the answer relayed back.

named has no cheap per-client message counter, and its query log does not show UPDATE messages
or the prerequisite-only UPDATEs that community.general.nsupdate uses to test for a record. A
proxy in front of it sees every message whatever the module sends, so the count is the number
of round trips the module made.
"""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import struct
import threading

OPCODE_QUERY = 0
OPCODE_UPDATE = 5


@dataclasses.dataclass(frozen=True)
class DnsMessage:
    transport: str  # "udp" or "tcp"
    opcode: int
    updates: int  # records in the update section (UPCOUNT) of an UPDATE; 0 for a query

    @property
    def kind(self) -> str:
        if self.opcode == OPCODE_QUERY:
            return "query"
        if self.opcode == OPCODE_UPDATE:
            # an UPDATE with prerequisites only changes nothing: it asks "is this there?"
            return "update" if self.updates else "prerequisite check"
        return f"opcode {self.opcode}"

    @property
    def is_write(self) -> bool:
        return self.opcode == OPCODE_UPDATE and self.updates > 0


def _parse(wire: bytes, transport: str) -> DnsMessage:
    if len(wire) < 12:
        return DnsMessage(transport, -1, 0)
    _id, flags, _zocount, _prcount, upcount, _adcount = struct.unpack("!HHHHHH", wire[:12])
    opcode = (flags >> 11) & 0xF
    return DnsMessage(transport, opcode, upcount if opcode == OPCODE_UPDATE else 0)


def _recv_exact(sock: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


class CountingDnsProxy:
    """Listens on 127.0.0.1:`port` (UDP and TCP) and forwards to `upstream` on 127.0.0.1."""

    def __init__(self, port: int, upstream_port: int, upstream_host: str = "127.0.0.1") -> None:
        self.host = "127.0.0.1"
        self.port = port
        self.upstream = (upstream_host, upstream_port)
        self._messages: list[DnsMessage] = []
        self._lock = threading.Lock()
        self._udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._running = False

    # -- what the benchmark uses --------------------------------------------------------------------

    def start(self) -> None:
        self._udp.bind((self.host, self.port))
        self._tcp.bind((self.host, self.port))
        self._tcp.listen(64)
        self._running = True
        for target in (self._serve_udp, self._serve_tcp):
            threading.Thread(target=target, daemon=True, name=target.__name__).start()

    def stop(self) -> None:
        self._running = False
        # closing the sockets ends the blocking recvfrom/accept loops with OSError
        self._udp.close()
        self._tcp.close()

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()

    def messages(self) -> list[DnsMessage]:
        with self._lock:
            return list(self._messages)

    # -- internals ----------------------------------------------------------------------------------

    def _log(self, wire: bytes, transport: str) -> None:
        with self._lock:
            self._messages.append(_parse(wire, transport))

    def _serve_udp(self) -> None:
        while self._running:
            try:
                wire, client = self._udp.recvfrom(65535)
            except OSError:
                return
            self._log(wire, "udp")
            threading.Thread(target=self._relay_udp, args=(wire, client), daemon=True).start()

    def _relay_udp(self, wire: bytes, client: tuple[str, int]) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as upstream:
            upstream.settimeout(10)
            upstream.sendto(wire, self.upstream)
            try:
                answer = upstream.recv(65535)
            except OSError:
                return  # no answer: the client times out exactly as it would without the proxy
        try:
            self._udp.sendto(answer, client)
        except OSError:
            return

    def _serve_tcp(self) -> None:
        while self._running:
            try:
                client, _ = self._tcp.accept()
            except OSError:
                return
            threading.Thread(target=self._relay_tcp, args=(client,), daemon=True).start()

    def _relay_tcp(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.upstream, timeout=10)
        except OSError:
            client.close()
            return
        upstream.settimeout(None)
        back = threading.Thread(target=self._pipe, args=(upstream, client), daemon=True)
        back.start()
        try:
            # client -> server: split the stream into messages (2-byte length prefix) to count them
            while True:
                prefix = _recv_exact(client, 2)
                if prefix is None:
                    break
                body = _recv_exact(client, struct.unpack("!H", prefix)[0])
                if body is None:
                    break
                self._log(body, "tcp")
                upstream.sendall(prefix + body)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                upstream.shutdown(socket.SHUT_WR)
            back.join(timeout=15)
            upstream.close()
            client.close()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)
