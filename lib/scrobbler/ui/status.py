"""The status view (`default.py status`): the window of status_window.py, what its actions do, Needs attention.

What it shows and offers is decided in status_model.py. "Needs attention" lists every entry only the user
can move on: a watch no title was found for, a title Simkl does not know, an entry Simkl refused (with its
reason), and an entry still failing after several tries; each can be retried or discarded, and a retry tells
its outcome as Retry now does.
"""
import threading
import time

from .. import config, kodi
from ..counts import DISCARD_ENTRIES, count
from ..delivery.access import open_outbox, request_flush
from ..rewatch.sessions import Sessions
from ..simkl.account import current_owner, token_store
from . import status_model as model

# How long Retry now waits for its outcome: a request's connect and read timeouts, its pacing, and a lookup.
RETRY_WAIT = 30.0
RETRY_POLL = 0.25


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
        self._showing = threading.Lock()  # the window is refreshed from its own thread and a retry's

    def view(self):
        sessions = Sessions(kodi.profile_dir())
        owner = current_owner()
        listed = [(key, sessions.label(key)) for key in sorted(sessions.all())
                  if sessions.of(key, owner.key if owner else None)]
        snapshot = model.read(self.outbox, token_store().load(), listed)
        return model.build(snapshot, self._clock(), kodi.localize, kodi.format_time)

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

    def refresh(self, window):
        with self._showing:
            if window.is_open:
                window.show(self.view())

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
        failed = result.failing is not None or (result.under_way and not result.sent)
        heading, message = model.outcome_words(result, kodi.localize, self.outbox.labels)
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


def show():
    from .status_window import XML_FILE, StatusWindow
    with open_outbox() as outbox:
        controller = Controller(outbox)
        window = StatusWindow(XML_FILE, kodi.addon_path(), "default", "1080i")
        window.controller = controller
        window.doModal()
        controller.finish()
        del window


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
