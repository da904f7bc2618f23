# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Cloudflare provider: the official `cloudflare` SDK (4.x/5.x) behind the DnsProvider interface.

Why it is written the way it is:
- The SDK's own retry loop (429/5xx/timeouts, honouring Retry-After) is used, but bounded by
  `max_retries` so that a module never hangs on a throttled account.
- Record lists are paged by hand: the SDK's auto-paginator stops only on an empty page, which
  costs one extra request per listing; result_info tells exactly when the last page was read.
- TXT content goes out as quoted 255-byte character-strings (`"a" "b"`) and is compared by its
  joined value, so Cloudflare's own splitting or quoting never shows up as a change.
- Records are edited with PATCH, which keeps what lms.mail does not own (the customer's comment,
  tags and proxy setting on that record).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from ansible_collections.lms.mail.plugins.module_utils.dns_provider import (
    ApiProvider,
    AuthenticationFailed,
    DnsError,
    RateLimited,
    Record,
    Zone,
    normalise_name,
    reverse_name,
)
from ansible_collections.lms.mail.plugins.module_utils.requirements import require
from ansible_collections.lms.mail.plugins.module_utils.txt import quote_txt, unquote_txt

try:
    import cloudflare

    HAS_CLOUDFLARE = True
    CLOUDFLARE_IMPORT_ERROR: str | None = None
except ImportError as exc:  # reported by the module through missing_required_lib
    HAS_CLOUDFLARE = False
    CLOUDFLARE_IMPORT_ERROR = str(exc)

T = TypeVar("T")

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 3
DEFAULT_PAGE_SIZE = 100
IDENTICAL_RECORD = 81058  # Cloudflare's error code for "An identical record already exists."


class CloudflareProvider(ApiProvider):
    """DNS records in Cloudflare zones, one record at a time."""

    name = "cloudflare"

    def __init__(
        self,
        api_token: str,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> None:
        # not importable, or the 2.x SDK (module CloudFlare), or a version outside the tested range
        require("cloudflare")
        if not api_token:
            raise AuthenticationFailed(
                "no Cloudflare API token: set the module's api_token option or CLOUDFLARE_API_TOKEN"
            )
        super().__init__()
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        self.page_size = int(page_size)
        self._client = cloudflare.Cloudflare(
            api_token=api_token,
            base_url=base_url,
            timeout=self.timeout,
            max_retries=self.max_retries,
        )

    # -- DnsProvider -----------------------------------------------------------------------------

    def list_records(self, zone: Zone, name: str, rtype: str) -> list[Record]:
        fqdn = normalise_name(name)
        records: list[Record] = []
        page_no = 1
        while True:
            page = self._call(
                f"listing {rtype} records at {fqdn}",
                lambda p=page_no: self._client.dns.records.list(
                    zone_id=zone.id,
                    type=rtype,  # type: ignore[arg-type]  # the SDK types it as a Literal
                    name={"exact": fqdn},
                    page=p,
                    per_page=self.page_size,
                ),
            )
            items = list(page.result or [])
            records.extend(self._to_record(item) for item in items)
            if self._last_page(page, page_no, len(items)):
                return records
            page_no += 1

    def create_record(self, zone: Zone, record: Record) -> Record:
        fqdn = normalise_name(record.name)
        try:
            created = self._call(
                f"creating the {record.type} record at {fqdn}",
                lambda: self._client.dns.records.create(
                    zone_id=zone.id,
                    name=fqdn,
                    type=record.type,  # type: ignore[arg-type]
                    content=_to_content(record),
                    ttl=record.ttl,
                ),
            )
        except _AlreadyThere:
            # The SDK retries a POST after a 5xx; when the first attempt was applied after all,
            # Cloudflare refuses the repeat as identical. The record is there: that is success.
            for existing in self.list_records(zone, fqdn, record.type):
                if existing.value == record.value:
                    return existing
            raise
        return self._to_record(created)

    def update_record(self, zone: Zone, old: Record, new: Record) -> Record:
        record_id = old.id or self._find_id(zone, old)
        fqdn = normalise_name(new.name)
        updated = self._call(
            f"updating the {new.type} record at {fqdn}",
            lambda: self._client.dns.records.edit(
                record_id,
                zone_id=zone.id,
                name=fqdn,
                type=new.type,  # type: ignore[arg-type]
                content=_to_content(new),
                ttl=new.ttl,
            ),
        )
        return self._to_record(updated)

    def delete_record(self, zone: Zone, record: Record) -> None:
        record_id = record.id or self._find_id(zone, record)
        try:
            self._call(
                f"deleting the {record.type} record at {normalise_name(record.name)}",
                lambda: self._client.dns.records.delete(record_id, zone_id=zone.id),
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

    def _lookup_zone(self, apex: str) -> Zone | None:
        page = self._call(f"looking up the zone {apex}", lambda: self._client.zones.list(name=apex))
        found = [z for z in (page.result or []) if (z.name or "").lower() == apex]
        return Zone(name=apex, id=found[0].id) if found else None

    def _zone_not_found(self, name: str) -> str:
        return (
            f"no Cloudflare zone holds {name}: add the domain to the Cloudflare account, or give the "
            "API token access to that zone"
        )

    def _last_page(self, page: Any, page_no: int, count: int) -> bool:
        info = getattr(page, "result_info", None)
        total_pages = getattr(info, "total_pages", None)
        if isinstance(total_pages, int) and total_pages > 0:
            return page_no >= total_pages
        # Without total_pages, a short page is the last one (the server may cap per_page).
        per_page = getattr(info, "per_page", None) or self.page_size
        return count == 0 or count < per_page

    @staticmethod
    def _to_record(item: Any) -> Record:
        rtype = str(item.type)
        content = item.content or ""
        value = unquote_txt(content) if rtype == "TXT" else content.rstrip(".")
        ttl = int(item.ttl) if item.ttl else 1
        return Record(name=normalise_name(item.name), type=rtype, value=value, ttl=ttl, id=str(item.id))

    def _call(self, what: str, request: Callable[[], T]) -> T:
        """Run one SDK call and turn its exceptions into DnsError subclasses a user can act on."""
        try:
            return request()
        except cloudflare.AuthenticationError:
            raise AuthenticationFailed(
                f"Cloudflare rejected the API token (HTTP 401) while {what}: check that api_token "
                "(or CLOUDFLARE_API_TOKEN) is a valid, unexpired Cloudflare API token"
            ) from None
        except cloudflare.PermissionDeniedError:
            raise AuthenticationFailed(
                f"Cloudflare refused the request (HTTP 403) while {what}: the API token needs the "
                "permissions Zone:Read and DNS:Edit for this zone"
            ) from None
        except cloudflare.RateLimitError:
            raise RateLimited(
                f"Cloudflare answered 429 Too Many Requests while {what}, also after "
                f"{self.max_retries} retries: wait a few minutes and run again"
            ) from None
        except cloudflare.NotFoundError as err:
            raise _RecordGone(f"Cloudflare found nothing while {what}: {_api_messages(err)}") from None
        except cloudflare.BadRequestError as err:
            if IDENTICAL_RECORD in _api_codes(err):
                raise _AlreadyThere(f"Cloudflare already holds that record ({what})") from None
            raise DnsError(f"Cloudflare refused the request while {what}: {_api_messages(err)}") from None
        except cloudflare.APIStatusError as err:
            raise DnsError(
                f"Cloudflare API error while {what}: HTTP {err.status_code}: {_api_messages(err)}"
            ) from None
        except cloudflare.APITimeoutError:
            raise DnsError(
                f"Cloudflare did not answer within {self.timeout:g} s while {what} "
                f"(tried {self.max_retries + 1} times)"
            ) from None
        except cloudflare.APIConnectionError as err:
            raise DnsError(f"cannot reach the Cloudflare API while {what}: {err}") from None


class _RecordGone(DnsError):
    """Cloudflare answered 404 (a record or zone id that no longer exists)."""


class _AlreadyThere(DnsError):
    """Cloudflare refused a create because an identical record exists."""


def _api_codes(err: Any) -> set[int]:
    body = getattr(err, "body", None)
    errors = body.get("errors") if isinstance(body, dict) else None
    return {e.get("code") for e in errors or [] if isinstance(e, dict)}


def _api_messages(err: Any) -> str:
    body = getattr(err, "body", None)
    errors = body.get("errors") if isinstance(body, dict) else None
    if errors:
        return "; ".join(
            f"{e.get('message', '')} (code {e.get('code', '?')})" for e in errors if isinstance(e, dict)
        )
    return str(getattr(err, "message", err))


def _to_content(record: Record) -> str:
    if record.type == "TXT":
        return quote_txt(record.value)
    return record.value
