"""The transport, decided once: the customer's shared mail_transport, or postfix_transport as
inventories wrote it before (kept working), is the postfix role's, and the others follow what it
hands over (postfix_mail_transport), as site.yml's preflight reads it through the postfix role's
export entry point before every role's checks. ansible-playbook on localhost: no host, no DNS."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CUSTOMER = {
    "mail_domain": "school.test",
    "mail_hostname": "moodle.school.test",
    "dns_public_ipv4": "192.0.2.26",
}


def handed_over(tmp_path: Path, variables: dict[str, Any]) -> subprocess.CompletedProcess:
    """The preflight's order: the postfix role's export, then the moodle and dns roles' checks
    and their transports as their own variables have them."""
    play = {
        "hosts": "localhost",
        "connection": "local",
        "gather_facts": False,
        "vars": {"ansible_python_interpreter": sys.executable, **CUSTOMER, **variables},
        "tasks": [
            {"ansible.builtin.include_role": {"name": "lms.mail.postfix", "tasks_from": "export"}},
            {"ansible.builtin.include_role": {"name": "lms.mail.dns", "tasks_from": "validate"}},
            # public: the role's defaults stay visible to the play, for the task below
            {"ansible.builtin.include_role": {"name": "lms.mail.dns", "tasks_from": "export", "public": 1}},
            {
                "name": "Show the transports",
                "ansible.builtin.debug": {
                    "msg": {
                        "postfix": "{{ postfix_mail_transport }}",
                        "dns": "{{ dns_mail_transport }}",
                        "dns_manage_ptr": "{{ dns_manage_ptr | bool }}",
                    }
                },
            },
        ],
    }
    playbook = tmp_path / "transport.yml"
    playbook.write_text(yaml.safe_dump([play], sort_keys=False))
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
        ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
        ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
    )
    return subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", str(playbook)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def transports(run: subprocess.CompletedProcess) -> dict:
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    return json.loads(run.stdout)["plays"][0]["tasks"][-1]["hosts"]["localhost"]["msg"]


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({}, "direct"),
        ({"mail_transport": "relay_public"}, "relay_public"),
        # an inventory written before mail_transport: the postfix role's variable still decides
        ({"postfix_transport": "relay_public"}, "relay_public"),
        # the postfix role's own variable wins over the shared fact, for every role
        ({"mail_transport": "direct", "postfix_transport": "relay_public"}, "relay_public"),
    ],
)
def test_every_role_follows_the_transport_postfix_hands_over(tmp_path, variables, expected):
    assert transports(handed_over(tmp_path, variables)) == {
        "postfix": expected,
        "dns": expected,
        "dns_manage_ptr": expected == "direct",
    }


@pytest.mark.parametrize("name", ["mail_transport", "postfix_transport"])
def test_the_dns_roles_checks_judge_by_it(tmp_path, name):
    run = handed_over(tmp_path, {name: "relay_corporate"})
    assert run.returncode != 0
    output = " ".join(run.stdout.split())
    assert "dns_spf_relay_mechanisms is empty: with the transport relay_corporate" in output
