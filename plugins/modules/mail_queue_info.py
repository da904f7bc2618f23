#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: mail_queue_info
short_description: Read Postfix's queue and log back into deliveries, and say why mail did not arrive
version_added: 0.1.0
description:
  - Read-only, on the mail host. Reads Postfix's queue (C(postqueue -j)) and the last deliveries
    from Postfix's log - systemd's journal or a syslog file such as C(/var/log/mail.log),
    whichever the host has - and returns, per queue id and recipient, the sender, the status
    (C(sent), C(deferred), C(bounced), C(expired), or C(rejected) when Postfix refused the message
    when it was handed over), the relay, the delay, the DSN code and what the remote server said.
  - Every failed or waiting delivery, queue entry and Postfix warning is classified into the kinds
    of failure hosters know - at the sending server (credentials, TLS, the relay's own rules, a
    blocked port, a name that does not resolve, the local Postfix not running) or at the receiving
    server (not authenticated or judged as spam, too large, unknown recipient, full mailbox) -
    each with the one change that fixes it, naming the lms.mail variable where a role owns it.
  - A reply that means one thing at the relay and another at the recipient's server (a size or
    rate limit, "Relay access denied") is judged by the host that answered against Postfix's
    C(relayhost).
author: lms.mail developers (@lms-mail)
extends_documentation_fragment:
  - lms.mail.read_only
options:
  recipient:
    description:
      - Only deliveries to this address (compared without regard to case; the address before
        alias expansion counts too), and only queue entries with this recipient.
      - For "a student says they got nothing" - their address.
    type: str
  sender:
    description: Only deliveries and queue entries from this envelope sender.
    type: str
  since:
    description:
      - The start of the time window - a duration back from now (C(90m), C(2h), C(7d), C(1w)) or an
        ISO 8601 time (C(2026-01-31T08:00:00+00:00); without a zone, UTC).
      - Only the log from then on is read.
    type: str
    default: 1d
  until:
    description: The end of the time window, written as O(since). Default is now.
    type: str
  limit:
    description: The newest this many deliveries are returned (after the filters). C(0) returns none.
    type: int
    default: 50
  statuses:
    description: Only deliveries with one of these statuses.
    type: list
    elements: str
    choices: [sent, deferred, bounced, expired, rejected]
    default: [sent, deferred, bounced, expired, rejected]
  log_source:
    description:
      - Where Postfix's log is read from.
      - C(auto) - Postfix's own C(maillog_file) when set, otherwise the journal when C(journalctl)
        exists and holds Postfix's lines, otherwise O(log_file).
      - C(journal) - the systemd journal, lines of Postfix's C(syslog_facility).
      - C(file) - the syslog file O(log_file), and its first rotation (C(.1)) before it when the
        window reaches back that far.
    type: str
    choices: [auto, journal, file]
    default: auto
  log_file:
    description:
      - The syslog file read with O(log_source=file) or as the fallback of C(auto). Traditional
        lines (C(Dec  2 08:00:00 host postfix/smtp[123]:)) are read in the host's time zone.
      - Default is Postfix's C(maillog_file) when set, else C(/var/log/mail.log).
    type: path
notes:
  - Run it with root privileges (C(become=true)); the journal and C(/var/log/mail.log) are not
    readable by everyone.
  - Only the journal and the file named are read; older rotations (C(.2.gz) and on) are not.
  - A deferred message is listed once per recipient, with its latest attempt and the number of
    attempts in the window.
attributes:
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: debian
    details: A Debian host with Postfix 3.1 or later (C(postqueue -j)) and systemd's journal or a syslog file.
"""

EXAMPLES = r"""
- name: Why did the last day's mail not arrive?
  lms.mail.mail_queue_info:
  become: true
  register: mail

- name: Show each failure's kind and fix
  ansible.builtin.debug:
    msg: "{{ item.recipient }}: {{ item.failure.title }} - {{ item.failure.fix }}"
  loop: "{{ mail.deliveries | selectattr('failure') | list }}"
  loop_control:
    label: "{{ item.queue_id }}"

- name: A student says they got nothing this week
  lms.mail.mail_queue_info:
    recipient: student@students.example
    since: 7d
  become: true
  register: student_mail

- name: Only what bounced between two times, read from the syslog file
  lms.mail.mail_queue_info:
    since: "2026-01-31T08:00:00+01:00"
    until: "2026-01-31T12:00:00+01:00"
    statuses: [bounced]
    log_source: file
    log_file: /var/log/mail.log
  become: true
"""

RETURN = r"""
deliveries:
  description:
    - The newest O(limit) deliveries in the window, oldest first - one per queue id and recipient,
      its latest attempt.
    - C(failure) is null for C(sent), otherwise the classification (see RV(findings)).
  returned: success
  type: list
  elements: dict
  sample:
    - queue_id: 6CE911FE052
      time: "2026-12-02T02:58:49+00:00"
      timestamp: 1796180329.5
      sender: noreply@school.example
      recipient: nosuchuser@students.example
      original_recipient: null
      status: bounced
      relay: "mx.students.example[192.0.2.25]:25"
      delay: 0.11
      delays: 0.01/0/0.08/0.01
      dsn: 5.1.1
      text: "host mx.students.example[192.0.2.25] said: 550 5.1.1 <nosuchuser@students.example>: Recipient
        address rejected: User unknown in local recipient table (in reply to RCPT TO command)"
      reply: "550 5.1.1 <nosuchuser@students.example>: Recipient address rejected: User unknown in local
        recipient table"
      reply_from: "mx.students.example[192.0.2.25]"
      in_reply_to: RCPT TO
      attempts: 1
      first_attempt: "2026-12-02T02:58:49+00:00"
      message_id: "<20261202025849.6CE911FE052@moodle.school.example>"
      size: 282
      submitted_by: sendmail (uid 33)
      notification_queue_id: 857421FE00D
      failure:
        kind: unknown_recipient
        side: receiving
        title: the recipient does not exist or was disabled
        fix: "The address does not exist (or the account was closed): correct the email address in the
          user's Moodle profile, or suspend the user."
        temporary: false
queue:
  description:
    - The messages in Postfix's queue (C(postqueue -j)) that match O(recipient) and O(sender), each
      recipient of a deferred one with C(failure), the classification of its C(delay_reason).
  returned: success
  type: list
  elements: dict
  sample:
    - queue_name: deferred
      queue_id: 0A24B1FE25F
      arrival_time: 1796180299
      message_size: 284
      forced_expire: false
      sender: noreply@school.example
      recipients:
        - address: someone@example.net
          delay_reason: "connect to mx.example.net[198.51.100.7]:25: Connection refused"
          failure: {kind: port25_blocked, side: sending, temporary: true,
                    title: "outgoing port 25 is blocked or the recipient's MX does not answer",
                    fix: "Many providers block outgoing port 25: send through a relay ..."}
problems:
  description:
    - Postfix's lines about no one message that say why mail cannot move - warnings, errors, a
      connection or TLS failure, a refused submission - each text once, with how often and when
      last, and C(failure) when it is a known kind.
  returned: success
  type: list
  elements: dict
  sample:
    - {text: "relayhost configuration problem", severity: warning, program: postfix/smtp, count: 3,
       last: "2026-12-02T02:59:49+00:00", failure: {kind: local_mta_misconfigured}}
findings:
  description:
    - Each kind of failure found, once - its side (C(sending) or C(receiving)), title, fix, how
      many deliveries, queue entries and problems show it and a few of the recipients - the most
      frequent first.
  returned: success
  type: list
  elements: dict
  sample:
    - kind: sender_not_allowed
      side: sending
      title: the relay refuses a From other than its login
      fix: "The service sends only as its login: set moodle_noreplyaddress to postfix_relay_username, or
        let Postfix rewrite the sender (postfix_relay_rewrite_sender: true)."
      count: 4
      recipients: [student@students.example]
      example: "553 5.7.1 <noreply@school.example>: Sender address rejected: not owned by user
        moodle@mailservice.example"
verdict:
  description:
    - With O(recipient), one sentence on what became of the mail to them - waiting in the queue and why,
      returned and why, delivered (then it is the receiver's), or never handed to Postfix at all.
  returned: success
  type: str
  sample: "The last message to student@students.example (6CE911FE052) was bounced at
    2026-12-02T02:58:49+00:00: the recipient does not exist or was disabled. The address does not exist ..."
summary:
  description: Counts of the returned deliveries by status, and of the queue's messages.
  returned: success
  type: dict
  sample: {sent: 12, deferred: 2, bounced: 1, expired: 0, rejected: 0, queued: 2}
postfix:
  description:
    - What the reading was based on - Postfix's C(relayhost), C(inet_interfaces),
      C(message_size_limit), C(mail_version), whether it runs (C(running), false when its queue
      could not be read through it) and C(postqueue)'s error when not.
  returned: success
  type: dict
  sample: {relayhost: "[smtp.mailservice.example]:587", inet_interfaces: loopback-only,
           message_size_limit: 10240000, mail_version: 3.7.11, running: true, queue_error: null}
log:
  description: Where the log was read (C(journal) or the file's path) and the window, as ISO 8601 times.
  returned: success
  type: dict
  sample: {source: journal, files: [], since: "2026-12-01T08:00:00+00:00", until: "2026-12-02T08:00:00+00:00"}
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.lms.mail.plugins.module_utils import mail_failures, postfix_log

STATUSES = ["sent", "deferred", "bounced", "expired", "rejected"]
POSTCONF = (
    "relayhost",
    "inet_interfaces",
    "message_size_limit",
    "mail_version",
    "syslog_name",
    "syslog_facility",
    "maillog_file",
)


def postconf(module: AnsibleModule) -> dict:
    path = module.get_bin_path("postconf")
    if not path:
        module.fail_json(msg="postconf was not found: this module runs on a host with Postfix installed")
    # -x: expanded, as Postfix uses them (syslog_name is "${multi_instance_name?...}" as written)
    rc, out, err = module.run_command([path, "-x", *POSTCONF])
    values = {}
    for line in out.splitlines():
        name, sep, value = line.partition(" = ")
        if sep:
            values[name.strip()] = value.strip()
    if rc != 0 and not values:
        module.fail_json(msg=f"postconf failed: {err.strip()}")
    return values


def read_queue(module: AnsibleModule) -> tuple[list[dict], str | None]:
    path = module.get_bin_path("postqueue")
    if not path:
        return [], "postqueue was not found"
    rc, out, err = module.run_command([path, "-j"])
    if rc != 0:
        # "postqueue: fatal: Queue report unavailable - mail system is down"
        return [], (err.strip() or out.strip() or f"postqueue -j exited with {rc}")
    # Postfix 3.7 reads the queue itself when the mail system is down, and says so on stderr
    down = "mail system is down" in err.lower()
    return postfix_log.queue_entries(out.splitlines()), (err.strip() if down else None)


def journal_lines(
    module: AnsibleModule, facility: int, since: float, until: float | None
) -> list[str] | None:
    path = module.get_bin_path("journalctl")
    if not path:
        return None
    args = [
        path,
        "--no-pager",
        "--quiet",
        "--output=json",
        "--output-fields=" + ",".join(postfix_log.JOURNAL_FIELDS),
        f"--since=@{int(since)}",
        f"SYSLOG_FACILITY={facility}",
    ]
    if until is not None:
        args.append(f"--until=@{int(until) + 1}")
    rc, out, err = module.run_command(args)
    if rc != 0:
        module.fail_json(msg=f"journalctl could not read the journal ({err.strip()}): run with become: true")
    return out.splitlines()


def file_lines(module: AnsibleModule, log_file: str, since: float) -> tuple[list[str], list[str]]:
    files = []
    rotated = log_file + ".1"
    # the first rotation only when the current file starts after the window does
    if os.path.isfile(rotated) and os.path.getmtime(rotated) >= since:
        files.append(rotated)
    files.append(log_file)
    lines: list[str] = []
    for name in files:
        try:
            with open(name, encoding="utf-8", errors="replace") as handle:
                lines.extend(handle)
        except FileNotFoundError:
            if name == log_file:
                module.fail_json(
                    msg=f"log_file {log_file} does not exist: set log_file to Postfix's syslog file, or "
                    f"log_source to journal"
                )
        except PermissionError:
            module.fail_json(msg=f"cannot read {name}: run with become: true")
    return lines, files


def read_log(module: AnsibleModule, conf: dict, since: float, until: float | None) -> tuple:
    """The assembled log and where it came from: (Assembler, source, files)."""
    names = [conf.get("syslog_name") or "postfix"]
    facility = postfix_log.FACILITIES.get(conf.get("syslog_facility") or "mail", 2)
    source = module.params["log_source"]
    log_file = module.params["log_file"] or conf.get("maillog_file") or "/var/log/mail.log"
    if source == "auto" and conf.get("maillog_file") and not conf["maillog_file"].startswith("/dev/"):
        source = "file"

    if source in ("auto", "journal"):
        lines = journal_lines(module, facility, since, until)
        if lines is None and source == "journal":
            module.fail_json(msg="journalctl was not found: set log_source to file (and log_file)")
        if lines is not None:
            assembler = postfix_log.Assembler(names)
            for record in postfix_log.journal_records(lines):
                assembler.add(record)
            if (
                source == "journal"
                or assembler.attempts
                or assembler.messages
                or not os.path.isfile(log_file)
            ):
                return assembler, "journal", []

    lines, files = file_lines(module, log_file, since)
    assembler = postfix_log.Assembler(names)
    for record in postfix_log.syslog_records(lines):
        if record.time is None or record.time >= since:
            assembler.add(record)
    return assembler, "file", files


def run(module: AnsibleModule) -> dict:
    params = module.params
    now = time.time()
    try:
        since = postfix_log.parse_time(params["since"], now)
        until = postfix_log.parse_time(params["until"], now)
    except ValueError as exc:
        module.fail_json(msg=f"since/until: {exc}")
    if since is None:
        since = 0.0
    if params["limit"] < 0:
        module.fail_json(msg="limit must be 0 or more")

    conf = postconf(module)
    relayhost = conf.get("relayhost", "")
    queue, queue_error = read_queue(module)
    assembler, source, files = read_log(module, conf, since, until)

    deliveries = postfix_log.select(
        assembler.deliveries(),
        recipient=params["recipient"],
        sender=params["sender"],
        since=since,
        until=until,
        statuses=params["statuses"],
        limit=params["limit"],
    )
    for delivery in deliveries:
        delivery["failure"] = mail_failures.classify_delivery(delivery, relayhost)
    queue = mail_failures.classify_queue(
        queue, relayhost, params["recipient"], params["sender"], running=queue_error is None, now=now
    )
    problems = mail_failures.group_problems(assembler.problems, relayhost)
    if queue_error:
        found = mail_failures.classify(queue_error, relayhost=relayhost)
        problems.append(
            {
                "text": f"postqueue -j: {queue_error}",
                "severity": "error",
                "program": "postqueue",
                "count": 1,
                "last": postfix_log.iso(now),
                "failure": None if found.kind.startswith("unclassified") else found.as_dict(),
            }
        )

    summary = {status: sum(1 for d in deliveries if d["status"] == status) for status in STATUSES}
    summary["queued"] = len(queue)
    return {
        "changed": False,
        "deliveries": deliveries,
        "queue": queue,
        "problems": problems,
        "findings": mail_failures.findings(deliveries, queue, problems),
        "verdict": mail_failures.recipient_verdict(
            params["recipient"], deliveries, queue, postfix_log.iso(since)
        )
        if params["recipient"]
        else None,
        "summary": summary,
        "postfix": {
            "relayhost": relayhost,
            "inet_interfaces": conf.get("inet_interfaces", ""),
            "message_size_limit": int(conf["message_size_limit"])
            if conf.get("message_size_limit", "").isdigit()
            else None,
            "mail_version": conf.get("mail_version", ""),
            "running": queue_error is None,
            "queue_error": queue_error,
        },
        "log": {
            "source": source,
            "files": files,
            "since": postfix_log.iso(since),
            "until": postfix_log.iso(until if until is not None else now),
        },
    }


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "recipient": {"type": "str"},
            "sender": {"type": "str"},
            "since": {"type": "str", "default": "1d"},
            "until": {"type": "str"},
            "limit": {"type": "int", "default": 50},
            "statuses": {"type": "list", "elements": "str", "choices": STATUSES, "default": STATUSES},
            "log_source": {"type": "str", "choices": ["auto", "journal", "file"], "default": "auto"},
            "log_file": {"type": "path"},
        },
        supports_check_mode=True,
    )
    module.exit_json(**run(module))


if __name__ == "__main__":
    main()
