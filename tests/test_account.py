"""The Account page tells the truth: token.json is the one source of the login, the service alone
mirrors it into the settings (at start, after any settings change, after the login script's hand-off),
and only the button that applies is shown."""
import json
import os
import runpy
import sys

import pytest

from lib.scrobbler import config
from lib.scrobbler.simkl import api, auth

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAST_POSTS = 0.02
ACCOUNT_ROWS = ("account_none", "account_status", "login", "logout")


def run_default(monkeypatch, *args):
    monkeypatch.setattr(sys, "argv", ["default.py", *args])
    runpy.run_path(os.path.join(ROOT, "default.py"), run_name="__main__")


@pytest.fixture
def simkl(simkl, monkeypatch):
    simkl.pin_interval = 0.01
    simkl.approve_after_polls = 1
    monkeypatch.setattr(api, "POST_INTERVAL", FAST_POSTS)
    simkl.post_interval = FAST_POSTS
    return simkl


@pytest.fixture
def service(kodi, simkl):
    """The service as Kodi starts it: constructed and its start-up run, without its worker (no sending here)."""
    from lib.scrobbler.service import Service
    running = Service()
    running.start_up()
    return running


def shown(kodi):
    return [key for key in ACCOUNT_ROWS if kodi.visible(key)]


def token_path(kodi):
    return os.path.join(kodi.profile_dir, auth.TOKEN_FILE)


def store_login(kodi, simkl, account_type="vip"):
    with open(token_path(kodi), "w", encoding="utf-8") as handle:
        json.dump({"access_token": simkl.issue_token(), "flow": "v1", "user_name": "jane_doe",
                   "account_type": account_type}, handle)


def test_a_fresh_install_says_not_logged_in_and_offers_only_log_in(kodi, service):
    assert shown(kodi) == ["account_none", "login"]
    assert kodi.string(32020) == "Not logged in"
    assert kodi.setting("logged_in") == "false"


def test_the_service_mirrors_a_stored_login_at_start(kodi, simkl):
    from lib.scrobbler.service import Service
    store_login(kodi, simkl)
    Service().start_up()
    assert kodi.setting("account_status") == "Logged in as jane_doe (VIP)"
    assert kodi.setting("account_type") == "vip"
    assert shown(kodi) == ["account_status", "logout"]


def test_the_login_script_writes_no_setting_and_hands_its_result_to_the_service(kodi, simkl, monkeypatch):
    before = dict(kodi.settings)
    run_default(monkeypatch, "login")
    assert kodi.settings == before  # no service runs here: nobody wrote the settings
    assert os.path.exists(token_path(kodi))
    [call] = [params for method, params in kodi.jsonrpc_calls if method == "JSONRPC.NotifyAll"]
    assert (call["sender"], call["message"]) == (config.ADDON_ID, config.ACCOUNT_MESSAGE)


def test_after_the_login_the_service_shows_who_is_logged_in_and_only_log_out(kodi, simkl, service, monkeypatch):
    run_default(monkeypatch, "login")
    assert kodi.setting("account_status") == "Logged in as jane_doe (PRO)"
    assert shown(kodi) == ["account_status", "logout"]
    assert [n[1] for n in kodi.notifications] == ["Logged in as jane_doe (PRO)"]


def test_login_from_the_settings_reopens_them_once_the_service_has_mirrored_the_login(kodi, simkl, service,
                                                                                       monkeypatch):
    run_default(monkeypatch, "login", "settings")
    assert kodi.dialogs[-1] == ("settings", "", "")
    assert kodi.setting("logged_in") == "true"


def test_defaults_blank_the_status_and_the_service_puts_the_truth_back(kodi, simkl, service):
    store_login(kodi, simkl)
    service.settings_changed()
    kodi.press_defaults("account")
    assert kodi.setting("account_status") == "Logged in as jane_doe (VIP)"
    assert shown(kodi) == ["account_status", "logout"]


def test_defaults_without_a_login_still_say_not_logged_in(kodi, service):
    kodi.press_defaults("account")
    assert shown(kodi) == ["account_none", "login"]


def test_settings_that_claim_a_login_token_json_does_not_have_are_corrected(kodi, service):
    kodi.set_setting("logged_in", True)
    kodi.set_setting("account_status", "Logged in as someone (PRO)")
    kodi.settings_saved()
    assert kodi.setting("logged_in") == "false"
    assert kodi.setting("account_status") == ""
    assert shown(kodi) == ["account_none", "login"]


def test_log_out_asks_first_and_no_keeps_the_login(kodi, simkl, service, monkeypatch):
    store_login(kodi, simkl)
    service.settings_changed()
    kodi.yesno_answers.append(False)
    run_default(monkeypatch, "logout")
    assert [d for d in kodi.dialogs if d[0] == "yesno"] == [
        ("yesno", "Simkl", "Log out of Simkl? Watches not yet sent are kept for jane_doe (if another account logs in,"
                           " you are asked about them). Rewatch sessions end.")]
    assert os.path.exists(token_path(kodi))
    assert shown(kodi) == ["account_status", "logout"]


def test_log_out_confirmed_forgets_the_login_and_the_page_says_not_logged_in(kodi, simkl, service, monkeypatch):
    store_login(kodi, simkl)
    service.settings_changed()
    kodi.yesno_answers.append(True)
    run_default(monkeypatch, "logout", "settings")
    assert not os.path.exists(token_path(kodi))
    assert shown(kodi) == ["account_none", "login"]
    assert kodi.notifications[-1][1] == kodi.string(32040)
    assert kodi.dialogs[-1] == ("settings", "", "")


def test_the_service_follows_token_json_not_a_stale_setting(kodi, simkl, service):
    store_login(kodi, simkl)
    kodi.settings["logged_in"] = "false"  # as a settings file restored from a backup might say
    assert service.logged_in()


def test_opening_the_addon_from_the_addon_list_opens_the_status_view(kodi, monkeypatch):
    run_default(monkeypatch)
    assert "unknown action" not in kodi.log_text()
    assert ("settings", "", "") not in kodi.dialogs
    assert kodi.dialogs  # the status view


@pytest.mark.parametrize("action, message", [("sync", config.SYNC_MESSAGE), ("import", config.IMPORT_MESSAGE)])
def test_the_settings_sync_buttons_hand_over_to_the_service(kodi, monkeypatch, action, message):
    run_default(monkeypatch, action)
    assert [params for method, params in kodi.jsonrpc_calls if method == "JSONRPC.NotifyAll"] == [
        {"sender": config.ADDON_ID, "message": message}]
