"""A rotation through playbooks/rotate_dkim.yml with the selectors published in the lab's DNS
over RFC 2136: every message sent before, during and after it verifies on the lab's MX, which
reads the keys from the lab's DNS as a receiving server would, at the moment it arrives."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import dns.resolver
import pytest

from tests import lab

ROTATE = str(lab.ROOT / "playbooks" / "rotate_dkim.yml")
DOMAINS = ["school.test", "teachers.test"]
DNS_IP = lab.LAB["lab_parts"]["dns"]["ip"]
OVERLAP = 20


@pytest.fixture
def sut(host):
    return lab.instance(host)


@pytest.fixture
def dns_options():
    return {
        "provider": "rfc2136",
        "server": DNS_IP,
        "port": 53,
        "tsig_key_name": lab.LAB["lab_tsig_key_name"],
        "tsig_key_secret": lab.tsig_secret(),
    }


def dkim_record(options: dict, **args) -> None:
    """Run lms.mail.dkim_record on the controller, as the DNS role will."""
    run = subprocess.run(
        [
            "ansible",
            "localhost",
            "-i",
            "localhost,",
            "-c",
            "local",
            "-e",
            f"ansible_python_interpreter={sys.executable}",
            "-m",
            "lms.mail.dkim_record",
            "-a",
            json.dumps({**options, **args}),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]


def published(name: str) -> list[str]:
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [DNS_IP]
    try:
        return [b"".join(r.strings).decode() for r in resolver.resolve(name, "TXT")]
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []


def send_and_verify(sut, domain: str) -> tuple[str, bool, str]:
    """Send through sendmail, wait for the message on the MX and verify it there at once:
    (selector, verified, dkimverify's words)."""
    msg = lab.new_message(f"noreply@{domain}", "someone@students.test", "rotation")
    lab.sendmail(sut, msg)
    raw = lab.find_message_bytes(msg["Subject"], "someone@students.test")
    selector = re.search(rb"DKIM-Signature:.*?\bs=([^;\s]+)", raw, re.S)
    result = lab.dkim_verify_on_mx(raw)
    return (
        selector.group(1).decode() if selector else "",
        result.returncode == 0,
        (result.stdout + result.stderr).decode().strip(),
    )


@pytest.fixture
def cleanup_dns(dns_options):
    """Selectors this test publishes, removed from the lab's DNS at the end whatever happened."""
    names: list[tuple[str, str]] = []
    yield names
    for domain, selector in names:
        dkim_record(dns_options, domain=domain, selector=selector, state="absent")


def test_every_message_verifies_before_during_and_after_a_rotation(sut, host, dns_options, cleanup_dns):
    name = host.backend.host
    release = name.rsplit("-", 1)[1]
    old = json.loads(sut.file("/etc/dkimkeys/lms-mail-selectors.json").content_string)
    assert sorted(old) == DOMAINS
    number = max(int(re.search(r"(\d+)$", s).group(1)) for s in old.values())
    new = f"{release}{number + 1}"
    cleanup_dns += [(d, s) for d in DOMAINS for s in (old[d], new)]

    # before: the keys the host signs with now, published
    for domain, selector in old.items():
        public = sut.check_output("openssl pkey -pubout -in /etc/dkimkeys/%s/%s.private", domain, selector)
        dkim_record(dns_options, domain=domain, selector=selector, public_key=public)
    results = {"before": [send_and_verify(sut, d) for d in DOMAINS], "during": [], "after": []}

    extra = {
        "dkim_rotate_hosts": name,
        "dkim_rotate_next_selector": new,
        "dkim_rotate_dns": dns_options,
        "dkim_rotate_resolver": [DNS_IP],
        "dkim_rotate_overlap": OVERLAP,
        "dkim_rotate_poll_interval": 2,
        "dkim_rotate_publish_timeout": 120,
    }
    started = time.monotonic()
    with subprocess.Popen(
        ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], "-e", json.dumps(extra), ROTATE],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as rotation:
        turn = 0
        while rotation.poll() is None and time.monotonic() - started < 600:
            results["during"].append(send_and_verify(sut, DOMAINS[turn % 2]))
            turn += 1
        if rotation.poll() is None:
            rotation.kill()
        output = rotation.communicate()[0]
    assert rotation.returncode == 0, output[-4000:]
    results["after"] = [send_and_verify(sut, d) for d in DOMAINS]

    failed = {when: [r for r in rs if not r[1]] for when, rs in results.items()}
    assert failed == {"before": [], "during": [], "after": []}, results
    assert {r[0] for r in results["before"]} == set(old.values())
    assert {r[0] for r in results["after"]} == {new}
    # the window was really exercised: messages signed with the old and the new key during it
    assert {r[0] for r in results["during"]} == set(old.values()) | {new}, results["during"]

    # after the overlap the old selectors are retired: record and key gone, the new ones stay
    for domain in DOMAINS:
        assert published(f"{old[domain]}._domainkey.{domain}") == []
        assert published(f"{new}._domainkey.{domain}")[0].startswith("v=DKIM1; k=rsa; p=")
        assert not sut.file(f"/etc/dkimkeys/{domain}/{old[domain]}.private").exists
        assert sut.file(f"/etc/dkimkeys/{domain}/{new}.private").mode == 0o600
    assert json.loads(sut.file("/etc/dkimkeys/lms-mail-selectors.json").content_string) == dict.fromkeys(
        DOMAINS, new
    )

    # an ordinary run afterwards keeps the new selector and changes nothing on the host
    state = (
        "sha256sum /etc/opendkim.conf /etc/opendkim/* /etc/dkimkeys/*.json; "
        "systemctl show -p MainPID opendkim"
    )
    before = sut.check_output(state)
    lab.converge(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), name)
    assert sut.check_output(state) == before
