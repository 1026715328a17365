"""What Simkl has as watched: the /sync/activities gate and the /sync/all-items pulls, parsed.

Simkl suspends a client id that pulls /sync/all-items without asking /sync/activities first, so a
sync always starts with the activities; when nothing that concerns watches moved, it stops there.

The shapes (simkl-api §7.2, §13; api.simkl.org get-all-items and conventions/extended-info):
- shows and anime in Completed or Dropped come without `seasons` unless the request asks for
  `include_all_episodes` (seen by CrossWatch, PR #267); asked with `yes`, a completed show lists every
  aired episode. A show that still comes without them is "episodes not listed", never "none watched";
- each anime entry is one cour, season, OVA or film numbering its episodes from 1; with
  `extended=full_anime_seasons` each episode carries its TVDB place, `"tvdb": {"season", "episode"}`,
  which is how Kodi's scrapers number it. Several entries may carry the same TVDB/TMDB series ids;
- anime films sit in the anime list with `anime_type: "movie"` beside the `show` block;
- ids other than `simkl` are strings; times are ISO 8601 with or without fractions, `Z` or an offset.
One malformed item (no ids, an unreadable time, a number that is not one) is skipped and counted;
it never stops the others.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set, Tuple

from ..media import clean_ids
from ..times import UNKNOWN_TIME, read_time

# Activity buckets that move when watches change, by activities block, and the all-items type each
# block is pulled with (anime with its TVDB season mapping, so Kodi's episodes match). Shows on hold
# or dropped keep the episodes watched before.
WATCH_BUCKETS = {"movies": ("completed",), "tv_shows": ("watching", "completed", "hold", "dropped"),
                 "anime": ("watching", "completed", "hold", "dropped")}
# The paused playbacks (resume points) move `<type>.playback` (simkl-api §5.3, §7.1).
PLAYBACK_BUCKETS = {"movies": ("playback",), "tv_shows": ("playback",), "anime": ("playback",)}
ITEM_TYPES = {"movies": "movies", "tv_shows": "shows", "anime": "anime"}
EXTENDED = {"movies": "full", "shows": "full", "anime": "full_anime_seasons"}
ALL_EPISODES = {"movies": False, "shows": True, "anime": True}  # include_all_episodes=yes

Episode = Tuple[int, int]


@dataclass
class WatchedShow:
    ids: Dict[str, object]
    episodes: Dict[Episode, str] = field(default_factory=dict)  # Kodi's (TVDB) season, number -> watched_at
    # False: Simkl listed the show without its episodes, or some could not be read: what it has of it is
    # not known (never "none")
    listed: bool = True
    # Completed on Simkl without its episodes listed: every episode of a regular season counts as watched
    whole: str = ""  # then: when it was last watched (or UNKNOWN_TIME)


@dataclass
class Watched:
    """What Simkl has as watched, keyed by Simkl's own id (the one key every item has)."""
    movies: Dict[str, Tuple[Dict[str, object], str]] = field(default_factory=dict)  # key -> (ids, watched_at)
    shows: Dict[str, WatchedShow] = field(default_factory=dict)
    skipped: List[str] = field(default_factory=list)  # what could not be read, one line each
    skipped_keys: Set[str] = field(default_factory=set)  # items known by their ids, not readable otherwise
    anonymous: bool = False  # an entry without readable ids was skipped: it could be any item

    def merge(self, other: "Watched") -> None:
        self.movies.update(other.movies)
        for key, show in other.shows.items():
            mine = self.shows.setdefault(key, WatchedShow(show.ids))
            mine.episodes.update(show.episodes)
            mine.listed = mine.listed and show.listed
            mine.whole = mine.whole or show.whole
        self.skipped.extend(other.skipped)
        self.skipped_keys.update(other.skipped_keys)
        self.anonymous = self.anonymous or other.anonymous

    def count(self) -> int:
        return len(self.movies) + sum(len(show.episodes) for show in self.shows.values())


def moved(saved: Optional[dict], now: dict, buckets: Dict[str, Tuple[str, ...]] = WATCH_BUCKETS
          ) -> Optional[List[Tuple[str, str, Optional[str]]]]:
    """The (activities block, bucket, date_from) of the buckets (by block; the watch lists unless told) that
    moved since the saved activities; [] when none did; None when there is no usable saved state (pull in full)."""
    if not isinstance(saved, dict) or not isinstance(now, dict):
        return None
    found = []
    for block, statuses in buckets.items():
        before, after = _block(saved, block), _block(now, block)
        for status in statuses:
            if after.get(status) != before.get(status):
                found.append((block, status, before.get(status)))
    return found


def parse(answer) -> Watched:
    """The watched movies and episodes in an all-items answer (null, {} and missing keys are empty)."""
    watched = Watched()
    if not isinstance(answer, dict):
        return watched
    for entry in _entries(answer, "movies"):
        _movie(watched, entry, entry.get("movie"))
    for group in ("shows", "anime"):
        for entry in _entries(answer, group):
            if group == "anime" and entry.get("anime_type") == "movie":
                _movie(watched, entry, entry.get("show"))  # an anime film is marked like a movie
            else:
                _show(watched, entry, anime=group == "anime")
    return watched


def _identified(watched: Watched, block) -> Tuple[dict, str]:
    """(ids, key) of an entry's movie or show block; an empty key, counted as skipped, when it has none."""
    ids = clean_ids(_with_simkl(block.get("ids"))) if isinstance(block, dict) else {}
    key = _key(ids)
    if not key:
        watched.skipped.append("an entry without ids")
        watched.anonymous = True
    return ids, key


def _movie(watched: Watched, entry: dict, movie) -> None:
    ids, key = _identified(watched, movie)
    if not key:
        return
    if entry.get("status") != "completed":
        return
    at = _time(entry.get("last_watched_at"))
    if at is None:
        watched.skipped.append("%s: unreadable time %r" % (key, entry.get("last_watched_at")))
        watched.skipped_keys.add(key)
        return
    watched.movies[key] = (ids, at)


def _show(watched: Watched, entry: dict, anime: bool) -> None:
    ids, key = _identified(watched, entry.get("show"))
    if not key:
        return
    seasons = entry.get("seasons")
    item = watched.shows[key] = WatchedShow(ids, listed=isinstance(seasons, list))
    if not item.listed:
        # Listed without its episodes (a completed or dropped show asked without include_all_episodes):
        # what Simkl has of it is unknown. Completed means every episode watched, as Simkl shows it.
        if entry.get("status") == "completed":
            item.whole = _time(entry.get("last_watched_at")) or UNKNOWN_TIME
        return
    skipped_before = len(watched.skipped)
    for season in seasons:
        number = _number(season.get("number")) if isinstance(season, dict) else None
        episodes = season.get("episodes") if isinstance(season, dict) else None
        if number is None or not isinstance(episodes, list):
            watched.skipped.append("%s: a season that is not one" % key)
            continue
        for episode in episodes:
            place = _place(episode, number, anime)
            at = _time(episode.get("watched_at")) if isinstance(episode, dict) else None
            if place is None or at is None:
                watched.skipped.append("%s: season %s, an episode %s" % (
                    key, number, "without a TVDB place" if anime and at is not None else "that cannot be read"))
                continue
            item.episodes[place] = at
    # a season or an episode that could not be read: what Simkl has of the show is not fully known
    item.listed = len(watched.skipped) == skipped_before


def _place(episode, season: int, anime: bool) -> Optional[Episode]:
    """Where Kodi has the episode: its own season and number, or for anime its TVDB place."""
    if not isinstance(episode, dict):
        return None
    if anime:
        tvdb = episode.get("tvdb")
        if not isinstance(tvdb, dict):
            return None  # never the cour's own numbering: Kodi's scrapers number the TVDB way
        season, number = _number(tvdb.get("season")), _number(tvdb.get("episode"))
        return (season, number) if season is not None and number else None
    number = _number(episode.get("number"))
    return (season, number) if number else None


def _time(value) -> Optional[str]:
    """A watch time as Simkl gave it; UNKNOWN_TIME for null or missing; None when it cannot be read."""
    if value is None or value == "":
        return UNKNOWN_TIME
    return value.strip() if read_time(value) is not None else None


def _block(activities: dict, block: str) -> dict:
    value = activities.get(block)
    return value if isinstance(value, dict) else {}


def _entries(answer: dict, group: str) -> list:
    value = answer.get(group)
    return [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []


def _with_simkl(ids) -> dict:
    ids = dict(ids) if isinstance(ids, dict) else {}
    ids.setdefault("simkl", ids.get("simkl_id"))  # simkl-api §4.1: read simkl or simkl_id
    return ids


def _key(ids: dict) -> str:
    for name in ("simkl", "imdb", "tmdb", "tvdb"):
        if name in ids:
            return "%s=%s" % (name, ids[name])
    return ""


def _number(value) -> Optional[int]:
    """A whole number of 0 or more, as a number or digits; None for anything else."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if value >= 0 else None
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    return None
