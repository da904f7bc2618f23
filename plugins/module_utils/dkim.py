# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""DKIM key records (RFC 6376 §3.6.1, RFC 8463): build from a public key, parse, compare.

Keys arrive in whatever form the DKIM role or the user has: a PEM file's content, OpenDKIM's
`selector.txt`, a bare `p=` value. They are reduced to the one `p=` value a verifier reads, so
the same key in another form never causes a change.
"""

from __future__ import annotations

import base64
import binascii
import re

from ansible_collections.lms.mail.plugins.module_utils.tag_list import parse_tag_list

try:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    HAS_CRYPTOGRAPHY = True
except ImportError:  # without it keys are checked for base64 only
    HAS_CRYPTOGRAPHY = False

KEY_TYPES = ("rsa", "ed25519")
# RFC 8301: verifiers must refuse RSA keys below 1024 bits; 2048 is the usual size
MIN_RSA_BITS = 1024
_SELECTOR_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?", re.IGNORECASE)


class DkimError(ValueError):
    """A key or a record that a verifier would not accept; the message says why."""


def validate_selector(selector: str) -> str:
    """A selector is one or more DNS labels (RFC 6376 §3.1); returned lower case."""
    # fullmatch: a label never ends in a newline (a regex's $ would let one through)
    text = selector.rstrip(".").lower() if isinstance(selector, str) else ""
    if not text or not all(_SELECTOR_LABEL.fullmatch(label) for label in text.split(".")):
        raise DkimError(
            f"invalid DKIM selector {selector!r}: use letters, digits and '-' (e.g. 'mail' or '202501')"
        )
    return text


def parse_tags(value: str) -> dict[str, str]:
    """A DKIM tag-list `a=b; c=d` as a dict (module_utils/tag_list.py: a tag twice is invalid,
    names are case-sensitive); blanks inside p= are dropped (RFC 6376 §3.6.1: FWS in base64)."""
    tags = parse_tag_list(value, error=DkimError)
    if "p" in tags:
        tags["p"] = re.sub(r"\s+", "", tags["p"])
    return tags


def is_dkim(value: str) -> bool:
    """A DKIM key record: a tag-list with p=, and v=DKIM1 first when v= is there."""
    try:
        tags = parse_tags(value)
    except DkimError:
        return False
    if "p" not in tags:
        return False
    return "v" not in tags or (tags["v"] == "DKIM1" and value.lstrip().startswith("v"))


def public_key_value(key: str, key_type: str = "rsa") -> tuple[str, int | None]:
    """The base64 `p=` value of a public key given as PEM, a DKIM record or bare base64,
    and its size in bits (RSA) when it can be read."""
    if key_type not in KEY_TYPES:
        raise DkimError(f"unknown DKIM key type {key_type!r}: use one of {', '.join(KEY_TYPES)}")
    text = key.strip()
    if "-----BEGIN" in text:
        return _from_pem(text, key_type)
    if "p=" in text:
        # OpenDKIM's selector.txt ("sel._domainkey IN TXT ( "v=DKIM1; k=rsa; " "p=..." )")
        # or a plain record: take the quoted strings' content, then the p= tag
        quoted = re.findall(r'"([^"]*)"', text)
        record = "".join(quoted) if quoted else text
        tags = parse_tags(record)
        if tags.get("k", key_type) != key_type:
            raise DkimError(f"the record is k={tags['k']} but key_type is {key_type}")
        text = tags.get("p", "")
    value = re.sub(r"\s+", "", text)
    if not value:
        raise DkimError("the public key is empty (an empty p= means a revoked key; use state=absent)")
    try:
        der = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise DkimError("the public key is neither PEM nor base64") from None
    return value, _check_der(der, key_type)


def _from_pem(text: str, key_type: str) -> tuple[str, int | None]:
    if "PRIVATE KEY" in text:
        raise DkimError("this is a private key: give the public key (never publish or pass the private key)")
    if not HAS_CRYPTOGRAPHY:
        body = "".join(line for line in text.splitlines() if line and not line.startswith("-----"))
        return body, None
    try:
        public = serialization.load_pem_public_key(text.encode())
    except ValueError as exc:
        raise DkimError(f"the public key PEM cannot be read: {exc}") from None
    if key_type == "ed25519":
        if not isinstance(public, ed25519.Ed25519PublicKey):
            raise DkimError("key_type is ed25519 but the key is not an Ed25519 key")
        # RFC 8463: p= is the raw 32-byte key, not a SubjectPublicKeyInfo
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return base64.b64encode(raw).decode(), 256
    if not isinstance(public, rsa.RSAPublicKey):
        raise DkimError("key_type is rsa but the key is not an RSA key")
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    _check_rsa_bits(public.key_size)
    return base64.b64encode(der).decode(), public.key_size


def _check_der(der: bytes, key_type: str) -> int | None:
    if key_type == "ed25519":
        if len(der) != 32:
            raise DkimError("an ed25519 DKIM key is 32 bytes (44 base64 characters)")
        return 256
    if not HAS_CRYPTOGRAPHY:
        return None
    try:
        public = serialization.load_der_public_key(der)
    except ValueError:
        raise DkimError("the base64 value is not an RSA public key (SubjectPublicKeyInfo)") from None
    if not isinstance(public, rsa.RSAPublicKey):
        raise DkimError("key_type is rsa but the key is not an RSA key")
    _check_rsa_bits(public.key_size)
    return public.key_size


def _check_rsa_bits(bits: int) -> None:
    if bits < MIN_RSA_BITS:
        raise DkimError(f"a {bits}-bit RSA key is refused by verifiers (RFC 8301): use 2048 bits")


def build_record(public_value: str, key_type: str = "rsa", testing: bool = False) -> str:
    tags = ["v=DKIM1", f"k={key_type}"]
    if testing:
        tags.append("t=y")
    tags.append(f"p={public_value}")
    return "; ".join(tags)


def key_name(domain: str, selector: str) -> str:
    """Where a DKIM key record lives: <selector>._domainkey.<domain>."""
    return f"{selector}._domainkey.{domain}"


def key_record(key: str, key_type: str = "rsa", testing: bool = False) -> tuple[str, int | None]:
    """The DKIM record that publishes a public key (PEM, a DKIM record or bare base64), and the
    key's size in bits (RSA) when it can be read."""
    public, bits = public_key_value(key, key_type)
    return build_record(public, key_type, testing), bits


def same_record(a: str, b: str) -> bool:
    """Equal for a verifier: same tags and values, whatever the spacing or the order."""
    try:
        tags_a, tags_b = parse_tags(a), parse_tags(b)
    except DkimError:
        return a == b
    for tags in (tags_a, tags_b):
        tags.setdefault("v", "DKIM1")
        tags.setdefault("k", "rsa")
    return tags_a == tags_b
