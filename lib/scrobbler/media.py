"""What was watched: a movie or an episode, with the ids Simkl resolves it by."""
from typing import Dict, Optional, Union

from .values import Value

# Order matters: the first id present names an item in keys and logs.
ID_KEYS = ("imdb", "tmdb", "tvdb", "simkl", "anidb", "mal", "anilist", "kitsu")
# Anime scrapers' ids name one season (one cour), not the whole show: combined with season and episode
# numbers Simkl marks the wrong entry (a whole season completed), so a write that names a season and an
# episode never carries them (simkl-api §12). A movie has no season: there they are fine.
PER_SEASON_ANIME_IDS = ("anidb", "mal", "anilist", "kitsu")
# Ids with which Simkl maps TVDB-style season and episode numbers onto its anime entries ("Path A").
TVDB_SEASON_IDS = ("tvdb", "tmdb")

Ids = Dict[str, Union[str, int]]


def clean_year(value) -> Optional[int]:
    """A year as Kodi or Simkl give it (a number, a string, 0 or nothing for none)."""
    try:
        year = int(value)
    except (TypeError, ValueError):
        return None
    return year if year > 0 else None


def clean_ids(raw: Optional[dict]) -> Ids:
    """Keep the known id keys with usable values; an imdb id must look like one (tt…)."""
    ids: Ids = {}
    for key in ID_KEYS:
        value = (raw or {}).get(key)
        if value in (None, "", 0, "0"):
            continue
        value = str(value).strip()
        if key == "imdb":
            if not value.startswith("tt"):
                continue
        elif value.isdigit():
            value = int(value)
        ids[key] = value
    return ids


class Movie(Value):
    FIELDS = ("title", "year", "ids")
    kind = "movie"

    def __init__(self, title: str, year: Optional[int] = None, ids: Optional[Ids] = None):
        self.title = title
        self.year = year
        self.ids = {} if ids is None else ids

    def key(self) -> str:
        return "movie:" + _ids_key(self.ids, self.title, self.year)

    def label(self) -> str:
        return "%s (%s)" % (self.title, self.year) if self.year else self.title

    def to_dict(self) -> dict:
        return {"type": "movie", "title": self.title, "year": self.year, "ids": dict(self.ids)}


class Episode(Value):
    FIELDS = ("show_title", "season", "number", "show_year", "show_ids", "title", "ids", "tvdb_numbering")
    kind = "episode"

    def __init__(self, show_title: str, season: int, number: int, show_year: Optional[int] = None,
                 show_ids: Optional[Ids] = None, title: str = "", ids: Optional[Ids] = None,
                 tvdb_numbering: bool = False):
        self.show_title = show_title
        self.season = season
        self.number = number
        self.show_year = show_year
        self.show_ids = {} if show_ids is None else show_ids
        self.title = title
        self.ids = {} if ids is None else ids
        # season and number are TVDB-style, as Kodi's library scrapers number episodes (see show_reference)
        self.tvdb_numbering = tvdb_numbering

    def key(self) -> str:
        show = _ids_key(self.show_ids, self.show_title, self.show_year)
        return "episode:%s:S%dE%d" % (show, self.season, self.number)

    def show_key(self) -> str:
        return Show(self.show_title, self.show_year, self.show_ids).key()

    def label(self) -> str:
        return "%s S%02dE%02d" % (self.show_title, self.season, self.number)

    def write_ids(self) -> Ids:
        """The show's ids a write naming this season and episode may carry."""
        return {key: value for key, value in self.show_ids.items() if key not in PER_SEASON_ANIME_IDS}

    def to_dict(self) -> dict:
        data = {"type": "episode", "show_title": self.show_title, "show_year": self.show_year,
                "show_ids": dict(self.show_ids), "season": self.season, "number": self.number,
                "title": self.title, "ids": dict(self.ids)}
        if self.tvdb_numbering:
            data["tvdb_numbering"] = True
        return data


class Show(Value):
    """A whole TV show: the Rewatch action and a rating target one."""
    FIELDS = ("title", "year", "ids")
    kind = "show"

    def __init__(self, title: str, year: Optional[int] = None, ids: Optional[Ids] = None):
        self.title = title
        self.year = year
        self.ids = {} if ids is None else ids

    def key(self) -> str:
        return "show:" + _ids_key(self.ids, self.title, self.year)

    def label(self) -> str:
        return "%s (%s)" % (self.title, self.year) if self.year else self.title

    def to_dict(self) -> dict:
        return {"type": "show", "title": self.title, "year": self.year, "ids": dict(self.ids)}


Media = Union[Movie, Episode, Show]


def from_dict(data: dict) -> Media:
    kind = data.get("type")
    if kind == "movie":
        return Movie(data["title"], data.get("year"), clean_ids(data.get("ids")))
    if kind == "episode":
        return Episode(data["show_title"], int(data["season"]), int(data["number"]), data.get("show_year"),
                       clean_ids(data.get("show_ids")), data.get("title") or "", clean_ids(data.get("ids")),
                       bool(data.get("tvdb_numbering")))
    if kind == "show":
        return Show(data["title"], data.get("year"), clean_ids(data.get("ids")))
    raise ValueError("unknown media type: %r" % (kind,))


def movie_reference(movie: Movie) -> dict:
    """A movie as every write names it (/sync/history, /scrobble/*): title, year and every id."""
    return drop_empty({"title": movie.title, "year": movie.year, "ids": dict(movie.ids)})


def show_reference(episode: Episode) -> dict:
    """The show part of every write that names this episode's season and number (/sync/history and its
    remove, /scrobble/*): the one place that decides its shape.

    Per-season anime ids are left out (PER_SEASON_ANIME_IDS). A library episode carries TVDB-style
    numbers, so with the show's TVDB or TMDB id it is sent with "use_tvdb_anime_seasons": true, per item
    as simkl-api §6.1 lists it: Simkl's anime guide prescribes it for TVDB/TMDB-based sources ("Path A",
    §12), and the add-on cannot tell which shows Simkl files as anime (for other shows TVDB numbering is
    Simkl's own). An episode found by Simkl's file search (Simkl's numbering) or handed over by an add-on
    carries no flag.
    """
    ids = episode.write_ids()
    show = drop_empty({"title": episode.show_title, "year": episode.show_year, "ids": ids})
    if episode.tvdb_numbering and any(key in ids for key in TVDB_SEASON_IDS):
        show["use_tvdb_anime_seasons"] = True
    return show


def drop_empty(data: dict) -> dict:
    """The fields of a request body that say something (no None, empty string or empty dict)."""
    return {k: v for k, v in data.items() if v not in (None, "", {})}


def _ids_key(ids: Ids, title: str, year: Optional[int]) -> str:
    for key in ID_KEYS:
        if key in ids:
            return "%s=%s" % (key, ids[key])
    return "title=%s|%s" % ((title or "").strip().lower(), year or "")
