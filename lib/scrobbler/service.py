"""The background service: the wiring of the parts, Kodi's events routed to them, the login hand-over.

A finished watch (or a library mark) is committed to the outbox on the thread Kodi calls back on,
before anything that can block; the delivery worker (delivery/worker.py) then finds its title and
sends it. At Kodi's quit the request in flight is cut, and the loop is left within a second.

Start-up is kept short: what Kodi's callbacks need (the player, the monitor) is made at once; the
queue (sqlite), the sender and the sync are made at their first use, which is the worker's first
job, right after the ready line, and requests is imported only for the first request.
"""
import json
import os
import random
import threading
import time

import xbmc

from . import config, kodi
from .clock import SteadyClock
from .delivery.holds import Holds
from .delivery.live import Live
from .delivery.worker import DeliveryWorker
from .playback.marks import OwnWrites, PlaybackMarks, library_item, notification_data, playcount_of
from .playback.player import Player
from .playback.resolve import Library, Resolver, SearchUnavailable, playing_item
from .playback.rules import read_rules
from .playback.watch import decide
from .rewatch.policy import RewatchPolicy
from .rewatch.sessions import Sessions
from .simkl import account
from .simkl.api import ApiError
from .ui.notices import Notices
from .ui.rating_prompt import LibraryFacts, RatingPrompt

SYNC_AFTER_START = 60.0  # the first sync waits for Kodi to settle after its start
SYNC_AFTER_LOGIN = 5.0
SYNC_AFTER_SCAN = 5.0


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
        self._ratings = None  # made at first use: see ratings
        self._stopping = threading.Event()
        self.holds = Holds()  # watches whose live stop is undecided: the flusher leaves them alone
        self.notices = Notices(self.profile, stopping=self._stopping)
        self.worker = DeliveryWorker(outbox=lambda: self.outbox, flusher=lambda: self.flusher, lookup=self._lookup,
                                     session_of=self.rewatch.session_watch, steady=self.steady, rng=rng,
                                     logged_in=self.logged_in, hold_posts=self.client.hold_posts,
                                     stopping=self._stopping, first_step=self._start_parts,
                                     on_storage=self.notices.storage)
        self.worker.subscribe(self.notices.delivered)
        self.worker.subscribe_attention(self.notices.needs_attention)
        self.live = Live(self.client, resolve=self._live_item, enabled=self._live_enabled, holds=self.holds,
                         on_scrobbled=self.worker.delivered_live, on_released=self.worker.kick, clock=self.steady,
                         log=kodi.log,
                         may_deliver=self._may_deliver, account=self._account_key)
        self.rules = read_rules()
        self.marks = PlaybackMarks(clock=self.steady)
        self.own_writes = OwnWrites(clock=self.steady)
        self._was_logged_in = self.logged_in()
        self._owner = account.current_owner()  # the account the service last saw logged in (None: nobody)
        self._hand_offs = {config.FLUSH_MESSAGE: lambda data: self.worker.retry_now(),
                           config.ACCOUNT_MESSAGE: self._account_changed,
                           config.SYNC_MESSAGE: lambda data: self.sync.request(full=True, manual=True),
                           config.IMPORT_MESSAGE: lambda data: self.sync.request(send_history=True)}
        self.monitor = Monitor(self)
        self.player = Player(on_finished=self._finished, rules=lambda: self.rules, clock=clock,
                             on_event=self.live.event, steady=self.steady)
        self._rating_dialog = None  # made at the first question: see _ask_rating
        self.rating_prompt = RatingPrompt(LibraryFacts(kodi.jsonrpc), ask=self._ask_rating, on_choice=self._rated,
                                          player=self.player, stopping=self._stopping)
        self.worker.subscribe_played(self.rating_prompt.watched)

    # -- parts made at their first use (by the worker's first job, or a callback that comes sooner) --
    @property
    def outbox(self):
        with self._parts_lock:
            if self._outbox is None:
                from .delivery.outbox import Outbox  # sqlite3
                self._outbox = Outbox(os.path.join(self.profile, config.OUTBOX_FILE), clock=self.steady,
                                      log=kodi.warn, account=account.current_owner)
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
                                        on_rewatch=self.rewatch.answered, session_id=self.rewatch.session_id,
                                        before_batch=self.worker.before_batch, holds=self.holds,
                                        on_problem=self.notices.send_problem,
                                        on_attention=self.worker.needs_attention)
            return self._flusher

    @property
    def sync(self):
        with self._parts_lock:
            if self._sync is None:
                from .sync.runner import SyncRunner
                self._sync = SyncRunner(self.client, self.outbox, self.profile, self.own_writes, self.player,
                                        self._stopping, on_queued=self.kick, clock=self.steady,
                                        index=self.library_index, ratings=self.ratings,
                                        on_auth_expired=self._auth_expired)
            return self._sync

    @property
    def ratings(self):
        """Kodi's My rating and Simkl's ratings kept the same: the memo, the check, the prompt's choice."""
        with self._parts_lock:
            if self._ratings is None:
                from .ratings.follow import Ratings
                self._ratings = Ratings(self.profile, kodi.jsonrpc, kodi.jsonrpc_batch, outbox=lambda: self.outbox,
                                        account=self._account_key, log=kodi.log)
            return self._ratings

    def user_rated(self, kind, dbid, item, rating):
        """The rating prompt's choice (kind "movie" / "tvshow", Kodi's library id, the title, 1-10 or 0):
        queued for Simkl, written as Kodi's My rating and taken as known (ratings/follow.py)."""
        self.ratings.user_rated(kind, dbid, item, rating)
        self.kick()

    def _ask_rating(self, question):
        """The rating prompt's question, on its thread: the window, made at the first question."""
        if self._rating_dialog is None:
            from .ui.rating_dialog import RatingDialog
            self._rating_dialog = RatingDialog(steady=self.steady, stopping=self._stopping.is_set)
        return self._rating_dialog.ask(question)

    def _rated(self, kind, dbid, item, rating):
        """The rating prompt's choice: a library title through user_rated (Kodi's My rating too); a movie not in
        Kodi's library only queued for Simkl."""
        if dbid is None:
            self.outbox.add_rating(item, rating)
            self.kick()
        else:
            self.user_rated(kind, dbid, item, rating)

    @property
    def library_index(self):
        """Where each title sits in Kodi's library, kept current from Kodi's notifications for the sync."""
        with self._parts_lock:
            if self._library_index is None:
                from .sync.index import LibraryIndex
                self._library_index = LibraryIndex(self.profile)
            return self._library_index

    def _start_parts(self):
        """The worker's first step after the ready line: make the queue and start the sync; a new user is told
        (once) to log in."""
        self._follow_account(self._owner)  # before anything is looked up or sent
        self.sync.start()
        self.sync.request(delay=SYNC_AFTER_START)
        if not self.logged_in():
            self.notices.not_logged_in()

    def _sent(self, entries):
        self.worker.sent(entries)
        self.notices.sent(entries)

    # -- main loop (Kodi's service thread) --------------------------------------------------------
    def start_up(self):
        """What the service does once at start: the settings mirror the stored login, the context menu
        follows Track rewatches."""
        self.rewatch.follow_setting()
        account.mirror()

    def run(self):
        self.start_up()
        self.worker.start()
        self.live.start()
        self.rating_prompt.start()
        wall, cpu = time.perf_counter() - self._started[0], time.thread_time() - self._started[1]
        kodi.log("service %s %s started (Kodi %s) in %.0f ms (%.0f ms CPU)" % (
            config.ADDON_ID, kodi.addon_version(), kodi.kodi_version(), wall * 1000, cpu * 1000))
        while not self.monitor.waitForAbort(3600):
            self.worker.prune()
            self.sync.request()  # hourly: one /sync/activities request when nothing moved
        self.stop()
        self.rewatch.hide_action()
        kodi.log("service stopped")

    def stop(self):
        """Kodi quits: cut the request in flight (its entries stay queued) and let the worker go."""
        self._stopping.set()
        self.rating_prompt.stop(wait=0)  # a question on screen closes meanwhile, at its next look
        self.player.stop_sampling()
        self.live.stop()
        self.client.abort()
        with self._parts_lock:
            sync, index = self._sync, self._library_index
        if sync is not None:
            sync.wake()
        if index is not None:
            index.quitting()
        self.worker.stop()
        self.rating_prompt.stop(wait=0.5)

    def kick(self):
        self.worker.kick()

    def sync_alive(self) -> bool:
        """Whether the sync's thread (made at the worker's first job) still runs."""
        with self._parts_lock:
            sync = self._sync
        return sync is not None and sync.is_alive()

    def busy(self) -> bool:
        """True while the worker's queued jobs are not done yet."""
        return self.worker.busy()

    @staticmethod
    def logged_in():
        """Whether a login is stored: token.json decides, never the settings that mirror it."""
        return bool(account.current_login())

    def settings_changed(self):
        """The user saved the settings (or Defaults reset them), or the service mirrored the login."""
        self.rules = read_rules()
        account.mirror()  # e.g. Defaults blanked the account status: show the truth again
        self.rewatch.follow_setting()
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
        owner = account.current_owner()
        if owner != self._owner:
            self._owner = owner
            self._follow_account(owner)
        was_logged_in, self._was_logged_in = self._was_logged_in, self.logged_in()
        if self._was_logged_in:
            if self.flusher.auth_blocked or not was_logged_in:
                self.client.hold_posts()  # the login script POSTed /users/settings a moment ago
            if not was_logged_in:
                self.sync.request(delay=SYNC_AFTER_LOGIN)
            self.flusher.resume()  # a new login after a 401

    def _follow_account(self, owner):
        """Another account (or none) is logged in: the sessions of any other end, and what was queued while
        nobody was logged in is the new account's (the queue shows and sends only its entries and nobody's)."""
        self.rewatch.follow_account(owner.key if owner else None)
        self.notices.account_changed()
        if owner is not None:
            claimed = self.outbox.claim(owner)
            if claimed:
                kodi.log("%d queued entries made while nobody was logged in are now %s's" % (claimed, owner.name))

    def notification(self, sender, method, data):
        """Kodi's notifications, and our scripts' hand-offs (kodi.hand_over), each to the part it is for."""
        if method.startswith("Other.") and sender == config.ADDON_ID:
            handler = self._hand_offs.get(method[len("Other."):])
            if handler is not None:
                handler(data)
        elif method == "VideoLibrary.OnScanFinished":
            self.sync.request(delay=SYNC_AFTER_SCAN)
        elif method.startswith("Player.On"):
            self.marks.notification(method, data)
            if method == "Player.OnStop":
                self.notices.playback_ended()  # what was held back while it played
        elif method == "VideoLibrary.OnUpdate":
            data = notification_data(data)  # once: the sync's first run brings tens of thousands of these
            self.library_index.notification(method, data)
            # Decided now, in Kodi's order of notifications: by the time the worker looks, playback
            # may have moved on.
            self._library_update(library_item(data), playcount_of(data))
        elif method == "VideoLibrary.OnRemove":
            self.library_index.notification(method, notification_data(data))

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
                entry_id = self.worker.commit_watch(report, tracked.playback.finished_at)
            if self.live.finished(tracked, verdict.watched, entry_id):
                held.add(entry_id)
        if not verdict.watched:
            kodi.debug("not watched: %r (%s)" % (label, verdict.reason))
            return
        kodi.log("watched %r (%s)" % (label, verdict.reason))
        self.worker.watch_committed()
        if not self.logged_in():
            self.notices.kept_logged_out()

    def _library_update(self, key, playcount):
        if key is None or playcount is None:
            return  # an update without a playcount: resume points, artwork, …
        playback_caused = self.marks.caused_by_playback(key, playcount)
        kind, dbid = key
        if self.own_writes.consume(key, playcount):
            return  # the sync's own write, echoed by Kodi
        if playback_caused:
            kodi.debug("playcount of library %s %d changed by its playback: not a mark" % (kind, dbid))
            return
        if not kodi.setting_bool("sync_library_marks", True) or kind not in ("movie", "episode"):
            return
        report = {"media_type": kind, "dbid": dbid, "label": "%s %d" % (kind, dbid)}
        self.worker.commit_mark(report, self.clock(), "add" if playcount > 0 else "remove")

    # -- what the worker and the live scrobbler ask ------------------------------------------------
    def _lookup(self, report):
        """The title of a committed watch or mark (on the worker's thread)."""
        with self._resolving:
            return self.resolver.lookup(playing_item(report))

    def _may_deliver(self, entry_id, item):
        """May a live stop write this watch into the history now: nothing older of the title waits in the queue."""
        return not self.outbox.waiting_before(entry_id, item.key())

    @staticmethod
    def _account_key():
        owner = account.current_owner()
        return owner.key if owner else None

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

    def _search_file(self, name):
        if not self.worker.may_post():
            raise SearchUnavailable("not logged in")
        try:
            return self.client.search_file(name)
        except ApiError as exc:
            raise SearchUnavailable(type(exc).__name__) from None

    def _auth_expired(self):
        account.logged_out(rejected_token=self.client.tokens.last_token)
