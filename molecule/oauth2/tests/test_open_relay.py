"""Never an open relay (relay_corporate, OAuth 2.0): the Debian 12 instance is converged opened
to the lab network (molecule.yml), and relays for no one: nmap's smtp-open-relay from the lab's
probe container, after the converge and again after the battery's open-relay rows were refused
by this transport's converge. Checked on one platform: the relay restrictions are the role's,
whatever the release."""

from __future__ import annotations

import os

import pytest

from tests import lab
from tests.security.probes import no_open_relay_even_with_the_overrides

SCENARIO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def sut(host):
    return lab.validation_instance(host)


def test_no_open_relay_from_the_network(sut, host):
    assert sut.check_output("postconf -h inet_interfaces") == "all"
    print(no_open_relay_even_with_the_overrides(SCENARIO, sut, host.backend.host))
