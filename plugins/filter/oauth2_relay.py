# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rules of a relay reached with OAuth 2.0 (postfix_relay_auth: oauth2): Postfix hands its
mail to emailproxy on loopback, which logs in to the provider with XOAUTH2 and keeps the
tokens itself (roles/postfix/tasks/oauth2.yml).

Each problem names the variable and the fix; the values of secrets are never part of a message.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from ansible_collections.lms.mail.plugins.test.mail_input import email_address, fqdn, printable

# Microsoft Entra: a tenant is its id (a GUID) or one of its verified domain names.
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# Microsoft's client ids are GUIDs, Google's end in .apps.googleusercontent.com.
_CLIENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
# An https URL without user info, space or control character; the host is checked apart.
_TOKEN_URL = re.compile(r"https://([A-Za-z0-9.-]+)(:[0-9]{1,5})?(/[A-Za-z0-9._~%/{}-]*)?")
_SCOPE = re.compile(r"[A-Za-z0-9:/._~-]+( [A-Za-z0-9:/._~-]+)*")
# The basic-authentication answer of Exchange Online once SMTP AUTH with a password is off.
MICROSOFT_BASIC_AUTH_END = (
    "postfix_relay_preset microsoft365 with postfix_relay_auth password: Microsoft turns SMTP AUTH "
    "with basic authentication off by default at the end of December 2026 (Message Center MC786329; "
    "final removal in 2027); from then on the relay answers "
    "'550 5.7.30 Basic authentication is not supported for Client Submission' and mail stays in "
    "the queue. Register an application in Microsoft Entra with the SMTP.SendAsApp permission, "
    "then set postfix_relay_auth: oauth2 with postfix_relay_oauth2_tenant_id, "
    "postfix_relay_oauth2_client_id and postfix_relay_oauth2_client_secret."
)


def _secret_problem(name: str, value: str) -> str | None:
    """A secret that would not stay whole as one value of emailproxy's INI file."""
    if not value:
        return None
    if not printable(value) or value != value.strip():
        return f"{name} must be one line without control characters or surrounding spaces (value not shown)"
    return None


def oauth2_relay_problems(settings: dict) -> list[str]:
    """Problems of an OAuth 2.0 relay's settings. `settings` holds the role's variables as
    resolved from the preset: flow (client_credentials | refresh_token), username, password,
    tenant_id, client_id, client_secret, refresh_token, token_url, scope, proxy_port."""
    problems = []
    flow = str(settings.get("flow") or "")
    tenant = str(settings.get("tenant_id") or "")
    client_id = str(settings.get("client_id") or "")
    secret = str(settings.get("client_secret") or "")
    refresh = str(settings.get("refresh_token") or "")
    token_url = str(settings.get("token_url") or "")
    if flow not in ("client_credentials", "refresh_token"):
        problems.append(
            "postfix_relay_oauth2_flow must be client_credentials (Microsoft 365: tenant id, client id and "
            "client secret) or refresh_token (Google Workspace: client id and secret and a refresh token); "
            "set postfix_relay_preset to microsoft365 or google_workspace, or set postfix_relay_oauth2_flow"
        )
    if not email_address(str(settings.get("username") or "")):
        problems.append(
            "postfix_relay_username must be the mailbox the relay sends as (moodle@school.example): "
            "XOAUTH2 names it beside the token"
        )
    if settings.get("password"):
        problems.append(
            "postfix_relay_password must be empty with postfix_relay_auth oauth2: the relay gets a token, "
            "never a password; put the application's secret in postfix_relay_oauth2_client_secret"
        )
    if not _CLIENT_ID.fullmatch(client_id):
        problems.append(
            "postfix_relay_oauth2_client_id must be the application's client id (Microsoft: the GUID of "
            "the app registration; Google: NAME.apps.googleusercontent.com)"
        )
    if not secret:
        problems.append(
            "postfix_relay_oauth2_client_secret must be set (the application's client secret, from a vault)"
        )
    if (
        flow == "client_credentials"
        and "{tenant}" in token_url
        and not (_GUID.fullmatch(tenant) or fqdn(tenant))
    ):
        problems.append(
            "postfix_relay_oauth2_tenant_id must be the Microsoft Entra tenant's id (a GUID) or its "
            "domain (school.onmicrosoft.com)"
        )
    if flow == "refresh_token" and not refresh:
        problems.append(
            "postfix_relay_oauth2_refresh_token must be set for the refresh-token flow (Google Workspace): "
            "a refresh token obtained once for the mailbox with the scope https://mail.google.com/"
        )
    for name, value in (
        ("postfix_relay_oauth2_client_secret", secret),
        ("postfix_relay_oauth2_refresh_token", refresh),
    ):
        problem = _secret_problem(name, value)
        if problem:
            problems.append(problem)
    url = _TOKEN_URL.fullmatch(token_url)
    if not url or not (fqdn(url.group(1)) or url.group(1) == "localhost"):
        problems.append(
            "postfix_relay_oauth2_token_url must be an https URL of the provider's token end point "
            f"(got {token_url!r}); the presets set it"
        )
    if not _SCOPE.fullmatch(str(settings.get("scope") or "")):
        problems.append(
            "postfix_relay_oauth2_scope must be the scopes to ask for, separated by single spaces "
            "(Microsoft 365: https://outlook.office365.com/.default; Google: https://mail.google.com/)"
        )
    port = settings.get("proxy_port")
    if not isinstance(port, int) or isinstance(port, bool) or not 1024 <= port <= 65535:
        problems.append(
            "postfix_relay_oauth2_proxy_port must be a port number from 1024 to 65535 on loopback"
        )
    return problems


def oauth2_token_url(url: str, tenant_id: str) -> str:
    """The token end point with the tenant put in (Microsoft's URL names the tenant)."""
    return str(url).replace("{tenant}", str(tenant_id))


def oauth2_proxy_password(secret_material: list, account: str) -> str:
    """The password Postfix gives emailproxy on loopback, which encrypts the tokens emailproxy
    keeps: derived from the OAuth 2.0 secrets, so that it is the same on every run and changes
    (with a fresh token cache) when they change. It never leaves the host."""
    key = "\n".join(str(item) for item in secret_material).encode()
    return hmac.new(key, f"lms.mail emailproxy {account}".encode(), hashlib.sha256).hexdigest()


def relay_auth_warnings(preset: str, auth: str) -> list[str]:
    """Warnings about a relay's authentication that still works today but will stop."""
    if preset == "microsoft365" and auth == "password":
        return [MICROSOFT_BASIC_AUTH_END]
    return []


class FilterModule:
    def filters(self):
        return {
            "oauth2_relay_problems": oauth2_relay_problems,
            "oauth2_token_url": oauth2_token_url,
            "oauth2_proxy_password": oauth2_proxy_password,
            "relay_auth_warnings": relay_auth_warnings,
        }
