"""Which title is playing: Kodi's library first, then ids the playing add-on hands over, then Simkl's file search."""
import json
import re
from collections import OrderedDict
from typing import Callable, Dict, List, Optional
from urllib.parse import unquote

from ..media import Episode, Media, Movie, Show, clean_ids, clean_year
from ..values import Value

# Where a playing add-on hands over JSON ids, strongest first: a property on the playing ListItem
# (kept in PlayingItem.property_ids under this key), then Home window properties set before playback.
LISTITEM_IDS = "listitem"
WINDOW_ID_PROPERTIES = ("service.scrobbler.simkl.ids", "script.trakt.ids")
ID_SOURCES = (LISTITEM_IDS,) + WINDOW_ID_PROPERTIES
SEARCH_CACHE_SIZE = 200
# Sources whose paths are files on a local or network file system: only these may be file-searched.
NETWORK_SCHEMES = ("smb", "nfs", "ftp", "ftps", "sftp", "afp", "dav", "davs")
FILE_SYSTEM_SCHEMES = ("", "file") + NETWORK_SCHEMES
# Where Kodi's CURL::Parse (xbmc/URL.cpp) cuts a URL's options off, besides "|" (cut from every path here).
OPTION_SEPARATORS = {"ftp": "?;", "ftps": "?;", "dav": "?;#", "davs": "?;#"}
# URL-encoded file names: what Kodi translates to http(s) (xbmc/utils/URIUtils.cpp, HasEncodedFilename).
ENCODED_SCHEMES = ("dav", "davs")
# Folders whose next folder is one account's own (/home/<name>, C:\Users\<name>, a NAS's homes/<name>):
# that name is never sent, nor anything above it.
ACCOUNT_FOLDERS = ("home", "homes", "users")
# A season's folder (Season 1, Season 01 (2019), S02, Staffel 2, Specials): the show's folder is the one above.
SEASON_FOLDER = re.compile(r"(?:(?:season|series|staffel|saison|temporada|stagione|seizoen|sezon|s)[\s._-]*\d{1,4}"
                           r"|specials?)(?:\W.*)?$", re.IGNORECASE)
STACK = "stack://"


class SearchUnavailable(Exception):
    """The file search could not be asked (offline, logged out): not an answer, so never cached."""


def playing_item(report: dict) -> "PlayingItem":
    """A PlayingItem back from what the outbox stored of it (unknown keys are left out)."""
    return PlayingItem(**{key: value for key, value in report.items() if key in PlayingItem.FIELDS})


class PlayingItem(Value):
    """What Kodi tells about the item when it starts; gathered by player.py, read here.

    path: what Kodi plays: for an add-on video, the URL the add-on resolved it to.
    source: where the item came from (an add-on's plugin:// path); empty: the same as path.
    uniqueids: VideoPlayer.UniqueID(...) / tag.getUniqueID; property_ids: one of ID_SOURCES -> raw JSON.
    file_name: what Simkl's file search may be told about the file (`search_name` of its origin); ''
        for a stream or an add-on video. Given when read back from the outbox, which keeps no path.
    """
    FIELDS = ("media_type", "dbid", "path", "source", "title", "year", "show_title", "season", "episode",
              "uniqueids", "property_ids", "file_name")

    def __init__(self, media_type: str = "", dbid: int = -1, path: str = "", source: str = "", title: str = "",
                 year: Optional[int] = None, show_title: str = "", season: Optional[int] = None,
                 episode: Optional[int] = None, uniqueids: Optional[Dict[str, str]] = None,
                 property_ids: Optional[Dict[str, str]] = None, file_name: Optional[str] = None):
        self.media_type = media_type
        self.dbid = dbid
        self.path = path
        self.source = source
        self.title = title
        self.year = year
        self.show_title = show_title
        self.season = season
        self.episode = episode
        self.uniqueids = {} if uniqueids is None else uniqueids
        self.property_ids = {} if property_ids is None else property_ids
        # An entry queued by 0.3.3 or earlier has no file_name, but a path without the share's password.
        self.file_name = search_name(self.origin) if file_name is None else file_name

    @property
    def origin(self) -> str:
        return self.source or self.path

    def stored(self) -> dict:
        """What the outbox keeps of the item until its title is found: no path (nothing of a share's
        credentials, host or name, nor of a stream), only `file_name` and the add-on a video came from."""
        return dict(self.asdict(), path="", source=_addon_path(self.origin))

    def name(self) -> str:
        """What the log and the status view call the item: its title, else what the file search is told,
        else the add-on it came from; never a path or a stream's address."""
        return self.title or self.file_name or _addon_path(self.origin)[len("plugin://"):].rstrip("/")

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
        return Movie(details.get("title") or "", clean_year(details.get("year")), clean_ids(details.get("uniqueid")))

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
                       clean_year(show.get("year")), clean_ids(show.get("uniqueid")), details.get("title") or "",
                       clean_ids(details.get("uniqueid")), tvdb_numbering=True)

    def show(self, tvshowid: int) -> Optional[Show]:
        result = self._call("VideoLibrary.GetTVShowDetails",
                            {"tvshowid": tvshowid, "properties": ["title", "year", "uniqueid"]}) or {}
        details = result.get("tvshowdetails")
        if not details:
            return None
        return Show(details.get("title") or "", clean_year(details.get("year")), clean_ids(details.get("uniqueid")))


class Lookup(Value):
    """What the resolver found for a playing item: the title, or the reason it found none."""
    FIELDS = ("found", "reason", "unavailable")

    def __init__(self, found: Optional[Media] = None, reason: str = "", unavailable: bool = False):
        self.found = found
        self.reason = reason
        self.unavailable = unavailable  # the file search was needed and could not be asked: ask again later


class Resolver:
    """Turns a PlayingItem into a Movie or an Episode (lookup: or the reason it could not)."""

    def __init__(self, library: Library, search_file: Optional[Callable[[str], object]] = None,
                 log: Callable[[str], None] = lambda m: None):
        self._library = library
        self._search_file = search_file
        self._log = log
        self._searched = OrderedDict()  # what the search was told -> Media or None, oldest first

    def resolve(self, item: PlayingItem) -> Optional[Media]:
        return self.lookup(item).found

    def lookup(self, item: PlayingItem) -> Lookup:
        if item.in_library():
            found = self._library.movie(item.dbid) if item.media_type == "movie" else self._library.episode(item.dbid)
            if found is not None and (found.ids if isinstance(found, Movie) else found.write_ids()):
                return Lookup(found)
            return Lookup(found if found is not None and _has_title_and_year(found) else None,
                          "library item without ids")
        from_labels = self._from_labels(item)
        if from_labels.found is not None:
            return from_labels
        return self._from_search(item, from_labels.reason)

    def _from_labels(self, item: PlayingItem) -> Lookup:
        handed_over = {}
        for name in ID_SOURCES:
            handed_over = _parse_ids(item.property_ids.get(name))
            if handed_over:
                break
        own = clean_ids(item.uniqueids)
        is_episode = item.media_type == "episode" or (item.show_title and item.season is not None
                                                      and item.episode is not None)
        if not is_episode:
            ids = handed_over or own
            return Lookup(Movie(item.title, item.year, ids) if ids else None)
        if not handed_over:
            # An episode's tag (and VideoPlayer.UniqueID) carries the episode's own ids, never the show's.
            return Lookup(None, "only the episode's own ids, not the show's" if own else "")
        if not item.show_title or item.season is None or item.episode is None:
            return Lookup(None, "episode ids without show title, season and number")
        # Add-ons hand over the show's ids for an episode (the script.trakt.ids convention).
        return Lookup(Episode(item.show_title, item.season, item.episode, None, handed_over, item.title, own))

    def _from_search(self, item: PlayingItem, reason: str) -> Lookup:
        name = item.file_name
        if not name or self._search_file is None:
            return Lookup(None, reason or "no ids, and not a file Simkl's file search may be asked about")
        # Keyed by the name the search is told, which holds the show's folder: two shows never share an answer.
        if name in self._searched:
            self._searched.move_to_end(name)
            found = self._searched[name]
        else:
            try:
                found = _media_of_search(self._search_file(name))
            except SearchUnavailable as exc:
                # not cached: the next playback of this file may search again
                return Lookup(None, "file search unavailable (%s)" % exc, unavailable=True)
            self._searched[name] = found
            while len(self._searched) > SEARCH_CACHE_SIZE:
                self._searched.popitem(last=False)
        if found is None:
            return Lookup(None, "Simkl's file search found nothing for %s" % name)
        return Lookup(found)


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


def stacked_files(path: str) -> List[str]:
    """The parts of a multi-part (stack://) path, or the path itself."""
    if not path.lower().startswith(STACK):
        return [path]
    # Kodi joins the parts with " , " and doubles a comma inside one (xbmc/filesystem/StackDirectory.cpp, GetPaths).
    return [part.replace(",,", ",") for part in path[len(STACK):].split(" , ")]


def search_name(path: str) -> str:
    """What Simkl's /search/file may learn about a file: its name and its folder's name, and when that folder
    is a season's (Season 1, S01, Specials) the show's folder above it too: `Show/Season 1/S01E01.mkv`,
    `Show/S01E01.mkv`, `Film (2001)/Film.mkv`. Of a multi-part movie, its first part.

    Only for files on a local or network file system: never for an http(s) stream or an add-on video.
    Never a host, credentials, a share (the first folder of a network path), a drive letter, an account's
    own folder (ACCOUNT_FOLDERS), a query or Kodi's | options. '' when nothing may be sent.
    """
    folders = _folders_below_root(stacked_files(path)[0]) if path else []
    if not folders:
        return ""
    keep = 3 if len(folders) >= 3 and SEASON_FOLDER.match(folders[-2]) else 2
    return "/".join(folders[-keep:])


def _folders_below_root(path: str) -> List[str]:
    """The folders and the file of a path below what names a place or a person (host, share, drive,
    account), or [] when the path is no file on a file system."""
    where = _below_host(path.split("|")[0])
    if where is None:
        return []
    scheme, network, rest = where
    if rest.endswith(("/", "\\")):
        return []  # a folder, not a file
    unc = not network and rest.startswith(("\\\\", "//"))
    parts = [part for part in rest.replace("\\", "/").split("/") if part.strip()]
    if scheme in ENCODED_SCHEMES:
        parts = [unquote(part) for part in parts]
    if unc:
        parts = parts[1:]  # a Windows UNC host
    if parts and re.match(r"[A-Za-z]:$", parts[0]):
        parts = parts[1:]  # a Windows drive
    return parts[_root_length(parts, network or unc):]


def _below_host(path: str) -> Optional[tuple]:
    """(scheme, on the network, the path below the host) of a path on a file system (a local path: the whole
    of it), Kodi's options cut off; None for any other scheme, or a network path that names only a host."""
    scheme, sep, rest = path.partition("://")
    scheme = scheme.lower()
    if not sep or len(scheme) == 1:
        return scheme, False, path  # a local path (a one-letter "scheme" is a Windows drive)
    if scheme not in FILE_SYSTEM_SCHEMES:
        return None
    network = len(scheme) > 1 and scheme != "file"
    if not network:
        return scheme, False, rest
    for separator in OPTION_SEPARATORS.get(scheme, ""):
        rest = rest.split(separator)[0]
    host, slash, rest = rest.partition("/")  # the host, with any domain;user:password@ and :port
    return (scheme, True, rest) if slash else None


def _root_length(parts: List[str], shared: bool) -> int:
    """How many of the first parts name a place or a person: a network path's share (export, volume), and
    an account's folder with the account's name, at the top or at the top of the share."""
    cut = 1 if shared and len(parts) > 1 else 0  # the share, export or volume
    for top in sorted({0, cut}):  # an account's folder at the top, or at the top of the share
        if len(parts) > top + 2 and parts[top].lower() in ACCOUNT_FOLDERS:
            cut = top + 2
    return cut


def _addon_path(path: str) -> str:
    """An add-on's plugin:// path cut to the add-on's id (plugin://plugin.video.example/), else ''."""
    if not path.lower().startswith("plugin://"):
        return ""
    return "plugin://" + re.split(r"[/?;#|]", path[len("plugin://"):])[0] + "/"


def _media_of_search(answer) -> Optional[Media]:
    if not isinstance(answer, dict):
        return None
    kind = answer.get("type")
    if kind == "movie" and isinstance(answer.get("movie"), dict):
        movie = answer["movie"]
        ids = clean_ids(_simkl_id(movie.get("ids")))
        return Movie(movie.get("title") or "", clean_year(movie.get("year")), ids) if ids else None
    if kind == "episode" and isinstance(answer.get("show"), dict) and isinstance(answer.get("episode"), dict):
        show, episode = answer["show"], answer["episode"]
        ids = clean_ids(_simkl_id(show.get("ids")))
        season, number = episode.get("season"), episode.get("episode")
        if not ids or season is None or number is None:
            return None
        return Episode(show.get("title") or "", int(season), int(number), clean_year(show.get("year")), ids,
                       episode.get("title") or "", clean_ids(_simkl_id(episode.get("ids"))))
    return None


def _simkl_id(ids) -> dict:
    ids = dict(ids or {})
    if "simkl" not in ids and "simkl_id" in ids:
        ids["simkl"] = ids["simkl_id"]
    return ids
