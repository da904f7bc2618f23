"""A rotation without a DNS provider (dns_provider none): lms.mail.dns prints the records to
publish and the playbook waits until they resolve (here the test publishes exactly what was
printed, as whoever edits the zone would), switches signing, and leaves the old selectors to a
later run, which prints what to remove and deletes the old keys once the overlap has passed.
On the platform that signs with Ed25519 too, so that both kinds of record are printed; the
paths do not depend on the release."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time

import pytest
from rotation import (
    DNS_IP,
    DOMAINS,
    current_and_next,
    dkim_record,
    dns_options,
    keys,
    published,
    rotate,
    send_and_verify,
)

from tests import lab

# A day: the runs of this test (minutes each on a loaded machine) all fall within it. A CI run at
# a load of 7-10 took longer than the 120 s this was, and its "early" run retired the old keys;
# the overlap's end is brought forward in the state file instead (let_the_overlap_pass).
OVERLAP = 86400
RETIRING = "/var/lib/lms-mail/dkim-retiring.json"


@pytest.fixture
def sut(host, ed25519):
    if not ed25519:
        pytest.skip("on the platform that prints both kinds of record")
    return lab.instance(host)


def printed(line: str, prefix: str) -> str | None:
    """The message of a debug task that starts with prefix, from a line of JSON output."""
    found = re.search(r'"msg": (".*")\s*}?$', line)
    message = json.loads(found.group(1)) if found else ""
    return message if message.startswith(prefix) else None


def retire_only(name: str) -> str:
    extra = {"dkim_rotate_hosts": name, "dkim_rotate_retire_only": True}
    with rotate(extra, env=json_output()) as run:
        output = run.communicate()[0]
    assert run.returncode == 0, output[-3000:]
    return output


def json_output() -> dict:
    # one line per message, whatever the result format of the scenario's configuration, and no
    # colours (Molecule forces them)
    return {
        **os.environ,
        "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_NOCOLOR": "1",
    }


def let_the_overlap_pass(sut, waiting: list[dict]) -> None:
    """What the days of the overlap do: every waiting selector's time has come. The playbook
    compares retire_after with the controller's clock, this test's; the file stays root's, 0600."""
    passed = json.dumps([{**r, "retire_after": int(time.time()) - 1} for r in waiting])
    write = "python3 -c 'import sys; open(sys.argv[1], \"w\").write(sys.argv[2])' %s %s"
    sut.check_output(write, RETIRING, passed)


def test_rotation_with_records_published_by_hand(sut, host, cleanup_dns):
    name = host.backend.host
    old, new = current_and_next(sut, host)
    cleanup_dns += [(d, k) for d in DOMAINS for s in (old[d], new) for k, _ in keys(s, True)]
    extra = {
        "dkim_rotate_hosts": name,
        "dkim_rotate_next_selector": new,
        "dkim_rotate_resolver": [DNS_IP],
        "dkim_rotate_overlap": OVERLAP,
        "dkim_rotate_wait_max": 0,
        "dkim_rotate_poll_interval": 2,
        "dkim_rotate_publish_timeout": 120,
    }
    records: dict[str, str] = {}
    with rotate(extra, env=json_output()) as rotation:
        lines = []
        for line in rotation.stdout:
            lines.append(line)
            record = printed(line, "Publish by hand: ")
            if record:
                # lms.mail.dns's zone-file line: NAME. IN TXT "..." "..."  ; note
                found = re.match(r'Publish by hand: (\S+)\. (?:\d+ )?IN TXT ((?:"[^"]*"\s*)+)', record)
                owner, value = found.group(1), "".join(re.findall(r'"([^"]*)"', found.group(2)))
                selector, domain = owner.split("._domainkey.")
                key_type = re.search(r"\bk=(\w+)", value).group(1)
                dkim_record(
                    dns_options(), domain=domain, selector=selector, public_key=value, key_type=key_type
                )
                records[owner] = value
        rotation.wait()
    output = "".join(lines)
    assert rotation.returncode == 0, output[-4000:]
    # the current and the next keys of both domains were printed, RSA and Ed25519, nothing else
    assert sorted(records) == sorted(
        f"{k}._domainkey.{d}" for d in DOMAINS for s in (old[d], new) for k, _ in keys(s, True)
    )

    # signing moved; each signature verifies through the lab's DNS with the records as printed
    for domain in DOMAINS:
        selector, signatures, verified, words = send_and_verify(sut, domain)
        assert (selector, signatures, verified) == (new, 2, True), words
    # the old keys wait for their overlap, named with the date they may go
    for domain in DOMAINS:
        for key, _ in keys(old[domain], True):
            assert f"{key}._domainkey.{domain} stays published until" in output
            assert sut.file(f"/etc/dkimkeys/{domain}/{key}.private").exists

    waiting = json.loads(sut.file(RETIRING).content_string)
    assert sorted(r["name"] for r in waiting) == sorted(
        f"{k}._domainkey.{d}" for d in DOMAINS for k, _ in keys(old[d], True)
    )

    # a retire-only run within the overlap removes nothing
    early = retire_only(name)
    assert "Remove by hand: " not in early
    assert "stays published until" in early

    let_the_overlap_pass(sut, waiting)
    assert (sut.file(RETIRING).user, sut.file(RETIRING).mode) == ("root", 0o600)
    late = retire_only(name)
    removed = sorted(filter(None, (printed(line, "Remove by hand: ") for line in late.splitlines())))
    assert removed == sorted(
        f"Remove by hand: {k}._domainkey.{d}. IN TXT" for d in DOMAINS for k, _ in keys(old[d], True)
    )
    for domain in DOMAINS:
        for key, _ in keys(old[domain], True):
            assert not sut.file(f"/etc/dkimkeys/{domain}/{key}.private").exists
        for key, _ in keys(new, True):
            assert published(f"{key}._domainkey.{domain}") == [records[f"{key}._domainkey.{domain}"]]
    assert json.loads(sut.file(RETIRING).content_string) == []
    # nothing left to retire: a further run changes nothing
    assert "Remove by hand: " not in retire_only(name)

    # the dkim role's retire entry point refuses a key the host signs with, and keeps it
    signing = [{"domain": domain, "selector": key} for domain in DOMAINS for key, _ in keys(new, True)]
    retire = ["-m", "ansible.builtin.include_role", "-a", "name=lms.mail.dkim tasks_from=retire"]
    inventory = ["-i", os.environ["MOLECULE_INVENTORY_FILE"]]
    extra = ["-e", json.dumps({"dkim_retire": signing})]
    refused = subprocess.run(["ansible", name, *inventory, *retire, *extra], capture_output=True, text=True)
    assert refused.returncode != 0, refused.stdout[-2000:]
    assert "names selectors the host signs with" in refused.stdout, refused.stdout[-2000:]
    for key in signing:
        assert sut.file(f"/etc/dkimkeys/{key['domain']}/{key['selector']}.private").exists
