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


# One local host per case, all in one ansible-playbook run: each case is a host of its own
# with its variables as host vars (below the roles' vars, above their defaults, as play vars
# were), and a host that fails does not stop the others. A run per case took 2-3 s of CPU each.
CASES: dict[str, dict[str, str]] = {
    "default": {},
    "shared": {"mail_transport": "relay_public"},
    # an inventory written before mail_transport: the postfix role's variable still decides
    "postfix_only": {"postfix_transport": "relay_public"},
    # the postfix role's own variable wins over the shared fact, for every role
    "postfix_wins": {"mail_transport": "direct", "postfix_transport": "relay_public"},
    "corporate_shared": {"mail_transport": "relay_corporate"},
    "corporate_postfix": {"postfix_transport": "relay_corporate"},
}


@pytest.fixture(scope="module")
def handed_over(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The preflight's order: the postfix role's export, then the moodle and dns roles' checks
    and their transports as their own variables have them. Each host's last result: the
    transports shown, or the check that failed."""
    tmp_path = tmp_path_factory.mktemp("handover")
    play = {
        "hosts": "all",
        "connection": "local",
        "gather_facts": False,
        "vars": {"ansible_python_interpreter": sys.executable, **CUSTOMER},
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
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": CASES}}))
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
        ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
        ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
    )
    run = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), str(playbook)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    try:
        tasks = json.loads(run.stdout)["plays"][0]["tasks"]
    except (ValueError, KeyError, IndexError):
        pytest.fail(f"ansible-playbook printed no play: {run.stdout[-3000:]}{run.stderr[-2000:]}")
    return {host: [task["hosts"][host] for task in tasks if host in task["hosts"]][-1] for host in CASES}


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("default", "direct"),
        ("shared", "relay_public"),
        ("postfix_only", "relay_public"),
        ("postfix_wins", "relay_public"),
    ],
)
def test_every_role_follows_the_transport_postfix_hands_over(handed_over, case, expected):
    result = handed_over[case]
    assert not result.get("failed"), result
    assert result["msg"] == {"postfix": expected, "dns": expected, "dns_manage_ptr": expected == "direct"}


@pytest.mark.parametrize("case", ["corporate_shared", "corporate_postfix"])
def test_the_dns_roles_checks_judge_by_it(handed_over, case):
    result = handed_over[case]
    assert result.get("failed"), result
    assert "dns_spf_relay_mechanisms is empty: with the transport relay_corporate" in " ".join(
        str(result["msg"]).split()
    )
