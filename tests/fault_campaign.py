"""A randomized fault campaign: never lose, never duplicate, never stall.

`FaultCampaign` is a hypothesis state machine that drives the REAL service (`scenario.RunningService`,
the Kodi fakes, the fake Simkl server on one virtual clock) with what a user does in Kodi (plays,
playlists, library marks and unmarks, the Rewatch action, restarts, wall-clock jumps, time passing,
"Retry now") while the server fails in every way the fake can (503, dropped connections, 429 with and
without Retry-After, one refused or one server-breaking title in a batch, 401 then a new login, an
answer held in flight). The user also rates titles (a movie or a show, 1-10, or removes the rating), each a
queue entry of its own sent to /sync/ratings (or its remove), through the same faults.

The model keeps what the user caused, in order: every watch the decision counts, every mark and
unmark, every rewatch the user confirmed. Each one is committed to the outbox the moment it is made
(the model checks the outbox's row right away), and its row id is its place in the user's order.
When the worker has resolved a row, the model checks the outbox's 48-hour repeat rule was applied as
the add-on documents it (a second add of a title within 48 h of a kept add, with no remove queued in
between, is dropped; an episode of a rewatch session is checked against that session's adds only;
whether a rewatch makes an ordinary watch a repeat changed in 58c8d39, so either answer passes there),
and that an episode went into its show's rewatch session exactly when it was made after the session's
start (in commit order, which no clock jump can confuse).

Checked after every step: what Simkl received was caused by the user; `allow_rewatch=yes` only on
rewatches the user confirmed and episodes of a show session the user started before watching them;
nothing was delivered twice; per title, adds and removes arrived in the user's order; the worker is
alive; nothing is left unresolved once the worker is idle; Simkl saw no protocol violation. At the
end, after a drain (faults cleared, answers released, time past every backoff, logged in again):
nothing pending, and every watch, mark and unmark reached Simkl exactly once or waits, visible, for
the user in the outbox (refused), with a fault that explains it. Ratings: every rating choice reached Simkl
exactly once, in the order the user made the title's choices (or waits, refused, for the user), and Simkl's
rating of each title is the user's last choice that reached it.

tests/test_fault_campaign.py runs a bounded profile in the normal suite; tools/soak.py runs it long.
"""
import calendar
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Dict, Optional

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from virtual_time import VirtualClock
from xbmc import LOGERROR, InfoTagVideo
from xbmcgui import ListItem

import fakekodi
from fake_simkl import FakeSimkl
from lib.scrobbler import config, media
from lib.scrobbler.delivery.outbox import ATTENTION, DEDUPE_SECONDS, PENDING, REFUSED, UNRESOLVED
from lib.scrobbler.delivery.session_ids import pending_id
from lib.scrobbler.playback.marks import PLAYBACK_UPDATE_WINDOW
from lib.scrobbler.rewatch import action as rewatch_action
from lib.scrobbler.rewatch.sessions import MIN_GAP, SESSIONS_FILE
from lib.scrobbler.simkl.auth import TokenStore, owner_of
from scenario import RunningService, episode_tag, install_library, live_idle, log_in, movie_tag, wait_for

# --- the library -----------------------------------------------------------------------------------

SHOW_A = {"tvshowid": 3, "title": "The Last of Us", "year": 2023,
          "uniqueid": {"tvdb": "392256", "imdb": "tt3581920", "tmdb": "100088"}}
SHOW_B = {"tvshowid": 4, "title": "Severance", "year": 2022, "uniqueid": {"imdb": "tt11280740", "tvdb": "371980"}}
MOVIE_ROWS = (
    {"movieid": 1, "title": "Inception", "year": 2010, "uniqueid": {"imdb": "tt1375666", "tmdb": "27205"},
     "file": "/media/movies/Inception (2010)/Inception.mkv"},
    {"movieid": 2, "title": "Heat", "year": 1995, "uniqueid": {"imdb": "tt0113277", "tmdb": "949"},
     "file": "/media/movies/Heat (1995)/Heat.mkv"},
    {"movieid": 5, "title": "Arrival", "year": 2016, "uniqueid": {"imdb": "tt2543164", "tmdb": "329865"},
     "file": "/media/movies/Arrival (2016)/Arrival.mkv"},
)
EPISODE_ROWS = (
    ({"episodeid": 7, "tvshowid": 3, "title": "Long, Long Time", "season": 1, "episode": 3,
      "uniqueid": {"tvdb": "8444132"}, "file": "/media/tv/The Last of Us/Season 1/S01E03.mkv"}, SHOW_A),
    ({"episodeid": 8, "tvshowid": 3, "title": "Please Hold to My Hand", "season": 1, "episode": 4,
      "uniqueid": {"tvdb": "8444133"}, "file": "/media/tv/The Last of Us/Season 1/S01E04.mkv"}, SHOW_A),
    ({"episodeid": 20, "tvshowid": 4, "title": "Good News About Hell", "season": 1, "episode": 1,
      "uniqueid": {"tvdb": "7768171"}, "file": "/media/tv/Severance/Season 1/S01E01.mkv"}, SHOW_B),
    ({"episodeid": 21, "tvshowid": 4, "title": "Half Loop", "season": 1, "episode": 2,
      "uniqueid": {"tvdb": "8769651"}, "file": "/media/tv/Severance/Season 1/S01E02.mkv"}, SHOW_B),
)
LENGTHS = {1: 7200.0, 2: 6000.0, 5: 4200.0, 7: 3000.0, 8: 3300.0, 20: 3600.0, 21: 3000.0}  # 5 min minimum: all count


class Item:
    """A library title the campaign plays, marks or rewatches; printed as ITEMS[name] in examples."""

    def __init__(self, name, kind, dbid, key, ids, total=0.0, path="", show_key=None, row=None, show=None):
        self.name = name
        self.kind = kind  # movie | episode | tvshow
        self.dbid = dbid
        self.key = key  # the outbox's item key (media.Media.key())
        self.ids = ids  # "imdb=…": what the fake Simkl matches refused_ids / breaking_ids against
        self.total = total
        self.path = path
        self.show_key = show_key  # an episode's show
        self.row = row or {}
        self.show = show

    def tag(self):
        if self.kind == "movie":
            return movie_tag(self.row)
        if self.kind == "episode":
            return episode_tag(self.row, self.show)
        return InfoTagVideo(media_type="tvshow", title=self.row["title"], year=self.row["year"],
                            dbid=self.row["tvshowid"])

    def __repr__(self):
        return "ITEMS[%r]" % self.name


def _show_item(show):
    imdb = show["uniqueid"]["imdb"]
    return Item(show["title"], "tvshow", show["tvshowid"], "show:imdb=" + imdb, "imdb=" + imdb, row=show)


MOVIES = tuple(Item(m["title"], "movie", m["movieid"], "movie:imdb=" + m["uniqueid"]["imdb"],
                    "imdb=" + m["uniqueid"]["imdb"], LENGTHS[m["movieid"]], m["file"], row=m) for m in MOVIE_ROWS)
SHOWS = (_show_item(SHOW_A), _show_item(SHOW_B))
EPISODES = tuple(Item("%s S%02dE%02d" % (s["title"], e["season"], e["episode"]), "episode", e["episodeid"],
                      "episode:imdb=%s:S%dE%d" % (s["uniqueid"]["imdb"], e["season"], e["episode"]),
                      "imdb=" + s["uniqueid"]["imdb"], LENGTHS[e["episodeid"]], e["file"],
                      "show:imdb=" + s["uniqueid"]["imdb"], row=e, show=s) for e, s in EPISODE_ROWS)
PLAYABLE = MOVIES + EPISODES
ITEMS = {item.name: item for item in MOVIES + EPISODES + SHOWS}
TITLES = MOVIES + SHOWS  # what a refused or breaking id names: a movie, or a show with all its episodes
HISTORY, REMOVE = "/sync/history", "/sync/history/remove"
RATINGS, UNRATE = "/sync/ratings", "/sync/ratings/remove"
START, PAUSE, STOP = "/scrobble/start", "/scrobble/pause", "/scrobble/stop"
WATCHED_PROGRESS = 80.0  # a /scrobble/stop at or above it, taken (2xx "scrobble") or 409, is a history entry
THRESHOLD = 0.8  # the add-on's default (settings.xml): 80 %
SAMPLE_STEP = 120.0  # seconds of media between the player's samples in this campaign

COMMITS_SCHEMA = """
CREATE TABLE IF NOT EXISTS campaign_commits (id INTEGER PRIMARY KEY, kind TEXT, item TEXT, item_key TEXT,
                                             watched_at TEXT, state TEXT, rewatch INTEGER);
CREATE TRIGGER IF NOT EXISTS campaign_commit AFTER INSERT ON entries BEGIN
    INSERT INTO campaign_commits VALUES (NEW.id, NEW.kind, NEW.item, NEW.item_key, NEW.watched_at, NEW.state,
                                         NEW.rewatch);
END;
"""

# Add-on bugs the campaign found. Each has a test of its own in test_fault_campaign.py (a regression test
# once fixed, xfail while open). True = still open: the campaign tolerates it, so that it keeps looking for
# others; `tools/soak.py --catch NAME` makes it catch one again.
KNOWN_BUGS = {
    # Fixed. rewatch_action.run checked the 48 hours with Outbox.last_watched(item_key), which an unresolved
    # row (item_key "unresolved") never matches: a watch the worker had not resolved yet was not seen, and
    # its resolve then dropped it as a repeat of the newer rewatch.
    "rewatch_gate_ignores_unresolved": False,
    # Fixed (603e690). rewatch_action.run (another interpreter) wrote next_try on the wall clock, the service
    # waits on its steady clock: after the wall clock went ahead, a confirmed rewatch (and whatever of its
    # title queues behind it) waited as long. Tolerated: the drain lets that time pass.
    "rewatch_next_try_on_wall_clock": False,
    # Fixed. Service._resolve put an episode into its show's rewatch session when the worker resolved it:
    # one watched before the user started the session, resolved after, was sent with allow_rewatch.
    "session_decided_at_resolve": False,
    # Fixed. Service._resolve compared wall-clock times (watched_at < the session's "started"): after the
    # wall clock went back, an episode watched in the session went as an ordinary watch. Now commit order.
    "session_membership_by_wall_clock": False,
    # Fixed. Flusher._rewatch_refused refused a whole rewatch batch holding a show's session start on any
    # 4xx, without narrowing it to the entry Simkl refused.
    "rewatch_batch_refused_whole": False,
    # Fixed. Flusher.flush took batch after batch without resolving what was committed meanwhile: a rewatch
    # confirmed while a send was under way overtook older watches, marks and unmarks of the same title.
    "rewatch_overtakes_unresolved": False,
}


# --- what the fake Simkl received ------------------------------------------------------------------

def _ids_key(ids):
    for name in ("imdb", "tmdb", "tvdb", "simkl", "anidb", "mal"):
        if (ids or {}).get(name):
            return "%s=%s" % (name, ids[name])
    return "?"


def body_items(body):
    """(item key, watched_at or None, rewatch_id or None) of every title a history body names."""
    found = []
    for movie in (body or {}).get("movies") or []:
        found.append(("movie:" + _ids_key(movie.get("ids")), movie.get("watched_at"), movie.get("rewatch_id")))
    for show in (body or {}).get("shows") or []:
        show_ids = _ids_key(show.get("ids"))
        seasons = show.get("seasons") or []
        if not seasons:
            found.append(("show:" + show_ids, show.get("watched_at"), show.get("rewatch_id")))
        for season in seasons:
            for episode in season.get("episodes") or []:
                found.append(("episode:%s:S%sE%s" % (show_ids, season.get("number"), episode.get("number")),
                              episode.get("watched_at"), show.get("rewatch_id")))
    return found


def rated_items(body):
    """(item key, rating (0: removed), rated_at or None) of every title a ratings body names."""
    found = []
    for group, prefix in (("movies", "movie:"), ("shows", "show:")):
        for item in (body or {}).get(group) or []:
            found.append((prefix + _ids_key(item.get("ids")), item.get("rating") or 0, item.get("rated_at")))
    return found


def media_of(title):
    """The media item the add-on queues a rating of this library movie or show with."""
    row = title.row
    ids = media.clean_ids(row["uniqueid"])
    return media.Movie(row["title"], row["year"], ids) if title.kind == "movie" else \
        media.Show(row["title"], row["year"], ids)


def parse_stamp(text):
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


# --- the model -------------------------------------------------------------------------------------

KEPT, DROPPED = "kept", "dropped"


@dataclass
class Event:
    """Something the user caused that the outbox holds (or held): one row, in the user's order."""
    id: int  # the outbox row id: the user's order
    item: Item
    kind: str  # add | remove
    stamp: int  # watched_at (Unix seconds), as committed, checked against the moment it was made
    origin: str  # play | mark | unmark | rewatch
    step: int
    state: str = UNRESOLVED  # -> kept | dropped (the 48-hour repeat rule)
    resolved_step: int = -1
    rewatch: bool = False
    rewatch_id: Optional[str] = None
    mark: int = 0  # how many requests the fake had received when the user's action began

    @property
    def key(self):
        return self.item.key

    def describe(self):
        return "#%d %s %s %s (%s, %s, made before request %d)" % (
            self.id, self.origin, self.kind, self.item.name,
            time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.stamp)), self.state, self.mark)


@dataclass
class Rating:
    """A rating the user chose (0: removed): one outbox row, in the user's order."""
    id: int
    title: Item
    rating: int
    stamp: int  # rated_at (Unix seconds), the moment of the choice
    step: int

    def describe(self):
        return "#%d rating %d of %s (%s)" % (self.id, self.rating, self.title.name,
                                            time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.stamp)))


def _stacks():
    """Where every thread but this one is: what a stall report needs."""
    me = threading.get_ident()
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    return "\n".join("-- thread %s:\n%s" % (names.get(ident, ident), "".join(traceback.format_stack(frame)))
                     for ident, frame in sys._current_frames().items() if ident != me)


class CampaignFailure(AssertionError):
    def __init__(self, category, message):
        super().__init__("[%s] %s" % (category, message))
        self.category = category


@dataclass
class Stats:
    """Totals over every case run (the soak prints them)."""
    cases: int = 0
    steps: int = 0
    faults: int = 0
    faulty_answers: int = 0
    restarts: int = 0
    watches: int = 0  # decided adds: plays that count, marks, confirmed rewatches
    unmarks: int = 0
    repeats_dropped: int = 0  # the 48-hour rule
    delivered: int = 0
    live_stops: int = 0  # /scrobble/stop requests that wrote a history entry on Simkl (2xx "scrobble" or 409)
    scrobbles: int = 0  # /scrobble/* requests
    attention: int = 0  # kept for the user (refused), with a fault that explains it
    lost: int = 0
    duplicated: int = 0
    ratings: int = 0  # rating choices (and removals) the user made
    ratings_delivered: int = 0


STATS = Stats()


def reset_stats():
    STATS.__init__()
    return STATS


GAPS = st.sampled_from([1, 5, 10, 20, 60, 600])
ANSWERS = st.sampled_from([True, True, True, False])  # the user mostly means it
ENDINGS = st.one_of(st.just("end"), st.integers(1, 100))  # played to its end, or stopped at that percentage


class FaultCampaign(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.tmp = tempfile.mkdtemp(prefix="simkl-campaign-")
        profile = os.path.join(self.tmp, "addon_data")
        os.makedirs(profile)
        self.world = fakekodi.reset(profile)
        self.clock = VirtualClock()
        self.server = FakeSimkl(clock=self.clock).start()
        self._env = {name: os.environ.get(name) for name in ("SIMKL_API_URL", "SIMKL_CLIENT_ID", "SIMKL_AUTH")}
        os.environ.update(SIMKL_API_URL=self.server.url, SIMKL_CLIENT_ID=self.server.client_id)
        os.environ.pop("SIMKL_AUTH", None)
        install_library(self.world, movies=[m.row for m in MOVIES], shows=[SHOW_A, SHOW_B],
                        episodes=[e.row for e in EPISODES])
        log_in(self.world, self.server)
        self.world.set_setting("track_rewatches", True)
        self.running = RunningService(self.world, self.clock).start()
        self.db = sqlite3.connect(os.path.join(profile, config.OUTBOX_FILE), timeout=15, isolation_level=None,
                                  check_same_thread=False)
        # A flight recorder: every row as it was inserted, written in the inserting transaction. The worker
        # may resolve a row (or drop it as a repeat) a moment after it was committed; this keeps what the
        # decision committed. The service reads and writes only its own `entries` table.
        self.db.executescript(COMMITS_SCHEMA)
        self.events: Dict[int, Event] = {}
        self.ratings: Dict[int, Rating] = {}  # the user's rating choices, by outbox row id
        self.stops = {}  # item key -> (earliest, latest) steady time it stopped playing, this service run
        self.sessions_started = defaultdict(list)  # show key -> ids of the user's confirmed session starts
        self.refused_keys = set()  # titles Simkl was told to refuse at some point (and their episodes)
        self.holds = []  # the fake's hold faults this campaign armed and has not released
        self.blocked = False  # the worker waits for a held answer
        self.blocked_since = 0.0
        self.blocked_steps = 0
        self.step = 0
        self.in_step = False
        self.failed = False  # an invariant failed: the teardown does not drain on top of it
        self.faults = 0
        self.restarts = 0
        self.sessions_before = {}
        self.rewatch_ahead = 0.0  # the most the wall clock was ahead when the Rewatch action wrote a row
        STATS.cases += 1
        self.sync()

    # -- user actions ---------------------------------------------------------------------------
    @rule(item=st.sampled_from(PLAYABLE), ending=ENDINGS, gap=GAPS)
    def play(self, item, ending, gap):
        """Play a library item to its end, or stop it at `ending` percent."""
        with self.action(gap):
            self._open(item)
            self._finish(item, ending, next_item=None)

    @rule(item=st.sampled_from(PLAYABLE), ending=ENDINGS, pause_at=st.integers(1, 99),
          pause_for=st.sampled_from([1, 10, 300]), seek_to=st.one_of(st.none(), st.integers(0, 99)), gap=GAPS)
    def play_with_pause(self, item, ending, pause_at, pause_for, seek_to, gap):
        """Play an item, pause it at `pause_at` percent for `pause_for` seconds (maybe seeking meanwhile to
        `seek_to` percent, forward or back), resume, and end or stop it at `ending` percent."""
        with self.action(gap):
            self._open(item)
            self._finish(item, ending, next_item=None, pause=(pause_at, pause_for, seek_to))

    @rule(first=st.sampled_from(PLAYABLE), first_ending=ENDINGS, offset=st.integers(1, len(PLAYABLE) - 1),
          second_ending=ENDINGS, gap=GAPS)
    def playlist(self, first, first_ending, offset, second_ending, gap):
        """A playlist: the first item ends and Kodi moves on, or the user skips to the next at some
        percentage (Player.GoTo, Up Next); then the second ends or is stopped."""
        second = PLAYABLE[(PLAYABLE.index(first) + offset) % len(PLAYABLE)]
        with self.action(gap):
            self._open(first)
            self._finish(first, first_ending, next_item=second)
            self._finish(second, second_ending, next_item=None)

    @rule(items=st.lists(st.sampled_from(PLAYABLE), min_size=1, max_size=4, unique=True), watched=st.booleans(),
          settle=st.booleans(), gap=GAPS)
    def mark(self, items, watched, settle, gap):
        """The user marks library items watched (or unwatched) in Kodi: one update each, like a season."""
        with self.action(gap):
            for item in items:
                self._mark(item, 1 if watched else 0)
            if settle:
                self._settle()

    @rule(title=st.sampled_from(PLAYABLE), answer=ANSWERS, gap=GAPS)
    def rewatch(self, title, answer, gap):
        """The context menu's Rewatch on Simkl on a movie or an episode, answered yes or no."""
        with self.action(gap):
            self._rewatch(title, answer)

    @rule(show=st.sampled_from(SHOWS), answer=ANSWERS, gap=GAPS)
    def start_session(self, show, answer, gap):
        """The Rewatch action on a show: answered yes, it starts the show's rewatch session."""
        with self.action(gap):
            self._rewatch(show, answer)

    @rule(title=st.sampled_from(TITLES), rating=st.integers(0, 10), gap=GAPS)
    def rate(self, title, rating, gap):
        """The user rates a movie or a show (0: removes the rating), as the rating prompt or Kodi's My rating
        hands it to the add-on: queued at once, the worker woken."""
        with self.action(gap):
            seq, now = self._seq(), int(self.clock.wall())
            service = self.running.service
            entry_id = service.outbox.add_rating(media_of(title), rating, rated_at=now,
                                                 library="%s:%d" % (title.kind, title.dbid))
            service.kick()
            row = self.db.execute("SELECT kind, item_key, watched_at, state FROM campaign_commits WHERE id = ?",
                                  (entry_id,)).fetchone()
            if entry_id != seq + 1 or row is None or row[0] != ("rate" if rating else "unrate") \
                    or parse_stamp(row[2]) != now or row[3] != PENDING:
                raise CampaignFailure("commit", "rating %d of %s: row %s %r" % (rating, title.name, entry_id, row))
            self.ratings[entry_id] = Rating(entry_id, title, rating, now, self.step)
            STATS.ratings += 1

    @rule()
    def restart(self):
        """Kodi quits (the service must leave within 1 s) and starts again on the same profile."""
        with self.action(0):
            self._restart()

    @rule(seconds=st.sampled_from([-86400, 86400]))
    def jump(self, seconds):
        """The wall clock is set a day back or ahead (NTP, a dead RTC battery, the user)."""
        with self.action(0):
            self.clock.jump(seconds)

    @rule(seconds=st.sampled_from([30, 300, 1000, 3600, 47 * 3600, 49 * 3600]))
    def advance(self, seconds):
        """Time passes (the worker wakes when something is due)."""
        with self.action(0):
            self.clock.advance(seconds)
            self.running.service.kick()
            self.running.service.live.kick()

    @rule()
    def retry_now(self):
        with self.action(0):
            self.running.retry_now()

    @rule()
    def login(self):
        """The user logs in again (after a 401 the add-on forgot the login; any time, a fresh token)."""
        with self.action(0):
            self._login()

    # -- server faults ----------------------------------------------------------------------------
    @rule(path=st.sampled_from([HISTORY, REMOVE, START, STOP, RATINGS, UNRATE]),
          fault=st.sampled_from([(503, None), (0, None), (429, None), (429, "1"), (429, "30"), (429, "600")]),
          times=st.integers(1, 3))
    def fail(self, path, fault, times):
        """The next `times` requests to `path` fail: 503, a dropped connection, 429 with(out) Retry-After."""
        with self.action(0):
            self.faults += 1
            self.server.fail(path, fault[0], times=times, retry_after=fault[1])

    @rule(path=st.sampled_from([START, PAUSE, STOP]), answer=st.sampled_from(["RATE_LIMIT", 404, 409]),
          times=st.integers(1, 4))
    def refuse_scrobble(self, path, answer, times):
        """Simkl's scrobble refusals: its 20-second lock (another device), an unknown title, or "already
        scrobbled within the hour" (409: Simkl has the watch)."""
        with self.action(0):
            self.faults += 1
            if answer == "RATE_LIMIT":
                self.server.fail(path, 400, times=times, body={"error": "RATE_LIMIT", "code": 400})
            else:
                self.server.fail(path, answer, times=times)

    @rule(title=st.sampled_from(TITLES))
    def refuse(self, title):
        """Simkl answers 400 wrong_parameter to any request naming this title (one entry of a batch)."""
        with self.action(0):
            self.faults += 1
            self.server.refused_ids.add(title.ids)
            self.refused_keys.add(title.key)
            self.refused_keys.update(e.key for e in EPISODES if e.show_key == title.key)

    @rule(title=st.sampled_from(TITLES))
    def break_server(self, title):
        """Any request naming this title makes the server fail with 500 (a batch that keeps failing)."""
        with self.action(0):
            self.faults += 1
            self.server.breaking_ids.add(title.ids)

    @rule()
    def heal(self):
        """Simkl takes every title again."""
        with self.action(0):
            self.server.refused_ids.clear()
            self.server.breaking_ids.clear()

    @rule()
    def revoke(self):
        """Simkl revokes the token: the next request gets 401."""
        with self.action(0):
            self.faults += 1
            self.server.revoke_all()

    # No preconditions here: which rules may run must not depend on timing, or hypothesis cannot replay a case.
    @rule()
    def hold(self):
        """Simkl's next answer is slow: the request stays in flight until released (if none is yet)."""
        with self.action(0):
            if self.holds:
                return
            self.faults += 1
            for path in (HISTORY, REMOVE):
                self.server.hold(path)
                with self.server._lock:
                    self.holds.append(self.server._faults[path][-1])
            self.running.retry_now()  # what is due goes now, and waits; the step's sync sees it in flight

    @rule()
    def release(self):
        with self.action(0):
            if self.holds:
                self._release()

    # -- the steps' frame ------------------------------------------------------------------------
    def action(self, gap):
        machine = self

        class Step:
            def __enter__(self):
                machine.in_step = True
                machine.step += 1
                STATS.steps += 1
                machine.sync()
                if machine.blocked:
                    machine.blocked_steps += 1
                    # An answer comes after 8 steps at most, and well before the client's 20 s read timeout
                    # (a request the client gave up on, but Simkl took, would rightly go again).
                    if machine.blocked_steps > 8 or time.monotonic() - machine.blocked_since > 15:
                        machine._release()
                machine.sessions_before = machine._sessions()
                if gap:
                    machine.clock.advance(gap)

            def __exit__(self, kind, value, tb):
                if kind is None:
                    machine.sync()
                    machine.in_step = False
                return False

        return Step()

    def sync(self):
        """Wait for the worker to be done with what it was given (or to wait on a held answer), then
        check what it resolved."""
        if not self.blocked:
            service = self.running.service
            done = wait_for(lambda: (not service.busy() and live_idle(service.live)) or self._hold_taken(), 10.0)
            if not done:
                raise CampaignFailure("stall", "the worker did not finish its jobs within 10 s (worker busy %s, "
                                      "live busy %s)\n%s" % (service.busy(), service.live.busy(), _stacks()))
            if self._hold_taken():
                self.blocked, self.blocked_since, self.blocked_steps = True, time.monotonic(), 0
        self._observe_resolutions()

    def _hold_taken(self):
        with self.server._lock:
            return any(fault.times <= 0 for fault in self.holds)

    def _release(self):
        with self.server._lock:
            for path in (HISTORY, REMOVE):
                self.server._faults[path] = [f for f in self.server._faults.get(path, [])
                                             if not any(f is hold for hold in self.holds)]
        self.server.release()
        self.holds = []
        self.blocked = False
        self.sync()

    # -- playback ------------------------------------------------------------------------------------
    def _open(self, item):
        fakekodi.open_file(fakekodi.PlayingFile(item.tag(), item.path, item.total))

    def _finish(self, item, ending, next_item, pause=None):
        """Play the open item up to its end or `ending` percent, then it ends or stops; with next_item the
        playlist moves on (at a natural end) or the user skips to it (at a stop). With pause=(percent,
        seconds, seek_to), it pauses on the way there for that long, maybe seeking meanwhile."""
        natural = ending == "end"
        target = item.total if natural else item.total * ending / 100.0
        furthest = self.world.player.position
        if pause is not None and item.total * pause[0] / 100.0 < target:
            self._play_to(item.total * pause[0] / 100.0)
            furthest = max(furthest, self.world.player.position)
            fakekodi.pause()
            self._advance_live(pause[1])
            if pause[2] is not None:
                fakekodi.seek(item.total * pause[2] / 100.0)
                furthest = max(furthest, self.world.player.position)  # Kodi's seek callback samples it
                self._advance_live(1)
            fakekodi.resume()
        self._play_to(target)
        furthest = max(furthest, self.world.player.position)
        # decide() exactly: a natural end counts (the position is the total); a stop counts from 80 % of the
        # furthest position samples showed
        counts = natural or float(furthest) / float(item.total) >= THRESHOLD
        following = None
        if next_item is not None:
            following = fakekodi.PlayingFile(next_item.tag(), next_item.path, next_item.total)
        before, seq = self._moment(), self._seq()
        if following is not None and not natural:
            fakekodi.skip_to(following)
        else:
            fakekodi.close_file(natural, following)
        after = self._moment()
        self._live_step()
        self.stops[item.key] = (before[0], after[0])
        self._committed(seq, [("play", item, "add")] if counts else [], before, after)

    def _play_to(self, target):
        """Playback runs on to `target` seconds: a sample every SAMPLE_STEP s, each seen by the live scrobbler."""
        position = self.world.player.position
        while position < target:
            position = min(target, position + SAMPLE_STEP)
            self.world.player.position = position
            self.clock.advance(SAMPLE_STEP)
            self.running.player.sample()
            self._live_step()

    def _advance_live(self, seconds):
        self.clock.advance(seconds)
        self._live_step()

    def _live_step(self):
        """Let the live scrobbler act at this virtual moment (unless it waits behind a held answer)."""
        live = self.running.service.live
        live.kick()
        if not self.blocked and not wait_for(lambda: live_idle(live) or self._hold_taken(), 10.0):
            raise CampaignFailure("stall", "the live scrobbler did not finish within 10 s")

    def _mark(self, item, playcount):
        before, seq = self._moment(), self._seq()
        self.world.playcounts[(item.kind, item.dbid)] = playcount
        self.running.service.notification("xbmc", "VideoLibrary.OnUpdate", json.dumps(
            {"item": {"type": item.kind, "id": item.dbid}, "playcount": playcount}))
        after = self._moment()
        if playcount == 0:
            expected = [("unmark", item, "remove")]
        else:
            # Kodi raises the playcount of an item it just played: a raise within the window after the
            # item stopped is taken for that, not for the user's mark (marks.py).
            expected = [("mark", item, "add")]
            stopped = self.stops.get(item.key)
            if stopped is not None:
                if after[0] - stopped[0] < PLAYBACK_UPDATE_WINDOW:
                    expected = []
                elif before[0] - stopped[1] < PLAYBACK_UPDATE_WINDOW:
                    expected = None  # at the window's edge: either
        if expected is None:
            expected = [("mark", item, "add")] if self._seq() > seq else []
        self._committed(seq, expected, before, after)

    def _settle(self):
        from lib.scrobbler.delivery.settle import MARKS_SETTLE
        self.sync()
        self.clock.advance(MARKS_SETTLE)
        self.running.service.kick()

    # -- the Rewatch action --------------------------------------------------------------------------
    def _rewatch(self, target, answer):
        login = TokenStore(self.world.profile_dir).load()
        now = self.clock.wall()
        if not login.get("access_token"):
            expected = {"login"}
        else:
            expected = self._rewatch_gate(target, now)
        listitem = ListItem(path=target.path)
        listitem.set_tag(target.tag())
        shown = len(self.world.dialogs)
        self.world.yesno_answers[:] = [answer]
        before, seq = self._moment(), self._seq()
        # default.py runs the action on the wall clock (time.time), like the service's watched_at. It does not
        # wait for the service's try: that comes on virtual time, which stands still while the script waits.
        rewatch_action.run(listitem, clock=self.clock.wall, try_wait=0)
        after = self._moment()
        self.world.yesno_answers.clear()
        dialogs = self.world.dialogs[shown:]
        if any(kind == "yesno" for kind, _, _ in dialogs):
            outcome = "ask"
        elif any(message == self.world.string(32043) for _, _, message in dialogs):
            outcome = "login"
        else:
            outcome = "too_soon"
        if outcome not in expected:
            raise CampaignFailure("rewatch_gate", "the Rewatch action on %s at %s answered %s, expected %s;\n%s"
                                  % (target.name, _iso(now), outcome, "/".join(sorted(expected)), self._history()))
        queued = outcome == "ask" and answer
        if queued:
            self.rewatch_ahead = max(self.rewatch_ahead, self.clock.wall_offset)
        self._committed(seq, [("rewatch", target, "add")] if queued else [], before, after)

    def _rewatch_gate(self, target, now):
        """What the action must answer: too soon within 48 h of the title's last kept add, else it asks.
        A watch the worker has not resolved yet counts as the user sees it (as it will be resolved)."""
        outcomes = set()
        possible = self._possible_last_adds(target.key)
        if KNOWN_BUGS["rewatch_gate_ignores_unresolved"]:
            possible.add(self._last_add(target.key))  # what the add-on sees: the resolved rows only
        for last in possible:
            if last is not None and abs(now - last - MIN_GAP) < 2:
                outcomes.update({"ask", "too_soon"})  # on the edge
            else:
                outcomes.add("too_soon" if last is not None and now - last < MIN_GAP else "ask")
        return outcomes

    def _possible_last_adds(self, key):
        """The newest watched_at among the title's adds once every committed row is resolved (a set: an
        episode resolved while its show's session may have ended can go either way)."""
        unresolved = [e for e in self._ordered() if e.state == UNRESOLVED]
        saved = [(e, e.state, e.resolved_step) for e in unresolved]
        results = set()
        try:
            for e in unresolved:
                e.resolved_step = self.step + 1
                e.state = DROPPED if self._is_repeat(e, None) == "yes" else KEPT
            results.add(self._last_add(key))
            results.add(self._last_add(key, keep_unresolved={e.id for e in unresolved}))  # "either", sessions
        finally:
            for e, state, resolved_step in saved:
                e.state, e.resolved_step = state, resolved_step
        return results

    def _last_add(self, key, keep_unresolved=()):
        stamps = [e.stamp for e in self.events.values() if e.key == key and e.kind == "add"
                  and (e.state == KEPT or e.id in keep_unresolved)]
        return max(stamps) if stamps else None

    # -- restart and login -----------------------------------------------------------------------
    def _restart(self):
        if self.holds:
            self._release()  # the answer comes before Kodi quits: a quit never cuts a POST Simkl took
        self.sync()
        old = self.running
        old.stop(within=1.0)
        if not wait_for(lambda: not old.service.worker.is_alive(), 5.0):
            raise CampaignFailure("stall", "the worker thread outlived Kodi's quit by 5 s")
        # the sync's thread too (it reads the queue, e.g. for the ratings): only then is the file closed
        if not wait_for(lambda: not old.service.sync_alive(), 5.0):
            raise CampaignFailure("stall", "the sync thread outlived Kodi's quit by 5 s")
        # A new Kodi process: the old service's monitor and player hear nothing more.
        self.world.monitors.remove(old.service.monitor)
        self.world.players.remove(old.service.player)
        old.service.outbox.close()
        self.stops = {}
        self.restarts += 1
        STATS.restarts += 1
        self.running = RunningService(self.world, self.clock).start()

    def _login(self):
        log_in(self.world, self.server)
        self.world.settings_saved()

    # -- what was committed --------------------------------------------------------------------------
    def _moment(self):
        with self.server._lock:
            return self.clock.time(), self.clock.wall(), len(self.server.requests)

    def _seq(self):
        row = self.db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'entries'").fetchone()
        return row[0] if row else 0

    def _committed(self, seq, expected, before, after):
        """The rows the user's action must have committed before the callback returned: one per decided
        watch, mark or confirmed rewatch, in order, with the moment of the decision as watched_at."""
        now_seq = self._seq()
        if now_seq != seq + len(expected):
            raise CampaignFailure("commit", "expected %d new outbox rows (%s), found %d;\n%s" % (
                len(expected), ", ".join("%s %s" % (o, i.name) for o, i, _ in expected) or "none", now_seq - seq,
                self._history()))
        for offset, (origin, item, kind) in enumerate(expected):
            row_id = seq + offset + 1
            row = self.db.execute("SELECT kind, item, item_key, watched_at, state, rewatch FROM campaign_commits"
                                  " WHERE id = ?", (row_id,)).fetchone()
            if row is None:
                raise CampaignFailure("commit", "row %d of %s %s was not recorded" % (row_id, origin, item.name))
            stamp = parse_stamp(row[3])
            if row[0] != kind or not int(before[1]) <= stamp <= int(after[1]):
                raise CampaignFailure("commit", "row %d of %s %s: %s at %s, expected %s between %s and %s" % (
                    row_id, origin, item.name, row[0], row[3], kind, _iso(before[1]), _iso(after[1])))
            event = Event(row_id, item, kind, stamp, origin, self.step, mark=before[2])
            if origin == "rewatch":
                if (row[2], row[4], row[5]) != (item.key, PENDING, 1):
                    raise CampaignFailure("commit", "rewatch row %d: %r" % (row_id, row))
                event.state, event.resolved_step, event.rewatch = KEPT, self.step, True
                if item.kind == "tvshow":
                    self.sessions_started[item.key].append(row_id)
            else:
                report = json.loads(row[1])
                if row[4] != UNRESOLVED or (report.get("media_type"), report.get("dbid")) != (item.kind, item.dbid):
                    raise CampaignFailure("commit", "row %d of %s %s: %s %r" % (row_id, origin, item.name, row[4],
                                                                                 report))
                STATS.unmarks += kind == "remove"
            STATS.watches += kind == "add"
            self.events[row_id] = event

    def _rows(self):
        return {r[0]: r for r in self.db.execute(
            "SELECT id, kind, item_key, watched_at, rewatch, rewatch_id, state FROM entries")}

    def _waits_for_its_account(self, entry_id):
        """The row was made for an account that is not logged in now (a 401 logged it out): the add-on works
        on it once that account logs in again."""
        owner = self.db.execute("SELECT account FROM owners WHERE id = ?", (entry_id,)).fetchone()
        login = owner_of(TokenStore(self.world.profile_dir).load())
        return owner is not None and (login is None or login.key != owner[0])

    def _sessions(self):
        try:
            with open(os.path.join(self.world.profile_dir, SESSIONS_FILE), encoding="utf-8") as handle:
                return json.load(handle)
        except (OSError, ValueError):
            return {}

    def _ordered(self):
        return [self.events[i] for i in sorted(self.events)]

    # -- the 48-hour repeat rule, as the outbox documents it -------------------------------------------
    def _is_repeat(self, event, scope):
        """Is this add a repeat: within 48 h of an earlier add of the title that was there when it was
        resolved (the newest such), with no remove queued since? With a scope (a session's ids), only
        that session's adds count. "yes", "no", or "either": whether a rewatch the user asked for makes
        an ordinary watch a repeat is the one part of the rule that has changed (it no longer does).
        """
        answers = {self._repeats(event, scope, rewatches)
                   for rewatches in ((True,) if scope is not None else (True, False))}
        return answers.pop() if len(answers) == 1 else "either"

    def _repeats(self, event, scope, rewatches):
        previous = None
        for other in self.events.values():
            if other is event or other.kind != "add" or other.key != event.key or other.state != KEPT:
                continue
            if not (other.id < event.id or (other.origin == "rewatch" and other.step < event.resolved_step)):
                continue  # not in the outbox yet when this one was resolved
            if not event.stamp - DEDUPE_SECONDS < other.stamp < event.stamp + DEDUPE_SECONDS:
                continue
            if scope is not None and not (other.rewatch and other.rewatch_id in scope):
                continue
            if not rewatches and other.rewatch:
                continue
            if previous is None or other.id > previous.id:
                previous = other
        if previous is None:
            return "no"
        removed = any(r.kind == "remove" and r.key == event.key and previous.id < r.id < event.id
                      for r in self.events.values())
        return "no" if removed else "yes"

    def _observe_resolutions(self):
        """Rows the worker resolved since the last look: kept or dropped as the rules say."""
        waiting = [e for e in self._ordered() if e.state == UNRESOLVED]
        if not waiting:
            return
        rows = self._rows()
        sessions_after = self._sessions()
        for event in waiting:
            row = rows.get(event.id)
            if row is not None and row[6] == UNRESOLVED:
                if not self.blocked and not self._waits_for_its_account(event.id):
                    raise CampaignFailure("stall", "%s is still unresolved while the worker is idle"
                                          % event.describe())
                continue
            event.resolved_step = self.step
            if row is None:
                event.state = DROPPED
                if event.kind == "remove" or self._is_repeat(event, None) == "no":
                    STATS.lost += 1
                    raise CampaignFailure("lost", "%s was dropped although it repeats no kept add;\n%s"
                                          % (event.describe(), self._history()))
                STATS.repeats_dropped += 1
                continue
            event.state, event.rewatch, event.rewatch_id = KEPT, bool(row[4]), row[5]
            if row[2] != event.key:
                raise CampaignFailure("resolve", "%s resolved as %s" % (event.describe(), row[2]))
            if event.kind == "remove":
                continue
            show_key = event.item.show_key
            active = [show_key in snapshot for snapshot in (self.sessions_before, sessions_after)] \
                if show_key else [False, False]
            placeholder = pending_id(show_key) if show_key else None
            # The show's session, if the user started one: its latest start (a new start replaces a session).
            starts = [i for i in self.sessions_started.get(show_key, []) if i != event.id]
            after_start = bool(starts) and event.id > max(starts)
            started_at = self.events[max(starts)].stamp if starts else None
            by_wall_clock = KNOWN_BUGS["session_membership_by_wall_clock"] and started_at is not None
            if event.rewatch:
                if not any(active):
                    raise CampaignFailure("session", "%s resolved into a session that does not exist"
                                          % event.describe())
                if by_wall_clock and not after_start and event.stamp >= started_at:
                    pass  # the open bug: made before the start, but its wall-clock time reads later
                elif not after_start and not KNOWN_BUGS["session_decided_at_resolve"]:
                    raise CampaignFailure("session", "%s was made before the user started the rewatch session of "
                                          "its show, but was resolved into it (it will carry allow_rewatch);\n%s"
                                          % (event.describe(), self._history()))
                scope = (placeholder, event.rewatch_id if event.rewatch_id != placeholder else "")
            else:
                if all(active) and after_start and by_wall_clock and event.stamp < started_at:
                    pass  # the open bug: watched after the start, but its wall-clock time reads earlier
                elif all(active) and after_start:
                    raise CampaignFailure("session", "%s was made in its show's active rewatch session but resolved "
                                          "as an ordinary watch" % event.describe())
                scope = None
            if self._is_repeat(event, scope) == "yes":
                STATS.duplicated += 1
                raise CampaignFailure("duplicate", "%s repeats an add of the last 48 hours but was kept;\n%s"
                                      % (event.describe(), self._history()))

    # -- what Simkl received -------------------------------------------------------------------------
    def _deliveries(self, in_flight_last):
        """Match every title of every history request, and every live stop that wrote a history entry on
        Simkl, to the user's events.

        Returns ({event id: deliveries}, problems): a title the user never caused, allow_rewatch on
        something that is no rewatch, a rewatch without it, a pending session id sent, a title delivered
        twice (counting both endpoints), a title's adds and removes out of the user's order."""
        with self.server._lock:
            numbered = [(n, r) for n, r in enumerate(self.server.requests)
                        if r.path in (HISTORY, REMOVE, STOP) and r.method == "POST"]
        if in_flight_last:
            held = [n for n, r in numbered if r.path != STOP][-1:]  # the held request: not answered yet
            numbered = [(n, r) for n, r in numbered if n not in held]
        # A row Simkl refused was not delivered (a remove names no watched_at to tell two removes apart).
        refused = {row[0] for row in self._rows().values() if row[6] in ATTENTION}
        delivered, problems, order = Counter(), [], defaultdict(list)
        by_add, by_remove = defaultdict(list), defaultdict(list)
        for event in self._ordered():
            if event.kind == "add":
                by_add[(event.key, event.stamp)].append(event)
            else:
                by_remove[event.key].append(event)
        for number, (index, request) in enumerate(numbered):
            if request.path == STOP:
                self._live_delivery(index, request, delivered, problems, order, refused)
                continue
            kind = "remove" if request.path == REMOVE else "add"
            flagged = request.query.get("allow_rewatch") == "yes"
            where = "request %d (%s%s -> %s)" % (number, request.path, " allow_rewatch" if flagged else "",
                                                 request.status)
            for key, watched_at, rewatch_id in body_items(request.json):
                if rewatch_id and str(rewatch_id).startswith("session:"):
                    problems.append(("rewatch_flag", "%s carries the stand-in %s" % (where, rewatch_id)))
                if kind == "add":
                    stamp = parse_stamp(watched_at) if watched_at else None
                    candidates = [e for e in by_add.get((key, stamp), []) if e.state != DROPPED]
                else:
                    candidates = list(by_remove.get(key, []))
                if not candidates:
                    problems.append(("uncaused", "%s: %s %s %s, which the user did not cause"
                                     % (where, kind, key, watched_at)))
                    continue
                if flagged and not any(e.origin == "rewatch" or e.rewatch for e in candidates):
                    problems.append(("rewatch_flag", "%s: allow_rewatch on %s" % (where, candidates[0].describe())))
                if request.status != 201:
                    continue
                candidates = [e for e in candidates if e.id not in refused] or candidates
                if not flagged and all(e.origin == "rewatch" for e in candidates):
                    problems.append(("rewatch_flag", "%s: the rewatch %s went without allow_rewatch"
                                     % (where, candidates[0].describe())))
                fresh = [e for e in candidates if not delivered[e.id]]
                chosen = fresh[0] if fresh else candidates[0]
                delivered[chosen.id] += 1
                if delivered[chosen.id] > 1:
                    problems.append(("duplicate", "%s: %s delivered again" % (where, chosen.describe())))
                later = [e for e in order[key] if e.id > chosen.id and not (
                    e.origin == "rewatch" and KNOWN_BUGS["rewatch_overtakes_unresolved"])]
                if later:
                    problems.append(("order", "%s: %s reached Simkl after #%d of the same title"
                                     % (where, chosen.describe(), later[0].id)))
                order[key].append(chosen)
        return delivered, problems

    def _live_delivery(self, index, request, delivered, problems, order, refused):
        """A /scrobble/stop at >= 80 % that Simkl took (2xx "scrobble") or answered 409 is a history entry
        on Simkl. A stop names no watched_at, so the model tells whose it is from the add-on's rule: a stop
        goes only when nothing older of the title waits in the outbox (otherwise it goes as a pause), and
        items end in order. So it delivers the oldest play of that title, made before it was sent, that is
        kept and not delivered yet; a stop held up behind a slow answer may go after a later play (dropped
        as a repeat). With none, it ended a play the outbox dropped as a repeat of the last 48 hours, and
        Simkl's re-add is a no-op."""
        body = request.json or {}
        took = (request.status == 201 and (request.answer or {}).get("action") == "scrobble") or (
            request.status == 409 and float(body.get("progress") or 0) >= WATCHED_PROGRESS)
        if not took:
            return
        if "movie" in body:
            key = "movie:" + _ids_key(body["movie"].get("ids"))
        else:
            episode = body.get("episode") or {}
            key = "episode:%s:S%sE%s" % (_ids_key((body.get("show") or {}).get("ids")), episode.get("season"),
                                         episode.get("number"))
        where = "request %d (%s %.2f -> %s)" % (index, request.path, float(body.get("progress") or 0),
                                               request.status)
        made = [e for e in self.events.values() if e.key == key and e.kind == "add" and e.origin == "play"
                and e.mark <= index]
        if not made:
            problems.append(("uncaused", "%s: a watch of %s the user did not cause" % (where, key)))
            return
        waiting = [e for e in made if e.state != DROPPED and not delivered[e.id] and e.id not in refused]
        chosen = min(waiting, key=lambda e: e.id) if waiting else max(made, key=lambda e: e.id)
        if chosen.state == DROPPED:
            return
        delivered[chosen.id] += 1
        if delivered[chosen.id] > 1:
            problems.append(("duplicate", "%s: %s delivered again" % (where, chosen.describe())))
        later = [e for e in order[key] if e.id > chosen.id]
        if later:
            problems.append(("order", "%s: %s reached Simkl after #%d of the same title"
                             % (where, chosen.describe(), later[0].id)))
        order[key].append(chosen)

    @invariant()
    def step_invariants(self):
        if self.in_step:
            return
        try:
            self._check_step()
        except BaseException:
            self.failed = True
            raise

    def _check_step(self):
        if not self.running.service.worker.is_alive():
            raise CampaignFailure("stall", "the service's worker thread is dead")
        if self.server.violations:
            raise CampaignFailure("protocol", "; ".join(self.server.violations))
        errors = [message for level, message in self.world.log if level == LOGERROR]
        if errors:
            raise CampaignFailure("worker_error", errors[0])
        _, problems = self._deliveries(in_flight_last=self.blocked)
        problems += self._rating_deliveries()[1]
        if problems:
            category, message = problems[0]
            raise CampaignFailure(category, "%s;\n%s" % (message, self._history()))

    def _rating_deliveries(self):
        """Match every title of every ratings request Simkl took to the user's rating choices.

        Returns ({rating id: deliveries}, problems): a rating the user never chose, a choice delivered twice,
        a title's choices out of the user's order (a later one reached Simkl before an earlier one)."""
        with self.server._lock:
            taken = [(n, r) for n, r in enumerate(self.server.requests)
                     if r.path in (RATINGS, UNRATE) and r.method == "POST" and r.status == 201]
        delivered, problems, last = Counter(), [], {}
        for index, request in taken:
            missing = {("movie:" if group == "movies" else "show:") + _ids_key(item.get("ids"))
                       for group, items in ((request.answer or {}).get("not_found") or {}).items()
                       for item in items or []}
            for key, rating, rated_at in rated_items(request.json):
                if key in missing:
                    continue
                where = "request %d (%s)" % (index, request.path)
                stamp = parse_stamp(rated_at) if rated_at else None
                candidates = [c for c in sorted(self.ratings.values(), key=lambda c: c.id)
                              if c.title.key == key and c.rating == rating and (stamp is None or c.stamp == stamp)
                              and (request.path == UNRATE) == (rating == 0)]
                if not candidates:
                    problems.append(("uncaused", "%s: rating %s of %s, which the user did not choose"
                                     % (where, rating, key)))
                    continue
                fresh = [c for c in candidates if not delivered[c.id]]
                chosen = fresh[0] if fresh else candidates[0]
                delivered[chosen.id] += 1
                if delivered[chosen.id] > 1:
                    problems.append(("duplicate", "%s: %s delivered again" % (where, chosen.describe())))
                if last.get(key, 0) > chosen.id:
                    problems.append(("order", "%s: %s reached Simkl after #%d of the same title"
                                     % (where, chosen.describe(), last[key])))
                last[key] = max(last.get(key, 0), chosen.id)
        return delivered, problems

    # -- the end: drain, then nothing lost, nothing doubled, nothing pending --------------------------
    def drain(self):
        self.step += 1  # what the worker resolves from here on, it resolves after every step so far
        self.sessions_before = self._sessions()
        if self.holds:
            self._release()
        self.server.clear_faults()
        self.server.refused_ids.clear()
        self.server.breaking_ids.clear()
        self.sync()
        rounds = [1000] * 8  # past every backoff (15 min at most) and every Retry-After sent
        if KNOWN_BUGS["rewatch_next_try_on_wall_clock"] and self.rewatch_ahead > 0:
            rounds += [self.rewatch_ahead + 1000] + [1000] * 4
        for seconds in rounds:
            if self.world.settings["logged_in"] != "true":
                self._login()
            self.clock.advance(seconds)
            self.running.retry_now()
            self._settle()
            self.sync()
            counts = self._counts()
            if not counts[PENDING] and not counts[UNRESOLVED] and self.world.settings["logged_in"] == "true":
                return
        waiting = self.db.execute("SELECT id, kind, item_key, rewatch, rewatch_id, attempts, next_try - ?, last_error"
                                  " FROM entries WHERE state IN (?, ?)", (self.clock.time(), PENDING, UNRESOLVED))
        raise CampaignFailure("stall", "after the drain, still waiting (id, kind, key, rewatch, rewatch_id, attempts, "
                              "due in, last error): %s;\n%s" % (waiting.fetchall(), self._history()))

    def _counts(self):
        found = Counter()
        for state, count in self.db.execute("SELECT state, COUNT(*) FROM entries GROUP BY state"):
            found[state] = count
        return found

    def final_checks(self):
        self._check_step()
        delivered, _ = self._deliveries(in_flight_last=False)
        rows = self._rows()
        problems = []
        answers = Counter(r.status for r in self.server.requests if r.path in (HISTORY, REMOVE))
        STATS.scrobbles += len([r for r in self.server.requests if r.path in (START, PAUSE, STOP)])
        STATS.live_stops += len([r for r in self.server.requests if r.path == STOP and (
            r.status == 409 or (r.answer or {}).get("action") == "scrobble")])
        STATS.faulty_answers += sum(n for status, n in answers.items() if status != 201)
        for event in self._ordered():
            if event.state == DROPPED:
                continue
            row = rows.get(event.id)
            count = delivered[event.id]
            if count == 1:
                STATS.delivered += 1
                if row is None or row[6] != "sent":
                    problems.append(("duplicate", "%s reached Simkl but its row is %s: it would go again"
                                     % (event.describe(), row[6] if row else "gone")))
            elif count > 1:
                STATS.duplicated += 1
                problems.append(("duplicate", "%s reached Simkl %d times" % (event.describe(), count)))
            elif row is not None and row[6] in ATTENTION:
                STATS.attention += 1
                explained = row[6] == REFUSED and event.key in self.refused_keys
                if row[6] == REFUSED and event.origin == "rewatch" and KNOWN_BUGS["rewatch_batch_refused_whole"]:
                    explained = explained or any(e.origin == "rewatch" and e.key in self.refused_keys
                                                 for e in self.events.values())
                if not explained:
                    problems.append(("attention", "%s is %s in the outbox, but no fault explains it"
                                     % (event.describe(), row[6])))
            else:
                STATS.lost += 1
                problems.append(("lost", "%s never reached Simkl; its row is %s"
                                 % (event.describe(), row[6] if row else "gone")))
        problems += self._final_rating_checks(rows)
        if problems:
            category, message = problems[0]
            raise CampaignFailure(category, "%s (%d problems);\n%s" % (message, len(problems), self._history()))

    def _final_rating_checks(self, rows):
        """Every rating choice reached Simkl exactly once, or waits refused for the user with a fault that
        explains it; Simkl's rating of each title is the last choice that reached it."""
        delivered, problems = self._rating_deliveries()
        last_delivered = {}
        for choice in sorted(self.ratings.values(), key=lambda c: c.id):
            row = rows.get(choice.id)
            count = delivered[choice.id]
            if count == 1:
                STATS.ratings_delivered += 1
                last_delivered[choice.title.key] = choice
                if row is None or row[6] != "sent":
                    problems.append(("duplicate", "%s reached Simkl but its row is %s: it would go again"
                                     % (choice.describe(), row[6] if row else "gone")))
            elif count > 1:
                STATS.duplicated += 1
                problems.append(("duplicate", "%s reached Simkl %d times" % (choice.describe(), count)))
            elif row is not None and row[6] == REFUSED and choice.title.key in self.refused_keys:
                STATS.attention += 1
            else:
                STATS.lost += 1
                problems.append(("lost", "%s never reached Simkl; its row is %s"
                                 % (choice.describe(), row[6] if row else "gone")))
        for key, choice in last_delivered.items():
            simkl = self.server.library.simkl_id("movie" if key.startswith("movie:") else "show",
                                                  choice.title.row["uniqueid"])
            held = (self.server.ratings.get(simkl) or {}).get("rating") or 0
            if held != choice.rating:
                problems.append(("rating", "Simkl holds rating %s of %s, the user's last choice it got is %s"
                                 % (held, choice.title.name, choice.describe())))
        return problems

    def teardown(self):
        try:
            if not self.in_step and not self.failed:  # a failed step has said why; a drain would add noise
                self.drain()
                self.final_checks()
        finally:
            STATS.faults += self.faults
            self._shut_down()

    def _shut_down(self):
        self.server.release()
        try:
            if self.running.thread.is_alive():
                self.world.abort.set()
                self.running.thread.join(5)
            # The worker's and the sync's threads end a moment after the loop (a sync saves its state on its
            # way out): the folder goes only after them, or one writes into it as it goes and logs that error
            # into the next case's Kodi (the fakes' log is the current world's).
            service = self.running.service
            wait_for(lambda: not service.worker.is_alive() and not service.sync_alive(), 5.0)
        finally:
            self.server.stop()
            self.db.close()
            self.world.abort.set()
            for name, value in self._env.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            shutil.rmtree(self.tmp, ignore_errors=True)

    def _history(self):
        lines = ["the user's events:"] + ["  " + e.describe() for e in self._ordered()]
        lines += ["the user's ratings:"] + ["  " + c.describe() for c in sorted(self.ratings.values(),
                                                                               key=lambda c: c.id)]
        lines.append("Simkl's log (request number: request):")
        lines += ["  %d: %s" % (n, line) for n, line in enumerate(self.server.log_text().splitlines())]
        lines.append("the add-on's log, from the live thread:")
        lines += ["  " + message for _, message in self.world.log if "live" in message or "Simkl wrote" in message]
        return "\n".join(lines)


def _iso(timestamp):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(timestamp)))


def campaign_settings(**overrides):
    """Hypothesis settings for the campaign; `overrides` pick the profile (examples, steps, seed)."""
    values = dict(deadline=None, database=None, print_blob=False,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                         HealthCheck.filter_too_much])
    values.update(overrides)
    return settings(**values)


# The profile `make test` runs: reproducible (derandomized), well under a minute on 2 cores.
BOUNDED = dict(max_examples=30, stateful_step_count=40, derandomize=True)
