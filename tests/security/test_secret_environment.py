"""A DNS provider's token taken from the environment (CLOUDFLARE_API_TOKEN, DIGITALOCEAN_TOKEN)
is as secret as the api_token option, which Ansible masks wherever its value appears in a
module's output: the modules add it to their no_log values. Here a task whose domain happens to
hold the token's text (an error message quotes the domain) must show neither."""

from __future__ import annotations

import pytest

from tests.dns.modules import run_module

TOKEN = "lmsmailEnvToken7c1f"  # noqa: S105 - a made-up token, the text to look for


@pytest.mark.parametrize(
    ("provider", "variable"),
    [("cloudflare", "CLOUDFLARE_API_TOKEN"), ("digitalocean", "DIGITALOCEAN_TOKEN")],
)
@pytest.mark.parametrize("source", ["environment", "option"])
def test_a_token_is_masked_in_the_output(monkeypatch, provider, variable, source):
    args = {
        "provider": provider,
        "domain": f"{TOKEN}",
        "mechanisms": ["mx"],
        "api_base_url": "http://127.0.0.1:9",
    }
    if source == "environment":
        monkeypatch.setenv(variable, TOKEN)
    else:
        args["api_token"] = TOKEN
    result = run_module("spf_record", args)
    assert result.get("failed"), result
    assert TOKEN not in repr(result), result
