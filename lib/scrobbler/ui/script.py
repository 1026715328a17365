"""RunScript and context-menu actions: `default.py [action [settings]]`; no action opens the status view.

A script never writes the add-on's settings (the service is their only writer): after a login or a
logout it hands over to the service (account.tell_service) and waits until the service has mirrored
token.json into the settings. With the extra argument `settings` (the Account page's buttons, which
close the settings dialog) the settings are opened again once that is done.
"""
import sys

from .. import config, kodi
from ..simkl import auth
from ..simkl.account import account_line, make_client, tell_service, token_store

LOGIN_MESSAGES = {
    "expired": 32033, "code_gone": 32034, "denied": 32035, "network": 32036, "busy": 32037,
    "malformed": 32038, "not_configured": 32039, "bad_client": 32042,
}


def login(from_settings=False):
    store = token_store()
    client = make_client(store)
    from .login_dialog import DialogLoginUI
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
    from ..rewatch import action as rewatch_action
    rewatch_action.run(getattr(sys, "listitem", None))


def sync():
    """Settings → Sync now: the service runs it (one sync at a time, in the service)."""
    kodi.jsonrpc("JSONRPC.NotifyAll", {"sender": config.ADDON_ID, "message": config.SYNC_MESSAGE})


def send_history():
    """Settings → Send Kodi's watched history to Simkl: the service runs it."""
    kodi.jsonrpc("JSONRPC.NotifyAll", {"sender": config.ADDON_ID, "message": config.IMPORT_MESSAGE})


ACTIONS = {"login": login, "logout": logout, "status": status, "rewatch": rewatch, "sync": sync,
           "import": send_history, "settings": kodi.open_settings}


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
