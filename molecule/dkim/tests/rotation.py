"""The rotation tests' helpers: publish and read DKIM records in the lab's DNS, run the rotation
playbook, send a message and verify every signature on the lab's MX."""

from __future__ import annotations

import json
import os
import re
import subprocess

import dns.resolver

from tests import lab

ROTATE = str(lab.ROOT / "playbooks" / "rotate_dkim.yml")
DOMAINS = ["school.test", "teachers.test"]
DNS_IP = lab.LAB["lab_parts"]["dns"]["ip"]


dns_options = lab.dns_options


def dns_role_vars() -> dict:
    """The inventory's dns_* settings for the lab's DNS, as lms.mail.dns (and so the rotation)
    takes them; lookups through the lab's DNS only."""
    options = dns_options()
    return {
        "dns_provider": options["provider"],
        "dns_server": options["server"],
        "dns_port": options["port"],
        "dns_tsig_key_name": options["tsig_key_name"],
        "dns_tsig_key_secret": options["tsig_key_secret"],
        "dns_resolver": [DNS_IP],
    }


def dkim_record(options: dict, **args) -> None:
    """Run lms.mail.dkim_record on the controller, as the DNS role will."""
    lab.dns_module("lms.mail.dkim_record", {**options, **args})


def published(name: str) -> list[str]:
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [DNS_IP]
    try:
        return [b"".join(r.strings).decode() for r in resolver.resolve(name, "TXT")]
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []


def send_and_verify(sut, domain: str) -> tuple[str, int, bool, str]:
    """Send through sendmail, wait for the message on the MX and verify each of its signatures
    there at once: (the RSA signature's selector, the number of signatures, all verified,
    dkimverify's words)."""
    msg = lab.new_message(f"noreply@{domain}", "someone@students.test", "rotation")
    lab.sendmail(sut, msg)
    raw = lab.find_message_bytes(msg["Subject"], "someone@students.test")
    signatures = lab.dkim_signatures(raw)
    results = [lab.dkim_verify_on_mx(raw, index) for index in range(len(signatures))]
    words = [(r.stdout + r.stderr).decode().strip() for r in results]
    return (
        next((s["s"] for s in signatures if s["a"] == "rsa-sha256"), ""),
        len(signatures),
        bool(results) and all(r.returncode == 0 for r in results),
        " / ".join(f"{s['s']}: {w}" for s, w in zip(signatures, words, strict=True)),
    )


def keys(selector: str, ed25519: bool) -> list[tuple[str, str]]:
    """The (selector, key type) of each key a domain has for an RSA selector."""
    return [(selector, "rsa")] + ([(f"{selector}-ed25519", "ed25519")] if ed25519 else [])


def current_and_next(sut, host) -> tuple[dict[str, str], str]:
    """The selector each domain signs with now, and a new one for the next rotation:
    the platform's release and the next number (bookworm1 -> bookworm2)."""
    current = json.loads(sut.file("/var/lib/lms-mail/dkim-selectors.json").content_string)
    assert sorted(current) == DOMAINS
    number = max(int(re.search(r"(\d+)$", s).group(1)) for s in current.values())
    return current, f"{host.backend.host.rsplit('-', 1)[1]}{number + 1}"


def rotate(extra: dict, **popen) -> subprocess.Popen:
    """Start playbooks/rotate_dkim.yml on the scenario's inventory, output as one stream."""
    return subprocess.Popen(
        ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], "-e", json.dumps(extra), ROTATE],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **popen,
    )
