# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An IMAP client that waits for one message and reads its header without changing anything
(EXAMINE, BODY.PEEK), and what the header says: its fields and the receiver's trusted verdicts
(module_utils/auth_results.py). lms.mail.mailbox_message_info is a thin module over it.

Every failure is a MailboxError whose message is fit for the user: it names the option to
change (imap_host, imap_port, imap_tls, imap_ca_file, imap_user, mailbox, subject_contains...).
No message is ever built with the password.
"""

from __future__ import annotations

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

from ansible_collections.lms.mail.plugins.module_utils.auth_results import (
    aligned_dkim,
    from_domain,
    result_line,
    trusted_results,
    verdict_problems,
)

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
    # the receiver's verdict on the message as DMARC reads it: the From field's domain
    author = from_domain(info["from"])
    result["from_domain"] = author
    result["aligned"] = aligned_dkim(results, author)
    result["problems"] = verdict_problems(results, author)
    result["report"] = [result_line(r) for r in results]
    return result, trusted.problems


def wait_for_message(module_params: dict) -> tuple[dict, list[str]]:
    """The module's result for the newest message matching subject_contains, waited for up to
    timeout seconds, and the problems to warn about. module_params: the module's options."""
    params = dict(module_params)
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
    result["waited"] = waited
    return result, problems
