"""Pure decisions of the sync, one Kodi item at a time (a 60,000-item library is never held twice).

For each library movie and episode: does Kodi have to mark it (Simkl has it watched, Kodi does
not), unmark it (only on a full sync with "unwatch" on: Simkl had it at the last full sync and no
longer has), or could Kodi send it to Simkl (Kodi has it watched, Simkl does not)?
Items match on any shared id: imdb, tmdb, tvdb (and for an episode: the show's ids plus season and
number).
"""
import time
from typing import Dict, List, Optional, Tuple

from ..media import Episode, Movie, clean_ids, clean_year
from ..times import UNKNOWN_TIME, iso_utc, parse_time
from .library import Write
from .remote import Watched, WatchedShow

MATCH_KEYS = ("imdb", "tmdb", "tvdb")


def kodi_time(watched_at: str) -> str:
    """Simkl's UTC time as Kodi's lastplayed, in the box's local time; empty when Simkl does not know it."""
    if not watched_at or watched_at == UNKNOWN_TIME:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(parse_time(watched_at)))


def utc_of_kodi_time(lastplayed: Optional[str]) -> str:
    """Kodi's local lastplayed as Simkl's UTC watched_at; Simkl's "date unknown" when Kodi has none (empty,
    missing or unreadable)."""
    try:
        return iso_utc(time.mktime(time.strptime(lastplayed, "%Y-%m-%d %H:%M:%S")))
    except (TypeError, ValueError, OverflowError):
        return UNKNOWN_TIME


class Planner:
    def __init__(self, watched: Watched, removed: Optional[Watched] = None):
        self._movies: Dict[Tuple[str, str], str] = {}
        for ids, watched_at in watched.movies.values():
            for name in MATCH_KEYS:
                if name in ids:
                    self._movies[(name, str(ids[name]))] = watched_at
        self._shows = _show_index(watched)
        self._removed_movies = set()
        for ids, _ in (removed.movies.values() if removed else ()):
            self._removed_movies.update((name, str(ids[name])) for name in MATCH_KEYS if name in ids)
        self._removed_shows = _show_index(removed) if removed else {}

    def movie(self, kodi: dict) -> Tuple[Optional[Write], Optional[Tuple[Movie, str]]]:
        """(the library write, or what to send to Simkl) for one Kodi movie; either may be None."""
        keys = _match_keys(kodi.get("uniqueid"))
        seen = next((self._movies[key] for key in keys if key in self._movies), None)
        playcount = kodi.get("playcount") or 0
        if seen is not None:
            return (Write("movie", kodi["movieid"], 1, kodi_time(seen)) if playcount == 0 else None), None
        if playcount > 0 and any(key in self._removed_movies for key in keys):
            return Write("movie", kodi["movieid"], 0), None
        if playcount > 0 and keys:
            item = Movie(kodi.get("title") or "", clean_year(kodi.get("year")), clean_ids(kodi.get("uniqueid")))
            return None, (item, utc_of_kodi_time(kodi.get("lastplayed")))
        return None, None

    def episode(self, kodi: dict, show: Optional[dict]) -> Tuple[Optional[Write], Optional[Tuple[Episode, str]]]:
        """The same for one Kodi episode of `show` (Kodi's tvshow details, with its uniqueid)."""
        if not show:
            return None, None
        keys = _match_keys(show.get("uniqueid"))
        number = (kodi.get("season"), kodi.get("episode"))
        on_simkl = [found for key in keys for found in self._shows.get(key, ())]
        seen = _episode_seen(on_simkl, number)
        playcount = kodi.get("playcount") or 0
        if seen is not None:
            return (Write("episode", kodi["episodeid"], 1, kodi_time(seen)) if playcount == 0 else None), None
        if playcount > 0 and self._episode_removed(keys, number):
            return Write("episode", kodi["episodeid"], 0), None
        if any(not found.listed for found in on_simkl):
            return None, None  # Simkl did not list what it has of this show: never offer to send it again
        if playcount > 0 and keys and number[0] is not None and number[1]:
            return None, (_episode_to_send(kodi, show), utc_of_kodi_time(kodi.get("lastplayed")))
        return None, None

    def _episode_removed(self, keys: list, number: tuple) -> bool:
        """Simkl had episode (season, number) of the show watched at the last full sync and no longer has."""
        return any(number in found.episodes for key in keys for found in self._removed_shows.get(key, ()))


def _episode_seen(on_simkl: List[WatchedShow], number: tuple) -> Optional[str]:
    """When Simkl has episode (season, number) watched, in any of the show's entries; None when not."""
    seen = next((found.episodes[number] for found in on_simkl if number in found.episodes), None)
    if seen is None and isinstance(number[0], int) and number[0] > 0:
        # completed on Simkl with its episodes not listed: every episode of a regular season
        seen = next((found.whole for found in on_simkl if found.whole), None)
    return seen


def _episode_to_send(kodi: dict, show: dict) -> Episode:
    """Kodi's episode as Simkl is sent it, in the library's (TVDB) numbering."""
    return Episode(show.get("title") or "", int(kodi["season"]), int(kodi["episode"]), clean_year(show.get("year")),
                   clean_ids(show.get("uniqueid")), kodi.get("title") or "", clean_ids(kodi.get("uniqueid")),
                   tvdb_numbering=True)


def removed_since(before: Watched, now: Watched) -> Watched:
    """What Simkl had as watched at the last full sync and no longer has. A show listed now without its
    episodes, or an item that could not be read now, is never taken as removed: its shape changed."""
    gone = Watched()
    if now.anonymous:
        return gone  # an entry without readable ids could be any of them
    gone.movies = {key: value for key, value in before.movies.items()
                   if key not in now.movies and key not in now.skipped_keys}
    for key, show in before.shows.items():
        still = now.shows.get(key)
        if key in now.skipped_keys or (still is not None and not still.listed):
            continue
        episodes = {number: at for number, at in show.episodes.items() if not still or number not in still.episodes}
        if episodes:
            gone.shows[key] = WatchedShow(show.ids, episodes)
    return gone


def snapshot(before: Watched, now: Watched) -> Watched:
    """What to remember of Simkl after a full sync, for the next one's removed_since: `now`, keeping from
    `before` what `now` could not tell (a show listed without its episodes, an item that could not be read)."""
    kept = Watched(dict(now.movies))
    for key, show in now.shows.items():
        episodes = dict(before.shows[key].episodes) if not show.listed and key in before.shows else {}
        episodes.update(show.episodes)
        kept.shows[key] = WatchedShow(show.ids, episodes)
    for key in (before.movies if now.anonymous else now.skipped_keys):
        if key in before.movies:
            kept.movies.setdefault(key, before.movies[key])
    for key in (before.shows if now.anonymous else now.skipped_keys):
        if key in before.shows and key not in kept.shows:
            kept.shows[key] = before.shows[key]
    return kept


def _show_index(watched: Watched) -> Dict[Tuple[str, str], List[WatchedShow]]:
    """Every Simkl entry under each of its ids: several entries (an anime's cours) can share a series id."""
    index: Dict[Tuple[str, str], List[WatchedShow]] = {}
    for show in watched.shows.values():
        for name in MATCH_KEYS:
            if name in show.ids:
                index.setdefault((name, str(show.ids[name])), []).append(show)
    return index


def _match_keys(uniqueid) -> list:
    ids = clean_ids(uniqueid if isinstance(uniqueid, dict) else {})
    return [(name, str(ids[name])) for name in MATCH_KEYS if name in ids]


