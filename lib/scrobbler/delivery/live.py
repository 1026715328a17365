"""Live "Watching now" on Simkl: /scrobble/start, /pause and /stop, driven by real player events only.

What is sent (simkl-api §5): `start` once a followed item plays and its ids are known, and again on
resume; `pause` on pause; `stop` when the item ends, is stopped, or a playlist or Up Next moves on. A
seek while playing is a new `start` with the new progress, while paused a new `pause`. Nothing runs on
a timer, and a state Simkl already has (the same state at about the position Simkl extrapolates) is
never posted again.

Simkl serialises a user's scrobbles behind a 20-second lock and answers one that comes too soon with
400 RATE_LIMIT. So a change is sent once no other change came for QUIET seconds and the lock is free:
a seek storm or a quick pause and resume is one request or none. A RATE_LIMIT answer means "later"
(another device may hold the lock), never an error.

Live events are perishable: an event Simkl did not take is never sent later, and only the newest state
of an item is ever sent. They go out from this module's own thread, never from Kodi's callback thread.
The watch alone is durable, in the outbox, and Simkl gets exactly one history entry for it:

- The watch decision commits the watch to the outbox first (service.py), then hands the stop to this
  module, which holds the entry (`holds.Holds`) in the same step: while the stop is undecided, the
  sender never posts that entry to /sync/history.
- A stop carrying progress >= 80 that Simkl answered 2xx with "action": "scrobble", or 409 (already
  scrobbled within the hour), wrote the history entry itself: the entry is recorded as sent.
- A stop that would write history while an older change of the same title (an unmark, say) is still
  on its way through the outbox goes as a pause instead: Simkl gets the user's changes in their order.
- Any other outcome (progress below 80 because the user's threshold is lower, offline, 5xx, 404, the
  lock refused it again and again, the item never went live) releases the entry, and the outbox sends
  it to /sync/history with its real watched_at.
- A quit or crash while the stop is undecided ends the hold with the process (it lives in memory
  only): after the restart the entry is pending and goes to /sync/history once. If Simkl had taken the
  stop, that post re-adds a watched item without allow_rewatch, which Simkl documents as a no-op
  (simkl-api §6.1, §8.2), so it is still one entry. A hold written to disk could not do better: after a
  crash nothing tells whether Simkl took the stop, and replaying the stop itself would lose the real
  watched_at once Simkl's 1-hour guard has passed.

Nothing here ever carries allow_rewatch; episodes of a rewatch session the user started are not sent
live (their watch must carry the session's rewatch_id, which only /sync/history can).
"""
import threading
import time
from typing import Callable, List, Optional

from ..media import Episode, Media, Movie, movie_reference, show_reference
from ..simkl.api import ApiError, RateLimited, Rejected

LOCK_SECONDS = 20.0  # Simkl's per-user scrobble lock
QUIET = 3.0  # seconds without a further change before one is sent (seeks, a quick pause and resume)
DRIFT = 30.0  # seconds of media a position may differ from Simkl's by and still be the same state
WATCHED_PROGRESS = 80.0  # Simkl: a stop at or above it is a watch, "the only magic number"
LOCK_RETRIES = 3  # RATE_LIMIT answers after which an event is given up
RECORD_RETRY = 30.0  # seconds before recording a scrobbled watch is tried again (the disk failed)
LONGEST_WAIT = 60.0  # while something is due later, the thread looks again at least this often

PLAYING, PAUSED = "playing", "paused"


def progress_of(position: float, total: float) -> float:
    """Simkl's progress: a percentage with at most two decimals."""
    if total <= 0:
        return 0.0
    return round(min(100.0, max(0.0, position / total * 100.0)), 2)


def scrobble_body(item: Media, progress: float) -> dict:
    """The one place that builds a /scrobble/* body: one movie, or one show with its episode."""
    if isinstance(item, Movie):
        return {"progress": progress, "movie": movie_reference(item)}
    return {"progress": progress, "show": show_reference(item),
            "episode": {"season": item.season, "number": item.number}}


def live_ids(item: Optional[Media]) -> bool:
    """Has the item ids a live event may name (title and year alone are not enough)?"""
    if isinstance(item, Movie):
        return bool(item.ids)
    return isinstance(item, Episode) and bool(item.write_ids())


class _Session:
    """One followed item on its way through start, pause and stop."""

    def __init__(self, tracked, now: float):
        self.tracked = tracked  # player.Tracked: the PlayingItem and its Playback
        self.state = PLAYING
        self.changed_at = now  # when the last player event came (a change is sent once it is QUIET old)
        self.version = 0  # counts the player events: each is handled once
        self.handled: Optional[int] = None  # version of the last event handled
        self.resolved = False
        self.media: Optional[Media] = None  # None once resolved: never live (no ids, a rewatch session)
        self.sent = None  # (state, position, when) Simkl took last
        self.tried = False  # an event was sent, whatever the answer
        self.unknown = False  # Simkl answered 404 (or another account logged in): nothing more is sent for it
        self.account = None  # the account logged in when it started (a key; None: nobody)
        self.lock_refusals = 0
        self.ended = False
        self.watched = False
        self.entry_id: Optional[int] = None  # the outbox entry held for the stop
        self.record_at: Optional[float] = None  # Simkl took the stop; recording it failed, try again then

    def label(self) -> str:
        return self.media.label() if self.media is not None else (self.tracked.item.title or "item")


class Live:
    """Sends live scrobbles from a thread of its own; the player's callbacks only note what happened.

    client: api.Client (one request at a time, shared with the sender).
    resolve(playing_item) -> Media or None: the title, or None when it must not go live.
    enabled(tracked) -> bool: may this item go live, asked when it starts (the setting, a login, its length).
    holds: holds.Holds of the entries whose stop is undecided.
    on_scrobbled(entry_id, media): Simkl wrote the watch itself; record it as sent (may raise).
    on_released(): an entry goes back to the sender (kick it).
    may_deliver(entry_id, media) -> bool: may a stop deliver this watch now (nothing older of the title
        waits in the outbox)?
    account() -> the key of the account logged in now (None: nobody): what a session started under goes
        live only while that account stays logged in, never with the next one's login.
    clock: the steady clock waits are measured on.
    """

    def __init__(self, client, resolve: Callable, enabled: Callable[[object], bool], holds,
                 on_scrobbled: Callable[[int, Media], None], on_released: Callable[[], None],
                 may_deliver: Callable[[int, Media], bool] = lambda entry_id, media: True,
                 clock: Callable[[], float] = time.monotonic, log: Callable[[str], None] = lambda m: None,
                 account: Callable[[], Optional[str]] = lambda: None):
        self._client = client
        self._account = account
        self._may_deliver = may_deliver
        self._resolve = resolve
        self._enabled = enabled
        self._holds = holds
        self._on_scrobbled = on_scrobbled
        self._on_released = on_released
        self._clock = clock
        self._log = log
        self._cond = threading.Condition()
        self._sessions: List[_Session] = []  # oldest first: a stop goes before the next item's start
        self._lock_free = 0.0  # no scrobble before this time (Simkl's 20-second lock)
        self._working = False
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="simkl-live", daemon=True)

    # -- life cycle ----------------------------------------------------------------------------------
    def start(self):
        self._thread.start()

    def stop(self):
        """Kodi quits: undecided stops are left to the outbox (their holds end with the process)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()

    def kick(self):
        """Look again now (tests move virtual time, then kick)."""
        with self._cond:
            self._cond.notify_all()

    def busy(self) -> bool:
        """Sending, or something is due now."""
        with self._cond:
            if self._working:
                return True
            found = self._next(self._clock())
            return found is not None and found[2] <= self._clock()

    # -- player events (Kodi's callback thread: note and return) --------------------------------------
    def event(self, kind: str, tracked) -> None:
        """started, paused, resumed or seeked, for the followed item `tracked`."""
        if kind == "started":
            if not self._enabled(tracked):
                return
            with self._cond:
                self._sessions.append(_Session(tracked, self._clock()))
                self._cond.notify_all()
            return
        with self._cond:
            session = self._session(tracked)
            if session is None or session.ended:
                return
            if kind == "paused":
                session.state = PAUSED
            elif kind == "resumed":
                session.state = PLAYING
            session.changed_at = self._clock()
            session.version += 1
            self._cond.notify_all()

    def finished(self, tracked, watched: bool, entry_id: Optional[int]) -> bool:
        """The item ended or stopped, and was decided (`entry_id`: its watch, just committed). True when
        this module answers for that entry: the caller holds it in the same step, until it is released."""
        with self._cond:
            session = self._session(tracked)
            if session is None or (session.resolved and session.media is None):
                if session is not None:
                    self._sessions.remove(session)
                return False
            session.ended, session.watched = True, watched
            session.entry_id = entry_id
            session.version += 1
            self._cond.notify_all()
            return entry_id is not None

    def _session(self, tracked) -> Optional[_Session]:
        return next((s for s in self._sessions if s.tracked is tracked), None)

    # -- the thread ----------------------------------------------------------------------------------
    def _next(self, now):
        """(session, action, due) of the oldest session that needs something, or None."""
        for session in list(self._sessions):
            if session.record_at is not None:
                return session, "record", session.record_at
            if not session.resolved:
                return session, "resolve", now
            if session.media is None or session.unknown or session.handled == session.version:
                if session.ended:
                    return session, "close", now
                continue
            if session.ended:
                return session, "stop", self._lock_free
            return session, "send", max(session.changed_at + QUIET, self._lock_free)
        return None

    def _run(self):
        while True:
            with self._cond:
                self._working = False
                if self._stopping:
                    return
                now = self._clock()
                found = self._next(now)
                if found is None or found[2] > now:
                    # Nothing to do: asleep until a player event (no timer runs while nothing plays).
                    self._cond.wait(None if found is None else min(LONGEST_WAIT, found[2] - now))
                    continue
                session, action, _ = found
                self._working = True
            try:
                {"resolve": self._do_resolve, "close": self._do_close, "send": self._do_send,
                 "stop": self._do_stop, "record": self._record}[action](session)
            except Exception as exc:  # noqa: BLE001 - the live thread outlives every error; the outbox has the watch
                self._log("live scrobble of %s failed: %s: %s" % (session.label(), type(exc).__name__, exc))
                with self._cond:
                    session.resolved, session.unknown = True, True  # nothing more for it; a stop goes back

    def _do_resolve(self, session):
        media = self._resolve_item(session)
        account = self._account()
        with self._cond:
            session.resolved, session.media, session.account = True, media, account

    def _resolve_item(self, session):
        media = self._resolve(session.tracked.item)
        if not live_ids(media):
            self._log("not live on Simkl: %s has no ids" % session.label())
            return None
        return media

    def _do_close(self, session):
        """Done with the item: its entry (if held) goes back to the outbox."""
        with self._cond:
            if session in self._sessions:
                self._sessions.remove(session)
            entry_id, session.entry_id = session.entry_id, None
        if entry_id is not None:
            self._holds.release(entry_id)
            self._on_released()

    def _do_send(self, session):
        """Playing or paused: a start or a pause with the current progress, unless Simkl has that state."""
        with self._cond:
            state, version = session.state, session.version
        playback = session.tracked.playback
        position = playback.position
        if self._same_as_sent(session, state, position):
            self._handled(session, version)
            return
        progress = progress_of(position, playback.total)
        answer = self._post(session, "start" if state == PLAYING else "pause", progress, version)
        if answer is not None:
            with self._cond:
                session.sent = (state, position, self._clock())

    def _do_stop(self, session):
        """The item ended or stopped: a stop (or a pause, see below) and, for a watch, who delivers it."""
        with self._cond:
            version = session.version
        playback = session.tracked.playback
        position = playback.position
        progress = 100.0 if session.watched and playback.ended_naturally else progress_of(position, playback.total)
        if not session.tried:
            self._handled(session, version)  # never went live: nothing to end
            return
        delivers = session.watched and (session.entry_id is None
                                        or self._may_deliver(session.entry_id, session.media))
        if progress >= WATCHED_PROGRESS and not delivers:
            # Not a watch by the user's threshold, or an older change of the title is still on its way: a
            # stop would write history now; a pause keeps the resumable playback and writes none.
            if not self._same_as_sent(session, PAUSED, position):
                self._post(session, "pause", progress, version)
            else:
                self._handled(session, version)
            return
        if not session.watched and self._same_as_sent(session, PAUSED, position):
            self._handled(session, version)  # paused there already: a stop below 80 says nothing new
            return
        answer = self._post(session, "stop", progress, version)
        took = session.watched and progress >= WATCHED_PROGRESS and (
            answer == "conflict" or (isinstance(answer, dict) and answer.get("action") == "scrobble"))
        if took:
            self._log("Simkl wrote %s into the history from its live stop" % session.label())
            self._record(session)

    def _record(self, session):
        """Simkl has the watch: the outbox entry becomes sent, then it needs no hold."""
        entry_id = session.entry_id
        if entry_id is not None:
            try:
                self._on_scrobbled(entry_id, session.media)
            except Exception as exc:  # noqa: BLE001 - kept held (never posted) and recorded later
                self._log("recording the live scrobble of %s failed (%s); trying again in %.0f s"
                          % (session.label(), type(exc).__name__, RECORD_RETRY))
                with self._cond:
                    session.record_at = self._clock() + RECORD_RETRY
                return
        with self._cond:
            session.record_at = None
            session.entry_id = None  # recorded: closing it releases nothing back to the sender
        if entry_id is not None:
            self._holds.release(entry_id)

    def _post(self, session, action, progress, version):
        """One scrobble request. Returns Simkl's answer, "conflict" for 409, or None when it did not take it."""
        if self._account() != session.account:
            with self._cond:
                session.handled, session.unknown = version, True  # its watch waits in the outbox for its account
            self._log("live %s of %s not sent: another account is logged in now" % (action, session.label()))
            return None
        body = scrobble_body(session.media, progress)
        with self._cond:
            session.tried = True
        try:
            answer = self._client.scrobble(action, body)
        except ApiError as exc:
            answer = exc
        with self._cond:
            self._lock_free = self._clock() + LOCK_SECONDS  # whatever the answer, Simkl's lock starts again
            if (isinstance(answer, RateLimited) and answer.error == "RATE_LIMIT"
                    and session.lock_refusals < LOCK_RETRIES):
                session.lock_refusals += 1  # Simkl's lock: the same change goes once it is free
                return None
            session.handled = version  # taken or given up: the next change gets LOCK_RETRIES tries of its own
            session.lock_refusals = 0
            if isinstance(answer, Rejected) and answer.status == 404:
                session.unknown = True  # Simkl does not know the title: the outbox's history write will
        if not isinstance(answer, ApiError):
            return answer if isinstance(answer, dict) else {}
        if isinstance(answer, RateLimited):
            self._log("live %s of %s not sent: %s %s" % (action, session.label(), answer.status, answer.error))
        elif isinstance(answer, Rejected):
            if answer.status == 409:
                return "conflict"  # already scrobbled within the hour: Simkl has the watch
            self._log("live %s of %s refused: %s %s" % (action, session.label(), answer.status, answer.error))
        else:
            self._log("live %s of %s failed: %s" % (action, session.label(), answer))
        return None

    def _handled(self, session, version):
        with self._cond:
            session.handled = version

    def _same_as_sent(self, session, state, position) -> bool:
        """Does Simkl have this state already: the same state at about the position it extrapolates?"""
        if session.sent is None or session.sent[0] != state:
            return False
        sent_state, sent_position, sent_at = session.sent
        expected = sent_position + (self._clock() - sent_at if sent_state == PLAYING else 0.0)
        return abs(position - expected) < DRIFT
