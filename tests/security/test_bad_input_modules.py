"""The bad-input battery's module rows (bad_input_cases.yml, target module:NAME): each DNS module
run with the row's options against a real BIND (tests/dns/bind.py, the rfc2136 provider, the
default) or the Cloudflare API emulator (provider: cloudflare), the way the tests of tests/dns
run them (in this process, as Ansible would).

Per row: the module fails (or, for a control row, succeeds in check mode), its message names the
option, no secret (the TSIG secret, the API token, the row's own) appears anywhere in its result,
and nothing was written: every zone's SOA serial on BIND (BIND raises it on every update it
applies) and the emulator's write log.
"""

from __future__ import annotations

import json

import pytest

from tests.dns.bind import BASELINE, BindServer
from tests.dns.modules import run_module
from tests.dns.test_api_modules import CloudflareBackend
from tests.security.cases import refused, rows

MODULE_ROWS = rows("module")
# The modules that read DNS as receivers do (include targets, FCrDNS): pointed at the same BIND.
RESOLVING = {"spf_record", "ptr_record"}


@pytest.fixture(scope="module")
def public_pem() -> str:
    """What "@rsa-2048-public" in a row's options stands for: a fresh RSA public key (PEM)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def _serials(bind: BindServer) -> dict[str, int]:
    return {zone: bind.serial(zone) for zone in BASELINE}


@pytest.mark.parametrize("case", MODULE_ROWS, ids=[case["id"] for case in MODULE_ROWS])
def test_module_bad_input_is_refused_before_any_change(request, public_pem, case):
    module = case["target"].split(":", 1)[1]
    options = {k: public_pem if v == "@rsa-2048-public" else v for k, v in case["args"].items()}
    if case.get("provider", "rfc2136") == "cloudflare":
        backend = CloudflareBackend(request.getfixturevalue("cloudflare_api"))
        args = backend.args(**options)
        secrets = [backend.token]
        backend.api.clear_log()
        state = backend.api.writes
    else:
        bind = request.getfixturevalue("bind_zones")
        if module in RESOLVING:
            options = {"resolver": [bind.host], "resolver_port": bind.port, **options}
        args = bind.provider_args(**options)
        secrets = [args["tsig_key_secret"]]
        state = lambda: _serials(bind)  # noqa: E731 (read again after the run)
    if case.get("secret"):
        secrets.append(case["secret"])
    before = state()
    result = run_module(module, args, check_mode=not refused(case))
    if refused(case):
        assert result.get("failed") is True, f"{case['id']} was accepted: {result}"
        message = " ".join(str(result.get("msg", "")).split())
        # Ansible's own "Unsupported parameters ... Supported parameters include: <all of them>"
        # would name every option: a row must be refused for its value, not for a typo
        assert "Unsupported parameters" not in message, f"{case['id']}: {message}"
        assert case["variable"] in message, (
            f"{case['id']}: the message does not name {case['variable']}: {message}"
        )
    else:
        assert not result.get("failed"), f"control row {case['id']} was refused: {result.get('msg')}"
    printed = json.dumps(result)
    for secret in secrets:
        assert secret not in printed, f"{case['id']}: a secret is in the module's result"
    assert state() == before, f"{case['id']}: the module wrote to the zone"
