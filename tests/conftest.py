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
# Local, but minutes long: `make test` only.
SLOW_TESTS = ("tests/operator/test_library_ranges.py::test_the_dns_modules_pass_with_each_end_of_the_ranges",)


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
