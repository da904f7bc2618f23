"""The bad-input battery's role rows (bad_input_cases.yml): each role's validate entry point, the
one site.yml's preflight and the role's main.yml run before anything changes, on a lab host.

All rows of a role run in one ansible-playbook run (at -v, so that a loop item printed at -v
would show): each row is a block that includes the role's validate entry point with the row's
variables and, in its rescue, records the message it failed with. Then, per row: refused (or
accepted, for a control row), the message names the variable, no secret of any row appears in
the output, nothing changed on the host (the run's recap and the checksums of the role's files).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile

import pytest
import yaml

from tests.lab import LAB, ROOT, podman_host
from tests.security.cases import BASE, refused, rows

HOST = LAB["lab_demo_server"]["container"]
ROLE_ROWS = rows("role")
ROLES = sorted({case["target"].split(":", 1)[1] for case in ROLE_ROWS})
# What the roles write on a host: unchanged by any row.
STATE = (
    "find /etc/postfix /etc/dkimkeys /etc/opendkim /etc/opendkim.conf /etc/opendkim-ed25519.conf "
    "/var/www /var/lib/lms-mail -xdev \\( -type f -o -type l -o -type d \\) "
    "-printf '%p %u %g %m %s %T@ %l\\n' 2>/dev/null | sort; "
    "find /etc/postfix /etc/dkimkeys /etc/opendkim /etc/opendkim.conf /var/www/moodle /var/lib/lms-mail "
    "-type f -exec sha256sum {} + 2>/dev/null | sort; true"
)


def _rsa_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _materialize(value, pem: str):
    """The row's variables with "@rsa-2048" replaced by a fresh key."""
    if value == "@rsa-2048":
        return pem
    if isinstance(value, dict):
        return {k: _materialize(v, pem) for k, v in value.items()}
    if isinstance(value, list):
        return [_materialize(v, pem) for v in value]
    return value


def _secrets(case: dict, pem: str) -> list[str]:
    found = [case["secret"]] if case.get("secret") else []
    if "@rsa-2048" in json.dumps(case["vars"]):
        found += [line for line in pem.splitlines() if "-----" not in line]
    return found


def _playbook(role: str, cases: list[dict], pem: str, result_file: str) -> list:
    tasks = [{"name": "Start the results", "ansible.builtin.set_fact": {"battery_results": {}}}]
    for case in cases:
        variables = {**BASE.get(role, {}), **_materialize(case["vars"], pem)}
        tasks.append(
            {
                "name": f"Case {case['id']}",
                "block": [
                    {
                        "name": f"Validate {case['id']}",
                        "ansible.builtin.include_role": {
                            "name": f"lms.mail.{role}",
                            "tasks_from": "validate",
                        },
                        "vars": variables,
                    },
                    {
                        "name": f"Accepted {case['id']}",
                        "ansible.builtin.set_fact": {
                            "battery_results": "{{ battery_results | combine({"
                            + json.dumps(case["id"])
                            + ": {'refused': false}}) }}"
                        },
                    },
                ],
                "rescue": [
                    {
                        "name": f"Refused {case['id']}",
                        "ansible.builtin.set_fact": {
                            "battery_results": "{{ battery_results | combine({"
                            + json.dumps(case["id"])
                            + ": {'refused': true, 'task': ansible_failed_task.name, "
                            "'msg': (ansible_failed_result.msg | default(ansible_failed_result | string)) "
                            "~ ' ' ~ (ansible_failed_result.results | default([]) "
                            "| map(attribute='msg', default='') | join(' '))}}) }}"
                        },
                    }
                ],
            }
        )
    tasks.append(
        {
            "name": "Hand the results to the test",
            "ansible.builtin.copy": {"content": "{{ battery_results | to_json }}", "dest": result_file},
            "delegate_to": "localhost",
            "changed_when": False,
        }
    )
    return [{"name": f"Bad-input battery: {role}", "hosts": HOST, "gather_facts": False, "tasks": tasks}]


def _run_role(host, role: str, pem: str, tmp: str) -> tuple:
    cases = [case for case in ROLE_ROWS if case["target"] == f"role:{role}"]
    result_file = os.path.join(tmp, f"{role}.json")
    playbook = os.path.join(tmp, f"{role}.yml")
    with open(playbook, "w") as out:
        yaml.safe_dump(_playbook(role, cases, pem, result_file), out, sort_keys=False)
    inventory = os.path.join(tmp, "inventory.yml")
    with open(inventory, "w") as out:
        yaml.safe_dump(
            {
                "all": {
                    "hosts": {
                        HOST: {
                            "ansible_connection": "lab_podman",
                            "ansible_python_interpreter": "/usr/bin/python3",
                        },
                        "localhost": {
                            "ansible_connection": "local",
                            "ansible_python_interpreter": sys.executable,
                        },
                    }
                }
            },
            out,
        )
    before = host.check_output(STATE)
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0")
    # the DNS role's provider checks read the token from the controller's environment too
    for variable in ("CLOUDFLARE_API_TOKEN", "DIGITALOCEAN_TOKEN", "DIGITALOCEAN_ACCESS_TOKEN"):
        env.pop(variable, None)
    run = subprocess.run(
        ["ansible-playbook", "-v", "-i", inventory, playbook],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    after = host.check_output(STATE)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    recap = next(line for line in run.stdout.splitlines()[::-1] if line.startswith(HOST + " "))
    changed = int(re.search(r"changed=(\d+)", recap).group(1))
    with open(result_file) as results:
        return json.load(results), output, changed, before, after, pem


@pytest.fixture(scope="module")
def battery():
    """Each role's rows, run once, when a test of that role first asks:
    battery(role) = (results, output, recap changed, state before, state after, pem)."""
    host = podman_host(HOST)
    if not host.run("true").succeeded:
        pytest.skip(f"the lab host {HOST} is not up (make lab)")
    pem = _rsa_pem()
    outcome = {}
    with tempfile.TemporaryDirectory() as tmp:

        def run(role: str) -> tuple:
            if role not in outcome:
                outcome[role] = _run_role(host, role, pem, tmp)
            return outcome[role]

        yield run


@pytest.mark.parametrize("case", ROLE_ROWS, ids=[case["id"] for case in ROLE_ROWS])
def test_bad_input_is_refused_before_any_change(battery, case):
    role = case["target"].split(":", 1)[1]
    results, output, changed, before, after, pem = battery(role)
    result = results[case["id"]]
    if refused(case):
        assert result["refused"], f"{case['id']} was accepted"
        message = " ".join(str(result["msg"]).split())
        assert case["variable"] in message, (
            f"{case['id']}: the message does not name {case['variable']}: {message}"
        )
    else:
        assert not result["refused"], f"control row {case['id']} was refused: {result.get('msg')}"
    for secret in _secrets(case, pem):
        assert secret not in output, f"{case['id']}: a secret was printed"
    assert changed == 0, f"the {role} battery changed the host"
    assert after == before, f"the {role} battery changed the role's files on {HOST}"


def test_battery_size():
    """The issue asks for at least 80 refusals over all five roles and the modules; the value
    kinds' rows come on top."""
    from tests.security.cases import CASES

    role_and_module = [c for c in CASES if refused(c) and not c["target"].startswith("kind:")]
    assert len(role_and_module) >= 80
    assert set(ROLES) == {"postfix", "dkim", "moodle", "dns", "verify"}
    assert {c["target"] for c in CASES if c["target"].startswith("module:")} >= {
        "module:spf_record",
        "module:dkim_record",
        "module:dmarc_record",
        "module:ptr_record",
    }
    # Every row is run by someone: a row of a new kind of target needs its runner first
    # (role: this file; module: test_bad_input_modules.py; kind: tests/unit/plugins/test).
    assert {case["target"].split(":", 1)[0] for case in CASES} <= {"role", "kind", "module"}
    for case in CASES:
        kind = case["target"].split(":", 1)[0]
        assert (kind == "kind") == ("value" in case), case["id"]
        assert (kind == "module") == ("args" in case), case["id"]
        assert not refused(case) or kind == "kind" or case.get("variable"), case["id"]
    assert len({case["id"] for case in CASES}) == len(CASES), "ids must be unique"


@pytest.mark.parametrize("role", ROLES)
def test_validate_runs_before_anything_changes(role):
    """The battery runs the validate entry point; the role's main.yml must run it first, so that
    what the battery refuses is refused before the role changes anything."""
    first = yaml.safe_load((ROOT / "roles" / role / "tasks" / "main.yml").read_text())[0]
    included = first.get("ansible.builtin.include_tasks", {})
    assert "validate.yml" in (first.get("ansible.builtin.import_tasks"), included.get("file")), first
    # skipped only where site.yml's preflight ran the same checks on the same host first
    assert first.get("when") in (None, "not __lms_mail_preflight_passed | default(false) | bool"), first
