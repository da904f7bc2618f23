"""The HTTP plumbing both API emulators share: a loopback server in a thread, a request log and
injectable faults. The API shapes themselves live in cloudflare.py and digitalocean.py."""

from __future__ import annotations

import abc
import dataclasses
import json
import threading
import time
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclasses.dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any  # the decoded JSON body, or None
    status: int  # what the emulator answered


@dataclasses.dataclass
class Fault:
    """An answer the emulator gives instead of the real one, `times` times, to matching requests."""

    status: int = 0  # 0: no error, only the delay
    delay: float = 0.0  # seconds to wait before answering (a slow server)
    retry_after: float | None = None
    times: int = 1
    method: str | None = None
    # True: the request is carried out, then answered with the error (a write that was applied
    # although the client saw a failure, as after a gateway error).
    after: bool = False
    path_contains: str | None = None

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        return self.path_contains is None or self.path_contains in path


class Response:
    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.body = body
        self.headers = headers or {}


class EmulatorServer(abc.ABC):
    """Serves `handle(method, path, query, body, headers)` of a subclass on 127.0.0.1:<free port>.

    Every request is logged (also the ones a fault answered) so tests can count reads and writes.
    """

    def __init__(self) -> None:
        self.log: list[LoggedRequest] = []
        self.faults: list[Fault] = []
        self._lock = threading.RLock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        handler = _make_handler(self._dispatch)
        # Port 0: the kernel picks a free port, so parallel test runs never collide.
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        # A short poll interval: shutdown() waits for it, once per test.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name=type(self).__name__
        )
        self._thread.daemon = True
        self._thread.start()

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    @property
    def origin(self) -> str:
        assert self._httpd is not None, "emulator not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    # -- what tests use --------------------------------------------------------------------------

    def inject(self, **kwargs: Any) -> Fault:
        fault = Fault(**kwargs)
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear_log(self) -> None:
        with self._lock:
            self.log.clear()

    def requests(self, method: str | None = None) -> list[LoggedRequest]:
        with self._lock:
            return [r for r in self.log if method is None or r.method == method]

    def writes(self) -> list[LoggedRequest]:
        with self._lock:
            return [r for r in self.log if r.method in WRITE_METHODS]

    # -- subclass interface ----------------------------------------------------------------------

    @abc.abstractmethod
    def handle(
        self, method: str, path: str, query: dict[str, list[str]], body: Any, headers: dict[str, str]
    ) -> Response:
        """Answer one request from the in-memory state."""

    @abc.abstractmethod
    def error_body(self, status: int) -> Any:
        """The provider's error body for an injected fault."""

    # -- internals -------------------------------------------------------------------------------

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.times > 0 and fault.matches(method, path):
                    fault.times -= 1
                    return fault
        return None

    def _dispatch(
        self, method: str, raw_path: str, raw_body: bytes, headers: dict[str, str]
    ) -> tuple[Response, LoggedRequest]:
        parsed = urllib.parse.urlsplit(raw_path)
        query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
        try:
            body = json.loads(raw_body) if raw_body.strip() else None
        except ValueError:
            body = raw_body.decode("utf-8", "replace")
        fault = self._take_fault(method, parsed.path)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.status:
            if fault.after:
                with self._lock:
                    self.handle(method, parsed.path, query, body, headers)
            extra = {}
            if fault.retry_after is not None:
                ra = fault.retry_after
                extra["Retry-After"] = str(int(ra)) if float(ra).is_integer() else str(ra)
            response = Response(fault.status, self.error_body(fault.status), extra)
        else:
            with self._lock:
                response = self.handle(method, parsed.path, query, body, headers)
        entry = LoggedRequest(method, parsed.path, query, body, response.status)
        with self._lock:
            self.log.append(entry)
        return response, entry


def _make_handler(
    dispatch: Callable[[str, str, bytes, dict[str, str]], tuple[Response, LoggedRequest]],
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the real APIs; requests pools connections

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            response, _ = dispatch(self.command, self.path, raw, headers)
            payload = b"" if response.body is None else json.dumps(response.body).encode()
            try:
                self.send_response(response.status)
                for key, value in response.headers.items():
                    self.send_header(key, value)
                if response.status != 204:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if payload:
                    self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up (a timeout test); nothing to answer to.
                self.close_connection = True

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
            # The request log is the record; stderr chatter would only clutter pytest's output.
            return

    return Handler
