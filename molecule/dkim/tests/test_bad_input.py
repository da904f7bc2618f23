"""A setting that passes the role's checks but `opendkim -n` or Postfix refuses fails before
anything changes and leaves the running signer as it was (the role's own refusals are rows of
tests/security/bad_input_cases.yml). Checked on one platform: validation does not depend on the
release."""

from __future__ import annotations

import os

import pytest

from tests import lab

SCENARIO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The rest of the bad input (selectors, domains, the signing table, key sizes, imported keys,
# the settings the role manages) is refused by the role's validate entry point before anything
# reaches the host: tests/security/bad_input_cases.yml holds those rows, all run in one
# ansible-playbook run. What stays here needs this converged host: a value that passes the
# role's checks and only the real opendkim or Postfix refuses, in the candidate file's validation.
CASES = {
    # refused by `opendkim -n` in the candidate file's validation
    "value opendkim refuses": (
        ['{"dkim_conf_extra": {"Canonicalization": "bogus/relaxed"}}'],
        "unknown canonicalization algorithm",
    ),
    # refused by Postfix (postconf) in the candidate main.cf's validation
    "value postfix refuses": (
        ['{"postfix_main_cf_extra": {"smtpd_no_such_parameter": "yes"}}'],
        "unused parameter",
    ),
}

# The files the role writes, the keys, and the signer's process: a refused run leaves the
# running signer as it was.
STATE = (
    "find /etc/opendkim* /etc/dkimkeys /etc/postfix/main.cf -type f -exec sha256sum {} +; "
    "ls -lR --time-style=+%s /etc/dkimkeys /etc/opendkim; systemctl show -p MainPID opendkim"
)


@pytest.fixture
def sut(host):
    return lab.validation_instance(host)


@pytest.mark.parametrize("case", CASES)
def test_bad_input_fails_before_any_change(sut, host, case):
    extra_vars, expected = CASES[case]
    lab.refused(SCENARIO, sut, host.backend.host, *extra_vars, expected=expected, state=STATE)


def test_1024_bit_keys_only_with_a_warning(sut, host):
    # The keys exist already (a size applies to keys generated later): the run changes nothing,
    # and still warns.
    run = lab.converge(SCENARIO, host.backend.host, '{"dkim_key_bits": 1024}')
    assert "WARNING: dkim_key_bits is 1024" in run.stdout
    assert "changed=0" in run.stdout.split("PLAY RECAP")[-1]


def test_mail_leaves_signed_after_the_refused_runs(sut):
    """The refused runs above left the running signer and Postfix delivering, and signing, with
    the configuration they had."""
    msg = lab.new_message("noreply@school.test", "someone@students.test", "after refused runs")
    lab.sendmail(sut, msg)
    raw = lab.find_message_bytes(msg["Subject"], "someone@students.test")
    assert [s["d"] for s in lab.dkim_signatures(raw)] == ["school.test"]
