"""A customer's own master.cf service is never dropped silently: on a host whose master.cf the
role did not write, a service the role's lacks stops the run before any change, named; carried in
postfix_master_cf_extra it is kept. Checked on one platform: the rule is the release's alike."""

from __future__ import annotations

import json
import os

from tests import lab

SCENARIO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MASTER_CF = "/etc/postfix/master.cf"
SUBMISSION = "submission inet n - y - - smtpd\n  -o syslog_name=postfix/submission\n"


def test_a_customers_service_stops_the_run_then_is_kept(host):
    sut = lab.validation_instance(host)
    name = host.backend.host
    original = sut.file(MASTER_CF).content_string
    # the customer's master.cf: Debian's, with their own submission port (no role header)
    customer = "\n".join(line for line in original.splitlines() if "lms.mail" not in line) + "\n" + SUBMISSION
    sut.run_test("printf %s %s > %s", "%s", customer, MASTER_CF)
    try:
        lab.refused(
            SCENARIO,
            sut,
            name,
            expected="/etc/postfix/master.cf defines submission/inet, which the role's master.cf does not",
            state=f"sha256sum {MASTER_CF} /etc/postfix/main.cf",
        )
        lab.converge(SCENARIO, name, json.dumps({"postfix_master_cf_extra": SUBMISSION}))
        services = sut.check_output("postconf -M submission/inet")
        assert services.startswith("submission inet"), services
        assert "postfix_master_cf_extra" in sut.file(MASTER_CF).content_string
    finally:
        lab.converge(SCENARIO, name)
    # postfix_master_cf_extra no longer given: the service was the role's to drop, and is gone
    assert not [
        line for line in sut.check_output("postconf -M").splitlines() if line.startswith("submission")
    ]
