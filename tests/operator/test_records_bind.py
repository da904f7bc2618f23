"""The records a person publishes by hand, end to end on a real BIND (tests/dns/bind.py, on
loopback): lms.mail.dns with dns_provider none writes <inventory>-records/<host>.zone; dnspython parses
its lines, they are loaded into BIND as a person would enter them, BIND answers them with each
TXT string within 255 bytes and the joined value intact, and the proof (lms.mail.verify, DNS
part) that failed before they were published now passes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import dns.name
import dns.rdatatype
import dns.update
import dns.zone
import pytest
import yaml
from ansible_collections.lms.mail.plugins.module_utils.txt import join_txt
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from tests.dns.bind import BindServer
from tests.dns_role.records import DOMAIN, HOST, IPV4, dkim_records, public_pem

ROOT = Path(__file__).resolve().parents[2]
REVERSE_ZONE = "2.0.192.in-addr.arpa"


def play(
    tmp_path: Path, name: str, roles: list[str], variables: dict[str, Any]
) -> subprocess.CompletedProcess:
    """ansible-playbook applying roles to localhost; the exported facts land in <name>.json."""
    facts = tmp_path / f"{name}.json"
    playbook = [
        {
            "name": name,
            "hosts": "localhost",
            "connection": "local",
            "gather_facts": False,
            "vars": {"ansible_python_interpreter": sys.executable, **variables},
            "roles": roles,
            "post_tasks": [
                {
                    "name": "Keep the exported facts",
                    "ansible.builtin.copy": {
                        "content": "{{ {'verify_passed': verify_passed | default(none),"
                        " 'dns_records_files': dns_records_files | default([])} | to_json }}",
                        "dest": str(facts),
                    },
                    "changed_when": False,
                }
            ],
        }
    ]
    path = tmp_path / f"{name}.yml"
    path.write_text(yaml.safe_dump(playbook, sort_keys=False))
    inventory = tmp_path / "inventory"  # a customer's inventory directory: the records go beside it
    inventory.mkdir(exist_ok=True)
    (inventory / "hosts.yml").write_text("all:\n  hosts:\n    localhost: {}\n")
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    proc.facts = json.loads(facts.read_text()) if facts.exists() else None  # type: ignore[attr-defined]
    return proc


def load_as_a_person_would(bind: BindServer, zone_text: str) -> None:
    """Every record of the .zone file into BIND: the SPF record replaces the domain's one SPF
    record (the other TXT records at the name stay), every other name gets exactly the lines."""
    lines = [line for line in zone_text.splitlines() if line and not line.startswith(";")]
    for zone in (DOMAIN, REVERSE_ZONE):
        origin = dns.name.from_text(zone + ".")
        mine = [line for line in lines if dns.name.from_text(line.split()[0]).is_subdomain(origin)]
        head = f"$ORIGIN {zone}.\n@ 3600 IN SOA ns. host. 1 3600 600 86400 60\n@ 3600 IN NS ns.\n"
        parsed = dns.zone.from_text(head + "\n".join(mine), origin=zone, relativize=False, check_origin=False)
        update = dns.update.UpdateMessage(zone + ".", keyring=bind.keyring)
        for name, rdataset in parsed.iterate_rdatasets():
            if rdataset.rdtype in (dns.rdatatype.SOA, dns.rdatatype.NS):
                continue
            if name == origin and rdataset.rdtype == dns.rdatatype.TXT:
                for old in bind.query(zone, "TXT"):
                    if join_txt(old.strings).startswith("v=spf1"):
                        update.delete(name, old)
                update.add(name, rdataset)
            else:
                update.replace(name, rdataset)
        bind._send(update)


@pytest.fixture
def server(bind_zones: BindServer, tmp_path: Path) -> dict[str, Any]:
    bind_zones.add(DOMAIN, HOST, "A", IPV4)
    keys = (
        public_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        public_pem(ed25519.Ed25519PrivateKey.generate()),
    )
    return {
        "mail_domain": DOMAIN,
        "mail_hostname": HOST,
        "mail_transport": "direct",
        "dns_public_ipv4": IPV4,
        # the RSA key only: the proof's mail_dns_info reads every DKIM key as RSA (reported)
        "dkim_dns_records": dkim_records(DOMAIN, *keys)[:1],
        "dns_provider": "none",
        "dns_resolver": [bind_zones.host],
        "dns_resolver_port": bind_zones.port,
        "verify_message": False,
    }


def test_the_written_zone_lines_load_into_bind_and_the_proof_then_passes(
    server: dict[str, Any], bind_zones: BindServer, tmp_path: Path
) -> None:
    # verify alone, as playbooks/verify.yml's users run it: its own variables, the dns role's
    # inputs being none of its business
    verifying = {
        **server,
        "verify_public_ipv4": IPV4,
        "verify_hostname": HOST,
        "verify_resolver": [bind_zones.host],
        "verify_resolver_port": bind_zones.port,
    }
    before = play(tmp_path, "before", ["lms.mail.verify"], {**verifying, "verify_fail": False})
    assert before.returncode == 0, before.stdout + before.stderr
    assert before.facts["verify_passed"] is False  # the records are not published yet

    printed = play(tmp_path, "dns", ["lms.mail.dns"], server)
    assert printed.returncode == 0, printed.stdout + printed.stderr
    md_file, zone_file = map(Path, printed.facts["dns_records_files"])
    assert (md_file.name, zone_file.name) == ("localhost.md", "localhost.zone")
    zone_text = zone_file.read_text()
    # the same lines in the Markdown file and in the block printed at the end of the role
    lines = [line for line in zone_text.splitlines() if not line.startswith(";")]
    assert len(lines) == 4  # SPF, the DKIM key, DMARC, PTR
    for line in lines:
        assert line in md_file.read_text().splitlines()
        assert line in printed.stdout

    # beside the inventory directory, not in it: Ansible reads every file and directory in it as
    # inventory on the next run, and warns about each it cannot parse
    assert md_file.parent == tmp_path / "inventory-records"
    listed = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(tmp_path / "inventory"), "--list"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert listed.returncode == 0 and "WARNING" not in listed.stderr + listed.stdout, listed.stderr

    load_as_a_person_would(bind_zones, zone_text)
    for record in server["dkim_dns_records"]:
        (strings,) = bind_zones.txt_strings(record["name"])
        assert all(len(s) <= 255 for s in strings) and join_txt(strings) == record["value"]
    assert f"v=spf1 ip4:{IPV4} ~all" in bind_zones.txt(DOMAIN)
    assert "google-site-verification=abc123-keep-me" in bind_zones.txt(DOMAIN)
    assert bind_zones.txt(f"_dmarc.{DOMAIN}") == ["v=DMARC1; p=none"]
    assert [r.target.to_text() for r in bind_zones.query("26.2.0.192.in-addr.arpa", "PTR")] == [HOST + "."]

    after = play(tmp_path, "after", ["lms.mail.verify"], verifying)
    assert after.returncode == 0, after.stdout[-3000:]
    assert after.facts["verify_passed"] is True

    # a second run writes the same files: nothing changed
    again = play(tmp_path, "dns", ["lms.mail.dns"], server)
    assert "changed=0" in again.stdout, again.stdout[-2000:]
