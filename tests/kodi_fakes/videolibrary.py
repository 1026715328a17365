"""Kodi's video library as its JSON-RPC answers it, for tests of the sync: paged reads with limits,
and Set*Details that change playcount, lastplayed and the resume point, and announce VideoLibrary.OnUpdate
with the playcount (a resume point alone: nothing), as Kodi does for any playcount change (seen in
Kodi 20.1: tests/e2e/test_library_marks.py marks an episode with VideoLibrary.SetEpisodeDetails and
waits for that notification; tests/e2e/test_resume_points.py sees nothing announced for a resume point).
A scan that adds an item, and a removal, announce what tests/e2e/test_library_index.py sees Kodi 20 and
21 announce: VideoLibrary.OnUpdate {"item": {"type", "id"}, "added": true, "transaction": true} for each
movie, show and episode a scan adds (CVideoInfoScanner::AddVideo), Kodi 20 each movie and episode first
also with {"item": {"type", "id"}, "transaction": true} (as here); VideoLibrary.OnRemove {"type", "id"} for each one
removed (CVideoDatabase::DeleteMovie / DeleteTvShow, AnnounceRemove).
"My rating" (userrating, 0 for none) of movies and shows: Set*Details {userrating} changes it and announces
nothing, and GetMovies / GetTVShows filter on it (tests/e2e/test_ratings.py shows both in Kodi 20 and 21)."""
import copy

from fakekodi import JsonRpcError

# What Kodi answers for a property asked of an item that has none of it (Video.Resume, runtime 0)
READ_DEFAULTS = {"resume": {"position": 0.0, "total": 0.0}, "runtime": 0}
# The properties Kodi takes for each kind: any other is "Invalid params" (xbmc/interfaces/json-rpc/schema/
# types.json, Video.Fields.Movie / Video.Fields.TVShow / Video.Fields.Episode)
FIELDS = {
    "movie": {"title", "genre", "year", "rating", "director", "trailer", "tagline", "plot", "plotoutline",
              "originaltitle", "lastplayed", "playcount", "writer", "studio", "mpaa", "cast", "country",
              "imdbnumber", "runtime", "set", "showlink", "streamdetails", "top250", "votes", "fanart", "thumbnail",
              "file", "sorttitle", "resume", "setid", "dateadded", "tag", "art", "userrating", "ratings",
              "premiered", "uniqueid"},
    "tvshow": {"title", "genre", "year", "rating", "plot", "studio", "mpaa", "cast", "playcount", "episode",
               "imdbnumber", "premiered", "votes", "lastplayed", "fanart", "thumbnail", "file", "originaltitle",
               "sorttitle", "episodeguide", "season", "watchedepisodes", "dateadded", "tag", "art", "userrating",
               "ratings", "runtime", "uniqueid"},
    "episode": {"title", "plot", "votes", "rating", "writer", "firstaired", "playcount", "runtime", "director",
                "productioncode", "season", "episode", "originaltitle", "showtitle", "cast", "streamdetails",
                "lastplayed", "fanart", "thumbnail", "file", "resume", "tvshowid", "dateadded", "uniqueid", "art",
                "specialsortseason", "specialsortepisode", "userrating", "seasonid", "ratings"},
}


def _check_fields(kind, params):
    wrong = sorted(set(params.get("properties") or []) - FIELDS[kind])
    if wrong:
        raise JsonRpcError("Invalid params: %s is not a %s field" % (", ".join(wrong), kind))


class VideoLibrary:
    def __init__(self, world, movies=(), shows=(), episodes=()):
        self.world = world
        self.movies = {m["movieid"]: dict({"playcount": 0, "lastplayed": "", "userrating": 0}, **copy.deepcopy(m))
                       for m in movies}
        self.shows = {s["tvshowid"]: dict({"userrating": 0}, **copy.deepcopy(s)) for s in shows}
        self.episodes = {e["episodeid"]: dict({"playcount": 0, "lastplayed": ""}, **copy.deepcopy(e))
                         for e in episodes}
        self.writes = []  # (method, params) of every Set*Details call
        world.jsonrpc_handlers.update({
            "VideoLibrary.GetMovies": lambda p: self._page(p, "movies", self.movies),
            "VideoLibrary.GetTVShows": lambda p: self._page(p, "tvshows", self.shows),
            "VideoLibrary.GetEpisodes": self._episodes,
            "VideoLibrary.GetMovieDetails": lambda p: self._details(p, "movieid", "moviedetails", self.movies),
            "VideoLibrary.GetEpisodeDetails": lambda p: self._details(p, "episodeid", "episodedetails",
                                                                      self.episodes),
            "VideoLibrary.GetTVShowDetails": lambda p: self._details(p, "tvshowid", "tvshowdetails", self.shows),
            "VideoLibrary.SetMovieDetails": lambda p: self._set(p, "movie", self.movies),
            "VideoLibrary.SetEpisodeDetails": lambda p: self._set(p, "episode", self.episodes),
            "VideoLibrary.SetTVShowDetails": lambda p: self._set(p, "tvshow", self.shows),
        })

    def _page(self, params, key, table):
        _check_fields({"movies": "movie", "tvshows": "tvshow", "episodes": "episode"}[key], params)
        limits = params.get("limits") or {}
        rows = [table[k] for k in sorted(table) if _passes(params.get("filter"), table[k])]
        start, end = limits.get("start", 0), limits.get("end", len(rows))
        wanted = set(params.get("properties") or []) | {key[:-1] + "id" if key != "tvshows" else "tvshowid"}
        page = [dict({k: copy.deepcopy(v) for k, v in READ_DEFAULTS.items() if k in wanted},
                     **{k: copy.deepcopy(v) for k, v in row.items() if k in wanted or k.endswith("id")})
                for row in rows[start:end]]
        return {key: page, "limits": {"start": start, "end": min(end, len(rows)), "total": len(rows)}}

    def _episodes(self, params):
        # tvshowid and season narrow the list, -1 (the default) is every one: Kodi lists
        # videodb://tvshows/titles/<tvshowid>/<season>/ (CVideoLibrary::GetEpisodes, VideoLibrary.cpp)
        show, season = params.get("tvshowid", -1), params.get("season", -1)
        table = {k: e for k, e in self.episodes.items()
                 if (show == -1 or e.get("tvshowid") == show) and (season == -1 or e.get("season") == season)}
        return self._page(params, "episodes", table)

    @staticmethod
    def _details(params, id_key, answer_key, table):
        _check_fields(id_key[:-2], params)
        found = table.get(params.get(id_key))
        if found is None:  # Kodi: GetMovieInfo/GetTvShowInfo finds nothing -> InvalidParams (VideoLibrary.cpp)
            raise JsonRpcError("Invalid params: no %s %r" % (id_key, params.get(id_key)))
        asked = {k: copy.deepcopy(v) for k, v in READ_DEFAULTS.items() if k in (params.get("properties") or [])}
        return {answer_key: dict(asked, **dict(copy.deepcopy(found), label=found.get("title", "")))}

    # -- what a scan or a removal does, with Kodi's announcements --------------------------------------
    def scan_in(self, movies=(), shows=(), episodes=()):
        """A library scan adds these items: each is announced as added, in a transaction, then the scan ends."""
        self.world.notify("VideoLibrary.OnScanStarted", None)
        for kind, rows, table in (("movie", movies, self.movies), ("tvshow", shows, self.shows),
                                  ("episode", episodes, self.episodes)):
            for row in rows:
                row = dict({"playcount": 0, "lastplayed": ""} if kind != "tvshow" else {}, **copy.deepcopy(row))
                table[row[kind + "id"]] = row
                item = {"type": kind, "id": row[kind + "id"]}
                if kind != "tvshow":
                    self.world.notify("VideoLibrary.OnUpdate", {"item": item, "transaction": True})
                self.world.notify("VideoLibrary.OnUpdate", {"item": item, "added": True, "transaction": True})
        self.world.notify("VideoLibrary.OnScanFinished", None)

    def remove(self, kind, dbid, notify=True):
        """The item leaves the library (VideoLibrary.Remove<Kind>, or a clean); notify=False: while the
        add-on was not running, so it hears nothing."""
        table = {"movie": self.movies, "tvshow": self.shows, "episode": self.episodes}[kind]
        del table[dbid]
        if notify:
            self.world.notify("VideoLibrary.OnRemove", {"type": kind, "id": dbid})

    def _set(self, params, kind, table):
        self.writes.append((kind, dict(params)))
        row = table.get(params.get(kind + "id"))
        if row is None:
            raise JsonRpcError("Invalid params: no %s %r" % (kind, params.get(kind + "id")))
        changed = "playcount" in params and params["playcount"] != row.get("playcount")
        for field in ("playcount", "lastplayed", "userrating"):
            if field in params:
                row[field] = params[field]
        if "resume" in params:
            row["resume"] = {"position": float(params["resume"]["position"]),
                             "total": float(params["resume"].get("total") or 0)}
            # Kodi 20.1 and 21 announce nothing for a resume point alone (tests/e2e/test_resume_points.py sees it)
        if changed:
            self.world.notify("VideoLibrary.OnUpdate", {"item": {"type": kind, "id": row[kind + "id"]},
                                                        "playcount": row["playcount"]})
        return "OK"


def _passes(where, row):
    """Kodi's list filter, as far as the add-on uses it: {"field": "userrating", "operator": "greaterthan"}."""
    if where is None:
        return True
    if (where.get("field"), where.get("operator")) != ("userrating", "greaterthan"):
        raise JsonRpcError("Invalid params: the fake library filters only on userrating > n")
    return (row.get("userrating") or 0) > int(where.get("value"))
