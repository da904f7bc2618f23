"""The domains mail is sent as, the one rule behind dkim_domains, dns_spf_domains and verify_domains
(plugins/filter/sender_domains.py)."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.lms.mail.plugins.filter.sender_domains import sender_domains


def test_the_moodle_roles_domains_win():
    assert sender_domains(["school.test", "teachers.test"], "other.test") == ["school.test", "teachers.test"]


def test_none_handed_over_is_kept_as_none():
    """The moodle role ran and found no domain: mail_domain does not slip in behind its back."""
    assert sender_domains([], "school.test") == []


def test_without_the_moodle_role_the_shared_mail_domain():
    assert sender_domains(None, "school.test") == ["school.test"]


@pytest.mark.parametrize("mail_domain", ["", None])
def test_without_either_no_domain(mail_domain):
    assert sender_domains(None, mail_domain) == []


@pytest.mark.parametrize("bad", ["school.test", {"school.test": 1}, 3])
def test_a_handed_over_value_that_is_no_list_is_refused(bad):
    with pytest.raises(AnsibleFilterError, match="list of domains"):
        sender_domains(bad)
