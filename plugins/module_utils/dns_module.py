# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What spf_record, dkim_record, dmarc_record and ptr_record share: the provider options, the
factory that builds a provider from them, and the one "ensure these records at this name" step.

The ensure step is where lms.mail differs from the modules it replaces: it compares the records
the module owns at a name (the SPF record, a DKIM key, the DMARC record) with the wanted ones,
changes only those, one record at a time, and leaves every other record at the name alone.
Check mode computes the same plan and writes nothing; diff shows the whole record set at the
name before and after, so the user sees what stays too.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import urllib.parse
from collections.abc import Callable

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.lms.mail.plugins.module_utils.dns_provider import (
    DnsError,
    DnsProvider,
    Record,
    Zone,
    ZoneNotFound,
)
from ansible_collections.lms.mail.plugins.module_utils.requirements import MissingLibrary, require
from ansible_collections.lms.mail.plugins.module_utils.txt import normalize_txt, split_txt

PROVIDERS = ("cloudflare", "digitalocean", "rfc2136")
DEFAULT_TTL = 3600
# the environment variables each provider's token may come from, in order of preference
TOKEN_ENVIRONMENT = {
    "cloudflare": ("CLOUDFLARE_API_TOKEN",),
    "digitalocean": ("DIGITALOCEAN_TOKEN", "DIGITALOCEAN_ACCESS_TOKEN"),
}
TSIG_ALGORITHMS = ("hmac-md5", "hmac-sha1", "hmac-sha224", "hmac-sha256", "hmac-sha384", "hmac-sha512")


def provider_argument_spec() -> dict:
    """The options every record module takes; documented in the lms.mail.dns_provider fragment."""
    return {
        "provider": {"type": "str", "required": True, "choices": list(PROVIDERS)},
        # The token falls back to the environment variable of the chosen provider (see
        # provider_token): a plain env_fallback would take CLOUDFLARE_API_TOKEN for a
        # DigitalOcean task when both are set.
        "api_token": {"type": "str", "no_log": True},
        "api_base_url": {"type": "str"},
        "server": {"type": "str"},
        "port": {"type": "int", "default": 53},
        "tsig_key_name": {"type": "str", "no_log": False},
        "tsig_key_secret": {"type": "str", "no_log": True},
        "tsig_key_algorithm": {"type": "str", "default": "hmac-sha256", "choices": list(TSIG_ALGORITHMS)},
        "timeout": {"type": "float", "default": 10.0},
        "ttl": {"type": "int"},
    }


# for AnsibleModule(required_if=...): RFC 2136 has no account to ask, it needs a server
PROVIDER_REQUIRED_IF = [("provider", "rfc2136", ("server",))]


def resolver_argument_spec() -> dict:
    """Options of the modules that read DNS as a receiver would (lookup count, FCrDNS)."""
    return {
        "resolver": {"type": "list", "elements": "str"},
        "resolver_port": {"type": "int", "default": 53},
    }


def provider_token(params: dict) -> str | None:
    token = params.get("api_token")
    if token:
        return token
    for variable in TOKEN_ENVIRONMENT.get(params["provider"], ()):
        if os.environ.get(variable):
            return os.environ[variable]
    return None


def build_provider(params: dict) -> DnsProvider:
    """The provider the task names, configured from the module's options.

    Cloudflare and DigitalOcean are imported only when chosen, so a controller that uses RFC
    2136 does not need their SDKs.
    """
    name = params["provider"]
    timeout = params.get("timeout") or 10.0
    check_provider_options(params)
    if name == "rfc2136":
        require("dnspython")
        from ansible_collections.lms.mail.plugins.module_utils.dns_rfc2136 import Rfc2136Provider

        return Rfc2136Provider(
            server=params.get("server") or "",
            port=params.get("port") or 53,
            tsig_key_name=params.get("tsig_key_name"),
            tsig_key_secret=params.get("tsig_key_secret"),
            tsig_key_algorithm=params.get("tsig_key_algorithm") or "hmac-sha256",
            timeout=timeout,
        )
    token = provider_token(params) or ""
    base_url = params.get("api_base_url") or None
    if name == "cloudflare":
        require("requests")
        from ansible_collections.lms.mail.plugins.module_utils.dns_cloudflare import CloudflareProvider

        return CloudflareProvider(api_token=token, base_url=base_url, timeout=timeout)
    if name == "digitalocean":
        require("requests")
        from ansible_collections.lms.mail.plugins.module_utils.dns_digitalocean import DigitalOceanProvider

        return DigitalOceanProvider(api_token=token, base_url=base_url, timeout=timeout)
    raise DnsError(f"unknown DNS provider {name!r}: use one of {', '.join(PROVIDERS)}")


@dataclasses.dataclass
class Plan:
    """The writes that turn the current records into the wanted ones."""

    creates: list[Record] = dataclasses.field(default_factory=list)
    updates: list[tuple[Record, Record]] = dataclasses.field(default_factory=list)
    deletes: list[Record] = dataclasses.field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.creates or self.updates or self.deletes)

    def after(self, current: list[Record]) -> list[Record]:
        """The record set at the name once the plan is applied."""
        replaced = {id(old): new for old, new in self.updates}
        deleted = {id(r) for r in self.deletes}
        result = [replaced.get(id(r), r) for r in current if id(r) not in deleted]
        return result + self.creates


def same_value(a: Record, b: Record) -> bool:
    if a.type == "TXT":
        return normalize_txt(a.value) == normalize_txt(b.value)
    return a.value.rstrip(".").lower() == b.value.rstrip(".").lower()


def plan_records(
    current: list[Record],
    wanted: list[Record],
    owns: Callable[[Record], bool],
    same: Callable[[Record, Record], bool] = same_value,
    ttl: int | None = None,
) -> Plan:
    """Match the owned records at a name to the wanted ones.

    A wanted record already there (by `same`, and by TTL when a TTL is asked for) is kept as
    published; the rest are matched to leftover owned records as in-place updates (so a
    changed SPF record stays one record, never a second one), then created; owned records left
    over are deleted. Records not owned are never in the plan.
    """
    plan = Plan()
    spare = [r for r in current if owns(r)]
    missing = []
    for record in wanted:
        match = next((r for r in spare if same(r, record) and (ttl is None or r.ttl == ttl)), None)
        if match is None:
            missing.append(record)
        else:
            spare.remove(match)
    for record in missing:
        # same value, other TTL first: then only the TTL changes
        old = next((r for r in spare if same(r, record)), None) or (spare[0] if spare else None)
        if old is not None:
            spare.remove(old)
            new_ttl = ttl if ttl is not None else old.ttl
            plan.updates.append((old, dataclasses.replace(record, ttl=new_ttl, id=old.id)))
        else:
            plan.creates.append(dataclasses.replace(record, ttl=ttl if ttl is not None else DEFAULT_TTL))
    plan.deletes.extend(spare)
    return plan


def apply_plan(provider: DnsProvider, zone: Zone, plan: Plan) -> None:
    # updates and creates before deletes: a reader sees the new record before the old one goes
    for old, new in plan.updates:
        provider.update_record(zone, old, new)
    for record in plan.creates:
        provider.create_record(zone, record)
    for record in plan.deletes:
        provider.delete_record(zone, record)


def render(records: list[Record]) -> str:
    """A record set in zone-file form, for --diff."""
    lines = []
    for r in sorted(records, key=lambda r: (r.name, r.type, r.value)):
        value = r.value
        if r.type == "TXT":
            value = '"' + normalize_txt(r.value).replace('"', '\\"') + '"'
        elif r.type in ("PTR", "CNAME", "NS", "MX") and not value.endswith("."):
            value += "."  # a host name, absolute as a zone file writes it
        lines.append(f"{r.name}. {r.ttl} IN {r.type} {value}")
    return "\n".join(lines) + ("\n" if lines else "")


def udp_answer_size(name: str, values: list[str]) -> int:
    """Bytes of a DNS answer carrying these TXT values at name, without EDNS: above 512 a
    resolver that does not use EDNS must retry over TCP, and some receivers' SPF checks fail."""
    qname = sum(len(label) + 1 for label in name.rstrip(".").split(".")) + 1
    size = 12 + qname + 4  # header + question
    for value in values:
        rdata = sum(1 + len(chunk) for chunk in split_txt(value))
        size += 2 + 10 + rdata  # compressed owner name, type/class/ttl/rdlength, rdata
    return size


def record_diff(name: str, rtype: str, before: list[Record], after: list[Record]) -> dict:
    """The --diff of the records of one type at one name."""
    return {
        "before": render(before),
        "after": render(after),
        "before_header": f"{name} {rtype} (before)",
        "after_header": f"{name} {rtype} (after)",
    }


@dataclasses.dataclass
class EnsureResult:
    changed: bool
    before: list[Record]
    after: list[Record]
    plan: Plan

    def diff(self, name: str, rtype: str) -> dict:
        return record_diff(name, rtype, self.before, self.after)

    def first(self, kind: Callable[[str], bool]) -> str:
        """The value of the first record of a kind after the task; empty when there is none."""
        return next((r.value for r in self.after if kind(r.value)), "")

    def output(self, module: AnsibleModule, record_name: str, rtype: str, /, **fields) -> dict:
        """A record module's return value: changed, its own fields, every record at the name
        after the task, and the diff when --diff asks for it."""
        output = {"changed": self.changed, **fields, "records": record_dicts(self.after)}
        if module._diff:
            output["diff"] = self.diff(record_name, rtype)
        return output


class RecordSet:
    """The records of one type at one name, read once, changed through a plan."""

    def __init__(self, provider: DnsProvider, name: str, rtype: str, zone: Zone | None = None):
        self.provider = provider
        self.name = name.rstrip(".").lower()
        self.rtype = rtype
        self.zone = zone or provider.find_zone(self.name)
        self.current = provider.list_records(self.zone, self.name, rtype)

    def ensure(
        self,
        wanted: list[Record],
        owns: Callable[[Record], bool],
        check_mode: bool,
        same: Callable[[Record, Record], bool] = same_value,
        ttl: int | None = None,
    ) -> EnsureResult:
        plan = plan_records(self.current, wanted, owns, same, ttl)
        after = plan.after(self.current)
        if plan.changed and not check_mode:
            apply_plan(self.provider, self.zone, plan)
        return EnsureResult(changed=plan.changed, before=list(self.current), after=after, plan=plan)

    def ensure_one(
        self,
        value: str | None,
        kind: Callable[[str], bool],
        check_mode: bool,
        same: Callable[[str, str], bool] | None = None,
        ttl: int | None = None,
    ) -> EnsureResult:
        """Make value the one record of its kind at the name (None: no record of that kind),
        comparing values with same (by default as same_value does); other records stay."""
        wanted = [] if value is None else [Record(self.name, self.rtype, value)]
        same_record = same_value if same is None else (lambda a, b: same(a.value, b.value))
        return self.ensure(wanted, lambda r: kind(r.value), check_mode, same_record, ttl)


def run_module(
    run: Callable[[AnsibleModule], dict], argument_spec: dict, required_if: list | None = None
) -> None:
    """Every lms.mail DNS module's main(): parse the options (check mode supported), run, and
    turn a DnsError or ValueError into a failure whose message is fit for the user, and a
    missing or unfit library into Ansible's missing_required_lib message."""
    module = AnsibleModule(
        argument_spec=argument_spec, required_if=required_if or [], supports_check_mode=True
    )
    # A token from the environment is as secret as api_token (no_log): masked in all output.
    token = provider_token(module.params) if module.params.get("provider") in TOKEN_ENVIRONMENT else None
    if token:
        module.no_log_values.add(token)
    try:
        result = run(module)
    except MissingLibrary as exc:
        module.fail_json(
            msg=exc.message(missing_required_lib), error="MissingLibrary", exception=exc.import_traceback
        )
    except (DnsError, ValueError) as exc:
        module.fail_json(msg=str(exc), error=type(exc).__name__)
    module.exit_json(**result)


def record_dicts(records: list[Record]) -> list[dict]:
    """Records for a module's return value."""
    return [{"name": r.name, "type": r.type, "value": r.value, "ttl": r.ttl} for r in records]


class PublishedLookup:
    """TXT and address lookups that read what the provider publishes, and DNS for the rest.

    Used for the SPF lookup count and the FCrDNS check right after a change: the provider
    has the new data at once, while a resolver may still serve the old answer from its cache.
    Names in zones the provider does not hold (a mail service's include target) go to DNS.
    """

    def __init__(self, provider: DnsProvider, dns_lookup: Callable[[], object]):
        self.provider = provider
        self._dns_lookup_factory = dns_lookup
        self._dns = None

    @property
    def dns(self):
        if self._dns is None:
            self._dns = self._dns_lookup_factory()
        return self._dns

    def _published(self, name: str, rtype: str) -> list[str] | None:
        try:
            zone = self.provider.find_zone(name)
        except ZoneNotFound:
            return None
        return [r.value for r in self.provider.list_records(zone, name.rstrip(".").lower(), rtype)]

    def txt(self, name: str) -> list[str]:
        published = self._published(name, "TXT")
        return published if published is not None else self.dns.txt(name)

    def addresses(self, name: str, version: int) -> list[str]:
        rtype = "A" if version == 4 else "AAAA"
        published = self._published(name, rtype)
        if published is not None:
            return published
        return self.dns.a(name) if version == 4 else self.dns.aaaa(name)


_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
# a value that must stay on its line and in one piece: no blank, no control character anywhere
_BLANK_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")


def has_blank_or_control(text: str) -> bool:
    return _BLANK_OR_CONTROL.search(text) is not None


def validate_domain(name: str, what: str = "domain") -> str:
    """A domain name lower case without the trailing dot; ValueError naming the option otherwise.
    Blanks and control characters are refused, not stripped: a name never carries a newline."""
    text = name or ""
    if has_blank_or_control(text):
        raise ValueError(
            f"{what} {name!r} is not a valid domain name: it contains a blank or a control character"
        )
    text = text.rstrip(".").lower()
    try:
        # internationalised names are published in their ASCII (punycode) form
        text = text.encode("idna").decode("ascii") if not text.isascii() else text
    except UnicodeError:
        raise ValueError(f"{what} {name!r} is not a valid domain name") from None
    labels = text.split(".")
    if len(labels) < 2 or len(text) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise ValueError(f"{what} {name!r} is not a valid domain name (e.g. school.example)")
    return text


def validate_ip(text: str, what: str = "ip") -> str:
    """An IPv4 or IPv6 address in its canonical text; no scope id, no blank, no control character."""
    value = text if isinstance(text, str) else ""
    if has_blank_or_control(value) or "%" in value:
        raise ValueError(
            f"{what} {text!r} is not a plain IPv4 or IPv6 address (no blanks, control characters or %scope)"
        )
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError(f"{what} {text!r} is not an IPv4 or IPv6 address") from None


def _is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def validate_api_base_url(url: str, what: str = "api_base_url") -> str:
    """An API base URL the token may be sent to: https, or http only to this machine (an
    emulator or a local proxy on loopback). No credentials in it, no blanks or control characters."""
    if has_blank_or_control(url):
        raise ValueError(f"{what} {url!r} contains a blank or a control character")
    parsed = urllib.parse.urlsplit(url)
    host = (parsed.hostname or "").lower()
    if parsed.scheme not in ("https", "http") or not host:
        raise ValueError(
            f"{what} {url!r} is not an http(s) URL with a host, e.g. https://api.cloudflare.com/client/v4"
        )
    if parsed.username is not None or parsed.password is not None:
        raise ValueError(f"{what} must not carry credentials (user:password@); give the token in api_token")
    if parsed.scheme == "http" and not _is_loopback_host(host):
        raise ValueError(
            f"{what} {url!r} is plain http to another host: the API token would cross the network in "
            "clear. Use https (plain http is accepted only for a loopback address such as 127.0.0.1)"
        )
    return url


def check_provider_options(params: dict) -> None:
    """The provider options' values, checked before anything is contacted."""
    if params.get("api_base_url"):
        validate_api_base_url(params["api_base_url"])
    end_point = os.environ.get("DIGITALOCEAN_END_POINT")
    if params.get("provider") == "digitalocean" and not params.get("api_base_url") and end_point:
        # python-digitalocean's variable, still honoured: the same rule applies to it
        validate_api_base_url(end_point, "DIGITALOCEAN_END_POINT")
    token = provider_token(params) if params.get("provider") in TOKEN_ENVIRONMENT else None
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
        if has_blank_or_control(key_name) or not all(_LABEL.fullmatch(label) for label in labels):
            raise ValueError(
                f"tsig_key_name {key_name!r} is not a key name such as 'ansible' or 'update.school.example'"
            )
    if params.get("ttl") is not None and not 0 <= params["ttl"] <= 2147483647:
        raise ValueError(f"ttl {params['ttl']} is out of range: use seconds from 0 to 2147483647")
