"""One sync: the activities gate, the pull, Kodi's library written in batches, the state saved.

Simkl -> Kodi: a full pull the first time for a login (and on "Sync now"), later only the lists
whose activity moved, fetched from the server's saved timestamp; nothing moved means one request.
Kodi gets playcount and lastplayed for what Simkl has as watched and Kodi does not; it is never
un-watched on an incremental sync, and only on a full sync with "unwatch" on. The timestamps are
saved only once Kodi has been written, so an interrupted sync is simply done again.
Kodi -> Simkl: after a full pull, what Kodi has as watched and Simkl does not can be queued in the
outbox (never with allow_rewatch).
"""
import os
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Tuple

from ..files import read_json, write_json
from ..simkl.api import Rejected
from .library import WRITE_BATCH, KodiLibrary, Write
from .plan import Planner, removed_since, snapshot
from .rated import SimklRatings, apply_ratings, parse_ratings, rated_moved
from .remote import ALL_EPISODES, EXTENDED, ITEM_TYPES, Watched, WatchedShow, moved, parse
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
    ratings: bool = False  # the sync_ratings setting: Simkl's ratings become Kodi's My rating


@dataclass
class Result:
    requests: int = 0
    full: bool = False
    marked: int = 0
    unmarked: int = 0
    rated: int = 0  # My ratings written in Kodi
    failed: int = 0
    to_send: List[Tuple[object, str]] = field(default_factory=list)


class SyncEngine:
    def __init__(self, client, library: KodiLibrary, profile: str, account: str,
                 expect: Callable[[Write], None] = lambda write: None,
                 wait_idle: Callable[[], bool] = lambda: True,
                 progress: Callable[[int, str], None] = lambda percent, message: None,
                 log: Callable[[str], None] = lambda message: None,
                 confirm_unmark: Callable[[int, int], bool] = lambda movies, episodes: False, ratings=None):
        """wait_idle(): returns once nothing plays and no library scan runs; False when Kodi quits.
        confirm_unmark(movies, episodes): the user's answer to unmarking that many in Kodi.
        ratings: the memo and the queue's waiting ratings (ratings/follow.py Ratings: memo(), waiting())."""
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

    def run(self, options: Options) -> Result:
        result = Result()
        state = SyncState(self.profile, self.account)
        activities = self._activities(result)
        full = options.full or not state.full_done
        todo = None if full else moved(state.activities, activities)
        rated_todo = (rated_moved(None if full else state.activities, activities)
                      if options.ratings and options.to_kodi and self._ratings is not None else [])
        if todo == [] and not rated_todo:
            self._log("sync: nothing moved on Simkl since the last sync")
            return result
        result.full = todo is None
        self._progress(5, "")
        watched = self._pull(result, todo)
        rated = self._pull_ratings(result, rated_todo)
        self._progress(30, "")
        self._log_skipped(watched)
        before = self._snapshot() if result.full and options.unwatch else None
        removed = removed_since(before, watched) if before is not None else None
        writes, to_send, watched_in_kodi = (self._decide(Planner(watched, removed), watched, options, result.full)
                                            if todo != [] else ([], [], 0))
        result.to_send = to_send
        if not options.to_kodi:
            # Only Kodi's history was asked for: Kodi got nothing, so nothing is saved as done for it.
            self._log("sync: Kodi's marks left for a sync with Mark in Kodi on")
            self._progress(100, "")
            return result
        writes, confirmed = self._confirm_unmarks(writes, watched_in_kodi)
        self._write(writes, result)
        self._write_ratings(rated, result)
        state.activities = activities
        state.full_done = state.full_done or result.full
        state.save()
        if result.full and options.unwatch and confirmed:
            self._save_snapshot(snapshot(before, watched))
        self._progress(100, "")
        self._log("sync: %s pull, %d marked and %d unmarked in Kodi, %d writes refused, %d requests"
                  % ("full" if result.full else "partial", result.marked, result.unmarked, result.failed,
                     result.requests))
        return result

    def _confirm_unmarks(self, writes: List[Write], watched_in_kodi: int) -> Tuple[List[Write], bool]:
        """(the writes to do, whether the unmarks stand): more unmarks than a few, or than a small share of
        what Kodi has as watched, are asked about first, and left out when the user says no."""
        unmarks = [write for write in writes if write.playcount == 0]
        if len(unmarks) > UNMARK_ASK_OVER or len(unmarks) > UNMARK_ASK_SHARE * watched_in_kodi:
            if not self._wait_idle():  # never a question over a playing video
                raise Stopped()
            movies = sum(1 for write in unmarks if write.kind == "movie")
            if not self._confirm_unmark(movies, len(unmarks) - movies):
                self._log("sync: %d unmarks in Kodi not confirmed; left for the next full sync" % len(unmarks))
                return [write for write in writes if write.playcount > 0], False
        return writes, True

    # -- Simkl --------------------------------------------------------------------------------
    def _get(self, result: Result, call, *args):
        """One request; an answer that is neither an object nor empty stops the sync (nothing is saved)."""
        result.requests += 1
        answer = call(*args)
        if answer is not None and not isinstance(answer, dict):
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

    def _pull_ratings(self, result: Result, todo) -> SimklRatings:
        """The user's ratings of each type whose rated_at moved (since its saved time), read."""
        rated = SimklRatings()
        for kind, date_from in todo:
            rated.merge(parse_ratings(self._get(result, self.client.ratings, kind, date_from)))
        if rated.skipped:
            self._log("sync: %d ratings in Simkl's answer could not be read and were left out, e.g. %s"
                      % (len(rated.skipped), "; ".join(rated.skipped[:3])))
        return rated

    def _write_ratings(self, rated: SimklRatings, result: Result) -> None:
        applied = apply_ratings(rated, self.library, self._ratings, self._wait_idle, self._log)
        if applied.stopped:
            raise Stopped()
        result.rated += applied.written
        result.failed += applied.refused
        if rated.count():
            self._log("sync: %d of Simkl's ratings written as My rating in Kodi" % applied.written)

    def _list(self, result: Result, kind: str, status=None, date_from=None) -> Watched:
        """One all-items list (all of a kind when no status), since date_from when given, read."""
        return parse(self._get(result, self.client.all_items, kind, status, date_from, EXTENDED[kind],
                               ALL_EPISODES[kind]))

    # -- Kodi ---------------------------------------------------------------------------------
    def _decide(self, planner: Planner, watched: Watched, options: Options,
                full: bool) -> Tuple[List[Write], list, int]:
        """_plan's answer; for a partial sync, from only the Kodi items Simkl's changes name when the index can tell."""
        named = None if full else self._plan_named(planner, watched)
        return named or self._plan(planner, options, full)

    def _plan(self, planner: Planner, options: Options, full: bool) -> Tuple[List[Write], list, int]:
        """(Kodi writes, what Kodi could send to Simkl, how many items Kodi has as watched)."""
        writes, to_send, watched = [], [], 0
        collect = options.collect_import and full
        for movie in self.library.movies():
            watched += (movie.get("playcount") or 0) > 0
            write, send = planner.movie(movie)
            if write is not None:
                writes.append(write)
            if send is not None and collect:
                to_send.append(send)
        shows = self.library.shows()
        for episode in self.library.episodes():
            watched += (episode.get("playcount") or 0) > 0
            write, send = planner.episode(episode, shows.get(episode.get("tvshowid")))
            if write is not None:
                writes.append(write)
            if send is not None and collect:
                to_send.append(send)
        return writes, to_send, watched

    def _plan_named(self, planner: Planner, watched: Watched) -> Optional[Tuple[List[Write], list, int]]:
        """A partial sync: the same decisions for only the Kodi items Simkl's changes name (the library's
        index finds them); None when the library cannot tell, and the whole library is read. A partial
        sync never unmarks, so Kodi's watched items are not counted (for the unmark share)."""
        named = self.library.named(watched)
        if named is None:
            return None
        decisions = [planner.movie(movie) for movie in named.movies]
        decisions += [planner.episode(episode, show) for episode, show in named.episodes]
        return [write for write, _ in decisions if write is not None], [], 0

    def _write(self, writes: List[Write], result: Result) -> None:
        for start in range(0, len(writes), WRITE_BATCH):
            if not self._wait_idle():
                raise Stopped()
            batch = writes[start:start + WRITE_BATCH]
            for write in batch:
                self._expect(write)
            refused = self.library.write(batch)
            for write, error in refused:
                self._log("sync: Kodi refused %s %d: %s" % (write.kind, write.dbid, error))
            result.failed += len(refused)
            done = [write for write in batch if all(write is not bad for bad, _ in refused)]
            result.marked += sum(1 for write in done if write.playcount > 0)
            result.unmarked += sum(1 for write in done if write.playcount == 0)
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


def _malformed(what: str) -> Rejected:
    """Simkl answered, but not what the sync reads: the same request again would not help."""
    return Rejected(what, error="malformed")
