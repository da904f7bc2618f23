"""The main job on a fresh server: after site.yml (converge, and again for idempotence), the
verify role's proof holds, and the proof can fail: it does when a record is missing."""

from __future__ import annotations

import os
import re

from tests import lab

SCENARIO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VERIFY = str(lab.ROOT / "playbooks" / "verify.yml")
RECIPIENT = "postmaster@students.test"
MX_ID = lab.LAB["lab_parts"]["mx"]["hostname"]


def verify(host, *extra: str, check: bool = True):
    return lab.converge(SCENARIO, host.backend.host, *extra, playbook=VERIFY, check=check)


def report(run) -> str:
    """The report the verify role showed (its debug task's msg list), as text."""
    return run.stdout.split("TASK [lms.mail.verify : Show the report]", 1)[1].split("TASK [", 1)[0]


def test_the_proof_holds_and_the_message_says_so(host, tmp_path):
    path = tmp_path / "report.md"
    run = verify(host, f"verify_report_path={path}")
    assert lab.changed_tasks(run) == ["lms.mail.verify : Write the report on the controller"], run.stdout
    text = path.read_text()
    assert "Verdict: signed, aligned and accepted" in text, text
    assert "SPF pass for 10.89.231.41 (school.test: ip4:10.89.231.41)" in text, text
    assert re.search(r"DKIM \S+\._domainkey\.school\.test: rsa key published, the signing key", text), text
    assert "PTR 10.89.231.41 -> site.school.test, forward-confirmed" in text, text
    for method in ("spf", "dkim", "dmarc"):
        assert f"{MX_ID}: {method}=pass" in text, text
    # the message itself, on the MX, carries the MX's own verdicts
    subject = re.search(r'Message "([^"]+)"', text).group(1)
    message = lab.find_message(subject, RECIPIENT)
    results = " ".join(message.get_all("Authentication-Results"))
    assert "dkim=pass" in results and "dmarc=pass" in results and "spf=pass" in results, results


def test_check_mode_sends_nothing_and_changes_nothing(host):
    run = lab.converge(SCENARIO, host.backend.host, options=("--check",))
    assert lab.recap(run, host.backend.host)["changed"] == 0, lab.changed_tasks(run)
    assert "Check mode: no verification message sent" in run.stdout
    assert "mail signed, aligned and accepted" in report(run)


def test_the_proof_fails_when_the_dkim_key_is_not_published(host):
    selector = host.ansible.get_variables()["dkim_first_selector"]  # molecule.yml
    options = lab.dns_options()
    name = f"{selector}._domainkey.school.test"
    record = lab.dns_module(
        "lms.mail.mail_dns_info",
        {"domain": "school.test", "selectors": [selector], "resolver": [options["server"]]},
    )["dkim"][selector]
    assert record["found"], record
    lab.dns_module(
        "lms.mail.dkim_record", {**options, "domain": "school.test", "selector": selector, "state": "absent"}
    )
    try:
        run = verify(host, check=False)
        output = " ".join((run.stdout + run.stderr).split())
        assert run.returncode != 0
        assert "mail NOT verified" in output
        assert f"no DKIM key is published at {name}" in output
        assert "the receiver found no passing DKIM signature of school.test" in output
        assert re.search(rf"{MX_ID}: dkim=(fail|permerror|temperror|neutral)", output), output[-3000:]
        # DMARC still passes, on SPF alone: the report names the one check that failed
        assert "the receiver found DMARC" not in output
    finally:
        lab.dns_module(
            "lms.mail.dkim_record",
            {
                **options,
                "domain": "school.test",
                "selector": selector,
                "public_key": record["public_key"],
                "key_type": record["key_type"],
            },
        )
