"""The dkim role's choices (module_utils/dkim_selectors.py, the role's filters): which selector
each domain signs with, the keys a rotation needs, their files. Pure functions."""

from __future__ import annotations

import pytest
from ansible_collections.lms.mail.plugins.module_utils.dkim_selectors import (
    active_selectors,
    key_files,
    keys_to_hold,
    selectors_to_hold,
)

RSA = {"algorithm": "rsa", "suffix": ""}
ED25519 = {"algorithm": "ed25519", "suffix": "-ed25519"}
IMPORTED = [{"domain": "b.test", "selector": "old", "private_key": "not looked at"}]


@pytest.mark.parametrize(
    ("state", "selector", "expected"),
    [
        # first run: the first selector, or an imported key's for its domain
        ({}, "", {"a.test": "202612", "b.test": "old"}),
        # the host's state wins over both: a rotation is not undone by the next ordinary run
        ({"a.test": "s2", "b.test": "s3", "gone.test": "s9"}, "", {"a.test": "s2", "b.test": "s3"}),
        # dkim_selector wins over everything, for every domain
        ({"a.test": "s2"}, "s5", {"a.test": "s5", "b.test": "s5"}),
    ],
)
def test_the_selector_each_domain_signs_with(state, selector, expected):
    active = active_selectors(["a.test", "b.test"], "202612", IMPORTED, state, selector)
    assert active == expected
    assert list(active) == ["a.test", "b.test"]  # the domains' order, whatever the sources'


def test_the_last_import_of_a_domain_counts_and_order_follows_the_domains():
    imported = [{"domain": "a.test", "selector": "i1"}, {"domain": "a.test", "selector": "i2"}]
    active = active_selectors(["z.test", "a.test"], "first", imported, {"z.test": "s"})
    assert list(active.items()) == [("z.test", "s"), ("a.test", "i2")]


def test_a_rotation_holds_the_next_key_beside_the_signing_one():
    active = {"a.test": "s1", "b.test": "s2"}
    assert selectors_to_hold(active) == [
        {"domain": "a.test", "selector": "s1", "signing": True},
        {"domain": "b.test", "selector": "s2", "signing": True},
    ]
    # b.test signs with the next selector already: no second entry for it
    assert selectors_to_hold(active, "s2") == [
        {"domain": "a.test", "selector": "s1", "signing": True},
        {"domain": "b.test", "selector": "s2", "signing": True},
        {"domain": "a.test", "selector": "s2", "signing": False},
    ]


def test_one_key_per_selector_and_signer_and_its_file():
    held = [{"domain": "a.test", "selector": "s1", "signing": True}]
    keys = keys_to_hold(held, [RSA, ED25519])
    assert keys == [
        {"domain": "a.test", "selector": "s1", "signing": True, "algorithm": "rsa"},
        {"domain": "a.test", "selector": "s1-ed25519", "signing": True, "algorithm": "ed25519"},
    ]
    assert held[0]["selector"] == "s1"  # the input is not changed
    assert key_files(keys, "/etc/dkimkeys") == [
        "/etc/dkimkeys/a.test/s1.private",
        "/etc/dkimkeys/a.test/s1-ed25519.private",
    ]
    assert keys_to_hold([], [RSA]) == []
