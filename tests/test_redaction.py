"""No login secret ever reaches kodi.log, even with debug logging on."""
import json
import os
import runpy
import sys
import time

import pytest

from lib.scrobbler import kodi as addon_kodi
from lib.scrobbler.simkl import account, api, auth

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_default(monkeypatch, action):
    monkeypatch.setattr(sys, "argv", ["default.py", action])
    runpy.run_path(os.path.join(ROOT, "default.py"), run_name="__main__")


@pytest.fixture
def simkl(simkl, monkeypatch):
    simkl.pin_interval = 0.01
    monkeypatch.setattr(api, "POST_INTERVAL", 0.02)  # the pace is proven in test_api; here it only costs time
    simkl.post_interval = 0.02
    return simkl


def test_full_v1_and_v2_logins_with_refresh_and_user_calls_log_no_secret(kodi, simkl, monkeypatch):
    kodi.set_setting("debug", True)
    simkl.approve_after_polls = 2

    monkeypatch.setenv("SIMKL_AUTH", "v1")
    run_default(monkeypatch, "login")
    account.make_client().user_settings()
    simkl.revoke_all()
    with pytest.raises(api.AuthExpired):
        account.make_client().user_settings()
    account.logged_out()

    monkeypatch.setenv("SIMKL_AUTH", "v2")
    run_default(monkeypatch, "login")
    path = os.path.join(kodi.profile_dir, auth.TOKEN_FILE)
    with open(path, encoding="utf-8") as handle:
        login = json.load(handle)
    login["expires_at"] = time.time() + 60
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(login, handle)
    account.make_client().user_settings()  # refreshes first: near expiry
    simkl.tokens.clear()
    account.make_client().user_settings()  # refreshes after a 401
    run_default(monkeypatch, "logout")

    secrets = simkl.secrets_issued
    kinds = {secret.split("-")[0] for secret in secrets}
    assert kinds >= {"pin", "v2", "refresh", "dev"}, secrets  # V1 token, V2 tokens, refresh token, device code
    assert len(simkl.requests_to("/oauth2/token")) >= 4  # device polls and two refreshes
    lines = [message for _, message in kodi.log]
    assert any("POST /users/settings -> 200" in line for line in lines)  # the debug lines are there
    leaks = [(secret, line) for secret in secrets for line in lines if secret in line]
    assert leaks == []


@pytest.mark.parametrize("line", [
    '{"access_token": "sekrit-access-1", "refresh_token": "sekrit-refresh-1"}',
    '{"device_code": "sekrit-device-1", "user_code": "ABCD-1234"}',
    "Authorization: Bearer sekrit-access-1",
    '{"Authorization": "Bearer sekrit-access-1"}',
    "grant_type=refresh_token&refresh_token=sekrit-refresh-1&client_id=cid",
    "token=sekrit-refresh-1",
])
def test_redact_hides_token_values_in_json_headers_and_forms(line):
    redacted = addon_kodi.redact(line)
    assert "sekrit" not in redacted
    assert "<redacted>" in redacted


def test_redact_keeps_the_user_code_and_plain_lines():
    assert "ABCD-1234" in addon_kodi.redact('{"device_code": "d-123456", "user_code": "ABCD-1234"}')
    for line in ("POST /oauth2/token -> 400 in 3 ms", "token rejected", "refresh token rejected: login needed"):
        assert addon_kodi.redact(line) == line


def test_redact_hides_a_registered_secret_anywhere():
    addon_kodi.register_secret("bare-secret-value-42")
    assert addon_kodi.redact("saw bare-secret-value-42 in a path") == "saw <redacted> in a path"


def test_redact_hides_tokens_in_python_dict_reprs():
    redacted = addon_kodi.redact(str({"access_token": "sekrit-access-1", "Authorization": "Bearer sekrit-2"}))
    assert "sekrit" not in redacted


def test_only_tokens_are_treated_as_secrets_not_the_user_name(kodi, simkl, monkeypatch):
    kodi.set_setting("debug", True)
    simkl.approve_after_polls = 1
    simkl.account.name = "settings"  # a user name that also occurs in ordinary log lines
    run_default(monkeypatch, "login")

    account.make_client().user_settings()

    assert "POST /users/settings -> 200" in kodi.log[-1][1]
    assert "<redacted>" not in kodi.log_text()
