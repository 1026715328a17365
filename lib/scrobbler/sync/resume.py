"""Simkl's paused playbacks as Kodi resume points: pure decisions, one Kodi item at a time.

The shape (api.simkl.org api-reference/simkl/get-playback-sessions; simkl-api §5.3, §13): a list of
{"id", "progress" (a percentage), "paused_at", "type": "movie"|"episode", "movie"|"show": {"title",
"year", "ids"}, "episode": {"season", "episode" or "number", "tvdb_season", "tvdb_number"}}. Anime
episodes carry their TVDB place (tvdb_season/tvdb_number), which is how Kodi's scrapers number them.

Kodi gets Simkl's percentage of its own runtime for that file (the resume point's total, else the
item's runtime, else its video stream's duration). Newest wins: a pause at or before Kodi's own last
play of the item (which a watch since also moves) is not applied, nor one Kodi already has.
"""
import time
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from ..media import clean_ids
from ..times import read_time
from .library import ResumeWrite
from .remote import Watched, WatchedShow

MATCH_KEYS = ("imdb", "tmdb", "tvdb")
TOLERANCE = 5.0  # seconds: a resume point this close to Simkl's is the same one
# What Kodi's reads must carry for these decisions (added to the sync's reads only when this step runs).
# Not streamdetails: it made a whole read of 60,000 items 43 % slower (resume and runtime: 6 %); it is read
# only for the few items a playback names that have no other length (STREAM_PROPERTIES).
MOVIE_PROPERTIES = ["resume", "runtime"]
EPISODE_PROPERTIES = ["resume", "runtime"]
STREAM_PROPERTIES = {"movie": ["resume", "runtime", "streamdetails", "lastplayed", "uniqueid"],
                     "episode": ["resume", "runtime", "streamdetails", "lastplayed", "season", "episode", "tvshowid"]}

Place = Tuple[int, int]


@dataclass(frozen=True)
class Paused:
    """One paused playback on Simkl: a movie (place None) or an episode at Kodi's (season, number)."""
    kind: str  # "movie" | "episode"
    ids: Dict[str, object]  # the movie's, or the show's
    place: Optional[Place]
    progress: float  # percent, 0 < progress < 100
    paused_at: float  # unix time
    label: str


def parse(answer) -> Tuple[List[Paused], List[str]]:
    """(the paused playbacks that can be read, one line for each that cannot). Null or {} is none."""
    found: List[Paused] = []
    skipped: List[str] = []
    if not isinstance(answer, list):
        if answer not in (None, {}):
            skipped.append("an answer that is not a list")
        return found, skipped
    for entry in answer:
        paused, why = _paused(entry)
        if paused is not None:
            found.append(paused)
        elif why:
            skipped.append(why)
    return found, skipped


def _paused(entry) -> Tuple[Optional[Paused], str]:
    """One entry read, or why it cannot be ('' for one there is nothing to resume of)."""
    if not isinstance(entry, dict):
        return None, "an entry that is not an object"
    kind = entry.get("type")
    if kind not in ("movie", "episode"):
        kind = "movie" if isinstance(entry.get("movie"), dict) else "episode"
    block = entry.get("movie") if kind == "movie" else (entry.get("show") or entry.get("anime"))
    block = block if isinstance(block, dict) else {}
    ids = clean_ids(block.get("ids") if isinstance(block.get("ids"), dict) else {})
    ids = {name: ids[name] for name in MATCH_KEYS if name in ids}
    label = "%s %r" % (kind, block.get("title") or entry.get("id"))
    progress = _percent(entry.get("progress"))
    paused_at = read_time(entry.get("paused_at"))
    place = _place(entry.get("episode")) if kind == "episode" else None
    why = _unreadable(ids, progress, paused_at, kind == "episode" and place is None)
    if why:
        return None, "%s: %s" % (label, why % {"progress": entry.get("progress"), "paused_at": entry.get("paused_at")})
    if not 0 < progress < 100:
        return None, ""  # nothing to resume: at the start, or at the end
    if place is not None:
        label += " S%02dE%02d" % place
    return Paused(kind, ids, place, progress, paused_at, label), ""


def _unreadable(ids: dict, progress: Optional[float], paused_at: Optional[float], no_place: bool) -> str:
    """What of an entry cannot be read, as a format of the entry; '' when it all can."""
    if not ids:
        return "no imdb, tmdb or tvdb id"
    if progress is None:
        return "unreadable progress %(progress)r"
    if paused_at is None:
        return "unreadable paused_at %(paused_at)r"
    return "an episode without a season and number" if no_place else ""


def _percent(value) -> Optional[float]:
    """A progress as a number (or digits); None when it is not one."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        return None
    return float(value)


def _place(episode) -> Optional[Place]:
    """Kodi's (season, number): the TVDB place when Simkl gives one (anime), else season and episode|number."""
    if not isinstance(episode, dict):
        return None
    season, number = _number(episode.get("tvdb_season")), _number(episode.get("tvdb_number"))
    if season is not None and number:
        return season, number
    season = _number(episode.get("season"))
    number = _number(episode.get("episode"))
    if number is None:
        number = _number(episode.get("number"))
    return (season, number) if season is not None and number else None


def as_watched(paused: List[Paused]) -> Watched:
    """The playbacks in the shape the library's index finds Kodi's items by (times left empty)."""
    found = Watched()
    for item in paused:
        key = "%s:%s" % (item.kind, sorted(item.ids.items()))
        if item.kind == "movie":
            found.movies[key] = (item.ids, "")
        else:
            show = found.shows.setdefault(key, WatchedShow(item.ids))
            show.episodes[item.place] = ""
    return found


class ResumePlanner:
    """Which Kodi items get which resume point; `notes` holds one line for each playback left out."""

    def __init__(self, paused: List[Paused], tolerance: float = TOLERANCE):
        self._tolerance = tolerance
        self._movies: Dict[Tuple[str, str], List[Paused]] = {}
        self._episodes: Dict[Tuple[str, str, Place], List[Paused]] = {}
        for item in paused:
            for name, value in item.ids.items():
                if item.kind == "movie":
                    self._movies.setdefault((name, str(value)), []).append(item)
                else:
                    self._episodes.setdefault((name, str(value), item.place), []).append(item)
        self.notes: List[str] = []
        # items a playback names whose length Kodi's read did not give: (kind, dbid, show), read again
        # with their stream details
        self.need_streams: List[Tuple[str, int, Optional[dict]]] = []

    def movie(self, kodi: dict) -> Optional[ResumeWrite]:
        found = [item for key in _keys(kodi.get("uniqueid")) for item in self._movies.get(key, ())]
        return self._decide("movie", kodi.get("movieid"), kodi, found)

    def episode(self, kodi: dict, show: Optional[dict]) -> Optional[ResumeWrite]:
        if not show:
            return None
        place = (kodi.get("season"), kodi.get("episode"))
        found = [item for name, value in _keys(show.get("uniqueid"))
                 for item in self._episodes.get((name, value, place), ())]
        return self._decide("episode", kodi.get("episodeid"), kodi, found, show)

    def _decide(self, kind: str, dbid, kodi: dict, found: List[Paused],
                show: Optional[dict] = None) -> Optional[ResumeWrite]:
        if not found or not isinstance(dbid, int) or isinstance(dbid, bool):
            return None
        newest = max(found, key=lambda item: item.paused_at)
        played = kodi_played_at(kodi.get("lastplayed"))
        if played is not None and played >= newest.paused_at:
            return None  # Kodi played it (or it was watched) at or after the pause: Kodi's own point stands
        total = runtime_of(kodi)
        if total is None and "streamdetails" not in kodi:
            self.need_streams.append((kind, dbid, show))  # its video stream may know: read it, then again
            return None
        if total is None:
            self.notes.append("%s %d (%s): Kodi knows no runtime for it; its resume point left as it is"
                              % (kind, dbid, newest.label))
            return None
        position = round(total * newest.progress / 100.0)
        resume = kodi.get("resume") if isinstance(kodi.get("resume"), dict) else {}
        current = _seconds(resume.get("position")) or 0.0
        if position <= 0 or abs(current - position) <= self._tolerance:
            return None  # at the very start (0 would clear Kodi's point), or Kodi has it already
        return ResumeWrite(kind, dbid, position, total, newest.paused_at)


def kodi_played_at(lastplayed) -> Optional[float]:
    """Kodi's lastplayed (the box's local time) as unix time; None when it has none or cannot be read."""
    try:
        return time.mktime(time.strptime(lastplayed, "%Y-%m-%d %H:%M:%S"))
    except (TypeError, ValueError, OverflowError):
        return None


def runtime_of(kodi: dict) -> Optional[int]:
    """Kodi's own length of the item's file in seconds: its resume point's total, else its runtime, else
    its first video stream's duration; None when Kodi knows none."""
    resume = kodi.get("resume") if isinstance(kodi.get("resume"), dict) else {}
    details = kodi.get("streamdetails") if isinstance(kodi.get("streamdetails"), dict) else {}
    videos = details.get("video") if isinstance(details.get("video"), list) else []
    stream = videos[0] if videos and isinstance(videos[0], dict) else {}
    for value in (resume.get("total"), kodi.get("runtime"), stream.get("duration")):
        seconds = _seconds(value)
        if seconds:
            return int(round(seconds))
    return None


def _seconds(value) -> Optional[float]:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or value <= 0:
        return None
    return float(value)


def _keys(uniqueid) -> List[Tuple[str, str]]:
    ids = clean_ids(uniqueid if isinstance(uniqueid, dict) else {})
    return [(name, str(ids[name])) for name in MATCH_KEYS if name in ids]


def _number(value) -> Optional[int]:
    if isinstance(value, int) and not isinstance(value, bool):
        return value if value >= 0 else None
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    return None
