"""DKIM key records and DMARC tags: what verifiers accept, compared by meaning."""

from __future__ import annotations

import base64

import pytest
from ansible_collections.lms.mail.plugins.module_utils.dkim import (
    DkimError,
    build_record,
    is_dkim,
    public_key_value,
    same_record,
    validate_selector,
)
from ansible_collections.lms.mail.plugins.module_utils.dmarc import (
    DmarcError,
    merge_dmarc,
    same_policy,
)
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def test_pem_record_and_bare_value_give_the_same_p(rsa2048_pem):
    value, bits = public_key_value(rsa2048_pem)
    assert bits == 2048
    assert public_key_value(f"v=DKIM1; k=rsa; p={value}") == (value, 2048)
    # OpenDKIM's selector.txt, split and quoted
    opendkim = f'mail._domainkey IN TXT ( "v=DKIM1; h=sha256; k=rsa; " "p={value[:100]}" "{value[100:]}" )'
    assert public_key_value(opendkim)[0] == value


def test_ed25519_publishes_the_raw_key(ed25519_pem):
    value, bits = public_key_value(ed25519_pem, "ed25519")
    assert len(base64.b64decode(value)) == 32 and bits == 256
    with pytest.raises(DkimError, match="not an RSA key"):
        public_key_value(ed25519_pem, "rsa")


def test_private_keys_and_garbage_are_refused():
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    with pytest.raises(DkimError, match="private key"):
        public_key_value(pem)
    with pytest.raises(DkimError, match="neither PEM nor base64"):
        public_key_value("not a key!")
    with pytest.raises(DkimError, match="empty"):
        public_key_value("v=DKIM1; p=")


@pytest.mark.parametrize("selector", ["mail", "202501", "s1.mail", "my-sel"])
def test_valid_selectors(selector):
    assert validate_selector(selector) == selector


@pytest.mark.parametrize("selector", ["", "bad_sel!", "-x", "a b", "x" * 64])
def test_invalid_selectors(selector):
    with pytest.raises(DkimError, match="selector"):
        validate_selector(selector)


def test_dkim_records_are_compared_by_tags():
    assert same_record("v=DKIM1; k=rsa; p=AB CD", "p=ABCD;v=DKIM1")
    assert not same_record("v=DKIM1; p=ABCD", "v=DKIM1; p=ABCE")
    assert is_dkim(build_record("ABCD", testing=True))
    assert build_record("ABCD", testing=True) == "v=DKIM1; k=rsa; t=y; p=ABCD"
    assert not is_dkim("google-site-verification=xyz")


def test_dmarc_merge_keeps_unset_tags_and_orders_v_p_first():
    merged = merge_dmarc("v=DMARC1; rua=mailto:r@reports.test; p=none", {"p": "reject", "pct": "50"})
    assert merged == "v=DMARC1; p=reject; pct=50; rua=mailto:r@reports.test"
    assert merge_dmarc(merged, {"rua": ""}) == "v=DMARC1; p=reject; pct=50"


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        ({"p": "block"}, "p='block'"),
        ({"p": "none", "sp": "drop"}, "sp="),
        ({"p": "none", "pct": "101"}, "pct="),
        ({"p": "none", "adkim": "x"}, "adkim"),
        ({"p": "none", "aspf": "relaxed"}, "aspf"),
        ({"p": "none", "rua": "dmarc@school.test"}, "rua address"),
        ({"p": "none", "ruf": "mailto:a@b.test,http://x.test"}, "ruf address"),
        ({"p": "none", "fo": "2"}, "fo="),
        ({"p": "none", "ri": "daily"}, "ri="),
        ({"pct": "10"}, "p (policy) is required"),
    ],
)
def test_dmarc_tags_are_validated(tags, message):
    with pytest.raises(DmarcError, match=message.replace("(", r"\(").replace(")", r"\)")):
        merge_dmarc(None, tags)


def test_dmarc_records_are_compared_with_defaults_filled_in():
    assert same_policy("v=DMARC1; p=none", "v=DMARC1;p=none; adkim=r; pct=100; sp=none")
    assert not same_policy("v=DMARC1; p=none", "v=DMARC1; p=none; sp=reject")
    assert same_policy(
        "v=DMARC1; p=none; rua=mailto:a@x.test, mailto:b@x.test",
        "v=DMARC1; p=none; rua=mailto:a@x.test,mailto:b@x.test",
    )
