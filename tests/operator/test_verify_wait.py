"""After publishing through a provider, the proof waits until the authoritative name servers
answer with the new records (issue 11, point 6), against the lab's BIND: records of this test's
own (names under w<random>.school.test, so that tests using the lab DNS at the same time are not
disturbed) are published by an RFC 2136 update a few seconds after the wait asked for them; the
wait finds school.test's name server through a resolver of the test's own (it forwards to the lab
resolver, and tells the test when the wait has looked up every name's zone: the wait does that just
before it first asks the name server for that record, so the first round's last question follows
at once, however slowly the run started; the update goes DELAY s later), asks the name server
(NS ns.lab.test) directly, ends when it answers with them and says how long it took.
Unpublished, the wait ends at its bound and says what the server answered instead. Every name is
deleted afterwards."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import dns.message
import dns.name
import dns.rdataset
import pytest
import yaml

from tests.lab import LAB
from tests.operator.lab_dns import update

ROOT = Path(__file__).resolve().parents[2]
DNS_SERVER = LAB["lab_parts"]["dns"]["ip"]
ZONE = LAB["lab_customer_domain"]
DELAY = 4.0  # seconds between the wait's first questions and the update


@pytest.fixture
def domain():
    """A domain of this test's own in the lab's updatable zone; its names are removed after."""
    name = f"w{uuid.uuid4().hex[:8]}.{ZONE}"
    yield name
    for owner in (name, f"_dmarc.{name}"):
        update(ZONE, lambda message, owner=owner: message.delete(owner))


def records(domain: str) -> list[dict]:
    """As the dns role exports them (dns_published)."""
    return [
        {"kind": "spf", "name": domain, "type": "TXT", "value": "v=spf1 -all"},
        {"kind": "dmarc", "name": f"_dmarc.{domain}", "type": "TXT", "value": "v=DMARC1; p=reject"},
    ]


class Resolver:
    """A resolver on loopback that forwards each question to the lab resolver and answers with
    its answer; `asked` is set once every one of the names has been asked about (the wait looks up
    each record's zone through it in its first round, just before asking the name server for it)."""

    def __init__(self, names: list[str]):
        self.waiting = {dns.name.from_text(name) for name in names}
        self.asked = threading.Event()
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.settimeout(0.2)  # to see `closed` in time
        self.port = self.socket.getsockname()[1]
        self.closed = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while not self.closed.is_set():
            try:
                wire, client = self.socket.recvfrom(65535)
            except TimeoutError:
                continue
            question = dns.message.from_wire(wire).question
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as upstream:
                upstream.settimeout(10)
                try:
                    upstream.sendto(wire, (DNS_SERVER, 53))
                    answer, _ = upstream.recvfrom(65535)
                    self.socket.sendto(answer, client)
                except OSError:  # no answer: the wait's own timeout says so
                    continue
            self.waiting -= {q.name for q in question}
            if not self.waiting:
                self.asked.set()

    def close(self) -> None:
        self.closed.set()
        self.thread.join()
        self.socket.close()


@contextlib.contextmanager
def published_after_asked(found: list[dict]):
    """A resolver for the wait; the records are published DELAY s after the wait asked about all
    of their names (the time the update was sent is then the yielded list's one item)."""
    resolver = Resolver([record["name"] for record in found])
    sent: list[float] = []
    over = threading.Event()

    def publish() -> None:
        resolver.asked.wait(600)
        if over.is_set() or over.wait(DELAY):
            return  # the wait ended before it asked: the test's own assertions say so
        for record in found:
            owner = dns.name.from_text(record["name"])
            rdataset = dns.rdataset.from_text("IN", "TXT", 300, json.dumps(record["value"]))
            update(ZONE, lambda message, owner=owner, rdataset=rdataset: message.replace(owner, rdataset))
        sent.append(time.monotonic())

    publisher = threading.Thread(target=publish, daemon=True)
    publisher.start()
    try:
        yield resolver, sent
    finally:
        over.set()
        resolver.asked.set()
        publisher.join()
        resolver.close()


def env() -> dict:
    return dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")


def wait_module(args: dict) -> dict:
    """lms.mail.dns_records_wait on the controller, as the verify role runs it; its result."""
    run = subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible"), "localhost", "-i", "localhost,", "-c", "local",
            "-e", f"ansible_python_interpreter={sys.executable}",
            "-m", "lms.mail.dns_records_wait", "-a", json.dumps(args),
        ],
        cwd=ROOT, env=env(), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    return yaml.safe_load(run.stdout.split(" => ", 1)[1])


def test_the_wait_ends_when_the_name_server_answers_with_the_records_and_says_after_how_long(domain):
    expected = records(domain)
    with published_after_asked(expected) as (resolver, sent):
        result = wait_module(
            {"records": expected, "resolver": ["127.0.0.1"], "resolver_port": resolver.port,
             "timeout": 120, "interval": 1}
        )  # fmt: skip
        ended = time.monotonic()
    assert sent and sent[0] <= ended
    assert result["ready"] is True and result["missing"] == [] and result["records"] == 2
    assert result["servers"] == {ZONE: [f"ns.lab.test ({DNS_SERVER})"]}
    # it asked before the update (sent DELAY s after its questions), and waited for it
    assert result["rounds"] >= 2 and result["waited"] >= DELAY
    assert result["report"] == (
        "the authoritative name servers answer with the 2 record(s) published after "
        f"{result['waited']:.0f} s ({ZONE}: ns.lab.test ({DNS_SERVER}))"
    )


def test_the_wait_is_bounded_and_reports_what_the_server_answers_instead(domain):
    started = time.monotonic()
    result = wait_module({"records": records(domain), "resolver": [DNS_SERVER], "timeout": 3, "interval": 1})
    assert time.monotonic() - started < 30
    assert result["ready"] is False and 2 <= result["waited"] <= 3 + 2 * 3  # + one round's questions
    assert result["missing"] == [
        f"{domain} TXT at ns.lab.test ({DNS_SERVER}): NXDOMAIN (the name does not exist there yet)",
        f"_dmarc.{domain} TXT at ns.lab.test ({DNS_SERVER}): NXDOMAIN (the name does not exist there yet)",
    ]
    assert result["report"].startswith(f"after {result['waited']:.0f} s (")


def verify_play(tmp_path: Path, variables: dict) -> subprocess.CompletedProcess:
    """lms.mail.verify on the controller, as after the dns role published through rfc2136."""
    facts = tmp_path / "facts.json"
    playbook = [
        {
            "name": "The proof after publishing",
            "hosts": "localhost",
            "connection": "local",
            "gather_facts": False,
            "vars": {"ansible_python_interpreter": sys.executable, **variables},
            "roles": ["lms.mail.verify"],
            "post_tasks": [
                {
                    "name": "Keep the verdict",
                    "ansible.builtin.copy": {
                        "content": "{{ {'passed': verify_passed, 'report': verify_report,"
                        " 'problems': verify_problems} | to_json }}",
                        "dest": str(facts),
                    },
                }
            ],
        }
    ]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(playbook, sort_keys=False))
    run = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", tmp_path / "play.yml"],
        cwd=ROOT, env=env(), capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    run.facts = json.loads(facts.read_text()) if facts.exists() else None  # type: ignore[attr-defined]
    return run


def test_verify_waits_for_the_records_published_through_rfc2136_before_judging(domain, tmp_path):
    published = records(domain)
    variables = {
        # as the dns role exports them after publishing through rfc2136
        "dns_provider_published": published,
        "verify_domains": [domain],
        "verify_transport": "relay_corporate",  # receivers judge the relay's address: no PTR, no IP
        "verify_dkim_records": [],
        "verify_resolver": ["127.0.0.1"],  # the test's resolver (its port below)
        "verify_wait_interval": 1,
        "verify_wait_timeout": 120,
    }
    with published_after_asked(published) as (resolver, sent):
        run = verify_play(tmp_path, {**variables, "verify_resolver_port": resolver.port})
    assert run.returncode == 0, run.stdout[-4000:]
    assert run.facts["problems"] == [] and run.facts["passed"] is True
    (served,) = [line for line in run.facts["report"] if line.startswith("DNS served: ")]
    assert served.startswith(
        "DNS served: the authoritative name servers answer with the 2 record(s) published"
    )
    waited = int(served.split(" published after ", 1)[1].split(" s ", 1)[0])
    assert sent and waited >= DELAY
    # the report the run shows (the YAML callback folds long lines)
    assert " ".join(served.split()) in " ".join(run.stdout.split())

    # the records left to a person (dns_provider none) are not exported to wait for
    run = verify_play(tmp_path, {**variables, "verify_resolver": [DNS_SERVER], "dns_provider_published": []})
    assert run.returncode == 0, run.stdout[-4000:]
    assert not [line for line in run.facts["report"] if line.startswith("DNS served: ")]
