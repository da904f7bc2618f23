"""No secret in any log (issue 10): the relay password and a DNS API token, which the site
scenario (direct, RFC 2136) never has. On the Debian 12 instance (it signs, so its DKIM private
keys are there too), this scenario's converge followed by lms.mail.dns publishing its records
at the Cloudflare API emulator (on the controller's loopback, the token a variable as an
inventory's vault gives it) runs at -vvv --diff twice: with a new relay password (sasl_passwd
changes, the records are written), then with the lab's again. Every output is grepped for the
old and the new password, the token and each line of each DKIM private key: none appears."""

from __future__ import annotations

import os
import re

import pytest
import yaml

from tests import lab
from tests.dns.emulators import CloudflareEmulator

SCENARIO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSWORD = lab.LAB["lab_relay_password"]
NEW_PASSWORD = "relay-secrets-new-application-password"  # noqa: S105 - the lab relay's test value
TOKEN = "cf-secrets-token-9f3b2c7d1e"  # noqa: S105 - the emulator's fake token


@pytest.fixture
def cloudflare():
    emulator = CloudflareEmulator(token=TOKEN)
    emulator.start()
    try:
        for zone in ("school.test", "mailservice.test"):
            emulator.add_zone(zone)
        yield emulator
    finally:
        emulator.stop()


def playbook(tmp_path, cloudflare: CloudflareEmulator) -> str:
    """The scenario's converge, then lms.mail.dns over the emulator, as site.yml runs it after
    the other roles (their facts in the same run)."""
    play = {
        "name": "Publish the records at the DNS provider",
        "hosts": "all:!localhost",
        "roles": [{"role": "lms.mail.dns"}],
        "vars": {
            "dns_provider": "cloudflare",
            "dns_api_token": TOKEN,
            "dns_api_base_url": cloudflare.base_url,
            "dns_mail_transport": "relay_public",
            # never the machine's resolvers: a loopback port nothing answers
            "dns_resolver": ["127.0.0.1"],
            "dns_resolver_port": 9,
            "dns_records_dir": "",
        },
    }
    path = tmp_path / "secrets.yml"
    path.write_text(
        yaml.safe_dump([{"ansible.builtin.import_playbook": os.path.join(SCENARIO, "converge.yml")}, play])
    )
    return str(path)


def private_key_lines(sut) -> list[str]:
    """Each base64 line of each DKIM private key on the host."""
    text = sut.check_output("cat /etc/dkimkeys/*/*.private")
    return [line for line in text.splitlines() if re.fullmatch(r"[A-Za-z0-9+/=]{40,}", line)]


def test_no_relay_password_dns_token_or_private_key_at_vvv_diff(host, tmp_path, cloudflare):
    if not host.backend.host.endswith("bookworm"):
        pytest.skip("the secrets' tasks are the roles', whatever the release; Debian 12 also signs")
    sut = lab.instance(host)
    name = host.backend.host
    play = playbook(tmp_path, cloudflare)
    outputs = []
    try:
        new = f"postfix_relay_password={NEW_PASSWORD}"
        run = lab.converge(SCENARIO, name, new, options=("-vvv", "--diff"), playbook=play)
        outputs.append(run.stdout + run.stderr)
        assert lab.recap(run, name)["changed"] > 0
        assert cloudflare.writes(), "the DNS role wrote nothing at the emulator"
        assert cloudflare.find("mailservice.test", "relay1._domainkey.mailservice.test", "TXT")
        assert f":{NEW_PASSWORD}" in sut.check_output("cat /etc/postfix/sasl_passwd")
    finally:
        run = lab.converge(SCENARIO, name, options=("-vvv", "--diff"), playbook=play)
    outputs.append(run.stdout + run.stderr)
    assert f":{PASSWORD}" in sut.check_output("cat /etc/postfix/sasl_passwd")

    keys = private_key_lines(sut)
    assert len(keys) >= 20, "no DKIM private key to look for"
    secrets = {"relay password": PASSWORD, "new relay password": NEW_PASSWORD, "DNS API token": TOKEN}
    secrets.update({f"DKIM private key line {n}": line for n, line in enumerate(keys)})
    found = [what for output in outputs for what, value in secrets.items() if value in output]
    print(
        f"{len(secrets) - len(keys)} secret values and {len(keys)} DKIM private key lines grepped"
        f" in {len(outputs)} -vvv --diff runs: {len(found)} found"
    )
    assert not found, f"secrets in the -vvv --diff output: {found}"
    assert all(len(output) > 50_000 for output in outputs)  # really verbose
