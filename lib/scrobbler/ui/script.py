"""RunScript and context-menu actions: `default.py [action [settings]]`; no action opens the status view.

Login and logout are in login.py; with the extra argument `settings` (the Account page's buttons) they
open the settings again when done.
"""
import sys

from .. import config, kodi
from .login import login, logout


def status():
    from . import status as status_view
    status_view.show()


def rewatch():
    """Context menu "Rewatch on Simkl": record a new viewing, only after the user says yes."""
    from ..rewatch import action as rewatch_action
    rewatch_action.run(getattr(sys, "listitem", None))


def sync():
    """Settings → Sync now: the service runs it (one sync at a time, in the service)."""
    kodi.hand_over(config.SYNC_MESSAGE)


def send_history():
    """Settings → Send Kodi's watched history to Simkl: the service runs it."""
    kodi.hand_over(config.IMPORT_MESSAGE)


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
