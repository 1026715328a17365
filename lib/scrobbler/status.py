"""The status view: account, queue counts, the last problem in plain words, and what the user can do.

"Needs attention" lists every entry only the user can move on: a watch no title was found for,
a title Simkl does not know, an entry Simkl refused (with its reason), and an entry still failing
after several tries; each can be retried or discarded.
"""
import os
import time

from . import config, kodi
from .account import account_line, token_store
from .flush import ERR_AUTH, ERR_CONFIG, ERR_NETWORK, ERR_RATE, ERR_SERVER, ERR_SESSION, ERR_UNEXPECTED
from .outbox import NOT_FOUND, PENDING, REFUSED, UNIDENTIFIED, UNRESOLVED, Outbox
from .rewatch import Sessions

ERROR_STRINGS = {ERR_NETWORK: 32036, ERR_SERVER: 32220, ERR_RATE: 32037, ERR_AUTH: 32041, ERR_CONFIG: 32039,
                 ERR_UNEXPECTED: 32222, ERR_SESSION: 32223}


def open_outbox(clock=time.time):
    return Outbox(os.path.join(kodi.profile_dir(), config.OUTBOX_FILE), clock=clock, log=kodi.warn)


def request_flush():
    """Wake the service's sender (it runs in another interpreter) through a Kodi notification."""
    kodi.jsonrpc("JSONRPC.NotifyAll", {"sender": config.ADDON_ID, "message": config.FLUSH_MESSAGE})


def problem_text(code):
    return kodi.localize(ERROR_STRINGS[code]) if code in ERROR_STRINGS else code


def reason_text(entry):
    """Why an entry needs the user, in the user's language."""
    if entry.state == UNIDENTIFIED:
        return kodi.localize(32235)
    if entry.state == NOT_FOUND:
        return kodi.localize(32236)
    if entry.state == REFUSED:
        return kodi.localize(32237, entry.reason or "?")
    return kodi.localize(32238, problem_text(entry.reason))


def summary_lines(outbox):
    data = token_store().load()
    if data.get("access_token"):
        lines = [account_line(data.get("user_name") or "?", data.get("account_type") or "free")]
    else:
        lines = [kodi.localize(32020)]
    counts = outbox.counts()
    waiting = counts[PENDING] + counts[UNRESOLVED]
    lines.append(kodi.localize(32210, waiting))
    lines.append(kodi.localize(32211, counts["sent"]))
    active = len(Sessions(kodi.profile_dir()).all())
    if active:
        lines.append(kodi.localize(32316, active))
    error = outbox.last_error() if counts[PENDING] else None
    if error in ERROR_STRINGS:
        lines.append(kodi.localize(32213, problem_text(error)))
    return lines, counts


def show():
    with open_outbox() as outbox:
        while True:
            lines, _ = summary_lines(outbox)
            attention = outbox.attention()
            actions = [(kodi.localize(32214), "retry")]
            if kodi.setting_bool("logged_in"):
                actions.append((kodi.localize(32415), "sync"))
            if attention:
                actions.append((kodi.localize(32234, len(attention)), "attention"))
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
            elif action == "sync":
                kodi.jsonrpc("JSONRPC.NotifyAll", {"sender": config.ADDON_ID, "message": config.SYNC_MESSAGE})
                kodi.notify(kodi.localize(32400))
                return
            elif action == "retry":
                outbox.retry_now()
                request_flush()
                kodi.notify(kodi.localize(32218))
                return
            else:
                needs_attention(outbox)


def needs_attention(outbox):
    """The entries only the user can move on: each can be retried or discarded, or all at once."""
    while True:
        entries = outbox.attention()
        if not entries:
            return
        heading = kodi.localize(32234, len(entries))
        rows = ["%s — %s" % (entry.label, reason_text(entry)) for entry in entries]
        choice = kodi.select_dialog(heading, [kodi.localize(32239), kodi.localize(32240)] + rows)
        if choice < 0:
            return
        if choice == 0:
            outbox.retry_attention()
            request_flush()
            kodi.notify(kodi.localize(32218))
            return
        if choice == 1:
            if kodi.yesno_dialog(kodi.localize(32243, len(entries))):
                outbox.discard_attention()
            continue
        entry = entries[choice - 2]
        what = kodi.select_dialog(entry.label, [kodi.localize(32241), kodi.localize(32242)])
        if what == 0:
            outbox.retry_attention([entry.id])
            request_flush()
        elif what == 1 and kodi.yesno_dialog(kodi.localize(32243, 1)):
            outbox.discard_attention([entry.id])
