# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options the DNS modules share, as AnsibleModule takes them; documented in the
lms.mail.dns_provider doc fragment. The provider choices and what each provider requires come
from the registry (dns_registry.py), the TSIG algorithms from the RFC 2136 provider."""

from __future__ import annotations

from ansible_collections.lms.mail.plugins.module_utils.dns_registry import PROVIDERS
from ansible_collections.lms.mail.plugins.module_utils.dns_rfc2136 import (
    DEFAULT_TSIG_ALGORITHM,
    TSIG_ALGORITHMS,
)


def provider_argument_spec() -> dict:
    """The options every record module takes."""
    return {
        "provider": {"type": "str", "required": True, "choices": list(PROVIDERS)},
        # The token falls back to the environment variable of the chosen provider (see
        # dns_registry.provider_token): a plain env_fallback would take CLOUDFLARE_API_TOKEN for a
        # DigitalOcean task when both are set.
        "api_token": {"type": "str", "no_log": True},
        "api_base_url": {"type": "str"},
        "server": {"type": "str"},
        "port": {"type": "int", "default": 53},
        "tsig_key_name": {"type": "str", "no_log": False},
        "tsig_key_secret": {"type": "str", "no_log": True},
        "tsig_key_algorithm": {
            "type": "str",
            "default": DEFAULT_TSIG_ALGORITHM,
            "choices": list(TSIG_ALGORITHMS),
        },
        "timeout": {"type": "float", "default": 10.0},
        "ttl": {"type": "int"},
    }


def resolver_argument_spec() -> dict:
    """Options of the modules that read DNS as a receiver would (lookup count, FCrDNS)."""
    return {
        "resolver": {"type": "list", "elements": "str"},
        "resolver_port": {"type": "int", "default": 53},
    }


def record_argument_spec(options: dict, resolver: bool = False) -> dict:
    """A record module's argument spec: the provider options, the resolver's when it reads DNS
    as a receiver would, then its own."""
    spec = provider_argument_spec()
    if resolver:
        spec.update(resolver_argument_spec())
    spec.update(options)
    return spec


def provider_required_if(*extra: tuple) -> list[tuple]:
    """AnsibleModule's required_if: each provider's own required options, then the module's."""
    by_provider = [("provider", entry.name, entry.required) for entry in PROVIDERS.values() if entry.required]
    return by_provider + list(extra)
