"""Issue 15's hand-over test: in site.yml, the verify role checks every DKIM key the dns role
published, Moodle's own included (molecule.yml turns Moodle's signer on). Read from the scenario's
converge and idempotence runs, as Ansible logged them at -vvv: the DKIM records in the dns role's
dns_published fact, and the lines of the verify role's report in the same run."""

from __future__ import annotations

import json
import re

from test_secrets import LOG, site_runs


def task_result(run: str, task: str) -> dict:
    """The result one task of a run logged (the log holds it as JSON, after `=> `)."""
    assert f"TASK [{task}]" in run, f"no task {task!r} in the run"
    output = run.split(f"TASK [{task}]", 1)[1].split("TASK [", 1)[0]
    return json.JSONDecoder().raw_decode(output[output.index("=> {") + 3 :])[0]


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
        published = task_result(run, "lms.mail.dns : Export the records published")["ansible_facts"]
        names = {r["name"] for r in published["dns_published"] if r["kind"] == "dkim"}
        # the dkim role's key and Moodle's own, both published by the dns role
        assert {moodle_key, server_key} <= names, published
        report = task_result(run, "lms.mail.verify : Show the report")["msg"]
        checked = {
            match.group(1)
            for line in report
            if (match := re.fullmatch(r"  DKIM (\S+): \S+ key published, the signing key", line))
        }
        assert names <= checked, f"published {sorted(names)}, verified {sorted(checked)}: {report}"
        assert report[0].endswith(": mail signed, aligned and accepted"), report
