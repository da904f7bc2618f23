"""TXT values: split into 255-byte strings, joined and unquoted from any provider's form."""

from __future__ import annotations

import pytest
from ansible_collections.lms.mail.plugins.module_utils.txt import (
    join_txt,
    quote_txt,
    same_txt,
    split_txt,
    unquote_txt,
)


def test_short_value_is_one_string():
    assert split_txt("v=spf1 -all") == [b"v=spf1 -all"]


def test_empty_value_is_one_empty_string():
    assert split_txt("") == [b""]


def test_long_value_splits_at_255_bytes_and_joins_back():
    value = "p=" + "A" * 700
    chunks = split_txt(value)
    assert [len(c) for c in chunks] == [255, 255, 192]
    assert join_txt(chunks) == value


def test_split_never_cuts_a_utf8_character():
    value = "x" * 254 + "é" + "y"  # é is 2 bytes and would straddle byte 255
    chunks = split_txt(value)
    assert chunks[0] == b"x" * 254
    assert all(len(c) <= 255 for c in chunks)
    assert join_txt(chunks) == value


def test_unquote_joins_quoted_strings_and_decodes_escapes():
    assert unquote_txt('"v=spf1 " "include:a.test" " ~all"') == "v=spf1 include:a.test ~all"
    assert unquote_txt(r'"say \"hi\" \\ \065"') == 'say "hi" \\ A'


def test_unquote_leaves_a_joined_value_alone():
    assert unquote_txt("v=spf1 mx ~all") == "v=spf1 mx ~all"


def test_unterminated_quote_is_an_error():
    with pytest.raises(ValueError, match="unterminated"):
        unquote_txt('"abc')


def test_quote_round_trips_through_unquote():
    value = 'k="v" ' + "z" * 300
    quoted = quote_txt(value)
    assert quoted.count('" "') == 1  # two strings
    assert unquote_txt(quoted) == value


def test_same_txt_compares_joined_values_whatever_the_split():
    assert same_txt('"abc" "def"', "abcdef")
    assert same_txt('"abcdef"', '"abc" "def"')
    assert not same_txt('"abc" "de"', "abcdef")
