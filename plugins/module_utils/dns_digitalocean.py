# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The DigitalOcean provider: `python-digitalocean` (1.17) behind the DnsProvider interface.

That library has three traps this module closes:
- Child objects it builds itself (the Records of Domain.get_records, the Droplets of
  Manager.get_all_droplets, the Action of a droplet action) do not inherit the Manager's
  end point and would talk to the real API. So every object that sends a request is built here,
  with the end point passed explicitly, and library-built children are only read, never used to
  send. Pages are also requested by number rather than by following the absolute `links.pages.next`
  URL, and every request URL is checked against the configured end point before it is sent.
- It has no retries: 429 and 5xx are retried here, bounded, honouring Retry-After.
- It has no timeout unless an environment variable is set: the timeout is given per object
  (get_timeout is overridden), so os.environ is never touched.

DigitalOcean names records relative to the domain ('@' for the apex, 'mail' for mail.<domain>);
the interface speaks fully qualified names, converted at this boundary. The list filter `name`
takes the fully qualified name.

PTR on DigitalOcean is the droplet's name: set_ptr renames the droplet that holds the address.
"""

from __future__ import annotations

import email.utils
import ipaddress
import os
import time
import urllib.parse
from collections.abc import Callable
from typing import Any, TypeVar

from ansible_collections.lms.mail.plugins.module_utils.dns_provider import (
    ApiProvider,
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

try:
    import digitalocean
    import requests
    from digitalocean.baseapi import BaseAPI

    HAS_DIGITALOCEAN = True
    DIGITALOCEAN_IMPORT_ERROR: str | None = None
except ImportError as exc:  # reported by the module through missing_required_lib
    HAS_DIGITALOCEAN = False
    DIGITALOCEAN_IMPORT_ERROR = str(exc)
    BaseAPI = object  # so that the class statements below still define (unusable) classes

T = TypeVar("T")

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 3
DEFAULT_PAGE_SIZE = 200  # DigitalOcean's maximum per_page
MAX_RETRY_WAIT = 60.0  # never sleep longer than this on one Retry-After
_IDEMPOTENT = frozenset({"GET", "PUT", "DELETE"})


def ptr_panel_instruction(ip: str, fqdn: str | None = None) -> str:
    target = f" to {fqdn}" if fqdn else " to the server's host name"
    return (
        f"No droplet in this DigitalOcean account has the public address {ip}, and DigitalOcean sets "
        "a PTR record only from the name of the droplet that holds the address. Set the PTR "
        f"(reverse DNS) of {ip}{target} in the control panel of the hosting provider that owns "
        "the server's IP address."
    )


class _Transport:
    """Timeout, bounded retries and the end-point check shared by every library object."""

    def __init__(
        self, end_point: str, timeout: float, max_retries: int, sleep: Callable[[float], None]
    ) -> None:
        self.end_point = end_point
        self.timeout = timeout
        self.max_retries = max_retries
        self.sleep = sleep

    def perform(self, api: Any, url: str, method: str, params: Any) -> Any:
        target = urllib.parse.urljoin(api.end_point, url)
        if not target.startswith(self.end_point):
            # A pagination link or a child object pointing elsewhere must never be followed.
            raise DnsError(
                f"refusing to send a request outside the configured DigitalOcean end point: {target}"
            )
        attempt = 0
        while True:
            try:
                response = _LIBRARY_PERFORM(api, url, method, params)
            except requests.Timeout:
                raise DnsError(f"DigitalOcean did not answer within {self.timeout:g} s") from None
            except requests.ConnectionError as err:
                raise DnsError(f"cannot reach the DigitalOcean API at {self.end_point}: {err}") from None
            status = response.status_code
            if status in (401, 403):
                raise AuthenticationFailed(
                    f"DigitalOcean rejected the API token (HTTP {status}: {_message(response)}): check that "
                    "api_token (or DIGITALOCEAN_ACCESS_TOKEN) is a valid token with write scope"
                )
            # A POST that failed with 5xx may still have been applied; repeating it could create a
            # duplicate record, so only 429 (never applied) is retried for POST.
            retryable = status == 429 or (status >= 500 and method in _IDEMPOTENT)
            if retryable and attempt < self.max_retries:
                self.sleep(_retry_delay(response, attempt))
                attempt += 1
                continue
            if status == 429:
                raise RateLimited(
                    f"DigitalOcean answered 429 Too Many Requests, also after {self.max_retries} retries: "
                    "wait for the hourly limit to reset and run again"
                )
            if status >= 500:
                hint = (
                    " (the change may or may not have been applied; run again:"
                    " the module reads before it writes)"
                    if method == "POST"
                    else f" after {attempt} retries"
                )
                raise DnsError(f"DigitalOcean answered HTTP {status}: {_message(response)}{hint}")
            return response


if HAS_DIGITALOCEAN:
    _LIBRARY_PERFORM = BaseAPI._BaseAPI__perform_request  # type: ignore[attr-defined]


class _Bounded(BaseAPI):  # type: ignore[misc, valid-type]
    """Mixed in front of each library class used here. python-digitalocean funnels every request
    through the name-mangled BaseAPI.__perform_request; overriding it under its mangled name is the
    one place where a timeout, retries and the end-point check apply to every object alike."""

    _transport: _Transport

    def get_timeout(self) -> float:
        return self._transport.timeout

    def _BaseAPI__perform_request(self, url: str, type: str = "GET", params: Any = None) -> Any:  # noqa: A002, N802
        return self._transport.perform(self, url, type, params)


if HAS_DIGITALOCEAN:

    class _Api(_Bounded, BaseAPI):
        """Plain listing calls (domains, droplets) through get_data."""

    class _Domain(_Bounded, digitalocean.Domain):
        pass

    class _Record(_Bounded, digitalocean.Record):
        pass

    class _Droplet(_Bounded, digitalocean.Droplet):
        pass

    class _Action(_Bounded, digitalocean.Action):
        pass


class DigitalOceanProvider(ApiProvider):
    """DigitalOcean domain records, one record at a time; PTR through droplet names."""

    name = "digitalocean"

    def __init__(
        self,
        api_token: str,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        page_size: int = DEFAULT_PAGE_SIZE,
        action_poll_interval: float = 2.0,
        action_timeout: float = 120.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not HAS_DIGITALOCEAN:
            raise DnsError(
                "the Python library 'python-digitalocean' is required on the controller: "
                f"{DIGITALOCEAN_IMPORT_ERROR}"
            )
        if not api_token:
            raise AuthenticationFailed(
                "no DigitalOcean API token: set the module's api_token option or DIGITALOCEAN_ACCESS_TOKEN"
            )
        super().__init__()
        end_point = base_url or os.environ.get("DIGITALOCEAN_END_POINT") or BaseAPI.end_point
        # urljoin drops the last path segment of a base without a trailing slash (…/v2 + domains
        # would become /domains), so the end point always ends with one.
        self.end_point = end_point if end_point.endswith("/") else end_point + "/"
        self.page_size = int(page_size)
        self.action_poll_interval = float(action_poll_interval)
        self.action_timeout = float(action_timeout)
        self._token = api_token
        self._transport = _Transport(self.end_point, float(timeout), int(max_retries), sleep)

    # -- DnsProvider -----------------------------------------------------------------------------

    def list_records(self, zone: Zone, name: str, rtype: str) -> list[Record]:
        fqdn = normalise_name(name)
        api = self._new(_Api)
        records: list[Record] = []
        page_no = 1
        while True:
            # An explicit page number keeps the library from following links.pages.next itself.
            params = {"name": fqdn, "type": rtype, "page": page_no, "per_page": self.page_size}
            data = self._call(
                f"listing {rtype} records at {fqdn}",
                lambda p=params: api.get_data(f"domains/{zone.name}/records", params=p),
            )
            items = data.get("domain_records") or []
            records.extend(_to_record(zone, item) for item in items)
            total = (data.get("meta") or {}).get("total")
            has_next = bool(((data.get("links") or {}).get("pages") or {}).get("next"))
            if not items or (len(records) >= total if isinstance(total, int) else not has_next):
                return records
            page_no += 1

    def create_record(self, zone: Zone, record: Record) -> Record:
        fqdn = normalise_name(record.name)
        new = self._new(
            _Record,
            domain_name=zone.name,
            type=record.type,
            name=_relative(zone, fqdn),
            data=record.value,
            ttl=record.ttl,
        )
        self._call(f"creating the {record.type} record at {fqdn}", new.create)
        return Record(name=fqdn, type=record.type, value=record.value, ttl=record.ttl, id=str(new.id))

    def update_record(self, zone: Zone, old: Record, new: Record) -> Record:
        record_id = old.id or self._find_id(zone, old)
        fqdn = normalise_name(new.name)
        changed = self._new(
            _Record,
            domain_name=zone.name,
            id=int(record_id),
            type=new.type,
            name=_relative(zone, fqdn),
            data=new.value,
            ttl=new.ttl,
        )
        data = self._call(f"updating the {new.type} record at {fqdn}", changed.save)
        if isinstance(data, dict) and isinstance(data.get("domain_record"), dict):
            return _to_record(zone, data["domain_record"])
        return Record(name=fqdn, type=new.type, value=new.value, ttl=new.ttl, id=str(record_id))

    def delete_record(self, zone: Zone, record: Record) -> None:
        record_id = record.id or self._find_id(zone, record)
        gone = self._new(_Record, domain_name=zone.name, id=int(record_id))
        try:
            self._call(f"deleting the {record.type} record at {normalise_name(record.name)}", gone.destroy)
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
        handle = self._new(_Droplet, id=droplet["id"])
        answer = self._call(what, lambda: handle.rename(target))
        action = (answer or {}).get("action") or {}
        self._wait_for_action(what, droplet["id"], action)
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

    def _new(self, cls: type[Any], **fields: Any) -> Any:
        """A library object that sends its requests to the configured end point, never elsewhere."""
        return cls(token=self._token, end_point=self.end_point, _transport=self._transport, **fields)

    def _lookup_zone(self, apex: str) -> Zone | None:
        domain = self._new(_Domain, name=apex)
        try:
            self._call(f"looking up the domain {apex}", domain.load)
        except _NotFound:
            return None
        return Zone(name=apex, id=apex)

    def _zone_not_found(self, name: str) -> str:
        return f"no DigitalOcean domain holds {name}: add the domain under Networking > Domains"

    def _droplet_holding(self, ip: str) -> dict[str, Any] | None:
        wanted = _parse_ip(ip)
        if wanted is None:
            raise DnsError(f"{ip!r} is not an IPv4 or IPv6 address")
        api = self._new(_Api)
        page_no = 1
        seen = 0
        while True:
            params = {"page": page_no, "per_page": self.page_size}
            data = self._call("listing droplets", lambda p=params: api.get_data("droplets/", params=p))
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
        poll = self._new(_Action, id=action["id"], droplet_id=droplet_id, status=action.get("status"))
        deadline = time.monotonic() + self.action_timeout
        # A rename usually completes within a second or two: poll soon, then less often.
        wait = min(0.5, self.action_poll_interval)
        while poll.status == "in-progress" and time.monotonic() < deadline:
            self._transport.sleep(wait)
            self._call(what, poll.load)
            wait = min(wait * 2, self.action_poll_interval)
        if poll.status != "completed":
            raise DnsError(
                f"DigitalOcean action {poll.id} ({what}) ended as {poll.status!r}, not 'completed'"
            )

    def _call(self, what: str, request: Callable[[], T]) -> T:
        """Run one library call; give its errors the operation's context and a DnsError type."""
        try:
            return request()
        except DnsError as err:
            raise type(err)(f"{err} (while {what})") from None
        except digitalocean.NotFoundError:
            raise _NotFound(f"DigitalOcean found nothing while {what}") from None
        except digitalocean.DataReadError as err:
            raise DnsError(f"DigitalOcean refused the request while {what}: {err}") from None
        except digitalocean.Error as err:
            raise DnsError(f"DigitalOcean API error while {what}: {err}") from None


class _NotFound(DnsError):
    """DigitalOcean answered 404."""


def _retry_delay(response: Any, attempt: int) -> float:
    """Seconds to wait before retry number attempt+1: Retry-After if given, else exponential."""
    header = response.headers.get("Retry-After")
    if header is not None:
        try:
            return min(max(float(header), 0.0), MAX_RETRY_WAIT)
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(header) if header else None
            if parsed is not None:
                return min(max(parsed.timestamp() - time.time(), 0.0), MAX_RETRY_WAIT)
    return min(0.5 * (2**attempt), MAX_RETRY_WAIT)


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
