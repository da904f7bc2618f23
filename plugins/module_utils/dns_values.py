# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The values the DNS modules take, each checked whole: a domain name, an IP address, an API base
URL the token may be sent to. A blank or a control character anywhere is refused, never stripped,
so that no value carries a line break into a record, a request or a log. Each check returns the
canonical form or raises ValueError naming the option."""

from __future__ import annotations

import ipaddress
import re
import urllib.parse

# a DNS label as the modules accept it: letters, digits, '-' inside, '_' for service labels
LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
# a value that must stay on its line and in one piece: no blank, no control character anywhere
_BLANK_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")


def has_blank_or_control(text: str) -> bool:
    return _BLANK_OR_CONTROL.search(text) is not None


def validate_domain(name: str, what: str = "domain") -> str:
    """A domain name lower case without the trailing dot; ValueError naming the option otherwise.
    Blanks and control characters are refused, not stripped: a name never carries a newline."""
    text = name or ""
    if has_blank_or_control(text):
        raise ValueError(
            f"{what} {name!r} is not a valid domain name: it contains a blank or a control character"
        )
    text = text.rstrip(".").lower()
    try:
        # internationalised names are published in their ASCII (punycode) form
        text = text.encode("idna").decode("ascii") if not text.isascii() else text
    except UnicodeError:
        raise ValueError(f"{what} {name!r} is not a valid domain name") from None
    labels = text.split(".")
    if len(labels) < 2 or len(text) > 253 or not all(LABEL.fullmatch(label) for label in labels):
        raise ValueError(f"{what} {name!r} is not a valid domain name (e.g. school.example)")
    return text


def validate_ip(text: str, what: str = "ip") -> str:
    """An IPv4 or IPv6 address in its canonical text; no scope id, no blank, no control character."""
    value = text if isinstance(text, str) else ""
    if has_blank_or_control(value) or "%" in value:
        raise ValueError(
            f"{what} {text!r} is not a plain IPv4 or IPv6 address (no blanks, control characters or %scope)"
        )
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError(f"{what} {text!r} is not an IPv4 or IPv6 address") from None


def _is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def validate_api_base_url(url: str, what: str = "api_base_url") -> str:
    """An API base URL the token may be sent to: https, or http only to this machine (an
    emulator or a local proxy on loopback). No credentials in it, no blanks or control characters."""
    if has_blank_or_control(url):
        raise ValueError(f"{what} {url!r} contains a blank or a control character")
    parsed = urllib.parse.urlsplit(url)
    host = (parsed.hostname or "").lower()
    if parsed.scheme not in ("https", "http") or not host:
        raise ValueError(
            f"{what} {url!r} is not an http(s) URL with a host, e.g. https://api.cloudflare.com/client/v4"
        )
    if parsed.username is not None or parsed.password is not None:
        raise ValueError(f"{what} must not carry credentials (user:password@); give the token in api_token")
    if parsed.scheme == "http" and not _is_loopback_host(host):
        raise ValueError(
            f"{what} {url!r} is plain http to another host: the API token would cross the network in "
            "clear. Use https (plain http is accepted only for a loopback address such as 127.0.0.1)"
        )
    return url
