"""The one tag-list parser of DKIM key records and DMARC records (RFC 6376 section 3.2; RFC 7489
section 6.3 uses the same syntax): pairs, blanks and a trailing ';', and a tag named twice making
the whole list invalid, in both. Pure functions."""

from __future__ import annotations

import pytest
from ansible_collections.lms.mail.plugins.module_utils.dkim import (
    DkimError,
    is_dkim,
    parse_tags,
    public_key_value,
    same_record,
)
from ansible_collections.lms.mail.plugins.module_utils.dmarc import (
    DmarcError,
    merge_dmarc,
    parse_dmarc,
    same_policy,
    weaker_changes,
)
from ansible_collections.lms.mail.plugins.module_utils.tag_list import TagListError, parse_tag_list

ED25519 = "A" * 43 + "="  # 32 bytes in base64


def test_pairs_blanks_and_a_trailing_separator():
    assert parse_tag_list(" v = DKIM1 ;k=rsa;\tp= AB ;") == {"v": "DKIM1", "k": "rsa", "p": "AB"}
    assert parse_tag_list("") == {}
    assert parse_tag_list("p=") == {"p": ""}  # an empty value is a value (a revoked DKIM key)


@pytest.mark.parametrize("value", ["v=DKIM1; p", "v=DKIM1; garbage; p=AB"])
def test_a_part_without_equals_is_not_a_tag_list(value):
    with pytest.raises(TagListError, match="not a tag=value pair"):
        parse_tag_list(value)


@pytest.mark.parametrize("value", ["v=DKIM1; p=AB; p=CD", "a=1; b=2; a=1"])
def test_a_tag_named_twice_makes_the_list_invalid_even_with_the_same_value(value):
    with pytest.raises(TagListError, match="appears twice"):
        parse_tag_list(value)


def test_dkim_tag_names_are_case_sensitive_and_a_duplicate_is_refused():
    # RFC 6376 section 3.2: tags are interpreted case-sensitively, so P= is not p=
    assert parse_tags("v=DKIM1; P=x; p=AB CD") == {"v": "DKIM1", "P": "x", "p": "ABCD"}
    with pytest.raises(DkimError, match="tag 'p' appears twice"):
        parse_tags("v=DKIM1; p=AB; p=CD")
    assert not is_dkim("v=DKIM1; p=AB; p=CD")  # never taken for this module's record
    with pytest.raises(DkimError, match="appears twice"):
        public_key_value(f"v=DKIM1; k=ed25519; p={ED25519}; p={ED25519}", "ed25519")
    assert not same_record("v=DKIM1; p=AB; p=AB", "v=DKIM1; p=AB")  # compared as text then


def test_dmarc_tag_names_fold_to_lower_case_and_a_duplicate_is_refused():
    # RFC 7489's grammar writes tag names as ABNF strings, which are case-insensitive
    assert parse_dmarc("v=DMARC1; P=reject; RUA=mailto:a@school.test") == {
        "v": "DMARC1",
        "p": "reject",
        "rua": "mailto:a@school.test",
    }
    for value in ("v=DMARC1; p=none; p=reject", "v=DMARC1; p=none; P=reject"):
        # before, the last p= won: the stricter reject was read where receivers see no policy
        with pytest.raises(DmarcError, match="tag 'p' appears twice in the DMARC record"):
            parse_dmarc(value)
    with pytest.raises(DmarcError, match="not a tag=value pair in the DMARC record"):
        parse_dmarc("v=DMARC1; p=none; garbage")


def test_a_dmarc_record_naming_a_tag_twice_is_not_merged_weighed_or_taken_as_equal():
    published = "v=DMARC1; p=reject; pct=100; pct=10"
    with pytest.raises(DmarcError, match="tag 'pct' appears twice"):
        merge_dmarc(published, {"p": "reject"})
    with pytest.raises(DmarcError, match="appears twice"):
        weaker_changes(published, {"pct": "50"})
    assert not same_policy(published, "v=DMARC1; p=reject; pct=10")
