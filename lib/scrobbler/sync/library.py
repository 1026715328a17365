"""Kodi's video library over JSON-RPC, for the sync: read in pages, written in batches.

A big library (60,000 items) is read a page at a time, never per show; writes travel as JSON-RPC
batch arrays (one executeJSONRPC round trip each) and their answers are read item by item: a
batch's errors are entries of the answer list, not an error of the call.
"""
from dataclasses import dataclass
from typing import Callable, Dict, Iterator, List, Optional, Tuple

PAGE = 2000  # items per GetMovies / GetEpisodes call
WRITE_BATCH = 50  # Set*Details calls per executeJSONRPC round trip

MOVIE_PROPERTIES = ["title", "year", "uniqueid", "playcount", "lastplayed"]
SHOW_PROPERTIES = ["title", "year", "uniqueid"]
EPISODE_PROPERTIES = ["tvshowid", "season", "episode", "title", "uniqueid", "playcount", "lastplayed"]


@dataclass
class Write:
    """One library change: kind 'movie' or 'episode', its library id, the new playcount and lastplayed."""
    kind: str
    dbid: int
    playcount: int
    lastplayed: str = ""

    def call(self) -> Tuple[str, dict]:
        params = {self.kind + "id": self.dbid, "playcount": self.playcount}
        if self.lastplayed:
            params["lastplayed"] = self.lastplayed
        method = "VideoLibrary.SetMovieDetails" if self.kind == "movie" else "VideoLibrary.SetEpisodeDetails"
        return method, params


class KodiLibrary:
    def __init__(self, call: Callable[[str, dict], Optional[dict]],
                 batch: Callable[[List[Tuple[str, dict]]], List[Tuple[object, object]]]):
        self._call = call
        self._batch = batch
        self.items_read = 0  # movies, shows and episodes Kodi's Get* answers held, for the sync's log line
        self.read_calls = 0

    def movies(self) -> Iterator[dict]:
        return self._pages("VideoLibrary.GetMovies", "movies", MOVIE_PROPERTIES)

    def shows(self) -> Dict[int, dict]:
        return {show["tvshowid"]: show for show in self._pages("VideoLibrary.GetTVShows", "tvshows", SHOW_PROPERTIES)
                if isinstance(show.get("tvshowid"), int)}

    def episodes(self) -> Iterator[dict]:
        return self._pages("VideoLibrary.GetEpisodes", "episodes", EPISODE_PROPERTIES)

    def write(self, writes: List[Write]) -> List[Tuple[Write, object]]:
        """Send one batch; returns the writes Kodi refused, each with its error."""
        answers = self._batch([write.call() for write in writes])
        return [(write, error) for write, (result, error) in zip(writes, answers)
                if error is not None or result != "OK"]

    def _pages(self, method: str, key: str, properties: List[str]) -> Iterator[dict]:
        start = 0
        while True:
            limits = {"start": start, "end": start + PAGE}
            result = self._call(method, {"properties": properties, "limits": limits}) or {}
            items = result.get(key) or []
            self.read_calls += 1
            self.items_read += len(items)
            for item in items:
                if isinstance(item, dict):
                    yield item
            total = (result.get("limits") or {}).get("total", 0)
            start += PAGE
            if not items or start >= total:
                return
