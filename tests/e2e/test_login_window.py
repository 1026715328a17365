"""The login window with a remote, in a real Kodi: OK (Select) while the code shows keeps the login waiting;
a code that expires is said in the same window, with *Get a new code* focused; Select there shows a new code
and its QR code in that window, and the login then completes with it. On the PIN login (`SIMKL_AUTH=v1`), whose
codes the fake Simkl lets expire on a GET poll; tests/test_login.py has the device login's (the default) too."""
import io
import re

import pytest
import zxingcpp
from PIL import Image

from .addon_steps import ACCOUNT_SHOWN, ADDON_ID, LOGIN_WINDOW, focused_label, quit_cleanly, simkl_env

pytestmark = pytest.mark.e2e

FIRST_CODE_LIVES = 20  # seconds: long enough to open the window and press OK; the fake Simkl's are 60
RESTING_FOCUS = 11  # the control Kodi focuses while a code shows (script-simkl-login.xml)
CODE, INTRO, TIME_LEFT, QR, MESSAGE = 3, 2, 4, 5, 7


def labels(kodi, *control_ids):
    answer = kodi.info_labels(*["Control.GetLabel(%d)" % c for c in control_ids])
    return [answer["Control.GetLabel(%d)" % c] for c in control_ids]


def holds(kodi, condition):
    return bool(kodi.call("XBMC.GetInfoBooleans", {"booleans": [condition]})[condition])


def newest_code(fake):
    return list(fake.pins)[-1] if fake.pins else None


def qr_text(kodi, code):
    data = (kodi.addon_data(ADDON_ID) / ("login-qr-%s.png" % code)).read_bytes()
    [found] = zxingcpp.read_barcodes(Image.open(io.BytesIO(data)))
    return found.text


def test_ok_keeps_the_login_waiting_and_an_expired_code_is_renewed_in_the_same_window(make_kodi, fake):
    kodi = make_kodi(env=dict(simkl_env(fake), SIMKL_AUTH="v1"), library=False)
    fake.pin_expires_in = FIRST_CODE_LIVES
    # a poll a second: unlikely to fall between the fake's expiry and the add-on's own, a few ms later (a code
    # Simkl forgot is said in other words; tests/test_login.py has both)
    fake.pin_interval = 1
    kodi.run_addon(ADDON_ID, "login")
    assert kodi.wait_for_window(LOGIN_WINDOW, 30), "the login window did not open\n" + kodi.log_tail()
    assert kodi.wait_until(lambda: fake.pins, 10), "the add-on asked Simkl for no code"
    first = newest_code(fake)
    assert kodi.wait_until(lambda: labels(kodi, CODE) == [first], 10), labels(kodi, CODE)

    # OK on the remote: the focus rests on a control that does nothing, so the login goes on waiting
    assert holds(kodi, "Control.HasFocus(%d)" % RESTING_FOCUS)
    polls_before = len(fake.requests_to("/oauth/pin/" + first))
    kodi.send_input("Select")
    assert kodi.wait_until(lambda: len(fake.requests_to("/oauth/pin/" + first)) > polls_before + 2, 10), \
        "the login stopped polling after Select\n" + kodi.log_tail()
    assert kodi.window_active(LOGIN_WINDOW)
    assert labels(kodi, TIME_LEFT)[0].endswith(" left")
    assert "login ended" not in kodi.log_text()

    # the code expires: the window says so and offers a new one, focused
    assert kodi.wait_until(lambda: focused_label(kodi) == "Get a new code", FIRST_CODE_LIVES + 20), \
        "no focused Get a new code after the expiry: %r\n%s" % (focused_label(kodi), kodi.log_tail())
    assert labels(kodi, MESSAGE, INTRO, CODE) == ["This code has expired. Get a new code to try again.", "", ""]
    assert not holds(kodi, "Control.IsVisible(%d)" % QR)
    assert kodi.window_active(LOGIN_WINDOW)

    fake.pin_expires_in = 600
    kodi.send_input("Select")
    assert kodi.wait_until(lambda: newest_code(fake) not in (None, first), 15), "no new code was asked for"
    second = newest_code(fake)
    assert kodi.wait_until(lambda: labels(kodi, CODE) == [second], 10), labels(kodi, CODE)
    assert kodi.wait_until(lambda: holds(kodi, "Control.IsVisible(%d)" % QR), 5), "the new code has no QR code"
    assert qr_text(kodi, second) == "https://simkl.com/pin/" + second
    assert holds(kodi, "Control.HasFocus(%d)" % RESTING_FOCUS)
    assert len(fake.requests_to("/oauth/pin")) == 2  # the first code and one new one

    fake.approve_pin()
    assert kodi.wait_until(lambda: not kodi.window_active(LOGIN_WINDOW), 20), "the login window stayed open"
    assert kodi.wait_until(lambda: re.search(ACCOUNT_SHOWN + "logged in", kodi.log_text()), 20), \
        "the service did not take over the login\n" + kodi.log_tail()
    assert kodi.addon_settings(ADDON_ID).get("account_status") == "Logged in as jane_doe (PRO)"
    quit_cleanly(kodi)
