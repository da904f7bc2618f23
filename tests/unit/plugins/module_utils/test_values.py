"""One strict definition of each value the DNS modules take (issue 10, finding 3): names, labels,
addresses, URLs and SPF terms are matched whole (re.fullmatch), and a blank or a control
character anywhere is refused, never stripped. Pure functions: no DNS, no network."""

from __future__ import annotations

import pytest
from ansible_collections.lms.mail.plugins.module_utils.dkim import DkimError, validate_selector
from ansible_collections.lms.mail.plugins.module_utils.dmarc import DmarcError, merge_dmarc
from ansible_collections.lms.mail.plugins.module_utils.dns_registry import check_provider_options
from ansible_collections.lms.mail.plugins.module_utils.dns_values import (
    validate_api_base_url,
    validate_domain,
    validate_ip,
)
from ansible_collections.lms.mail.plugins.module_utils.spf import SpfError, parse_term


@pytest.mark.parametrize(
    "name",
    [
        "school.test\n",  # a regex ending in $ accepted this
        "school\n.test",  # and this: the label "school\n" matched ^...$
        " school.test",
        "school.test ",
        "school.\ttest",
        "school.test\x00",
        "sch ool.test",
        "school..test",
        "school",
        "-school.test",
    ],
)
def test_a_domain_with_a_blank_or_control_character_is_refused(name):
    with pytest.raises(ValueError, match="domain"):
        validate_domain(name)


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("School.Test.", "school.test"),
        ("_dmarc.school.test", "_dmarc.school.test"),
        ("Bücher.test", "xn--bcher-kva.test"),
    ],
)
def test_a_domain_is_returned_canonical(name, canonical):
    assert validate_domain(name) == canonical


@pytest.mark.parametrize("selector", ["mail\n", "mail\n.x", " mail", "ma il", "mail\t", "-mail", ""])
def test_a_selector_is_matched_whole(selector):
    with pytest.raises(DkimError):
        validate_selector(selector)


def test_a_selector_keeps_its_forms():
    assert validate_selector("S2026.Mail.") == "s2026.mail"


@pytest.mark.parametrize(
    "ip",
    [
        "192.0.2.25\n",
        " 192.0.2.25",
        "fe80::1%eth0",
        "fe80::1%eth0\nrelay_domains = static:ALL",
        "192.0.2.256",
    ],
)
def test_an_address_has_no_scope_blank_or_control_character(ip):
    with pytest.raises(ValueError, match="ip"):
        validate_ip(ip)


def test_an_address_is_returned_canonical():
    assert validate_ip("2001:DB8:0::25") == "2001:db8::25"


@pytest.mark.parametrize(
    "term",
    [
        "include:_spf.office.test\n+all",  # the argument swallowed the newline and the +all
        "ip4:192.0.2.10\n",
        " mx",
        "mx ",
        "a:mail.school.test\t",
        "ip6:fe80::1%eth0",
        "ip4:192.0.2.10\x00",
        "exists:%{i}.x.test\r",
    ],
)
def test_an_spf_term_is_one_word_of_visible_ascii(term):
    with pytest.raises(SpfError):
        parse_term(term)


@pytest.mark.parametrize(
    "url",
    [
        "http://api.example.test/client/v4",  # the token in clear over the network
        "http://192.0.2.10:8080/v2/",
        "http://10.0.0.1/",
        "ftp://127.0.0.1/",
        "https://user:secret@api.example.test/",
        "https://api.example.test/\n",
        "https:///v2/",
        "api.cloudflare.com",
    ],
)
def test_an_api_base_url_is_refused(url):
    with pytest.raises(ValueError):
        validate_api_base_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://api.cloudflare.com/client/v4",
        "https://api.digitalocean.com/v2/",
        "http://127.0.0.1:8080/client/v4",
        "http://127.9.9.9/v2/",
        "http://localhost:9000/v2/",
        "http://[::1]:9000/v2/",
    ],
)
def test_an_api_base_url_is_accepted(url):
    assert validate_api_base_url(url) == url


def test_the_digitalocean_end_point_variable_follows_the_same_rule(monkeypatch):
    monkeypatch.setenv("DIGITALOCEAN_END_POINT", "http://api.example.test/v2/")
    with pytest.raises(ValueError, match="DIGITALOCEAN_END_POINT"):
        check_provider_options({"provider": "digitalocean", "api_token": "t"})
    check_provider_options({"provider": "cloudflare", "api_token": "t"})  # not that provider's


@pytest.mark.parametrize("token", ["abc\n", "ab c", "abc\r\nX-Evil: 1", "t\u00f6ken"])
def test_a_token_with_a_blank_or_control_character_is_refused_without_echo(token):
    with pytest.raises(ValueError) as err:
        check_provider_options({"provider": "cloudflare", "api_token": token})
    assert token not in str(err.value)


@pytest.mark.parametrize("name", ["key\n", "my key", "key\x00"])
def test_a_tsig_key_name_is_a_name(name):
    with pytest.raises(ValueError, match="tsig_key_name"):
        check_provider_options({"provider": "rfc2136", "server": "127.0.0.1", "tsig_key_name": name})


def test_a_dmarc_report_address_is_matched_whole():
    with pytest.raises(DmarcError, match="rua"):
        merge_dmarc(None, {"p": "none", "rua": "mailto:dmarc@school.test\nx"})
    assert "rua=mailto:dmarc@school.test!10m" in merge_dmarc(
        None, {"p": "none", "rua": "mailto:dmarc@school.test!10m"}
    )
