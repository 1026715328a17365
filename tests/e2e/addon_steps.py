"""Steps on the add-on under test that scenarios share: its id, its start line, login, a clean quit."""
import re
import time
from typing import Dict, List, Optional

from .kodi_harness import Kodi, KodiError

ADDON_ID = "service.scrobbler.simkl"
SERVICE_STARTED = r"service\.scrobbler\.simkl.*\bstarted\b"
LOGIN_WINDOW = "script-simkl-login.xml"  # the login dialog: a window of the add-on's own skin
ACCOUNT_SHOWN = r"\[service\.scrobbler\.simkl\] the Account settings now show: "


def simkl_env(fake) -> Dict[str, str]:
    """Kodi's environment that points the add-on at a fake Simkl server (tests/fake_simkl.py)."""
    return {"SIMKL_API_URL": fake.url, "SIMKL_CLIENT_ID": fake.client_id}


def wait_for_requests(fake, path: str, count: int, timeout: float = 20, status: Optional[int] = None) -> list:
    """The requests to `path` (with that answer status, if given) once there are at least `count`."""
    def found():
        requests = [r for r in fake.requests_to(path) if status is None or r.status == status]
        return requests if len(requests) >= count else None
    requests = Kodi.wait_until(found, timeout, interval=0.1)
    if requests is None:
        raise AssertionError("fewer than %d requests to %s%s within %ss; received:\n%s"
                             % (count, path, "" if status is None else " answered %d" % status, timeout,
                                fake.log_text() or "(none)"))
    return requests


def login(kodi: Kodi, fake, timeout: float = 20) -> None:
    """Run the add-on's login action and approve its code on the fake Simkl; returns once the dialog closed
    and the service has shown the login in the settings."""
    shown_before = len(re.findall(ACCOUNT_SHOWN + "logged in", kodi.log_text()))
    kodi.run_addon(ADDON_ID, "login")
    if not kodi.wait_for_window(LOGIN_WINDOW, timeout):
        raise KodiError("the login dialog did not open\n" + kodi.log_tail())
    fake.approve_pin()
    if not kodi.wait_until(lambda: not kodi.window_active(LOGIN_WINDOW), timeout):
        raise KodiError("the login dialog did not close after the code was approved\n" + kodi.log_tail())
    if not kodi.wait_until(lambda: len(re.findall(ACCOUNT_SHOWN + "logged in", kodi.log_text())) > shown_before,
                           timeout):
        raise KodiError("the service did not take over the login\n" + kodi.log_tail())


def quit_cleanly(kodi: Kodi, timeout: float = 20) -> None:
    """Application.Quit, then assert what a user would notice: an exit with code 0 within `timeout` seconds,
    no script killed at quit ("didn't stop in 5 seconds"), no Python error in kodi.log of any run."""
    code = kodi.stop(timeout)
    assert code == 0, "Kodi exited with code %s\n%s" % (code, kodi.log_tail())
    assert not kodi.slow_stops(), "a script had to be killed at quit:\n" + "\n".join(kodi.slow_stops())
    kodi.assert_no_python_errors()


# -- GUI steps (a user with a remote: Up/Down/Select, read the focused label) --------------------
def focused_label(kodi: Kodi) -> str:
    """The label of the focused control: a context-menu entry, a select-dialog line, a list item."""
    return kodi.info_labels("System.CurrentControl")["System.CurrentControl"]


def _first_label(kodi: Kodi, timeout: float = 5) -> str:
    """The focused label of a menu or list that has just opened (empty for a moment)."""
    return kodi.wait_until(lambda: focused_label(kodi), timeout, interval=0.05)


def menu_labels(kodi: Kodi, max_steps: int = 30) -> List[str]:
    """Every entry of the open menu or list, read by moving down until the focus wraps around (or stays)."""
    labels = [_first_label(kodi)]
    for _ in range(max_steps):
        kodi.send_input("Down")
        label = _settled_label(kodi, labels[-1])
        if label in (labels[0], labels[-1]):
            return labels
        labels.append(label)
    raise KodiError("the menu did not wrap around within %d steps: %r" % (max_steps, labels))


def pick(kodi: Kodi, label: str, max_steps: int = 30) -> List[str]:
    """Move down to the entry `label` and select it; returns the labels passed on the way."""
    seen = [_first_label(kodi)]
    for _ in range(max_steps):
        if seen[-1] == label:
            kodi.send_input("Select")
            return seen
        kodi.send_input("Down")
        seen.append(_settled_label(kodi, seen[-1]))
    raise KodiError("no entry %r; focus went through %r" % (label, seen))


def _settled_label(kodi: Kodi, previous: str, timeout: float = 2) -> str:
    """The focused label after a move: it changes within a moment (a one-entry list never changes)."""
    deadline = time.monotonic() + timeout
    while True:
        label = focused_label(kodi)
        if label != previous or time.monotonic() > deadline:
            return label
        time.sleep(0.05)


def open_movie_context_menu(kodi: Kodi, title: str, timeout: float = 15) -> None:
    """Videos > Movies > Titles, focus the movie titled `title`, and open its context menu."""
    _open_context_menu(kodi, "videodb://movies/titles/", "movie", title, timeout)


def open_show_context_menu(kodi: Kodi, title: str, timeout: float = 15) -> None:
    """Videos > TV shows > Titles, focus the show titled `title`, and open its context menu."""
    _open_context_menu(kodi, "videodb://tvshows/titles/", "show", title, timeout)


def _open_context_menu(kodi: Kodi, folder: str, kind: str, title: str, timeout: float) -> None:
    kodi.call("GUI.ActivateWindow", {"window": "videos", "parameters": [folder]})

    def listed():
        labels = kodi.info_labels("Container.FolderPath", "Container.NumItems")
        return labels["Container.FolderPath"] == folder and labels["Container.NumItems"] not in ("", "0")

    if not kodi.wait_until(listed, timeout):
        raise KodiError("the %s titles list did not open\n%s" % (kind, kodi.log_tail()))
    for _ in range(10):
        if kodi.info_labels("ListItem.Label")["ListItem.Label"] == title:
            break
        kodi.send_input("Down")
        time.sleep(0.2)
    else:
        raise KodiError("no %s %r in the titles list" % (kind, title))
    kodi.send_input("ContextMenu")
    if not kodi.wait_for_window("contextmenu", timeout):
        raise KodiError("the context menu did not open\n" + kodi.log_tail())


def back_to_settings(kodi: Kodi) -> None:
    """Close open dialogs and return to the Settings window (the profile's start window), never Home."""
    kodi.close_dialogs()
    kodi.call("GUI.ActivateWindow", {"window": "settings"})
    if not kodi.wait_until(lambda: kodi.window_active("settings"), 10):
        raise KodiError("the Settings window did not open\n" + kodi.log_tail())


# The status view: the add-on's window resources/skins/default/1080i/script-simkl-status.xml.
STATUS_WINDOW = "script-simkl-status.xml"
STATUS_INFO = {"heading": 1, "account": 10, "last_sync": 17, "counts": 11, "next_try": 12, "why": 13,
               "waiting_heading": 14, "waiting": 15, "problem": 16}  # labels and text boxes
STATUS_ACTIONS = {"retry": 21, "login": 22, "attention": 23, "handover": 26, "sync": 24, "end_session": 25,
                  "close": 29}  # buttons, in the order the view shows them
RETRY_OUTCOME = r"\[service\.scrobbler\.simkl\] Retry now: "
RETRY_ALL_OUTCOME = r"\[service\.scrobbler\.simkl\] Retry all: "


def open_status_view(kodi: Kodi, timeout: float = 15) -> None:
    kodi.run_addon(ADDON_ID, "status")
    if not kodi.wait_for_window(STATUS_WINDOW, timeout):
        raise KodiError("the status view did not open\n" + kodi.log_tail())
    if not kodi.wait_until(lambda: focused_label(kodi), timeout):  # filled in by the add-on's onInit
        raise KodiError("the status view shows no action\n" + kodi.log_tail())


def status_view(kodi: Kodi, timeout: float = 5) -> Dict[str, str]:
    """What the open status view shows: {name: text} of its visible information and, under "actions",
    the labels of its visible buttons joined by " | " in their order.

    The add-on shows a control only with a text, but Kodi applies a Python setText/setLabel a moment
    later (a message to the GUI thread) than setVisible: read again until no visible control is empty
    (seen in Kodi 21.2: a text box read '' while visible)."""
    return kodi.wait_until(lambda: _status_view_settled(kodi), timeout, interval=0.1) or _status_view_once(kodi)


def _status_view_settled(kodi: Kodi) -> Optional[Dict[str, str]]:
    shown = _status_view_once(kodi)
    texts = [text for name, text in shown.items() if name != "actions"] + shown["actions"].split(" | ")
    return shown if all(texts) else None


def _status_view_once(kodi: Kodi) -> Dict[str, str]:
    names = list(STATUS_INFO) + list(STATUS_ACTIONS)
    ids = dict(STATUS_INFO, **STATUS_ACTIONS)
    labels = kodi.info_labels(*["Control.GetLabel(%d)" % ids[name] for name in names])
    visible = kodi.call("XBMC.GetInfoBooleans", {"booleans": ["Control.IsVisible(%d)" % ids[name] for name in names]})
    shown = {name: labels["Control.GetLabel(%d)" % ids[name]] for name in names
             if visible["Control.IsVisible(%d)" % ids[name]]}
    info = {name: text for name, text in shown.items() if name in STATUS_INFO}
    info["actions"] = " | ".join(text for name, text in shown.items() if name in STATUS_ACTIONS)
    return info


def choose_in_status_view(kodi: Kodi, label: str) -> None:
    """Move the focus to the status view's button `label` (Down through its buttons) and select it."""
    pick(kodi, label, max_steps=len(STATUS_ACTIONS) + 1)


def retry_outcomes(kodi: Kodi) -> List[str]:
    """The outcome of each Retry now so far, as the add-on logged it when it told the user."""
    return re.findall(RETRY_OUTCOME + r"(.*)", kodi.log_text())


def retry_all_outcomes(kodi: Kodi) -> List[str]:
    """The outcome of each Retry all (Needs attention) so far, as the add-on logged it when it told the user."""
    return re.findall(RETRY_ALL_OUTCOME + r"(.*)", kodi.log_text())


def status_view_retry(kodi: Kodi, timeout: float = 40) -> Dict[str, str]:
    """Open the status view, choose Retry now, wait until the add-on tells the outcome, close the view.
    Returns what the view showed before the retry, with the outcome under "outcome"."""
    told = len(retry_outcomes(kodi))
    open_status_view(kodi)
    shown = status_view(kodi)
    choose_in_status_view(kodi, "Retry now")
    if not kodi.wait_until(lambda: len(retry_outcomes(kodi)) > told, timeout):
        raise KodiError("no outcome of Retry now within %ss\n" % timeout + kodi.log_tail())
    shown["outcome"] = retry_outcomes(kodi)[told]
    close_status_view(kodi)
    return shown


def close_status_view(kodi: Kodi, timeout: float = 10) -> None:
    choose_in_status_view(kodi, "Close")
    if not kodi.wait_until(lambda: not kodi.window_active(STATUS_WINDOW), timeout):
        raise KodiError("the status view stayed open after Close\n" + kodi.log_tail())
