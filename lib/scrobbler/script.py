"""RunScript and context-menu actions: `default.py [action [settings]]`; no action opens the status view.

A script never writes the add-on's settings (the service is their only writer): after a login or a
logout it hands over to the service (account.tell_service) and waits until the service has mirrored
token.json into the settings. With the extra argument `settings` (the Account page's buttons, which
close the settings dialog) the settings are opened again once that is done.
"""
import sys
import time

from . import auth, config, kodi
from .account import account_line, make_client, tell_service, token_store

LOGIN_MESSAGES = {
    "expired": 32033, "code_gone": 32034, "denied": 32035, "network": 32036, "busy": 32037,
    "malformed": 32038, "not_configured": 32039, "bad_client": 32042,
}


class DialogLoginUI(auth.LoginUI):
    """The login flow's screen: a progress dialog with the code large, the address and the time left."""

    def __init__(self, monitor=None):
        self._dialog = None
        self._code_text = ""
        self._monitor = monitor

    def show_code(self, user_code, url):
        address = url.replace("https://", "").replace("http://", "")
        self._code_text = "%s[CR][CR][B][COLOR yellow]%s[/COLOR][/B]" % (kodi.localize(32031, address), user_code)
        self._dialog = kodi.Progress(kodi.localize(32030), self._code_text)

    def wait(self, seconds, seconds_left, total):
        end = time.monotonic() + seconds
        while True:
            left = max(0, seconds_left - (seconds - (end - time.monotonic())))
            minutes, secs = divmod(int(left), 60)
            self._dialog.update(100 * left / total if total else 0,
                                "%s[CR]%s" % (self._code_text, kodi.localize(32032, "%d:%02d" % (minutes, secs))))
            if self._dialog.cancelled() or kodi.abort_requested():
                return False
            remaining = end - time.monotonic()
            if remaining <= 0:
                return True
            kodi.sleep(min(0.5, remaining))

    def close(self):
        if self._dialog is not None:
            self._dialog.close()
            self._dialog = None


def login(from_settings=False):
    store = token_store()
    client = make_client(store)
    result = auth.login(client, store, DialogLoginUI(), config.auth_flow(), pin_url=config.PIN_URL, log=kodi.log)
    if result.outcome == "ok":
        tell_service()
        kodi.notify(account_line(result.user_name, result.account_type))
    elif result.outcome != "cancelled":
        kodi.ok_dialog(kodi.localize(LOGIN_MESSAGES[result.outcome]), kodi.localize(32030))
    if from_settings:
        kodi.open_settings()


def logout(from_settings=False):
    if kodi.yesno_dialog(kodi.localize(32560)):
        store = token_store()
        auth.logout(make_client(store), store, log=kodi.log)
        tell_service()
        kodi.notify(kodi.localize(32040))
    if from_settings:
        kodi.open_settings()


def status():
    from . import status as status_view
    status_view.show()


def rewatch():
    """Context menu "Rewatch on Simkl": record a new viewing, only after the user says yes."""
    from . import rewatch_action
    rewatch_action.run(getattr(sys, "listitem", None))


def sync():
    """Settings → Sync now: the service runs it (one sync at a time, in the service)."""
    kodi.jsonrpc("JSONRPC.NotifyAll", {"sender": config.ADDON_ID, "message": config.SYNC_MESSAGE})


def send_history():
    """Settings → Send Kodi's watched history to Simkl: the service runs it."""
    kodi.jsonrpc("JSONRPC.NotifyAll", {"sender": config.ADDON_ID, "message": config.IMPORT_MESSAGE})


ACTIONS = {"login": login, "logout": logout, "status": status, "rewatch": rewatch, "sync": sync,
           "import": send_history}


FROM_SETTINGS = {"login", "logout"}  # actions the Account page runs with the argument "settings"


def run(argv=None):
    argv = sys.argv if argv is None else argv
    action = argv[1] if len(argv) > 1 else "status"  # opened from Kodi's add-on list: the status view
    handler = ACTIONS.get(action)
    if handler is None:
        kodi.log("unknown action %r; known: %s" % (action, ", ".join(sorted(ACTIONS))))
        kodi.open_settings()
        return
    if action in FROM_SETTINGS:
        handler(from_settings=argv[2:3] == ["settings"])
    else:
        handler()
