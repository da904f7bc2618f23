"""The message size rule of the postfix role: message_size_limit a positive number of bytes, no
mailbox limit below it (Postfix's local and virtual delivery agents refuse to start so)."""

from __future__ import annotations

import pytest
from ansible_collections.lms.mail.plugins.filter.mail_policy import FilterModule, message_size_problems

GMAIL = 35882577
MAILRU = 73400320


@pytest.mark.parametrize(
    "main_cf",
    [
        {},  # Postfix's defaults: 10240000 under 51200000
        {"message_size_limit": GMAIL, "mailbox_size_limit": 51200000},
        {"message_size_limit": str(MAILRU), "mailbox_size_limit": str(MAILRU)},
        {"message_size_limit": MAILRU, "mailbox_size_limit": MAILRU, "virtual_mailbox_limit": 0},
        {"message_size_limit": 1, "mailbox_size_limit": 0},
    ],
)
def test_limits_postfix_runs_with(main_cf):
    assert message_size_problems(main_cf) == []


def test_a_limit_over_the_default_mailbox_size_names_the_raise():
    [problem] = message_size_problems({"message_size_limit": MAILRU})
    assert problem.startswith("postfix_main_cf_extra: mailbox_size_limit = 51200000 is smaller than")
    assert f"message_size_limit = {MAILRU} (from postfix_message_size_limit)" in problem
    assert f"at least {MAILRU}, or 0 for no limit" in problem


def test_the_virtual_mailbox_limit_is_held_to_it_where_virtual_delivery_is_set_up():
    main_cf = {
        "message_size_limit": MAILRU,
        "mailbox_size_limit": 0,
        "virtual_mailbox_domains": "example.test",
    }
    [problem] = message_size_problems(main_cf)
    assert "virtual_mailbox_limit = 51200000 is smaller than" in problem


def test_the_virtual_mailbox_limit_is_held_to_it_too():
    problems = message_size_problems(
        {"message_size_limit": MAILRU, "mailbox_size_limit": MAILRU, "virtual_mailbox_limit": 51200000},
        extra={"virtual_mailbox_limit": 51200000},
    )
    assert problems == [
        "postfix_main_cf_extra.virtual_mailbox_limit: virtual_mailbox_limit = 51200000 is smaller than "
        f"message_size_limit = {MAILRU} (from postfix_message_size_limit): Postfix's delivery agents refuse "
        f"to start so. Raise virtual_mailbox_limit to at least {MAILRU}, or 0 for no limit"
    ]


def test_an_extra_message_size_limit_is_named_as_its_source():
    [problem] = message_size_problems(
        {"message_size_limit": "60000000", "mailbox_size_limit": 51200000},
        extra={"message_size_limit": "60000000"},
    )
    assert "(from postfix_main_cf_extra.message_size_limit)" in problem


@pytest.mark.parametrize("value", [0, "0", -1, "-5", "10M", "1e6", "", " 100", "100\n", True, None, 1.5])
def test_a_limit_that_is_not_a_positive_number_of_bytes(value):
    [problem] = message_size_problems({"message_size_limit": value})
    assert problem.startswith(
        "postfix_message_size_limit: message_size_limit must be a positive whole number"
    )
    assert repr(value) in problem


@pytest.mark.parametrize("value", ["-1", "50M", "unlimited", ""])
def test_a_mailbox_limit_that_is_not_a_number(value):
    [problem] = message_size_problems({"mailbox_size_limit": value}, extra={"mailbox_size_limit": value})
    assert problem.startswith(
        "postfix_main_cf_extra.mailbox_size_limit: mailbox_size_limit must be a whole number"
    )


def test_the_filter_is_registered():
    assert FilterModule().filters()["message_size_problems"] is message_size_problems
