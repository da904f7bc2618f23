#!/usr/bin/python3
"""The lab's OAuth 2.0 provider: the token end points of Microsoft's identity platform and of
Google, and an introspection end point for the relay's Dovecot (its oauth2 passdb).

Stands in for login.microsoftonline.com and oauth2.googleapis.com on the lab network only,
following their documented responses:
  POST /{tenant}/oauth2/v2.0/token  grant_type=client_credentials (Microsoft's client-credentials
        flow): {"token_type": "Bearer", "expires_in": N, "ext_expires_in": N, "access_token": ...};
        a wrong secret: 401 {"error": "invalid_client", "error_description": "AADSTS7000215: ..."}
  POST /token  grant_type=refresh_token (Google): {"access_token": ..., "expires_in": N,
        "scope": ..., "token_type": "Bearer"}; a refused refresh token: 400 invalid_grant
  POST /introspect  token=... (RFC 7662): {"active": true, "username": MAILBOX, ...} or
        {"active": false}
The clients are files /etc/lab/oauth2/clients/CLIENT_ID.json, read on every request, so a
test registers, changes or revokes a client by writing or removing its file:
  {"secret": ..., "mailbox": ..., "tenant": ... (Microsoft), "refresh_token": ... (Google)}
An access token lives --lifetime seconds and only as long as its client's credentials stay
what they were when it was issued: changing the secret (a revocation) ends its tokens at once.
Every grant, refusal and introspection is logged (the journal), for the refresh timings.
"""

import argparse
import hashlib
import http.server
import json
import re
import secrets
import ssl
import sys
import threading
import time
import urllib.parse
from pathlib import Path

CLIENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
TENANT_TOKEN_PATH = re.compile(r"/([A-Za-z0-9.-]{1,100})/oauth2/v2\.0/token")


class Provider:
    def __init__(self, clients_dir, lifetime):
        self.clients_dir = Path(clients_dir)
        self.lifetime = lifetime
        self.tokens = {}  # access token -> (client id, credentials fingerprint, mailbox, expiry)
        self.lock = threading.Lock()

    def client(self, client_id):
        if not CLIENT_ID.fullmatch(client_id or ""):
            return None
        try:
            return json.loads((self.clients_dir / f"{client_id}.json").read_text())
        except (OSError, ValueError):
            return None

    @staticmethod
    def fingerprint(client):
        return hashlib.sha256(json.dumps(client, sort_keys=True).encode()).hexdigest()

    def issue(self, client_id, client):
        token = secrets.token_urlsafe(32)
        with self.lock:
            now = time.time()
            self.tokens = {t: v for t, v in self.tokens.items() if v[3] > now}
            self.tokens[token] = (client_id, self.fingerprint(client), client["mailbox"], now + self.lifetime)
        log(f"issued client_id={client_id} mailbox={client['mailbox']} expires_in={self.lifetime}")
        return token

    def introspect(self, token):
        with self.lock:
            entry = self.tokens.get(token)
        if entry is None:
            return {"active": False}, "unknown token"
        client_id, fingerprint, mailbox, expiry = entry
        client = self.client(client_id)
        if time.time() >= expiry:
            return {"active": False}, f"expired client_id={client_id}"
        if client is None or self.fingerprint(client) != fingerprint:
            return {"active": False}, f"revoked client_id={client_id}"
        return {
            "active": True,
            "username": mailbox,
            "client_id": client_id,
            "token_type": "Bearer",
            "exp": int(expiry),
        }, f"active client_id={client_id} mailbox={mailbox} remaining={int(expiry - time.time())}s"


def log(message):
    print(message, flush=True)


def microsoft_error(status, error, code, description):
    return status, {
        "error": error,
        "error_description": f"AADSTS{code}: {description}",
        "error_codes": [code],
        "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
        "trace_id": secrets.token_hex(16),
        "correlation_id": secrets.token_hex(16),
    }


class Handler(http.server.BaseHTTPRequestHandler):
    provider = None

    def log_message(self, fmt, *args):
        log(f"{self.address_string()} {fmt % args}")

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def form(self):
        length = int(self.headers.get("Content-Length") or 0)
        fields = urllib.parse.parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
        return {key: values[0] for key, values in fields.items()}

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        form = self.form()
        tenant = TENANT_TOKEN_PATH.fullmatch(path)
        if tenant:
            self.reply(*self.microsoft_token(tenant.group(1), form))
        elif path == "/token":
            self.reply(*self.google_token(form))
        elif path == "/introspect":
            body, what = self.provider.introspect(form.get("token", ""))
            log(f"introspect {what}")
            self.reply(200, body)
        else:
            self.reply(404, {"error": "not_found"})

    def microsoft_token(self, tenant, form):
        client_id = form.get("client_id", "")
        if form.get("grant_type") != "client_credentials":
            return microsoft_error(
                400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type."
            )
        if not form.get("scope", "").endswith("/.default"):
            return microsoft_error(
                400, "invalid_scope", 1002012, "The provided value for scope is not valid."
            )
        client = self.provider.client(client_id)
        if client is None or client.get("tenant") != tenant:
            log(f"refused client_id={client_id} tenant={tenant}: unknown application")
            return microsoft_error(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found.",
            )
        if not secrets.compare_digest(form.get("client_secret", ""), client.get("secret", "")):
            log(f"refused client_id={client_id}: invalid client secret")
            return microsoft_error(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent "
                "in the request is the client secret value, not the client secret ID.",
            )
        token = self.provider.issue(client_id, client)
        lifetime = self.provider.lifetime
        return 200, {
            "token_type": "Bearer",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": token,
        }

    def google_token(self, form):
        client_id = form.get("client_id", "")
        client = self.provider.client(client_id)
        if form.get("grant_type") != "refresh_token":
            return 400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type"}
        if client is None or not secrets.compare_digest(
            form.get("client_secret", ""), client.get("secret", "")
        ):
            log(f"refused client_id={client_id}: invalid client")
            return 401, {"error": "invalid_client", "error_description": "Unauthorized"}
        if not secrets.compare_digest(form.get("refresh_token", ""), client.get("refresh_token", "")):
            log(f"refused client_id={client_id}: invalid refresh token")
            return 400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
        token = self.provider.issue(client_id, client)
        return 200, {
            "access_token": token,
            "expires_in": self.provider.lifetime,
            "scope": "https://mail.google.com/",
            "token_type": "Bearer",
        }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # the lab network: Dovecot on the relay and the servers under test reach it there
    parser.add_argument("--listen", default="0.0.0.0")  # noqa: S104
    parser.add_argument("--port", type=int, default=8443)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--clients", default="/etc/lab/oauth2/clients")
    parser.add_argument("--lifetime", type=int, default=60, help="seconds an access token lives")
    args = parser.parse_args()
    Handler.provider = Provider(args.clients, args.lifetime)
    server = http.server.ThreadingHTTPServer((args.listen, args.port), Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    log(f"listening on https://{args.listen}:{args.port}/, tokens live {args.lifetime}s")
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
