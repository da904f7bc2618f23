# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for the dkim role: the TXT record of a public key, and the check of a private key
given to import, which reuse module_utils/dkim.py, so the role and dkim_record agree on every key;
and the role's choices of selectors and keys (module_utils/dkim_selectors.py)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.lms.mail.plugins.module_utils.dkim import (
    MIN_RSA_BITS,
    DkimError,
    build_record,
    public_key_value,
)
from ansible_collections.lms.mail.plugins.module_utils.dkim_selectors import (
    active_selectors,
    key_files,
    keys_to_hold,
    selectors_to_hold,
)

try:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    HAS_CRYPTOGRAPHY = True
except ImportError:  # ansible-core itself requires cryptography; kept for a clear message
    HAS_CRYPTOGRAPHY = False


def dkim_txt(public_pem: str, key_type: str = "rsa") -> str:
    """The value of the TXT record <selector>._domainkey.<domain> for a public key."""
    try:
        value = public_key_value(public_pem, key_type)[0]
    except DkimError as exc:
        raise AnsibleFilterError(f"dkim_txt: {exc}") from None
    return build_record(value, key_type)


def dkim_private_key_problem(private_pem: str) -> str:
    """Why a private key given to import cannot sign, or "" when it can. The message never
    contains the key, so it may be shown; only an unencrypted RSA key of 1024 bits or more in
    PEM is accepted."""
    if not HAS_CRYPTOGRAPHY:
        raise AnsibleFilterError("dkim_private_key_problem needs the cryptography package on the controller")
    text = (private_pem or "").strip()
    if "-----BEGIN" not in text or "PRIVATE KEY-----" not in text:
        return "it is not a private key in PEM (-----BEGIN PRIVATE KEY----- or RSA PRIVATE KEY)"
    try:
        key = serialization.load_pem_private_key(text.encode(), password=None)
    except TypeError:
        return "it is encrypted with a passphrase; export it without one (openssl pkey -in KEY -out NEW)"
    except ValueError:
        return "it does not parse as a private key (a truncated or damaged PEM?)"
    if not isinstance(key, rsa.RSAPrivateKey):
        return "it is not an RSA key"
    if key.key_size < MIN_RSA_BITS:
        return f"it is a {key.key_size}-bit RSA key; receivers refuse keys below {MIN_RSA_BITS} bits"
    return ""


class FilterModule:
    def filters(self):
        return {
            "dkim_txt": dkim_txt,
            "dkim_private_key_problem": dkim_private_key_problem,
            "dkim_active_selectors": active_selectors,
            "dkim_selectors_to_hold": selectors_to_hold,
            "dkim_keys_to_hold": keys_to_hold,
            "dkim_key_files": key_files,
        }
