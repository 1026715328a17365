"""Kodi's video library over JSON-RPC, for the sync: read in pages, or only the items Simkl's changes
name; written in batches.

A big library (60,000 items) is read a page at a time, never per show; writes travel as JSON-RPC
batch arrays (one executeJSONRPC round trip each) and their answers are read item by item: a
batch's errors are entries of the answer list, not an error of the call.
With an index (index.py), a whole read of movies and shows also builds it, and `named` finds the few
items a partial sync needs through it: each movie, each show and each season it names, read alone.
"""
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterator, List, Optional, Tuple

from .index import RECHECK_LIMIT, Entries, LibraryIndex, match_keys

PAGE = 2000  # items per GetMovies / GetEpisodes call
WRITE_BATCH = 50  # Set*Details calls per executeJSONRPC round trip
READ_BATCH = 50  # Get*Details / GetEpisodes calls per executeJSONRPC round trip, for the items a delta names
NAMED_LIMIT = 1000  # a delta that names more calls than this reads the whole library instead (pages are cheaper)

MOVIE_PROPERTIES = ["title", "year", "uniqueid", "playcount", "lastplayed"]
SHOW_PROPERTIES = ["title", "year", "uniqueid"]
EPISODE_PROPERTIES = ["tvshowid", "season", "episode", "title", "uniqueid", "playcount", "lastplayed"]
RATING_PROPERTIES = ["title", "year", "uniqueid", "userrating"]  # a movie's or show's "My rating", 0 for none
RATED = {"field": "userrating", "operator": "greaterthan", "value": "0"}  # only the items that have one
RATING_KINDS = {"movie": ("VideoLibrary.GetMovies", "movies"), "tvshow": ("VideoLibrary.GetTVShows", "tvshows")}


@dataclass
class Write:
    """One library change: kind 'movie' or 'episode', its library id, the new playcount and lastplayed."""
    kind: str
    dbid: int
    playcount: int
    lastplayed: str = ""

    @property
    def tally(self) -> str:
        """The sync's count it adds to."""
        return "marked" if self.playcount > 0 else "unmarked"

    def call(self) -> Tuple[str, dict]:
        params = {self.kind + "id": self.dbid, "playcount": self.playcount}
        if self.lastplayed:
            params["lastplayed"] = self.lastplayed
        method = "VideoLibrary.SetMovieDetails" if self.kind == "movie" else "VideoLibrary.SetEpisodeDetails"
        return method, params


@dataclass
class ResumeWrite:
    """A resume point from Simkl: kind 'movie' or 'episode', its library id, the position and Kodi's own total
    (seconds), and when it was paused on Simkl (unix time). Kodi 20.1 and 21 announce nothing for it (no playcount,
    so never a library mark: tests/e2e/test_resume_points.py)."""
    kind: str
    dbid: int
    position: int
    total: int
    paused_at: float = 0.0
    tally = "resumed"  # the sync's count it adds to

    def call(self) -> Tuple[str, dict]:
        method = "VideoLibrary.SetMovieDetails" if self.kind == "movie" else "VideoLibrary.SetEpisodeDetails"
        return method, {self.kind + "id": self.dbid, "resume": {"position": self.position, "total": self.total}}


@dataclass
class RatingWrite:
    """One "My rating" change: kind 'movie' or 'tvshow', its library id, the rating (1-10, 0: none)."""
    kind: str
    dbid: int
    rating: int

    def call(self) -> Tuple[str, dict]:
        method = "VideoLibrary.SetMovieDetails" if self.kind == "movie" else "VideoLibrary.SetTVShowDetails"
        return method, {self.kind + "id": self.dbid, "userrating": self.rating}


@dataclass
class Named:
    """The Kodi items a partial sync looks at: movies, and episodes each with its show's details."""
    movies: List[dict] = field(default_factory=list)
    episodes: List[Tuple[dict, dict]] = field(default_factory=list)


class KodiLibrary:
    def __init__(self, call: Callable[[str, dict], Optional[dict]],
                 batch: Callable[[List[Tuple[str, dict]]], List[Tuple[object, object]]],
                 index: Optional[LibraryIndex] = None, log: Callable[[str], None] = lambda message: None):
        self._call = call
        self._batch = batch
        self._index = index
        self._log = log
        self._building: Optional[Entries] = None  # the index a whole read builds
        self._totals: Dict[str, int] = {}  # what Kodi said it has, by answer key, after a whole paged read
        self.items_read = 0  # movies, shows and episodes Kodi's Get* answers held, for the sync's log line
        self.read_calls = 0
        self.failed_reads = 0  # paged reads Kodi gave no answer to (an error): what they would list is unknown

    def movies(self, extra: List[str] = ()) -> Iterator[dict]:
        if self._index is not None:
            self._index.reading_all()
            self._building = Entries()
        building = self._building
        for movie in self._pages("VideoLibrary.GetMovies", "movies", MOVIE_PROPERTIES + list(extra)):
            if building is not None and isinstance(movie.get("movieid"), int):
                building.put("movie", movie["movieid"], match_keys(movie.get("uniqueid")))
            yield movie

    def shows(self) -> Dict[int, dict]:
        shows = {show["tvshowid"]: show for show in self._pages("VideoLibrary.GetTVShows", "tvshows", SHOW_PROPERTIES)
                 if isinstance(show.get("tvshowid"), int)}
        building, self._building = self._building, None
        if building is not None and building.count("movie") == self._totals.get("movies"):
            for tvshowid, show in shows.items():
                building.put("tvshow", tvshowid, match_keys(show.get("uniqueid")))
            if building.count("tvshow") == self._totals.get("tvshows"):
                self._index.save(building)  # every movie and show read: the index is whole
        return shows

    def episodes(self, extra: List[str] = ()) -> Iterator[dict]:
        return self._pages("VideoLibrary.GetEpisodes", "episodes", EPISODE_PROPERTIES + list(extra))

    def rating_items(self, kind: str, rated_only: bool = False) -> Iterator[dict]:
        """Kodi's movies or TV shows ('movie' / 'tvshow') with their ids and "My rating"; rated_only: only
        those that have one (Kodi filters them)."""
        method, key = RATING_KINDS[kind]
        return self._pages(method, key, RATING_PROPERTIES, RATED if rated_only else None)

    def rating_details(self, kind: str, dbids: List[int]) -> Iterator[dict]:
        """The same of the given movies or TV shows, each read alone; one Kodi no longer has is left out."""
        return self._details(kind, dbids, RATING_PROPERTIES)

    def write(self, writes: list) -> List[Tuple[object, object]]:
        """Send one batch; returns the writes Kodi refused, each with its error."""
        answers = self._batch([write.call() for write in writes])
        return [(write, error) for write, (result, error) in zip(writes, answers)
                if error is not None or result != "OK"]

    def _pages(self, method: str, key: str, properties: List[str], where: Optional[dict] = None) -> Iterator[dict]:
        start = 0
        self._totals.pop(key, None)
        while True:
            params = {"properties": properties, "limits": {"start": start, "end": start + PAGE}}
            if where is not None:
                params["filter"] = where
            answer = self._call(method, params)
            self.failed_reads += answer is None
            result = answer or {}
            items = result.get(key) or []
            self.read_calls += 1
            self.items_read += len(items)
            for item in items:
                if isinstance(item, dict):
                    yield item
            total = (result.get("limits") or {}).get("total", 0)
            start += PAGE
            if not items or start >= total:
                if where is None:  # a filtered read tells nothing of the index's counts
                    self._totals[key] = total
                return

    # -- a partial sync: only what Simkl's changes name ------------------------------------------
    def named(self, watched, movie_extra: List[str] = (), episode_extra: List[str] = ()) -> Optional[Named]:
        """Kodi's items for the movies and episodes in `watched` (what a partial pull found), found through
        the index and read one by one (with the extra properties given); None when the index cannot be
        trusted or the delta is too big, and the caller reads the whole library instead (which builds the
        index again)."""
        entries = self._current_index()
        if entries is None:
            return None
        movieids = set()
        for ids, _ in watched.movies.values():
            movieids |= entries.find("movie", match_keys(ids))
        seasons = _seasons_named(entries, watched.shows.values())
        episode_calls = _episode_calls(seasons, EPISODE_PROPERTIES + list(episode_extra))
        if len(movieids) + len(seasons) + len(episode_calls) > NAMED_LIMIT:
            self._log("sync: Simkl's changes name too many items to read one by one; reading the whole library")
            return None
        found = Named()
        found.movies.extend(self._details("movie", sorted(movieids), MOVIE_PROPERTIES + list(movie_extra)))
        shows = {show["tvshowid"]: show for show in self._details("tvshow", sorted(seasons), SHOW_PROPERTIES)}
        found.episodes.extend(self._episodes_of(episode_calls, shows))
        return found

    def _episodes_of(self, calls: List[Tuple[str, dict]], shows: Dict[int, dict]) -> Iterator[Tuple[dict, dict]]:
        """Each episode the GetEpisodes calls find, with its show's details (one of a show not read is left out)."""
        for result in self._read(calls):
            for episode in (result or {}).get("episodes") or []:
                if isinstance(episode, dict) and episode.get("tvshowid") in shows:
                    self.items_read += 1
                    yield episode, shows[episode["tvshowid"]]

    def _current_index(self) -> Optional[Entries]:
        """The index with every change Kodi announced since applied, checked against Kodi's own counts of
        movies and shows; None (and no index file left) when it cannot be trusted."""
        if self._index is None:
            return None
        entries = self._index.load()
        changes = self._index.take_changes()
        if entries is None or len(changes) > RECHECK_LIMIT:
            self._untrusted("no index" if entries is None else "%d library changes since it was saved" % len(changes))
            return None
        self._apply_changes(entries, changes)
        mismatch = self._count_mismatch(entries)
        if mismatch:
            self._untrusted(mismatch)
            return None
        if changes:
            self._index.save(entries)
        return entries

    def _apply_changes(self, entries: Entries, changes: dict) -> None:
        """Kodi's announced changes ((kind, dbid) -> read it again): one removed dropped, one added or
        changed read again (and dropped when Kodi no longer has it)."""
        for kind, dbid in [key for key, again in changes.items() if not again]:
            entries.drop(kind, dbid)
        for kind in ("movie", "tvshow"):
            again = sorted(dbid for (which, dbid), read in changes.items() if read and which == kind)
            found = {item[kind + "id"]: item for item in self._details(kind, again, ["uniqueid"])}
            for dbid in again:
                if dbid in found:
                    entries.put(kind, dbid, match_keys(found[dbid].get("uniqueid")))
                else:
                    entries.drop(kind, dbid)  # gone since

    def _count_mismatch(self, entries: Entries) -> str:
        """How the index's counts of movies and shows differ from Kodi's ('' when they agree): one item read
        of each, for the total Kodi gives with it."""
        for kind, method, key in (("movie", "VideoLibrary.GetMovies", "movies"),
                                  ("tvshow", "VideoLibrary.GetTVShows", "tvshows")):
            result = self._call(method, {"limits": {"start": 0, "end": 1}}) or {}
            self.read_calls += 1
            self.items_read += len(result.get(key) or [])
            total = (result.get("limits") or {}).get("total")
            if total != entries.count(kind):
                return "Kodi has %s %ss, the index %d" % (total, kind, entries.count(kind))
        return ""

    def _untrusted(self, why: str) -> None:
        self._index.discard()
        self._log("sync: the library index cannot be used (%s); reading the whole library" % why)

    def details(self, kind: str, dbids: List[int], properties: List[str]) -> Iterator[dict]:
        """Get<Kind>Details (movie, tvshow, episode) of each id, READ_BATCH per round trip; one Kodi no longer
        has is left out."""
        return self._details(kind, dbids, properties)

    def _details(self, kind: str, dbids: List[int], properties: List[str]) -> Iterator[dict]:
        """Get<Kind>Details of each id; an id Kodi no longer has is left out."""
        method = "VideoLibrary.Get%sDetails" % {"movie": "Movie", "tvshow": "TVShow", "episode": "Episode"}[kind]
        calls = [(method, {kind + "id": dbid, "properties": properties}) for dbid in dbids]
        for result in self._read(calls):
            item = (result or {}).get(kind + "details")
            if isinstance(item, dict) and isinstance(item.get(kind + "id"), int):
                self.items_read += 1
                yield item

    def _read(self, calls: List[Tuple[str, dict]]) -> Iterator[Optional[dict]]:
        """Each call's result (None for an error), READ_BATCH calls per round trip."""
        for start in range(0, len(calls), READ_BATCH):
            batch = calls[start:start + READ_BATCH]
            self.read_calls += len(batch)
            for result, error in self._batch(batch):
                yield result if error is None and isinstance(result, dict) else None


def _seasons_named(entries: Entries, shows) -> Dict[int, Optional[set]]:
    """The library's shows that Simkl's shows match (through the index), each with its seasons to read; None:
    every season (a show completed on Simkl with its episodes not listed)."""
    seasons: Dict[int, Optional[set]] = {}
    for show in shows:
        wanted = None if show.whole else {season for season, _ in show.episodes}
        if wanted == set():
            continue
        for tvshowid in entries.find("tvshow", match_keys(show.ids)):
            if wanted is None or seasons.get(tvshowid, set()) is None:
                seasons[tvshowid] = None
            else:
                seasons.setdefault(tvshowid, set()).update(wanted)
    return seasons


def _episode_calls(seasons: Dict[int, Optional[set]], properties: List[str]) -> List[Tuple[str, dict]]:
    """One GetEpisodes call for each show and season to read (one for the whole show when None), in order."""
    return [("VideoLibrary.GetEpisodes", dict({"tvshowid": tvshowid, "properties": properties},
                                              **({} if wanted is None else {"season": season})))
            for tvshowid, wanted in sorted(seasons.items(), key=lambda pair: pair[0])
            for season in ([None] if wanted is None else sorted(wanted))]
