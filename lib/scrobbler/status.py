"""The status view: account, queue counts, the last problem in plain words, and what the user can do."""
import json
import os
import time

from . import config, kodi
from .account import account_line, token_store
from .flush import ERR_AUTH, ERR_CONFIG, ERR_NETWORK, ERR_RATE, ERR_REJECTED, ERR_SERVER
from .outbox import Outbox
from .rewatch import Sessions

ERROR_STRINGS = {ERR_NETWORK: 32036, ERR_SERVER: 32220, ERR_RATE: 32037, ERR_AUTH: 32041, ERR_REJECTED: 32221,
                 ERR_CONFIG: 32039}


def open_outbox(clock=time.time):
    return Outbox(os.path.join(kodi.profile_dir(), config.OUTBOX_FILE), clock=clock, log=kodi.warn)


def request_flush():
    """Wake the service's sender (it runs in another interpreter) through a Kodi notification."""
    kodi.jsonrpc("JSONRPC.NotifyAll", {"sender": config.ADDON_ID, "message": config.FLUSH_MESSAGE})


def unidentified():
    try:
        with open(os.path.join(kodi.profile_dir(), config.UNIDENTIFIED_FILE), encoding="utf-8") as handle:
            return [str(i.get("title")) for i in json.load(handle) if isinstance(i, dict)]
    except (OSError, ValueError):
        return []


def summary_lines(outbox):
    data = token_store().load()
    if data.get("access_token"):
        lines = [account_line(data.get("user_name") or "?", data.get("account_type") or "free")]
    else:
        lines = [kodi.localize(32020)]
    counts = outbox.counts()
    lines.append(kodi.localize(32210, counts["pending"]))
    lines.append(kodi.localize(32211, counts["sent"]))
    lines.append(kodi.localize(32212, counts["not_found"]))
    active = len(Sessions(kodi.profile_dir()).all())
    if active:
        lines.append(kodi.localize(32316, active))
    error = outbox.last_error() if counts["pending"] else None
    if error in ERROR_STRINGS:
        lines.append(kodi.localize(32213, kodi.localize(ERROR_STRINGS[error])))
    return lines, counts


def show():
    with open_outbox() as outbox:
        while True:
            lines, counts = summary_lines(outbox)
            missing = unidentified()
            actions = [(kodi.localize(32214), "retry")]
            if counts["not_found"]:
                actions += [(kodi.localize(32215), "list_not_found"), (kodi.localize(32216), "discard")]
            if missing:
                actions.append((kodi.localize(32217, len(missing)), "list_unidentified"))
            sessions = Sessions(kodi.profile_dir())
            for show_key in sorted(sessions.all()):
                actions.append((kodi.localize(32317, sessions.label(show_key)), ("end_session", show_key)))
            choice = kodi.select_dialog(kodi.localize(32019), lines + [label for label, _ in actions])
            if choice < 0:
                return
            if choice < len(lines):
                continue
            action = actions[choice - len(lines)][1]
            if isinstance(action, tuple):
                label = sessions.label(action[1])
                sessions.end(action[1])
                kodi.notify(kodi.localize(32318, label))
                continue
            if action == "retry":
                outbox.retry_now()
                request_flush()
                kodi.notify(kodi.localize(32218))
                return
            if action == "list_not_found":
                kodi.text_viewer(kodi.localize(32215), "\n".join(outbox.not_found_items()))
            elif action == "discard":
                if kodi.yesno_dialog(kodi.localize(32219, counts["not_found"])):
                    outbox.discard_not_found()
            elif action == "list_unidentified":
                kodi.text_viewer(kodi.localize(32217, len(missing)), "\n".join(missing))
