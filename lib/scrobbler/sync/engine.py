"""One sync: the activities gate, the pull, Kodi's library written in batches, the state saved.

The sync is a short list of steps, each following some /sync/activities buckets: the watches (the
watch lists), the resume points (`<type>.playback`) and the ratings (`<type>.rated_at`). The gate runs a
step only when one of its buckets moved (every step on a full sync); nothing any step follows moved means one request.
Simkl -> Kodi: a full pull the first time for a login (and on "Sync now"), later only the lists
whose activity moved, fetched from the server's saved timestamp.
Kodi gets playcount and lastplayed for what Simkl has as watched and Kodi does not; it is never
un-watched on an incremental sync, and only on a full sync with "unwatch" on. The timestamps are
saved only once every step's writes reached Kodi, so an interrupted sync is simply done again.
Resume points: Simkl's paused playbacks (resume.py) become Kodi's, in the same batches as the marks.
Ratings: Simkl's ratings (rated.py) become Kodi's "My rating" of library movies and shows, after the marks,
in batches of their own written under the ratings memo's lock (never over the user's own newer choice).
Kodi -> Simkl: after a full pull, what Kodi has as watched and Simkl does not can be queued in the
outbox (never with allow_rewatch).
"""
import os
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

from ..files import read_json, write_json
from ..simkl.api import Rejected
from ..times import read_time
from . import resume
from .library import WRITE_BATCH, KodiLibrary, Named, ResumeWrite, Write
from .plan import Planner, removed_since, snapshot
from .rated import RATED_BUCKETS, RATED_TYPES, SimklRatings, apply_ratings, parse_ratings
from .remote import (
    ALL_EPISODES,
    EXTENDED,
    ITEM_TYPES,
    PLAYBACK_BUCKETS,
    WATCH_BUCKETS,
    Watched,
    WatchedShow,
    moved,
    parse,
)
from .state import SyncState

SNAPSHOT_FILE = "sync_snapshot.json"  # what Simkl had as watched at the last full sync (for unwatch)
# A full sync that would unmark more than this many items, or more than this share of what Kodi has as
# watched, asks the user first: a list Simkl sent short must never wipe a library's watched marks.
UNMARK_ASK_OVER = 20
UNMARK_ASK_SHARE = 0.05


class Stopped(Exception):
    """Kodi is quitting: the sync leaves; it is done again after the next start."""


@dataclass
class Options:
    full: bool = False  # pull everything, not only what moved ("Sync now", and the first sync)
    to_kodi: bool = True  # the sync_from_simkl setting
    unwatch: bool = False  # the sync_unwatch setting: only ever applied on a full sync
    collect_import: bool = False  # also list what Kodi could send to Simkl
    resume: bool = True  # the sync_resume setting: Simkl's paused playbacks become Kodi's resume points
    ratings: bool = False  # the sync_ratings setting: Simkl's ratings become Kodi's My rating


@dataclass
class Result:
    requests: int = 0
    full: bool = False
    marked: int = 0
    unmarked: int = 0
    resumed: int = 0
    rated: int = 0  # My ratings written in Kodi
    failed: int = 0
    to_send: List[Tuple[object, str]] = field(default_factory=list)


class Step:
    """One part of the sync: the activities buckets it follows (block -> buckets), its pull when one of them
    moved (todo: [(block, bucket, saved time)], or None on a full sync), and its judgement of each Kodi item
    the library pass reads (the writes it wants). A step whose buckets did not move is left out."""
    buckets: Dict[str, Tuple[str, ...]] = {}
    movie_properties: List[str] = []  # what Kodi's reads must add for its judgement
    episode_properties: List[str] = []
    judges = True  # False: it reads and writes Kodi in after_writes(), not in the library pass

    def pull(self, engine: "SyncEngine", result: Result, todo) -> None:
        raise NotImplementedError

    def wanted(self) -> Watched:
        """The Simkl items whose Kodi items it judges, for a partial sync's read through the index."""
        return Watched()

    def notes(self) -> List[str]:
        """A log line for each item its judgement left out (after the library pass)."""
        return []

    def finish(self, library: KodiLibrary) -> list:
        """After the library pass: the writes it could decide only with more of Kodi's details."""
        return []

    def movie(self, kodi: dict) -> list:
        return []

    def episode(self, kodi: dict, show: Optional[dict]) -> list:
        return []

    def after_writes(self, engine: "SyncEngine", result: Result) -> None:
        """After the library pass's writes reached Kodi, before the state is saved."""


class WatchStep(Step):
    """The watch lists: Kodi marks (and on a full sync with unwatch, unmarks), and what Kodi could send."""
    buckets = WATCH_BUCKETS

    def __init__(self, options: Options):
        self.options = options
        self.watched = Watched()
        self.planner: Optional[Planner] = None
        self.before: Optional[Watched] = None  # the snapshot of the last full sync (unwatch on a full sync)
        self.to_send: list = []
        self.watched_in_kodi = 0  # movies and episodes Kodi has as watched (a whole read only)
        self.full = False

    def pull(self, engine, result, todo) -> None:
        self.full = todo is None
        self.watched = engine._pull(result, todo)
        engine._log_skipped(self.watched)
        self.before = engine._snapshot() if self.full and self.options.unwatch else None
        removed = removed_since(self.before, self.watched) if self.before is not None else None
        self.planner = Planner(self.watched, removed)

    def wanted(self) -> Watched:
        return self.watched

    def movie(self, kodi: dict) -> list:
        self.watched_in_kodi += (kodi.get("playcount") or 0) > 0
        write, send = self.planner.movie(kodi)
        return self._kept(write, send)

    def episode(self, kodi: dict, show: Optional[dict]) -> list:
        self.watched_in_kodi += (kodi.get("playcount") or 0) > 0
        write, send = self.planner.episode(kodi, show)
        return self._kept(write, send)

    def _kept(self, write, send) -> list:
        if send is not None and self.full and self.options.collect_import:
            self.to_send.append(send)
        return [write] if write is not None else []


class ResumeStep(Step):
    """Simkl's paused playbacks (`<type>.playback`) as Kodi's resume points (resume.py decides)."""
    buckets = PLAYBACK_BUCKETS
    movie_properties = resume.MOVIE_PROPERTIES
    episode_properties = resume.EPISODE_PROPERTIES

    def __init__(self):
        self.paused: List[resume.Paused] = []
        self.planner = resume.ResumePlanner([])

    def pull(self, engine, result, todo) -> None:
        # Several blocks may have moved: one request from the oldest saved time (none saved: all of them).
        since = [saved for _, _, saved in todo or ()]
        date_from = None if todo is None or any(read_time(saved) is None for saved in since) else min(
            since, key=read_time)
        answer = engine._get(result, engine.client.playback, date_from, any_shape=True)
        if answer not in (None, {}) and not isinstance(answer, list):
            raise _malformed("Simkl's paused playbacks are not a list")  # nothing saved: asked again next time
        self.paused, skipped = resume.parse(answer)
        if skipped:
            engine._log("sync: %d paused playbacks in Simkl's answer could not be read and were left out, e.g. %s"
                        % (len(skipped), "; ".join(skipped[:3])))
        self.planner = resume.ResumePlanner(self.paused)

    def wanted(self) -> Watched:
        return resume.as_watched(self.paused)

    def notes(self) -> List[str]:
        return ["sync: " + note for note in self.planner.notes]

    def finish(self, library: KodiLibrary) -> list:
        """The few items a playback names with no length in the read: judged again with their stream details."""
        need, self.planner.need_streams = self.planner.need_streams, []
        writes = []
        for kind in ("movie", "episode"):
            shows = {dbid: show for which, dbid, show in need if which == kind}
            for item in library.details(kind, sorted(shows), resume.STREAM_PROPERTIES[kind]):
                item = dict(item, streamdetails=item.get("streamdetails") or {})
                found = self.planner.movie(item) if kind == "movie" else self.planner.episode(
                    item, shows[item["episodeid"]])
                writes += [found] if found is not None else []
        return writes

    def movie(self, kodi: dict) -> list:
        write = self.planner.movie(kodi) if self.paused else None
        return [write] if write is not None else []

    def episode(self, kodi: dict, show: Optional[dict]) -> list:
        write = self.planner.episode(kodi, show) if self.paused else None
        return [write] if write is not None else []


class RatingStep(Step):
    """Simkl's ratings (`<type>.rated_at`) as Kodi's My rating of library movies and TV shows (rated.py
    decides): read from Kodi and written after the marks, each batch under the memo's lock."""
    buckets = RATED_BUCKETS
    judges = False

    def __init__(self, link):
        self.link = link  # the memo and the queue's waiting ratings (ratings/follow.py Ratings)
        self.rated = SimklRatings()

    def pull(self, engine, result, todo) -> None:
        if todo is None:  # a full sync: every type ever rated (an idle bucket is null), from the start
            todo = [(block, "rated_at", None) for block in RATED_BUCKETS
                    if isinstance(engine.activities.get(block), dict) and engine.activities[block].get("rated_at")]
        for block, _, date_from in todo:
            self.rated.merge(parse_ratings(engine._get(result, engine.client.ratings, RATED_TYPES[block],
                                                       date_from)))
        if self.rated.skipped:
            engine._log("sync: %d ratings in Simkl's answer could not be read and were left out, e.g. %s"
                        % (len(self.rated.skipped), "; ".join(self.rated.skipped[:3])))

    def after_writes(self, engine, result) -> None:
        applied = apply_ratings(self.rated, engine.library, self.link, engine._wait_idle, engine._log)
        if applied.stopped:
            raise Stopped()
        result.rated += applied.written
        result.failed += applied.refused
        if self.rated.count():
            engine._log("sync: %d of Simkl's %d ratings written as My rating in Kodi"
                        % (applied.written, self.rated.count()))


class SyncEngine:
    def __init__(self, client, library: KodiLibrary, profile: str, account: str,
                 expect: Callable[[Write], None] = lambda write: None,
                 wait_idle: Callable[[], bool] = lambda: True,
                 progress: Callable[[int, str], None] = lambda percent, message: None,
                 log: Callable[[str], None] = lambda message: None,
                 confirm_unmark: Callable[[int, int], bool] = lambda movies, episodes: False, ratings=None):
        """wait_idle(): returns once nothing plays and no library scan runs; False when Kodi quits.
        confirm_unmark(movies, episodes): the user's answer to unmarking that many in Kodi.
        ratings: the ratings' memo and the queue's waiting ratings (ratings/follow.py Ratings), None without."""
        self.client = client
        self.library = library
        self.profile = profile
        self.account = account
        self._expect = expect
        self._wait_idle = wait_idle
        self._progress = progress
        self._log = log
        self._confirm_unmark = confirm_unmark
        self._ratings = ratings
        self.activities: dict = {}  # this sync's /sync/activities answer

    def steps(self, options: Options) -> List[Step]:
        """The steps this sync may run, in order; the watches first (a resume point yields to a watch)."""
        steps: List[Step] = [WatchStep(options)]
        if options.resume and options.to_kodi:
            steps.append(ResumeStep())
        if options.ratings and options.to_kodi and self._ratings is not None:
            steps.append(RatingStep(self._ratings))
        return steps

    def run(self, options: Options) -> Result:
        result = Result()
        state = SyncState(self.profile, self.account)
        activities = self.activities = self._activities(result)
        result.full = options.full or not state.full_done or moved(state.activities, activities) is None
        running = self._gate(self.steps(options), state.activities, activities, result.full)
        if not running:
            self._log("sync: nothing moved on Simkl since the last sync")
            return result
        writes = self._pull_and_judge(running, result)
        watch = next((step for step in running if isinstance(step, WatchStep)), None)
        result.to_send = watch.to_send if watch is not None else []
        if not options.to_kodi:
            # Only Kodi's history was asked for: Kodi got nothing, so nothing is saved as done for it.
            self._log("sync: Kodi's marks left for a sync with Mark in Kodi on")
            self._progress(100, "")
            return result
        writes, confirmed = self._confirm_unmarks(writes, watch.watched_in_kodi if watch is not None else 0)
        self._write(_yield_to_marks(writes), result)
        for step in running:
            step.after_writes(self, result)
        # Every step's writes reached Kodi: only now is what Simkl had saved as seen.
        state.activities = activities
        state.full_done = state.full_done or result.full
        state.save()
        if result.full and options.unwatch and confirmed and watch is not None:
            self._save_snapshot(snapshot(watch.before, watch.watched))
        self._progress(100, "")
        self._end_lines(result, running)
        return result

    @staticmethod
    def _gate(steps: List[Step], saved, activities: dict, full: bool) -> Dict[Step, object]:
        """The steps to run, each with what moved of its buckets (None: everything, on a full sync)."""
        if full:
            return {step: None for step in steps}
        todo = {step: moved(saved, activities, step.buckets) for step in steps}
        return {step: found for step, found in todo.items() if found}

    def _pull_and_judge(self, running: Dict[Step, object], result: Result) -> list:
        """Each running step's pull from Simkl, then one pass over Kodi's library: every step's writes."""
        self._progress(5, "")
        for step, todo in running.items():
            step.pull(self, result, todo)
        self._progress(30, "")
        judging = [step for step in running if step.judges]
        writes = self._decide(judging, result.full) if judging else []
        writes += [write for step in running for write in step.finish(self.library)]
        for note in (note for step in running for note in step.notes()):
            self._log(note)
        return writes

    def _end_lines(self, result: Result, running) -> None:
        self._log("sync: %s pull, %d marked and %d unmarked in Kodi, %d writes refused, %d requests"
                  % ("full" if result.full else "partial", result.marked, result.unmarked, result.failed,
                     result.requests))
        for step in running:
            if isinstance(step, ResumeStep):
                self._log("sync: %d resume points from Simkl's %d paused playbacks written in Kodi"
                          % (result.resumed, len(step.paused)))

    def _confirm_unmarks(self, writes: list, watched_in_kodi: int) -> Tuple[list, bool]:
        """(the writes to do, whether the unmarks stand): more unmarks than a few, or than a small share of
        what Kodi has as watched, are asked about first, and left out when the user says no."""
        unmarks = [write for write in writes if isinstance(write, Write) and write.playcount == 0]
        if len(unmarks) > UNMARK_ASK_OVER or len(unmarks) > UNMARK_ASK_SHARE * watched_in_kodi:
            if not self._wait_idle():  # never a question over a playing video
                raise Stopped()
            movies = sum(1 for write in unmarks if write.kind == "movie")
            if not self._confirm_unmark(movies, len(unmarks) - movies):
                self._log("sync: %d unmarks in Kodi not confirmed; left for the next full sync" % len(unmarks))
                return [write for write in writes if not (isinstance(write, Write) and write.playcount == 0)], False
        return writes, True

    # -- Simkl --------------------------------------------------------------------------------
    def _get(self, result: Result, call, *args, any_shape: bool = False):
        """One request; an answer that is neither an object nor empty stops the sync (nothing is saved),
        unless the caller reads any shape itself (any_shape)."""
        result.requests += 1
        answer = call(*args)
        if not any_shape and answer is not None and not isinstance(answer, dict):
            raise _malformed("Simkl's answer is not an object")
        return answer

    def _activities(self, result: Result) -> dict:
        """Simkl's activities (when each list last moved): the gate of every sync."""
        activities = self._get(result, self.client.activities)
        if not isinstance(activities, dict):
            raise _malformed("no activities in Simkl's answer")
        return activities

    def _log_skipped(self, watched: Watched) -> None:
        """One line for the items of Simkl's answer that could not be read (a few named)."""
        if watched.skipped:
            self._log("sync: %d items in Simkl's answer could not be read and were left out, e.g. %s"
                      % (len(watched.skipped), "; ".join(watched.skipped[:3])))

    def _pull(self, result: Result, todo) -> Watched:
        watched = Watched()
        if todo is None:
            for kind in ("movies", "shows", "anime"):
                watched.merge(self._list(result, kind))
            return watched
        for block, status, date_from in todo:
            kind = ITEM_TYPES[block]
            part = self._list(result, kind, status, date_from)
            if status == "watching" and not part.count():
                # Seen in other clients: this delta can filter by when a show entered the list, and so
                # miss new episodes of a show already in it. Pull that one list in full instead.
                self._log("sync: %s/%s moved but its delta is empty; pulling that list in full" % (kind, status))
                part = self._list(result, kind, status)
            watched.merge(part)
        return watched

    def _list(self, result: Result, kind: str, status=None, date_from=None) -> Watched:
        """One all-items list (all of a kind when no status), since date_from when given, read."""
        return parse(self._get(result, self.client.all_items, kind, status, date_from, EXTENDED[kind],
                               ALL_EPISODES[kind]))

    # -- Kodi ---------------------------------------------------------------------------------
    def _decide(self, steps: List[Step], full: bool) -> list:
        """Every step's Kodi writes, from one pass over Kodi's library: for a partial sync, only the items the
        steps' changes name when the index can tell; else the whole library, read once for all steps."""
        named = None if full else self._named(steps)
        if named is not None:
            writes = [write for step in steps for movie in named.movies for write in step.movie(movie)]
            writes += [write for step in steps for episode, show in named.episodes
                       for write in step.episode(episode, show)]
            return writes
        return self._plan(steps)

    def _plan(self, steps: List[Step]) -> list:
        """The whole library, read in pages with what every step needs, each item judged by every step."""
        writes = []
        movie_extra, episode_extra = _extra(steps)
        for movie in self.library.movies(movie_extra):
            for step in steps:
                writes.extend(step.movie(movie))
        shows = self.library.shows()
        for episode in self.library.episodes(episode_extra):
            show = shows.get(episode.get("tvshowid"))
            for step in steps:
                writes.extend(step.episode(episode, show))
        return writes

    def _named(self, steps: List[Step]) -> Optional[Named]:
        """A partial sync: only the Kodi items the steps' changes name (the library's index finds them); None
        when the library cannot tell, and the whole library is read. A partial sync never unmarks, so Kodi's
        watched items are not counted (for the unmark share)."""
        wanted = Watched()
        for step in steps:
            wanted.merge(step.wanted())
        movie_extra, episode_extra = _extra(steps)
        return self.library.named(wanted, movie_extra, episode_extra)

    def _write(self, writes: list, result: Result) -> None:
        for start in range(0, len(writes), WRITE_BATCH):
            if not self._wait_idle():
                raise Stopped()
            batch = writes[start:start + WRITE_BATCH]
            for write in batch:
                if isinstance(write, Write):  # Kodi announces a playcount change; a resume point has none
                    self._expect(write)
            refused = self.library.write(batch)
            for write, error in refused:
                self._log("sync: Kodi refused %s %d: %s" % (write.kind, write.dbid, error))
            result.failed += len(refused)
            for write in batch:
                if all(write is not bad for bad, _ in refused):
                    setattr(result, write.tally, getattr(result, write.tally) + 1)
            self._progress(30 + int(70 * (start + len(batch)) / len(writes)), "")

    # -- the snapshot for unwatch ------------------------------------------------------------
    def _snapshot(self) -> Watched:
        data = read_json(os.path.join(self.profile, SNAPSHOT_FILE))
        if data.get("account") != self.account:
            return Watched()
        watched = Watched()
        for key, (ids, at) in (data.get("movies") or {}).items():
            watched.movies[key] = (ids, at)
        for key, show in (data.get("shows") or {}).items():
            watched.shows[key] = WatchedShow(show["ids"], {(s, n): at for s, n, at in show.get("episodes") or []})
        return watched

    def _save_snapshot(self, watched: Watched) -> None:
        data = {"account": self.account, "movies": watched.movies,
                "shows": {key: {"ids": show.ids, "episodes": [[s, n, at] for (s, n), at in show.episodes.items()]}
                          for key, show in watched.shows.items()}}
        write_json(os.path.join(self.profile, SNAPSHOT_FILE), data)


def _extra(steps: List[Step]) -> Tuple[List[str], List[str]]:
    """The properties Kodi's reads add for these steps (none when only the watches run)."""
    movie = [name for step in steps for name in step.movie_properties]
    episode = [name for step in steps for name in step.episode_properties]
    return list(dict.fromkeys(movie)), list(dict.fromkeys(episode))


def _yield_to_marks(writes: list) -> list:
    """A resume point for an item this sync marks watched at or after its pause is left out: watched since."""
    marked = {(write.kind, write.dbid): write for write in writes if isinstance(write, Write) and write.playcount > 0}
    kept = []
    for write in writes:
        mark = marked.get((write.kind, write.dbid)) if isinstance(write, ResumeWrite) else None
        if mark is not None:
            at = resume.kodi_played_at(mark.lastplayed)
            if at is None or at >= write.paused_at:
                continue
        kept.append(write)
    return kept


def _malformed(what: str) -> Rejected:
    """Simkl answered, but not what the sync reads: the same request again would not help."""
    return Rejected(what, error="malformed")
