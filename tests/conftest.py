"""Shared pytest set-up. The collection is importable as ansible_collections.lms.mail because
pyproject.toml puts ./collections on the path (it links back to this checkout)."""

import pytest

# Fixture modules, one per kind of local server the tests start (a real BIND, the HTTP
# emulators of Cloudflare's and DigitalOcean's APIs, a real Dovecot).
pytest_plugins: list[str] = [
    "tests.dns.bind",
    "tests.dns.emulator_fixtures",
    "tests.mailbox.dovecot",
]


# The tests that need the podman lab (`make lab`): `make test` runs them with the rest, `make check`
# leaves them out (-m "not lab") and runs the others with podman hidden (tests/no-podman), so that
# a lab test missing here fails there, naming itself. A directory, a file, or file::test.
LAB_TESTS = (
    "tests/diagnose/test_failures_lab.py",
    "tests/diagnose/test_mail_queue_info_lab.py",
    "tests/diagnose/test_moodle_lab.py",
    "tests/lab_env/",
    "tests/operator/test_first_run.py",
    "tests/operator/test_readme_customer_steps.py",
    "tests/operator/test_verify_wait.py",
    "tests/operator/test_customer_inventory.py::test_a_filled_in_copy_is_read_whole_and_passes_preflight",
    "tests/security/test_bad_input.py::test_bad_input_is_refused_before_any_change",
)
# Local, but minutes long: `make test` only. Besides the library ranges, the tests that spend 10 s
# of CPU or more in their own ansible-playbook runs, and the three that build the fresh controller
# (user+sys, measured per test, children included): together 124 of the 233 s that make check's
# pytest took, more than its 2 minutes on 2 cores allow beside lint. Their cheaper siblings stay
# in make check (the role's check mode, SPF merge, relay, provider none, bad input, hand-over;
# the modules' own playbooks).
_ROLE = "tests/dns_role/test_role_rfc2136.py::"
_INSTALLED = "tests/operator/test_installed_collection.py::"
SLOW_TESTS = (
    "tests/operator/test_library_ranges.py::test_the_dns_modules_pass_with_each_end_of_the_ranges",
    # 25 s: site-shaped zone lines loaded into BIND, then the proof
    "tests/operator/test_records_bind.py::test_the_written_zone_lines_load_into_bind_and_the_proof_then_passes",
    # 21 s: the dns role against both API emulators
    "tests/dns_role/test_role_api.py::test_cloudflare_zones_and_digitalocean_reverse_dns",
    # 20, 17 and 11 s: two or three whole role runs each (one with -vvv)
    _ROLE + "test_direct_publishes_every_record_then_changes_nothing",
    _ROLE + "test_retired_dkim_selectors_are_removed_and_the_others_kept",
    _ROLE + "test_dmarc_is_never_weakened_and_keeps_the_published_tags",
    # 23 s: the three that need the fresh controller (a virtualenv installed from the wheelhouse,
    # then ansible-doc of every plugin and role, a syntax check, a run without an inventory)
    _INSTALLED + "test_every_module_plugin_and_role_documents_itself_on_the_fresh_controller",
    _INSTALLED + "test_the_readme_playbook_and_lms_mail_site_pass_a_syntax_check",
    _INSTALLED + "test_lms_mail_site_refuses_an_inventory_that_does_not_exist",
)


def _listed(nodeid: str, places: tuple[str, ...]) -> bool:
    name = nodeid.split("[", 1)[0]
    return any(
        name == place or name.startswith(place + "::") or (place.endswith("/") and name.startswith(place))
        for place in places
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _listed(item.nodeid, LAB_TESTS):
            item.add_marker(pytest.mark.lab)
        if _listed(item.nodeid, SLOW_TESTS):
            item.add_marker(pytest.mark.slow)
