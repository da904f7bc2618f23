"""A rotation through playbooks/rotate_dkim.yml with the selectors published in the lab's DNS
over RFC 2136: every message sent before, during and after it verifies on the lab's MX, which
reads the keys from the lab's DNS as a receiving server would, at the moment it arrives; with
Ed25519 on, both signatures of every message, the two keys rotating together. On the Debian 13
platform, whose RSA and Ed25519 keys rotate together: the playbook's path does not depend on the
release, and RSA alone is the part of it Debian 12 would take."""

from __future__ import annotations

import json
import os
import time

import pytest
from rotation import (
    DOMAINS,
    current_and_next,
    dkim_record,
    dns_options,
    dns_role_vars,
    keys,
    published,
    rotate,
    send_and_verify,
)

from tests import lab

OVERLAP = 20


@pytest.fixture
def sut(host, ed25519):
    if not ed25519:
        pytest.skip("on the platform whose RSA and Ed25519 keys rotate together")
    return lab.instance(host)


def test_every_message_verifies_before_during_and_after_a_rotation(sut, host, ed25519, cleanup_dns):
    name = host.backend.host
    old, new = current_and_next(sut, host)
    options = dns_options()
    cleanup_dns += [(d, k) for d in DOMAINS for s in (old[d], new) for k, _ in keys(s, ed25519)]

    # before: the keys the host signs with now, published
    for domain, selector in old.items():
        for key, key_type in keys(selector, ed25519):
            public = sut.check_output("openssl pkey -pubout -in /etc/dkimkeys/%s/%s.private", domain, key)
            dkim_record(options, domain=domain, selector=key, public_key=public, key_type=key_type)
    results = {"before": [send_and_verify(sut, d) for d in DOMAINS], "during": [], "after": []}

    extra = {
        "dkim_rotate_hosts": name,
        "dkim_rotate_next_selector": new,
        **dns_role_vars(),
        "dkim_rotate_overlap": OVERLAP,
        "dkim_rotate_poll_interval": 2,
        "dkim_rotate_publish_timeout": 120,
    }
    started = time.monotonic()
    with rotate(extra) as rotation:
        turn = 0
        while rotation.poll() is None and time.monotonic() - started < 600:
            results["during"].append(send_and_verify(sut, DOMAINS[turn % 2]))
            turn += 1
        if rotation.poll() is None:
            rotation.kill()
        output = rotation.communicate()[0]
    assert rotation.returncode == 0, output[-4000:]
    results["after"] = [send_and_verify(sut, d) for d in DOMAINS]

    # every message carries every signature, and each verifies
    signatures = len(keys(new, ed25519))
    failed = {when: [r for r in rs if not r[2] or r[1] != signatures] for when, rs in results.items()}
    assert failed == {"before": [], "during": [], "after": []}, results
    assert {r[0] for r in results["before"]} == set(old.values())
    assert {r[0] for r in results["after"]} == {new}
    # the window was really exercised: messages signed with the old and the new key during it
    assert {r[0] for r in results["during"]} == set(old.values()) | {new}, results["during"]

    # after the overlap the old selectors are retired: records and keys gone, the new ones stay
    for domain in DOMAINS:
        for key, _ in keys(old[domain], ed25519):
            assert published(f"{key}._domainkey.{domain}") == []
            assert not sut.file(f"/etc/dkimkeys/{domain}/{key}.private").exists
        for key, key_type in keys(new, ed25519):
            assert published(f"{key}._domainkey.{domain}")[0].startswith(f"v=DKIM1; k={key_type}; p=")
            assert sut.file(f"/etc/dkimkeys/{domain}/{key}.private").mode == 0o640
    assert json.loads(sut.file("/var/lib/lms-mail/dkim-selectors.json").content_string) == dict.fromkeys(
        DOMAINS, new
    )

    # an ordinary run afterwards keeps the new selector and changes nothing on the host
    state = (
        "find /etc/opendkim* /etc/dkimkeys -name '*.private' -prune -o -type f -exec sha256sum {} +; "
        "systemctl show -p MainPID opendkim"
    )
    before = sut.check_output(state)
    lab.converge(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), name)
    assert sut.check_output(state) == before
