# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The base of the providers that speak an HTTP JSON API (Cloudflare, DigitalOcean): the token
checked, the end point, the timeout and the retry bounds (dns_http.JsonApi), and the zones found
from one listing of the account's. Apart from dns_provider.py, which dns_http imports."""

from __future__ import annotations

import abc
import time
from collections.abc import Callable, Mapping
from typing import Any

from ansible_collections.lms.mail.plugins.module_utils.dns_http import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_RETRY_BUDGET,
    DEFAULT_TIMEOUT,
    JsonApi,
)
from ansible_collections.lms.mail.plugins.module_utils.dns_provider import (
    AuthenticationFailed,
    DnsError,
    DnsProvider,
    Record,
    Zone,
    ZoneNotFound,
    normalise_name,
)
from ansible_collections.lms.mail.plugins.module_utils.requirements import require


class ApiProvider(DnsProvider):
    """What the HTTP API providers (Cloudflare, DigitalOcean) share: the zones are found from one
    listing of the account's zones, read once for the provider's life (a module run), so that
    the domain and every SPF include target cost one request together; an account with more
    zones than one page holds is asked for each candidate apex instead, longest first, each
    answer cached. A record without the provider's id is found by its value."""

    @classmethod
    def from_options(cls, options: Mapping[str, Any], token: str | None) -> DnsProvider:
        return cls(  # type: ignore[call-arg]  # the API providers take these three
            api_token=token or "",
            base_url=options.get("api_base_url") or None,
            timeout=options.get("timeout") or 10.0,
        )

    # Each provider's own: how messages name it, the environment variable its token falls back to
    # (dns_registry), its public end point and page size, and the methods a 5xx or a timeout may be
    # repeated for (whether a repeated POST can create a duplicate is the provider's to know).
    title: str
    fallback_variable: str
    public_end_point: str
    default_page_size: int
    repeatable: tuple[str, ...]

    def __init__(
        self,
        api_token: str,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        page_size: int | None = None,
        retry_budget: float = DEFAULT_RETRY_BUDGET,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        require("requests")
        if not api_token:
            raise AuthenticationFailed(
                f"no {self.title} API token: set the module's api_token option or {self.fallback_variable}"
            )
        end_point = base_url or self.public_end_point
        self._api = JsonApi(
            self.title, end_point, api_token, timeout, max_retries, retry_budget, self.repeatable, sleep
        )
        self.timeout = self._api.timeout
        self.max_retries = self._api.max_retries
        self.page_size = int(self.default_page_size if page_size is None else page_size)
        self._zones: dict[str, Zone | None] = {}
        self._account_zones: dict[str, Zone] | None = None
        self._account_read = False

    @abc.abstractmethod
    def _lookup_zone(self, apex: str) -> Zone | None:
        """The zone whose apex is exactly this name, or None."""

    @abc.abstractmethod
    def _zone_not_found(self, name: str) -> str:
        """The message when no zone of the account holds name."""

    def _list_zones(self) -> list[Zone] | None:
        """Every zone of the account from one request; None when they do not fit in one."""
        return None

    def find_zone(self, fqdn: str) -> Zone:
        name = normalise_name(fqdn)
        labels = name.split(".")
        if not self._account_read:
            self._account_read = True
            listed = self._list_zones()
            if listed is not None:
                self._account_zones = {zone.name: zone for zone in listed}
        # Longest apex first: a delegated sub-zone (mail.example.test) wins over its parent.
        for i in range(len(labels) - 1):
            candidate = ".".join(labels[i:])
            if self._account_zones is not None:
                if candidate in self._account_zones:
                    return self._account_zones[candidate]
                continue
            if candidate not in self._zones:
                self._zones[candidate] = self._lookup_zone(candidate)
            zone = self._zones[candidate]
            if zone is not None:
                return zone
        raise ZoneNotFound(self._zone_not_found(name))

    def _find_id(self, zone: Zone, record: Record) -> str:
        for candidate in self.list_records(zone, record.name, record.type):
            if candidate.value == record.value:
                return candidate.id
        raise DnsError(f"no {record.type} record {record.value!r} at {record.name} to change")
