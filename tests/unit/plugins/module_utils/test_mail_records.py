"""The dns role's record building (module_utils/mail_records.py, the filters of
plugins/filter/mail_records.py): which records a mail server needs, in which order, with which
notes; Moodle's own keys in the dkim role's shape; the values as the modules left them. Pure
functions: no DNS, no Ansible run."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.lms.mail.plugins.filter.mail_records import FilterModule
from ansible_collections.lms.mail.plugins.module_utils.mail_records import (
    MailRecordsError,
    key_records,
    mail_records,
    published_records,
)
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

FILTERS = FilterModule().filters()
DOMAIN = "school.test"
DMARC = "v=DMARC1; p=none"


@pytest.fixture(scope="module")
def public_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def settings(**changes) -> dict:
    """A direct server of school.test, every kind managed, its records at an RFC 2136 server."""
    base = {
        "spf_domains": [DOMAIN],
        "spf_mechanisms": ["ip4:192.0.2.10"],
        "spf_all": "",
        "dkim_records": [
            {"domain": DOMAIN, "selector": "s1", "value": "v=DKIM1; k=rsa; p=AAAA", "signing": True}
        ],
        "dmarc_domains": [DOMAIN],
        "dmarc_value": DMARC,
        "ptr_addresses": ["192.0.2.10"],
        "ptr_hostname": "moodle.school.test",
        "provider": "rfc2136",
        "ttl": None,
        "ptr_provider": "none",
        "ptr_ttl": 600,
    }
    return {**base, **changes}


def test_each_kind_once_in_the_order_published():
    records = mail_records(settings())
    assert [(r["kind"], r["name"], r["type"]) for r in records] == [
        ("spf", DOMAIN, "TXT"),
        ("dkim", f"s1._domainkey.{DOMAIN}", "TXT"),
        ("dmarc", f"_dmarc.{DOMAIN}", "TXT"),
        ("ptr", "10.2.0.192.in-addr.arpa", "PTR"),
    ]
    spf, dkim, dmarc, ptr = records
    assert spf["value"] == "v=spf1 ip4:192.0.2.10 ~all"
    assert spf["note"] == "merge ip4:192.0.2.10 into the one SPF record, never a second"
    assert dkim["value"] == "v=DKIM1; k=rsa; p=AAAA" and dkim["note"] == ""
    assert dmarc["value"] == DMARC and dmarc["note"] == "a stricter policy already published is kept"
    assert ptr["value"] == "moodle.school.test"
    assert "reverse DNS of 192.0.2.10" in ptr["note"]


def test_the_forward_zones_and_the_reverse_zone_keep_their_own_provider_and_ttl():
    spf, dkim, dmarc, ptr = mail_records(settings(ttl=300))
    assert {(r["provider"], r["ttl"]) for r in (spf, dkim, dmarc)} == {("rfc2136", 300)}
    assert (ptr["provider"], ptr["ttl"]) == ("none", 600)


def test_the_all_term_asked_for_ends_the_spf_record():
    assert mail_records(settings(spf_all="-all"))[0]["value"] == "v=spf1 ip4:192.0.2.10 -all"


def test_no_spf_record_without_terms_to_allow():
    # relay_public: the service sends as its own address, under its own SPF
    assert [r["kind"] for r in mail_records(settings(spf_mechanisms=[]))] == ["dkim", "dmarc", "ptr"]


def test_an_empty_or_absent_list_is_a_kind_not_managed():
    assert mail_records(settings(spf_domains=[], dkim_records=[], dmarc_domains=[], ptr_addresses=[])) == []
    assert mail_records({"provider": "none"}) == []


def test_the_next_key_of_a_rotation_says_so():
    record = {"domain": DOMAIN, "selector": "s2", "value": "v=DKIM1; k=rsa; p=BBBB", "signing": False}
    assert (
        mail_records(settings(dkim_records=[record]))[1]["note"]
        == "the next key of a rotation, not signing yet"
    )


def test_ipv6_gets_its_own_ptr():
    ptr = mail_records(settings(ptr_addresses=["192.0.2.10", "2001:db8::25"]))[-1]
    assert ptr["name"].endswith(".8.b.d.0.1.0.0.2.ip6.arpa")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"dkim_records": [{"domain": DOMAIN}]}, "a DKIM record needs domain, selector and value"),
        ({"ptr_addresses": ["moodle.school.test"]}, "a PTR needs an IP address"),
    ],
)
def test_bad_settings_are_named(changes, message):
    with pytest.raises(MailRecordsError, match=message):
        mail_records(settings(**changes))
    with pytest.raises(AnsibleFilterError, match=f"dns_mail_records: {message}"):
        FILTERS["dns_mail_records"](settings(**changes))


def test_moodle_keys_become_records_in_the_dkim_roles_shape(public_pem):
    (record,) = key_records({DOMAIN: public_pem}, "sitemoodle")
    assert record["domain"] == DOMAIN and record["selector"] == "sitemoodle"
    assert record["name"] == f"sitemoodle._domainkey.{DOMAIN}"
    assert (record["type"], record["algorithm"], record["signing"]) == ("TXT", "rsa", True)
    assert record["value"].startswith("v=DKIM1; k=rsa; p=MIIBIjAN")
    # the same value the dkim role's dkim_txt filter gives, so the records compare equal
    from ansible_collections.lms.mail.plugins.filter.dkim import dkim_txt

    assert record["value"] == dkim_txt(public_pem)


def test_no_moodle_keys_no_records():
    assert key_records({}, "") == []
    assert FILTERS["dkim_key_records"](None, "") == []


def test_moodle_keys_need_their_selector_and_a_public_key(public_pem):
    with pytest.raises(AnsibleFilterError, match="without the selector"):
        FILTERS["dkim_key_records"]({DOMAIN: public_pem}, "")
    with pytest.raises(AnsibleFilterError, match="private key"):
        FILTERS["dkim_key_records"](
            {DOMAIN: "-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----"}, "m"
        )


def test_the_values_are_those_the_modules_left():
    records = mail_records(settings())
    spf = {"results": [{"item": DOMAIN, "record": "v=spf1 include:_spf.other.test ip4:192.0.2.10 ~all"}]}
    dkim = {
        "results": [
            {"item": records[1], "name": f"s1._domainkey.{DOMAIN}", "record": "v=DKIM1; k=rsa; p=AAAA"}
        ]
    }
    # a stricter policy already published is kept, and returned
    dmarc = {"results": [{"item": DOMAIN, "name": f"_dmarc.{DOMAIN}", "record": "v=DMARC1; p=reject"}]}
    published = FILTERS["dns_published_records"](records, [spf, dkim, dmarc])
    assert [r["value"] for r in published] == [
        "v=spf1 include:_spf.other.test ip4:192.0.2.10 ~all",
        "v=DKIM1; k=rsa; p=AAAA",
        "v=DMARC1; p=reject",
        "moodle.school.test",  # left to a person: the value asked for
    ]
    assert set(published[0]) == {"kind", "name", "type", "value"}


def test_skipped_or_failed_publishing_keeps_the_values_asked_for():
    records = mail_records(settings())
    skipped = {"results": [{"item": DOMAIN, "skipped": True}]}
    assert [r["value"] for r in published_records(records, skipped["results"])] == [
        r["value"] for r in records
    ]
    assert FILTERS["dns_published_records"](records, [{}, None]) == published_records(records, [])
