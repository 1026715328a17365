"""What Simkl has as watched: the /sync/activities gate and the /sync/all-items pulls, parsed.

Simkl suspends a client id that pulls /sync/all-items without asking /sync/activities first, so a
sync always starts with the activities; when nothing that concerns watches moved, it stops there.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from ..media import clean_ids

# Activity buckets that move when watches change, by activities block, and the all-items type each
# block is pulled with (anime with its TVDB season mapping, so Kodi's episodes match).
WATCH_BUCKETS = {"movies": ("completed",), "tv_shows": ("watching", "completed"),
                 "anime": ("watching", "completed")}
ITEM_TYPES = {"movies": "movies", "tv_shows": "shows", "anime": "anime"}
EXTENDED = {"movies": "full", "shows": "full", "anime": "full_anime_seasons"}
UNKNOWN_TIME = "1970-01-01T00:00:01Z"  # Simkl's "watched, date unknown"

Episode = Tuple[int, int]


@dataclass
class WatchedShow:
    ids: Dict[str, object]
    title: str
    year: Optional[int]
    episodes: Dict[Episode, str] = field(default_factory=dict)  # (season, number) -> watched_at


@dataclass
class Watched:
    """What Simkl has as watched, keyed by Simkl's own id (the one key every item has)."""
    movies: Dict[str, Tuple[Dict[str, object], str]] = field(default_factory=dict)  # key -> (ids, watched_at)
    shows: Dict[str, WatchedShow] = field(default_factory=dict)

    def merge(self, other: "Watched") -> None:
        self.movies.update(other.movies)
        for key, show in other.shows.items():
            mine = self.shows.setdefault(key, WatchedShow(show.ids, show.title, show.year))
            mine.episodes.update(show.episodes)

    def count(self) -> int:
        return len(self.movies) + sum(len(show.episodes) for show in self.shows.values())


def moved(saved: Optional[dict], now: dict) -> Optional[List[Tuple[str, str, Optional[str]]]]:
    """The (activities block, status, date_from) lists to pull since the saved activities; [] when
    nothing that concerns watches moved; None when there is no usable saved state (pull in full)."""
    if not isinstance(saved, dict) or not isinstance(now, dict):
        return None
    if now.get("all") is not None and now.get("all") == saved.get("all"):
        return []
    found = []
    for block, statuses in WATCH_BUCKETS.items():
        before, after = saved.get(block) or {}, now.get(block) or {}
        for status in statuses:
            if after.get(status) != before.get(status):
                found.append((block, status, before.get(status)))
    return found


def parse(answer, kind: Optional[str] = None) -> Watched:
    """The watched movies and episodes in an all-items answer (null, {} and missing keys are empty)."""
    watched = Watched()
    if not isinstance(answer, dict):
        return watched
    for entry in _entries(answer, "movies"):
        movie = entry.get("movie")
        if not isinstance(movie, dict) or entry.get("status") != "completed":
            continue
        ids = clean_ids(_with_simkl(movie.get("ids")))
        key = _key(ids)
        if key:
            watched.movies[key] = (ids, entry.get("last_watched_at") or UNKNOWN_TIME)
    for group in ("shows", "anime"):
        for entry in _entries(answer, group):
            show = entry.get("show")
            if not isinstance(show, dict):
                continue
            ids = clean_ids(_with_simkl(show.get("ids")))
            key = _key(ids)
            if not key:
                continue
            item = WatchedShow(ids, show.get("title") or "", _year(show.get("year")))
            for season in entry.get("seasons") or []:
                if not isinstance(season, dict) or _number(season.get("number")) is None:
                    continue
                for episode in season.get("episodes") or []:
                    number = _number(episode.get("number")) if isinstance(episode, dict) else None
                    if number is not None:
                        item.episodes[(_number(season["number"]), number)] = episode.get("watched_at") or UNKNOWN_TIME
            if item.episodes:
                watched.shows[key] = item
    return watched


def _entries(answer: dict, group: str) -> list:
    value = answer.get(group)
    return [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []


def _with_simkl(ids) -> dict:
    ids = dict(ids or {}) if isinstance(ids, dict) else {}
    if "simkl" not in ids and "simkl_id" in ids:
        ids["simkl"] = ids["simkl_id"]
    return ids


def _key(ids: dict) -> str:
    for name in ("simkl", "imdb", "tmdb", "tvdb"):
        if name in ids:
            return "%s=%s" % (name, ids[name])
    return ""


def _number(value) -> Optional[int]:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _year(value) -> Optional[int]:
    year = _number(value)
    return year if year and year > 0 else None
