"""The login dialog: a window of the add-on's own skin (resources/skins/default/1080i/script-simkl-login.xml)
with the code in large letters, a QR code made on the device of the address that fills the code in (Simkl's
own with the device login, the PIN page's with the PIN login), and the time left.

While a code shows, OK on a remote keeps the login waiting (the focus rests on a control that does
nothing) and Back cancels. A code that can no longer be used is said in the same window, which offers
*Get a new code* (focused) and *Cancel*."""
import glob
import os
import time

import xbmcgui

from .. import kodi
from ..simkl import auth
from . import qr

WINDOW_XML = "script-simkl-login.xml"
CANCEL_BUTTON = 10
WAIT_FOCUS = 11  # where the focus rests while a code shows: a click there does nothing
NEW_CODE_BUTTON = 12
# The window's `state` property, which the skin's visible conditions read.
WAITING, EXPIRED, ASKING = "waiting", "expired", "asking"
# Back, Escape and the parent-folder key close it (Kodi's ACTION_PREVIOUS_MENU, ACTION_NAV_BACK, ACTION_PARENT_DIR).
CLOSE_ACTIONS = (xbmcgui.ACTION_PREVIOUS_MENU, xbmcgui.ACTION_NAV_BACK, xbmcgui.ACTION_PARENT_DIR)
QR_PREFIX = "login-qr-"
UNUSABLE_CODE = {"expired": 32842, "code_gone": 32843}  # why a code can no longer be used, in words
CHOICE_POLL = 0.2  # seconds between looks at the user's choice on an expired code


class LoginWindow(xbmcgui.WindowXMLDialog):
    """Shown with show(), not doModal(): the login flow polls Simkl on this thread meanwhile."""

    def __init__(self, *args, **kwargs):
        self.cancelled = False
        self.new_code = False

    def onAction(self, action):
        if action.getId() in CLOSE_ACTIONS:
            self.cancelled = True

    def onClick(self, controlId):
        if controlId == CANCEL_BUTTON:
            self.cancelled = True
        elif controlId == NEW_CODE_BUTTON and self.getProperty("state") == EXPIRED:
            self.new_code = True

    def focus(self, control_id):
        # setVisible(True) has Kodi read the control's visible condition at once, ahead of the focus message,
        # so the focus can move to it before the next frame (xbmc/guilib/GUIControl.cpp SetVisible).
        self.getControl(control_id).setVisible(True)
        self.setFocusId(control_id)


def pin_address(url, user_code):
    """What the QR code opens: the PIN page with the code filled in (https://simkl.com/pin/CODE)."""
    return "%s/%s" % (url.rstrip("/"), user_code)


class DialogLoginUI(auth.LoginUI):
    def __init__(self, heading=None):
        """heading: the window's heading, "Log in to Simkl" unless given."""
        self._window = None
        self._folder = kodi.profile_dir()
        self._heading = heading or kodi.localize(32030)

    def show_code(self, user_code, url, link=None):
        self._remove_qr_files()
        address = url.replace("https://", "").replace("http://", "").rstrip("/")
        window = self._window or LoginWindow(WINDOW_XML, kodi.addon_path(), "default", "1080i")
        window.setProperty("heading", self._heading)
        window.setProperty("intro", kodi.localize(32561, address))
        window.setProperty("code", user_code)
        window.setProperty("time_left", "")
        window.setProperty("message", "")
        window.setProperty("hint", kodi.localize(32840))
        window.setProperty("new_code", kodi.localize(32841))
        window.setProperty("state", WAITING)
        # A new file name for each code: Kodi caches images by their path.
        path = qr.write_png(link or pin_address(url, user_code), self._folder, "%s%s.png" % (QR_PREFIX, user_code))
        window.setProperty("qr", path or "")
        if path is None:
            kodi.log("no QR code for the login: script.module.pyqrcode is not available")
        if self._window is None:
            window.show()
            self._window = window
        else:
            window.focus(WAIT_FOCUS)

    def wait(self, seconds, seconds_left, total):
        end = time.monotonic() + seconds
        while True:
            left = max(0, seconds_left - (seconds - (end - time.monotonic())))
            minutes, secs = divmod(int(left), 60)
            self._window.setProperty("time_left", kodi.localize(32562, "%d:%02d" % (minutes, secs)))
            if self._window.cancelled or kodi.abort_requested():
                return False
            remaining = end - time.monotonic()
            if remaining <= 0:
                return True
            kodi.sleep(min(0.5, remaining))

    def offer_new_code(self, reason):
        window = self._window
        window.setProperty("state", EXPIRED)
        window.setProperty("message", kodi.localize(UNUSABLE_CODE[reason]))
        for name in ("intro", "code", "qr", "time_left"):
            window.setProperty(name, "")
        window.setProperty("hint", kodi.localize(32844))
        self._remove_qr_files()
        window.new_code = False
        window.focus(NEW_CODE_BUTTON)
        while not (window.new_code or window.cancelled or kodi.abort_requested()):
            kodi.sleep(CHOICE_POLL)
        if not window.new_code or window.cancelled:
            return False
        # One request for a new code: the button is gone (a second OK lands on the resting control).
        window.setProperty("state", ASKING)
        window.setProperty("message", kodi.localize(32845))
        window.setProperty("hint", "")
        window.focus(WAIT_FOCUS)
        return True

    def close(self):
        if self._window is not None:
            self._window.close()
            self._window = None
        self._remove_qr_files()

    def _remove_qr_files(self):
        for path in glob.glob(os.path.join(self._folder, QR_PREFIX + "*.png")):
            try:
                os.remove(path)
            except OSError:
                pass
