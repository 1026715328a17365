"""Login and logout end to end: the real default.py in the fake Kodi against the fake Simkl server."""
import io
import json
import os
import runpy
import stat
import sys
import time

import pytest
import zxingcpp
from PIL import Image

from lib.scrobbler import config
from lib.scrobbler.simkl import account, api, auth

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAST_POSTS = 0.02  # Simkl's 1-second POST pacing, shrunk in the client and the fake server alike (see test_api)


def run_default(monkeypatch, action):
    monkeypatch.setattr(sys, "argv", ["default.py", action])
    runpy.run_path(os.path.join(ROOT, "default.py"), run_name="__main__")


@pytest.fixture
def simkl(simkl, monkeypatch):
    """The fake Simkl; the tests name their login flow: the PIN login (V1) here, `v2` below (the build's default)."""
    monkeypatch.setenv("SIMKL_AUTH", "v1")
    simkl.pin_interval = 0.01
    monkeypatch.setattr(api, "POST_INTERVAL", FAST_POSTS)  # V2 polls are POSTs; the pace is process-wide
    simkl.post_interval = FAST_POSTS
    return simkl


@pytest.fixture(autouse=True)
def service(kodi, simkl):
    """The service is what mirrors a login into the settings (the script hands its result over)."""
    from lib.scrobbler.service import Service
    running = Service()
    running.start_up()
    return running


def log_out(kodi, monkeypatch):
    kodi.yesno_answers.append(True)  # "Log out of Simkl?"
    run_default(monkeypatch, "logout")


@pytest.fixture
def v2(monkeypatch, simkl):
    monkeypatch.setenv("SIMKL_AUTH", "v2")
    return simkl


def token_path(kodi):
    return os.path.join(kodi.profile_dir, auth.TOKEN_FILE)


def saved_login(kodi):
    with open(token_path(kodi), encoding="utf-8") as handle:
        return json.load(handle)


def login_window(kodi):
    """The login dialog shown (the add-on's own skin window), with its properties."""
    [window] = [w for w in kodi.windows_shown if w._xml == "script-simkl-login.xml"]
    return window


def qr_text(kodi, window):
    image = Image.open(io.BytesIO(kodi.textures[window.getProperty("qr")]))
    [found] = zxingcpp.read_barcodes(image)
    return found.text


def ok_messages(kodi):
    return [message for kind, _, message in kodi.dialogs if kind == "ok"]


def pin_polls(simkl):
    return [r for r in simkl.requests if r.path.startswith("/oauth/pin/")]


def pin_starts(simkl):
    return simkl.requests_to("/oauth/pin")


# -- the login window with a remote (steps the user takes while the script waits) ---------------
NEW_CODE = "Get a new code"
EXPIRED = "This code has expired. Get a new code to try again."


def until(condition, then=lambda window: None):
    """A step that waits (the script goes on waiting) until condition(window) holds, then runs `then`."""
    def step(window):
        if not condition(window):
            return False
        then(window)
        return True
    return step


def code_expired(window):
    return window.focused_label() == NEW_CODE


def code_shown(window):
    return window.getProperty("code") != ""


def device_polls(simkl):
    return [r for r in simkl.requests_to("/oauth2/token") if (r.json or {}).get("device_code")]


def assert_logged_in_as_jane(kodi):
    expected = "Logged in as jane_doe (PRO)"
    assert kodi.setting("logged_in") == "true"
    assert kodi.setting("account_status") == expected
    assert kodi.setting("account_type") == "pro"
    assert [message for _, message, _ in kodi.notifications] == [expected]
    assert ok_messages(kodi) == []


def assert_not_logged_in(kodi):
    assert kodi.setting("logged_in") == "false"
    assert not os.path.exists(token_path(kodi))


# -- V1 PIN flow ------------------------------------------------------------------------------

def test_v1_login_polls_while_pending_then_saves_the_token_and_says_who_is_logged_in(kodi, simkl, monkeypatch):
    simkl.approve_after_polls = 2
    run_default(monkeypatch, "login")

    assert_logged_in_as_jane(kodi)
    polls = pin_polls(simkl)
    assert len(polls) == 2
    code = polls[0].path.rsplit("/", 1)[1]
    window = login_window(kodi)
    assert window.getProperty("heading") == "Log in to Simkl"
    assert window.getProperty("code") == code
    assert "simkl.com/pin" in window.getProperty("intro")
    assert qr_text(kodi, window) == "https://simkl.com/pin/" + code
    assert window.getProperty("time_left").endswith(" left")
    assert ("window-closed", "script-simkl-login.xml", "") in kodi.dialogs
    assert [name for name in os.listdir(kodi.profile_dir) if name.startswith("login-qr-")] == []
    login = saved_login(kodi)
    assert login["flow"] == "v1"
    assert login["access_token"] in simkl.tokens
    assert login["user_name"] == "jane_doe"
    assert simkl.requests_to("/users/settings")[0].headers["Authorization"] == "Bearer " + login["access_token"]
    if os.name == "posix":
        assert stat.S_IMODE(os.stat(token_path(kodi)).st_mode) == 0o600
    assert simkl.violations == []


def test_v1_free_account_shows_free(kodi, simkl, monkeypatch):
    simkl.approve_after_polls = 1
    simkl.account.type = "free"
    run_default(monkeypatch, "login")
    assert kodi.setting("account_status") == "Logged in as jane_doe (Free)"
    assert kodi.setting("account_type") == "free"


def test_v1_slow_down_makes_polling_slower(kodi, simkl, monkeypatch):
    simkl.slow_down_polls = {1, 2, 3}
    simkl.approve_after_polls = 5
    run_default(monkeypatch, "login")

    times = [r.time for r in pin_polls(simkl)]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert len(times) == 5
    # 0.01 s doubled at each "Slow down": at least 0.02, 0.04 and 0.08 s between the polls that follow
    assert gaps[1] >= 0.035 and gaps[2] >= 0.075
    assert_logged_in_as_jane(kodi)


def test_v1_cancel_leaves_no_token_and_shows_no_error(kodi, simkl, monkeypatch):
    simkl.approve_after_polls = 1000
    kodi.progress_cancel_after = 4
    run_default(monkeypatch, "login")

    assert_not_logged_in(kodi)
    assert ok_messages(kodi) == []
    assert kodi.notifications == []
    assert ("window-closed", "script-simkl-login.xml", "") in kodi.dialogs


def test_v1_code_nobody_enters_expires_and_the_window_says_so(kodi, simkl, monkeypatch):
    # Simkl's poll interval is longer than the code lives: the add-on's own clock ends the wait (drawing the
    # QR code takes long enough that a poll due just before the expiry could meet a code Simkl already forgot).
    simkl.pin_interval = 0.4
    simkl.pin_expires_in = 0.2
    kodi.window_steps.extend([until(code_expired), "back"])
    run_default(monkeypatch, "login")

    assert EXPIRED in login_window(kodi).screens[-2]["info"]
    assert ok_messages(kodi) == []  # the window said it; Back is the user's own choice
    assert len(pin_polls(simkl)) == 0
    assert_not_logged_in(kodi)


def test_v1_code_simkl_no_longer_knows_is_said_in_the_window(kodi, simkl, monkeypatch):
    simkl.forget_codes = True
    kodi.window_steps.extend([until(code_expired), "back"])
    run_default(monkeypatch, "login")

    assert "Simkl no longer knows this code. Get a new code to try again." in login_window(kodi).screens[-2]["info"]
    assert ok_messages(kodi) == []
    assert len(pin_polls(simkl)) == 1  # the fresh start body stops the polling
    assert_not_logged_in(kodi)


def test_select_on_the_remote_while_the_code_shows_never_cancels_the_login(kodi, simkl, monkeypatch):
    simkl.approve_after_polls = 4
    kodi.window_steps.extend([until(code_shown), "select", "select"])  # OK on the remote, twice
    run_default(monkeypatch, "login")

    assert kodi.window_steps == []
    assert_logged_in_as_jane(kodi)
    window = login_window(kodi)
    assert window.getProperty("hint") == "This window closes by itself once Simkl has the code. " \
                                         "OK keeps waiting; Back cancels."
    assert window.screens[0]["actions"] == ["222"]  # Cancel (Kodi's own string), not focused: moved to on purpose


def first_code_expires(simkl):
    """The first code expires before its first poll: the add-on's own clock ends the wait (a poll at the very
    end could meet a code Simkl already forgot: that is said in other words, see the test below)."""
    simkl.pin_expires_in = 0.3
    simkl.pin_interval = 0.4


def next_code_lives(simkl, approve_after_polls=1):
    simkl.pin_expires_in = 60
    simkl.pin_interval = 0.01
    simkl.approve_after_polls = approve_after_polls


def test_an_expired_code_offers_a_new_one_focused_and_the_login_completes_with_it(kodi, simkl, monkeypatch):
    first_code_expires(simkl)
    seen = {}

    def expired(window):
        seen["expired"] = window.screen()
        next_code_lives(simkl)

    codes = []
    kodi.window_steps.extend([until(code_shown, lambda w: codes.append(w.getProperty("code"))),
                              until(code_expired, expired), "select"])
    run_default(monkeypatch, "login")

    assert_logged_in_as_jane(kodi)
    window = login_window(kodi)  # one window: the new code shows in the same one
    assert EXPIRED in seen["expired"]["info"]
    assert seen["expired"]["actions"] == [NEW_CODE, "222"]
    assert window.getProperty("hint") == "This window closes by itself once Simkl has the code. " \
                                         "OK keeps waiting; Back cancels."
    assert len(pin_starts(simkl)) == 2
    [poll] = pin_polls(simkl)[-1:]
    code = poll.path.rsplit("/", 1)[1]
    assert window.getProperty("code") == code != codes[0]
    assert qr_text(kodi, window) == "https://simkl.com/pin/" + code
    assert [name for name in os.listdir(kodi.profile_dir) if name.startswith("login-qr-")] == []
    assert simkl.violations == []


def test_the_expired_window_says_ok_gets_a_new_code_and_back_cancels(kodi, simkl, monkeypatch):
    first_code_expires(simkl)
    hints = []
    kodi.window_steps.extend([until(code_expired, lambda w: hints.append(w.getProperty("hint"))), "back"])
    run_default(monkeypatch, "login")

    assert hints == ["OK gets a new code; Back cancels."]
    assert ok_messages(kodi) == []
    assert len(pin_starts(simkl)) == 1
    assert ("window-closed", "script-simkl-login.xml", "") in kodi.dialogs
    assert_not_logged_in(kodi)


def test_get_a_new_code_pressed_twice_asks_simkl_once(kodi, simkl, monkeypatch):
    first_code_expires(simkl)
    kodi.window_steps.extend([until(code_expired, lambda w: next_code_lives(simkl, 3)), "select", "select"])
    run_default(monkeypatch, "login")

    assert len(pin_starts(simkl)) == 2  # the first code and one new one
    assert_logged_in_as_jane(kodi)


def test_a_code_simkl_forgot_offers_a_new_one_too(kodi, simkl, monkeypatch):
    simkl.forget_codes = True

    def simkl_remembers(window):
        simkl.forget_codes = False
        simkl.approve_after_polls = 1

    kodi.window_steps.extend([until(code_expired, simkl_remembers), "select"])
    run_default(monkeypatch, "login")

    assert_logged_in_as_jane(kodi)
    assert len(pin_starts(simkl)) == 2


def network_down(simkl):
    simkl.stop()


def pin_503(simkl):
    simkl.fail("/oauth/pin", 503)


def pin_not_json(simkl):
    simkl.fail("/oauth/pin", 200, body=b'{"result": "OK", "user_code": ')


def pin_without_code(simkl):
    simkl.fail("/oauth/pin", 200, body={"result": "OK"})


def pin_412(simkl):
    simkl.fail("/oauth/pin", 412)


def settings_503(simkl):
    simkl.approve_after_polls = 1
    simkl.fail("/users/settings", 503)


@pytest.mark.parametrize("trouble, message", [
    (network_down, 32036), (pin_503, 32036), (pin_not_json, 32038), (pin_without_code, 32038), (pin_412, 32037),
    (settings_503, 32036)])
def test_v1_bad_answers_end_in_a_clear_message_without_an_exception(kodi, simkl, monkeypatch, trouble, message):
    trouble(simkl)
    run_default(monkeypatch, "login")

    assert ok_messages(kodi) == [kodi.string(message)]
    assert_not_logged_in(kodi)


def test_failed_login_while_logged_in_keeps_the_previous_login(kodi, simkl, monkeypatch):
    simkl.approve_after_polls = 1
    run_default(monkeypatch, "login")
    before = saved_login(kodi)
    simkl.fail("/users/settings", 503)

    run_default(monkeypatch, "login")

    assert ok_messages(kodi) == [kodi.string(32036)]
    assert saved_login(kodi) == before
    assert kodi.setting("logged_in") == "true"
    assert kodi.setting("account_status") == "Logged in as jane_doe (PRO)"


def test_v1_poll_that_fails_once_keeps_polling(kodi, simkl, monkeypatch):
    simkl.approve_after_polls = 2
    first_code = "C0001"  # a fresh fake hands out C0001 first
    simkl.fail("/oauth/pin/" + first_code, 503)
    run_default(monkeypatch, "login")

    assert [r.status for r in pin_polls(simkl)] == [503, 200, 200]
    assert_logged_in_as_jane(kodi)


def test_without_a_client_id_login_says_so_and_sends_nothing(kodi, simkl, monkeypatch):
    monkeypatch.setenv("SIMKL_CLIENT_ID", "")
    monkeypatch.setattr(config, "CLIENT_ID", "")
    run_default(monkeypatch, "login")

    assert ok_messages(kodi) == [kodi.string(32039)]
    assert simkl.requests == []
    assert_not_logged_in(kodi)


def test_v1_logout_forgets_the_token_without_a_request(kodi, simkl, monkeypatch):
    simkl.approve_after_polls = 1
    run_default(monkeypatch, "login")
    sent = len(simkl.requests)

    log_out(kodi, monkeypatch)

    assert_not_logged_in(kodi)
    assert kodi.setting("account_status") == ""
    assert kodi.visible("account_none") and kodi.visible("login") and not kodi.visible("logout")
    assert kodi.notifications[-1][1] == kodi.string(32040)
    assert len(simkl.requests) == sent


def test_unknown_action_opens_the_settings(kodi, simkl, monkeypatch):
    run_default(monkeypatch, "no-such-action")
    assert ("settings", "", "") in kodi.dialogs
    assert simkl.requests == []


# -- V2 device flow -----------------------------------------------------------------------------

def test_a_build_logs_in_with_the_device_login_unless_told_otherwise(kodi, simkl, monkeypatch):
    monkeypatch.delenv("SIMKL_AUTH")  # neither the environment nor `make zip AUTH=` chose a flow
    simkl.approve_after_polls = 1
    run_default(monkeypatch, "login")

    assert_logged_in_as_jane(kodi)
    assert pin_starts(simkl) == [] and len(simkl.requests_to("/oauth2/device")) == 1
    assert saved_login(kodi)["flow"] == "v2"


def test_a_v2_start_answer_without_a_complete_uri_gets_a_qr_code_of_the_pin_page_with_the_code(kodi, v2, monkeypatch):
    v2.approve_after_polls = 1
    v2.device_complete_uri = False
    run_default(monkeypatch, "login")

    window = login_window(kodi)
    assert qr_text(kodi, window) == "https://simkl.com/pin/" + window.getProperty("code")
    assert_logged_in_as_jane(kodi)


def test_v2_login_polls_while_pending_then_saves_access_and_refresh_tokens(kodi, v2, monkeypatch):
    v2.approve_after_polls = 2
    run_default(monkeypatch, "login")

    assert_logged_in_as_jane(kodi)
    assert len(device_polls(v2)) == 2
    assert v2.requests_to("/oauth/pin") == []
    assert "read media:write" in v2.requests_to("/oauth2/device")[0].json["scope"]
    window = login_window(kodi)
    assert window.getProperty("code").startswith("ABCD-")
    # the QR code opens Simkl's verification_uri_complete (ref/oauth2-device, docs simkl-api.md 3.4)
    assert qr_text(kodi, window) == "https://simkl.com/pin?user_code=" + window.getProperty("code")
    assert "simkl.com/pin" in window.getProperty("intro")
    login = saved_login(kodi)
    assert login["flow"] == "v2"
    assert v2.refresh_tokens[login["refresh_token"]] == login["access_token"]
    assert login["expires_at"] == pytest.approx(time.time() + 604800, abs=60)
    if os.name == "posix":
        assert stat.S_IMODE(os.stat(token_path(kodi)).st_mode) == 0o600
    assert v2.violations == []  # POSTs stayed paced


def test_v2_slow_down_adds_five_seconds_to_the_interval(kodi, v2, monkeypatch):
    v2.slow_down_polls = {1}
    v2.pin_expires_in = 0.5
    kodi.window_steps.extend([until(code_expired), "back"])
    run_default(monkeypatch, "login")

    # the server asks for a poll every 0.01 s; after slow_down the next one is 5 s away, past the 0.5 s expiry
    assert len(device_polls(v2)) == 1
    assert EXPIRED in login_window(kodi).screens[-2]["info"]


def test_v2_expired_code_offers_a_new_one_and_the_login_completes_with_it(kodi, v2, monkeypatch):
    v2.pin_expires_in = 0.3

    def next_code_lives(window):
        v2.pin_expires_in = 60
        v2.approve_after_polls = 1

    codes = []
    kodi.window_steps.extend([until(code_shown, lambda w: codes.append(w.getProperty("code"))),
                              until(code_expired, next_code_lives), "select"])
    run_default(monkeypatch, "login")

    assert_logged_in_as_jane(kodi)
    assert len(v2.requests_to("/oauth2/device")) == 2
    window = login_window(kodi)
    assert window.getProperty("code").startswith("ABCD-") and window.getProperty("code") != codes[0]
    assert qr_text(kodi, window) == "https://simkl.com/pin?user_code=" + window.getProperty("code")
    assert v2.violations == []  # the new code's POST kept Simkl's pace


def test_v2_access_denied_gives_the_refused_message(kodi, v2, monkeypatch):
    v2.deny_device = True
    run_default(monkeypatch, "login")
    assert ok_messages(kodi) == [kodi.string(32035)]
    assert_not_logged_in(kodi)


def test_v2_expired_token_is_said_in_the_window(kodi, v2, monkeypatch):
    v2.forget_codes = True
    kodi.window_steps.extend([until(code_expired), "back"])
    run_default(monkeypatch, "login")
    assert EXPIRED in login_window(kodi).screens[-2]["info"]
    assert ok_messages(kodi) == []
    assert len(device_polls(v2)) == 1
    assert_not_logged_in(kodi)


def test_v2_client_id_that_is_not_a_v2_app_gives_the_client_id_message(kodi, v2, monkeypatch):
    v2.v2_client_ids = set()
    run_default(monkeypatch, "login")
    assert ok_messages(kodi) == [kodi.string(32042)]
    assert [r.path for r in v2.requests] == ["/oauth2/device"]
    assert_not_logged_in(kodi)


def test_v2_cancel_leaves_no_token_and_shows_no_error(kodi, v2, monkeypatch):
    v2.approve_after_polls = 1000
    kodi.progress_cancel_after = 4
    run_default(monkeypatch, "login")
    assert ok_messages(kodi) == []
    assert_not_logged_in(kodi)


@pytest.fixture
def v2_logged_in(kodi, v2, monkeypatch):
    v2.approve_after_polls = 1
    run_default(monkeypatch, "login")
    assert kodi.setting("logged_in") == "true"
    v2.requests.clear()
    return v2


def test_v2_token_near_expiry_is_refreshed_before_the_next_user_call(kodi, v2_logged_in):
    login = saved_login(kodi)
    login["expires_at"] = time.time() + 60
    with open(token_path(kodi), "w", encoding="utf-8") as handle:
        json.dump(login, handle)

    account.make_client().user_settings()

    assert [r.path for r in v2_logged_in.requests] == ["/oauth2/token", "/users/settings"]
    assert v2_logged_in.requests[0].json["grant_type"] == "refresh_token"
    fresh = saved_login(kodi)
    assert fresh["access_token"] != login["access_token"]
    assert fresh["refresh_token"] == login["refresh_token"]
    assert fresh["expires_at"] == pytest.approx(time.time() + 604800, abs=60)
    assert v2_logged_in.requests[1].headers["Authorization"] == "Bearer " + fresh["access_token"]


def test_v2_user_call_refreshes_once_after_a_401_and_succeeds(kodi, v2_logged_in):
    stale = saved_login(kodi)["access_token"]
    v2_logged_in.tokens.clear()  # every access token dies; refresh tokens still work

    answer = account.make_client().user_settings()

    assert answer["user"]["name"] == "jane_doe"
    assert [r.path for r in v2_logged_in.requests] == ["/users/settings", "/oauth2/token", "/users/settings"]
    assert saved_login(kodi)["access_token"] not in (stale, None)
    assert kodi.setting("logged_in") == "true"


def test_401_that_refresh_cannot_mend_logs_out_and_tells_the_user_once(kodi, v2, monkeypatch):
    v2.approve_after_polls = 1
    run_default(monkeypatch, "login")
    kodi.notifications.clear()
    v2.revoke_all()

    for _ in range(2):  # e.g. two queued watches meet the same 401
        with pytest.raises(api.AuthExpired):
            account.make_client().user_settings()
        account.logged_out()

    assert_not_logged_in(kodi)
    assert kodi.setting("account_status") == ""
    assert kodi.visible("account_none") and kodi.visible("login") and not kodi.visible("logout")
    assert [(heading, message) for heading, message, _ in kodi.notifications] == [
        ("Log in to Simkl again", "Your watches stay queued")]


SIMKL_CHANGED = ("Simkl's login changed", "Choose Log in; watches are kept")


def test_a_v1_login_simkl_no_longer_accepts_is_forgotten_and_told_once_that_simkl_changed_its_login(
        kodi, simkl, monkeypatch):
    simkl.approve_after_polls = 1
    run_default(monkeypatch, "login")  # the PIN login
    kodi.notifications.clear()
    simkl.refuse_v1_tokens()

    for _ in range(2):  # e.g. two queued watches meet the same 401
        with pytest.raises(api.AuthExpired):
            account.make_client().user_settings()  # a V1 token has no refresh token: no exchange is tried
        account.logged_out()

    assert simkl.requests_to("/oauth2/token") == []
    assert kodi.setting("logged_in") == "false" and kodi.setting("account_status") == ""
    assert account.current_login() == {}
    assert [(heading, message) for heading, message, _ in kodi.notifications] == [SIMKL_CHANGED]


def test_a_login_from_the_v1_login_made_before_it_was_named_is_told_the_same(kodi, simkl, monkeypatch):
    with open(token_path(kodi), "w", encoding="utf-8") as handle:
        json.dump({"access_token": simkl.issue_token(), "user_name": "jane_doe"}, handle)  # no flow, no refresh
    simkl.refuse_v1_tokens()

    with pytest.raises(api.AuthExpired):
        account.make_client().user_settings()
    account.logged_out()

    assert [(heading, message) for heading, message, _ in kodi.notifications] == [SIMKL_CHANGED]


def test_after_simkl_changed_its_login_the_login_dialog_says_so_and_the_new_login_ends_it(kodi, simkl, monkeypatch):
    simkl.approve_after_polls = 1
    run_default(monkeypatch, "login")
    simkl.refuse_v1_tokens()
    with pytest.raises(api.AuthExpired):
        account.make_client().user_settings()
    account.logged_out()
    kodi.notifications.clear()
    kodi.windows_shown.clear()

    monkeypatch.setenv("SIMKL_AUTH", "v2")  # the add-on updated to a build with the device login
    run_default(monkeypatch, "login")

    assert login_window(kodi).getProperty("heading") == kodi.string(32973)
    assert_logged_in_as_jane(kodi)
    assert saved_login(kodi)["flow"] == "v2"
    kodi.windows_shown.clear()
    run_default(monkeypatch, "login")  # once logged in again, a login is an ordinary one
    assert login_window(kodi).getProperty("heading") == "Log in to Simkl"


def test_v2_logout_revokes_the_refresh_token_and_forgets_the_login(kodi, v2_logged_in, monkeypatch):
    refresh = saved_login(kodi)["refresh_token"]

    log_out(kodi, monkeypatch)

    [revoke] = v2_logged_in.requests_to("/oauth2/revoke")
    assert revoke.json["token"] == refresh
    assert refresh not in v2_logged_in.refresh_tokens
    assert_not_logged_in(kodi)
    assert kodi.notifications[-1][1] == kodi.string(32040)


def test_v2_logout_with_simkl_unreachable_still_forgets_the_login(kodi, v2_logged_in, monkeypatch):
    v2_logged_in.stop()
    log_out(kodi, monkeypatch)
    assert_not_logged_in(kodi)
    assert ok_messages(kodi) == []


@pytest.mark.parametrize("trouble, message", [
    (network_down, 32036), (lambda s: s.fail("/oauth2/device", 503), 32036),
    (lambda s: s.fail("/oauth2/device", 200, body=b"not json"), 32038),
    (lambda s: s.fail("/oauth2/device", 412), 32037)])
def test_v2_bad_answers_end_in_a_clear_message_without_an_exception(kodi, v2, monkeypatch, trouble, message):
    trouble(v2)
    run_default(monkeypatch, "login")
    assert ok_messages(kodi) == [kodi.string(message)]
    assert_not_logged_in(kodi)


def test_the_login_keeps_simkls_account_id_which_names_whose_watches_are_queued(kodi, simkl, monkeypatch):
    simkl.approve_after_polls = 1
    run_default(monkeypatch, "login")
    login = saved_login(kodi)
    # POST /users/settings: account.id (api.simkl.org ref/simkl/get-user-settings)
    assert (login["account_id"], login["user_name"]) == (12345, "jane_doe")
