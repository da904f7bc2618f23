"""Bad input fails before anything changes, with a message that names the variable; a key to
import is checked and never printed; a setting `opendkim -n` refuses leaves the running signer
as it was. Checked on one platform: validation does not depend on the release."""

from __future__ import annotations

import json
import os

import pytest

from tests import lab

SCENARIO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MARKER = "key-material-that-must-never-be-printed"
BAD_KEY = f"-----BEGIN PRIVATE KEY-----\n{MARKER}\n-----END PRIVATE KEY-----"

CASES = {
    "selector that is no DNS label": (["dkim_selector=2025_07!"], "dkim_selector"),
    "next selector that is no DNS label": (["dkim_next_selector=-next"], "dkim_next_selector"),
    "unknown domain in the signing table": (
        [
            json.dumps(
                {"dkim_signing_table_extra": [{"sender": "*@lists.other.test", "domain": "other.test"}]}
            )
        ],
        "dkim_signing_table_extra",
    ),
    "key below 1024 bits": (['{"dkim_key_bits": 512}'], "dkim_key_bits is 512"),
    "imported key that does not parse": (
        [
            json.dumps(
                {
                    "dkim_next_selector": "imported",
                    "dkim_import_keys": [
                        {"domain": "school.test", "selector": "imported", "private_key": BAD_KEY}
                    ],
                }
            )
        ],
        "dkim_import_keys: the key for school.test (selector imported) cannot be imported",
    ),
    "domain that is no name": (['{"dkim_domains": ["school_test"]}'], "dkim_domains"),
    "setting the role manages": (['{"dkim_conf_extra": {"Socket": "inet:8899@0.0.0.0"}}'], "dkim_conf_extra"),
    # passes the role's checks, refused by `opendkim -n` in the candidate file's validation
    "value opendkim refuses": (
        ['{"dkim_conf_extra": {"Canonicalization": "bogus/relaxed"}}'],
        "unknown canonicalization algorithm",
    ),
    # passes the role's checks, refused by Postfix (postconf) in the candidate main.cf's validation
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
    lab.refused(SCENARIO, sut, host.backend.host, *extra_vars, expected=expected, state=STATE, secret=MARKER)


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
