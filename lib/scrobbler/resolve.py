"""Which title is playing: Kodi's library first, then ids the playing add-on hands over, then Simkl's file search."""
import json
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Dict, Optional
from urllib.parse import unquote

from .media import Episode, Media, Movie, Show, clean_ids

# Home window properties a playing add-on may set to JSON ids before playback starts.
ID_PROPERTIES = ("service.scrobbler.simkl.ids", "script.trakt.ids")
SEARCH_CACHE_SIZE = 200


class SearchUnavailable(Exception):
    """The file search could not be asked (offline, logged out): not an answer, so never cached."""


@dataclass
class PlayingItem:
    """What Kodi tells about the item when it starts; gathered by player.py, read here."""
    media_type: str = ""
    dbid: int = -1
    path: str = ""
    title: str = ""
    year: Optional[int] = None
    show_title: str = ""
    season: Optional[int] = None
    episode: Optional[int] = None
    uniqueids: Dict[str, str] = field(default_factory=dict)  # VideoPlayer.UniqueID(...) / tag.getUniqueID
    property_ids: Dict[str, str] = field(default_factory=dict)  # property name -> raw JSON

    def in_library(self) -> bool:
        return self.dbid is not None and self.dbid > 0 and self.media_type in ("movie", "episode")


class Library:
    """Kodi library lookups over JSON-RPC; `call(method, params)` returns the result or None."""

    def __init__(self, call: Callable[[str, dict], Optional[dict]]):
        self._call = call

    def movie(self, movieid: int) -> Optional[Movie]:
        result = self._call("VideoLibrary.GetMovieDetails",
                            {"movieid": movieid, "properties": ["title", "year", "uniqueid"]}) or {}
        details = result.get("moviedetails")
        if not details:
            return None
        return Movie(details.get("title") or "", _year(details.get("year")), clean_ids(details.get("uniqueid")))

    def episode(self, episodeid: int) -> Optional[Episode]:
        result = self._call("VideoLibrary.GetEpisodeDetails",
                            {"episodeid": episodeid,
                             "properties": ["title", "season", "episode", "tvshowid", "uniqueid"]}) or {}
        details = result.get("episodedetails")
        if not details or details.get("tvshowid", -1) < 0:
            return None
        show = (self._call("VideoLibrary.GetTVShowDetails",
                           {"tvshowid": details["tvshowid"], "properties": ["title", "year", "uniqueid"]})
                or {}).get("tvshowdetails")
        if not show:
            return None
        return Episode(show.get("title") or "", int(details.get("season", 0)), int(details.get("episode", 0)),
                       _year(show.get("year")), clean_ids(show.get("uniqueid")), details.get("title") or "",
                       clean_ids(details.get("uniqueid")))

    def show(self, tvshowid: int) -> Optional[Show]:
        result = self._call("VideoLibrary.GetTVShowDetails",
                            {"tvshowid": tvshowid, "properties": ["title", "year", "uniqueid"]}) or {}
        details = result.get("tvshowdetails")
        if not details:
            return None
        return Show(details.get("title") or "", _year(details.get("year")), clean_ids(details.get("uniqueid")))


class Resolver:
    """Turns a PlayingItem into a Movie or an Episode, or None with the reason in `last_reason`."""

    def __init__(self, library: Library, search_file: Optional[Callable[[str], object]] = None,
                 log: Callable[[str], None] = lambda m: None):
        self._library = library
        self._search_file = search_file
        self._log = log
        self._searched = OrderedDict()  # file name -> Media or None, oldest first
        self.last_reason = ""

    def resolve(self, item: PlayingItem) -> Optional[Media]:
        self.last_reason = ""
        if item.in_library():
            found = self._library.movie(item.dbid) if item.media_type == "movie" else self._library.episode(item.dbid)
            if found is not None and (found.ids if isinstance(found, Movie) else found.show_ids):
                return found
            self.last_reason = "library item without ids"
            return found if found is not None and _has_title_and_year(found) else None
        from_labels = self._from_labels(item)
        if from_labels is not None:
            return from_labels
        return self._from_search(item)

    def _from_labels(self, item: PlayingItem) -> Optional[Media]:
        handed_over = {}
        for name in ID_PROPERTIES:
            handed_over = _parse_ids(item.property_ids.get(name))
            if handed_over:
                break
        own = clean_ids(item.uniqueids)
        is_episode = item.media_type == "episode" or (item.show_title and item.season is not None
                                                      and item.episode is not None)
        if not is_episode:
            ids = handed_over or own
            return Movie(item.title, item.year, ids) if ids else None
        if not handed_over:
            # An episode's tag (and VideoPlayer.UniqueID) carries the episode's own ids, never the show's.
            if own:
                self.last_reason = "only the episode's own ids, not the show's"
            return None
        if not item.show_title or item.season is None or item.episode is None:
            self.last_reason = "episode ids without show title, season and number"
            return None
        # Add-ons hand over the show's ids for an episode (the script.trakt.ids convention).
        return Episode(item.show_title, item.season, item.episode, None, handed_over, item.title, own)

    def _from_search(self, item: PlayingItem) -> Optional[Media]:
        name = _file_name(item.path)
        if not name or self._search_file is None:
            self.last_reason = self.last_reason or "no ids and no file name to search"
            return None
        if name in self._searched:
            self._searched.move_to_end(name)
            found = self._searched[name]
        else:
            try:
                found = _media_of_search(self._search_file(name))
            except SearchUnavailable as exc:
                self.last_reason = "file search unavailable (%s)" % exc
                return None  # not cached: the next playback of this file may search again
            self._searched[name] = found
            while len(self._searched) > SEARCH_CACHE_SIZE:
                self._searched.popitem(last=False)
        if found is None:
            self.last_reason = "Simkl's file search found nothing for %s" % name
        return found


def _year(value) -> Optional[int]:
    try:
        year = int(value)
        return year if year > 0 else None
    except (TypeError, ValueError):
        return None


def _has_title_and_year(item: Media) -> bool:
    if isinstance(item, Movie):
        return bool(item.title and item.year)
    return bool(item.show_title and item.show_year)


def _parse_ids(raw: Optional[str]) -> dict:
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return clean_ids(data) if isinstance(data, dict) else {}


def _file_name(path: str) -> str:
    """The part of a path worth sending to /search/file: the last folder and the file name.

    Never a host, a share's credentials, a drive letter, a URL's query or Kodi's |header options.
    """
    if not path or path.startswith(("plugin://", "pvr://")):
        return ""
    if path.startswith("stack://"):
        path = path[len("stack://"):].split(" , ")[0]
    path = path.split("|")[0]
    scheme, sep, rest = path.partition("://")
    if sep:
        web = scheme.lower() in ("http", "https")
        if web:
            rest = rest.split("?")[0].split("#")[0]
        rest = rest.partition("/")[2]  # drop the host (and any user:password@)
        if web:
            rest = unquote(rest)
    else:
        rest = path
    parts = [part for part in rest.replace("\\", "/").split("/") if part]
    if parts and parts[0].endswith(":"):
        parts = parts[1:]  # a Windows drive
    if rest.startswith(("\\\\", "//")) and parts:
        parts = parts[1:]  # a Windows UNC host
    return "/".join(parts[-2:])


def _media_of_search(answer) -> Optional[Media]:
    if not isinstance(answer, dict):
        return None
    kind = answer.get("type")
    if kind == "movie" and isinstance(answer.get("movie"), dict):
        movie = answer["movie"]
        ids = clean_ids(_simkl_id(movie.get("ids")))
        return Movie(movie.get("title") or "", _year(movie.get("year")), ids) if ids else None
    if kind == "episode" and isinstance(answer.get("show"), dict) and isinstance(answer.get("episode"), dict):
        show, episode = answer["show"], answer["episode"]
        ids = clean_ids(_simkl_id(show.get("ids")))
        season, number = episode.get("season"), episode.get("episode")
        if not ids or season is None or number is None:
            return None
        return Episode(show.get("title") or "", int(season), int(number), _year(show.get("year")), ids,
                       episode.get("title") or "", clean_ids(_simkl_id(episode.get("ids"))))
    return None


def _simkl_id(ids) -> dict:
    ids = dict(ids or {})
    if "simkl" not in ids and "simkl_id" in ids:
        ids["simkl"] = ids["simkl_id"]
    return ids
