"""The user's Simkl library inside the fake Simkl: lists, watched episodes, and the activities.

FakeSimkl (fake_simkl.py) owns one Library as `fake.library`, answers GET /sync/activities and
GET /sync/all-items[/{movies|shows|anime}[/{status}]] from it, and feeds it what the add-on posts
to /sync/history and /sync/history/remove. Tests fill it with the controls below.

What it models (docs §7.1, §7.2, §8.3, §12):
- Activities: each change stamps the bucket it concerns, its block's `all` and the top `all` with
  the fake's clock (ISO-8601 UTC, whole seconds); idle buckets are null. A status change or a
  removal stamps the list the item left too.
- Every list entry remembers when it entered the list (`added_to_watchlist_at`) and when it last
  changed; `date_from` keeps entries changed strictly after it. Removed entries are gone, so a
  delta never shows a removal.
- `watching_delta_quirk`: a shows|anime/watching delta filters by when the show entered the list
  (what a Kodi client reported, §12), so new episodes of a show already in Watching are missed.
- Anime episodes are stored as given (tests and the add-on use TVDB numbering) and returned as
  stored with `extended=full` or `extended=full_anime_seasons`.
- Simkl ids: the ids' own `simkl`, else one assigned from a counter; the same ids (any shared
  id) get the same Simkl id again, even after a removal. Movies and shows are numbered apart
  (a TMDB movie id and a TMDB TV id are different things).
"""
import itertools
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Dict, Optional, Tuple

MOVIE_BUCKETS = ("all", "rated_at", "playback", "plantowatch", "completed", "dropped", "removed_from_list")
SHOW_BUCKETS = ("all", "rated_at", "playback", "plantowatch", "watching", "completed", "hold", "dropped",
                "removed_from_list")
STATUSES = ("watching", "plantowatch", "hold", "completed", "dropped")
MOVIE_STATUSES = ("plantowatch", "completed", "dropped")
TYPES = {"movies": "movie", "shows": "show", "anime": "anime"}  # all-items path / answer key -> kind
BLOCKS = {"movie": "movies", "show": "tv_shows", "anime": "anime"}  # kind -> activities block


@dataclass
class Entry:
    """One item on one of the user's lists."""
    simkl: int
    kind: str  # movie | show | anime
    title: str
    year: Optional[int]
    ids: Dict[str, object]
    status: str
    added_at: float  # when it entered the list (clock)
    changed_at: float  # when its list entry last changed (clock)
    watched_at: Optional[str] = None  # movies
    episodes: Dict[Tuple[int, int], Optional[str]] = field(default_factory=dict)  # (season, number) -> watched_at
    total_episodes: Optional[int] = None
    anime_type: str = "tv"


def iso(seconds):
    """The fake's clock as Simkl writes user timestamps: 2026-05-14T06:50:38Z."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def parse_time(text):
    """An ISO-8601 time (Z, milliseconds, an offset, or a bare date) as epoch seconds; None if not one."""
    if not isinstance(text, str) or not text:
        return None
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


class Library:
    def __init__(self, clock=time.time, lock=None):
        self.clock = clock
        self.lock = lock or threading.RLock()
        self.entries: Dict[int, Entry] = {}  # simkl id -> entry, in the order they entered a list
        self.watching_delta_quirk = False
        self.null_when_empty = True  # an empty all-items answer: null (Docs) or, when False, {} ([cli])
        self._activities = {"settings": {"all": None}, "movies": dict.fromkeys(MOVIE_BUCKETS),
                            "tv_shows": dict.fromkeys(SHOW_BUCKETS), "anime": dict.fromkeys(SHOW_BUCKETS)}
        self._top = None
        self._index: Dict[Tuple[str, str, str], int] = {}  # (movie|show, id name, value) -> simkl id
        self._simkl_ids = itertools.count(700001)

    # -- test controls ------------------------------------------------------------------------
    def watch_movie(self, title, year, ids, watched_at=None):
        """The user watched a movie: it is (or stays) in Completed with this last watch. -> simkl id"""
        with self.lock:
            now = self.clock()
            entry = self._entry("movie", title, year, ids, now)
            entry.watched_at = watched_at or iso(now)
            self._set_status(entry, "completed", now)
            return entry.simkl

    def watch_episodes(self, title, year, ids, episodes, anime=None, completed=False, total_episodes=None,
                       anime_type=None):
        """The user watched episodes [(season, number, watched_at or None), ...] of a show (anime=True:
        an anime, numbered as given, TVDB for the add-on). The show goes to Watching, or to Completed
        when `completed`; anime=None keeps how the show is filed (a show when new). -> simkl id"""
        with self.lock:
            now = self.clock()
            found = self._find("show", ids)
            kind = ("anime" if anime else "show") if anime is not None or found is None else found.kind
            entry = self._entry(kind, title, year, ids, now)
            for episode in episodes:
                season, number = int(episode[0]), int(episode[1])
                watched_at = episode[2] if len(episode) > 2 else None
                entry.episodes[(season, number)] = watched_at or iso(now)
            if total_episodes is not None:
                entry.total_episodes = total_episodes
            if anime_type is not None:
                entry.anime_type = anime_type
            if completed:
                status = "completed"
            elif entry.status in ("watching", "completed"):
                status = entry.status
            else:
                status = "watching"
            self._set_status(entry, status, now)
            return entry.simkl

    def unwatch_episodes(self, ids, episodes):
        """Episodes [(season, number), ...] leave the show's history; a completed show goes back to
        Watching, a show left without watched episodes leaves its list. -> False if not listed"""
        with self.lock:
            entry = self._find("show", ids)
            if entry is None:
                return False
            now = self.clock()
            for episode in episodes:
                entry.episodes.pop((int(episode[0]), int(episode[1])), None)
            if not entry.episodes:
                self._drop(entry, now)
            else:
                self._set_status(entry, "watching", now)
            return True

    def remove_movie(self, ids):
        """The movie leaves the user's lists (its history removed). -> False if it was not listed"""
        with self.lock:
            return self._remove("movie", ids)

    def remove_show(self, ids):
        """The show or anime leaves the user's lists. -> False if it was not listed"""
        with self.lock:
            return self._remove("show", ids)

    def list_item(self, kind, title, year, ids, status):
        """Put an item (kind movie|show|anime) on a list (status) without watching anything, or
        move it there. -> simkl id"""
        if status not in (MOVIE_STATUSES if kind == "movie" else STATUSES):
            raise ValueError("no %s list %r" % (kind, status))
        with self.lock:
            now = self.clock()
            entry = self._entry(kind, title, year, ids, now)
            self._set_status(entry, status, now)
            return entry.simkl

    def touch(self, block, bucket="all"):
        """Move one activities bucket without a library change (e.g. movies.rated_at, settings)."""
        with self.lock:
            self._stamp(block, bucket, self.clock())

    def simkl_id(self, kind, ids):
        """The Simkl id the library gave these ids (kind movie|show), or None."""
        with self.lock:
            return self._lookup("movie" if kind == "movie" else "show", ids)

    # -- answers ------------------------------------------------------------------------------
    def activities(self):
        """The GET /sync/activities answer."""
        with self.lock:
            a = self._activities
            return {"all": self._top, "settings": dict(a["settings"]), "movies": dict(a["movies"]),
                    "tv_shows": dict(a["tv_shows"]), "anime": dict(a["anime"])}

    def all_items(self, path, query):
        """(status, answer) for GET /sync/all-items[/{movies|shows|anime}[/{status}]]."""
        parts = [part for part in path[len("/sync/all-items"):].split("/") if part]
        if len(parts) > 2 or (parts and parts[0] not in TYPES) or (len(parts) == 2 and parts[1] not in STATUSES):
            return 404, {"error": "url_failed", "code": 404}
        since = None
        if query.get("date_from"):
            since = parse_time(query["date_from"])
            if since is None:
                return 400, {"error": "wrong_parameter", "code": 400, "message": "Bad date_from"}
        extended = set((query.get("extended") or "").split(","))
        seasons = bool(extended & {"full", "full_anime_seasons"})
        watched_at = query.get("episode_watched_at") == "yes"
        groups = [parts[0]] if parts else list(TYPES)
        status = parts[1] if len(parts) == 2 else None
        answer = {}
        with self.lock:
            for group in groups:
                items = []
                for entry in self.entries.values():
                    if entry.kind != TYPES[group] or (status and entry.status != status):
                        continue
                    if since is not None:
                        quirk = self.watching_delta_quirk and status == "watching" and group != "movies"
                        if (entry.added_at if quirk else entry.changed_at) <= since:
                            continue
                    items.append(self._item(entry, seasons, watched_at))
                if items:
                    answer[group] = items
        if not answer:
            return 200, (None if self.null_when_empty else {})
        return 200, answer

    # -- history hooks (POST /sync/history, /sync/history/remove) -----------------------------
    def history_movie(self, movie):
        self.watch_movie(movie.get("title"), movie.get("year"), movie.get("ids"), movie.get("watched_at"))

    def history_show(self, show, episodes, anime):
        """A show posted to /sync/history with the episodes the fake accepted from it."""
        completed = show.get("status") == "completed"
        episodes = [episode for episode in episodes if _numbered(episode)]
        if episodes:
            self.watch_episodes(show.get("title"), show.get("year"), show.get("ids"), episodes,
                                anime=True if anime else None, completed=completed)
        elif not show.get("seasons"):  # the whole show: listed with the status sent, Completed by default
            found = self._find("show", show.get("ids"))
            kind = "anime" if anime else (found.kind if found is not None else "show")
            status = show.get("status") if show.get("status") in STATUSES else "completed"
            self.list_item(kind, show.get("title"), show.get("year"), show.get("ids"), status)

    def history_remove(self, body):
        for movie in body.get("movies") or []:
            self.remove_movie(movie.get("ids"))
        for show in body.get("shows") or []:
            episodes = [(season.get("number"), episode.get("number")) for season in show.get("seasons") or []
                        for episode in season.get("episodes") or []]
            episodes = [episode for episode in episodes if _numbered(episode)]
            if episodes:
                self.unwatch_episodes(show.get("ids"), episodes)
            elif not show.get("seasons"):
                self.remove_show(show.get("ids"))

    # -- inside -------------------------------------------------------------------------------
    def _stamp(self, block, bucket, now):
        stamp = iso(now)
        self._activities[block][bucket] = stamp
        self._activities[block]["all"] = stamp
        self._top = stamp

    def _set_status(self, entry, status, now):
        block = BLOCKS[entry.kind]
        if entry.status and entry.status != status:
            self._stamp(block, entry.status, now)  # the list it left
        entry.status = status
        entry.changed_at = now
        self._stamp(block, status, now)

    def _drop(self, entry, now):
        del self.entries[entry.simkl]
        self._stamp(BLOCKS[entry.kind], entry.status, now)
        self._stamp(BLOCKS[entry.kind], "removed_from_list", now)

    def _remove(self, family, ids):
        entry = self._find(family, ids)
        if entry is None:
            return False
        self._drop(entry, self.clock())
        return True

    def _lookup(self, family, ids):
        for name, value in (ids if isinstance(ids, dict) else {}).items():
            if value not in (None, ""):
                found = self._index.get((family, name, str(value)))
                if found is not None:
                    return found
        return None

    def _find(self, family, ids):
        simkl = self._lookup(family, ids)
        entry = self.entries.get(simkl) if simkl is not None else None
        return entry if entry is not None and (entry.kind == "movie") == (family == "movie") else None

    def _entry(self, kind, title, year, ids, now):
        """The list entry for these ids, made (not yet on a list: status "") when new."""
        family = "movie" if kind == "movie" else "show"
        ids = {name: value for name, value in (ids if isinstance(ids, dict) else {}).items()
               if value not in (None, "")}
        simkl = self._lookup(family, ids)
        if simkl is None:
            simkl = int(ids["simkl"]) if ids.get("simkl") else next(self._simkl_ids)
        ids["simkl"] = simkl
        for name, value in ids.items():
            self._index.setdefault((family, name, str(value)), simkl)
        entry = self.entries.get(simkl)
        if entry is None:
            entry = self.entries[simkl] = Entry(simkl, kind, title or "", year, {}, "", now, now)
        entry.kind = kind
        entry.title = title or entry.title
        entry.year = year if year is not None else entry.year
        entry.ids.update(ids)
        return entry

    def _item(self, entry, seasons, watched_at):
        ids = dict([("simkl", entry.simkl)] + [(k, v) for k, v in entry.ids.items() if k != "simkl"])
        block = {"title": entry.title, "year": entry.year, "ids": ids}
        item = {"added_to_watchlist_at": iso(entry.added_at), "last_watched_at": None, "user_rated_at": None,
                "user_rating": None, "status": entry.status}
        if entry.kind == "movie":
            item["last_watched_at"] = entry.watched_at if entry.status == "completed" else None
            item["movie"] = block
            return item
        watched = sorted(entry.episodes)
        times = [t for t in entry.episodes.values() if parse_time(t) is not None]
        item["last_watched_at"] = max(times, key=parse_time) if times else None
        item["last_watched"] = "S%02dE%02d" % watched[-1] if watched else None
        item["watched_episodes_count"] = len(watched)
        item["total_episodes_count"] = max(entry.total_episodes or 0, len(watched))
        item["not_aired_episodes_count"] = 0
        item["show"] = block
        if entry.kind == "anime":
            item["anime_type"] = entry.anime_type
        if seasons:
            item["seasons"] = [
                {"number": season,
                 "episodes": [dict({"number": number}, **({"watched_at": entry.episodes[(season, number)]}
                                                          if watched_at else {}))
                              for s, number in watched if s == season]}
                for season in sorted({s for s, _ in watched})]
        return item


def _numbered(episode):
    """A (season, number, ...) whose season and number are whole numbers (what the add-on may post is not)."""
    try:
        return all(int(value) == value for value in episode[:2])
    except (TypeError, ValueError):
        return False
