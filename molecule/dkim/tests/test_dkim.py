"""OpenDKIM signs what Postfix sends, over SMTP and through sendmail, for each domain with its
own key; the signatures verify against the records the role exported."""

from __future__ import annotations

import json
import os
import re

import pytest

from tests import lab

SCENARIO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOMAINS = ["school.test", "teachers.test"]


@pytest.fixture
def sut(host):
    return lab.instance(host)


@pytest.fixture
def records(host):
    """The records the role exported in the last converge, signing ones by name."""
    path = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], f"dkim-records-{host.backend.host}.json")
    with open(path) as exported:
        return {r["name"]: r for r in json.load(exported) if r["signing"]}


def test_one_key_per_domain_opendkim_only(sut, records):
    assert sorted(r["domain"] for r in records.values()) == DOMAINS
    assert len({r["value"] for r in records.values()}) == len(DOMAINS), "each domain has its own key"
    top = sut.file("/etc/dkimkeys")
    assert (top.user, top.mode) == ("opendkim", 0o700)
    for record in records.values():
        directory = sut.file(f"/etc/dkimkeys/{record['domain']}")
        assert (directory.user, directory.group, directory.mode) == ("opendkim", "opendkim", 0o700)
        key = sut.file(f"/etc/dkimkeys/{record['domain']}/{record['selector']}.private")
        assert (key.user, key.group, key.mode) == ("opendkim", "opendkim", 0o600)
        assert key.content_string.startswith("-----BEGIN PRIVATE KEY-----")
        assert record["value"].startswith("v=DKIM1; k=rsa; p=MIIBIjAN"), "a 2048-bit RSA key"


def test_signer_listens_on_loopback_only(sut):
    assert sut.service("opendkim").is_running
    assert sut.socket("tcp://127.0.0.1:8891").is_listening
    assert not sut.socket("tcp://0.0.0.0:8891").is_listening


def test_postfix_passes_all_mail_to_the_signer(sut):
    assert sut.check_output("postconf -h smtpd_milters non_smtpd_milters milter_default_action").split() == [
        "inet:127.0.0.1:8891",
        "inet:127.0.0.1:8891",
        "accept",
    ]


def _send(sut, via: str, sender: str) -> bytes:
    msg = lab.new_message(sender, "someone@students.test", f"dkim {via}")
    if via == "sendmail":
        lab.sendmail(sut, msg)
    else:
        cmd = sut.run(
            "swaks --silent 2 --server 127.0.0.1:25 --from %s --to someone@students.test "
            "--header %s --header %s --body 'over SMTP'",
            sender,
            f"Subject: {msg['Subject']}",
            f"From: Moodle <{sender}>",
        )
        assert cmd.rc == 0, cmd.stdout + cmd.stderr
    return lab.find_message_bytes(msg["Subject"], "someone@students.test")


@pytest.mark.parametrize("via", ["smtp", "sendmail"])
@pytest.mark.parametrize("domain", DOMAINS)
def test_message_arrives_signed_with_its_domains_key(sut, records, domain, via):
    raw = _send(sut, via, f"noreply@{domain}")
    signature = re.search(rb"DKIM-Signature:(.*?)\n(?=\S)", raw, re.S)
    assert signature, raw[:2000]
    tags = dict(
        (name.strip(), value.strip())
        for name, _, value in (
            t.partition(b"=") for t in re.sub(rb"\s+", b"", signature.group(1)).split(b";")
        )
    )
    own = next(r for r in records.values() if r["domain"] == domain)
    assert (tags[b"d"].decode(), tags[b"s"].decode()) == (domain, own["selector"])
    assert lab.dkim_verify_with_records(raw, {own["name"]: own["value"]})
    # the other domain's key does not verify it: each domain really signs with its own key
    other = next(r for r in records.values() if r["domain"] != domain)
    assert not lab.dkim_verify_with_records(raw, {own["name"]: other["value"]})


def test_imported_key_is_kept_as_given(sut, host):
    """A migration: the old server's key is imported for its selector (here as the next
    selector, so signing is left alone), stored 0600 for opendkim, and its record exported."""
    import base64

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = base64.b64encode(
        key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    ).decode()
    extra = {
        "dkim_next_selector": "migrated",
        "dkim_import_keys": [{"domain": "teachers.test", "selector": "migrated", "private_key": pem}],
    }
    run = lab.converge(SCENARIO, host.backend.host, json.dumps(extra))
    assert pem.split("\n")[1] not in run.stdout + run.stderr, "the private key was printed"
    stored = sut.file("/etc/dkimkeys/teachers.test/migrated.private")
    assert (stored.user, stored.mode) == ("opendkim", 0o600)
    assert stored.content_string.strip() == pem.strip()
    path = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], f"dkim-records-{host.backend.host}.json")
    with open(path) as exported:
        migrated = [r for r in json.load(exported) if r["name"] == "migrated._domainkey.teachers.test"]
    assert [(r["value"], r["signing"]) for r in migrated] == [(f"v=DKIM1; k=rsa; p={public}", False)]
    # signing did not move: the next selector is not in the KeyTable
    assert "migrated" not in sut.file("/etc/opendkim/KeyTable").content_string


def test_stopped_signer_lets_mail_through_unsigned(sut):
    """milter_default_action = accept: while OpenDKIM is down mail leaves unsigned instead of
    being refused or held, and is signed again once it is back."""
    sut.run_expect([0], "systemctl stop opendkim")
    try:
        unsigned = _send(sut, "smtp", "noreply@school.test")
        queued = sut.run("postqueue -j")
    finally:
        sut.run_expect([0], "systemctl start opendkim")
    assert b"DKIM-Signature:" not in unsigned
    assert queued.stdout == "", "mail was held while the signer was down"
    assert b"DKIM-Signature:" in _send(sut, "sendmail", "noreply@school.test")
