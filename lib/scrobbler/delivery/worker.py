"""The delivery worker: one thread that finds the title of every committed watch and library mark,
sends what is pending, and tries again after a failure.

Watches and marks are committed to the outbox on the thread Kodi calls back on (commit_watch,
commit_mark), before anything that can block; the worker does the rest. Whatever it meets (a failing
disk, a JSON-RPC error, a bug) is logged once and tried again later, with backoff: it never dies.
What Simkl took is announced to the subscribers (subscribe): a notification today, a rating prompt
tomorrow, each in a module of its own that the worker does not know. So is what one pass put under Needs
attention (subscribe_attention): Simkl refused it or does not know it, or no title was found for it.
"""
import enum
import queue
import threading
from typing import Callable, List, Optional

from .. import kodi
from ..values import FrozenValue
from .settle import MarksSettle

FAILURE_RETRY_CAP = 300.0  # a job that failed is tried again within at most 5 minutes


class Job(enum.Enum):
    WATCH = "a watch from playback was committed"
    MARK = "a library mark was committed"
    FLUSH = "send what is pending"
    DUE = "something waited for is due"
    PRUNE = "forget what was sent long ago"
    STOP = "Kodi quits"


class NeedsAttention(FrozenValue):
    """An entry the worker put under Needs attention: its title as the list shows it; by_simkl: Simkl refused it
    or does not know it (False: no title was found for the watch); rating: a rating entry's rating (0: its
    removal), None for a watch."""
    FIELDS = ("label", "by_simkl", "rating")

    def __init__(self, label: str, by_simkl: bool, rating: Optional[int] = None):
        self._set(label=label, by_simkl=by_simkl, rating=rating)


class DeliveryWorker:
    """The worker thread and its jobs.

    outbox, flusher: the parts, made at their first use (so sqlite is opened only by the first job);
    lookup(report): the title of a committed watch, a playback.resolve.Lookup;
    session_of(entry, found): the rewatch session a resolved watch continues (a session_ids.SessionWatch) or None;
    logged_in(): whether a login is stored; hold_posts(): space the next POST a second from now;
    first_step(): what the worker does once, before its first job (the service starts the sync);
    on_storage(exc): the disk failed (None: it took what waited in memory again).
    """

    def __init__(self, outbox: Callable, flusher: Callable, lookup: Callable, session_of: Callable,
                 steady: Callable[[], float], rng: Callable[[], float], logged_in: Callable[[], bool],
                 hold_posts: Callable[[], None], stopping: threading.Event,
                 first_step: Callable[[], None] = lambda: None,
                 on_storage: Callable[[Optional[Exception]], None] = lambda exc: None) -> None:
        self._outbox, self._flusher = outbox, flusher
        self._lookup, self._session_of = lookup, session_of
        self._steady, self._rng = steady, rng
        self._logged_in, self._hold_posts = logged_in, hold_posts
        self._stopping = stopping
        self._first_step, self._on_storage = first_step, on_storage
        self._started = False
        self.settle = MarksSettle(steady)
        self._listeners: List[Callable[[list], None]] = []
        self._sent_batch: list = []  # entries Simkl took during the current flush, announced together
        self._attention_listeners: List[Callable[[List[NeedsAttention]], None]] = []
        self._attention_batch: List[NeedsAttention] = []  # put under Needs attention in this pass, announced together
        self._unsaved: list = []  # (report, watched_at, kind) the outbox could not take yet (disk full)
        self._unsaved_lock = threading.Lock()
        self._failures = 0  # jobs failed in a row
        self._retry_at: Optional[float] = None  # when the worker tries again after a failure
        self._logged_failures: set = set()  # each problem is logged once while it lasts
        self._seen_logged_in = logged_in()  # the worker's own view, see may_post()
        self._jobs: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._work, name="simkl-worker", daemon=True)
        # What an earlier run left: found and sent once the worker runs (library marks Kodi reports before
        # then still wait for the rest of theirs, as with every send).
        self._jobs.put(Job.FLUSH)

    # -- the thread ---------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def stop(self, wait: float = 0.5) -> None:
        """Kodi quits (the caller set `stopping` and cut the request in flight): let the thread go."""
        self._jobs.put(Job.STOP)
        self._thread.join(wait)

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def started(self) -> bool:
        """The first step (the parts and the sync) is done."""
        return self._started

    def busy(self) -> bool:
        """True while queued jobs are not done yet."""
        return self._jobs.unfinished_tasks > 0

    # -- named jobs (any thread) --------------------------------------------------------------------
    def watch_committed(self) -> None:
        """A watch from playback is in the outbox (commit_watch): find its title and send it."""
        self._jobs.put(Job.WATCH)

    def kick(self) -> None:
        """Send what is pending now (a login, a changed setting, a hold released)."""
        self._jobs.put(Job.FLUSH)

    def retry_now(self) -> None:
        """The user asked to send again: a wait after a failure, or a login Simkl refused, ends now."""
        self._flusher().resume()
        self.kick()  # a send job is never held by the wait after a failure, and ends it (see _handle)

    def prune(self) -> None:
        self._jobs.put(Job.PRUNE)

    def subscribe(self, listener: Callable[[list], None]) -> None:
        """listener(items) is called (on the worker's or the live thread) with the titles Simkl took as
        newly watched in one flush or one live stop (not rewatches, not removals, not ratings)."""
        self._listeners.append(listener)

    def subscribe_attention(self, listener: Callable[[List[NeedsAttention]], None]) -> None:
        """listener(items) is called on the worker's thread with what one pass put under Needs attention, in
        that order (a title queued twice is there twice). A rewatch Simkl refused as PRO-only, or a refused start
        of a show's rewatch session, is not: the rewatch's own notice tells it (the sender's on_rewatch)."""
        self._attention_listeners.append(listener)

    # -- commits (Kodi's thread) --------------------------------------------------------------------
    def commit_watch(self, report: dict, watched_at: float) -> Optional[int]:
        """A watch from playback, into the outbox now: its entry id, or None when the disk failed (it is
        kept in memory until there is room). The caller queues its job (watch_committed) once it held it."""
        return self._commit(report, watched_at, "add")

    def commit_mark(self, report: dict, watched_at: float, kind: str) -> None:
        """A library mark ("add" or "remove"): into the outbox, sent with the rest of its season."""
        self.settle.mark_came()  # before the commit: the worker may wake for the entry before its job
        self._commit(report, watched_at, kind)
        self._jobs.put(Job.MARK)

    def _commit(self, report, watched_at, kind):
        import sqlite3
        try:
            return self._outbox().add_unresolved(report, watched_at, kind)
        except sqlite3.Error as exc:
            with self._unsaved_lock:
                self._unsaved.append((report, watched_at, kind))
            self._on_storage(exc)
            return None

    # -- what the sender and the live scrobbler call back -------------------------------------------
    def before_batch(self) -> bool:
        """Before each batch the sender takes: what was committed meanwhile becomes pending first (an
        older unmark goes before a newer rewatch), and while library marks still come it stops, so that
        a season goes in one request (the worker sends once they stop). Looked at in that order: Kodi's
        thread opens the wait before it commits a mark, so a mark found here was never sent alone."""
        self._resolve_waiting()
        return not self.settle.waiting()

    def sent(self, entries: list) -> None:
        """The sender's report of one batch Simkl took."""
        self._sent_batch.extend(entries)

    def needs_attention(self, entries: list) -> None:
        """The sender's report of entries Simkl refused or does not know: they wait under Needs attention."""
        self._attention_batch.extend(NeedsAttention(entry.item.label(), True, entry.rating) for entry in entries)

    def delivered_live(self, entry_id: int, item) -> None:
        """Simkl took the live stop of a watch: the outbox entry is sent (raises if the disk fails)."""
        if self._outbox().scrobbled(entry_id, item):
            self._announce([item])

    def may_post(self) -> bool:
        """Logged in, as the worker sees it before a POST. A login it has not seen yet holds POSTs for a
        second first: the login script POSTed /users/settings a moment ago, and the service may not have
        heard of the login yet (its hand-off arrives on Kodi's thread)."""
        logged_in = self._logged_in()
        if logged_in and not self._seen_logged_in:
            self._hold_posts()
        self._seen_logged_in = logged_in
        return logged_in

    # -- the loop ---------------------------------------------------------------------------------
    def _work(self):
        while True:
            try:
                self._start()
                due = self.next_due()
            except Exception as exc:  # noqa: BLE001 - the worker outlives every error
                self._failed("scheduling", exc)
                due = self._retry_at
            timeout = None if due is None else max(0.0, due - self._steady())
            try:
                job = self._jobs.get(timeout=timeout)
            except queue.Empty:
                self._jobs.put(Job.DUE)  # through the queue, so busy() sees it
                continue
            if job is Job.STOP or self._stopping.is_set():
                return
            try:
                if self._handle(job):
                    self._recovered()
            except Exception as exc:  # noqa: BLE001 - one bad job must never take down the service
                self._failed(job.name.lower(), exc)
            finally:
                self._jobs.task_done()

    def _start(self):
        if not self._started:
            self._first_step()
            self._started = True

    def next_due(self) -> Optional[float]:
        """When the worker next has something to do unasked (None: nothing until a job comes)."""
        marks_until = self.settle.until()
        candidates = [self._retry_at]
        if self._retry_at is None:  # a retry waits: nothing before it is done (see _handle)
            sending = self._flusher().next_due() if self._logged_in() else None
            # Library marks wait for the rest of theirs: while they come, nothing is sent before they stop.
            candidates.append(sending if marks_until is None else marks_until)
            candidates.append(self._outbox().next_unresolved_due())
            if self._unsaved:
                candidates.append(self._steady())
        due = [when for when in candidates if when is not None]
        return min(due) if due else None

    def _handle(self, job) -> bool:
        """Do the job; False when it waits for the retry of a failure (which it then neither ends nor
        lengthens)."""
        if job is Job.PRUNE:
            self._outbox().prune()
            return self._retry_at is None
        if self._retry_at is not None and job in (Job.DUE, Job.WATCH, Job.MARK) and self._steady() < self._retry_at:
            return False  # after a failure, wait for the retry (what is committed stays in the outbox)
        self._retry_at = None
        try:
            self._save_unsaved()
            self._resolve_waiting()
            if job is Job.MARK:
                self.settle.mark_came()
            elif self.settle.settled():
                self._flush()
        finally:
            self._announce_attention()
        return True

    def _failed(self, what, exc):
        """Log a problem once while it lasts, report a failing disk, and try again later."""
        import sqlite3

        from .flush import backoff
        self._failures += 1
        delay = min(FAILURE_RETRY_CAP, backoff(self._failures - 1, self._rng))
        self._retry_at = self._steady() + delay
        signature = (type(exc).__name__, str(exc))
        if signature not in self._logged_failures:
            self._logged_failures.add(signature)
            kodi.error("%s failed: %s: %s; trying again in %.0f s" % (what, type(exc).__name__, exc, delay))
        if isinstance(exc, sqlite3.Error):
            self._on_storage(exc)

    def _recovered(self):
        if self._failures:
            kodi.log("working again after %d failed attempts" % self._failures)
        self._failures = 0
        self._logged_failures.clear()

    def _save_unsaved(self):
        while self._unsaved:
            with self._unsaved_lock:
                report, watched_at, kind = self._unsaved[0]
            self._outbox().add_unresolved(report, watched_at, kind)
            with self._unsaved_lock:
                self._unsaved.pop(0)
        self._on_storage(None)

    def _flush(self):
        if not self.may_post():
            return
        try:
            self._flusher().flush(should_stop=self._stopping.is_set)
        finally:
            sent, self._sent_batch = self._sent_batch, []
            self._announce([e.item for e in sent if e.kind == "add" and not e.rewatch])

    def _announce(self, items):
        if items:
            for listener in self._listeners:
                listener(items)

    def _announce_attention(self):
        items, self._attention_batch = self._attention_batch, []
        if items:
            for listener in self._attention_listeners:
                listener(items)

    # -- finding titles -------------------------------------------------------------------------------
    def _resolve_waiting(self):
        """Find the title of every watch and mark committed so far; each becomes pending or needs the user."""
        while not self._stopping.is_set():
            waiting = self._outbox().unresolved()
            if not waiting:
                return
            for entry in waiting:
                if self._stopping.is_set():
                    return
                self._resolve(entry)

    def _resolve(self, entry):
        label = entry.report.get("label") or "?"
        outbox = self._outbox()
        lookup = self._lookup(entry.report)
        found = lookup.found
        if found is None:
            if lookup.unavailable:
                from .flush import ERR_NETWORK, backoff
                wait = backoff(entry.attempts, self._rng)
                outbox.defer_unresolved(entry.id, self._steady() + wait, ERR_NETWORK)
                kodi.log("watched %r: looking it up again in %.0f s (%s)" % (label, wait, lookup.reason))
            else:
                outbox.unidentified(entry.id, lookup.reason)
                # Named as Needs attention lists it (delivery/outbox.py _label).
                self._attention_batch.append(NeedsAttention(entry.report.get("title") or label, False))
                kodi.log("watched %r but could not tell which title it is (%s); listed in the status view"
                         % (label, lookup.reason))
            return
        session = self._session_of(entry, found) if entry.kind == "add" else None
        if session is not None:
            # The user started this show's rewatch session: its episodes continue it (pinned rewatch_id).
            if outbox.resolved(entry.id, found, rewatch=True, rewatch_id=session.rewatch_id,
                               session_ids=session.session_ids):
                kodi.log("queued %s as part of its rewatch session" % found.label())
            else:
                kodi.log("%s was already counted in its rewatch session" % found.label())
        elif outbox.resolved(entry.id, found):
            kodi.log("queued %s as %s" % (found.label(), "watched" if entry.kind == "add" else "unwatched"))
        else:
            kodi.debug("%s was already queued in the last 48 hours" % found.label())
