"""The DigitalOcean provider: DigitalOcean's v2 JSON API over a requests Session, behind the
DnsProvider interface.

Why not the python-digitalocean library (used up to 0.1.0): its only hook that reaches every
request is the name-mangled private BaseAPI.__perform_request; it sends POST and PATCH through the
module-level requests.post/patch, outside any session an adapter could be mounted on; the child
objects it builds (Domain.get_records' records, an action) lose the configured end point; it
follows absolute pagination links; and it has neither retries nor a timeout unless an environment
variable is set. An upstream refactor of that private method would have silently dropped the
end-point check, the timeout and the retries. The few calls lms.mail needs (a domain, its records,
the droplets, a rename action) are plain JSON, so they are made here, through public requests
API (dns_http.JsonApi: only the configured end point, a timeout on every request, no redirects,
bounded retries honouring Retry-After). 429 is retried for any method; 5xx and timeouts for GET,
PUT and DELETE, never for POST, which may have been applied: DigitalOcean would then hold the
record twice.

DigitalOcean names records relative to the domain ('@' for the apex, 'mail' for mail.<domain>);
the interface speaks fully qualified names, converted at this boundary. The list filter `name`
takes the fully qualified name.

PTR on DigitalOcean is the droplet's name: set_ptr renames the droplet that holds the address.
"""

from __future__ import annotations

import ipaddress
import os
import time
import urllib.parse
from typing import Any

from ansible_collections.lms.mail.plugins.module_utils.dns_api import ApiProvider
from ansible_collections.lms.mail.plugins.module_utils.dns_http import EndPointEscape
from ansible_collections.lms.mail.plugins.module_utils.dns_provider import (
    AuthenticationFailed,
    DnsError,
    PtrUnsupported,
    RateLimited,
    Record,
    Zone,
    normalise_name,
    reverse_name,
)
from ansible_collections.lms.mail.plugins.module_utils.txt import unquote_txt

PUBLIC_END_POINT = "https://api.digitalocean.com/v2/"
DEFAULT_PAGE_SIZE = 200  # DigitalOcean's maximum per_page
__all__ = ["DigitalOceanProvider", "EndPointEscape", "ptr_panel_instruction"]


def ptr_panel_instruction(ip: str, fqdn: str | None = None) -> str:
    target = f" to {fqdn}" if fqdn else " to the server's host name"
    return (
        f"No droplet in this DigitalOcean account has the public address {ip}, and DigitalOcean sets "
        "a PTR record only from the name of the droplet that holds the address. Set the PTR "
        f"(reverse DNS) of {ip}{target} in the control panel of the hosting provider that owns "
        "the server's IP address."
    )


class DigitalOceanProvider(ApiProvider):
    """DigitalOcean domain records, one record at a time; PTR through droplet names."""

    name = "digitalocean"

    title = "DigitalOcean"
    fallback_variable = "DIGITALOCEAN_ACCESS_TOKEN"
    public_end_point = PUBLIC_END_POINT
    default_page_size = DEFAULT_PAGE_SIZE
    # never POST: a create applied after all would hold the record twice
    repeatable = ("GET", "PUT", "DELETE")

    def __init__(
        self,
        api_token: str,
        base_url: str | None = None,
        *,
        action_poll_interval: float = 2.0,
        action_timeout: float = 120.0,
        **settings: Any,
    ) -> None:
        """settings: ApiProvider's (timeout, max_retries, page_size, retry_budget, sleep)."""
        end_point = base_url or os.environ.get("DIGITALOCEAN_END_POINT") or None
        super().__init__(api_token, end_point, **settings)
        self.end_point = self._api.end_point
        self.action_poll_interval = float(action_poll_interval)
        self.action_timeout = float(action_timeout)
        self.sleep = self._api.sleep
        self._session = self._api.session

    # -- DnsProvider -----------------------------------------------------------------------------

    def list_records(self, zone: Zone, name: str, rtype: str) -> list[Record]:
        fqdn = normalise_name(name)
        records: list[Record] = []
        page_no = 1
        while True:
            # An explicit page number: links.pages.next (an absolute URL) is never followed.
            params = {"name": fqdn, "type": rtype, "page": page_no, "per_page": self.page_size}
            data = self._request(f"listing {rtype} records at {fqdn}", "GET", _records_path(zone), params)
            items = data.get("domain_records") or []
            records.extend(_to_record(zone, item) for item in items)
            total = (data.get("meta") or {}).get("total")
            has_next = bool(((data.get("links") or {}).get("pages") or {}).get("next"))
            if not items or (len(records) >= total if isinstance(total, int) else not has_next):
                return records
            page_no += 1

    def create_record(self, zone: Zone, record: Record) -> Record:
        fqdn = normalise_name(record.name)
        data = self._request(
            f"creating the {record.type} record at {fqdn}",
            "POST",
            _records_path(zone),
            body=_body(zone, record),
        )
        created = data.get("domain_record") if isinstance(data, dict) else None
        record_id = str(created.get("id", "")) if isinstance(created, dict) else ""
        return Record(name=fqdn, type=record.type, value=record.value, ttl=record.ttl, id=record_id)

    def update_record(self, zone: Zone, old: Record, new: Record) -> Record:
        record_id = old.id or self._find_id(zone, old)
        fqdn = normalise_name(new.name)
        path = _records_path(zone, record_id)
        data = self._request(f"updating the {new.type} record at {fqdn}", "PUT", path, body=_body(zone, new))
        if isinstance(data, dict) and isinstance(data.get("domain_record"), dict):
            return _to_record(zone, data["domain_record"])
        return Record(name=fqdn, type=new.type, value=new.value, ttl=new.ttl, id=str(record_id))

    def delete_record(self, zone: Zone, record: Record) -> None:
        record_id = record.id or self._find_id(zone, record)
        try:
            what = f"deleting the {record.type} record at {normalise_name(record.name)}"
            self._request(what, "DELETE", _records_path(zone, record_id))
        except _NotFound:
            # Already gone (a retried DELETE, or removed meanwhile): the wanted state holds.
            return

    # -- PTR: the droplet's name -----------------------------------------------------------------

    def get_ptr(self, ip: str) -> list[Record]:
        """The PTR DigitalOcean publishes for ip: the name of the droplet holding it."""
        droplet = self._droplet_holding(ip)
        if droplet is None:
            raise PtrUnsupported(ptr_panel_instruction(ip))
        return [
            Record(
                name=reverse_name(ip),
                type="PTR",
                value=normalise_name(droplet["name"]),
                id=str(droplet["id"]),
            )
        ]

    def set_ptr(self, ip: str, fqdn: str, ttl: int | None = None, dry_run: bool = False) -> bool:
        """Rename the droplet holding ip to fqdn (DigitalOcean then serves PTR ip -> fqdn).
        True when it was renamed (dry_run: would be, and is not); ttl is not settable on
        DigitalOcean and is ignored."""
        target = normalise_name(fqdn)
        droplet = self._droplet_holding(ip)
        if droplet is None:
            raise PtrUnsupported(ptr_panel_instruction(ip, target))
        if normalise_name(droplet["name"]) == target:
            return False
        if dry_run:
            return True
        what = f"renaming droplet {droplet['id']} to {target}"
        answer = self._request(
            what, "POST", f"droplets/{int(droplet['id'])}/actions", body={"type": "rename", "name": target}
        )
        action = (answer or {}).get("action") or {}
        self._wait_for_action(what, int(droplet["id"]), action)
        return True

    def delete_ptr(self, ip: str, fqdn: str | None = None, dry_run: bool = False) -> bool:
        """A droplet always has a name, so DigitalOcean always publishes a PTR for its address:
        nothing to do when the PTR names another host than fqdn, a failure otherwise."""
        droplet = self._droplet_holding(ip)
        if droplet is None:
            raise PtrUnsupported(ptr_panel_instruction(ip))
        name = normalise_name(droplet["name"])
        if fqdn and name != normalise_name(fqdn):
            return False
        raise PtrUnsupported(
            f"DigitalOcean publishes the name of droplet {droplet['id']} ({name}) as the PTR of {ip} "
            "and cannot remove it: rename the droplet instead (ptr_record with state: present and "
            "the new host name)"
        )

    # -- internals -------------------------------------------------------------------------------

    def _list_zones(self) -> list[Zone] | None:
        params = {"page": 1, "per_page": self.page_size}
        data = self._request("listing the account's domains", "GET", "domains", params) or {}
        domains = [d for d in data.get("domains") or [] if isinstance(d, dict)]
        total = (data.get("meta") or {}).get("total")
        has_next = bool(((data.get("links") or {}).get("pages") or {}).get("next"))
        if (len(domains) < total) if isinstance(total, int) else has_next:
            return None  # more than a page of domains: ask for each candidate apex instead
        names = (normalise_name(str(d.get("name") or "")) for d in domains)
        return [Zone(name=name, id=name) for name in names if name]

    def _lookup_zone(self, apex: str) -> Zone | None:
        try:
            self._request(f"looking up the domain {apex}", "GET", f"domains/{_segment(apex)}")
        except _NotFound:
            return None
        return Zone(name=apex, id=apex)

    def _zone_not_found(self, name: str) -> str:
        return f"no DigitalOcean domain holds {name}: add the domain under Networking > Domains"

    def _droplet_holding(self, ip: str) -> dict[str, Any] | None:
        wanted = _parse_ip(ip)
        if wanted is None:
            raise DnsError(f"{ip!r} is not an IPv4 or IPv6 address")
        page_no = 1
        seen = 0
        while True:
            params = {"page": page_no, "per_page": self.page_size}
            data = self._request("listing droplets", "GET", "droplets", params)
            droplets = data.get("droplets") or []
            for droplet in droplets:
                networks = droplet.get("networks") or {}
                for net in (networks.get("v4") or []) + (networks.get("v6") or []):
                    if net.get("type") == "public" and _parse_ip(net.get("ip_address", "")) == wanted:
                        return droplet
            seen += len(droplets)
            total = (data.get("meta") or {}).get("total")
            if not droplets or (isinstance(total, int) and seen >= total):
                return None
            if not isinstance(total, int) and not ((data.get("links") or {}).get("pages") or {}).get("next"):
                return None
            page_no += 1

    def _wait_for_action(self, what: str, droplet_id: int, action: dict[str, Any]) -> None:
        if not action.get("id"):
            raise DnsError(f"DigitalOcean gave no action while {what}")
        action_id = int(action["id"])
        status = action.get("status")
        deadline = time.monotonic() + self.action_timeout
        # A rename usually completes within a second or two: poll soon, then less often.
        wait = min(0.5, self.action_poll_interval)
        while status == "in-progress" and time.monotonic() < deadline:
            self.sleep(wait)
            data = self._request(what, "GET", f"droplets/{droplet_id}/actions/{action_id}")
            status = ((data or {}).get("action") or {}).get("status")
            wait = min(wait * 2, self.action_poll_interval)
        if status != "completed":
            raise DnsError(f"DigitalOcean action {action_id} ({what}) ended as {status!r}, not 'completed'")

    def _request(
        self, what: str, method: str, path: str, params: dict[str, Any] | None = None, body: Any = None
    ) -> Any:
        """One API call under the end point, with bounded retries; its JSON body (None for 204).
        Errors become DnsError subclasses that name the operation."""
        response, attempts = self._api.send(what, method, path, params, body)
        status = response.status_code
        if status in (401, 403):
            raise AuthenticationFailed(
                f"DigitalOcean rejected the API token (HTTP {status}: {_message(response)}) "
                f"while {what}: check that api_token (or DIGITALOCEAN_ACCESS_TOKEN) is a valid "
                "token with write scope"
            )
        if status == 429:
            raise RateLimited(
                f"DigitalOcean answered 429 Too Many Requests while {what}, {self._api.spent(attempts)}: "
                "wait for the hourly limit to reset and run again"
            )
        if status >= 500:
            # A POST that failed with 5xx may still have been applied; repeating it could create a
            # duplicate record, so it is not retried.
            hint = (
                " (the change may or may not have been applied; run again: the module reads before it writes)"
                if method == "POST"
                else f", {self._api.spent(attempts)}"
            )
            raise DnsError(f"DigitalOcean answered HTTP {status} while {what}: {_message(response)}{hint}")
        if status == 404:
            raise _NotFound(f"DigitalOcean found nothing while {what}")
        if 300 <= status < 400:
            raise DnsError(
                f"DigitalOcean answered a redirect (HTTP {status}) while {what}: redirects are not "
                "followed, so that the token stays with the configured end point"
            )
        if status >= 400:
            raise DnsError(f"DigitalOcean refused the request while {what}: {_message(response)}")
        if status == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise DnsError(f"DigitalOcean answered something other than JSON while {what}") from None


class _NotFound(DnsError):
    """DigitalOcean answered 404."""


def _message(response: Any) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason or ""
    if isinstance(body, dict):
        return str(body.get("message") or body.get("id") or "")
    return ""


def _to_record(zone: Zone, item: dict[str, Any]) -> Record:
    rtype = str(item.get("type", ""))
    data = str(item.get("data") or "")
    value = unquote_txt(data) if rtype == "TXT" else data.rstrip(".")
    ttl = int(item.get("ttl") or 1800)
    return Record(
        name=_absolute(zone, str(item.get("name", "@"))), type=rtype, value=value, ttl=ttl, id=str(item["id"])
    )


def _records_path(zone: Zone, record_id: str | None = None) -> str:
    path = f"domains/{_segment(zone.name)}/records"
    return path if record_id is None else f"{path}/{int(record_id)}"


def _body(zone: Zone, record: Record) -> dict[str, Any]:
    """A record as DigitalOcean takes it: the name relative to the domain."""
    fqdn = normalise_name(record.name)
    return {"type": record.type, "name": _relative(zone, fqdn), "data": record.value, "ttl": record.ttl}


def _segment(name: str) -> str:
    """A domain name as one URL path segment: never a '/', '?', '#' or '..' that would move the
    request elsewhere under (or outside) the end point."""
    return urllib.parse.quote(name, safe="")


def _relative(zone: Zone, fqdn: str) -> str:
    if fqdn == zone.name:
        return "@"
    if not fqdn.endswith("." + zone.name):
        raise DnsError(f"{fqdn} is not inside the DigitalOcean domain {zone.name}")
    return fqdn[: -len(zone.name) - 1]


def _absolute(zone: Zone, relative: str) -> str:
    relative = relative.rstrip(".").lower()
    return zone.name if relative in ("@", "") else f"{relative}.{zone.name}"


def _parse_ip(ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(ip)
    except ValueError:
        return None
