"""The Account page tells the truth in a real Kodi: on a fresh install, after the login (shown large,
with a QR code, handed to the service, which alone writes the settings), after the settings'
Defaults button, and after a logout that asks first; opening the add-on from the add-on list opens
the status view."""
import re
import time

import pytest
import zxingcpp
from PIL import Image

from .addon_steps import ACCOUNT_SHOWN, ADDON_ID, LOGIN_WINDOW, focused_label, menu_labels, simkl_env, wait_for_requests

pytestmark = pytest.mark.e2e
THREAD = re.compile(r" T:(\d+) ")


@pytest.fixture(scope="module")
def kodi_env(fake):
    return simkl_env(fake)


def open_settings(kodi):
    """The add-on's settings, on the Account page, the focus in its list of settings."""
    kodi.close_dialogs()
    kodi.run_addon(ADDON_ID, "settings")
    assert kodi.wait_for_window("addonsettings", 15), "the settings did not open\n" + kodi.log_tail()
    assert kodi.wait_until(lambda: focused_label(kodi), 5), "nothing focused in the settings"


def account_buttons(kodi):
    """The Account page's rows a remote can reach (the read-only status lines are not focusable)."""
    open_settings(kodi)
    try:
        return menu_labels(kodi)
    finally:
        kodi.close_dialogs()


def move_to(kodi, label, key, steps=4):
    """Press `key` until `label` has the focus (a key pressed during a closing animation is ignored)."""
    for _ in range(steps * 3):
        if focused_label(kodi) == label:
            return
        kodi.send_input(key)
        kodi.wait_until(lambda: focused_label(kodi) == label, 0.6, interval=0.1)
    raise AssertionError("no %r in reach: %r has the focus" % (label, focused_label(kodi)))


def press_until_closed(kodi, window, label, tries=3):
    """Select `label` until `window` closes: a Select that lands in the moment after a dialog closed
    above it is dropped by Kodi (CI saw the settings stay open, unsaved, after one press of OK)."""
    for _ in range(tries):
        if not kodi.window_active(window):
            return
        assert focused_label(kodi) == label, "%r has the focus, not %r" % (focused_label(kodi), label)
        kodi.send_input("Select")
        if kodi.wait_until(lambda: not kodi.window_active(window), 2, interval=0.05):
            return
    raise AssertionError("%s stayed open after %d presses of %r" % (window, tries, label))


def stored(kodi):
    """The settings file as Kodi last wrote it."""
    return kodi.addon_settings(ADDON_ID)


def service_thread(kodi):
    """Kodi's thread id of the add-on's service (its interpreter runs the monitor's callbacks)."""
    [line] = [line for line in kodi.log_text().splitlines() if "] service starting" in line]
    return THREAD.search(line).group(1)


def account_lines(kodi):
    return [line for line in kodi.log_text().splitlines() if re.search(ACCOUNT_SHOWN, line)]


def test_a_fresh_install_offers_only_log_in(kodi):
    assert account_buttons(kodi) == ["Log in", "Status and queue"]
    assert stored(kodi).get("logged_in", "false") == "false"
    assert stored(kodi).get("account_status", "") == ""


def test_the_login_shows_the_code_large_with_a_qr_code_and_the_service_takes_it_over(kodi, fake):
    kodi.run_addon(ADDON_ID, "login")
    assert kodi.wait_for_window(LOGIN_WINDOW, 20), "the login dialog did not open\n" + kodi.log_tail()
    assert kodi.wait_until(lambda: fake.devices, 10)  # the device login: a build's default
    [code] = [state.code for state in fake.devices.values()]
    assert kodi.wait_until(lambda: kodi.info_labels("Control.GetLabel(3)")["Control.GetLabel(3)"] == code, 10)
    assert kodi.wait_until(lambda: "simkl.com/pin" in kodi.info_labels("Control.GetLabel(2)")["Control.GetLabel(2)"],
                           5), kodi.info_labels("Control.GetLabel(2)")
    assert kodi.call("XBMC.GetInfoBooleans", {"booleans": ["Control.IsVisible(5)"]})["Control.IsVisible(5)"]
    qr_file = kodi.addon_data(ADDON_ID) / ("login-qr-%s.png" % code)
    with Image.open(str(qr_file)) as image:
        [found] = zxingcpp.read_barcodes(image)
    assert found.text == "https://simkl.com/pin?user_code=" + code  # Simkl's verification_uri_complete

    fake.approve_pin()

    assert kodi.wait_until(lambda: not kodi.window_active(LOGIN_WINDOW), 20), "the login dialog stayed open"
    assert kodi.wait_until(lambda: stored(kodi).get("account_status") == "Logged in as jane_doe (PRO)", 10), \
        stored(kodi)
    assert kodi.wait_until(lambda: stored(kodi).get("logged_in"), 5) == "true"
    assert not qr_file.exists()
    # The settings were written by the service's interpreter, never by the login script's.
    [shown] = account_lines(kodi)
    assert THREAD.search(shown).group(1) == service_thread(kodi)
    [script_line] = [line for line in kodi.log_text().splitlines() if "] logged in (pro account)" in line]
    assert THREAD.search(script_line).group(1) != service_thread(kodi)
    assert "failed to load addon settings" not in kodi.log_text().lower()
    wait_for_requests(fake, "/users/settings", 1, status=200)


def test_when_logged_in_only_log_out_is_offered(kodi):
    assert account_buttons(kodi) == ["Log out", "Status and queue"]


def test_defaults_blank_the_status_and_the_service_puts_the_truth_back(kodi):
    before = len(account_lines(kodi))
    open_settings(kodi)
    try:
        move_to(kodi, "OK", "Right")  # the dialog's buttons: OK, Cancel, Defaults
        move_to(kodi, "Defaults", "Down")
        kodi.send_input("Select")
        assert kodi.wait_for_window("yesnodialog", 10), "Kodi did not ask before resetting"
        move_to(kodi, "Yes", "Left")
        kodi.send_input("Select")
        assert kodi.wait_until(lambda: not kodi.window_active("yesnodialog"), 10)
        move_to(kodi, "OK", "Up")
        press_until_closed(kodi, "addonsettings", "OK")  # OK: Kodi saves what Defaults reset, tells the service
        # Defaults took effect (the saved status was blank for a moment, or the service logged that it
        # wrote it again) and the truth is back; polled often, as the blank lasts a fraction of a second.
        seen = {"blank": False}

        def truth_back():
            status = stored(kodi).get("account_status")
            seen["blank"] = seen["blank"] or status == ""
            return (seen["blank"] or len(account_lines(kodi)) > before) and status == "Logged in as jane_doe (PRO)"
        assert kodi.wait_until(truth_back, 10, interval=0.05), (seen, stored(kodi))
        assert kodi.wait_until(lambda: not kodi.window_active("addonsettings"), 10)
    finally:
        kodi.close_dialogs()

    assert kodi.wait_until(lambda: stored(kodi).get("logged_in"), 5) == "true"
    assert account_buttons(kodi) == ["Log out", "Status and queue"]


def test_log_out_asks_first_and_no_keeps_the_login(kodi):
    kodi.run_addon(ADDON_ID, "logout")
    assert kodi.wait_for_window("yesnodialog", 15), "Log out did not ask\n" + kodi.log_tail()
    kodi.send_input("Back")  # No
    assert kodi.wait_until(lambda: not kodi.window_active("yesnodialog"), 10)
    time.sleep(1)  # what a wrong "yes" would do takes a moment; nothing must happen
    assert (kodi.addon_data(ADDON_ID) / "token.json").is_file()
    assert kodi.wait_until(lambda: stored(kodi).get("logged_in"), 5) == "true"


def test_log_out_confirmed_forgets_the_login_and_the_page_says_so(kodi):
    kodi.run_addon(ADDON_ID, "logout")
    assert kodi.wait_for_window("yesnodialog", 15), "Log out did not ask\n" + kodi.log_tail()
    move_to(kodi, "Yes", "Left")
    kodi.send_input("Select")
    assert kodi.wait_until(lambda: stored(kodi).get("logged_in") == "false" and
                           stored(kodi).get("account_status") == "", 10), stored(kodi)
    assert not (kodi.addon_data(ADDON_ID) / "token.json").exists()
    assert account_buttons(kodi) == ["Log in", "Status and queue"]


def test_opening_the_addon_from_the_addon_list_opens_the_status_view(kodi):
    kodi.close_dialogs()
    kodi.call("Addons.ExecuteAddon", {"addonid": ADDON_ID})  # what the add-on list does: no argument
    assert kodi.wait_until(lambda: kodi.call("XBMC.GetInfoBooleans", {"booleans": ["System.HasActiveModalDialog"]})[
        "System.HasActiveModalDialog"], 15), "no status view\n" + kodi.log_tail()
    assert not kodi.window_active("addonsettings")
    assert "unknown action" not in kodi.log_text()
    kodi.close_dialogs()


def test_no_settings_file_was_ever_unreadable(kodi):
    assert "failed to load addon settings" not in kodi.all_logs().lower()
