"""The postfix role's throttle rule: a relay's limits into smtp_destination_rate_delay, met
exactly or said to be unmet with the rate the relay gets instead; bad values refused."""

from __future__ import annotations

import pytest
from ansible_collections.lms.mail.plugins.filter.relay_pace import (
    FilterModule,
    exact_per_minute_limits,
    relay_pace,
)


def test_the_limits_a_whole_second_meets():
    assert exact_per_minute_limits() == [60, 30, 20, 15, 12, 10, 6, 5, 4, 3, 2, 1]


@pytest.mark.parametrize("limit", exact_per_minute_limits())
def test_a_limit_dividing_sixty_is_paced_exactly_and_silently(limit):
    pace = relay_pace(limit)
    assert pace["problems"] == [] and pace["notes"] == []
    assert pace["delay"] == 60 // limit
    assert pace["per_minute"] == limit
    assert pace["main_cf"]["smtp_destination_rate_delay"] == f"{60 // limit}s"
    assert pace["main_cf"]["smtp_destination_concurrency_failed_cohort_limit"] == 10


def test_no_limit_no_pace():
    assert relay_pace(0) == {
        "problems": [],
        "delay": 0,
        "per_minute": 0,
        "reuse": False,
        "main_cf": {},
        "notes": [],
    }
    assert relay_pace(0, daily=0, share=0.9)["main_cf"] == {}


@pytest.mark.parametrize(
    ("limit", "delay", "rate", "instead"),
    [
        (45, 2, "30", 30),  # 60 / 45 = 1.33 s: 2 s, a third under
        (50, 2, "30", 30),
        (7, 9, "6.67", 6),
        (59, 2, "30", 30),
    ],
)
def test_a_limit_not_dividing_sixty_is_paced_slower_and_says_so(limit, delay, rate, instead):
    pace = relay_pace(limit)
    assert pace["problems"] == []
    assert pace["delay"] == delay
    assert pace["per_minute"] == pytest.approx(60 / delay, abs=1e-4)
    [note] = pace["notes"]
    assert note.startswith(f"postfix_relay_per_minute_limit = {limit}: Postfix spaces deliveries by whole")
    assert f"at most {rate} messages a minute (smtp_destination_rate_delay = {delay}s)" in note
    assert f"Set postfix_relay_per_minute_limit to {instead} to say so" in note


@pytest.mark.parametrize("limit", [61, 100, 120, 1200])
def test_above_sixty_a_minute_postfix_cannot_pace_and_the_note_says_sixty(limit):
    pace = relay_pace(limit)
    assert pace["delay"] == 1 and pace["per_minute"] == 60
    [note] = pace["notes"]
    assert "Postfix cannot space deliveries by less than 1 s" in note
    assert "at most 60 messages a minute (smtp_destination_rate_delay = 1s)" in note
    assert "Set postfix_relay_per_minute_limit to 60" in note


def test_the_daily_limit_paces_when_it_is_the_tighter_one_and_hides_the_minute_rounding():
    # Gmail's 2000 a day at the default share: 86400 / 1800 = 48 s exactly, not 49 from a float.
    pace = relay_pace(45, daily=2000, share=0.9)
    assert pace["delay"] == 48
    assert pace["notes"] == []
    assert pace["per_minute"] == 1.25


def test_the_minute_limit_paces_when_it_is_the_tighter_one():
    pace = relay_pace(20, daily=100000, share=0.9)
    assert pace["delay"] == 3 and pace["notes"] == []


def test_a_daily_limit_that_does_not_divide_the_day_rounds_to_the_slower_second():
    assert relay_pace(0, daily=500, share=0.9)["delay"] == 192  # 86400 / 450
    assert relay_pace(0, daily=1000, share=0.7)["delay"] == 124  # 123.43 s


def test_a_short_pace_keeps_the_session_to_the_relay_open_across_the_delay():
    pace = relay_pace(60)
    assert pace["reuse"] is True
    assert pace["main_cf"]["smtp_tls_connection_reuse"] == "yes"
    assert pace["main_cf"]["smtp_connection_cache_time_limit"] == "2s"  # Postfix's own default
    assert relay_pace(12)["main_cf"]["smtp_connection_cache_time_limit"] == "6s"  # 5 s apart


def test_a_long_pace_opens_a_new_session_each_time():
    pace = relay_pace(10)  # 6 s apart
    assert pace["reuse"] is False
    assert "smtp_tls_connection_reuse" not in pace["main_cf"]
    assert "smtp_connection_cache_time_limit" not in pace["main_cf"]


@pytest.mark.parametrize(
    ("kwargs", "variable"),
    [
        ({"per_minute": -1}, "postfix_relay_per_minute_limit"),
        ({"per_minute": "1.5"}, "postfix_relay_per_minute_limit"),
        ({"per_minute": True}, "postfix_relay_per_minute_limit"),
        ({"per_minute": " 60"}, "postfix_relay_per_minute_limit"),
        ({"per_minute": None}, "postfix_relay_per_minute_limit"),
        ({"per_minute": 60, "daily": -5}, "postfix_relay_daily_limit"),
        ({"per_minute": 60, "daily": 2.5}, "postfix_relay_daily_limit"),
        ({"per_minute": 60, "daily": 100, "share": 0}, "postfix_relay_limit_share"),
        ({"per_minute": 60, "daily": 100, "share": 1.5}, "postfix_relay_limit_share"),
        ({"per_minute": 60, "daily": 100, "share": "half"}, "postfix_relay_limit_share"),
        ({"per_minute": 60, "daily": 100, "share": False}, "postfix_relay_limit_share"),
    ],
)
def test_a_value_that_is_no_limit_is_refused_naming_the_variable(kwargs, variable):
    pace = relay_pace(**kwargs)
    [problem] = pace["problems"]
    assert problem.startswith(variable)
    assert pace["main_cf"] == {} and pace["delay"] == 0


def test_a_count_given_as_text_is_read_as_the_number():
    # Inventories and -e give strings; the role's argument spec turns them into ints anyway.
    assert relay_pace("60", daily="0", share="0.9")["delay"] == 1


def test_the_filter_is_registered():
    assert FilterModule().filters()["relay_pace"] is relay_pace
