"""A local emulator of the part of Cloudflare's v4 API the DNS modules use, written from the public
API shape: zones, DNS records with page/per_page and result_info, exact-name and type filters,
the v4 envelope {"success", "errors", "messages", "result"} and its error bodies.

The provider talks to it through `api_base_url=<origin>/client/v4`. State is in memory; tests seed
it directly (seed_records takes 10,000 records in milliseconds) and read the request log.
"""

from __future__ import annotations

import datetime
import math
import re
import uuid
from typing import Any

from ._server import EmulatorServer, Response

API_PREFIX = "/client/v4"

RECORD_TYPES = frozenset(
    {"A", "AAAA", "CAA", "CNAME", "MX", "NS", "PTR", "SRV", "TXT", "CERT", "DS", "HTTPS", "SVCB", "URI"}
)
TXT_CONTENT_MAX = 2048  # Cloudflare's documented limit for a TXT record's content
TXT_STRING_MAX = 255  # RFC 1035 character-string


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _new_id() -> str:
    return uuid.uuid4().hex  # Cloudflare identifiers are 32 hex digits


_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')


def _txt_strings(content: str) -> list[str] | None:
    """The character strings of a quoted TXT content (`"a" "b"`), or None if it is not quoted."""
    stripped = content.strip()
    if not stripped.startswith('"'):
        return None
    strings = []
    pos = 0
    while pos < len(stripped):
        match = _QUOTED.match(stripped, pos)
        if match is None:
            return None
        strings.append(re.sub(r"\\(.)", r"\1", match.group(1)))
        pos = match.end()
        while pos < len(stripped) and stripped[pos] == " ":
            pos += 1
    return strings


def _quote(strings: list[str]) -> str:
    return " ".join('"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"' for s in strings)


def _split_bytes(value: str, size: int = TXT_STRING_MAX) -> list[str]:
    data = value.encode()
    return [data[i : i + size].decode("utf-8", "replace") for i in range(0, len(data), size)] or [""]


class CloudflareEmulator(EmulatorServer):
    def __init__(self, token: str = "cf-test-token") -> None:  # noqa: S107 - a fake token for the fake API
        super().__init__()
        self.tokens: set[str] = {token}
        self.read_only_tokens: set[str] = set()
        self.zones: dict[str, dict[str, Any]] = {}
        self.records: dict[str, dict[str, dict[str, Any]]] = {}  # zone id -> record id -> record

    @property
    def base_url(self) -> str:
        return self.origin + API_PREFIX

    # -- seeding ---------------------------------------------------------------------------------

    def add_zone(self, name: str) -> str:
        zone_id = _new_id()
        self.zones[zone_id] = {
            "id": zone_id,
            "name": name.lower().rstrip("."),
            "status": "active",
            "paused": False,
            "type": "full",
            "development_mode": 0,
            "name_servers": ["ns1.emulator.test", "ns2.emulator.test"],
            "created_on": _now(),
            "modified_on": _now(),
        }
        self.records[zone_id] = {}
        return zone_id

    def zone_id(self, name: str) -> str:
        for zone in self.zones.values():
            if zone["name"] == name:
                return zone["id"]
        raise KeyError(name)

    def seed_record(self, zone: str, name: str, rtype: str, content: str, ttl: int = 1) -> dict[str, Any]:
        """Store a record as Cloudflare would hold it (content exactly as given); zone is a name."""
        zone_id = self.zone_id(zone)
        record = self._make_record(self.zones[zone_id], name, rtype, content, ttl)
        self.records[zone_id][record["id"]] = record
        return record

    def seed_records(self, zone: str, rows: list[tuple[str, str, str]]) -> None:
        """Bulk seeding for large-zone tests and benchmarks: rows of (name, type, content)."""
        zone_id = self.zone_id(zone)
        store = self.records[zone_id]
        for name, rtype, content in rows:
            record = self._make_record(self.zones[zone_id], name, rtype, content, 1)
            store[record["id"]] = record

    def find(self, zone: str, name: str, rtype: str | None = None) -> list[dict[str, Any]]:
        zone_id = self.zone_id(zone)
        return [
            r
            for r in self.records[zone_id].values()
            if r["name"] == name and (rtype is None or r["type"] == rtype)
        ]

    # -- HTTP ------------------------------------------------------------------------------------

    def error_body(self, status: int) -> Any:
        messages = {
            429: (971, "Please wait and consider throttling your request speed"),
            500: (10000, "Internal server error"),
            502: (10000, "Bad gateway"),
            503: (10000, "Service temporarily unavailable"),
        }
        code, message = messages.get(status, (10000, f"HTTP {status}"))
        return _failure(code, message)

    def handle(
        self, method: str, path: str, query: dict[str, list[str]], body: Any, headers: dict[str, str]
    ) -> Response:
        if not path.startswith(API_PREFIX + "/"):
            return Response(404, _failure(7000, "No route for that URI"))
        auth = headers.get("authorization", "")
        token = auth[len("Bearer ") :] if auth.startswith("Bearer ") else ""
        if token not in self.tokens and token not in self.read_only_tokens:
            return Response(401, _failure(10000, "Authentication error"))
        if method != "GET" and token in self.read_only_tokens:
            return Response(403, _failure(10000, "Authentication error"))

        parts = path[len(API_PREFIX) + 1 :].rstrip("/").split("/")
        q = {k: v[-1] for k, v in query.items()}
        if parts == ["zones"] and method == "GET":
            return self._list_zones(q)
        if len(parts) >= 2 and parts[0] == "zones":
            zone = self.zones.get(parts[1])
            if zone is None:
                return Response(
                    404,
                    _failure(7003, f"Could not route to {path}, perhaps your object identifier is invalid?"),
                )
            if len(parts) == 2 and method == "GET":
                return Response(200, _success(zone))
            if len(parts) == 3 and parts[2] == "dns_records":
                if method == "GET":
                    return self._list_records(zone, q)
                if method == "POST":
                    return self._create_record(zone, body)
            if len(parts) == 4 and parts[2] == "dns_records":
                return self._one_record(zone, parts[3], method, body)
        return Response(
            405 if parts and parts[0] == "zones" else 404, _failure(7000, "No route for that URI")
        )

    # -- zones -----------------------------------------------------------------------------------

    def _list_zones(self, q: dict[str, str]) -> Response:
        zones = list(self.zones.values())
        if "name" in q:
            zones = [z for z in zones if z["name"] == q["name"].lower()]
        return _page(zones, q, default_per_page=20, max_per_page=50)

    # -- records ---------------------------------------------------------------------------------

    def _list_records(self, zone: dict[str, Any], q: dict[str, str]) -> Response:
        records = list(self.records[zone["id"]].values())
        exact = q.get("name.exact", q.get("name"))
        if exact is not None:
            exact = exact.lower().rstrip(".")
            records = [r for r in records if r["name"] == exact]
        for op, test in (
            ("name.contains", lambda n, v: v in n),
            ("name.startswith", lambda n, v: n.startswith(v)),
            ("name.endswith", lambda n, v: n.endswith(v)),
        ):
            if op in q:
                value = q[op].lower()
                records = [r for r in records if test(r["name"], value)]
        if "type" in q:
            records = [r for r in records if r["type"] == q["type"]]
        content = q.get("content.exact", q.get("content"))
        if content is not None:
            records = [r for r in records if r["content"] == content]
        return _page(records, q, default_per_page=100, max_per_page=5_000_000)

    def _one_record(self, zone: dict[str, Any], record_id: str, method: str, body: Any) -> Response:
        store = self.records[zone["id"]]
        record = store.get(record_id)
        if record is None:
            return Response(404, _failure(81044, "Record does not exist."))
        if method == "GET":
            return Response(200, _success(record))
        if method == "DELETE":
            del store[record_id]
            return Response(200, _success({"id": record_id}))
        if method in ("PUT", "PATCH"):
            body = body if isinstance(body, dict) else {}
            if method == "PUT":
                missing = [f for f in ("name", "type", "content") if f not in body]
                if missing:
                    return Response(400, _failure(9000, f"DNS record is missing {', '.join(missing)}"))
                merged = {"ttl": 1, **body}
            else:
                merged = {**{k: record[k] for k in ("name", "type", "content", "ttl")}, **body}
            try:
                updated = self._make_record(
                    zone, merged["name"], merged["type"], merged["content"], merged.get("ttl", 1)
                )
            except _Invalid as err:
                return Response(400, _failure(err.code, str(err)))
            if self._duplicate(zone, updated, ignore_id=record_id):
                return Response(400, _failure(81058, "An identical record already exists."))
            updated["id"] = record_id
            updated["created_on"] = record["created_on"]
            store[record_id] = updated
            return Response(200, _success(updated))
        return Response(405, _failure(10000, "Method not allowed"))

    def _create_record(self, zone: dict[str, Any], body: Any) -> Response:
        if not isinstance(body, dict):
            return Response(400, _failure(9207, "Request body is invalid."))
        missing = [f for f in ("name", "type", "content") if f not in body]
        if missing:
            return Response(400, _failure(9000, f"DNS record is missing {', '.join(missing)}"))
        try:
            record = self._make_record(zone, body["name"], body["type"], body["content"], body.get("ttl", 1))
        except _Invalid as err:
            return Response(400, _failure(err.code, str(err)))
        if self._duplicate(zone, record):
            return Response(400, _failure(81058, "An identical record already exists."))
        self.records[zone["id"]][record["id"]] = record
        return Response(200, _success(record))

    def _duplicate(self, zone: dict[str, Any], record: dict[str, Any], ignore_id: str = "") -> bool:
        return any(
            r["id"] != ignore_id
            and r["name"] == record["name"]
            and r["type"] == record["type"]
            and _comparable(r) == _comparable(record)
            for r in self.records[zone["id"]].values()
        )

    def _make_record(
        self, zone: dict[str, Any], name: str, rtype: str, content: str, ttl: Any
    ) -> dict[str, Any]:
        if rtype not in RECORD_TYPES:
            raise _Invalid(9101, f"Invalid DNS record type: {rtype}")
        apex = zone["name"]
        fqdn = str(name).lower().rstrip(".")
        # Cloudflare accepts "@" and names relative to the zone and stores the full name.
        if fqdn in ("@", ""):
            fqdn = apex
        elif fqdn != apex and not fqdn.endswith("." + apex):
            fqdn = f"{fqdn}.{apex}"
        if not isinstance(ttl, int) or not (ttl == 1 or 30 <= ttl <= 86400):
            raise _Invalid(9021, "Invalid TTL. Must be between 30 and 86400 seconds, or 1 for Automatic.")
        content = str(content)
        if rtype == "TXT":
            content = _normalise_txt(content)
        stamp = _now()
        return {
            "id": _new_id(),
            "zone_id": zone["id"],
            "zone_name": apex,
            "name": fqdn,
            "type": rtype,
            "content": content,
            "proxiable": rtype in ("A", "AAAA", "CNAME"),
            "proxied": False,
            "ttl": ttl,
            "settings": {},
            "meta": {},
            "comment": None,
            "tags": [],
            "created_on": stamp,
            "modified_on": stamp,
        }


class _Invalid(ValueError):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def _normalise_txt(content: str) -> str:
    """Cloudflare's documented rule: quoted character strings of up to 255 bytes each; longer
    strings are split automatically. An unquoted short value is kept exactly as sent."""
    strings = _txt_strings(content)
    if strings is None:
        if len(content.encode()) <= TXT_STRING_MAX:
            return content
        strings = [content]
    if sum(len(s.encode()) for s in strings) > TXT_CONTENT_MAX:
        raise _Invalid(9100, f"TXT content is longer than {TXT_CONTENT_MAX} characters.")
    chunks = [chunk for s in strings for chunk in _split_bytes(s)]
    return _quote(chunks)


def _comparable(record: dict[str, Any]) -> str:
    if record["type"] == "TXT":
        strings = _txt_strings(record["content"])
        return "".join(strings) if strings is not None else record["content"]
    return record["content"]


def _success(result: Any, result_info: dict[str, int] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"success": True, "errors": [], "messages": [], "result": result}
    if result_info is not None:
        body["result_info"] = result_info
    return body


def _failure(code: int, message: str) -> dict[str, Any]:
    return {"success": False, "errors": [{"code": code, "message": message}], "messages": [], "result": None}


def _page(
    items: list[dict[str, Any]], q: dict[str, str], default_per_page: int, max_per_page: int
) -> Response:
    try:
        page = int(q.get("page", 1))
        per_page = int(q.get("per_page", default_per_page))
    except ValueError:
        return Response(400, _failure(1004, "page and per_page must be integers"))
    if page < 1 or per_page < 1 or per_page > max_per_page:
        return Response(400, _failure(1004, f"per_page must be between 1 and {max_per_page}"))
    start = (page - 1) * per_page
    chunk = items[start : start + per_page]
    info = {
        "page": page,
        "per_page": per_page,
        "count": len(chunk),
        "total_count": len(items),
        "total_pages": max(1, math.ceil(len(items) / per_page)),
    }
    return Response(200, _success(chunk, info))
