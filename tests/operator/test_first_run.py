"""Issue 11's Done-when as one operator's first run: the built tarball installed into an empty
collections path on a controller made from the declared requirements only (conftest.py's
controller), a copy of the installed inventory template filled in for a lab host the roles never
ran on, `dns_provider: none` (the template's default):

1. `ansible-playbook lms.mail.site` ends with the records block and "pending: publish the records
   in <file>, then run playbooks/verify.yml", exit 0;
2. `ansible-playbook lms.mail.verify` fails while they are missing;
3. the written .zone file, parsed by dnspython, is loaded into the lab DNS as a person would
   enter it;
4. `ansible-playbook lms.mail.site --tags dns,verify` (the records, the proof): the proof passes,
   nothing pending, changed=0.

The lab DNS is shared with other tests running at the same time: the host's domain is a name of
this test's own under school.test (op<random>.school.test), its address a dynamic one; every
name the test adds is deleted afterwards. The host's own A record is added first, as a
customer's server has one before lms.mail runs. Between the controller and the host, podman
stands in for SSH (the lab's lab_podman connection, from the clone's lab/connection_plugins, over
containers.podman from the clone's virtualenv, on a collections path of its own beside the empty
one that holds lms.mail): the controller itself has only what a customer's has."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path
from types import SimpleNamespace

import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.reversename
import dns.tsigkeyring
import dns.update
import dns.zone
import pytest

from tests.lab import LAB
from tests.operator.lab_dns import remove, update, zone_of
from tests.operator.test_readme_customer_steps import fill_in, lab_host

MARK = uuid.uuid4().hex[:6]
DOMAIN = f"op{MARK}.{LAB['lab_customer_domain']}"
HOSTNAME = f"moodle.{DOMAIN}"
ROOT = Path(__file__).resolve().parents[2]
CONNECTION = ROOT / ".venv/lib/python3.11/site-packages/ansible_collections"


def load_zone_file(text: str, added: set[dns.name.Name]) -> int:
    """The .zone file's lines into the lab DNS: dnspython parses them (absolute names), each
    name's records go in as written. The names are this test's own; returns how many records."""
    head = "$ORIGIN .\n$TTL 3600\n"
    parsed = dns.zone.from_text(head + text, origin=dns.name.root, relativize=False, check_origin=False)
    count = 0
    for name, rdataset in parsed.iterate_rdatasets():
        assert name.is_subdomain(dns.name.from_text(DOMAIN)) or rdataset.rdtype == dns.rdatatype.PTR, name
        added.add(name)
        update(zone_of(name), lambda message, name=name, rdataset=rdataset: message.replace(name, rdataset))
        count += len(rdataset)
    return count


@pytest.fixture(scope="module")
def first_run_host():
    """A lab host the roles never ran on, with its A record; every name added is removed after."""
    name = f"lmsmail-firstrun-{MARK}"
    added: set[dns.name.Name] = set()
    with lab_host(name, HOSTNAME, purge=False) as address:
        try:
            host = dns.name.from_text(HOSTNAME)
            added |= {host, dns.name.from_text(DOMAIN), dns.reversename.from_address(address)}
            update(zone_of(host), lambda message: message.replace(host, 300, "A", address))
            yield SimpleNamespace(name=name, address=address, added=added)
        finally:
            remove(added)


def playbook(
    controller: SimpleNamespace, inventory: Path, entry: str, *args: str
) -> subprocess.CompletedProcess:
    """ansible-playbook of the fresh controller, as its user runs it (no project ansible.cfg)."""
    env = dict(
        controller.env,
        ANSIBLE_COLLECTIONS_PATH=f"{controller.path}:{controller.home / 'connection'}",
        ANSIBLE_CONNECTION_PLUGINS=str(ROOT / "lab/connection_plugins"),
        ANSIBLE_NOCOLOR="1",
        PATH=f"{controller.bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    )
    return subprocess.run(
        [str(controller.bin / "ansible-playbook"), entry, "-i", str(inventory), *args],
        cwd=controller.home, env=env, capture_output=True, text=True, timeout=1800, check=False,
    )  # fmt: skip


def recap(out: str, host: str) -> dict[str, int]:
    found = re.search(rf"^{re.escape(host)}\s*:(.*)$", out, re.M)
    assert found, out[-6000:]
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", found.group(1))}


def test_the_installed_collection_runs_to_pending_then_to_a_passing_proof(
    controller, first_run_host, tmp_path
):
    host = first_run_host.name
    connection = controller.home / "connection/ansible_collections/containers"
    if not connection.exists():
        connection.mkdir(parents=True)
        (connection / "podman").symlink_to(CONNECTION / "containers/podman")
    inventory = tmp_path / "acme"
    shutil.copytree(controller.installed / "inventories/customer", inventory)
    fill_in(inventory, host, first_run_host.address, domain=DOMAIN, hostname=HOSTNAME)

    first = playbook(controller, inventory, "lms.mail.site")
    out = first.stdout
    assert first.returncode == 0, out[-8000:] + first.stderr[-3000:]
    assert recap(out, host)["failed"] == 0
    records = inventory.parent / f"{inventory.name}-records"  # beside the inventory, never in it
    md_file, zone_file = records / f"{host}.md", records / f"{host}.zone"
    assert f"pending: publish the records in {md_file}, then run playbooks/verify.yml" in out
    (tmp_path.parent / "first-run.out").write_text(out)  # the run as the operator saw it

    refused = playbook(controller, inventory, "lms.mail.verify")
    assert refused.returncode != 0, refused.stdout[-4000:]
    assert recap(refused.stdout, host)["failed"] == 1
    assert f"{host}: mail NOT verified" in refused.stdout

    assert load_zone_file(zone_file.read_text(), first_run_host.added) == 4  # SPF, DKIM, DMARC, PTR
    assert md_file.read_text().count("\n") > 10

    # the parts that decide the end (the records, the proof): the others were run a moment ago,
    # and Molecule site checks a second whole run for changed=0
    second = playbook(controller, inventory, "lms.mail.site", "--tags", "dns,verify")
    out = second.stdout
    assert second.returncode == 0, out[-8000:] + second.stderr[-3000:]
    assert f"{host}: mail signed, aligned and accepted" in out
    assert "pending:" not in out
    assert recap(out, host) | {"ok": 0, "skipped": 0} == {
        "ok": 0, "changed": 0, "unreachable": 0, "failed": 0, "skipped": 0, "rescued": 0, "ignored": 0,
    }  # fmt: skip
    assert os.path.getsize(zone_file) > 0
