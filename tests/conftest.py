"""Shared pytest set-up. The collection is importable as ansible_collections.lms.mail because
pyproject.toml puts ./collections on the path (it links back to this checkout)."""

# Fixture modules, one per kind of local server the tests start (a real BIND, the HTTP
# emulators of Cloudflare's and DigitalOcean's APIs, a real Dovecot).
pytest_plugins: list[str] = [
    "tests.dns.bind",
    "tests.dns.emulator_fixtures",
    "tests.mailbox.dovecot",
]
