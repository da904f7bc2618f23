"""The rules of the wait for published records (plugins/module_utils/dns_wait.py): what counts as
a server answering with a record, and when the wait stops, on a clock of the test's own."""

from __future__ import annotations

import pytest
from ansible_collections.lms.mail.plugins.module_utils.dns_wait import (
    Answer,
    DnsWaitError,
    Expected,
    Server,
    expected_records,
    matches,
    wait_for,
)

DKIM = "v=DKIM1; k=rsa; p=" + "A" * 400
NS1, NS2 = Server("ns1.host.test", "192.0.2.53"), Server("ns2.host.test", "192.0.2.54")


class Clock:
    def __init__(self):
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_records_are_checked_and_normalised():
    got = expected_records(
        [
            {"kind": "spf", "name": "School.Test.", "type": "txt", "value": "v=spf1 -all", "provider": "x"},
            {"name": "school.test", "type": "TXT", "value": "v=spf1 -all"},
        ]
    )
    assert got == [Expected("school.test", "TXT", "v=spf1 -all")]
    for bad, said in (
        ({"name": "a.test", "type": "TXT"}, "value missing"),
        ({"name": "a.test", "type": "SRV", "value": "x"}, "type 'SRV' is not one of"),
        ({"name": "a test", "type": "TXT", "value": "x"}, "is not a DNS name"),
        ("a.test TXT x", "a dict with name, type and value"),
    ):
        with pytest.raises(ValueError, match=said):
            expected_records([bad])


def test_a_txt_record_matches_by_its_joined_value_only():
    record = Expected("sel._domainkey.school.test", "TXT", DKIM)
    assert matches(record, Answer(["v=spf1 -all", DKIM]))
    assert not matches(record, Answer([DKIM[:-1]]))
    assert not matches(record, Answer([DKIM + " "]))
    assert not matches(record, Answer(error="NXDOMAIN"))


def test_names_and_addresses_match_as_what_they_are():
    assert matches(
        Expected("40.2.0.192.in-addr.arpa", "PTR", "Moodle.School.test"), Answer(["moodle.school.test."])
    )
    assert not matches(
        Expected("40.2.0.192.in-addr.arpa", "PTR", "moodle.school.test"), Answer(["old.school.test."])
    )
    assert matches(Expected("h.test", "AAAA", "2001:db8::1"), Answer(["2001:db8:0:0::1"]))
    assert not matches(Expected("h.test", "A", "not-an-address"), Answer(["192.0.2.1"]))
    assert matches(Expected("school.test", "MX", "10 mx.school.test"), Answer(["10 mx.school.test."]))
    assert not matches(Expected("school.test", "MX", "20 mx.school.test"), Answer(["10 mx.school.test."]))


def test_the_wait_ends_as_soon_as_every_server_answers_with_every_record():
    records = [
        Expected("school.test", "TXT", "v=spf1 -all"),
        Expected("_dmarc.school.test", "TXT", "v=DMARC1; p=none"),
    ]
    clock = Clock()
    asked: list[tuple[str, str]] = []

    def ask(server: Server, name: str, rtype: str) -> Answer:
        asked.append((server.name, name))
        # ns2 is a secondary that gets the zone two rounds later
        if server is NS2 and clock.now < 110:
            return Answer(error="NXDOMAIN (the name does not exist there yet)")
        return Answer([r.value for r in records if r.name == name])

    outcome = wait_for(records, lambda name: ("school.test", [NS1, NS2]), ask, 300, 5, clock, clock.sleep)
    assert outcome.ready and outcome.missing == [] and outcome.rounds == 3
    assert outcome.waited == 10 and clock.slept == [5, 5]
    # a server that answered with a record is not asked for it again
    assert asked.count(("ns1.host.test", "school.test")) == 1
    assert asked.count(("ns2.host.test", "school.test")) == 3
    assert outcome.as_dict()["report"] == (
        "the authoritative name servers answer with the 2 record(s) published after 10 s "
        "(school.test: ns1.host.test (192.0.2.53), ns2.host.test (192.0.2.54))"
    )


def test_the_wait_is_bounded_and_says_what_each_server_still_answers():
    record = Expected("sel._domainkey.school.test", "TXT", DKIM)
    clock = Clock()

    def ask(server: Server, name: str, rtype: str) -> Answer:
        clock.now += 1  # each question takes a second
        return Answer(["v=DKIM1; k=rsa; p=OLD"]) if server is NS1 else Answer(error="no answer (timeout)")

    outcome = wait_for([record], lambda name: ("school.test", [NS1, NS2]), ask, 30, 5, clock, clock.sleep)
    assert not outcome.ready
    # no pause goes past the deadline: rounds at 0, 7, 14, 21, 28 s, 2 s of questions each
    assert outcome.waited == 30 and outcome.rounds == 5
    assert outcome.missing == [
        "sel._domainkey.school.test TXT at ns1.host.test (192.0.2.53): 'v=DKIM1; k=rsa; p=OLD'",
        "sel._domainkey.school.test TXT at ns2.host.test (192.0.2.54): no answer (timeout)",
    ]
    assert outcome.report().startswith("after 30 s (5 round(s)), not every authoritative name server answers")


def test_name_servers_not_found_are_looked_for_again_and_reported():
    record = Expected("school.test", "TXT", "v=spf1 -all")
    clock = Clock()
    tries = []

    def servers_of(name: str):
        tries.append(name)
        raise DnsWaitError("no zone found for school.test: timeout")

    outcome = wait_for([record], servers_of, lambda *a: Answer(), 10, 5, clock, clock.sleep)
    assert not outcome.ready and len(tries) == 3 and outcome.servers == {}
    assert outcome.missing == ["school.test TXT: its name servers: no zone found for school.test: timeout"]


def test_a_server_on_another_port_says_so():
    assert str(Server("", "127.0.0.1", 5300)) == "127.0.0.1 port 5300"
    assert str(Server("ns.lab.test", "10.89.231.53")) == "ns.lab.test (10.89.231.53)"
