"""The status view (`default.py status`): the window of status_window.py, what its actions do, Needs attention.

What it shows and offers is decided in status_model.py. The open view follows what the service changes (the
queue, the login, the rewatch sessions, the last sync) by itself, within FOLLOW_EVERY. "Needs attention" lists
every entry only the user can move on: a watch no title was found for, a title Simkl does not know, an entry
Simkl refused (with its reason), and an entry still failing after several tries; each can be retried or
discarded, and a retry tells its outcome as Retry now does.
"""
import os
import sqlite3
import threading
import time

from .. import config, kodi
from ..counts import DISCARD_ENTRIES, count
from ..delivery.access import open_outbox, request_flush
from ..rewatch.sessions import SESSIONS_FILE, Sessions
from ..simkl.account import current_owner, token_store
from ..simkl.auth import TOKEN_FILE
from ..sync.state import STATE_FILE, SyncState
from . import status_model as model

# How long Retry now waits for its outcome: a request's connect and read timeouts, its pacing, and a lookup.
RETRY_WAIT = 30.0
RETRY_POLL = 0.25
# How often the open view looks whether what it shows changed, and whether Kodi quits (it then closes).
FOLLOW_EVERY = 0.5
# Besides the queue (Outbox.data_version), the files in the profile folder the view is made from.
SHOWN_FILES = (TOKEN_FILE, SESSIONS_FILE, STATE_FILE)


def await_outcome(outbox, before, clock=time.monotonic, wait=kodi.sleep, timeout=None):
    """What Retry now came to (status_model.Outcome): what came of it so far when the service did not finish
    in time; None when Kodi quits first."""
    deadline = clock() + (RETRY_WAIT if timeout is None else timeout)
    while not kodi.abort_requested():
        waited_out = clock() >= deadline
        result = model.outcome(before, outbox.states(before), waited_out)
        if result is not None:
            return result
        wait(RETRY_POLL)
    return None


class Controller:
    """The status view's actions, and the View it shows after each."""

    def __init__(self, outbox, clock=time.time):
        self.outbox = outbox
        self._clock = clock
        self._retries = []
        # The window is refreshed from its own thread, the Follower's and a retry's.
        self._showing = threading.Lock()
        self._changes = None  # what changes() gave when the snapshot was read
        self._snapshot = None
        self._shown = None

    def view(self):
        return model.build(self._read(), self._clock(), kodi.localize, kodi.format_time)

    def _read(self):
        profile = kodi.profile_dir()
        sessions = Sessions(profile)
        owner = current_owner()
        listed = [(key, sessions.label(key)) for key in sorted(sessions.all())
                  if sessions.of(key, owner.key if owner else None)]
        login = token_store().load()
        synced_at = SyncState(profile, str(login.get("user_name") or "")).synced_at if login.get("access_token") \
            else None
        return model.read(self.outbox, login, listed, synced_at)

    def changes(self):
        """Cheap to read, and different whenever what the view is made of changed: the queue file's data
        version (another connection committed) and the stamps of the files it reads."""
        profile = kodi.profile_dir()
        return (self.outbox.data_version(),) + tuple(_stamp(os.path.join(profile, name)) for name in SHOWN_FILES)

    def act(self, action, window):
        if action == model.RETRY:
            self.retry(window)
        elif action == model.LOGIN:
            from .login import login
            login()
        elif action == model.SYNC:
            kodi.hand_over(config.SYNC_MESSAGE)
            kodi.notify(kodi.localize(32400))
        elif action == model.NEEDS_ATTENTION:
            needs_attention(self.outbox, lambda ids, name: self.retried(ids, window, name))
        elif action == model.HANDOVER:
            from .handover import ask
            ask(self.outbox)
        elif action == model.END_SESSION:
            end_session()
        self.refresh(window)

    def refresh(self, window, reread=True):
        """Show the view as it is now; `reread` False: from what was read last (only the clock moved). The
        window is given a view only when it differs from the one it shows."""
        with self._showing:
            if not window.is_open:
                return
            if reread or self._snapshot is None:
                self._changes = self.changes()  # before the read: a change meanwhile is seen at the next look
                self._snapshot = self._read()
            view = model.build(self._snapshot, self._clock(), kodi.localize, kodi.format_time)
            if view != self._shown:
                window.show(view)
                self._shown = view

    def follow(self, window):
        """One look of the open view: the queue and the files are read again only when they changed."""
        self.refresh(window, reread=self.changes() != self._changes)

    def retry(self, window):
        """Everything waiting is due now and the service is woken; the outcome is told when it is known,
        without holding up the window (Close works meanwhile)."""
        before = model.before_retry(self.outbox)
        self.outbox.retry_now()
        request_flush()
        self._await(before, window, "Retry now")

    def retried(self, ids, window, name):
        """Retry all, or a row's Retry, made these entries wait again (the service is woken next): their
        outcome is told as Retry now's is."""
        self._await(model.before_retry(self.outbox, ids), window, name)

    def _await(self, before, window, name):
        worker = threading.Thread(target=self._tell_outcome, args=(before, window, name), name="simkl-retry-outcome")
        self._retries.append(worker)
        worker.start()

    def _tell_outcome(self, before, window, name):
        result = await_outcome(self.outbox, before)
        if result is None or kodi.abort_requested():
            return  # Kodi is quitting: nothing to tell
        self.refresh(window)
        if not model.told_by_the_service(result):
            failed = result.failing is not None or (result.under_way and not result.sent)
            heading, message = model.outcome_words(result, kodi.localize,
                                                   model.listed_labels(self.outbox, kodi.localize))
            kodi.notify(message, heading=heading or None, icon=kodi.WARNING if failed else kodi.INFO)
        if result.under_way:
            kodi.log("%s: sent %d so far, needs attention %d, %d still on their way after %.0f s"
                     % (name, result.sent, result.attention, result.under_way, RETRY_WAIT))
        else:
            kodi.log("%s: sent %d, needs attention %d, failing: %s"
                     % (name, result.sent, result.attention, result.failing or "none"))

    def finish(self):
        """The window closed: an outcome still awaited is told before the script ends."""
        for worker in self._retries:
            worker.join()


class Follower(threading.Thread):
    """The open view's own loop: every FOLLOW_EVERY it shows what changed (the service sent, refused or
    retried an entry, a new watch came, the minute moved on), and it closes the view once Kodi quits."""

    def __init__(self, controller, window):
        super().__init__(name="simkl-status-follow", daemon=True)
        self._controller = controller
        self._window = window
        self._stopping = threading.Event()
        self._problem = None

    def run(self):
        while not self._stopping.wait(FOLLOW_EVERY):
            if kodi.abort_requested():
                self._window.close()
                return
            try:
                self._controller.follow(self._window)
            except (sqlite3.Error, OSError, ValueError) as exc:  # the next look tries again; said once
                problem = "%s: %s" % (type(exc).__name__, exc)
                if problem != self._problem:
                    kodi.warn("the status view could not look at the queue (%s); it tries again" % problem)
                self._problem = problem

    def stop(self):
        self._stopping.set()
        self.join()


def show():
    from .status_window import XML_FILE, StatusWindow
    with open_outbox() as outbox:
        controller = Controller(outbox)
        window = StatusWindow(XML_FILE, kodi.addon_path(), "default", "1080i")
        window.controller = controller
        follower = Follower(controller, window)
        follower.start()
        try:
            window.doModal()
        finally:
            follower.stop()
        controller.finish()
        del window


def _stamp(path):
    """When and how a file was last written, or None when it is missing."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_mtime_ns, found.st_size, found.st_ino


def end_session():
    """End a rewatch session: the only one at once, or the one the user picks."""
    sessions = Sessions(kodi.profile_dir())
    keys = sorted(sessions.all())
    if len(keys) > 1:
        choice = kodi.select_dialog(kodi.localize(32664), [sessions.label(key) for key in keys])
        keys = keys[choice:choice + 1] if choice >= 0 else []
    for key in keys[:1]:
        label = sessions.label(key)
        sessions.end(key)
        kodi.notify(label, heading=kodi.localize(32770))


def needs_attention(outbox, retried=lambda ids, name: None):
    """The entries only the user can move on, a row per title: each can be retried or discarded, or all the
    list shows at once (never one that came after the list was read). retried(ids, name): these entries wait
    again after Retry all or a row's Retry, before the service is woken."""
    while True:
        entries = outbox.attention(limit=model.ATTENTION_LISTED)
        if not entries:
            return
        rows = model.attention_rows(entries, kodi.localize, kodi.format_time)
        heading = model.attention_heading(entries, max(outbox.attention_count(), len(entries)), kodi.localize)
        listed = [entry.id for entry in entries]
        choice = kodi.select_dialog(heading, [kodi.localize(32239), kodi.localize(32240)] + [r.label for r in rows])
        if choice < 0:
            return
        if choice == 0:
            outbox.retry_attention(listed)
            retried(listed, "Retry all")
            request_flush()
            return
        if choice == 1:
            if kodi.yesno_dialog(discard_question([row.title for row in rows])):
                outbox.discard_attention(listed)
            continue
        row = rows[choice - 2]
        what = kodi.select_dialog(row.title, [kodi.localize(32241), kodi.localize(32242)])
        if what == 0:
            outbox.retry_attention(row.ids)
            retried(row.ids, "Retry")
            request_flush()
        elif what == 1 and kodi.yesno_dialog(discard_question([row.title])):
            outbox.discard_attention(row.ids)


def discard_question(titles):
    """Discard one title (named), or these N entries."""
    return kodi.localize(32776, titles[0]) if len(titles) == 1 else count(len(titles), DISCARD_ENTRIES, kodi.localize)
