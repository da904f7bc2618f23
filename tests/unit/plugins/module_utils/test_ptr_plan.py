"""PTR writes go through the same planner as TXT writes (dns_plan.plan_records): what
DnsProvider.set_ptr and delete_ptr write, one record at a time, against a provider in memory.
No DNS, no network."""

from __future__ import annotations

import pytest
from ansible_collections.lms.mail.plugins.module_utils.dns_provider import PtrUnsupported, Record

from tests.unit.plugins.module_utils.memory_provider import MemoryProvider

IP = "192.0.2.25"
NAME = "25.2.0.192.in-addr.arpa"
REVERSE = "2.0.192.in-addr.arpa"


@pytest.fixture
def provider(monkeypatch):
    monkeypatch.setattr(MemoryProvider, "zones", {REVERSE: []})
    monkeypatch.setattr(MemoryProvider, "writes", [])
    return MemoryProvider()


def ptr(*values: str, ttl: int = 3600) -> list[Record]:
    return [Record(NAME, "PTR", value, ttl) for value in values]


def test_a_missing_ptr_is_created_with_the_ttl_asked_or_3600(provider):
    assert provider.set_ptr(IP, "Mail.School.test.") is True
    assert provider.zones[REVERSE] == ptr("mail.school.test")
    provider.zones[REVERSE].clear()
    assert provider.set_ptr(IP, "mail.school.test", ttl=300) is True
    assert provider.zones[REVERSE] == ptr("mail.school.test", ttl=300)


def test_a_ptr_to_another_name_is_updated_in_place_and_the_others_go(provider):
    provider.zones[REVERSE].extend(ptr("old.school.test", "other.school.test", ttl=600))
    assert provider.set_ptr(IP, "mail.school.test") is True
    # one update (the old TTL kept), then the delete: a reader never sees no PTR at all
    assert [kind for kind, _ in provider.writes] == ["update", "delete"]
    assert provider.zones[REVERSE] == ptr("mail.school.test", ttl=600)


def test_the_right_ptr_is_left_alone_unless_its_ttl_is_asked_to_change(provider):
    provider.zones[REVERSE].extend(ptr("mail.school.test", "old.school.test"))
    assert provider.set_ptr(IP, "mail.school.test") is True
    assert provider.writes == [("delete", ptr("old.school.test")[0])]
    provider.writes.clear()
    assert provider.set_ptr(IP, "MAIL.school.test.") is False and provider.writes == []
    assert provider.set_ptr(IP, "mail.school.test", ttl=60) is True
    assert provider.zones[REVERSE] == ptr("mail.school.test", ttl=60)
    provider.writes.clear()
    assert provider.set_ptr(IP, "mail.school.test", ttl=60) is False and provider.writes == []


def test_a_ttl_of_zero_is_applied_once_then_kept(provider):
    # before the one planner, ttl 0 read as "keep the TTL" and the PTR was rewritten every run
    provider.zones[REVERSE].extend(ptr("mail.school.test"))
    assert provider.set_ptr(IP, "mail.school.test", ttl=0) is True
    assert provider.set_ptr(IP, "mail.school.test", ttl=0) is False
    assert provider.zones[REVERSE] == ptr("mail.school.test", ttl=0)


def test_a_second_ptr_naming_the_same_host_stays(provider):
    provider.zones[REVERSE].extend(ptr("mail.school.test", "MAIL.school.test", "old.school.test"))
    assert provider.set_ptr(IP, "mail.school.test") is True
    assert provider.zones[REVERSE] == ptr("mail.school.test", "MAIL.school.test")


def test_dry_run_decides_the_same_and_writes_nothing(provider):
    provider.zones[REVERSE].extend(ptr("old.school.test"))
    assert provider.set_ptr(IP, "mail.school.test", dry_run=True) is True
    assert provider.delete_ptr(IP, dry_run=True) is True
    assert provider.writes == [] and provider.zones[REVERSE] == ptr("old.school.test")


def test_delete_removes_only_the_ptr_naming_the_host_when_one_is_named(provider):
    provider.zones[REVERSE].extend(ptr("mail.school.test", "old.school.test"))
    assert provider.delete_ptr(IP, "OLD.school.test.") is True
    assert provider.zones[REVERSE] == ptr("mail.school.test")
    assert provider.delete_ptr(IP, "old.school.test") is False
    assert provider.delete_ptr(IP) is True and provider.zones[REVERSE] == []


def test_without_a_reverse_zone_the_panel_instruction_is_raised(provider):
    with pytest.raises(PtrUnsupported, match="control panel"):
        provider.set_ptr("198.51.100.7", "mail.school.test")
