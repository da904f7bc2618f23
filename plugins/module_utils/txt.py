# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""TXT values: one logical string, stored as several <=255-byte character-strings.

Providers disagree on the stored form: DNS carries a list of character-strings, Cloudflare's API
returns them quoted (`"a" "b"`), others return the joined text. lms.mail always works on the
joined, unquoted value, splits only when writing, and compares by joined value, so that a
provider which splits or quotes differently never causes a false change.
"""

from __future__ import annotations

# RFC 1035 §3.3: a <character-string> is a length octet followed by at most 255 octets.
MAX_STRING_BYTES = 255


def split_txt(value: str, size: int = MAX_STRING_BYTES) -> list[bytes]:
    """Split value into character-strings of at most size bytes, never inside a UTF-8 sequence."""
    if size < 4:
        # a UTF-8 character is up to 4 bytes; a smaller size could not make progress
        raise ValueError("TXT chunk size must be at least 4 bytes")
    data = value.encode("utf-8", errors="surrogateescape")
    if not data:
        # an empty TXT record is one empty character-string, not zero strings
        return [b""]
    chunks = []
    start = 0
    while start < len(data):
        end = min(start + size, len(data))
        # back off while the cut would land on a UTF-8 continuation byte (0b10xxxxxx)
        while end < len(data) and (data[end] & 0xC0) == 0x80:
            end -= 1
        chunks.append(data[start:end])
        start = end
    return chunks


def join_txt(strings: list[bytes] | list[str] | tuple) -> str:
    """Join character-strings as DNS returns them into the one logical value."""
    parts = [s if isinstance(s, bytes) else s.encode("utf-8", errors="surrogateescape") for s in strings]
    # surrogateescape keeps bytes that are not UTF-8 so that the value still round-trips
    return b"".join(parts).decode("utf-8", errors="surrogateescape")


def unquote_txt(text: str) -> str:
    """The joined value of a TXT presentation form such as `"v=spf1 " "~all"`.

    Text that does not start with a quote is returned unchanged: some APIs return the
    joined value already. Inside quotes, RFC 1035 escapes (\\" \\\\ \\DDD) are decoded.
    """
    stripped = text.strip()
    if not stripped.startswith('"'):
        return text
    out = bytearray()
    i = 0
    n = len(stripped)
    while i < n:
        ch = stripped[i]
        if ch.isspace():
            i += 1
            continue
        if ch != '"':
            # unquoted word between quoted strings: take it up to the next blank or quote
            j = i
            while j < n and not stripped[j].isspace() and stripped[j] != '"':
                j += 1
            out += stripped[i:j].encode("utf-8")
            i = j
            continue
        i += 1  # opening quote
        while i < n and stripped[i] != '"':
            if stripped[i] == "\\" and i + 1 < n:
                nxt = stripped[i + 1 : i + 4]
                if len(nxt) == 3 and nxt.isdigit():
                    out.append(int(nxt) & 0xFF)
                    i += 4
                else:
                    out += stripped[i + 1].encode("utf-8")
                    i += 2
                continue
            out += stripped[i].encode("utf-8")
            i += 1
        if i >= n:
            raise ValueError(f"unterminated quoted string in TXT value: {text!r}")
        i += 1  # closing quote
    return out.decode("utf-8", errors="surrogateescape")


def quote_txt(value: str, size: int = MAX_STRING_BYTES) -> str:
    """The presentation form `"chunk1" "chunk2"` of value, for APIs that take quoted content."""
    quoted = []
    for chunk in split_txt(value, size):
        text = chunk.decode("utf-8", errors="surrogateescape")
        quoted.append('"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return " ".join(quoted)


def normalize_txt(value: str) -> str:
    """The joined value whether value came quoted/split or already joined."""
    return unquote_txt(value)


def same_txt(a: str, b: str) -> bool:
    """True when two TXT values, in whatever form a provider gave them, carry the same text."""
    return normalize_txt(a) == normalize_txt(b)


def udp_answer_size(name: str, values: list[str]) -> int:
    """Bytes of a DNS answer carrying these TXT values at name, without EDNS: above 512 a
    resolver that does not use EDNS must retry over TCP, and some receivers' SPF checks fail."""
    qname = sum(len(label) + 1 for label in name.rstrip(".").split(".")) + 1
    size = 12 + qname + 4  # header + question
    for value in values:
        rdata = sum(1 + len(chunk) for chunk in split_txt(value))
        size += 2 + 10 + rdata  # compressed owner name, type/class/ttl/rdlength, rdata
    return size
