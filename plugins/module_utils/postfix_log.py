# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Postfix's log read back into deliveries: per queue id and recipient, who sent what to whom,
through which host, with what result and what the remote server said.

Two sources, whichever the host has: systemd's journal (`journalctl -o json`, the Debian
default without a syslog daemon) and a syslog file such as /var/log/mail.log (rsyslog's
traditional "Mmm dd hh:mm:ss" lines, Debian 12, or its RFC 3339 ones, Debian 13 and
Postfix's own maillog_file). Both become Records; an Assembler reads Records in log order and
joins what Postfix's daemons say about one queue id (pickup or smtpd: how it came in; cleanup:
its Message-ID; qmgr: sender and size; smtp, lmtp, local, virtual, error: one line per delivery
attempt; bounce: the notification it caused). Lines about no queue id that say why mail
cannot move (warnings, refused submissions, a sendmail that found no running Postfix) are kept
apart as problems.

Pure Python, no dependencies; nothing here runs a command or opens a file.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
from collections.abc import Iterable, Iterator

# Short queue ids (hex) and long ones (enable_long_queue_ids: base-52 time, "z", inode).
_QID = r"[0-9A-F]{6,}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10,}z[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]+"
_WITH_QID = re.compile(rf"(?P<qid>{_QID}): (?P<rest>.*)\Z", re.DOTALL)
_DELIVERY = re.compile(
    r"to=<(?P<to>[^>]*)>,(?: orig_to=<(?P<orig>[^>]*)>,)? relay=(?P<relay>[^,]+),"
    r"(?: conn_use=\d+,)? delay=(?P<delay>[\d.]+),(?: delays=(?P<delays>[\d./]+),)?"
    r" dsn=(?P<dsn>\d\.\d{1,3}\.\d{1,3}), status=(?P<status>\w+) \((?P<text>.*)\)\Z",
    re.DOTALL,
)
_EXPIRED = re.compile(r"from=<(?P<from>[^>]*)>, status=expired, returned to sender\Z")
_QMGR_FROM = re.compile(r"from=<(?P<from>[^>]*)>, size=(?P<size>\d+), nrcpt=(?P<nrcpt>\d+)")
_MESSAGE_ID = re.compile(r"message-id=<?(?P<mid>[^>]*)>?\Z")
_PICKUP = re.compile(r"uid=(?P<uid>\d+) from=<(?P<from>[^>]*)>")
_CLIENT = re.compile(r"client=(?P<client>\S+?)(?:,|\Z)(?:.*sasl_username=(?P<login>[^,\s]+))?")
_NDR = re.compile(r"sender (?:non-delivery|delivery status) notification: (?P<ndr>\w+)\Z")
# smtpd or cleanup refusing mail at submission: "NOQUEUE: reject: RCPT from c[ip]: 554 5.7.1
# <to>: Relay access denied; from=<s> to=<r> proto=ESMTP helo=<h>", cleanup's "QID: reject: ..."
_REJECT = re.compile(
    r"(?P<action>reject|milter-reject|discard|hold|reject_warning): (?P<stage>\S+(?: \S+)?) from "
    r"(?P<client>\S+?): (?P<text>.*?); from=<(?P<from>[^>]*)>(?: to=<(?P<to>[^>]*)>)?",
    re.DOTALL,
)
_SAID = re.compile(
    r"host (?P<host>\S+) said: (?P<reply>.*?)(?: \(in reply to (?P<cmd>[^)]*)\))?\Z", re.DOTALL
)
_PROBLEM = re.compile(r"(?P<severity>warning|error|fatal|panic): (?P<text>.*)\Z", re.DOTALL)
# Postfix's own words for a failure that its delivery line does not repeat
_STALL = re.compile(r"certificate verification failed", re.IGNORECASE)

_SYSLOG_TRADITIONAL = re.compile(
    r"(?P<mon>[A-Z][a-z]{2}) +(?P<day>\d{1,2}) (?P<hms>\d\d:\d\d:\d\d) (?P<host>\S+) "
    r"(?P<prog>[^\s\[:]+)(?:\[(?P<pid>\d+)\])?: (?P<msg>.*)\Z",
    re.DOTALL,
)
_SYSLOG_RFC3339 = re.compile(
    r"(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)) (?P<host>\S+) "
    r"(?P<prog>[^\s\[:]+)(?:\[(?P<pid>\d+)\])?: (?P<msg>.*)\Z",
    re.DOTALL,
)
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1
    )
}

# syslog facility names (Postfix's syslog_facility) and the numbers the journal stores
FACILITIES = {
    "kern": 0,
    "user": 1,
    "mail": 2,
    "daemon": 3,
    "auth": 4,
    "syslog": 5,
    "lpr": 6,
    "news": 7,
    "uucp": 8,
    "cron": 9,
    "authpriv": 10,
    "ftp": 11,
    **{f"local{i}": 16 + i for i in range(8)},
}
# The journal fields a reader needs; journalctl --output-fields keeps the rest out.
JOURNAL_FIELDS = ("MESSAGE", "SYSLOG_IDENTIFIER", "SYSLOG_PID", "_PID", "_HOSTNAME")


@dataclasses.dataclass(frozen=True)
class Record:
    time: float | None  # seconds since the epoch
    host: str
    program: str  # postfix/smtp, postfix/submission/smtpd, postfix-out/qmgr, ...
    pid: int | None
    message: str


def _text(value) -> str:
    """A journal field: a string, or the bytes of a non-UTF-8 message as a list of integers."""
    if isinstance(value, list):
        return bytes(v for v in value if isinstance(v, int) and 0 <= v < 256).decode("utf-8", "replace")
    return "" if value is None else str(value)


def journal_records(lines: Iterable[str]) -> Iterator[Record]:
    """Records from `journalctl -o json` output, one JSON object a line. A line that is not
    a JSON object is skipped."""
    for line in lines:
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if not isinstance(entry, dict):
            continue
        try:
            when = int(entry.get("__REALTIME_TIMESTAMP")) / 1e6
        except (TypeError, ValueError):
            when = None
        pid = _text(entry.get("SYSLOG_PID") or entry.get("_PID"))
        yield Record(
            time=when,
            host=_text(entry.get("_HOSTNAME")),
            program=_text(entry.get("SYSLOG_IDENTIFIER")),
            pid=int(pid) if pid.isdigit() else None,
            message=_text(entry.get("MESSAGE")),
        )


def syslog_records(
    lines: Iterable[str],
    now: datetime.datetime | None = None,
    tz: datetime.tzinfo | None = None,
) -> Iterator[Record]:
    """Records from a syslog file. Traditional lines carry no year and no zone: they are read in
    tz (the host's local zone when None) in the year of `now`, or the year before when that
    would put them more than a day in the future (a log that spans New Year). Lines of another
    shape are skipped."""
    now = now or datetime.datetime.now(tz)
    for line in lines:
        line = line.rstrip("\n")
        found = _SYSLOG_RFC3339.match(line)
        when = None
        if found:
            stamp = found.group("ts").replace("Z", "+00:00")
            if re.search(r"[+-]\d{4}\Z", stamp):
                stamp = stamp[:-2] + ":" + stamp[-2:]
            try:
                when = datetime.datetime.fromisoformat(stamp).timestamp()
            except ValueError:
                when = None
        else:
            found = _SYSLOG_TRADITIONAL.match(line)
            if not found:
                continue
            hour, minute, second = (int(x) for x in found.group("hms").split(":"))
            for year in (now.year, now.year - 1):
                try:
                    moment = datetime.datetime(
                        year,
                        _MONTHS[found.group("mon")],
                        int(found.group("day")),
                        hour,
                        minute,
                        second,
                        tzinfo=tz,
                    )
                except (KeyError, ValueError):
                    break
                when = moment.timestamp()
                if when <= now.timestamp() + 86400:
                    break
        pid = found.group("pid")
        yield Record(
            time=when,
            host=found.group("host"),
            program=found.group("prog"),
            pid=int(pid) if pid else None,
            message=found.group("msg"),
        )


def is_postfix(program: str, names: Iterable[str] = ("postfix",)) -> bool:
    """Whether a log line's program is one of Postfix's daemons: a syslog_name ("postfix",
    "postfix-out") alone or followed by /daemon, /service/daemon."""
    return any(program == name or program.startswith(name + "/") for name in names)


def iso(when: float | None) -> str | None:
    if when is None:
        return None
    return datetime.datetime.fromtimestamp(when, datetime.UTC).isoformat(timespec="seconds")


def split_reply(text: str) -> tuple[str, str | None, str | None]:
    """What the remote server said inside a status text, the host that said it, and the SMTP
    command it answered; Postfix's own text when no server spoke."""
    said = _SAID.match(text)
    if said:
        return said.group("reply"), said.group("host"), said.group("cmd")
    return text, None, None


class Assembler:
    """Joins Records into messages and delivery attempts. Feed it with add(), in log order."""

    def __init__(self, names: Iterable[str] = ("postfix",)):
        self.names = tuple(names)
        self.messages: dict[str, dict] = {}
        self.attempts: list[dict] = []
        self.problems: list[dict] = []

    def _message(self, qid: str) -> dict:
        return self.messages.setdefault(qid, {"queue_id": qid})

    def add(self, record: Record) -> None:
        if not is_postfix(record.program, self.names):
            return
        daemon = record.program.rsplit("/", 1)[-1]
        text = record.message.strip()
        with_qid = _WITH_QID.match(text)
        if not with_qid:
            self._without_queue_id(record, daemon, text)
            return
        qid, rest = with_qid.group("qid"), with_qid.group("rest")
        message = self._message(qid)
        if found := _DELIVERY.match(rest):
            self._attempt(record, qid, found)
        elif found := _QMGR_FROM.match(rest):
            message["sender"] = found.group("from")
            message["size"] = int(found.group("size"))
            message.setdefault("first_seen", record.time)
        elif found := _EXPIRED.match(rest):
            message["sender"] = found.group("from")
            message["expired"] = record.time
        elif found := _MESSAGE_ID.match(rest):
            message["message_id"] = found.group("mid")
        elif daemon == "pickup" and (found := _PICKUP.match(rest)):
            message["sender"] = found.group("from")
            message["submitted_by"] = f"sendmail (uid {found.group('uid')})"
            message.setdefault("first_seen", record.time)
        elif daemon == "smtpd" and (found := _CLIENT.match(rest)):
            message["submitted_by"] = f"SMTP from {found.group('client')}"
            if found.group("login"):
                message["sasl_username"] = found.group("login")
            message.setdefault("first_seen", record.time)
        elif found := _NDR.match(rest):
            message["notification_queue_id"] = found.group("ndr")
        elif rest == "removed":
            message["removed"] = record.time
        elif found := _REJECT.match(rest):
            self._refused(record, found, qid)

    def _attempt(self, record: Record, qid: str, found: re.Match) -> None:
        text = " ".join(found.group("text").split())
        reply, said_by, command = split_reply(text)
        self.attempts.append(
            {
                "queue_id": qid,
                "timestamp": record.time,
                "recipient": found.group("to"),
                "original_recipient": found.group("orig"),
                "relay": found.group("relay"),
                "delay": float(found.group("delay")),
                "delays": found.group("delays"),
                "dsn": found.group("dsn"),
                "status": found.group("status"),
                "text": text,
                "reply": reply,
                "reply_from": said_by,
                "in_reply_to": command,
                "program": record.program,
            }
        )

    def _refused(self, record: Record, found: re.Match, qid: str | None) -> None:
        """Mail refused when it was handed to Postfix: no delivery, nothing queued."""
        text = " ".join(found.group("text").split())
        dsn = re.search(r"\b[45]\.\d{1,3}\.\d{1,3}\b", text)
        self.attempts.append(
            {
                "queue_id": qid,
                "timestamp": record.time,
                "recipient": found.group("to") or "",
                "original_recipient": None,
                "relay": "none",
                "delay": 0.0,
                "delays": None,
                "dsn": dsn.group(0) if dsn else None,
                "status": "rejected",
                "text": text,
                "reply": text,
                "reply_from": record.host,
                "in_reply_to": found.group("stage"),
                "program": record.program,
                "sender": found.group("from"),
                "submitted_by": f"SMTP from {found.group('client')}",
            }
        )

    def _without_queue_id(self, record: Record, daemon: str, text: str) -> None:
        if text.startswith("NOQUEUE: "):
            found = _REJECT.match(text[len("NOQUEUE: ") :])
            if found:
                self._refused(record, found, None)
            return
        problem = _PROBLEM.match(text)
        if problem or _STALL.match(text):
            self.problems.append(
                {
                    "timestamp": record.time,
                    "program": record.program,
                    "severity": problem.group("severity") if problem else "info",
                    "text": " ".join((problem.group("text") if problem else text).split()),
                }
            )

    def deliveries(self) -> list[dict]:
        """One entry per queue id and recipient: its latest attempt, with the message's facts
        and the number of attempts, in the log's order of those latest attempts."""
        latest: dict[tuple, int] = {}
        counts: dict[tuple, int] = {}
        firsts: dict[tuple, float | None] = {}
        for n, attempt in enumerate(self.attempts):
            key = (attempt["queue_id"], attempt["recipient"]) if attempt["queue_id"] else ("", n)
            counts[key] = counts.get(key, 0) + 1
            firsts.setdefault(key, attempt["timestamp"])
            latest[key] = n
        result = []
        for key, n in sorted(latest.items(), key=lambda item: item[1]):
            attempt = self.attempts[n]
            message = self.messages.get(attempt["queue_id"] or "", {})
            result.append(
                {
                    "queue_id": attempt["queue_id"],
                    "time": iso(attempt["timestamp"]),
                    "timestamp": attempt["timestamp"],
                    "sender": attempt.get("sender", message.get("sender")),
                    "recipient": attempt["recipient"],
                    "original_recipient": attempt["original_recipient"],
                    "status": attempt["status"],
                    "relay": attempt["relay"],
                    "delay": attempt["delay"],
                    "delays": attempt["delays"],
                    "dsn": attempt["dsn"],
                    "text": attempt["text"],
                    "reply": attempt["reply"],
                    "reply_from": attempt["reply_from"],
                    "in_reply_to": attempt["in_reply_to"],
                    "attempts": counts[key],
                    "first_attempt": iso(firsts[key]),
                    "message_id": message.get("message_id"),
                    "size": message.get("size"),
                    "submitted_by": attempt.get("submitted_by", message.get("submitted_by")),
                    "notification_queue_id": message.get("notification_queue_id"),
                }
            )
        return result


def _address_matches(address: str | None, wanted: str) -> bool:
    return bool(address) and address.lower() == wanted.lower()


def select(
    deliveries: list[dict],
    recipient: str | None = None,
    sender: str | None = None,
    since: float | None = None,
    until: float | None = None,
    statuses: Iterable[str] | None = None,
    limit: int | None = None,
) -> list[dict]:
    """The deliveries that match every filter given (addresses without regard to case; the
    recipient also as the original recipient, before aliases), the newest `limit` of them,
    oldest first."""
    wanted = set(statuses) if statuses else None
    chosen = [
        d
        for d in deliveries
        if (
            not recipient
            or _address_matches(d["recipient"], recipient)
            or _address_matches(d["original_recipient"], recipient)
        )
        and (not sender or _address_matches(d["sender"], sender))
        and (since is None or (d["timestamp"] is not None and d["timestamp"] >= since))
        and (until is None or (d["timestamp"] is not None and d["timestamp"] <= until))
        and (wanted is None or d["status"] in wanted)
    ]
    if limit is not None and limit >= 0:
        chosen = chosen[-limit:] if limit else []
    return chosen


_DURATION = re.compile(r"(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>s|sec|m|min|h|hour|hours|d|day|days|w|week|weeks)")
_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "hours": 3600}
_UNITS.update({"d": 86400, "day": 86400, "days": 86400, "w": 604800, "week": 604800, "weeks": 604800})


def parse_time(value: str | None, now: float) -> float | None:
    """A point in time from a duration back from now ("90m", "2h", "7d", "1w") or an ISO 8601
    time ("2026-01-31T08:00:00+00:00"; without a zone, UTC). ValueError for anything else."""
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip()
    found = _DURATION.fullmatch(text)
    if found:
        return now - float(found.group("n")) * _UNITS[found.group("unit")]
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{text!r} is neither a duration back from now (90m, 2h, 7d, 1w) nor an ISO 8601 time "
            f"(2026-01-31T08:00:00+00:00)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.timestamp()


def queue_entries(lines: Iterable[str]) -> list[dict]:
    """The queue from `postqueue -j`: one JSON object a line (Postfix 3.1+), each message with
    its recipients and, for deferred ones, why they wait."""
    entries = []
    for line in lines:
        line = line.strip()
        if not line:
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and "queue_id" in entry:
            entries.append(entry)
    return entries
