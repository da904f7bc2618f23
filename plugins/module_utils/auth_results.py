# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Authentication-Results header fields (RFC 8601): what a receiving server concluded about a
message's SPF, DKIM, DMARC and the rest, and which of those fields to believe.

A field reads `authserv-id [version]; method[/version]=result [reason=...] [ptype.property=value
...]; ...` or `authserv-id; none`, with comments in parentheses allowed between any two tokens.
Any server on the way, the sender's included, can add such a field and name any authserv-id in
it, so a reader keeps only the fields whose authserv-id is one of the receiver's own (RFC 8601
section 7.2): trusted_results.

The parser is lenient where real servers are sloppy (values with `/`, `=`, `:` or `@` left
unquoted, a trailing `;`, Microsoft's `action=none`) and strict where a misreading could be
taken for a result: a result it cannot read is skipped with a message, never guessed, and a field
whose authserv-id it cannot read raises ValueError. Pure Python, no dependencies.
"""

from __future__ import annotations

import dataclasses
import email.utils
from collections.abc import Iterable

_WSP = " \t\r\n"
# a Keyword (RFC 8601: an ldh-str); "_" too, which some servers put in method names
_KEYWORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
# A value ends at white space, ";" or a comment. RFC 2045 tokens exclude "/", "=", "@" and ":"
# too, but receivers write base64 signature prefixes (header.b=a/b+c=) and IPv6 addresses
# unquoted, so those are read as part of the value. Control characters end it too.
_VALUE_STOP = frozenset(_WSP + ';()"' + "".join(map(chr, range(32))) + "\x7f")


@dataclasses.dataclass
class AuthResult:
    """One resinfo of a field: `method=result` and what the receiver said about it."""

    authserv_id: str
    method: str
    result: str
    reason: str | None = None
    # the comment right after the result (or after the reason): a receiver's human explanation,
    # e.g. OpenDKIM's "2048-bit key; unprotected" or policyd-spf's "sender SPF authorized"
    comment: str | None = None
    # ptype.property (lower case) -> value as written, e.g. {"header.d": "school.test"}
    properties: dict[str, str] = dataclasses.field(default_factory=dict)
    method_version: int | None = None

    def as_dict(self) -> dict:
        return {
            "authserv_id": self.authserv_id,
            "method": self.method,
            "result": self.result,
            "reason": self.reason,
            "comment": self.comment,
            "properties": dict(self.properties),
        }


@dataclasses.dataclass
class AuthResultsField:
    """One parsed Authentication-Results field."""

    authserv_id: str
    version: int | None
    results: list[AuthResult]
    # results that could not be read, one message each; the others are still returned
    skipped: list[str] = dataclasses.field(default_factory=list)


class _Reader:
    """A cursor over a field value, with the RFC 5322 lexical pieces the grammar is made of."""

    def __init__(self, text: str):
        self.text = text
        self.pos = 0

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def cfws(self) -> list[str]:
        """Skip white space and comments; the comments' texts, in order."""
        comments = []
        while not self.at_end():
            char = self.text[self.pos]
            if char in _WSP:
                self.pos += 1
            elif char == "(":
                comments.append(self.comment())
            else:
                break
        return comments

    def comment(self) -> str:
        """A comment (at "("): its text with nested parentheses kept and quoted-pairs undone."""
        return " ".join(self._delimited("(", ")", "comment").split())

    def quoted(self) -> str:
        """A quoted-string (at '"'), unquoted."""
        return self._delimited('"', '"', "quoted string")

    def _delimited(self, opener: str, closer: str, what: str) -> str:
        """The text from the opener at the cursor to its closer, quoted-pairs undone. Where the
        opener is not the closer (a comment's parentheses), one inside nests and is kept."""
        start = self.pos
        self.pos += 1
        depth, out = 1, []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            self.pos += 1
            if char == "\\" and self.pos < len(self.text):
                out.append(self.text[self.pos])
                self.pos += 1
                continue
            if char == closer:
                depth -= 1
                if depth == 0:
                    return "".join(out)
            elif char == opener:
                depth += 1
            out.append(char)
        raise ValueError(f"unterminated {what} at {self.text[start : start + 30]!r}")

    def keyword(self, what: str) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in _KEYWORD_CHARS:
            self.pos += 1
        if self.pos == start:
            raise ValueError(f"expected {what}, found {self._here()}")
        return self.text[start : self.pos]

    def value(self, what: str) -> str:
        """A value: a quoted-string or a token; also `"local part"@domain`, as pvalue allows."""
        if self.peek() == '"':
            local = self.quoted()
            if self.peek() != "@":
                return local
            quoted = local.replace("\\", "\\\\").replace('"', '\\"')
            return f'"{quoted}"' + self._token()
        token = self._token()
        if not token:
            raise ValueError(f"expected {what}, found {self._here()}")
        return token

    def _token(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in _VALUE_STOP:
            self.pos += 1
        return self.text[start : self.pos]

    def number(self, what: str) -> int:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos].isdigit():
            self.pos += 1
        if self.pos == start or self.peek() in _KEYWORD_CHARS:
            self.pos = start
            raise ValueError(f"expected {what} (digits), found {self._here()}")
        return int(self.text[start : self.pos])

    def expect(self, char: str, what: str) -> None:
        if self.peek() != char:
            raise ValueError(f"expected {what}, found {self._here()}")
        self.pos += 1

    def skip_resinfo(self) -> None:
        """Move to the ";" that ends the current resinfo (or to the end), stepping over comments
        and quoted strings, whose ";" does not count."""
        while not self.at_end():
            char = self.peek()
            if char == ";":
                return
            if char == "(":
                self.comment()
            elif char == '"':
                self.quoted()
            else:
                self.pos += 1

    def _here(self) -> str:
        return repr(self.text[self.pos : self.pos + 30]) if not self.at_end() else "the end of the field"


def parse_authentication_results(value: str) -> AuthResultsField:
    """Parse one Authentication-Results field value (without the field name; unfolded or not).

    ValueError when the authserv-id cannot be read: such a field cannot be attributed, so it
    cannot be trusted either. A result that cannot be read is left out and described in
    `skipped`; the field's other results are kept.
    """
    reader = _Reader(value)
    reader.cfws()
    if reader.at_end():
        raise ValueError("empty Authentication-Results field")
    if reader.peek() == ";":
        raise ValueError("the field has no authserv-id before its first ';'")
    quoted = reader.peek() == '"'
    authserv_id = reader.value("an authserv-id")
    if "=" in authserv_id and not quoted:
        # Microsoft 365 writes fields without an authserv-id: "spf=pass (...) smtp.mailfrom=..."
        raise ValueError(f"the field has no authserv-id: it starts with the result {authserv_id!r}")
    reader.cfws()
    version = None
    if reader.peek().isdigit():
        version = reader.number("a version")
        reader.cfws()
    if reader.at_end():
        raise ValueError(f"{authserv_id}: the field has neither a result nor 'none'")
    reader.expect(";", f"';' after the authserv-id {authserv_id!r}")
    field = AuthResultsField(authserv_id, version, [])
    while True:
        start = reader.pos
        try:
            result = _resinfo(reader, authserv_id)
        except ValueError as exc:
            reader.pos = start
            try:
                reader.skip_resinfo()
            except ValueError:
                reader.pos = len(reader.text)  # an unterminated comment or string: nothing after it
            text = " ".join(value[start : reader.pos].split())
            field.skipped.append(f"{authserv_id}: result {text!r} skipped: {exc}")
        else:
            if result is not None:
                field.results.append(result)
        if reader.at_end():
            return field
        reader.expect(";", "';'")


def _resinfo(reader: _Reader, authserv_id: str) -> AuthResult | None:
    """One `method=result ...` up to the next ";"; None for `none` and for an empty one (a
    trailing ";", which some servers write)."""
    reader.cfws()
    if reader.at_end() or reader.peek() == ";":
        return None
    method = reader.keyword("a method name").lower()
    reader.cfws()
    if method == "none" and (reader.at_end() or reader.peek() == ";"):
        return None
    method_version = None
    if reader.peek() == "/":
        reader.pos += 1
        reader.cfws()
        method_version = reader.number(f"the version of method {method!r}")
        reader.cfws()
    reader.expect("=", f"'=' after the method {method!r}")
    reader.cfws()
    outcome = AuthResult(authserv_id, method, reader.keyword(f"the result of {method!r}").lower())
    outcome.method_version = method_version
    comments = reader.cfws()
    outcome.comment = comments[0] if comments else None
    while not reader.at_end() and reader.peek() != ";":
        name = reader.keyword("a property (ptype.property=value)")
        reader.cfws()
        if reader.peek() == "=":
            # reason=value; also a bare name=value (Microsoft's "action=none"), kept under its name
            reader.pos += 1
            reader.cfws()
            text = reader.value(f"the value of {name!r}")
            comments = reader.cfws()
            if name.lower() == "reason" and outcome.reason is None:
                outcome.reason = text
                if outcome.comment is None and comments:
                    outcome.comment = comments[0]
            else:
                outcome.properties.setdefault(name.lower(), text)
            continue
        reader.expect(".", f"'.' or '=' after {name!r}")
        reader.cfws()
        prop = reader.keyword(f"a property name after {name + '.'!r}")
        reader.cfws()
        reader.expect("=", f"'=' after {name + '.' + prop!r}")
        reader.cfws()
        text = reader.value(f"the value of {name + '.' + prop!r}")
        reader.cfws()
        # the first one counts when a property is repeated
        outcome.properties.setdefault(f"{name}.{prop}".lower(), text)
    return outcome


def _id_key(authserv_id: str) -> str:
    return authserv_id.strip().rstrip(".").lower()


@dataclasses.dataclass
class TrustedResults:
    results: list[AuthResult]
    # authserv-ids of the fields left out, each once, in the order met
    ignored_authserv_ids: list[str]
    # fields that could not be read and results of trusted fields that were skipped
    problems: list[str]


def trusted_results(values: Iterable[str], authserv_ids: Iterable[str]) -> TrustedResults:
    """The results of the fields whose authserv-id is one of authserv_ids, in order.

    values: the message's Authentication-Results field values, topmost first (the order the
    results come back in). authserv-ids compare case-insensitively; a field written as
    `id/job` (OpenDKIM's and OpenDMARC's AuthservIDWithJobID) counts as `id`.
    """
    trusted = {_id_key(i) for i in authserv_ids if i and i.strip()}
    outcome = TrustedResults([], [], [])
    for value in values:
        try:
            field = parse_authentication_results(value)
        except ValueError as exc:
            short = " ".join(value.split())
            short = short if len(short) <= 80 else short[:77] + "..."
            outcome.problems.append(f"unreadable Authentication-Results field {short!r}: {exc}")
            continue
        key = _id_key(field.authserv_id)
        if key in trusted or key.split("/", 1)[0] in trusted:
            outcome.results.extend(field.results)
            outcome.problems.extend(field.skipped)
        elif field.authserv_id not in outcome.ignored_authserv_ids:
            outcome.ignored_authserv_ids.append(field.authserv_id)
    return outcome


def from_domain(from_field: str) -> str:
    """The domain of a From field's address (RFC 5322.From, the one DMARC judges), lower case
    and without a trailing dot; "" when the field holds no address with a domain."""
    addresses = [address for _name, address in email.utils.getaddresses([from_field or ""]) if "@" in address]
    if len(addresses) != 1:
        # DMARC has no single author domain for none or several addresses (RFC 7489 6.6.1)
        return ""
    return addresses[0].rsplit("@", 1)[1].strip().rstrip(".").lower()


def relaxed_aligned(domain: str, author_domain: str) -> bool:
    """Relaxed alignment (RFC 7489 3.1.1) without the public suffix list: the domains are equal,
    or one is a subdomain of the other. Case and a trailing dot do not count."""
    a = (domain or "").strip().rstrip(".").lower()
    b = (author_domain or "").strip().rstrip(".").lower()
    if not a or not b:
        return False
    return a == b or a.endswith("." + b) or b.endswith("." + a)


def aligned_dkim(results: Iterable[dict], author_domain: str) -> list[str]:
    """The signing domains (header.d) of the passing DKIM results aligned with author_domain,
    each once, in order. results: AuthResult.as_dict() items, of any method."""
    aligned: list[str] = []
    for result in results:
        if result.get("method") != "dkim" or result.get("result") != "pass":
            continue
        domain = str((result.get("properties") or {}).get("header.d", "")).strip().rstrip(".").lower()
        if relaxed_aligned(domain, author_domain) and domain not in aligned:
            aligned.append(domain)
    return aligned


def verdict_problems(results: list[dict], author_domain: str) -> list[str]:
    """What a receiver's trusted results say is wrong with the message, as sentences that name
    the fix: SPF must pass, a DKIM signature aligned with the From domain must pass, DMARC must
    pass. Empty when the receiver accepted the message as signed, aligned and authorised.
    results: the trusted results as AuthResult.as_dict() items, topmost first (the first SPF and
    DMARC result count, as the module's `auth` reports them)."""
    problems = []
    spf = next((r for r in results if r.get("method") == "spf"), None) or {}
    if spf.get("result", "none") != "pass":
        why = f" ({spf['comment']})" if spf.get("comment") else ""
        problems.append(
            f"the receiver found SPF {spf.get('result', 'missing')}{why}: the envelope sender domain "
            f"must authorise the sending address"
        )
    shown = author_domain or "the From address (none found)"
    if not aligned_dkim(results, author_domain):
        found = ", ".join(r.get("result", "") for r in results if r.get("method") == "dkim") or "none"
        problems.append(
            f"the receiver found no passing DKIM signature of {shown} (found: {found}): the key must "
            f"be published and the signer must sign that domain"
        )
    dmarc = next((r for r in results if r.get("method") == "dmarc"), None) or {}
    if dmarc.get("result", "none") != "pass":
        problems.append(f"the receiver found DMARC {dmarc.get('result', 'missing')} for {shown}")
    return problems


def result_line(result: dict) -> str:
    """One result as a report shows it: `authserv-id: method=result ptype.property=value ...`."""
    props = " ".join(f"{name}={value}" for name, value in (result.get("properties") or {}).items())
    line = f"{result.get('authserv_id', '')}: {result.get('method', '')}={result.get('result', '')}"
    return f"{line} {props}" if props else line
