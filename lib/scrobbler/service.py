"""The background service: the monitor loop, and the worker that resolves, queues and sends watches."""
import json
import os
import queue
import threading
import time
import traceback

import xbmc

from . import account, config, kodi
from .api import ApiError
from .flush import Flusher
from .marks import PlaybackMarks, library_item
from .media import Show
from .outbox import Outbox
from .player import Player
from .resolve import Library, Resolver, SearchUnavailable, search_name
from .rewatch import PENDING_PREFIX, Sessions, session_for
from .watch import Rules, decide

# Marking a season or a show in Kodi sends one update per episode, a few milliseconds apart: they
# are sent to Simkl together once no new mark came for this long.
MARKS_SETTLE = 2.0
REWATCH_PROPERTY = config.ADDON_ID + ".rewatch"  # the context menu's visibility condition reads it


def read_rules() -> Rules:
    folders = tuple(f for f in (kodi.setting_str("exclude_folder%d" % n) for n in range(1, 6)) if f)
    return Rules(threshold=max(1, min(100, kodi.setting_int("threshold", 80))) / 100.0,
                 min_length=max(0, kodi.setting_int("min_length", 5)) * 60.0,
                 movies=kodi.setting_bool("scrobble_movies", True),
                 episodes=kodi.setting_bool("scrobble_episodes", True),
                 exclude_http=kodi.setting_bool("exclude_http"),
                 exclude_plugin=kodi.setting_bool("exclude_plugin"),
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
    def __init__(self, clock=time.time, sleep=None):
        self.clock = clock
        self.profile = kodi.profile_dir()
        self.outbox = Outbox(os.path.join(self.profile, config.OUTBOX_FILE), clock=clock, log=kodi.warn)
        self.client = account.make_client(clock=clock if sleep else None, sleep=sleep)
        self.resolver = Resolver(Library(kodi.jsonrpc), search_file=self._search_file, log=kodi.debug)
        self.sessions = Sessions(self.profile, clock=clock)
        self.flusher = Flusher(self.outbox, self.client, clock=clock, log=kodi.log,
                               on_auth_expired=self._auth_expired, on_sent=self._sent,
                               on_rewatch=self._rewatch_answered, session_id=self._session_id)
        self.rules = read_rules()
        self.marks = PlaybackMarks(clock=clock)
        self._marks_flush_at = None  # when queued library marks are sent, once they stopped coming
        self._sent_batch = []  # entries Simkl took during the current flush, announced together
        self._was_logged_in = kodi.setting_bool("logged_in")
        self._worker_logged_in = self._was_logged_in  # the worker's own view, see _may_post()
        self.jobs = queue.Queue()
        self.monitor = Monitor(self)
        self.player = Player(on_finished=lambda tracked: self.jobs.put(("finished", tracked)),
                             rules=lambda: self.rules, clock=clock)
        self._worker = threading.Thread(target=self._work, name="simkl-worker", daemon=True)
        self._stopping = threading.Event()

    # -- main loop (Kodi's service thread) --------------------------------------------------------
    def run(self):
        kodi.log("service %s %s started (Kodi %s)" % (config.ADDON_ID, kodi.addon_version(), kodi.kodi_version()))
        self._sync_rewatch_setting()
        self._worker.start()
        self.kick()
        while not self.monitor.waitForAbort(3600):
            self.jobs.put(("prune",))
        self.stop()
        kodi.clear_home_property(REWATCH_PROPERTY)
        kodi.log("service stopped")

    def stop(self):
        self._stopping.set()
        self.player.stop_sampling()
        self.jobs.put(None)
        self._worker.join(0.5)  # a request in flight may not finish; its entries stay queued

    def kick(self):
        self.jobs.put(("flush",))

    def settings_changed(self):
        self.rules = read_rules()
        was_logged_in, self._was_logged_in = self._was_logged_in, kodi.setting_bool("logged_in")
        self._sync_rewatch_setting()
        if kodi.setting_bool("logged_in"):
            if self.flusher.auth_blocked or not was_logged_in:
                self.client.hold_posts()  # the login script POSTed /users/settings a moment ago
            self.flusher.resume()  # a new login after a 401
        self.kick()

    def _sync_rewatch_setting(self):
        """Keep the context menu's visibility in step with Track rewatches; off ends every session."""
        if kodi.setting_bool("track_rewatches"):
            kodi.set_home_property(REWATCH_PROPERTY, "true")
        else:
            kodi.clear_home_property(REWATCH_PROPERTY)
            if self.sessions.all():
                self.sessions.end_all()
                kodi.log("Track rewatches is off: rewatch sessions ended")

    def notification(self, sender, method, data):
        if method == "Other." + config.FLUSH_MESSAGE and sender == config.ADDON_ID:
            self.flusher.resume()
            self.kick()
        elif method.startswith("Player.On"):
            self.marks.notification(method, data)
        elif method == "VideoLibrary.OnUpdate":
            # Decided now, in Kodi's order of notifications: by the time the worker looks, playback
            # may have moved on.
            self.jobs.put(("library", data, self._playback_caused(data)))

    # -- worker thread ----------------------------------------------------------------------------
    def _work(self):
        while True:
            due = self.flusher.next_due() if kodi.setting_bool("logged_in") else None
            if self._marks_flush_at is not None:
                due = self._marks_flush_at if due is None else min(due, self._marks_flush_at)
            timeout = None if due is None else max(0.0, due - self.clock())
            try:
                job = self.jobs.get(timeout=timeout)
            except queue.Empty:
                self.jobs.put(("flush",))  # due retries: through the queue, so busy() sees them
                continue
            if job is None or self._stopping.is_set():
                return
            try:
                self._handle(job)
            except Exception:  # noqa: BLE001 - one bad job must never take down the service
                kodi.error("unexpected error in %s: %s" % (job[0], traceback.format_exc().replace("\n", " | ")))
            finally:
                self.jobs.task_done()

    def busy(self) -> bool:
        """True while queued jobs are not done yet."""
        return self.jobs.unfinished_tasks > 0

    def _handle(self, job):
        kind = job[0]
        if kind == "finished":
            if self._queue_watch(job[1]):
                self._flush()
        elif kind == "library":
            if self._queue_library_update(job[1], job[2]):
                self._marks_flush_at = self.clock() + MARKS_SETTLE
        elif kind == "flush":
            if self._marks_flush_at is None or self.clock() >= self._marks_flush_at:
                self._flush()
        elif kind == "prune":
            self.outbox.prune()

    def _may_post(self) -> bool:
        """Logged in, as the worker sees it before a POST. A login it has not seen yet holds POSTs for a
        second first: the login script POSTed /users/settings a moment ago, and settings_changed (on
        Kodi's thread) may not have run yet, or may have read the settings file while it was written."""
        logged_in = kodi.setting_bool("logged_in")
        if logged_in and not self._worker_logged_in:
            self.client.hold_posts()
        self._worker_logged_in = logged_in
        return logged_in

    def _flush(self):
        self._marks_flush_at = None
        if not self._may_post():
            return
        self._sent_batch = []
        try:
            self.flusher.flush(should_stop=self._stopping.is_set)
        finally:
            sent, self._sent_batch = self._sent_batch, []
            self._announce(sent)

    def _queue_watch(self, tracked) -> bool:
        verdict = decide(tracked.playback, self.rules)
        label = tracked.item.title or _file_label(tracked.item.origin)
        if not verdict.watched:
            kodi.debug("not watched: %r (%s)" % (label, verdict.reason))
            return False
        item = self.resolver.resolve(tracked.item)
        if item is None:
            kodi.log("watched %r but could not tell which title it is (%s); nothing queued"
                     % (label, self.resolver.last_reason))
            self._remember_unidentified(label)
            return False
        session = session_for(item, self.sessions) if kodi.setting_bool("track_rewatches") else None
        if session is not None:
            # The user started this show's rewatch session: its episodes continue it (pinned rewatch_id).
            self.outbox.add(item, tracked.playback.finished_at, rewatch=True, rewatch_id=session)
            kodi.log("queued %s as part of its rewatch session" % item.label())
            return True
        if self.outbox.add(item, tracked.playback.finished_at) is None:
            kodi.debug("%s was already queued in the last 48 hours" % item.label())
            return False
        kodi.log("queued %s as watched (%s)" % (item.label(), verdict.reason))
        return True

    def _queue_library_update(self, data, playback_caused) -> bool:
        key, playcount = library_item(data), _playcount(data)
        if key is None or playcount is None:
            return False  # an update without a playcount: resume points, artwork, …
        kind, dbid = key
        if playback_caused:
            kodi.debug("playcount of library %s %d changed by its playback: not a mark" % (kind, dbid))
            return False
        if not kodi.setting_bool("sync_library_marks", True) or kind not in ("movie", "episode"):
            return False
        library = Library(kodi.jsonrpc)
        found = library.movie(dbid) if kind == "movie" else library.episode(dbid)
        if found is None:
            kodi.log("library item %s %d not found; mark not sent" % (kind, dbid))
            return False
        if playcount > 0:
            queued = self.outbox.add(found, self.clock()) is not None
        else:
            queued = self.outbox.add(found, self.clock(), kind="remove") is not None
        kodi.log("queued %s from the library: %s" % ("watched" if playcount > 0 else "unwatched", found.label()))
        return queued

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
        """For a queued session episode: the pinned rewatch_id, "" while unknown, None once ended."""
        if not kodi.setting_bool("track_rewatches"):
            return None
        session = self.sessions.get(placeholder[len(PENDING_PREFIX):])
        if session is None:
            return None
        return session.get("rewatch_id") or ""

    def _rewatch_answered(self, entry, response):
        label = entry.item.label()
        rewatch_id = response.get("rewatch_id")
        if response.get("error") == "pro_required":
            kodi.log("Simkl refused a rewatch: PRO or VIP required")
            kodi.notify(kodi.localize(32310), icon=kodi.WARNING)
        elif not rewatch_id:
            kodi.log("Simkl answered a rewatch of %s without a rewatch_id; not retried" % label)
            kodi.notify(kodi.localize(32311, label), icon=kodi.WARNING)
        elif isinstance(entry.item, Show):
            self.sessions.pin(entry.item.key(), rewatch_id)
            kodi.notify(kodi.localize(32312, label))
            return
        else:
            kodi.notify(kodi.localize(32313, label))
            return
        if isinstance(entry.item, Show):
            self.sessions.end(entry.item.key())

    def _auth_expired(self):
        account.logged_out(rejected_token=self.client.tokens.last_token)

    def _sent(self, entries):
        self._sent_batch.extend(entries)

    def _announce(self, entries):
        """One notification for what one flush delivered (a whole marked season is one)."""
        added = [e for e in entries if e.kind == "add" and not e.rewatch]
        if not added or not kodi.setting_bool("notify_watched", True):
            return
        if kodi.setting_bool("notify_quiet_playback") and self.player.isPlayingVideo():
            return
        if len(added) == 1:
            kodi.notify(kodi.localize(32200, added[0].item.label()))
        else:
            kodi.notify(kodi.localize(32201, len(added)))

    def _remember_unidentified(self, label):
        path = os.path.join(self.profile, config.UNIDENTIFIED_FILE)
        try:
            with open(path, encoding="utf-8") as handle:
                items = json.load(handle)
        except (OSError, ValueError):
            items = []
        items = ([{"title": label, "at": int(self.clock())}] + [i for i in items if isinstance(i, dict)])[:20]
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(items, handle)


def _playcount(data):
    try:
        playcount = (json.loads(data) if isinstance(data, str) else data)["playcount"]
        return int(playcount)
    except (ValueError, KeyError, TypeError):
        return None


def _file_label(path):
    """What the log and the status view call an item without a title: a file's name, or the add-on
    it came from; never a stream's address."""
    if path.lower().startswith("plugin://"):
        return path[len("plugin://"):].split("/")[0]
    return search_name(path, episode=False)


def run():
    Service().run()
