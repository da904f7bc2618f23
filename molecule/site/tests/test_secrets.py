"""Issue 10's secrets test: no secret value in any output of site.yml at -vvv --diff.

The scenario's converge and idempotence run are the full site.yml run at -vvv --diff
(molecule.yml's options), logged whole to ANSIBLE_LOG_PATH. Then a run sets a secret that was
not there (Moodle's SMTP password, written to its secrets file) and a run removes it again, both
at -vvv --diff. Every output is grepped for each secret value the runs handled: the TSIG secret
(the DNS updates), the IMAP password (the proof's mailbox), every DKIM private key on the host
(each line of its PEM body), Moodle's database password (config.php, which the role edits) and
Moodle's SMTP password. The relay password, the DNS API token and the OAuth 2.0 secrets belong
to other transports and providers: the oauth2 scenario greps its own converge, and the bad-input
battery (tests/security) every run of its rows.
"""

from __future__ import annotations

import json
import os
import re
import secrets

import pytest

from tests import lab

SCENARIO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOG = os.path.join(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent"), "ansible-vvv.log")
SECRETS_FILE = "/var/www/moodle/config-mail-secrets.php"


def _dkim_keys(sut) -> dict[str, list[str]]:
    """Each DKIM private key on the host (the dkim role's and Moodle's own): its PEM body lines."""
    paths = sut.check_output(
        "grep -rlZ -- '-----BEGIN' /etc/dkimkeys /var/www/moodledata 2>/dev/null | tr '\\0' '\\n'; true"
    ).split()
    keys = {}
    for path in paths:
        text = sut.check_output("cat %s", path)
        if "PRIVATE KEY" in text:
            keys[path] = [line for line in text.splitlines() if line and not line.startswith("-----")]
    return keys


def _site_runs(path: str) -> str:
    """The lines of the site.yml runs in Ansible's log: the processes that ran its preflight play.
    The log holds every Ansible process of the scenario, also the prepare step's (it writes the
    Moodle stand-in's config.php, the test's own scaffolding, and shows it in its --diff) and the
    verifier's `ansible-inventory --list` (the scenario's inventory, as molecule.yml writes it)."""
    return "".join(site_runs(path))


def site_runs(path: str) -> list[str]:
    """Each site.yml run in Ansible's log (the converge, the idempotence run), as its text."""
    runs: dict[str, list[str]] = {}
    pid = ""
    with open(path, errors="replace") as log:
        for line in log:
            match = re.match(r"\S+ \S+ p=(\d+) ", line)
            if match:
                pid = match.group(1)
            runs.setdefault(pid, []).append(line)
    site = [lines for lines in runs.values() if any("PLAY [Preflight, the whole input" in x for x in lines)]
    return ["".join(lines) for lines in site]


def _hits(text: str, values: dict[str, list[str]]) -> list[str]:
    return [name for name, parts in values.items() if any(part in text for part in parts)]


@pytest.fixture
def sut(host):
    return lab.instance(host)


def test_no_secret_in_any_output_at_vvv_and_diff(host, sut):
    name = host.backend.host
    smtp_password = "site-smtp-" + secrets.token_hex(12)
    config_php = sut.check_output("cat /var/www/moodle/config.php")
    dbpass = re.search(r"\$CFG->dbpass\s*=\s*'([^']+)'", config_php).group(1)
    values = {
        "dns_tsig_key_secret": [lab.tsig_secret()],
        "verify_imap_password": [host.ansible.get_variables()["verify_imap_password"]],
        "Moodle's dbpass": [dbpass],
        "moodle_smtppass": [smtp_password],
    }
    keys = _dkim_keys(sut)
    assert keys, "no DKIM private key found on the host"
    values.update({f"DKIM key {path}": lines for path, lines in keys.items()})

    # a secret that was not there: Moodle's SMTP password, then removed again (the moodle role
    # alone, after site.yml's preflight of every role's input)
    options = ("-vvv", "--diff", "--tags", "moodle")
    with_password = {
        "moodle_smtphosts": "smtp.mailservice.test:587",
        "moodle_smtpsecure": "tls",
        "moodle_smtpuser": "moodle",
        "moodle_smtppass": smtp_password,
    }
    added = lab.converge(SCENARIO, name, json.dumps(with_password), options=options)
    assert lab.recap(added, name)["changed"] > 0, added.stdout[-3000:]
    assert sut.run("grep -qF -- %s %s", smtp_password, SECRETS_FILE).rc == 0, "the password was not written"
    removed = lab.converge(SCENARIO, name, options=options)
    assert lab.recap(removed, name)["changed"] > 0, removed.stdout[-3000:]
    assert sut.run("grep -rqF -- %s /var/www/moodle", smtp_password).rc == 1, "the password was left behind"

    converge_log = _site_runs(LOG)
    # the log holds the full site.yml runs at -vvv (module files named) and --diff
    for play in ("PLAY [Moodle's mail settings]", "PLAY [DNS records", "PLAY RECAP"):
        assert play in converge_log, play
    assert "Using module file" in converge_log and "+++ after" in converge_log
    outputs = {
        "converge and idempotence (site.yml -vvv --diff)": converge_log,
        "Moodle's SMTP password set (-vvv --diff)": added.stdout + added.stderr,
        "Moodle's SMTP password removed (-vvv --diff)": removed.stdout + removed.stderr,
    }
    found = {where: _hits(text, values) for where, text in outputs.items()}
    hits = sum(len(names) for names in found.values())
    print(
        f"\nsecrets test: {len(values)} secret values grepped ({len(keys)} DKIM private keys) in "
        f"{len(outputs)} outputs at -vvv --diff: {hits} found"
    )
    assert hits == 0, found
