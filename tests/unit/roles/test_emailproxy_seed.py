"""roles/postfix/files/emailproxy-seed-refresh-token: a refresh token given as a secret, written
into emailproxy's token store so that emailproxy refreshes from it with no person to ask.

Checked against emailproxy itself where its pinned wheel is on this machine (molecule/oauth2
fetches it into lab/.state/wheels): its own configuration loader, Cryptographer and login path
take the seeded token and ask the token end point for an access token with it."""

from __future__ import annotations

import base64
import configparser
import importlib.machinery
import importlib.util
import json
import pathlib
import stat
import sys

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

ROOT = pathlib.Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "roles/postfix/files/emailproxy-seed-refresh-token"
WHEEL = ROOT / "lab/.state/wheels/emailproxy-2026.7.3-py3-none-any.whl"
ACCOUNT = "moodle@school.example"
PASSWORD = "d3adbeef" * 8
REFRESH = "1//0refresh-token-of-the-mailbox"


def load_seeder():
    loader = importlib.machinery.SourceFileLoader("emailproxy_seed", str(SCRIPT))
    spec = importlib.util.spec_from_loader("emailproxy_seed", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


@pytest.fixture
def seeded(tmp_path):
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"account": ACCOUNT, "password": PASSWORD, "refresh_token": REFRESH}))
    store = tmp_path / "tokens"
    assert load_seeder().main(["x", str(seed), str(store)]) == 0
    return seed, store


def test_the_store_holds_the_token_encrypted_with_the_local_password(seeded):
    _, store = seeded
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    text = store.read_text()
    assert REFRESH not in text and PASSWORD not in text
    entry = configparser.ConfigParser(interpolation=None)
    entry.read_string(text)
    entry = entry[ACCOUNT]
    kdf = PBKDF2HMAC(
        hashes.SHA256(), 32, base64.b64decode(entry["token_salt"]), int(entry["token_iterations"])
    )
    fernet = Fernet(base64.urlsafe_b64encode(kdf.derive(PASSWORD.encode())))
    assert fernet.decrypt(entry["refresh_token"].encode()).decode() == REFRESH


def test_a_token_already_in_the_store_is_kept(seeded, tmp_path):
    seed, store = seeded
    before = store.read_text()
    seed.write_text(json.dumps({"account": ACCOUNT, "password": PASSWORD, "refresh_token": "another"}))
    assert load_seeder().main(["x", str(seed), str(store)]) == 0
    assert store.read_text() == before  # emailproxy may have stored a newer one the provider rotated in


def test_a_broken_seed_names_no_secret(tmp_path, capsys):
    seed = tmp_path / "seed.json"
    seed.write_text('{"account": "' + ACCOUNT + '", "password": "' + PASSWORD + '"}')
    assert load_seeder().main(["x", str(seed), str(tmp_path / "tokens")]) == 1
    err = capsys.readouterr().err
    assert "KeyError" in err and PASSWORD not in err
    assert not (tmp_path / "tokens").exists()


def test_emailproxy_itself_refreshes_from_the_seeded_token(seeded, monkeypatch):
    if not WHEEL.exists():
        pytest.skip(f"emailproxy's wheel is not here ({WHEEL.relative_to(ROOT)}; molecule/oauth2 fetches it)")
    monkeypatch.syspath_prepend(str(WHEEL))
    sys.modules.pop("emailproxy", None)
    emailproxy = pytest.importorskip("emailproxy")
    _, store = seeded
    config = store.parent / "emailproxy.config"
    config.write_text(
        f"[{ACCOUNT}]\ntoken_url = https://oauth2.example/token\noauth2_scope = https://mail.google.com/\n"
        "client_id = client.apps.googleusercontent.com\nclient_secret = the-client-secret\n"
        "oauth2_flow = authorization_code\n"
    )
    monkeypatch.setattr(emailproxy, "CONFIG_FILE_PATH", str(config))
    monkeypatch.setattr(emailproxy, "CACHE_STORE", str(store))
    emailproxy.Log.initialise()
    emailproxy.AppConfig.unload()
    asked = []

    def refresh(token_url, client_id, client_secret, assertion, username, refresh_token):
        asked.append(refresh_token)
        return {"access_token": "ya29.access-token", "expires_in": 60}

    monkeypatch.setattr(emailproxy.OAuth2Helper, "refresh_oauth2_access_token", staticmethod(refresh))
    ok, result = emailproxy.OAuth2Helper.get_oauth2_credentials(ACCOUNT, PASSWORD)
    assert ok, result
    assert asked == [REFRESH]
    assert result == f"user={ACCOUNT}\1auth=Bearer ya29.access-token\1\1"
    emailproxy.AppConfig.unload()
