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


def exported(host) -> list[dict]:
    path = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], f"dkim-records-{host.backend.host}.json")
    with open(path) as exported:
        return json.load(exported)


@pytest.fixture
def records(host):
    """The records the role exported in the last converge, signing ones by name."""
    return {r["name"]: r for r in exported(host) if r["signing"]}


def test_one_key_per_domain_and_algorithm_root_s_read_by_opendkim_only(sut, records, ed25519):
    algorithms = ["ed25519", "rsa"] if ed25519 else ["rsa"]
    assert sorted((r["domain"], r["algorithm"]) for r in records.values()) == sorted(
        (d, a) for d in DOMAINS for a in algorithms
    )
    assert len({r["value"] for r in records.values()}) == len(records), "each key is its own"
    # opendkim reads, never writes: it can plant nothing that root would write through
    top = sut.file("/etc/dkimkeys")
    assert (top.user, top.group, top.mode) == ("root", "opendkim", 0o750)
    for record in records.values():
        directory = sut.file(f"/etc/dkimkeys/{record['domain']}")
        assert (directory.user, directory.group, directory.mode) == ("root", "opendkim", 0o750)
        key = sut.file(f"/etc/dkimkeys/{record['domain']}/{record['selector']}.private")
        assert (key.user, key.group, key.mode) == ("root", "opendkim", 0o640)
        assert key.content_string.startswith("-----BEGIN PRIVATE KEY-----")
        if record["algorithm"] == "rsa":
            assert record["value"].startswith("v=DKIM1; k=rsa; p=MIIBIjAN"), "a 2048-bit RSA key"
        else:
            # RFC 8463: the raw 32-byte key, not a SubjectPublicKeyInfo
            assert re.fullmatch(r"v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=", record["value"])
            assert record["selector"].endswith("-ed25519")


def test_signers_listen_on_loopback_only(sut, ed25519):
    services = {"opendkim": 8891, "opendkim-ed25519": 8892}
    for service, port in services.items():
        running = service == "opendkim" or ed25519
        assert sut.service(service).is_running == running
        assert sut.socket(f"tcp://127.0.0.1:{port}").is_listening == running
        assert not sut.socket(f"tcp://0.0.0.0:{port}").is_listening


def test_postfix_takes_all_mail_and_signs_it_after_the_queue(sut, ed25519):
    """postfix_milter_mode after_queue: no milter where Moodle hands mail over (port 25 and
    sendmail), so it is never refused; the queue passes every message to the signing smtpd on
    loopback, whose milters hold it (tempfail) while a signer does not answer."""
    chain = "inet:127.0.0.1:8891" + (",inet:127.0.0.1:8892" if ed25519 else "")
    assert sut.check_output("postconf -h smtpd_milters non_smtpd_milters content_filter").split("\n") == [
        "",
        "",
        "dkimsign:[127.0.0.1]:10026",
    ]
    signing = "postconf -Ph 127.0.0.1:10026/inet/%s"
    assert sut.check_output(signing, "smtpd_milters") == chain
    assert sut.check_output(signing, "milter_default_action") == "tempfail"
    assert sut.check_output(signing, "content_filter") == ""
    assert sut.socket("tcp://127.0.0.1:10026").is_listening
    assert not sut.socket("tcp://0.0.0.0:10026").is_listening


def test_signers_are_restarted_whatever_ends_them(sut, ed25519):
    for service in ["opendkim", "opendkim-ed25519"] if ed25519 else ["opendkim"]:
        assert sut.check_output("systemctl show -p Restart --value %s", service) == "always"


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
def test_message_arrives_signed_with_its_domains_keys(sut, records, ed25519, domain, via):
    raw = _send(sut, via, f"noreply@{domain}")
    signatures = lab.dkim_signatures(raw)
    own = {r["algorithm"]: r for r in records.values() if r["domain"] == domain}
    # the Ed25519 signer comes second in Postfix's chain, so its header is on top
    assert [(s["a"], s["d"], s["s"]) for s in signatures] == [
        (f"{algorithm}-sha256", domain, own[algorithm]["selector"])
        for algorithm in (["ed25519", "rsa"] if ed25519 else ["rsa"])
    ], raw[:3000]
    published = {r["name"]: r["value"] for r in records.values()}
    for index in range(len(signatures)):
        assert lab.dkim_verify_with_records(raw, published, index), signatures[index]
    # another domain's key does not verify it: each domain really signs with its own keys
    other = next(r for r in records.values() if r["domain"] != domain and r["algorithm"] == "rsa")
    rsa = [s["a"] for s in signatures].index("rsa-sha256")
    assert not lab.dkim_verify_with_records(raw, {own["rsa"]["name"]: other["value"]}, rsa)


def test_imported_key_is_kept_as_given(sut, host):
    """A migration: the old server's key is imported for its selector (here as the next
    selector, so signing is left alone), stored root's 0640 for opendkim to read, and its record exported.
    On one platform: the import is the role's and openssl's, whatever the release (and the
    scenario is the longest lane)."""
    import base64

    if not host.backend.host.endswith("bookworm"):
        pytest.skip("an import does not depend on the release")

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
    assert (stored.user, stored.group, stored.mode) == ("root", "opendkim", 0o640)
    assert stored.content_string.strip() == pem.strip()
    migrated = [r for r in exported(host) if r["name"] == "migrated._domainkey.teachers.test"]
    assert [(r["value"], r["signing"]) for r in migrated] == [(f"v=DKIM1; k=rsa; p={public}", False)]
    # signing did not move: the next selector is not in the KeyTable
    assert "migrated" not in sut.file("/etc/opendkim/KeyTable").content_string


def test_ed25519_signer_goes_and_comes_back_with_its_keys(sut, host, ed25519):
    """Turned off, the second signer is stopped and removed and Postfix's chain is the RSA
    signer alone; the keys stay, so turned on again the same keys sign."""
    if not ed25519:
        pytest.skip("on the platform that signs with Ed25519")
    keys = "sha256sum /etc/dkimkeys/*/*-ed25519.private"
    before = sut.check_output(keys)
    lab.converge(SCENARIO, host.backend.host, '{"dkim_ed25519": false}')
    try:
        assert not sut.service("opendkim-ed25519").is_running
        assert not sut.file("/etc/systemd/system/opendkim-ed25519.service").exists
        assert not sut.file("/etc/opendkim-ed25519.conf").exists
        assert sut.check_output("postconf -Ph 127.0.0.1:10026/inet/smtpd_milters") == "inet:127.0.0.1:8891"
        raw = _send(sut, "sendmail", "noreply@teachers.test")
        assert [s["a"] for s in lab.dkim_signatures(raw)] == ["rsa-sha256"]
    finally:
        lab.converge(SCENARIO, host.backend.host)
    assert sut.service("opendkim-ed25519").is_running
    assert sut.check_output(keys) == before


def test_check_mode_on_a_converged_host_changes_nothing(sut, host, ed25519):
    """On the platform with both signers, whose tasks are a superset of the other's: the roles'
    tasks do not depend on the release (Postfix's check mode on both releases is the direct
    scenario's)."""
    if not ed25519:
        pytest.skip("on the platform with both signers")
    state = (
        "find /etc/opendkim* /etc/dkimkeys -type f -exec sha256sum {} +; systemctl show -p MainPID opendkim"
    )
    before = sut.check_output(state)
    run = lab.converge(SCENARIO, host.backend.host, options=("--check", "--diff"))
    assert lab.recap(run, host.backend.host)["changed"] == 0, lab.changed_tasks(run)
    assert sut.check_output(state) == before
