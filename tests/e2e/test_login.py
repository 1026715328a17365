"""Scenario 2: logging in with a PIN (the V1 login, `SIMKL_AUTH=v1`: a build's default is the device login) from the
add-on's script, and the token on every later request."""
import json

import pytest

from .addon_steps import ADDON_ID, LOGIN_WINDOW, quit_cleanly, simkl_env, wait_for_requests
from .media_library import SHOW

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def kodi_env(fake):
    return dict(simkl_env(fake), SIMKL_AUTH="v1")


def dialog_text(kodi):
    """The login dialog's instructions and code (controls 2 and 3 of script-simkl-login.xml)."""
    labels = kodi.info_labels("Control.GetLabel(2)", "Control.GetLabel(3)")
    return labels["Control.GetLabel(2)"] + " " + labels["Control.GetLabel(3)"]


def test_login_shows_the_pin_and_keeps_the_token_once_approved(kodi, fake):
    kodi.run_addon(ADDON_ID, "login")

    assert kodi.wait_for_window(LOGIN_WINDOW, 20), "the PIN dialog did not open\n" + kodi.log_tail()
    assert kodi.wait_until(lambda: fake.pins, 10), "the add-on asked Simkl for no PIN"
    (code,) = fake.pins
    # Kodi 21.2 fills the window's labels one after the other: the code was seen before the address.
    shown = kodi.wait_until(lambda: code in dialog_text(kodi) and "simkl.com/pin" in dialog_text(kodi), 10)
    assert shown, "the dialog does not show the code %s and simkl.com/pin: %r" % (code, dialog_text(kodi))

    fake.approve_pin()

    assert kodi.wait_until(lambda: not kodi.window_active(LOGIN_WINDOW), 20), "the PIN dialog stayed open"
    (settings_request,) = wait_for_requests(fake, "/users/settings", 1)
    (token,) = fake.tokens
    assert settings_request.method == "POST"
    assert settings_request.headers.get("Authorization") == "Bearer " + token
    assert kodi.wait_until(lambda: kodi.addon_settings(ADDON_ID).get("logged_in") == "true", 10), \
        "logged_in is not true in settings.xml: %r" % kodi.addon_settings(ADDON_ID)
    settings = kodi.addon_settings(ADDON_ID)
    assert settings["account_status"] == "Logged in as jane_doe (PRO)"
    assert settings["account_type"] == "pro"
    stored = json.loads((kodi.addon_data(ADDON_ID) / "token.json").read_text(encoding="utf-8"))
    assert stored == {"access_token": token, "flow": "v1", "user_name": "jane_doe", "account_type": "pro",
                      "account_id": 12345}  # the id /users/settings gave (account.id): whose the queue is


def test_later_history_requests_carry_the_token(kodi, fake):
    (token,) = fake.tokens
    kodi.set_playcount({"episodeid": kodi.episode_id(SHOW.title, 1, 1)}, 1)

    (request,) = wait_for_requests(fake, "/sync/history", 1, status=201)

    assert request.headers.get("Authorization") == "Bearer " + token
    (show,) = request.json["shows"]
    assert show["title"] == SHOW.title
    assert [(s["number"], [e["number"] for e in s["episodes"]]) for s in show["seasons"]] == [(1, [1])]


def test_kodi_quits_cleanly_and_the_token_never_reached_kodi_log(kodi, fake):
    quit_cleanly(kodi)

    (token,) = fake.tokens
    assert token not in kodi.all_logs()
    assert fake.violations == []
