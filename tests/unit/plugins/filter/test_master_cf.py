"""master_cf_dropped: the services of a customer's master.cf the role's would lose."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.lms.mail.plugins.filter.master_cf import master_cf_dropped, master_cf_services

DEBIAN_12 = """\
#
# Postfix master process configuration file.
smtp      inet  n       -       y       -       -       smtpd
#submission inet n       -       y       -       -       smtpd
#  -o syslog_name=postfix/submission
pickup    unix  n       -       y       60      1       pickup
relay     unix  -       -       y       -       -       smtp
        -o syslog_name=postfix/$service_name
postlog   unix-dgram n  -       n       -       1       postlogd
maildrop  unix  -       n       n       -       -       pipe
  flags=DRXhu user=vmail argv=/usr/bin/maildrop -d ${recipient}
uucp      unix  -       n       n       -       -       pipe
mailman   unix  -       n       n       -       -       pipe
"""
ROLE = """\
# Written by the lms.mail.postfix role; a change made here is undone on the next run.
smtp      inet  n       -       y       -       -       smtpd
pickup    unix  n       -       y       60      1       pickup
relay     unix  -       -       y       -       -       smtp
postlog   unix-dgram n  -       n       -       1       postlogd
dkimsign  unix  -       -       y       -       -       smtp
127.0.0.1:10026 inet  n       -       y       -       -       smtpd
"""
MARK = "Written by the lms.mail.postfix role"


def test_services_are_first_lines_only():
    assert master_cf_services(DEBIAN_12) == [
        "smtp/inet",
        "pickup/unix",
        "relay/unix",
        "postlog/unix-dgram",
        "maildrop/unix",
        "uucp/unix",
        "mailman/unix",
    ]
    assert "127.0.0.1:10026/inet" in master_cf_services(ROLE)


def test_debian_packaged_file_loses_nothing():
    assert master_cf_dropped(DEBIAN_12, ROLE, MARK) == []


def test_a_customer_service_is_named():
    customer = (
        DEBIAN_12.replace("#submission inet", "submission inet").replace("#  -o syslog", "  -o syslog")
        + "spamfilter unix -       n       n       -       -       pipe\n  user=filter argv=/usr/bin/f\n"
    )
    assert master_cf_dropped(customer, ROLE, MARK) == ["submission/inet", "spamfilter/unix"]


def test_the_roles_own_file_is_the_roles_to_change():
    """Switching postfix_milter_mode to inline drops the signing services: the role's own."""
    inline = "\n".join(line for line in ROLE.splitlines() if "dkimsign" not in line and "10026" not in line)
    assert master_cf_dropped(ROLE, inline, MARK) == []
    assert master_cf_dropped(ROLE, inline) == ["dkimsign/unix", "127.0.0.1:10026/inet"]


def test_not_text_is_refused():
    with pytest.raises(AnsibleFilterError, match="master.cf's text"):
        master_cf_services(None)
