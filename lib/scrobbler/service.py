"""The background service: the monitor loop, and the worker that resolves and sends watches.

A finished watch (or a library mark) is committed to the outbox on the thread Kodi calls back on,
before anything that can block; the worker then finds its title and sends it. Whatever the worker
meets (a failing disk, a JSON-RPC error, a bug) is logged once and tried again later: it never
dies. At Kodi's quit the request in flight is cut, and the loop is left within a second.

Start-up is kept short: what Kodi's callbacks need (the player, the monitor) is made at once; the
queue (sqlite), the sender and the sync are made at their first use, which is the worker's first
job, right after the ready line, and requests is imported only for the first request.
"""
import json
import os
import queue
import random
import threading
import time

import xbmc

from . import config, kodi
from .clock import SteadyClock
from .delivery.holds import Holds
from .delivery.live import Live
from .playback.marks import OwnWrites, PlaybackMarks, library_item
from .playback.player import Player
from .playback.resolve import Library, Resolver, SearchUnavailable, playing_item
from .playback.watch import Rules, decide
from .rewatch.policy import RewatchPolicy
from .rewatch.sessions import Sessions
from .simkl import account
from .simkl.api import ApiError

# Marking a season or a show in Kodi sends one update per episode, a few milliseconds apart: they
# are sent to Simkl together once no new mark came for this long.
MARKS_SETTLE = 2.0
FAILURE_RETRY_CAP = 300.0  # a job that failed is tried again within at most 5 minutes
SYNC_AFTER_START = 60.0  # the first sync waits for Kodi to settle after its start
SYNC_AFTER_LOGIN = 5.0
SYNC_AFTER_SCAN = 5.0
EXCLUDED_FOLDER_SLOTS = 12  # exclude_folder1..12 in settings.xml


def send_problems():
    """What a failure to send is told as (once per problem until something is sent again)."""
    from .delivery.flush import ERR_CONFIG, ERR_NETWORK, ERR_RATE, ERR_SERVER, ERR_UNEXPECTED
    return {ERR_NETWORK: 32036, ERR_SERVER: 32220, ERR_RATE: 32037, ERR_UNEXPECTED: 32222, ERR_CONFIG: 32039}


def read_rules() -> Rules:
    settings = kodi.addon()  # one read of the settings file for all of them
    folders = tuple(f for f in (kodi.setting_str("exclude_folder%d" % n, settings=settings)
                                for n in range(1, EXCLUDED_FOLDER_SLOTS + 1)) if f)
    return Rules(threshold=max(1, min(100, kodi.setting_int("threshold", 80, settings))) / 100.0,
                 min_length=max(0, kodi.setting_int("min_length", 5, settings)) * 60.0,
                 movies=kodi.setting_bool("scrobble_movies", True, settings),
                 episodes=kodi.setting_bool("scrobble_episodes", True, settings),
                 exclude_http=kodi.setting_bool("exclude_http", settings=settings),
                 exclude_plugin=kodi.setting_bool("exclude_plugin", settings=settings),
                 excluded_folders=folders)


class Monitor(xbmc.Monitor):
    """Kodi's signals to the service: settings changed, library updates, our scripts' messages."""

    def __init__(self, service):
        super().__init__()
        self._service = service

    def onSettingsChanged(self):
        self._service.settings_changed()

    def onNotification(self, sender, method, data):
        self._service.notification(sender, method, data)


class Service:
    def __init__(self, clock=time.time, sleep=None, steady=None, rng=random.random, started=None):
        # (wall, this thread's CPU) when the interpreter began: the ready line tells the time since then
        self._started = (time.perf_counter(), time.thread_time()) if started is None else started
        self.clock = clock  # wall time: when a watch happened
        self.steady = steady or SteadyClock(clock)  # what waits and holds are measured on
        self._rng = rng
        self.profile = kodi.profile_dir()
        self.client = account.make_client(clock=self.steady if sleep else None, sleep=sleep)
        # This interpreter has no memory of the last run's POSTs, and Simkl may count the one cut at
        # its quit only as it answers it, a moment before this start: the first POST waits a second.
        self.client.hold_posts()
        self.resolver = Resolver(Library(kodi.jsonrpc), search_file=self._search_file, log=kodi.debug)
        self._resolving = threading.Lock()  # the worker and the live thread share the resolver and its cache
        self.rewatch = RewatchPolicy(Sessions(self.profile, clock=clock), outbox=lambda: self.outbox,
                                     tracking=lambda: kodi.setting_bool("track_rewatches"))
        self._parts_lock = threading.RLock()
        self._outbox = self._flusher = self._sync = None  # made at first use: see outbox, flusher, sync
        self._library_index = None  # made at first use: see library_index
        self._parts_started = False
        self.holds = Holds()  # watches whose live stop is undecided: the flusher leaves them alone
        self.live = Live(self.client, resolve=self._live_item, enabled=self._live_enabled, holds=self.holds,
                         on_scrobbled=self._scrobbled, on_released=self.kick, clock=self.steady, log=kodi.log,
                         may_deliver=lambda entry_id, item: not self.outbox.waiting_before(entry_id, item.key()))
        self.rules = read_rules()
        self.marks = PlaybackMarks(clock=self.steady)
        self.own_writes = OwnWrites(clock=self.steady)
        self._marks_flush_at = None  # when queued library marks are sent, once they stopped coming
        self._marks_lock = threading.Lock()  # Kodi's thread opens the wait, the worker ends it
        self._sent_batch = []  # entries Simkl took during the current flush, announced together
        self._unsaved = []  # (report, watched_at, kind) the outbox could not take yet (disk full)
        self._unsaved_lock = threading.Lock()
        self._failures = 0  # jobs failed in a row
        self._retry_at = None  # when the worker tries again after a failure
        self._logged_failures = set()  # each problem is logged once while it lasts
        self._told = set()  # problems the user has been told about
        self._told_send = set()  # failures to send told since the last successful send
        self._was_logged_in = self.logged_in()
        self._worker_logged_in = self._was_logged_in  # the worker's own view, see _may_post()
        self.jobs = queue.Queue()
        self.monitor = Monitor(self)
        self.player = Player(on_finished=self._finished, rules=lambda: self.rules, clock=clock,
                             on_event=self.live.event)
        self._worker = threading.Thread(target=self._work, name="simkl-worker", daemon=True)
        self._stopping = threading.Event()
        # What an earlier run left: found and sent once the worker runs (library marks Kodi reports before
        # then still wait for the rest of theirs, as with every send).
        self.jobs.put(("flush",))

    # -- parts made at their first use (by the worker's first job, or a callback that comes sooner) --
    @property
    def outbox(self):
        with self._parts_lock:
            if self._outbox is None:
                from .delivery.outbox import Outbox  # sqlite3
                self._outbox = Outbox(os.path.join(self.profile, config.OUTBOX_FILE), clock=self.steady,
                                      log=kodi.warn)
            return self._outbox

    @outbox.setter
    def outbox(self, value):
        with self._parts_lock:
            self._outbox = value

    @property
    def flusher(self):
        with self._parts_lock:
            if self._flusher is None:
                from .delivery.flush import Flusher
                self._flusher = Flusher(self.outbox, self.client, clock=self.steady, rng=self._rng, log=kodi.log,
                                        on_auth_expired=self._auth_expired, on_sent=self._sent,
                                        on_rewatch=self._rewatch_answered, session_id=self._session_id,
                                        before_batch=self._before_batch, holds=self.holds,
                                        on_problem=self._send_problem)
            return self._flusher

    @property
    def sync(self):
        with self._parts_lock:
            if self._sync is None:
                from .sync.runner import SyncRunner
                self._sync = SyncRunner(self.client, self.outbox, self.profile, self.own_writes, self.player,
                                        self._stopping, on_queued=self.kick, clock=self.steady,
                                        index=self.library_index)
            return self._sync

    @property
    def library_index(self):
        """Where each title sits in Kodi's library, kept current from Kodi's notifications for the sync."""
        with self._parts_lock:
            if self._library_index is None:
                from .sync.index import LibraryIndex
                self._library_index = LibraryIndex(self.profile)
            return self._library_index

    # -- main loop (Kodi's service thread) --------------------------------------------------------
    def start_up(self):
        """What the service does once at start: the settings mirror the stored login, the context menu
        follows Track rewatches."""
        self._sync_rewatch_setting()
        account.mirror()

    def run(self):
        self.start_up()
        self._worker.start()
        self.live.start()
        wall, cpu = time.perf_counter() - self._started[0], time.thread_time() - self._started[1]
        kodi.log("service %s %s started (Kodi %s) in %.0f ms (%.0f ms CPU)" % (
            config.ADDON_ID, kodi.addon_version(), kodi.kodi_version(), wall * 1000, cpu * 1000))
        while not self.monitor.waitForAbort(3600):
            self.jobs.put(("prune",))
            self.sync.request()  # hourly: one /sync/activities request when nothing moved
        self.stop()
        self.rewatch.hide_action()
        kodi.log("service stopped")

    def stop(self):
        """Kodi quits: cut the request in flight (its entries stay queued) and let the worker go."""
        self._stopping.set()
        self.player.stop_sampling()
        self.live.stop()
        self.client.abort()
        with self._parts_lock:
            sync, index = self._sync, self._library_index
        if sync is not None:
            sync.wake()
        if index is not None:
            index.quitting()
        self.jobs.put(None)
        self._worker.join(0.5)

    def kick(self):
        self.jobs.put(("flush",))

    @staticmethod
    def logged_in():
        """Whether a login is stored: token.json decides, never the settings that mirror it."""
        return bool(account.current_login())

    def settings_changed(self):
        """The user saved the settings (or Defaults reset them), or the service mirrored the login."""
        self.rules = read_rules()
        account.mirror()  # e.g. Defaults blanked the account status: show the truth again
        self._sync_rewatch_setting()
        self._login_changed()
        self.kick()

    def _account_changed(self, data):
        """The login script logged in or out: mirror the login, then confirm the hand-off."""
        account.mirror()
        self._login_changed()
        try:
            nonce = json.loads(data or "null")["id"]
        except (ValueError, TypeError, KeyError):
            nonce = None
        if isinstance(nonce, str):
            kodi.set_home_property(config.ACCOUNT_ACK_PROPERTY, nonce)
        self.kick()

    def _login_changed(self):
        was_logged_in, self._was_logged_in = self._was_logged_in, self.logged_in()
        if self._was_logged_in:
            if self.flusher.auth_blocked or not was_logged_in:
                self.client.hold_posts()  # the login script POSTed /users/settings a moment ago
            if not was_logged_in:
                self.sync.request(delay=SYNC_AFTER_LOGIN)
            self.flusher.resume()  # a new login after a 401

    def _sync_rewatch_setting(self):
        self.rewatch.follow_setting()

    def notification(self, sender, method, data):
        if method == "Other." + config.FLUSH_MESSAGE and sender == config.ADDON_ID:
            self.flusher.resume()
            self._retry_at = None
            self.kick()
        elif method == "Other." + config.ACCOUNT_MESSAGE and sender == config.ADDON_ID:
            self._account_changed(data)
        elif method == "Other." + config.SYNC_MESSAGE and sender == config.ADDON_ID:
            self.sync.request(full=True, manual=True)
        elif method == "Other." + config.IMPORT_MESSAGE and sender == config.ADDON_ID:
            self.sync.request(send_history=True)
        elif method == "VideoLibrary.OnScanFinished":
            self.sync.request(delay=SYNC_AFTER_SCAN)
        elif method.startswith("Player.On"):
            self.marks.notification(method, data)
        elif method == "VideoLibrary.OnUpdate":
            data = _parsed(data)  # once: the sync's first run brings tens of thousands of these
            self.library_index.notification(method, data)
            # Decided now, in Kodi's order of notifications: by the time the worker looks, playback
            # may have moved on.
            self._library_update(data, self._playback_caused(data))
        elif method == "VideoLibrary.OnRemove":
            self.library_index.notification(method, _parsed(data))

    # -- decisions, committed where Kodi calls back ----------------------------------------------
    def _finished(self, tracked):
        """A followed item ended or stopped: if it counts, it is in the outbox before this returns, and
        held there if its live stop may deliver it (the hold and the commit are one step for the sender)."""
        verdict = decide(tracked.playback, self.rules)
        label = tracked.item.name()
        with self.holds.guard() as held:
            entry_id = None
            if verdict.watched:
                report = dict(tracked.item.stored(), label=label)
                entry_id = self._commit(report, tracked.playback.finished_at, "add")
            if self.live.finished(tracked, verdict.watched, entry_id):
                held.add(entry_id)
        if not verdict.watched:
            kodi.debug("not watched: %r (%s)" % (label, verdict.reason))
            return
        kodi.log("watched %r (%s)" % (label, verdict.reason))
        self.jobs.put(("resolve", True))

    def _library_update(self, data, playback_caused):
        key, playcount = library_item(data), _playcount(data)
        if key is None or playcount is None:
            return  # an update without a playcount: resume points, artwork, …
        kind, dbid = key
        if self.own_writes.consume(key, playcount):
            return  # the sync's own write, echoed by Kodi
        if playback_caused:
            kodi.debug("playcount of library %s %d changed by its playback: not a mark" % (kind, dbid))
            return
        if not kodi.setting_bool("sync_library_marks", True) or kind not in ("movie", "episode"):
            return
        report = {"media_type": kind, "dbid": dbid, "label": "%s %d" % (kind, dbid)}
        self._wait_for_more_marks()  # before the commit: the worker may wake for the entry before its job
        self._commit(report, self.clock(), "add" if playcount > 0 else "remove")
        self.jobs.put(("resolve", False))

    def _commit(self, report, watched_at, kind):
        """The entry's id, or None when the disk failed (kept in memory until there is room)."""
        import sqlite3
        try:
            return self.outbox.add_unresolved(report, watched_at, kind)
        except sqlite3.Error as exc:
            with self._unsaved_lock:
                self._unsaved.append((report, watched_at, kind))
            self._storage_failed(exc)
            return None

    # -- worker thread ----------------------------------------------------------------------------
    def _start_parts(self):
        """The worker's first step after the ready line: make the queue and start the sync."""
        if not self._parts_started:
            self.sync.start()
            self.sync.request(delay=SYNC_AFTER_START)
            self._parts_started = True

    def _work(self):
        while True:
            try:
                self._start_parts()
                due = self._next_due()
            except Exception as exc:  # noqa: BLE001 - the worker outlives every error
                self._failed("scheduling", exc)
                due = self._retry_at
            timeout = None if due is None else max(0.0, due - self.steady())
            try:
                job = self.jobs.get(timeout=timeout)
            except queue.Empty:
                self.jobs.put(("due",))  # through the queue, so busy() sees it
                continue
            if job is None or self._stopping.is_set():
                return
            try:
                self._handle(job)
                self._recovered()
            except Exception as exc:  # noqa: BLE001 - one bad job must never take down the service
                self._failed(job[0], exc)
            finally:
                self.jobs.task_done()

    def _next_due(self):
        marks_flush_at = self._marks_flush_at
        candidates = [self._retry_at]
        if self._retry_at is None:  # a retry waits: nothing before it is done (see _handle)
            candidates.append(marks_flush_at)
            sending = self.flusher.next_due() if self.logged_in() else None
            if sending is not None and marks_flush_at is not None:
                sending = max(sending, marks_flush_at)  # library marks wait for the rest of theirs
            candidates.append(sending)
            candidates.append(self.outbox.next_unresolved_due())
            if self._unsaved:
                candidates.append(self.steady())
        due = [when for when in candidates if when is not None]
        return min(due) if due else None

    def busy(self) -> bool:
        """True while queued jobs are not done yet."""
        return self.jobs.unfinished_tasks > 0

    def _handle(self, job):
        kind = job[0]
        if kind == "prune":
            self.outbox.prune()
            return
        if self._retry_at is not None and kind in ("due", "resolve") and self.steady() < self._retry_at:
            return  # after a failure, wait for the retry (what is committed stays in the outbox)
        self._retry_at = None
        self._save_unsaved()
        self._resolve_waiting()
        if kind == "resolve" and not job[1]:
            self._wait_for_more_marks()
        elif self._marks_settled():
            self._flush()

    def _wait_for_more_marks(self):
        """A library mark came: more may follow (a whole season), so what is queued waits for them."""
        with self._marks_lock:
            self._marks_flush_at = self.steady() + MARKS_SETTLE

    def _before_batch(self) -> bool:
        """Before each batch the sender takes: what was committed meanwhile becomes pending first (an
        older unmark goes before a newer rewatch), and while library marks still come it stops, so that
        a season goes in one request (the worker sends once they stop). Looked at in that order: Kodi's
        thread opens the wait before it commits a mark, so a mark found here was never sent alone."""
        self._resolve_waiting()
        with self._marks_lock:
            return not self._marks_waiting()

    def _marks_settled(self) -> bool:
        """No library mark came for MARKS_SETTLE seconds. One that comes as this ends opens a new wait,
        which the worker's send does not cancel (the lock keeps the two apart)."""
        with self._marks_lock:
            if self._marks_waiting():
                return False
            self._marks_flush_at = None
            return True

    def _marks_waiting(self) -> bool:
        """Library marks came less than MARKS_SETTLE seconds ago (the caller holds _marks_lock)."""
        return self._marks_flush_at is not None and self.steady() < self._marks_flush_at

    def _failed(self, what, exc):
        """Log a problem once while it lasts, tell the user of a full disk, and try again later."""
        import sqlite3

        from .delivery.flush import backoff
        self._failures += 1
        delay = min(FAILURE_RETRY_CAP, backoff(self._failures - 1, self._rng))
        self._retry_at = self.steady() + delay
        signature = (type(exc).__name__, str(exc))
        if signature not in self._logged_failures:
            self._logged_failures.add(signature)
            kodi.error("%s failed: %s: %s; trying again in %.0f s" % (what, type(exc).__name__, exc, delay))
        if isinstance(exc, sqlite3.Error):
            self._storage_failed(exc)

    def _recovered(self):
        if self._failures:
            kodi.log("working again after %d failed attempts" % self._failures)
        self._failures = 0
        self._logged_failures.clear()

    def _storage_failed(self, exc):
        if "full" in str(exc).lower() and "disk_full" not in self._told:
            self._told.add("disk_full")
            kodi.notify(kodi.localize(32230), icon=kodi.WARNING)

    def _save_unsaved(self):
        while self._unsaved:
            with self._unsaved_lock:
                report, watched_at, kind = self._unsaved[0]
            self.outbox.add_unresolved(report, watched_at, kind)
            with self._unsaved_lock:
                self._unsaved.pop(0)
        self._told.discard("disk_full")

    def _may_post(self) -> bool:
        """Logged in, as the worker sees it before a POST. A login it has not seen yet holds POSTs for a
        second first: the login script POSTed /users/settings a moment ago, and the service may not have
        heard of the login yet (its hand-off arrives on Kodi's thread)."""
        logged_in = self.logged_in()
        if logged_in and not self._worker_logged_in:
            self.client.hold_posts()
        self._worker_logged_in = logged_in
        return logged_in

    def _flush(self):
        if not self._may_post():
            return
        self._sent_batch = []
        try:
            self.flusher.flush(should_stop=self._stopping.is_set)
        finally:
            sent, self._sent_batch = self._sent_batch, []
            self._announce([e.item for e in sent if e.kind == "add" and not e.rewatch])

    def _resolve_waiting(self):
        """Find the title of every watch and mark committed so far; each becomes pending or needs the user."""
        while not self._stopping.is_set():
            waiting = self.outbox.unresolved()
            if not waiting:
                return
            for entry in waiting:
                if self._stopping.is_set():
                    return
                self._resolve(entry)

    def _resolve(self, entry):
        label = entry.report.get("label") or "?"
        with self._resolving:
            found = self.resolver.resolve(playing_item(entry.report))
            unavailable, reason = self.resolver.unavailable, self.resolver.last_reason
        if found is None:
            if unavailable:
                from .delivery.flush import ERR_NETWORK, backoff
                wait = backoff(entry.attempts, self._rng)
                self.outbox.defer_unresolved(entry.id, self.steady() + wait, ERR_NETWORK)
                kodi.log("watched %r: looking it up again in %.0f s (%s)" % (label, wait, reason))
            else:
                self.outbox.unidentified(entry.id, reason)
                kodi.log("watched %r but could not tell which title it is (%s); listed in the status view"
                         % (label, reason))
            return
        session = self.rewatch.session_watch(entry, found)
        if session is not None:
            if self.outbox.resolved(entry.id, found, rewatch=True, rewatch_id=session.rewatch_id,
                                    session_ids=session.session_ids):
                kodi.log("queued %s as part of its rewatch session" % found.label())
            else:
                kodi.log("%s was already counted in its rewatch session" % found.label())
        elif self.outbox.resolved(entry.id, found):
            kodi.log("queued %s as %s" % (found.label(), "watched" if entry.kind == "add" else "unwatched"))
        else:
            kodi.debug("%s was already queued in the last 48 hours" % found.label())

    # -- live scrobbling (called on the live thread) -----------------------------------------------
    def _live_enabled(self, tracked):
        """Live events for this item? Never for what can never count: under the minimum length, or of
        unknown length (the exclusions were asked before the player followed it)."""
        total = tracked.playback.total
        return (kodi.setting_bool("live_scrobble", True) and kodi.setting_bool("logged_in")
                and not self.flusher.auth_blocked and 0 < total and total >= self.rules.min_length)

    def _live_item(self, item):
        """The title of a playing item for live events, or None when it must not go live."""
        with self._resolving:
            found = self.resolver.resolve(item)
        return None if found is not None and self.rewatch.in_session(found) else found

    def _scrobbled(self, entry_id, item):
        """Simkl took the live stop of a watch: the outbox entry is sent (it raises if the disk fails)."""
        if self.outbox.scrobbled(entry_id, item):
            self._announce([item])

    def _playback_caused(self, data) -> bool:
        key, playcount = library_item(data), _playcount(data)
        return key is not None and playcount is not None and self.marks.caused_by_playback(key, playcount)

    def _search_file(self, name):
        if not self._may_post():
            raise SearchUnavailable("not logged in")
        try:
            return self.client.search_file(name)
        except ApiError as exc:
            raise SearchUnavailable(type(exc).__name__) from None

    def _session_id(self, placeholder):
        return self.rewatch.session_id(placeholder)

    def _rewatch_answered(self, entry, response):
        self.rewatch.answered(entry, response)

    def _auth_expired(self):
        account.logged_out(rejected_token=self.client.tokens.last_token)

    def _sent(self, entries):
        self._sent_batch.extend(entries)
        if entries:
            self._told_send.clear()  # the next failure is a new problem again

    def _send_problem(self, code):
        """Sending failed: tell the user once per problem, not at every retry (a notification held
        back during playback is told at the next failure)."""
        problems = send_problems()
        if code in problems and code not in self._told_send:
            if kodi.notify(kodi.localize(problems[code]), heading=kodi.localize(32563), icon=kodi.WARNING):
                self._told_send.add(code)

    def _announce(self, items):
        """One notification for what one flush (or one live stop) delivered (a whole marked season is one)."""
        if not items or not kodi.setting_bool("notify_watched", True):
            return
        message = items[0].label() if len(items) == 1 else kodi.localize(32201, len(items))
        kodi.notify(message, heading=kodi.localize(32550))


def _parsed(data):
    """A notification's data as Kodi sends it (JSON text) read once; None when unreadable."""
    try:
        return json.loads(data) if isinstance(data, str) else data
    except ValueError:
        return None


def _playcount(data):
    try:
        playcount = (json.loads(data) if isinstance(data, str) else data)["playcount"]
        return int(playcount)
    except (ValueError, KeyError, TypeError):
        return None
