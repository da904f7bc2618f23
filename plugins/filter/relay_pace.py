# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The postfix role's throttle: a relay's sending limits turned into Postfix settings.

Postfix paces deliveries to one destination with smtp_destination_rate_delay, a whole number of
seconds between one delivery's end and the next one's start (postconf(5),
default_destination_rate_delay). So a per-minute limit N is met exactly only when 60 / N is a
whole number of seconds: N in 1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60. Any other N is paced at
the next slower whole second, and above 60 a minute Postfix cannot pace at all (1 s is the least
delay). The rule says so instead of rounding silently: the effective rate comes back with a note
naming postfix_relay_per_minute_limit and the settings that are met exactly.

Since the delay starts when a delivery ends, each delivery's own time is added to every interval.
A new session with the relay costs a TCP, TLS and SASL handshake each time (about 0.15 s on the
lab, more to a real service), 13 % of a 1 s pace; so when the pace is short the SMTP client keeps
the session to the relay open across the delay and reuses it (smtp_tls_connection_reuse through
tlsproxy(8), the connection cache held a second longer than the delay). A pace longer than
REUSE_MAX_DELAY seconds opens a new session each time: there the handshake is a few per cent of
the interval, and holding an idle session open for long is what postconf(5) asks not to do
without the remote site's permission.
"""

from __future__ import annotations

import math

SECONDS_A_DAY = 86400
# Delays up to this many seconds keep the session to the relay open between deliveries.
REUSE_MAX_DELAY = 5
# Postfix's own smtp_connection_cache_time_limit.
POSTFIX_CACHE_TIME_LIMIT = 2
# Ten failed connections in a row, not one, mark a paced relay dead (postconf(5),
# default_destination_rate_delay asks for 10 or more).
FAILED_COHORT_LIMIT = 10


def exact_per_minute_limits() -> list[int]:
    """The per-minute limits a whole-second delay meets exactly, highest first."""
    return [n for n in range(60, 0, -1) if 60 % n == 0]


def _count(value: object, name: str, problems: list[str]) -> int:
    """A whole number of messages (0: no limit), or a problem naming the variable."""
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isdecimal():
        problems.append(
            f"{name} must be a whole number of messages, 0 for no limit, not {value!r}: "
            f"set it to the relay service's published limit"
        )
        return 0
    return int(value)


def _share(value: object, problems: list[str]) -> float:
    try:
        share = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        share = math.nan
    if not 0 < share <= 1:
        problems.append(
            f"postfix_relay_limit_share must be a share of the daily limit above 0 and at most 1 "
            f"(such as 0.9, the default), not {value!r}"
        )
        return 1.0
    return share


def _rate(per_minute: float) -> str:
    return f"{per_minute:g}" if per_minute == int(per_minute) else f"{per_minute:.2f}"


def relay_pace(per_minute: object, daily: object = 0, share: object = 1.0) -> dict:
    """The pace of deliveries to the relay for postfix_relay_per_minute_limit (``per_minute``),
    the daily limit and the share of it Postfix may use.

    Returns a dict: ``problems`` (values the role must refuse, each naming the variable and the
    fix; when there are any, the rest is the unpaced default), ``delay`` (whole seconds, 0: not
    paced), ``per_minute`` (the most the relay gets a minute at that delay, 0: no limit),
    ``reuse`` (whether the session to the relay is kept across the delay), ``main_cf`` (the
    parameters to write, empty when not paced) and ``notes`` (what the user should know: a
    limit the pace cannot meet exactly, with the rate it gets instead)."""
    problems: list[str] = []
    minute = _count(per_minute, "postfix_relay_per_minute_limit", problems)
    day = _count(daily, "postfix_relay_daily_limit", problems)
    part = _share(share, problems)
    result = {"problems": problems, "delay": 0, "per_minute": 0, "reuse": False, "main_cf": {}, "notes": []}
    if problems:
        return result

    minute_delay = math.ceil(60 / minute) if minute else 0
    # A tiny float error must not add a second: 86400 / (2000 * 0.9) is 48 exactly.
    day_delay = math.ceil(round(SECONDS_A_DAY / (day * part), 6)) if day else 0
    delay = max(minute_delay, day_delay)
    if not delay:
        return result

    notes = []
    if minute and minute_delay >= day_delay and 60 / minute_delay < minute:
        exact = exact_per_minute_limits()
        below = next(n for n in exact if n <= minute)
        why = (
            "Postfix cannot space deliveries by less than 1 s"
            if minute > 60
            else f"Postfix spaces deliveries by whole seconds and 60 / {minute} is not one"
        )
        notes.append(
            f"postfix_relay_per_minute_limit = {minute}: {why}, so the relay gets at most "
            f"{_rate(60 / minute_delay)} messages a minute (smtp_destination_rate_delay = {minute_delay}s), "
            f"under the limit. Set postfix_relay_per_minute_limit to {below} to say so; the limits met "
            f"exactly are {', '.join(map(str, exact))}."
        )
    reuse = delay <= REUSE_MAX_DELAY
    main_cf: dict = {
        "smtp_destination_rate_delay": f"{delay}s",
        "smtp_destination_concurrency_failed_cohort_limit": FAILED_COHORT_LIMIT,
    }
    if reuse:
        main_cf.update(
            {
                "smtp_tls_connection_reuse": "yes",
                "smtp_connection_cache_time_limit": f"{max(POSTFIX_CACHE_TIME_LIMIT, delay + 1)}s",
            }
        )
    result.update(delay=delay, per_minute=round(60 / delay, 4), reuse=reuse, main_cf=main_cf, notes=notes)
    return result


class FilterModule:
    def filters(self):
        return {"relay_pace": relay_pace}
