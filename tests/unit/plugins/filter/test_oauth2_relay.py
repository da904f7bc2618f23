"""The rules of an OAuth 2.0 relay (postfix_relay_auth: oauth2). The secrets are made up."""

# ruff: noqa: S105, S106

from __future__ import annotations

import pytest
from ansible_collections.lms.mail.plugins.filter.oauth2_relay import (
    oauth2_proxy_password,
    oauth2_relay_problems,
    oauth2_token_url,
    relay_auth_warnings,
)

MICROSOFT = {
    "flow": "client_credentials",
    "username": "moodle@school.example",
    "password": "",
    "tenant_id": "7b0c1f2e-5a4d-4c3b-9e8f-0a1b2c3d4e5f",
    "client_id": "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b",
    "client_secret": "s3cr3t~value.with-signs",
    "refresh_token": "",
    "token_url": "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
    "scope": "https://outlook.office365.com/.default",
    "proxy_port": 10587,
}
GOOGLE = dict(
    MICROSOFT,
    flow="refresh_token",
    tenant_id="",
    client_id="1234-abc.apps.googleusercontent.com",
    refresh_token="1//0refresh-token",
    token_url="https://oauth2.googleapis.com/token",
    scope="https://mail.google.com/",
)


def test_the_presets_settings_pass():
    assert oauth2_relay_problems(MICROSOFT) == []
    assert oauth2_relay_problems(GOOGLE) == []
    assert oauth2_relay_problems(dict(MICROSOFT, tenant_id="school.onmicrosoft.com")) == []


@pytest.mark.parametrize(
    ("change", "variable"),
    [
        ({"tenant_id": ""}, "postfix_relay_oauth2_tenant_id"),
        ({"tenant_id": "not a tenant"}, "postfix_relay_oauth2_tenant_id"),
        ({"client_id": ""}, "postfix_relay_oauth2_client_id"),
        ({"client_id": "id\nx"}, "postfix_relay_oauth2_client_id"),
        ({"client_secret": ""}, "postfix_relay_oauth2_client_secret"),
        ({"client_secret": "abc\n[evil]"}, "postfix_relay_oauth2_client_secret"),
        ({"client_secret": " padded "}, "postfix_relay_oauth2_client_secret"),
        ({"username": "moodle"}, "postfix_relay_username"),
        ({"password": "app-password"}, "postfix_relay_password"),
        ({"token_url": "http://login.microsoftonline.com/x/token"}, "postfix_relay_oauth2_token_url"),
        ({"token_url": "https://user@host.example/token"}, "postfix_relay_oauth2_token_url"),
        ({"scope": "a\nb"}, "postfix_relay_oauth2_scope"),
        ({"proxy_port": 25}, "postfix_relay_oauth2_proxy_port"),
        ({"proxy_port": True}, "postfix_relay_oauth2_proxy_port"),
        ({"flow": "password"}, "postfix_relay_oauth2_flow"),
    ],
)
def test_each_bad_setting_is_named(change, variable):
    problems = oauth2_relay_problems(dict(MICROSOFT, **change))
    assert any(p.startswith(variable) for p in problems), problems


def test_google_needs_its_refresh_token_and_secrets_never_show():
    problems = oauth2_relay_problems(dict(GOOGLE, refresh_token=""))
    assert any(p.startswith("postfix_relay_oauth2_refresh_token") for p in problems)
    secret = "abc\nsecret-value"
    problems = oauth2_relay_problems(dict(GOOGLE, client_secret=secret, refresh_token=secret))
    assert problems and not any("secret-value" in p for p in problems)


def test_the_tenant_goes_into_microsofts_url():
    assert (
        oauth2_token_url(MICROSOFT["token_url"], "school.onmicrosoft.com")
        == "https://login.microsoftonline.com/school.onmicrosoft.com/oauth2/v2.0/token"
    )
    assert oauth2_token_url(GOOGLE["token_url"], "") == GOOGLE["token_url"]


def test_the_local_password_is_stable_and_follows_the_secrets():
    one = oauth2_proxy_password(["id", "secret"], "moodle@school.example")
    assert one == oauth2_proxy_password(["id", "secret"], "moodle@school.example")
    assert one != oauth2_proxy_password(["id", "secret2"], "moodle@school.example")
    assert len(one) == 64 and "secret" not in one


def test_microsoft_with_a_password_is_warned_with_date_and_answer():
    (warning,) = relay_auth_warnings("microsoft365", "password")
    assert "end of December 2026" in warning
    assert "550 5.7.30 Basic authentication is not supported for Client Submission" in warning
    assert relay_auth_warnings("microsoft365", "oauth2") == []
    assert relay_auth_warnings("gmail", "password") == []
