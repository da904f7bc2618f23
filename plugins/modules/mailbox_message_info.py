#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: mailbox_message_info
short_description: Wait for a message in an IMAP mailbox and report what the receiver said about it
version_added: 0.1.0
description:
  - Read-only. Logs in to an IMAP mailbox, waits until a message whose Subject contains
    O(subject_contains) is there, and returns its header and the receiver's verdicts from its
    C(Authentication-Results) fields (RFC 8601) - SPF, DKIM, DMARC and any other method.
  - Only the fields whose authserv-id is one of O(authserv_ids) are believed. Any server on
    the way, the sender included, can add an C(Authentication-Results) field and name any
    authserv-id in it; the others are left out and listed in RV(ignored_authserv_ids).
  - The mailbox is opened with C(EXAMINE) and headers are read with C(BODY.PEEK), so nothing
    changes - the message stays unread, no flag is set.
  - The newest matching message is reported (the highest UID), so a marker sent again is
    found in its latest copy.
author: lms.mail developers (@lms-mail)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  imap_host:
    description: The IMAP server's host name or address.
    type: str
    required: true
  imap_port:
    description: The IMAP server's port. Defaults to C(993) for O(imap_tls=imaps), C(143) otherwise.
    type: int
  imap_tls:
    description:
      - C(imaps) - TLS from the first byte (usually port 993).
      - C(starttls) - plain IMAP upgraded with STARTTLS before the login (usually port 143).
      - C(none) - no TLS; the password crosses the network in clear. For a server on the same
        host or a test network only.
    type: str
    choices: [imaps, starttls, none]
    default: imaps
  validate_certs:
    description:
      - Verify the server's certificate and that it names O(imap_host).
      - Turn off only for a test server; then anyone on the path can read the password.
    type: bool
    default: true
  imap_ca_file:
    description:
      - A file of CA certificates (PEM) to verify the server's certificate with, instead of the
        system's CAs. On the host the module runs on - the controller, with C(delegate_to=localhost).
      - For a server whose certificate a private CA signed.
    type: path
  imap_user:
    description: The login name.
    type: str
    required: true
  imap_password:
    description: The login password.
    type: str
    required: true
  mailbox:
    description:
      - The mailbox (folder) to look in, e.g. C(INBOX), C(Junk), C(INBOX.Spam) or C(INBOX/Spam)
        depending on the server's hierarchy separator.
    type: str
    default: INBOX
  subject_contains:
    description:
      - Text the Subject contains, compared without regard to case, as IMAP C(SEARCH SUBJECT)
        does; each candidate's Subject is decoded and checked again before it is reported.
      - Use a marker unique to one run (a timestamp or random token), so an older message is
        never taken for the new one.
    type: str
    required: true
  authserv_ids:
    description:
      - The receiving server's own authserv-ids - what its SPF, DKIM and DMARC checkers write
        first in their C(Authentication-Results) fields (OpenDKIM's and OpenDMARC's
        C(AuthservID), policyd-spf's C(Authserv_Id); by default the host name, e.g.
        C(mx.students.test); C(mx.google.com) at Gmail).
      - Compared without regard to case; C(id/jobid) (C(AuthservIDWithJobID)) counts as C(id).
    type: list
    elements: str
    required: true
  timeout:
    description: Seconds to wait for the message to arrive. C(0) looks once.
    type: float
    default: 180
  poll_interval:
    description: Seconds between two looks into the mailbox.
    type: float
    default: 5
notes:
  - Each network operation (connecting, the TLS handshake, an IMAP command) waits at most
    O(timeout) seconds, but never less than 5 and never more than 30.
  - The results are as trustworthy as the receiver makes them - RFC 8601 asks a receiver to
    remove fields that bear its own authserv-id from incoming mail before adding its own.
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
    details: The module never changes anything; check mode runs it the same way.
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: A marker unique to this run
  ansible.builtin.set_fact:
    marker: "lms-{{ now(utc=true, fmt='%Y%m%d%H%M%S') }}"

- name: Send a marked message from the Moodle server
  ansible.builtin.command:
    cmd: /usr/sbin/sendmail -f noreply@school.example student@students.example
    stdin: "Subject: deliverability {{ marker }}\n\nA test from lms.mail.\n"
  changed_when: true

- name: Wait for it at the receiver and read its verdicts
  lms.mail.mailbox_message_info:
    imap_host: imap.students.example
    imap_user: student@students.example
    imap_password: "{{ vault_student_password }}"
    subject_contains: "{{ marker }}"
    authserv_ids: [mx.students.example]
    timeout: 300
  delegate_to: localhost
  register: received

- name: Fail unless SPF, DKIM and DMARC passed
  ansible.builtin.assert:
    that:
      - received.auth.spf.result | default('') == 'pass'
      - received.auth.dkim | selectattr('result', 'eq', 'pass') | list | length > 0
      - received.auth.dmarc.result | default('') == 'pass'
    fail_msg: "{{ received.authentication_results }}"

- name: A server whose certificate a private CA signed, over STARTTLS, in the Junk folder
  lms.mail.mailbox_message_info:
    imap_host: mail.students.internal
    imap_tls: starttls
    imap_ca_file: "{{ playbook_dir }}/files/students-ca.pem"
    imap_user: student
    imap_password: "{{ vault_student_password }}"
    mailbox: Junk
    subject_contains: "{{ marker }}"
    authserv_ids: [mx.students.internal]
    timeout: 30
  delegate_to: localhost
"""

RETURN = r"""
message:
  description: The message found.
  returned: success
  type: dict
  contains:
    uid:
      description: Its IMAP UID in O(mailbox).
      type: int
    subject:
      description: The Subject, decoded.
      type: str
    from:
      description: The From field, decoded.
      type: str
    to:
      description: The To field, decoded.
      type: str
    date:
      description: The Date field.
      type: str
    message_id:
      description: The Message-ID field.
      type: str
    return_path:
      description: The Return-Path the receiver recorded (the envelope sender); empty when none.
      type: str
    received:
      description: The Received fields, topmost (the last hop) first, unfolded.
      type: list
      elements: str
    headers:
      description: Every header field, in order, as C([name, value]) with the value unfolded.
      type: list
      elements: list
  sample:
    uid: 42
    subject: "deliverability lms-20260101120000"
    from: "Moodle <noreply@school.example>"
    to: student@students.example
    date: "Thu, 01 Jan 2026 12:00:00 +0000"
    message_id: "<20260101120000.4ABC@school.example>"
    return_path: "<noreply@school.example>"
    received: ["from moodle.school.example (moodle.school.example [192.0.2.10]) by mx.students.example ..."]
    headers: [["Return-Path", "<noreply@school.example>"], ["Subject", "deliverability lms-20260101120000"]]
authentication_results:
  description:
    - The results of the trusted C(Authentication-Results) fields, topmost field first, each
      field's results in its order.
    - C(properties) maps C(ptype.property) in lower case (C(header.d), C(header.from),
      C(smtp.mailfrom), C(policy.*)) to its value.
  returned: success
  type: list
  elements: dict
  sample:
    - authserv_id: mx.students.example
      method: dkim
      result: pass
      reason: null
      comment: "2048-bit key; unprotected"
      properties: {"header.d": "school.example", "header.s": "202601", "header.b": "AbCd1234"}
    - authserv_id: mx.students.example
      method: spf
      result: pass
      reason: null
      comment: sender SPF authorized
      properties: {"smtp.mailfrom": "school.example"}
auth:
  description:
    - The verdicts a deliverability check asks about, from RV(authentication_results) -
      C(spf) and C(dmarc) the first trusted result of that method (null when none), C(dkim)
      every trusted DKIM result (one per signature).
  returned: success
  type: dict
  sample:
    spf: {"authserv_id": "mx.students.example", "method": "spf", "result": "pass", "reason": null,
          "comment": "sender SPF authorized", "properties": {"smtp.mailfrom": "school.example"}}
    dkim: []
    dmarc: null
ignored_authserv_ids:
  description: The authserv-ids of the C(Authentication-Results) fields left out, each once.
  returned: success
  type: list
  elements: str
  sample: [mail.attacker.example]
waited:
  description: Seconds from the start until the message was found.
  returned: success
  type: float
  sample: 12.4
error:
  description:
    - On failure, what went wrong - C(ConnectionFailed), C(CertificateNotTrusted), C(TlsFailed),
      C(LoginFailed), C(MailboxNotFound), C(MessageNotFound) or C(ImapError).
  returned: failure
  type: str
  sample: MessageNotFound
"""

import base64
import contextlib
import email.errors
import email.header
import email.parser
import email.policy
import imaplib
import os
import re
import ssl
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.lms.mail.plugins.module_utils.auth_results import trusted_results

# Each network operation waits at most this long, whatever the timeout option says, and at
# least IO_TIMEOUT_MIN: a TLS handshake to a far server can take seconds.
IO_TIMEOUT_MIN = 5.0
IO_TIMEOUT_MAX = 30.0
DEFAULT_PORTS = {"imaps": 993, "starttls": 143, "none": 143}


class MailboxError(Exception):
    """A failure whose message is fit for the user: it names the option to change."""


class ConnectionFailed(MailboxError):
    pass


class CertificateNotTrusted(MailboxError):
    pass


class TlsFailed(MailboxError):
    pass


class LoginFailed(MailboxError):
    pass


class MailboxNotFound(MailboxError):
    pass


class MessageNotFound(MailboxError):
    pass


class ImapError(MailboxError):
    pass


def _server_text(exc: BaseException) -> str:
    """What an imaplib error carries (often the server's bytes), as text."""
    text = exc.args[0] if exc.args else str(exc)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return str(text).strip()


def _response_text(data: list) -> str:
    return " ".join(d.decode("utf-8", "replace") if isinstance(d, bytes) else str(d) for d in data if d)


def tls_context(params: dict) -> ssl.SSLContext:
    if not params["validate_certs"]:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    ca_file = params["imap_ca_file"]
    if not ca_file:
        return ssl.create_default_context()
    if not os.path.isfile(ca_file):
        raise CertificateNotTrusted(
            f"imap_ca_file {ca_file} does not exist on this host (the one the module runs on)"
        )
    try:
        # only this file: a private CA's server must not pass with a public CA's certificate either
        return ssl.create_default_context(cafile=ca_file)
    except ssl.SSLError as exc:
        raise CertificateNotTrusted(
            f"imap_ca_file {ca_file} holds no usable CA certificate (PEM): {exc}"
        ) from None


def connect(params: dict, io_timeout: float) -> imaplib.IMAP4:
    host, port, mode = params["imap_host"], params["imap_port"], params["imap_tls"]
    where = f"{host}:{port}"
    context = tls_context(params) if mode != "none" else None
    try:
        if mode == "imaps":
            client = imaplib.IMAP4_SSL(host, port, ssl_context=context, timeout=io_timeout)
        else:
            client = imaplib.IMAP4(host, port, timeout=io_timeout)
            if mode == "starttls":
                if "STARTTLS" not in client.capabilities:
                    client.shutdown()
                    raise TlsFailed(
                        f"the IMAP server at {where} does not offer STARTTLS: set imap_tls to imaps "
                        f"(and imap_port to its TLS port, usually 993), or to none on a trusted network"
                    )
                client.starttls(context)
    except ssl.SSLCertVerificationError as exc:
        # the certificate is not signed by a trusted CA, has expired, or does not name the host
        raise CertificateNotTrusted(
            f"the certificate of the IMAP server at {where} is not trusted ({exc.verify_message}): "
            f"set imap_ca_file to the CA certificate that signed it (a PEM file on the host the "
            f"module runs on), make imap_host a name the certificate holds, or, for a test server "
            f"only, set validate_certs to false"
        ) from None
    except ssl.SSLError as exc:
        hint = "imaps is TLS from the first byte (port 993), starttls begins in plain text (port 143)"
        raise TlsFailed(
            f"TLS with the IMAP server at {where} failed ({exc.reason or exc}): "
            f"check imap_tls and imap_port - {hint}"
        ) from None
    except TimeoutError:
        raise ConnectionFailed(
            f"the IMAP server at {where} did not answer within {io_timeout:g} s: check imap_host and "
            f"imap_port, and that a firewall lets this host reach it"
        ) from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConnectionFailed(
            f"cannot connect to the IMAP server at {where}: {reason}. Check imap_host and imap_port"
        ) from None
    except imaplib.IMAP4.error as exc:
        raise ConnectionFailed(
            f"the server at {where} does not speak IMAP as expected ({_server_text(exc)}): check "
            f"imap_host, imap_port and imap_tls"
        ) from None
    return client


def login(client: imaplib.IMAP4, params: dict) -> None:
    user, password = params["imap_user"], params["imap_password"]
    where = f"{params['imap_host']}:{params['imap_port']}"
    try:
        if user.isascii() and password.isascii():
            client.login(user, password)
        else:
            # LOGIN's strings are ASCII in imaplib; AUTHENTICATE PLAIN carries UTF-8 (RFC 4616)
            client.authenticate("PLAIN", lambda _challenge: f"\0{user}\0{password}".encode())
    except imaplib.IMAP4.error as exc:
        said = _server_text(exc)
        hint = "check imap_user and imap_password"
        if params["imap_tls"] == "none" and (
            "PRIVACYREQUIRED" in said or "LOGINDISABLED" in client.capabilities
        ):
            hint = "the server accepts logins over TLS only: set imap_tls to starttls or imaps"
        raise LoginFailed(
            f"the IMAP server at {where} refused the login of {user!r} ({said}): {hint}"
        ) from None


def imap_utf7(name: str) -> str:
    """A mailbox name in IMAP's modified UTF-7 (RFC 3501 section 5.1.3)."""
    out, pending = [], []

    def flush():
        if pending:
            encoded = base64.b64encode("".join(pending).encode("utf-16-be")).decode().rstrip("=")
            out.append("&" + encoded.replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if " " <= char <= "~":
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)


def imap_utf7_decode(name: str) -> str:
    """A mailbox name from the server, modified UTF-7 undone (as written when it is not valid)."""

    def run(match: re.Match) -> str:
        encoded = match.group(1).replace(",", "/")
        if not encoded:
            return "&"
        try:
            return base64.b64decode(encoded + "=" * (-len(encoded) % 4)).decode("utf-16-be")
        except (ValueError, UnicodeError):
            return match.group(0)

    return re.sub(r"&([A-Za-z0-9+,]*)-", run, name)


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def list_mailboxes(client: imaplib.IMAP4) -> list[str]:
    try:
        status, data = client.list()
    except imaplib.IMAP4.error:
        return []
    names = []
    for line in data if status == "OK" else []:
        if not isinstance(line, bytes):
            continue
        match = re.match(rb'\([^)]*\) (?:"(?:[^"\\]|\\.)*"|NIL) (.+)$', line)
        if match:
            names.append(imap_utf7_decode(match.group(1).decode("utf-8", "replace").strip('"')))
    return names


def examine(client: imaplib.IMAP4, params: dict) -> None:
    mailbox = params["mailbox"]
    try:
        status, data = client.select(quote(imap_utf7(mailbox)), readonly=True)
    except imaplib.IMAP4.error as exc:
        status, data = "NO", [_server_text(exc)]
    if status != "OK":
        known = list_mailboxes(client)
        listed = f" The user's mailboxes: {', '.join(known)}." if known else ""
        raise MailboxNotFound(
            f"cannot open mailbox {mailbox!r} of {params['imap_user']!r} at {params['imap_host']}: "
            f"{_response_text(data).rstrip('.')}. Check mailbox (names other than INBOX are "
            f"case-sensitive, and a folder in another is written with the server's separator, e.g. "
            f"INBOX.Junk or INBOX/Junk).{listed}"
        )


def command(client: imaplib.IMAP4, *args: str) -> list:
    """A UID command's data; ImapError when the server says NO or BAD."""
    try:
        status, data = client.uid(*args)
    except imaplib.IMAP4.error as exc:
        raise ImapError(f"the IMAP server refused UID {args[0]}: {_server_text(exc)}") from None
    if status != "OK":
        raise ImapError(f"the IMAP server refused UID {args[0]}: {_response_text(data)}")
    return data


def search(client: imaplib.IMAP4, text: str) -> list[int]:
    """UIDs of the messages whose Subject contains text (the server's matching), newest first."""
    if text.isascii():
        data = command(client, "SEARCH", "SUBJECT", quote(text))
    else:
        # a non-ASCII string goes as a literal, in UTF-8, which the search must then declare
        client.literal = text.encode()
        data = command(client, "SEARCH", "CHARSET", "UTF-8", "SUBJECT")
    uids = [int(u) for chunk in data if chunk for u in chunk.split()]
    return sorted(uids, reverse=True)


def fetch_headers(client: imaplib.IMAP4, uids: list[int], section: str) -> dict[int, bytes]:
    """UID -> the header bytes the section asks for, read with BODY.PEEK (no \\Seen flag)."""
    data = command(client, "FETCH", ",".join(str(u) for u in uids), f"(UID BODY.PEEK[{section}])")
    headers = {}
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            match = re.search(rb"\bUID (\d+)", item[0])
            if match:
                headers[int(match.group(1))] = item[1]
    return headers


def parse_header(raw: bytes):
    text = raw.decode("utf-8", "replace")
    return email.parser.HeaderParser(policy=email.policy.compat32).parsestr(text, headersonly=True)


def unfold(value: str) -> str:
    return re.sub(r"\r?\n(?=[ \t])", "", str(value)).strip()


def decoded(value: str | None) -> str:
    """A field's text with RFC 2047 encoded-words decoded (as written when they are broken)."""
    if value is None:
        return ""
    value = unfold(value)
    try:
        return str(email.header.make_header(email.header.decode_header(value)))
    except (LookupError, UnicodeError, ValueError, email.errors.HeaderParseError):
        return value


def find_message(client: imaplib.IMAP4, params: dict) -> tuple[int, bytes] | None:
    """The newest message whose decoded Subject contains subject_contains: (uid, header)."""
    wanted = params["subject_contains"].casefold()
    uids = search(client, params["subject_contains"])
    if not uids:
        return None
    # The server's match is checked again on the decoded Subject: a server may match on
    # words (full-text search plugins) or on the encoded form.
    subjects = fetch_headers(client, uids, "HEADER.FIELDS (SUBJECT)")
    for uid in uids:
        subject = decoded(parse_header(subjects.get(uid, b"")).get("Subject"))
        if wanted in subject.casefold():
            header = fetch_headers(client, [uid], "HEADER").get(uid)
            if header is not None:
                return uid, header
    return None


def describe(uid: int, raw: bytes, authserv_ids: list[str]) -> tuple[dict, list[str]]:
    """The module's result for a message header, and the problems to warn about."""
    message = parse_header(raw)
    headers = [[name, unfold(value)] for name, value in message.items()]
    ar_values = [value for name, value in headers if name.lower() == "authentication-results"]
    trusted = trusted_results(ar_values, authserv_ids)
    results = [r.as_dict() for r in trusted.results]

    def first(method: str) -> dict | None:
        return next((r for r in results if r["method"] == method), None)

    info = {
        "uid": uid,
        "subject": decoded(message.get("Subject")),
        "from": decoded(message.get("From")),
        "to": decoded(message.get("To")),
        "date": unfold(message.get("Date", "")),
        "message_id": unfold(message.get("Message-ID", "")),
        "return_path": unfold(message.get("Return-Path", "")),
        "received": [value for name, value in headers if name.lower() == "received"],
        "headers": headers,
    }
    result = {
        "changed": False,
        "message": info,
        "authentication_results": results,
        "auth": {
            "spf": first("spf"),
            "dkim": [r for r in results if r["method"] == "dkim"],
            "dmarc": first("dmarc"),
        },
        "ignored_authserv_ids": trusted.ignored_authserv_ids,
    }
    return result, trusted.problems


def wait_for_message(module: AnsibleModule) -> dict:
    params = dict(module.params)
    if params["imap_port"] is None:
        params["imap_port"] = DEFAULT_PORTS[params["imap_tls"]]
    if not params["subject_contains"]:
        raise ValueError("subject_contains must not be empty: every message would match")
    authserv_ids = [i.strip() for i in params["authserv_ids"] if i and i.strip()]
    if not authserv_ids:
        raise ValueError(
            "authserv_ids must name at least one of the receiver's authserv-ids, e.g. its host name"
        )
    if params["timeout"] < 0 or params["poll_interval"] <= 0:
        raise ValueError("timeout must be 0 or more and poll_interval more than 0 (seconds)")

    start = time.monotonic()
    deadline = start + params["timeout"]
    io_timeout = min(IO_TIMEOUT_MAX, max(IO_TIMEOUT_MIN, params["timeout"]))
    client = connect(params, io_timeout)
    try:
        login(client, params)
        while True:
            # EXAMINE again on every look: the server reports what arrived since, and EXAMINE
            # (unlike SELECT) opens the mailbox read-only
            examine(client, params)
            found = find_message(client, params)
            if found is not None:
                waited = round(time.monotonic() - start, 1)
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise MessageNotFound(
                    f"no message whose Subject contains {params['subject_contains']!r} arrived in "
                    f"mailbox {params['mailbox']!r} of {params['imap_user']!r} at {params['imap_host']} "
                    f"within {params['timeout']:g} s: check subject_contains and mailbox (a receiver "
                    f"may file it under Junk), or raise timeout if the mail is slow"
                )
            time.sleep(min(params["poll_interval"], remaining))
    except OSError as exc:
        # the server went away or stopped answering after the login
        reason = exc.strerror or str(exc) or f"no answer within {io_timeout:g} s"
        raise ConnectionFailed(
            f"the connection to the IMAP server at {params['imap_host']}:{params['imap_port']} "
            f"failed: {reason}. Check imap_host and imap_port"
        ) from None
    except imaplib.IMAP4.abort as exc:
        raise ImapError(
            f"the IMAP server at {params['imap_host']} closed the session: {_server_text(exc)}"
        ) from None
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            client.logout()
    result, problems = describe(found[0], found[1], authserv_ids)
    for problem in problems:
        module.warn(problem)
    result["waited"] = waited
    return result


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "imap_host": {"type": "str", "required": True},
            "imap_port": {"type": "int"},
            "imap_tls": {"type": "str", "default": "imaps", "choices": ["imaps", "starttls", "none"]},
            "validate_certs": {"type": "bool", "default": True},
            "imap_ca_file": {"type": "path"},
            "imap_user": {"type": "str", "required": True},
            "imap_password": {"type": "str", "required": True, "no_log": True},
            "mailbox": {"type": "str", "default": "INBOX"},
            "subject_contains": {"type": "str", "required": True},
            "authserv_ids": {"type": "list", "elements": "str", "required": True},
            "timeout": {"type": "float", "default": 180.0},
            "poll_interval": {"type": "float", "default": 5.0},
        },
        supports_check_mode=True,
    )
    try:
        result = wait_for_message(module)
    except (MailboxError, ValueError) as exc:
        # Ansible masks no_log values in the output anyway; no message is built with the password
        module.fail_json(msg=str(exc), error=type(exc).__name__)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
