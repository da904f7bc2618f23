"""The three DNS back ends of the benchmark, seen the same way: put the apex of the zone in a
scenario's starting state, give the task arguments of lms.mail.spf_record and of the community
module(s), count the requests of one run, read the TXT records at the apex afterwards.

The servers themselves are the test suite's: the Cloudflare and DigitalOcean emulators of
tests/dns/emulators and the real BIND set-up of tests/dns/bind.py (its zones, TSIG key and
helpers), started outside pytest by the same start_named.
"""

from __future__ import annotations

import abc
import collections
import dataclasses
import re
from typing import Any

import dns.query
import dns.rcode
import dns.update
import dns.zone
from ansible_collections.lms.mail.plugins.module_utils.txt import unquote_txt

from bench.dns.dnsproxy import CountingDnsProxy
from tests.dns import bind as bindlib
from tests.dns.emulators import CloudflareEmulator, DigitalOceanEmulator
from tests.dns.emulators._server import EmulatorServer

DOMAIN = "school.test"
# the fixed zones of tests/dns/bind.py hold the include target of the customer's SPF
OFFICE_SPF = "v=spf1 include:_spf.office.test ~all"
VERIFICATION = "google-site-verification=abc123-keep-me"
SENDING_IP = "192.0.2.25"


@dataclasses.dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    apex_txt: tuple[str, ...]  # the TXT records at the apex before the first run
    wanted: str  # the one SPF record every tool is asked to leave at the apex
    mechanisms: tuple[str, ...]  # what lms.mail.spf_record is given to get there


SCENARIOS = (
    Scenario(
        name="new",
        description=(
            "The apex holds a site-verification TXT and no SPF record; every tool publishes "
            f"`v=spf1 ip4:{SENDING_IP} ~all`."
        ),
        apex_txt=(VERIFICATION,),
        wanted=f"v=spf1 ip4:{SENDING_IP} ~all",
        mechanisms=(f"ip4:{SENDING_IP}",),
    ),
    Scenario(
        name="merge",
        description=(
            f"The apex holds the customer's `{OFFICE_SPF}` and a site-verification TXT; every tool "
            f"is asked for `v=spf1 include:_spf.office.test ip4:{SENDING_IP} ~all`. spf_record is "
            f"given the mechanism `ip4:{SENDING_IP}` and merges it; the community modules are given "
            "the merged record as their value (the best a user of them can do: write it by hand)."
        ),
        apex_txt=(OFFICE_SPF, VERIFICATION),
        wanted=f"v=spf1 include:_spf.office.test ip4:{SENDING_IP} ~all",
        mechanisms=(f"ip4:{SENDING_IP}",),
    ),
)


@dataclasses.dataclass(frozen=True)
class Tool:
    label: str  # how the results name it
    module: str  # the FQCN the task calls
    args: dict[str, Any]
    patched: bool = False  # runs from the run-time copy of community/ pointed at an emulator
    lms: bool = False


@dataclasses.dataclass(frozen=True)
class Counts:
    requests: int
    writes: int
    detail: dict[str, int]


class Target(abc.ABC):
    name: str
    unit: str  # what `requests` counts

    def __init__(self, proxy: CountingDnsProxy) -> None:
        # the DNS that spf_record's lookup count reads (include targets outside the provider)
        self.proxy = proxy

    @property
    def resolver(self) -> dict[str, Any]:
        return {"resolver": [self.proxy.host], "resolver_port": self.proxy.port}

    @abc.abstractmethod
    def seed(self, rows: list[tuple[str, str, str]]) -> None:
        """Load the zone's filler records (relative names) once."""

    @abc.abstractmethod
    def reset(self, scenario: Scenario) -> None:
        """Put the TXT records at the apex back to the scenario's starting state."""

    @abc.abstractmethod
    def apex_txt(self) -> list[str]:
        """The joined values of the TXT records at the apex, sorted."""

    @abc.abstractmethod
    def zone_size(self) -> int:
        """Records in the zone, as the server holds them."""

    @abc.abstractmethod
    def lms_args(self) -> dict[str, Any]:
        """The provider options of lms.mail.spf_record."""

    @abc.abstractmethod
    def community_tools(self, scenario: Scenario) -> list[Tool]:
        """The community module(s) doing the same record."""

    @abc.abstractmethod
    def clear_counts(self) -> None:
        """Forget the requests counted so far."""

    @abc.abstractmethod
    def counts(self) -> Counts:
        """The requests since clear_counts."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Stop what this target started itself."""

    def tools(self, scenario: Scenario) -> list[Tool]:
        lms = Tool(
            label="lms.mail.spf_record",
            module="lms.mail.spf_record",
            args={
                **self.lms_args(),
                **self.resolver,
                "domain": DOMAIN,
                "mechanisms": list(scenario.mechanisms),
            },
            lms=True,
        )
        return [lms, *self.community_tools(scenario)]


# -- HTTP API emulators ---------------------------------------------------------------------------

_ID_SEGMENT = re.compile(r"/(?:[0-9a-f]{32}|\d+)(?=/|$)")


class ApiTarget(Target):
    unit = "API requests"
    api: EmulatorServer

    def clear_counts(self) -> None:
        self.api.clear_log()

    def counts(self) -> Counts:
        requests = self.api.requests()
        # "GET /client/v4/zones/{id}/dns_records": one line per kind of request, ids folded
        detail = collections.Counter(f"{r.method} {_ID_SEGMENT.sub('/{id}', r.path)}" for r in requests)
        return Counts(len(requests), len(self.api.writes()), dict(sorted(detail.items())))


class CloudflareTarget(ApiTarget):
    name = "cloudflare"

    def __init__(self, proxy: CountingDnsProxy) -> None:
        super().__init__(proxy)
        self.api = self.cf = CloudflareEmulator()
        self.cf.start()
        self.cf.add_zone(DOMAIN)
        self._filler: list[tuple[str, str, str]] = []

    def seed(self, rows: list[tuple[str, str, str]]) -> None:
        self._filler = rows

    def reset(self, scenario: Scenario) -> None:
        # a fresh record store: the filler, then the apex as the scenario starts
        self.cf.records[self.cf.zone_id(DOMAIN)].clear()
        self.cf.seed_records(DOMAIN, self._filler)
        for value in scenario.apex_txt:
            self.cf.seed_record(DOMAIN, DOMAIN, "TXT", value)

    def apex_txt(self) -> list[str]:
        return sorted(unquote_txt(r["content"]) for r in self.cf.find(DOMAIN, DOMAIN, "TXT"))

    def zone_size(self) -> int:
        return len(self.cf.records[self.cf.zone_id(DOMAIN)])

    def lms_args(self) -> dict[str, Any]:
        return {"provider": "cloudflare", "api_token": "cf-test-token", "api_base_url": self.cf.base_url}

    def community_tools(self, scenario: Scenario) -> list[Tool]:
        args = {
            "api_token": "cf-test-token",
            "zone": DOMAIN,
            "record": "@",
            "type": "TXT",
            "value": scenario.wanted,
        }
        module = "community.general.cloudflare_dns"
        return [
            Tool(module, module, args, patched=True),
            # solo: true is that module's documented way to make its value the one record at a name
            Tool(f"{module} solo=true", module, {**args, "solo": True}, patched=True),
        ]

    def stop(self) -> None:
        self.cf.stop()


class DigitalOceanTarget(ApiTarget):
    name = "digitalocean"

    def __init__(self, proxy: CountingDnsProxy) -> None:
        super().__init__(proxy)
        self.api = self.do = DigitalOceanEmulator()
        self.do.start()
        self.do.add_domain(DOMAIN)
        self._filler: list[tuple[str, str, str]] = []

    def seed(self, rows: list[tuple[str, str, str]]) -> None:
        self._filler = rows

    def reset(self, scenario: Scenario) -> None:
        self.do.add_domain(DOMAIN)  # an empty domain again (with its NS record)
        self.do.seed_records(DOMAIN, self._filler)
        for value in scenario.apex_txt:
            self.do.seed_record(DOMAIN, "@", "TXT", value)

    def apex_txt(self) -> list[str]:
        return sorted(unquote_txt(r["data"]) for r in self.do.find(DOMAIN, "@", "TXT"))

    def zone_size(self) -> int:
        return len(self.do.records[DOMAIN])

    def lms_args(self) -> dict[str, Any]:
        return {"provider": "digitalocean", "api_token": "do-test-token", "api_base_url": self.do.base_url}

    def community_tools(self, scenario: Scenario) -> list[Tool]:
        args = {
            "oauth_token": "do-test-token",
            "domain": DOMAIN,
            "type": "TXT",
            "name": "@",
            "data": scenario.wanted,
        }
        module = "community.digitalocean.digital_ocean_domain_record"
        return [Tool(module, module, args, patched=True)]

    def stop(self) -> None:
        self.do.stop()


# -- a real BIND over RFC 2136 (started by bench/dns/harness.py with tests/dns/bind.start_named) --


class Rfc2136Target(Target):
    name = "rfc2136"
    unit = "DNS messages"
    SEED_BATCH = 1000  # adds per UPDATE: well inside a 64 KiB TCP message

    def __init__(self, proxy: CountingDnsProxy, server: bindlib.BindServer) -> None:
        super().__init__(proxy)
        self.server = server

    def _update(self, update: dns.update.UpdateMessage) -> None:
        # straight to named, not through the proxy: set-up is not part of any tool's count
        response = dns.query.tcp(update, self.server.host, port=self.server.port, timeout=30)
        if response.rcode() != dns.rcode.NOERROR:
            raise RuntimeError(f"BIND refused the benchmark's set-up: {dns.rcode.to_text(response.rcode())}")

    def seed(self, rows: list[tuple[str, str, str]]) -> None:
        for start in range(0, len(rows), self.SEED_BATCH):
            update = dns.update.UpdateMessage(DOMAIN + ".", keyring=self.server.keyring)
            for name, rtype, value in rows[start : start + self.SEED_BATCH]:
                update.add(f"{name}.{DOMAIN}.", 3600, rtype, value)
            self._update(update)

    def reset(self, scenario: Scenario) -> None:
        update = dns.update.UpdateMessage(DOMAIN + ".", keyring=self.server.keyring)
        update.delete(DOMAIN + ".", "TXT")
        for value in scenario.apex_txt:
            update.add(DOMAIN + ".", 3600, "TXT", f'"{value}"')
        self._update(update)

    def apex_txt(self) -> list[str]:
        return self.server.txt(DOMAIN)

    def zone_size(self) -> int:
        transfer = dns.query.xfr(
            self.server.host, DOMAIN + ".", port=self.server.port, keyring=self.server.keyring, lifetime=30
        )
        zone = dns.zone.from_xfr(transfer)
        return sum(len(rdataset) for _, rdataset in zone.iterate_rdatasets())

    def lms_args(self) -> dict[str, Any]:
        return self.server.provider_args(port=self.proxy.port)

    def community_tools(self, scenario: Scenario) -> list[Tool]:
        args = {
            "server": self.proxy.host,
            "port": self.proxy.port,
            "key_name": self.server.key_name,
            "key_secret": self.server.key_secret,
            "key_algorithm": self.server.key_algorithm,
            "zone": DOMAIN,
            "record": DOMAIN + ".",
            "type": "TXT",
            "value": [scenario.wanted],
        }
        return [Tool("community.general.nsupdate", "community.general.nsupdate", args)]

    def clear_counts(self) -> None:
        self.proxy.clear()

    def counts(self) -> Counts:
        messages = self.proxy.messages()
        detail = collections.Counter(f"{m.kind} ({m.transport})" for m in messages)
        return Counts(len(messages), sum(m.is_write for m in messages), dict(sorted(detail.items())))

    def stop(self) -> None:
        # named belongs to the harness, which stops it; so does the proxy
        return
