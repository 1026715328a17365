"""Kodi's video library as its JSON-RPC answers it, for tests of the sync: paged reads with limits,
and Set*Details that change playcount and lastplayed and announce VideoLibrary.OnUpdate with the
playcount, as Kodi does for any playcount change (seen in Kodi 20.1: tests/e2e/test_library_marks.py
marks an episode with VideoLibrary.SetEpisodeDetails and waits for that notification)."""
import copy

from fakekodi import JsonRpcError


class VideoLibrary:
    def __init__(self, world, movies=(), shows=(), episodes=()):
        self.world = world
        self.movies = {m["movieid"]: dict({"playcount": 0, "lastplayed": ""}, **copy.deepcopy(m)) for m in movies}
        self.shows = {s["tvshowid"]: copy.deepcopy(s) for s in shows}
        self.episodes = {e["episodeid"]: dict({"playcount": 0, "lastplayed": ""}, **copy.deepcopy(e))
                         for e in episodes}
        self.writes = []  # (method, params) of every Set*Details call
        world.jsonrpc_handlers.update({
            "VideoLibrary.GetMovies": lambda p: self._page(p, "movies", self.movies),
            "VideoLibrary.GetTVShows": lambda p: self._page(p, "tvshows", self.shows),
            "VideoLibrary.GetEpisodes": lambda p: self._page(p, "episodes", self.episodes),
            "VideoLibrary.GetMovieDetails": lambda p: self._details(p, "movieid", "moviedetails", self.movies),
            "VideoLibrary.GetEpisodeDetails": lambda p: self._details(p, "episodeid", "episodedetails",
                                                                      self.episodes),
            "VideoLibrary.GetTVShowDetails": lambda p: self._details(p, "tvshowid", "tvshowdetails", self.shows),
            "VideoLibrary.SetMovieDetails": lambda p: self._set(p, "movie", self.movies),
            "VideoLibrary.SetEpisodeDetails": lambda p: self._set(p, "episode", self.episodes),
        })

    def _page(self, params, key, table):
        limits = params.get("limits") or {}
        rows = [table[k] for k in sorted(table)]
        start, end = limits.get("start", 0), limits.get("end", len(rows))
        wanted = set(params.get("properties") or []) | {key[:-1] + "id" if key != "tvshows" else "tvshowid"}
        page = [{k: copy.deepcopy(v) for k, v in row.items() if k in wanted or k.endswith("id")}
                for row in rows[start:end]]
        return {key: page, "limits": {"start": start, "end": min(end, len(rows)), "total": len(rows)}}

    @staticmethod
    def _details(params, id_key, answer_key, table):
        found = table.get(params.get(id_key))
        return {answer_key: dict(copy.deepcopy(found), label=found.get("title", ""))} if found else None

    def _set(self, params, kind, table):
        self.writes.append((kind, dict(params)))
        row = table.get(params.get(kind + "id"))
        if row is None:
            raise JsonRpcError("Invalid params: no %s %r" % (kind, params.get(kind + "id")))
        changed = "playcount" in params and params["playcount"] != row.get("playcount")
        for field in ("playcount", "lastplayed"):
            if field in params:
                row[field] = params[field]
        if changed:
            self.world.notify("VideoLibrary.OnUpdate", {"item": {"type": kind, "id": row[kind + "id"]},
                                                        "playcount": row["playcount"]})
        return "OK"
