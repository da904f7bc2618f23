# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The DNS providers lms.mail publishes through, listed once, and the factory that builds one
from a module's options.

Each entry says what the rest of the collection needs to know about a provider: its name (the
modules' `provider` choice), its class (one file of its own, built by `from_options`), whether it
takes `api_token` and which environment variables stand in for it, the controller libraries it
needs, and the options it cannot work without. The modules' argument specs, the token lookup,
the library check of the preflight (plugins/filter/controller.py) and the factory read this
table; the doc fragment and the dns role's variables and argument specs are checked against it
by tests/unit/plugins/module_utils/test_dns_registry.py. Adding a provider is its file and one
entry here.

The provider files import their libraries only when a provider is made (requirements.load), so
importing them all here costs nothing and a controller needs only the chosen provider's library.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import Any

from ansible_collections.lms.mail.plugins.module_utils.dns_cloudflare import CloudflareProvider
from ansible_collections.lms.mail.plugins.module_utils.dns_digitalocean import DigitalOceanProvider
from ansible_collections.lms.mail.plugins.module_utils.dns_provider import DnsError, DnsProvider
from ansible_collections.lms.mail.plugins.module_utils.dns_rfc2136 import Rfc2136Provider
from ansible_collections.lms.mail.plugins.module_utils.dns_values import (
    LABEL,
    has_blank_or_control,
    validate_api_base_url,
)
from ansible_collections.lms.mail.plugins.module_utils.requirements import require


@dataclasses.dataclass(frozen=True)
class ProviderEntry:
    name: str
    provider_class: type[DnsProvider]
    libraries: tuple[str, ...]  # requirements.LIBRARIES names, checked before the provider is made
    api_token: bool = False  # takes the api_token option
    # where a token not given in api_token is read from, in order of preference; only the chosen
    # provider's are read (a plain env_fallback would send CLOUDFLARE_API_TOKEN to DigitalOcean)
    token_environment: tuple[str, ...] = ()
    required: tuple[str, ...] = ()  # options it cannot work without (AnsibleModule required_if)


PROVIDERS: dict[str, ProviderEntry] = {
    entry.name: entry
    for entry in (
        ProviderEntry("cloudflare", CloudflareProvider, ("requests",), True, ("CLOUDFLARE_API_TOKEN",)),
        ProviderEntry(
            "digitalocean",
            DigitalOceanProvider,
            ("requests",),
            True,
            ("DIGITALOCEAN_TOKEN", "DIGITALOCEAN_ACCESS_TOKEN"),
        ),
        # RFC 2136 has no account to ask: it needs the server that takes the updates
        ProviderEntry("rfc2136", Rfc2136Provider, ("dnspython",), required=("server",)),
    )
}


def provider_names() -> list[str]:
    return list(PROVIDERS)


def provider_entry(name: str) -> ProviderEntry:
    try:
        return PROVIDERS[name]
    except KeyError:
        raise DnsError(f"unknown DNS provider {name!r}: use one of {', '.join(PROVIDERS)}") from None


def provider_token(params: Mapping[str, Any]) -> str | None:
    """api_token, else the first of the chosen provider's environment variables that is set;
    None for a provider that takes no token."""
    entry = PROVIDERS.get(params.get("provider") or "")
    if entry is None or not entry.api_token:
        return None
    token = params.get("api_token")
    if token:
        return token
    for variable in entry.token_environment:
        if os.environ.get(variable):
            return os.environ[variable]
    return None


def check_provider_options(params: Mapping[str, Any]) -> None:
    """The provider options' values, checked before anything is contacted."""
    if params.get("api_base_url"):
        validate_api_base_url(params["api_base_url"])
    end_point = os.environ.get("DIGITALOCEAN_END_POINT")
    if params.get("provider") == "digitalocean" and not params.get("api_base_url") and end_point:
        # python-digitalocean's variable, still honoured: the same rule applies to it
        validate_api_base_url(end_point, "DIGITALOCEAN_END_POINT")
    token = provider_token(params)
    if token and (has_blank_or_control(token) or not token.isascii()):
        # never echoed: it is a secret
        raise ValueError(
            "api_token (or the token's environment variable) contains a blank, a control character or "
            "a non-ASCII character: copy the token again, without the line break"
        )
    if params.get("server") is not None and params.get("provider") == "rfc2136":
        server = params["server"]
        if has_blank_or_control(server) or not server:
            raise ValueError(f"server {server!r} contains a blank or a control character")
    if params.get("tsig_key_name"):
        # a DNS name of one label or more (BIND's own key names are often one label)
        key_name = params["tsig_key_name"]
        labels = key_name.rstrip(".").lower().split(".")
        if has_blank_or_control(key_name) or not all(LABEL.fullmatch(label) for label in labels):
            raise ValueError(
                f"tsig_key_name {key_name!r} is not a key name such as 'ansible' or 'update.school.example'"
            )
    if params.get("ttl") is not None and not 0 <= params["ttl"] <= 2147483647:
        raise ValueError(f"ttl {params['ttl']} is out of range: use seconds from 0 to 2147483647")


def build_provider(params: Mapping[str, Any]) -> DnsProvider:
    """The provider the task names, configured from the module's options, once the options'
    values and the provider's libraries have passed their checks."""
    entry = provider_entry(params["provider"])
    check_provider_options(params)
    for library in entry.libraries:
        require(library)
    return entry.provider_class.from_options(params, provider_token(params))
