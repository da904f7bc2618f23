"""The records a person publishes by hand (plugins/filter/records.py): zone-file lines that
dnspython reads back to exactly the value, split in 255-byte strings; the panel form unsplit; one
block per zone."""

from __future__ import annotations

import dns.name
import dns.rdatatype
import dns.zone
import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.lms.mail.plugins.filter.records import (
    REVERSE,
    manual_records,
    records_markdown,
    records_text,
    records_zone,
    txt_rdata,
    zone_line,
)
from ansible_collections.lms.mail.plugins.module_utils.txt import join_txt

DKIM = "v=DKIM1; k=rsa; p=" + "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" * 9 + "IDAQAB"
RECORDS = [
    {
        "kind": "spf",
        "name": "school.test",
        "type": "TXT",
        "value": "v=spf1 ip4:192.0.2.27 ~all",
        "ttl": None,
        "note": "merge ip4:192.0.2.27 into the one SPF record, never a second",
    },
    {
        "kind": "dkim",
        "name": "s1._domainkey.school.test",
        "type": "TXT",
        "value": DKIM,
        "ttl": None,
        "note": "",
    },
    {
        "kind": "dkim",
        "name": "s1._domainkey.staff.school.test",
        "type": "TXT",
        "value": DKIM,
        "ttl": 300,
        "note": "",
    },
    {
        "kind": "dmarc",
        "name": "_dmarc.school.test",
        "type": "TXT",
        "value": "v=DMARC1; p=none",
        "ttl": 3600,
        "note": "a stricter policy already published is kept",
    },
    {
        "kind": "ptr",
        "name": "27.2.0.192.in-addr.arpa",
        "type": "PTR",
        "value": "moodle.school.test",
        "ttl": None,
        "note": "reverse DNS of 192.0.2.27",
    },
]
DOMAINS = ["school.test", "staff.school.test"]


def parsed(lines: list[str], origin: str = "school.test"):
    """The lines in a zone dnspython reads, the way named reads a zone file."""
    head = f"$ORIGIN {origin}.\n@ 3600 IN SOA ns. host. 1 3600 600 86400 60\n@ 3600 IN NS ns.\n"
    text = head + "\n".join(lines)
    return dns.zone.from_text(text, origin=origin, relativize=False, check_origin=False)


def txt_values(zone, name: str) -> list[list[bytes]]:
    rdataset = zone.find_rdataset(dns.name.from_text(name), dns.rdatatype.TXT)
    return [list(rdata.strings) for rdata in rdataset]


@pytest.mark.parametrize("size", [0, 1, 254, 255, 256, 510, 511, 1000])
def test_a_txt_value_is_split_in_255_byte_strings_and_reads_back_whole(size):
    value = "v=DKIM1; p=" + "x" * size
    zone = parsed([zone_line({"name": "k._domainkey.school.test", "type": "TXT", "value": value})])
    (strings,) = txt_values(zone, "k._domainkey.school.test.")
    assert all(len(s) <= 255 for s in strings)
    assert len(strings) == -(-len(value.encode()) // 255)
    assert join_txt(strings) == value


def test_quotes_backslashes_and_non_ascii_survive_the_zone_file():
    value = 'a "quoted" \\ back; semi ; é and ' + "ü" * 200
    line = zone_line({"name": "odd.school.test", "type": "TXT", "value": value})
    assert line.isascii(), "non-ASCII bytes are written as \\DDD"
    (strings,) = txt_values(parsed([line]), "odd.school.test.")
    assert join_txt(strings) == value
    # never cut inside a UTF-8 sequence: every string decodes on its own
    for string in strings:
        string.decode("utf-8")


def test_the_zone_line_form():
    assert zone_line(RECORDS[3]) == '_dmarc.school.test. 3600 IN TXT "v=DMARC1; p=none"'
    assert zone_line(RECORDS[4]) == "27.2.0.192.in-addr.arpa. IN PTR moodle.school.test."
    assert txt_rdata("") == '""'


def test_every_line_of_the_example_parses_to_the_intended_records():
    blocks = manual_records(RECORDS, DOMAINS)
    lines = [r["line"] for block in blocks if block["zone"] != REVERSE for r in block["records"]]
    zone = parsed(lines)
    assert join_txt(txt_values(zone, "school.test.")[0]) == RECORDS[0]["value"]
    assert join_txt(txt_values(zone, "s1._domainkey.school.test.")[0]) == DKIM
    assert join_txt(txt_values(zone, "s1._domainkey.staff.school.test.")[0]) == DKIM
    assert zone.find_rdataset("s1._domainkey.staff.school.test.", "TXT").ttl == 300
    (ptr_block,) = [b for b in blocks if b["zone"] == REVERSE]
    reverse = parsed([r["line"] for r in ptr_block["records"]], "2.0.192.in-addr.arpa")
    (ptr,) = reverse.find_rdataset("27.2.0.192.in-addr.arpa.", "PTR")
    assert ptr.target.to_text() == "moodle.school.test."


def test_one_block_per_zone_in_the_domains_order_the_ptr_last():
    # the role passes the SPF, DMARC and DKIM domains together: each zone still comes once
    blocks = manual_records(RECORDS, DOMAINS + ["school.test", "STAFF.school.test."])
    assert [b["zone"] for b in blocks] == ["school.test", "staff.school.test", REVERSE]
    panel = {(r["panel_name"], r["type"]): r["value"] for b in blocks for r in b["records"]}
    assert panel[("@", "TXT")] == RECORDS[0]["value"]
    assert panel[("s1._domainkey", "TXT")] == DKIM  # unsplit, unquoted
    assert panel[("_dmarc", "TXT")] == "v=DMARC1; p=none"
    assert panel[("27.2.0.192.in-addr.arpa", "PTR")] == "moodle.school.test"


def test_the_printed_block_and_the_files_carry_every_record():
    blocks = manual_records(RECORDS, DOMAINS)
    pending = ["DKIM: the key of other.test is made on the first run (check mode makes none)"]
    text = records_text(blocks, "moodle.school.test", ["/inv/records/moodle.school.test.md"], pending)
    markdown = records_markdown(blocks, "moodle.school.test", "ansible-playbook playbooks/verify.yml -i /inv")
    zone_file = records_zone(blocks, "moodle.school.test")
    for block in blocks:
        for record in block["records"]:
            assert record["line"] in text.splitlines()
            assert record["line"] in markdown.splitlines()
            assert record["line"] in zone_file.splitlines()
            assert f"| {record['type']} | {record['value']} |" in markdown
            assert f"  {record['panel_name']}  /  {record['type']}  /  {record['value']}" in text
    assert "== zone staff.school.test" in text and pending[0] in text
    assert "/inv/records/moodle.school.test.md" in text
    # no line of the printed block ends in a blank: the YAML callback then keeps it a literal block
    assert not [line for line in text.splitlines() if line != line.rstrip()]
    # the zone file is zone-file syntax throughout: comments and absolute lines
    assert all(line.startswith(";") or line.split()[0].endswith(".") for line in zone_file.splitlines())


def test_a_record_without_its_fields_is_refused():
    with pytest.raises(AnsibleFilterError, match="needs name, type and value"):
        zone_line({"name": "x.test", "type": "TXT"})
