# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Cloudflare provider: Cloudflare's v4 JSON API over a requests Session, behind the
DnsProvider interface.

Why it is written the way it is:
- Not the `cloudflare` SDK (used up to 0.1.0): importing it and building its pydantic models
  cost about 0.6 s of every task, twice the time of the task's own requests (issue 13,
  bench/README.md). lms.mail needs five calls (zones, and a record's list, create, edit and
  delete), plain JSON in Cloudflare's v4 envelope; dns_http.JsonApi makes them: only the
  configured end point, a timeout on every request, no redirects, bounded retries of 429, 5xx
  and timeouts honouring Retry-After (as the SDK did).
- A POST is retried too: when the first attempt was applied after all, Cloudflare refuses the
  repeat as an identical record (code 81058), and that is read as success.
- Record lists are paged by hand, stopping at result_info.total_pages (no extra request for an
  empty page).
- TXT content goes out as quoted 255-byte character-strings (`"a" "b"`) and is compared by its
  joined value, so Cloudflare's own splitting or quoting never shows up as a change.
- Records are edited with PATCH, which keeps what lms.mail does not own (the customer's comment,
  tags and proxy setting on that record).
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from ansible_collections.lms.mail.plugins.module_utils.dns_api import ApiProvider
from ansible_collections.lms.mail.plugins.module_utils.dns_provider import (
    AuthenticationFailed,
    DnsError,
    RateLimited,
    Record,
    Zone,
    normalise_name,
    reverse_name,
)
from ansible_collections.lms.mail.plugins.module_utils.txt import quote_txt, unquote_txt

PUBLIC_END_POINT = "https://api.cloudflare.com/client/v4/"
DEFAULT_PAGE_SIZE = 100
ZONE_PAGE_SIZE = 50  # Cloudflare's maximum per_page for zones
IDENTICAL_RECORD = 81058  # Cloudflare's error code for "An identical record already exists."


class CloudflareProvider(ApiProvider):
    """DNS records in Cloudflare zones, one record at a time."""

    name = "cloudflare"

    title = "Cloudflare"
    fallback_variable = "CLOUDFLARE_API_TOKEN"
    public_end_point = PUBLIC_END_POINT
    default_page_size = DEFAULT_PAGE_SIZE
    repeatable = ("GET", "POST", "PATCH", "DELETE")

    # -- DnsProvider -----------------------------------------------------------------------------

    def list_records(self, zone: Zone, name: str, rtype: str) -> list[Record]:
        fqdn = normalise_name(name)
        records: list[Record] = []
        page_no = 1
        while True:
            params = {"type": rtype, "name.exact": fqdn, "page": page_no, "per_page": self.page_size}
            body = self._request(f"listing {rtype} records at {fqdn}", "GET", _records_path(zone), params)
            items = _result_list(body)
            records.extend(_to_record(item) for item in items)
            if _last_page(body, page_no, len(items), self.page_size):
                return records
            page_no += 1

    def create_record(self, zone: Zone, record: Record) -> Record:
        fqdn = normalise_name(record.name)
        try:
            body = self._request(
                f"creating the {record.type} record at {fqdn}",
                "POST",
                _records_path(zone),
                body={"name": fqdn, "type": record.type, "content": _to_content(record), "ttl": record.ttl},
            )
        except _AlreadyThere:
            # A POST is retried after a 5xx or a timeout; when the first attempt was applied after
            # all, Cloudflare refuses the repeat as identical. The record is there: that is success.
            for existing in self.list_records(zone, fqdn, record.type):
                if existing.value == record.value:
                    return existing
            raise
        return _to_record(_result(body))

    def update_record(self, zone: Zone, old: Record, new: Record) -> Record:
        record_id = old.id or self._find_id(zone, old)
        fqdn = normalise_name(new.name)
        body = self._request(
            f"updating the {new.type} record at {fqdn}",
            "PATCH",
            _records_path(zone, record_id),
            body={"name": fqdn, "type": new.type, "content": _to_content(new), "ttl": new.ttl},
        )
        return _to_record(_result(body))

    def delete_record(self, zone: Zone, record: Record) -> None:
        record_id = record.id or self._find_id(zone, record)
        try:
            self._request(
                f"deleting the {record.type} record at {normalise_name(record.name)}",
                "DELETE",
                _records_path(zone, record_id),
            )
        except _RecordGone:
            # Already gone (a retried DELETE, or removed meanwhile): the wanted state holds.
            return

    # -- PTR -------------------------------------------------------------------------------------
    # get_ptr/set_ptr come from DnsProvider and work in a reverse zone of this account; only the
    # message for an account without one is Cloudflare's own.

    def ptr_panel_instruction(self, ip: str) -> str:
        return (
            f"Cloudflare can only hold the PTR record of {ip} if its reverse zone "
            f"({reverse_name(ip)} or a parent) is delegated to this Cloudflare account, and it is not. "
            f"Set the PTR (reverse DNS) of {ip} in the control panel of the hosting provider that owns "
            "the server's IP address, to the server's host name."
        )

    # -- internals -------------------------------------------------------------------------------

    def _list_zones(self) -> list[Zone] | None:
        params = {"page": 1, "per_page": ZONE_PAGE_SIZE}
        body = self._request("listing the account's zones", "GET", "zones", params)
        items = _result_list(body)
        if not _last_page(body, 1, len(items), ZONE_PAGE_SIZE):
            return None  # more than a page of zones: ask for each candidate apex instead
        return [Zone(name=normalise_name(str(z.get("name") or "")), id=str(z.get("id"))) for z in items]

    def _lookup_zone(self, apex: str) -> Zone | None:
        body = self._request(f"looking up the zone {apex}", "GET", "zones", {"name": apex})
        found = [z for z in _result_list(body) if str(z.get("name") or "").lower() == apex]
        return Zone(name=apex, id=str(found[0]["id"])) if found else None

    def _zone_not_found(self, name: str) -> str:
        return (
            f"no Cloudflare zone holds {name}: add the domain to the Cloudflare account, or give the "
            "API token access to that zone"
        )

    def _request(
        self, what: str, method: str, path: str, params: dict[str, Any] | None = None, body: Any = None
    ) -> dict[str, Any]:
        """One API call with bounded retries; the v4 envelope of a successful answer. Errors
        become DnsError subclasses that name the operation and the status."""
        response, attempts = self._api.send(what, method, path, params, body)
        status = response.status_code
        answer = _json(response)
        if status == 401:
            raise AuthenticationFailed(
                f"Cloudflare rejected the API token (HTTP 401) while {what}: check that api_token "
                "(or CLOUDFLARE_API_TOKEN) is a valid, unexpired Cloudflare API token"
            )
        if status == 403:
            raise AuthenticationFailed(
                f"Cloudflare refused the request (HTTP 403) while {what}: the API token needs the "
                "permissions Zone:Read and DNS:Edit for this zone"
            )
        if status == 429:
            raise RateLimited(
                f"Cloudflare answered 429 Too Many Requests while {what}, {self._api.spent(attempts)}: "
                "wait a few minutes and run again"
            )
        if status == 404:
            raise _RecordGone(f"Cloudflare found nothing while {what}: {_api_messages(answer)}")
        if status == 400 and IDENTICAL_RECORD in _api_codes(answer):
            raise _AlreadyThere(f"Cloudflare already holds that record ({what})")
        if 300 <= status < 400:
            raise DnsError(
                f"Cloudflare answered a redirect (HTTP {status}) while {what}: redirects are not "
                "followed, so that the token stays with the configured end point"
            )
        if 400 <= status < 500:
            raise DnsError(f"Cloudflare refused the request while {what}: {_api_messages(answer)}")
        if status >= 500:
            raise DnsError(
                f"Cloudflare API error while {what}: HTTP {status}, {self._api.spent(attempts)}: "
                f"{_api_messages(answer)}"
            )
        if answer is None or answer.get("success") is False:
            raise DnsError(
                f"Cloudflare answered HTTP {status} without a successful v4 envelope while {what}: "
                f"{_api_messages(answer)}"
            )
        return answer


class _RecordGone(DnsError):
    """Cloudflare answered 404 (a record or zone id that no longer exists)."""


class _AlreadyThere(DnsError):
    """Cloudflare refused a create because an identical record exists."""


def _json(response: Any) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _result(body: dict[str, Any]) -> dict[str, Any]:
    result = body.get("result")
    if not isinstance(result, dict):
        raise DnsError("Cloudflare answered without the record in its result")
    return result


def _result_list(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for item in body.get("result") or [] if isinstance(item, dict)]


def _last_page(body: dict[str, Any], page_no: int, count: int, page_size: int) -> bool:
    info = body.get("result_info") or {}
    total_pages = info.get("total_pages")
    if isinstance(total_pages, int) and total_pages > 0:
        return page_no >= total_pages
    # Without total_pages, a short page is the last one (the server may cap per_page).
    per_page = info.get("per_page") or page_size
    return count == 0 or count < per_page


def _records_path(zone: Zone, record_id: str | None = None) -> str:
    # zone and record ids are Cloudflare's hex identifiers; quoted so that neither can move the
    # request elsewhere under the end point
    path = f"zones/{_segment(zone.id)}/dns_records"
    return path if record_id is None else f"{path}/{_segment(record_id)}"


def _segment(text: str) -> str:
    return urllib.parse.quote(str(text), safe="")


def _to_record(item: dict[str, Any]) -> Record:
    rtype = str(item.get("type") or "")
    content = str(item.get("content") or "")
    value = unquote_txt(content) if rtype == "TXT" else content.rstrip(".")
    ttl = int(item.get("ttl") or 1)
    return Record(
        name=normalise_name(str(item.get("name") or "")), type=rtype, value=value, ttl=ttl, id=str(item["id"])
    )


def _api_codes(body: dict[str, Any] | None) -> set[int]:
    errors = body.get("errors") if isinstance(body, dict) else None
    return {e.get("code") for e in errors or [] if isinstance(e, dict)}


def _api_messages(body: dict[str, Any] | None) -> str:
    errors = body.get("errors") if isinstance(body, dict) else None
    if errors:
        return "; ".join(
            f"{e.get('message', '')} (code {e.get('code', '?')})" for e in errors if isinstance(e, dict)
        )
    return "no error details in the answer"


def _to_content(record: Record) -> str:
    if record.type == "TXT":
        return quote_txt(record.value)
    return record.value
