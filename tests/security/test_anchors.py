"""Patterns outside the input checks that must match a whole value (issue 10, finding 3): `$`
also matches before a final newline, and `\\s` takes newlines for blanks. Each case here was
accepted before the pattern was made exact."""

from __future__ import annotations

import pytest
from ansible_collections.lms.mail.plugins.module_utils.dmarc import DmarcError, is_dmarc, parse_dmarc


@pytest.mark.parametrize(
    "value",
    ["v=DMARC1", "v=DMARC1; p=none", "v = DMARC1 ;p=reject", "v=DMARC1\t; p=quarantine", " v=DMARC1;"],
)
def test_a_dmarc_record_is_recognised(value):
    assert is_dmarc(value)


@pytest.mark.parametrize(
    "value",
    [
        "v=DMARC1\n",  # RFC 7489: the version is followed by ';' or nothing, and WSP is space or tab
        "v=DMARC1\r\n",
        "v=DMARC1\n; p=reject",
        "v\n=DMARC1; p=reject",
        "\nv=DMARC1; p=reject",
        "v=DMARC10; p=reject",
        "v=spf1 -all",
    ],
)
def test_a_newline_does_not_make_a_dmarc_record(value):
    assert not is_dmarc(value)
    with pytest.raises(DmarcError, match="not a DMARC record"):
        parse_dmarc(value)
