"""The RFC 2136 provider against a real BIND: per-value changes, exact deletes, clear errors."""

from __future__ import annotations

import time

import pytest
from ansible_collections.lms.mail.plugins.module_utils.dns_provider import (
    AuthenticationFailed,
    DnsError,
    PtrUnsupported,
    Record,
    ZoneNotFound,
)
from ansible_collections.lms.mail.plugins.module_utils.dns_rfc2136 import Rfc2136Provider


@pytest.fixture
def provider(bind_zones) -> Rfc2136Provider:
    b = bind_zones
    return Rfc2136Provider(b.host, b.port, b.key_name, b.key_secret, b.key_algorithm, timeout=5)


def test_find_zone_is_the_longest_apex(provider):
    assert provider.find_zone("school.test").name == "school.test"
    assert provider.find_zone("a.b.School.Test.").name == "school.test"
    assert provider.find_zone("25.2.0.192.in-addr.arpa").name == "2.0.192.in-addr.arpa"


def test_unknown_zone_is_zone_not_found(provider):
    with pytest.raises(ZoneNotFound, match="serves no zone that holds example.test"):
        provider.find_zone("example.test")


def test_list_records_joins_txt_and_filters_by_type(provider):
    zone = provider.find_zone("school.test")
    values = sorted(r.value for r in provider.list_records(zone, "school.test", "TXT"))
    assert values == ["google-site-verification=abc123-keep-me", "v=spf1 include:_spf.office.test ~all"]
    assert [r.value for r in provider.list_records(zone, "school.test", "MX")] == ["10 mail.school.test"]
    assert provider.list_records(zone, "nothing.school.test", "TXT") == []


def test_create_update_delete_touch_one_value(provider, bind_zones):
    zone = provider.find_zone("school.test")
    provider.create_record(zone, Record("school.test", "TXT", "extra=1", 3600))
    assert "google-site-verification=abc123-keep-me" in bind_zones.txt("school.test")
    old = Record("school.test", "TXT", "extra=1")
    provider.update_record(zone, old, Record("school.test", "TXT", "extra=2", 3600))
    provider.delete_record(zone, Record("school.test", "TXT", "extra=2"))
    assert bind_zones.txt("school.test") == [
        "google-site-verification=abc123-keep-me",
        "v=spf1 include:_spf.office.test ~all",
    ]


def test_long_txt_is_split_into_255_byte_strings(provider, bind_zones):
    zone = provider.find_zone("school.test")
    value = "v=DKIM1; k=rsa; p=" + "A" * 700
    provider.create_record(zone, Record("big._domainkey.school.test", "TXT", value))
    strings = bind_zones.txt_strings("big._domainkey.school.test")
    assert [len(s) for s in strings[0]] == [255, 255, 208]
    assert [r.value for r in provider.list_records(zone, "big._domainkey.school.test", "TXT")] == [value]


def test_delete_matches_a_value_split_differently_on_the_server(provider, bind_zones):
    """Another tool stored the value as two short strings; our split would be one string, and
    a delete built from it would leave the record in place."""
    import dns.rdataclass
    import dns.rdatatype
    import dns.rdtypes.ANY.TXT
    import dns.update

    update = dns.update.UpdateMessage("school.test.", keyring=bind_zones.keyring)
    rdata = dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, dns.rdatatype.TXT, [b"v=spf1 ", b"mx -all"])
    update.add("split.school.test.", 300, rdata)
    bind_zones._send(update)
    zone = provider.find_zone("school.test")
    [record] = provider.list_records(zone, "split.school.test", "TXT")
    assert record.value == "v=spf1 mx -all"
    provider.delete_record(zone, record)
    assert bind_zones.txt("split.school.test") == []


def test_updating_a_record_that_vanished_is_an_error(provider):
    zone = provider.find_zone("school.test")
    with pytest.raises(DnsError, match="changed on"):
        provider.update_record(
            zone, Record("school.test", "TXT", "gone"), Record("school.test", "TXT", "new")
        )


def test_records_outside_the_zone_are_refused(provider):
    zone = provider.find_zone("school.test")
    with pytest.raises(ZoneNotFound, match="not inside the zone"):
        provider.create_record(zone, Record("office.test", "TXT", "x"))


def test_wrong_secret_is_authentication_failed(bind_zones):
    b = bind_zones
    wrong = "A" * 43 + "="
    provider = Rfc2136Provider(b.host, b.port, b.key_name, wrong, b.key_algorithm, timeout=5)
    with pytest.raises(AuthenticationFailed, match=f"rejected the TSIG key '{b.key_name}'") as err:
        provider.find_zone("school.test")
    assert wrong not in str(err.value)


def test_unknown_key_and_wrong_algorithm_are_authentication_failed(bind_zones):
    b = bind_zones
    with pytest.raises(AuthenticationFailed, match="BadKey"):
        Rfc2136Provider(b.host, b.port, "nobody", b.key_secret, timeout=5).find_zone("school.test")
    with pytest.raises(AuthenticationFailed):
        Rfc2136Provider(b.host, b.port, b.key_name, b.key_secret, "hmac-sha512", timeout=5).find_zone(
            "school.test"
        )


def test_unsigned_update_is_refused_with_the_policy_hint(bind_zones):
    provider = Rfc2136Provider(bind_zones.host, bind_zones.port, timeout=5)
    zone = provider.find_zone("school.test")
    with pytest.raises(DnsError, match="update-policy"):
        provider.create_record(zone, Record("school.test", "TXT", "x"))


def test_bad_secret_format_is_refused_before_any_query():
    with pytest.raises(DnsError, match="not valid base64"):
        Rfc2136Provider("127.0.0.1", 9, "k", "not base64!!")
    with pytest.raises(DnsError, match="both"):
        Rfc2136Provider("127.0.0.1", 9, "k", None)


def test_a_server_that_never_answers_times_out_clearly(silent_port):
    provider = Rfc2136Provider("127.0.0.1", silent_port, "k", "AAAA", timeout=0.5)
    started = time.monotonic()
    with pytest.raises(
        DnsError, match=f"no answer from the DNS server 127.0.0.1 port {silent_port} within 0.5 s"
    ):
        provider.find_zone("school.test")
    assert time.monotonic() - started < 3


def test_ptr_in_the_reverse_zone_leaves_exactly_one(provider, bind_zones):
    bind_zones.add("2.0.192.in-addr.arpa", "25.2.0.192.in-addr.arpa", "PTR", "old.school.test")
    assert sorted(r.value for r in provider.get_ptr("192.0.2.25")) == ["mail.school.test", "old.school.test"]
    assert provider.set_ptr("192.0.2.25", "mail.school.test") is True
    assert [r.value for r in provider.get_ptr("192.0.2.25")] == ["mail.school.test"]
    assert provider.set_ptr("192.0.2.25", "mail.school.test") is False
    assert provider.set_ptr("2001:db8::25", "mail.school.test") is True
    assert [r.value for r in provider.get_ptr("2001:db8::25")] == ["mail.school.test"]


def test_ptr_without_a_reverse_zone_says_what_to_do(provider):
    with pytest.raises(PtrUnsupported, match="control panel of the hosting provider"):
        provider.get_ptr("198.51.100.7")
