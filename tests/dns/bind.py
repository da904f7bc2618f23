"""A real BIND for the rfc2136 tests: Debian's named, started once per session on 127.0.0.1 at a
free high port, with a TSIG key, forward zones and reverse zones.

Only loopback is ever contacted, and every name is under .test or a reverse zone of the
documentation ranges (192.0.2.0/24, 2001:db8::/32), so nothing can leak to a real server.
Each test that changes data asks for `bind_zones`, which puts every zone back to its baseline
with one dynamic update per zone (cheaper than restarting named).
"""

from __future__ import annotations

import base64
import dataclasses
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import dns.exception
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TXT
import dns.resolver
import dns.tsig
import dns.update
import dns.zone
import pytest
from ansible_collections.lms.mail.plugins.module_utils.txt import join_txt, split_txt

from tests.local_server import LocalServer

KEY_NAME = "lms-test-key"
KEY_ALGORITHM = "hmac-sha256"

# The include targets of the customer's SPF live in these zones too: nothing resolves outside.
# office.test stands in for the office mail service; chain.test builds long include chains.
BASELINE: dict[str, list[tuple[str, str, str]]] = {
    "school.test": [
        ("ns1.school.test", "A", "127.0.0.1"),
        ("school.test", "TXT", "v=spf1 include:_spf.office.test ~all"),
        ("school.test", "TXT", "google-site-verification=abc123-keep-me"),
        ("school.test", "MX", "10 mail.school.test"),
        ("mail.school.test", "A", "192.0.2.25"),
        ("mail.school.test", "AAAA", "2001:db8::25"),
        ("other._domainkey.school.test", "TXT", "v=DKIM1; k=rsa; p=MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAKJ"),
        ("_dmarc.school.test", "TXT", "v=DMARC1; p=none"),
    ],
    "office.test": [
        ("_spf.office.test", "TXT", "v=spf1 ip4:198.51.100.0/24 ip6:2001:db8:100::/48 ~all"),
        ("office.test", "TXT", "v=spf1 include:_spf.office.test -all"),
    ],
    # chain.test: include:_spf1.chain.test costs exactly 10 lookups (the include, then a + include
    # at _spf1.._spf3, a + mx + include at _spf4, none at _spf5): one more term goes over the limit
    "chain.test": [
        *[
            (f"_spf{i}.chain.test", "TXT", f"v=spf1 a:host.chain.test include:_spf{i + 1}.chain.test ~all")
            for i in range(1, 4)
        ],
        ("_spf4.chain.test", "TXT", "v=spf1 a:host.chain.test mx:chain.test include:_spf5.chain.test ~all"),
        ("_spf5.chain.test", "TXT", "v=spf1 ip4:203.0.113.0/24 ~all"),
        ("host.chain.test", "A", "203.0.113.1"),
        ("chain.test", "MX", "10 mx.chain.test"),
        ("mx.chain.test", "A", "203.0.113.10"),
    ],
    "empty.test": [],
    "2.0.192.in-addr.arpa": [
        ("25.2.0.192.in-addr.arpa", "PTR", "mail.school.test"),
    ],
    "8.b.d.0.1.0.0.2.ip6.arpa": [],
}


# Zones that make this real BIND answer what a failing DNS answers, for the temperror tests:
# refused.test is served with allow-query { none; } (REFUSED), broken.test's file has no SOA, so
# named does not load it and answers SERVFAIL. They are outside BASELINE: never updated or reset.
REFUSED_ZONE = "refused.test"
BROKEN_ZONE = "broken.test"


@dataclasses.dataclass
class BindServer(LocalServer):
    host: str
    port: int
    key_name: str
    key_secret: str
    key_algorithm: str
    directory: Path
    process: subprocess.Popen | None = dataclasses.field(default=None, repr=False)

    @property
    def keyring(self) -> dns.tsig.Key:
        return dns.tsig.Key(self.key_name, self.key_secret, self.key_algorithm)

    def provider_args(self, **overrides) -> dict:
        """Module options for the rfc2136 provider against this server."""
        args = {
            "provider": "rfc2136",
            "server": self.host,
            "port": self.port,
            "tsig_key_name": self.key_name,
            "tsig_key_secret": self.key_secret,
            "tsig_key_algorithm": self.key_algorithm,
            "timeout": 5,
        }
        args.update(overrides)
        return args

    def rrsets(self, name: str, rtype: str) -> list:
        query = dns.message.make_query(name.rstrip(".") + ".", rtype)
        response = dns.query.tcp(query, self.host, timeout=5, port=self.port)
        return [rrset for rrset in response.answer if rrset.rdtype == dns.rdatatype.from_text(rtype)]

    def query(self, name: str, rtype: str) -> list:
        return [rdata for rrset in self.rrsets(name, rtype) for rdata in rrset]

    def txt(self, name: str) -> list[str]:
        """Joined TXT values at name, sorted (DNS has no order within an RRset)."""
        return sorted(join_txt(r.strings) for r in self.query(name, "TXT"))

    def txt_strings(self, name: str) -> list[list[bytes]]:
        """The character-strings of each TXT value, as stored."""
        return [list(r.strings) for r in self.query(name, "TXT")]

    def serial(self, zone: str) -> int:
        """The zone's SOA serial: BIND raises it on every applied update, so an unchanged serial
        proves that nothing was written."""
        return self.query(zone, "SOA")[0].serial

    def add(self, zone: str, name: str, rtype: str, value: str, ttl: int = 3600) -> None:
        update = dns.update.UpdateMessage(zone + ".", keyring=self.keyring)
        update.add(name + ".", ttl, _rdata(rtype, value))
        self._send(update)

    def reset(self) -> None:
        for zone, records in BASELINE.items():
            self._reset_zone(zone, records)

    def _reset_zone(self, zone: str, records: list[tuple[str, str, str]]) -> None:
        transfer = dns.zone.from_xfr(
            dns.query.xfr(
                self.host, zone + ".", port=self.port, keyring=self.keyring, lifetime=10, relativize=False
            ),
            relativize=False,
        )
        update = dns.update.UpdateMessage(zone + ".", keyring=self.keyring)
        apex = dns.name.from_text(zone + ".")
        for name, node in transfer.nodes.items():
            for rdataset in node.rdatasets:
                if name == apex and rdataset.rdtype in (dns.rdatatype.SOA, dns.rdatatype.NS):
                    continue
                update.delete(name, rdataset.rdtype)
        for name, rtype, value in records:
            update.add(name + ".", 3600, _rdata(rtype, value))
        self._send(update)

    def _send(self, update) -> None:
        response = dns.query.tcp(update, self.host, timeout=10, port=self.port)
        assert response.rcode() == 0, f"BIND refused the test update: {dns.rcode.to_text(response.rcode())}"


def _rdata(rtype: str, value: str):
    if rtype == "TXT":
        return dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, dns.rdatatype.TXT, split_txt(value))
    return dns.rdata.from_text(dns.rdataclass.IN, rtype, value, origin=dns.name.root, relativize=False)


def free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1 (named needs both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free port on 127.0.0.1")


def _zone_file(zone: str) -> str:
    return (
        f"$ORIGIN {zone}.\n$TTL 3600\n"
        f"@ IN SOA ns1.school.test. hostmaster.school.test. 1 3600 600 86400 60\n"
        f"@ IN NS ns1.school.test.\n" + ("ns1 IN A 127.0.0.1\n" if zone == "school.test" else "")
        # named refuses to load a zone whose in-zone name server has no address
    )


def _named_conf(directory: Path, port: int, secret: str) -> str:
    zones = "".join(
        f'zone "{zone}" {{ type primary; file "{zone}.db"; '
        f"update-policy {{ grant {KEY_NAME} zonesub ANY; }}; }};\n"
        for zone in BASELINE
    )
    zones += (
        f'zone "{REFUSED_ZONE}" {{ type primary; file "{REFUSED_ZONE}.db"; allow-query {{ none; }}; }};\n'
        f'zone "{BROKEN_ZONE}" {{ type primary; file "{BROKEN_ZONE}.db"; }};\n'
    )
    return f"""
options {{
    directory "{directory}";
    pid-file "{directory}/named.pid";
    session-keyfile "{directory}/session.key";
    managed-keys-directory "{directory}";
    listen-on port {port} {{ 127.0.0.1; }};
    listen-on-v6 {{ none; }};
    recursion no;
    notify no;
    dnssec-validation no;
    allow-transfer {{ key {KEY_NAME}; }};
}};
controls {{ }};
key "{KEY_NAME}" {{ algorithm {KEY_ALGORITHM}; secret "{secret}"; }};
{zones}"""


def _wait_ready(server: BindServer, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"named exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            server.serial("school.test")
            return
        except (OSError, dns.exception.DNSException, IndexError):
            time.sleep(0.1)
    raise RuntimeError(f"named did not answer within 20 s:\n{log.read_text()[-3000:]}")


def start_named(directory: Path) -> BindServer:
    """Debian's named on 127.0.0.1 at a free port, with the TSIG key and the BASELINE zones,
    answering and at its baseline; its files go to directory. Stop it with stop(), or use the
    server as a context manager. FileNotFoundError when bind9 is not installed.

    The tests' session fixture and the benchmark (bench/dns) both start their server here."""
    named = shutil.which("named") or "/usr/sbin/named"
    if not os.path.exists(named):
        raise FileNotFoundError("the rfc2136 tests and benchmark need Debian's bind9: apt-get install bind9")
    directory.mkdir(parents=True, exist_ok=True)
    # named drops to no user of its own when not started with -u; the directory must be
    # writable for the journals that dynamic updates create
    directory.chmod(0o755)
    port = free_port()
    secret = base64.b64encode(os.urandom(32)).decode()
    for zone in BASELINE:
        (directory / f"{zone}.db").write_text(_zone_file(zone))
    (directory / f"{REFUSED_ZONE}.db").write_text(
        _zone_file(REFUSED_ZONE) + '@ IN TXT "v=spf1 -all"\n_spf IN TXT "v=spf1 ip4:192.0.2.0/24 -all"\n'
    )
    # no SOA: named refuses to load the zone and answers SERVFAIL for every name in it
    (directory / f"{BROKEN_ZONE}.db").write_text(
        f'$ORIGIN {BROKEN_ZONE}.\n$TTL 3600\n_spf IN TXT "v=spf1 -all"\n'
    )
    conf = directory / "named.conf"
    conf.write_text(_named_conf(directory, port, secret))
    log = directory / "named.log"
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [named, "-g", "-c", str(conf)], stdout=log_file, stderr=subprocess.STDOUT, cwd=directory
        )
    server = BindServer("127.0.0.1", port, KEY_NAME, secret, KEY_ALGORITHM, directory, process)
    try:
        _wait_ready(server, process, log)
        server.reset()
    except BaseException:
        server.stop()
        raise
    return server


@pytest.fixture(scope="session")
def bind_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BindServer]:
    try:
        server = start_named(tmp_path_factory.mktemp("bind"))
    except FileNotFoundError as exc:
        pytest.fail(str(exc))
    with server:
        yield server


@pytest.fixture
def bind_zones(bind_server: BindServer) -> BindServer:
    """The BIND server with every zone back at its baseline."""
    bind_server.reset()
    return bind_server


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A UDP and TCP port on 127.0.0.1 that accepts but never answers: a server that hangs."""
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.bind(("127.0.0.1", 0))
    tcp.listen(8)
    port = tcp.getsockname()[1]
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", port))
    try:
        yield port
    finally:
        tcp.close()
        udp.close()
