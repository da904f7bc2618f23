"""Issue 15's hand-over test: in site.yml, the verify role checks every DKIM key the dns role
published, Moodle's own included (molecule.yml turns Moodle's signer on). Read from the scenario's
converge and idempotence runs, as Ansible logged them at -vvv: the DKIM records in the dns role's
dns_published fact, and the lines of the verify role's report in the same run. Then
playbooks/verify.yml alone, which reads them through the roles' export entry points, checks the
same keys."""

from __future__ import annotations

import json
import os
import re

from test_secrets import LOG, site_runs

from tests import lab

SCENARIO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VERIFY = str(lab.ROOT / "playbooks" / "verify.yml")
CHECKED = r"  DKIM (\S+): \S+ key published, the signing key"


def task_result(run: str, task: str) -> dict:
    """The result one task of a run logged (the log holds it as JSON, after `=> `)."""
    assert f"TASK [{task}]" in run, f"no task {task!r} in the run"
    output = run.split(f"TASK [{task}]", 1)[1].split("TASK [", 1)[0]
    return json.JSONDecoder().raw_decode(output[output.index("=> {") + 3 :])[0]


def published_dkim_names(run: str) -> set[str]:
    """The DKIM records the dns role published in one site.yml run (its dns_published fact)."""
    published = task_result(run, "lms.mail.dns : Export the records published")["ansible_facts"]
    return {r["name"] for r in published["dns_published"] if r["kind"] == "dkim"}


def test_verify_checks_every_dkim_key_the_dns_role_published(host):
    variables = host.ansible.get_variables()
    moodle_key = f"{variables['moodle_emaildkimselector']}._domainkey.school.test"
    server_key = f"{variables['dkim_first_selector']}._domainkey.school.test"
    # The runs that got to the proof; Molecule keeps the log across its own destroy, so a converge
    # of an earlier session that stopped half-way may be there too. The last two are this session's
    # converge and idempotence run (the verifier's own runs are not logged: conftest.py).
    runs = [run for run in site_runs(LOG) if "TASK [lms.mail.verify : Show the report]" in run]
    assert len(runs) >= 2, "no converge and idempotence run of site.yml that reached the proof"
    for run in runs[-2:]:
        names = published_dkim_names(run)
        # the dkim role's key and Moodle's own, both published by the dns role
        assert {moodle_key, server_key} <= names, names
        report = task_result(run, "lms.mail.verify : Show the report")["msg"]
        checked = {match.group(1) for line in report if (match := re.fullmatch(CHECKED, line))}
        assert names <= checked, f"published {sorted(names)}, verified {sorted(checked)}: {report}"
        assert report[0].endswith(": mail signed, aligned and accepted"), report


def test_verify_alone_checks_the_same_keys_moodles_included(host, tmp_path):
    """playbooks/verify.yml in a run of its own: Moodle's keys come from the moodle role's export
    entry point (read on the host, changing nothing), through the dns role's dns_dkim_keys."""
    variables = host.ansible.get_variables()
    moodle_key = f"{variables['moodle_emaildkimselector']}._domainkey.school.test"
    runs = [run for run in site_runs(LOG) if "TASK [lms.mail.verify : Show the report]" in run]
    assert runs, "no site.yml run that reached the proof"
    names = published_dkim_names(runs[-1])
    assert moodle_key in names, names
    path = tmp_path / "report.md"
    run = lab.converge(SCENARIO, host.backend.host, "verify_message=false", f"verify_report_path={path}",
                       playbook=VERIFY)  # fmt: skip
    assert lab.changed_tasks(run) == ["lms.mail.verify : Write the report on the controller"], run.stdout
    checked = set(re.findall(CHECKED.strip(), path.read_text()))
    assert names <= checked, f"published {sorted(names)}, verify.yml alone checked {sorted(checked)}"
