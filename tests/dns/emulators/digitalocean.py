"""A local emulator of the part of DigitalOcean's v2 API the DNS modules use, written from the
public API shape: domains, domain records (names relative to the domain, '@' for the apex;
list filters `name` as a fully qualified name and `type`; page/per_page with links.pages and
meta.total), droplets with their networks, droplet actions (rename) and /v2/actions/{id}.

The provider talks to it through `api_base_url=<origin>/v2/`. State is in memory.
"""

from __future__ import annotations

import datetime
import itertools
import math
import re
import urllib.parse
from typing import Any

from ._server import EmulatorServer, Response

API_PREFIX = "/v2"
RECORD_TYPES = frozenset({"A", "AAAA", "CAA", "CNAME", "MX", "NS", "SOA", "SRV", "TXT"})
_HOSTNAME = re.compile(r"^[a-zA-Z0-9](?:[a-zA-Z0-9.-]{0,253}[a-zA-Z0-9])?$")


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _error(status: int, ident: str, message: str) -> Response:
    return Response(status, {"id": ident, "message": message})


class DigitalOceanEmulator(EmulatorServer):
    def __init__(self, token: str = "do-test-token") -> None:  # noqa: S107 - a fake token for the fake API
        super().__init__()
        self.tokens: set[str] = {token}
        self.domains: dict[str, dict[str, Any]] = {}
        self.records: dict[str, dict[int, dict[str, Any]]] = {}  # domain -> id -> record
        self.droplets: dict[int, dict[str, Any]] = {}
        self.actions: dict[int, dict[str, Any]] = {}
        # Where pagination links point. DigitalOcean's links are absolute URLs; None means this
        # emulator's own origin. A test sets a foreign origin to prove the client never follows it.
        self.links_origin: str | None = None
        # How droplet actions end, and after how many polls: tests make them slow or fail.
        self.action_outcome = "completed"
        self.action_polls = 1
        self._ids = itertools.count(1000)

    @property
    def base_url(self) -> str:
        return self.origin + API_PREFIX + "/"

    # -- seeding ---------------------------------------------------------------------------------

    def add_domain(self, name: str, ttl: int = 1800) -> None:
        name = name.lower().rstrip(".")
        self.domains[name] = {"name": name, "ttl": ttl, "zone_file": ""}
        self.records[name] = {}
        self.seed_record(name, "@", "NS", "ns1.digitalocean.test", ttl=1800)

    def seed_record(self, domain: str, name: str, rtype: str, data: str, ttl: int = 1800) -> dict[str, Any]:
        """Store a record as DigitalOcean holds it: `name` relative to the domain, '@' for the apex."""
        record = self._make_record(name, rtype, data, ttl)
        self.records[domain][record["id"]] = record
        return record

    def seed_records(self, domain: str, rows: list[tuple[str, str, str]]) -> None:
        """Bulk seeding for large-zone tests and benchmarks: rows of (relative name, type, data)."""
        store = self.records[domain]
        for name, rtype, data in rows:
            record = self._make_record(name, rtype, data, 1800)
            store[record["id"]] = record

    def find(self, domain: str, name: str, rtype: str | None = None) -> list[dict[str, Any]]:
        """Records at a relative name ('@' for the apex)."""
        return [
            r
            for r in self.records[domain].values()
            if r["name"] == name and (rtype is None or r["type"] == rtype)
        ]

    def add_droplet(
        self, name: str, ipv4: str, ipv6: str | None = None, private_ipv4: str | None = None
    ) -> int:
        droplet_id = next(self._ids)
        v4 = [{"ip_address": ipv4, "netmask": "255.255.240.0", "gateway": "", "type": "public"}]
        if private_ipv4:
            v4.append(
                {"ip_address": private_ipv4, "netmask": "255.255.0.0", "gateway": "", "type": "private"}
            )
        v6 = [{"ip_address": ipv6, "netmask": 64, "gateway": "", "type": "public"}] if ipv6 else []
        self.droplets[droplet_id] = {
            "id": droplet_id,
            "name": name,
            "memory": 1024,
            "vcpus": 1,
            "disk": 25,
            "locked": False,
            "status": "active",
            "created_at": _now(),
            "features": ["ipv6"] if ipv6 else [],
            "backup_ids": [],
            "snapshot_ids": [],
            "volume_ids": [],
            "next_backup_window": None,
            "image": {"id": 1, "name": "Debian 12 x64", "distribution": "Debian", "slug": "debian-12-x64"},
            "size_slug": "s-1vcpu-1gb",
            "networks": {"v4": v4, "v6": v6},
            "region": {"slug": "emu1", "name": "Emulator 1", "available": True, "features": [], "sizes": []},
            "tags": [],
            "vpc_uuid": "",
        }
        return droplet_id

    # -- HTTP ------------------------------------------------------------------------------------

    def error_body(self, status: int) -> Any:
        if status == 429:
            return {"id": "too_many_requests", "message": "API Rate limit exceeded."}
        if status >= 500:
            return {"id": "server_error", "message": "Unexpected server-side error"}
        return {"id": "error", "message": f"HTTP {status}"}

    def handle(
        self, method: str, path: str, query: dict[str, list[str]], body: Any, headers: dict[str, str]
    ) -> Response:
        if not path.startswith(API_PREFIX + "/"):
            return _error(404, "not_found", "The resource you were accessing could not be found.")
        auth = headers.get("authorization", "")
        if not auth.startswith("Bearer ") or auth[len("Bearer ") :] not in self.tokens:
            return _error(401, "Unauthorized", "Unable to authenticate you.")
        parts = [p for p in path[len(API_PREFIX) + 1 :].split("/") if p]
        q = {k: v[-1] for k, v in query.items()}
        body = body if isinstance(body, dict) else {}

        if parts == ["domains"] and method == "GET":
            return self._page(path, q, "domains", list(self.domains.values()))
        if len(parts) >= 2 and parts[0] == "domains":
            return self._domain_routes(path, parts, method, q, body)
        if parts == ["droplets"] and method == "GET":
            return self._page(path, q, "droplets", list(self.droplets.values()))
        if len(parts) >= 2 and parts[0] == "droplets":
            return self._droplet_routes(parts, method, body)
        if len(parts) == 2 and parts[0] == "actions" and method == "GET":
            return self._action(parts[1])
        return _error(404, "not_found", "The resource you were accessing could not be found.")

    def _domain_routes(
        self, path: str, parts: list[str], method: str, q: dict[str, str], body: dict[str, Any]
    ) -> Response:
        domain = self.domains.get(parts[1].lower())
        if domain is None:
            return _error(404, "not_found", "The resource you were accessing could not be found.")
        store = self.records[domain["name"]]
        if len(parts) == 2 and method == "GET":
            return Response(200, {"domain": domain})
        if len(parts) == 3 and parts[2] == "records":
            if method == "GET":
                records = list(store.values())
                if "name" in q:
                    wanted = self._relative(domain["name"], q["name"])
                    records = [r for r in records if r["name"] == wanted]
                if "type" in q:
                    records = [r for r in records if r["type"] == q["type"]]
                return self._page(path, q, "domain_records", records)
            if method == "POST":
                try:
                    record = self._make_record(
                        body.get("name"), body.get("type"), body.get("data"), body.get("ttl")
                    )
                except ValueError as err:
                    return _error(422, "unprocessable_entity", str(err))
                store[record["id"]] = record
                return Response(201, {"domain_record": record})
        if len(parts) == 4 and parts[2] == "records":
            try:
                record = store.get(int(parts[3]))
            except ValueError:
                record = None
            if record is None:
                return _error(404, "not_found", "The resource you were accessing could not be found.")
            if method == "GET":
                return Response(200, {"domain_record": record})
            if method == "DELETE":
                del store[record["id"]]
                return Response(204)
            if method in ("PUT", "PATCH"):
                # DigitalOcean updates only the fields the request names.
                fields = {k: v for k, v in body.items() if v is not None and k in record and k != "id"}
                candidate = {**record, **fields}
                try:
                    checked = self._make_record(
                        candidate["name"], candidate["type"], candidate["data"], candidate["ttl"]
                    )
                except ValueError as err:
                    return _error(422, "unprocessable_entity", str(err))
                checked.update({k: candidate[k] for k in ("priority", "port", "weight", "flags", "tag")})
                checked["id"] = record["id"]
                store[record["id"]] = checked
                return Response(200, {"domain_record": checked})
        return _error(405, "method_not_allowed", "Method not allowed")

    def _droplet_routes(self, parts: list[str], method: str, body: dict[str, Any]) -> Response:
        try:
            droplet = self.droplets.get(int(parts[1]))
        except ValueError:
            droplet = None
        if droplet is None:
            return _error(404, "not_found", "The resource you were accessing could not be found.")
        if len(parts) == 2 and method == "GET":
            return Response(200, {"droplet": droplet})
        if len(parts) == 3 and parts[2] == "actions" and method == "POST":
            if body.get("type") != "rename":
                return _error(
                    422, "unprocessable_entity", f"Action type {body.get('type')!r} is not emulated."
                )
            name = str(body.get("name") or "")
            if not _HOSTNAME.match(name):
                return _error(422, "unprocessable_entity", "Name must contain only a-z, 0-9, '.' and '-'.")
            action_id = next(self._ids)
            action = {
                "id": action_id,
                "status": "in-progress",
                "type": "rename",
                "started_at": _now(),
                "completed_at": None,
                "resource_id": droplet["id"],
                "resource_type": "droplet",
                "region": droplet["region"],
                "region_slug": droplet["region"]["slug"],
            }
            self.actions[action_id] = action
            # The rename lands when the action completes, which the next poll observes.
            action["_pending_name"] = name
            return Response(201, {"action": _public(action)})
        if len(parts) == 4 and parts[2] == "actions" and method == "GET":
            return self._action(parts[3])
        return _error(405, "method_not_allowed", "Method not allowed")

    def _action(self, raw_id: str) -> Response:
        try:
            action = self.actions.get(int(raw_id))
        except ValueError:
            action = None
        if action is None:
            return _error(404, "not_found", "The resource you were accessing could not be found.")
        if action["status"] == "in-progress":
            action["_polls"] = action.get("_polls", 0) + 1
            if action["_polls"] >= self.action_polls:
                pending = action.pop("_pending_name")
                if self.action_outcome == "completed":
                    self.droplets[action["resource_id"]]["name"] = pending
                action["status"] = self.action_outcome
                action["completed_at"] = _now()
        return Response(200, {"action": _public(action)})

    # -- helpers ---------------------------------------------------------------------------------

    @staticmethod
    def _relative(domain: str, fqdn: str) -> str:
        fqdn = fqdn.lower().rstrip(".")
        if fqdn == domain:
            return "@"
        if fqdn.endswith("." + domain):
            return fqdn[: -len(domain) - 1]
        return "\0"  # a name outside the domain matches nothing

    def _make_record(self, name: Any, rtype: Any, data: Any, ttl: Any) -> dict[str, Any]:
        if rtype not in RECORD_TYPES:
            raise ValueError(f"Type {rtype!r} is not a supported record type.")
        if not name or not isinstance(name, str):
            raise ValueError("Name can't be blank.")
        if data is None or data == "":
            raise ValueError("Data can't be blank.")
        if ttl is None:
            ttl = 1800
        if not isinstance(ttl, int) or ttl < 30:
            raise ValueError("TTL must be at least 30 seconds.")
        # DigitalOcean stores the name as given: a fully qualified name sent as `name` becomes
        # "<fqdn>.<domain>", which is why clients must send names relative to the domain.
        return {
            "id": next(self._ids),
            "type": rtype,
            "name": name.rstrip(".").lower() if name != "@" else "@",
            "data": str(data),
            "priority": None,
            "port": None,
            "ttl": ttl,
            "weight": None,
            "flags": None,
            "tag": None,
        }

    def _page(self, path: str, q: dict[str, str], key: str, items: list[dict[str, Any]]) -> Response:
        try:
            page = int(q.get("page", 1))
            per_page = int(q.get("per_page", 20))
        except ValueError:
            return _error(400, "bad_request", "page and per_page must be integers")
        per_page = max(1, min(per_page, 200))  # DigitalOcean caps per_page at 200
        page = max(1, page)
        last = max(1, math.ceil(len(items) / per_page))
        chunk = [_public(i) for i in items[(page - 1) * per_page : page * per_page]]
        origin = self.links_origin or self.origin

        def link(n: int) -> str:
            params = {k: v for k, v in q.items() if k not in ("page", "per_page")}
            params.update({"page": str(n), "per_page": str(per_page)})
            return f"{origin}{path.rstrip('/')}?{urllib.parse.urlencode(params)}"

        pages: dict[str, str] = {}
        if page > 1:
            pages.update(first=link(1), prev=link(page - 1))
        if page < last:
            pages.update(next=link(page + 1), last=link(last))
        return Response(200, {key: chunk, "links": {"pages": pages}, "meta": {"total": len(items)}})


def _public(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if not k.startswith("_")}
