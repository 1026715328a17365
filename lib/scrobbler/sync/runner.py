"""When the sync runs: one at a time, in a thread of its own, never while something plays or Kodi
scans its library; a progress bar in the corner only for the first sync, an import and "Sync now", and
only for its first seconds: a longer sync goes on quietly and tells its end.

Triggers (the service calls `request`): a login, the service's start once Kodi has settled, the
end of a library scan, every hour, and the user's "Sync now" / "Send Kodi's history" actions.
The same thread looks at Kodi's "My rating" changes (ratings/follow.py) after every sync and every few
minutes between them, never while a video plays: Kodi announces no rating change (a bare database update,
CGUIDialogVideoInfo and VideoLibrary.SetMovieDetails alike; tests/e2e/test_ratings.py), so only a look finds it.
"""
import threading
import time
from dataclasses import dataclass
from typing import Callable, Optional

from .. import kodi
from ..counts import WATCHES_QUEUED, count, movies_and_episodes
from ..media import Episode
from ..simkl.account import current_owner, token_store
from ..simkl.api import ApiError, AuthExpired
from .state import SyncState

IDLE_CHECK = 2.0  # seconds between looks at the player while a sync waits for playback to end
# Kodi's scanning state is read under its GUI lock, which waits for the frame being drawn: looked at once a
# second while writing, not before each batch.
SCAN_LOOK = 1.0
# The progress bar's spinning image makes Kodi redraw the whole screen every frame (a core of software GL on
# a box without a GPU: Kodi then wrote at half its rate, bench/README.md): up this long at most.
PROGRESS_SHOWN = 10.0
# A question waits until nothing has played for this long: a playlist's next item, Up Next or the user's next
# choice starts well within it, and a modal question must never come up over a video.
QUIET_AFTER = 10.0
# Between syncs, Kodi's rated movies and shows are read this often (Kodi only, no Simkl request).
RATINGS_CHECK_EVERY = 300.0


@dataclass
class Request:
    full: bool = False
    manual: bool = False  # the user asked: show progress and the outcome
    send_history: bool = False  # the user asked to send Kodi's watched history to Simkl


class SyncRunner:
    def __init__(self, client, outbox, profile: str, own_writes, player, stopping: threading.Event,
                 on_queued: Callable[[], None], clock: Callable[[], float] = time.time, index=None, ratings=None,
                 on_auth_expired: Callable[[], None] = lambda: None):
        """index: the library index (index.py) the service keeps current from Kodi's notifications;
        ratings: the ratings' memo and check (ratings/follow.py), None without them; on_auth_expired: Simkl
        rejected the login (a 401 refresh could not mend), as the sender's is handled."""
        self._client = client
        self._index = index
        self._outbox = outbox
        self._profile = profile
        self._own_writes = own_writes
        self._player = player
        self._stopping = stopping
        self._on_queued = on_queued
        self._on_auth_expired = on_auth_expired
        self._clock = clock
        self._lock = threading.Lock()
        self._scan_seen_at: Optional[float] = None  # when Kodi last said it was not scanning
        self._wake = threading.Event()
        self._due: Optional[float] = None
        self._ratings = ratings
        self._check_due: Optional[float] = None  # the next look at Kodi's ratings between syncs
        self._pending: Optional[Request] = None
        self.running = False
        self.completed = 0  # syncs run so far (ended, failed or stopped)
        self._thread = threading.Thread(target=self._loop, name="simkl-sync", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def request(self, delay: float = 0.0, full: bool = False, manual: bool = False,
                send_history: bool = False) -> None:
        """Run a sync in `delay` seconds (sooner if one is already due); requests made meanwhile merge."""
        with self._lock:
            pending = self._pending or Request()
            self._pending = Request(pending.full or full, pending.manual or manual,
                                    pending.send_history or send_history)
            due = self._clock() + delay
            self._due = due if self._due is None else min(self._due, due)
        self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            with self._lock:
                due = self._due
            if due is None or due > self._clock():
                if self._check_due is not None and self._check_due <= self._clock():
                    self.check_ratings()
                    continue
                wakes = [when for when in (due, self._check_due) if when is not None]
                self._wake.wait(max(0.0, min(wakes) - self._clock()) if wakes else None)
                self._wake.clear()
                continue
            with self._lock:
                request, self._pending, self._due = self._pending, None, None
            try:
                self.running = True
                self.run(request or Request())
            except Exception as exc:  # noqa: BLE001 - a failed sync must never end the thread
                kodi.error("sync failed: %s: %s" % (type(exc).__name__, exc))
            finally:
                self.running = False
                self.completed += 1

    def run(self, request: Request) -> None:
        from .engine import Options, Stopped  # imported at the first sync, not at Kodi's start
        from .library import KodiLibrary
        login = token_store().load()
        if not login.get("access_token"):
            return
        to_kodi = kodi.setting_bool("sync_from_simkl", True)
        if not to_kodi and not request.send_history:
            self.check_ratings()
            return
        account = str(login.get("user_name") or "")
        owner = current_owner()  # whose Simkl this sync compares Kodi with: what it finds to send is for it only
        state = SyncState(self._profile, account)
        first = not state.full_done
        offer_due = state.import_due and not state.import_offered  # Kodi quit before it was asked
        progress = Progress(self._clock) if first or request.manual or request.send_history else None
        library = KodiLibrary(kodi.jsonrpc, kodi.jsonrpc_batch, index=self._index, log=kodi.log)
        engine = self._engine(library, account, progress)
        options = Options(full=request.full or request.send_history or offer_due, to_kodi=to_kodi,
                          unwatch=kodi.setting_bool("sync_unwatch"), collect_import=True,
                          resume=kodi.setting_bool("sync_resume", True),
                          ratings=kodi.setting_bool("sync_ratings", True))
        try:
            result = engine.run(options)
        except Stopped:
            return
        except AuthExpired as exc:
            kodi.log("sync: Simkl rejected the login (%s)" % (exc.error or exc.status))
            self._on_auth_expired()  # told once, and forgotten: the next sync waits for a login
            return
        except ApiError as exc:
            self._unreachable(request, exc)
            return
        finally:
            self._close(progress, library)
        self.check_ratings()
        if to_kodi:
            self._synced(account)
        self._after(request, account, owner, result, progress)

    def _synced(self, account: str) -> None:
        """Simkl and Kodi were compared to the end: when, for the status view (read again: the engine saved)."""
        state = SyncState(self._profile, account)
        state.synced_at = self._clock()
        state.save()

    def _engine(self, library, account: str, progress: Optional["Progress"]):
        """The sync's engine, its writes announced to the service and its progress shown on the bar, if any."""
        from .engine import SyncEngine
        return SyncEngine(self._client, library, self._profile, account,
                          expect=lambda write: self._own_writes.expect((write.kind, write.dbid), write.playcount),
                          wait_idle=self.wait_idle, log=kodi.log,
                          progress=(lambda percent, message: progress.update(percent, message)) if progress
                          else (lambda percent, message: None), confirm_unmark=self._confirm_unmark,
                          ratings=self._ratings)

    def check_ratings(self) -> None:
        """Look at Kodi's "My rating" changes and queue the user's own for Simkl (ratings/follow.py); the next
        look is due RATINGS_CHECK_EVERY later. Not while a video plays, nor with Keep ratings the same off."""
        self._check_due = self._clock() + RATINGS_CHECK_EVERY
        if self._stopping.is_set() or self._ratings is None or not kodi.setting_bool("sync_ratings", True) \
                or self._player.isPlayingVideo():
            return  # Kodi quits: the next start looks
        try:
            checked = self._ratings.check()
        except Exception as exc:  # noqa: BLE001 - a failed look must never end the sync's thread
            kodi.error("ratings check failed: %s: %s" % (type(exc).__name__, exc))
            return
        if checked is not None and checked.rated + checked.removed:
            self._on_queued()

    @staticmethod
    def _unreachable(request: Request, exc: ApiError) -> None:
        """Simkl could not be asked: a line in the log, and a word to the user who asked for this sync."""
        kodi.log("sync: Simkl could not be asked (%s: %s); the next sync tries again" % (type(exc).__name__, exc))
        if request.manual or request.send_history:
            kodi.notify(kodi.localize(32401), heading=kodi.localize(32775), icon=kodi.WARNING)

    @staticmethod
    def _close(progress: Optional["Progress"], library) -> None:
        """A sync ended, whatever way: the bar goes, and the log tells how much of Kodi's library was read."""
        if progress is not None:
            progress.close()
        if library.read_calls:
            kodi.log("sync: read %d of Kodi's library items in %d calls" % (library.items_read, library.read_calls))

    def _after(self, request: Request, account: str, owner, result, progress: Optional["Progress"]) -> None:
        """A sync done: send or offer to send Kodi's history, and tell the end when the user asked (or the bar
        had gone)."""
        if request.send_history:
            if self._still_logged_in(owner, account):
                self._send(result.to_send, announce=True)
            else:  # the user asked for it: say why nothing was queued
                kodi.notify(kodi.localize(32880), heading=kodi.localize(32881), icon=kodi.WARNING)
        elif result.full:
            self._offer(account, owner, result.to_send)
        if (request.manual or (progress is not None and progress.put_away)) and not request.send_history:
            kodi.notify(kodi.localize(32402, result.marked) if result.marked else kodi.localize(32759))

    def _offer(self, account: str, owner, to_send) -> None:
        """After the first full sync for a login, ask once whether to send what Kodi has and Simkl has not:
        once nothing plays (see wait_quiet). Should Kodi quit first, the next sync is a full one and asks; should
        another account log in meanwhile, the account's next sync asks (its titles are not the other's to send)."""
        state = SyncState(self._profile, account)
        if state.import_offered:
            return
        if not to_send:
            if state.import_due:  # Simkl got them meanwhile: nothing to ask, and the next syncs are cheap again
                state.import_due = False
                state.save()
            return
        if not state.import_due:
            state.import_due = True
            state.save()
        kodi.log("sync: %d of Kodi's watched items are not on Simkl: asking whether to send them once nothing plays"
                 % len(to_send))
        if not self.wait_quiet() or not self._still_logged_in(owner, account):
            return
        state.offered()
        state.import_due = False
        state.save()
        if kodi.yesno_dialog(offer_text(to_send), heading=kodi.localize(32750)):
            self._send(to_send, announce=True)

    def _confirm_unmark(self, movies: int, episodes: int) -> bool:
        """Ask before a full sync unmarks many items in Kodi, once nothing plays (see wait_quiet)."""
        if not self.wait_quiet():
            return False
        what = movies_and_episodes(movies, episodes, kodi.localize)
        return kodi.yesno_dialog(kodi.localize(32421, what), heading=kodi.localize(32420))

    def _send(self, to_send, announce: bool) -> None:
        queued = self._outbox.add_many(to_send)
        kodi.log("sync: %d of Kodi's watched items queued for Simkl" % queued)
        if announce:
            kodi.notify(count(queued, WATCHES_QUEUED, kodi.localize) if queued else kodi.localize(32758))
        if queued:
            self._on_queued()

    def wait_idle(self) -> bool:
        """Before each write batch: wait while a video plays (paused too) or Kodi scans its library; False
        once Kodi quits. Nothing else waits: Kodi answers JSON-RPC and draws its GUI beside the writes."""
        while self._player.isPlayingVideo() or self._scanning():
            if self._stopping.wait(IDLE_CHECK):
                return False
            self._scan_seen_at = None  # look again after a wait
        return not self._stopping.is_set()

    @staticmethod
    def _still_logged_in(owner, account: str) -> bool:
        """Whether the account a sync compared Kodi with is still the one logged in: Kodi's titles another
        account's Simkl lacked are never queued for the next account (its queue would send them to it)."""
        if current_owner() == owner:
            return True
        kodi.log("sync: %s is no longer logged in: Kodi's history found missing there is not queued" % account)
        return False

    def wait_quiet(self) -> bool:
        """Before a question: wait until nothing plays, no playlist goes on to a next item, and no file opened
        or closed for QUIET_AFTER seconds; False once Kodi quits. A wake() looks again at once."""
        while not self._stopping.is_set():
            if self._player.quiet(QUIET_AFTER):
                return True
            self._wake.wait(IDLE_CHECK)
            self._wake.clear()
        return False

    def _scanning(self) -> bool:
        now = self._clock()
        if self._scan_seen_at is not None and 0 <= now - self._scan_seen_at < SCAN_LOOK:
            return False
        if kodi.condition("Library.IsScanningVideo"):
            return True
        self._scan_seen_at = now
        return False


def offer_text(to_send) -> str:
    """The history question: what Kodi would send (the title when it is one), and where to do it later."""
    if len(to_send) == 1:
        question = kodi.localize(32752, to_send[0][0].label())
    else:
        episodes = sum(1 for item, _ in to_send if isinstance(item, Episode))
        question = kodi.localize(32751, movies_and_episodes(len(to_send) - episodes, episodes, kodi.localize))
    return "%s[CR]%s" % (question, kodi.localize(32753))


class Progress:
    """The progress bar in the corner for the sync's first PROGRESS_SHOWN seconds; a sync still going
    then says once that it goes on in the background, and (see run) tells its end."""

    def __init__(self, clock: Callable[[], float]):
        self._clock = clock
        self._shown_at = clock()
        self._bar = kodi.ProgressBG(kodi.localize(32000), kodi.localize(32400))
        self.put_away = False

    def update(self, percent: int, message: str = "") -> None:
        if self._bar is None:
            return
        if percent < 100 and self._clock() - self._shown_at >= PROGRESS_SHOWN:
            self.close()
            self.put_away = True
            kodi.notify(kodi.localize(32439, percent), heading=kodi.localize(32400))
            return
        self._bar.update(percent, message)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
