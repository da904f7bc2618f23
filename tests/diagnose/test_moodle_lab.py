"""Moodle's side, read by moodle_mail_info and playbooks/diagnose.yml on a lab container with the
lab's Moodle-shaped tree (lab/moodle-standin.yml: config.php and admin/cli/cfg.php following
Moodle's contract): settings forced in config.php count as Moodle reads them, and the local
Postfix stopped while Moodle sends to 127.0.0.1:25 is named as such."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.diagnose.mail_host import ansible_env, in_container, mail_host, sh
from tests.lab import ROOT

MOODLE = "/var/www/moodle"


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    with mail_host(tmp_path_factory.mktemp("moodle"), "diagnose-moodle") as (name, inventory):
        inventory.write_text(
            inventory.read_text()
            + f"      moodle_dir: {MOODLE}\n      moodle_dataroot: /var/www/moodledata\n"
            "      mail_hostname: diag.school.test\n"
        )
        tree = subprocess.run(
            ["ansible-playbook", "lab/moodle-standin.yml", "-i", str(inventory)],
            cwd=ROOT,
            env=dict(ansible_env(), ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default"),
            capture_output=True,
            text=True,
            check=False,
        )
        assert tree.returncode == 0, tree.stdout[-3000:]
        cfg = f"runuser -u www-data -- php {MOODLE}/admin/cli/cfg.php"
        sh(
            name,
            f"{cfg} --name=smtphosts --set=127.0.0.1:25 && "
            f"{cfg} --name=noreplyaddress --set=noreply@other.test && "
            # forced in config.php, where only an administrator with a shell can set it
            f"sed -i 's|^require_once|$CFG->noemailever = true;\\nrequire_once|' {MOODLE}/config.php && "
            "systemctl stop postfix",
        )
        yield name, inventory


def test_moodle_mail_info_names_moodle_own_misconfiguration(host):
    name, inventory = host
    run = subprocess.run(
        ["ansible", name, "-i", str(inventory), "-m", "lms.mail.moodle_mail_info", "--check",
         "-a", f"moodle_dir={MOODLE} signing_domains=school.test"],
        cwd=ROOT,
        env=ansible_env(),
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:]
    result = json.loads(run.stdout)["plays"][0]["tasks"][0]["hosts"][name]
    assert result["changed"] is False
    assert result["settings"]["noemailever"] == "1"
    assert result["settings"]["smtphosts"] == "127.0.0.1:25"
    assert result["smtp"] == {"mode": "smtp", "hosts": ["127.0.0.1:25"], "reachable": {"127.0.0.1:25": False}}
    problems = {p["kind"]: p for p in result["problems"]}
    assert set(problems) == {"moodle_noemailever", "local_mta_not_running", "moodle_noreply_not_signed"}
    assert "nothing answers" in problems["local_mta_not_running"]["detail"]
    assert "moodle_smtphosts" in problems["local_mta_not_running"]["fix"]
    assert "moodle_noemailever" in problems["moodle_noemailever"]["fix"]
    # cfg.php was only read: the setting is as it was
    assert in_container(name, "runuser", "-u", "www-data", "--", "php", f"{MOODLE}/admin/cli/cfg.php",
                        "--name=smtphosts").stdout.strip() == "127.0.0.1:25"  # fmt: skip


def test_the_report_names_moodle_and_the_stopped_postfix(host, tmp_path):
    name, inventory = host
    run = subprocess.run(
        ["ansible-playbook", "playbooks/diagnose.yml", "-i", str(inventory), "-e", "diagnose_dns=false",
         "-e", f"diagnose_report_dir={tmp_path}"],
        cwd=ROOT,
        env=dict(ansible_env(), ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default"),
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:]
    report = json.loads((tmp_path / f"diagnose-{name}.json").read_text())
    kinds = {(f["source"], f["kind"]) for f in report["findings"]}
    assert {("moodle", "moodle_noemailever"), ("moodle", "local_mta_not_running")} <= kinds
    assert report["postfix"]["running"] is False
    markdown = (tmp_path / f"diagnose-{name}.md").read_text()
    assert "Moodle is set to send no mail at all" in markdown
    assert "Moodle hands mail over by smtp to 127.0.0.1:25" in markdown
