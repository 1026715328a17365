"""The user's Simkl library inside the fake Simkl: lists, watched episodes, Simkl's anime entries, and
the activities.

FakeSimkl (fake_simkl.py) owns one Library as `fake.library`, answers GET /sync/activities and
GET /sync/all-items[/{movies|shows|anime}[/{status}]] from it, and feeds it what the add-on posts
to /sync/history and /sync/history/remove (and what a /scrobble/stop at >= 80 % records).
Tests fill it with the controls below.

Sources, named beside each shape below:
- [apiary]: Simkl's spec, GitHub SIMKL/API apiary.apib @ a1cabfd ("Get All Items", anime summary and
  episodes, add-to-history "Handling Anime Seasons with TVDB/TMDB IDs", scrobble anime numbering).
- [docs]: api.simkl.org pages (api-reference/simkl/get-all-items, get-activities, add-to-history,
  conventions/null-values, conventions/list-statuses, conventions/extended-info), partly as digested
  in JavierOchoa/simklcli docs/research/simkl-api-core-loop.md @ 3992013 (from llms-full.txt).
- Observed by clients where the pages are silent: cenodude/CrossWatch (providers/sync/simkl/
  _history.py @ 8c64973 and its PRs #267, #296, #360, #442, #458), thegoddamnbeckster/SIMKLScrobbler
  (resources/lib/sync.py @ 86266fa), FuzzyGrim/Yamtrack issues #351 and #707.

What it models:
- Activities [docs get-activities]: each change stamps the bucket it concerns, its block's `all` and
  the top `all` with the fake's clock; idle buckets are null; movies have no watching/hold. A status
  change or a removal stamps the list the item left too.
- All-items entries [apiary, docs]: the summary fields (added_to_watchlist_at, last_watched_at,
  user_rated_at, user_rating, status, last_watched, next_to_watch, watched/total/not_aired counts),
  the `movie` or `show` block (anime rows use `show`, with `anime_type` beside it), ids with `simkl`
  a number and every other id a string. `seasons` only with `extended=full|full_anime_seasons`;
  episode `watched_at` only with `episode_watched_at=yes`.
- Completed and dropped entries come without episode rows unless `include_all_episodes` is sent
  (observed by CrossWatch PR #267 and others): `original` gives the recorded episodes, `yes` every
  aired episode of a completed entry (the unrecorded ones with the entry's last_watched_at).
- `date_from` keeps entries changed strictly after it; a delta never shows a removal.
  `watching_delta_quirk`: a shows|anime/watching delta filters by when the entry entered the list
  (observed by SIMKLScrobbler 7.5.8), so new episodes of a show already in Watching are missed.
- Anime [apiary]: Simkl files an anime series as several entries (a cour, a season, an OVA, a film),
  each with its own Simkl id and per-entry ids (mal, anidb, ...), sharing the series' tvdb/tmdb ids,
  each numbering its episodes from 1. `anime_series()` adds such a series to Simkl's catalogue with
  each entry's TVDB position per episode; `extended=full_anime_seasons` returns it per episode
  (`tvdb: {season, episode}`) and per entry (`mapped_tvdb_seasons`). A /sync/history post naming the
  series' tvdb/tmdb id with TVDB season/episode and `use_tvdb_anime_seasons: true` lands on the entry
  and native episode that hold that TVDB position. `watch_episodes(anime=True)` without a catalogue
  series is a one-entry anime that Simkl numbers as given.
- Ratings [docs get-user-ratings]: GET /sync/ratings/{type}/{one rating or a CSV of them} lists the rated
  entries of that type as all-items entries with `user_rating` and `user_rated_at`; `date_from` keeps
  those rated after it (which time Simkl compares is not said: the rating's own).
- An empty answer is `{}` (new client ids) or `null` (`null_when_empty`, client ids up to 58447:
  CrossWatch PR #360 quoting Simkl's developers; null is what apiary and null-values document).
- Test controls for tolerance: `time_style` (0, 3 or 6 fractional digits; `Z` or an offset) and
  `malform()` (one bad field in one entry among good ones).
- Paused playbacks [docs api-reference/simkl/get-playback-sessions, api-reference/playback]: GET
  /sync/playback is a list of {id, progress (percent), paused_at, type, episode|-, show|movie}, one per
  item (a new pause replaces the item's), `date_from` keeping paused_at >= it, `hide_watched` (default
  true) leaving out an item watched after its pause; each pause stamps
  `<block>.playback`. The page shows the episode both as `"episode": 5` (its first example) and as
  `"number": 3` (its second): `pause(..., episode_key=)` serves either; `tvdb_season`/`tvdb_number`
  beside them (for anime, the TVDB place). Times follow `time_style`.
- Simkl ids: the ids' own `simkl`, else one assigned from a counter; the same ids (any shared
  id) get the same Simkl id again, even after a removal. Movies and shows are numbered apart
  (a TMDB movie id and a TMDB TV id are different things).
"""
import itertools
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Dict, List, Optional, Tuple

MOVIE_BUCKETS = ("all", "rated_at", "playback", "plantowatch", "completed", "dropped", "removed_from_list")
SHOW_BUCKETS = ("all", "rated_at", "playback", "plantowatch", "watching", "completed", "hold", "dropped",
                "removed_from_list")
STATUSES = ("watching", "plantowatch", "hold", "completed", "dropped")
MOVIE_STATUSES = ("plantowatch", "completed", "dropped")
TYPES = {"movies": "movie", "shows": "show", "anime": "anime"}  # all-items path / answer key -> kind
BLOCKS = {"movie": "movies", "show": "tv_shows", "anime": "anime"}  # kind -> activities block
SERIES_IDS = ("tvdb", "tmdb", "imdb")  # the ids an anime series' entries share (apiary /anime/{id})
EPISODELESS = ("completed", "dropped")  # lists served without episode rows unless include_all_episodes
DEFECTS = ("episode_number", "season_number", "watched_at", "null_watched_at", "no_ids")


@dataclass
class Cour:
    """One Simkl anime entry of a series in Simkl's catalogue: a cour, a season, an OVA or a film."""
    simkl: int
    series: int  # the series' key in Library._series
    title: str
    year: Optional[int]
    ids: Dict[str, object]  # its own ids (mal, anidb, anilist, kitsu, ...), simkl included
    tvdb: List[Tuple[int, int]]  # (TVDB season, TVDB episode) of its native episodes 1..n
    anime_type: str = "tv"
    first: bool = False  # the series' first entry: it carries the series' ids in every answer


@dataclass
class Entry:
    """One item on one of the user's lists."""
    simkl: int
    kind: str  # movie | show | anime
    title: str
    year: Optional[int]
    ids: Dict[str, object]
    status: str
    added_at: float  # when it entered the list (clock)
    changed_at: float  # when its list entry last changed (clock)
    watched_at: Optional[str] = None  # movies and anime films
    episodes: Dict[Tuple[int, int], Optional[str]] = field(default_factory=dict)  # (season, number) -> watched_at
    total_episodes: Optional[int] = None
    aired: Optional[Dict[int, int]] = None  # season -> aired episodes, when the test names them
    anime_type: str = "tv"
    cour: Optional[Cour] = None  # its catalogue entry, for an entry of a split anime series
    defect: Optional[str] = None  # malform(): one bad field in its answer


def iso(seconds):
    """The fake's clock as Simkl writes user timestamps: 2026-05-14T06:50:38Z."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def parse_time(text):
    """An ISO-8601 time (Z, fractions, an offset, or a bare date) as epoch seconds; None if not one."""
    if not isinstance(text, str) or not text:
        return None
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def tvdb_run(season, first, count):
    """The TVDB positions of `count` native episodes that are TVDB season `season` from episode `first`."""
    return [(season, first + index) for index in range(count)]


def cour(title, ids, tvdb, anime_type="tv", year=None):
    """One entry for Library.anime_series(): its title, own ids (mal, anidb, ...; simkl optional), the TVDB
    (season, episode) of each native episode 1..n, and its anime_type (tv, ova, special, movie, ...)."""
    return {"title": title, "ids": dict(ids), "tvdb": list(tvdb), "anime_type": anime_type, "year": year}


class Library:
    def __init__(self, clock=time.time, lock=None):
        self.clock = clock
        self.lock = lock or threading.RLock()
        self.entries: Dict[int, Entry] = {}  # simkl id -> entry, in the order they entered a list
        self.watching_delta_quirk = False
        # An empty all-items answer: {} for client ids above 58447 (this add-on's), null for older ones.
        self.null_when_empty = False
        self.time_style: Tuple[int, str] = (0, "Z")  # (fractional digits 0|3|6, "Z" or "+HH:MM" / "-HH:MM")
        self._activities = {"settings": {"all": None}, "movies": dict.fromkeys(MOVIE_BUCKETS),
                            "tv_shows": dict.fromkeys(SHOW_BUCKETS), "anime": dict.fromkeys(SHOW_BUCKETS)}
        self._top = None
        self._index: Dict[Tuple[str, str, str], int] = {}  # (movie|show, id name, value) -> simkl id
        self._simkl_ids = itertools.count(700001)
        self._cours: Dict[int, Cour] = {}  # simkl id -> catalogue entry of a split anime series
        self._series: Dict[int, Tuple[Dict[str, object], List[int]]] = {}  # key -> (series ids, entry ids)
        self._series_index: Dict[Tuple[str, str], int] = {}  # (id name, value) -> series key
        self._playbacks: Dict[tuple, dict] = {}  # (kind, ids, season, number) -> stored paused playback
        self._playback_ids = itertools.count(5001)
        # The user's ratings by Simkl id: {"rating": 1-10, "rated_at", "kind": movie|show|anime, "item"}.
        self.ratings: Dict[int, dict] = {}

    # -- test controls ------------------------------------------------------------------------
    def watch_movie(self, title, year, ids, watched_at=None):
        """The user watched a movie: it is (or stays) in Completed with this last watch. -> simkl id"""
        with self.lock:
            now = self.clock()
            entry = self._entry("movie", title, year, ids, now)
            entry.watched_at = watched_at or iso(now)
            self._set_status(entry, "completed", now)
            return entry.simkl

    def watch_anime_movie(self, title, year, ids, watched_at=None):
        """The user watched an anime film: Simkl files it in the anime list with anime_type "movie"
        (apiary; observed by CrossWatch PR #458 and NuvioTV #2913), Completed. -> simkl id"""
        with self.lock:
            now = self.clock()
            entry = self._entry("anime", title, year, ids, now)
            entry.anime_type = "movie"
            entry.watched_at = watched_at or iso(now)
            entry.episodes[(1, 1)] = entry.watched_at  # a film as one episode row (CrossWatch PR #296)
            entry.total_episodes = 1
            self._set_status(entry, "completed", now)
            return entry.simkl

    def watch_episodes(self, title, year, ids, episodes, anime=None, completed=False, total_episodes=None,
                       anime_type=None, aired=None):
        """The user watched episodes [(season, number, watched_at or None), ...] of a show in Simkl's own
        numbering (anime=True: a one-entry anime numbered as given; ids naming an entry of an
        anime_series(): that entry, numbered from 1 in season 1). The show goes to Watching, or to
        Completed when `completed`; anime=None keeps how the show is filed (a show when new).
        aired: {season: episodes aired}, what include_all_episodes=yes lists. -> simkl id"""
        with self.lock:
            now = self.clock()
            found = self._find("show", ids)
            if found is not None and found.cour is not None:
                kind = "anime"
            else:
                kind = ("anime" if anime else "show") if anime is not None or found is None else found.kind
            entry = self._entry(kind, title, year, ids, now)
            for episode in episodes:
                season, number = int(episode[0]), int(episode[1])
                watched_at = episode[2] if len(episode) > 2 else None
                entry.episodes[(season, number)] = watched_at or iso(now)
            if total_episodes is not None:
                entry.total_episodes = total_episodes
            if aired is not None:
                entry.aired = {int(season): int(count) for season, count in aired.items()}
            if anime_type is not None:
                entry.anime_type = anime_type
            if completed:
                status = "completed"
            elif entry.status in ("watching", "completed"):
                status = entry.status
            else:
                status = "watching"
            self._set_status(entry, status, now)
            return entry.simkl

    def anime_series(self, title, year, ids, cours):
        """Simkl's catalogue files this anime series (ids: the series' tvdb/tmdb/imdb) as several entries,
        cours = [cour(...), ...] in order: each its own Simkl id (given or assigned) and own ids, sharing
        the series' ids, numbering its episodes from 1, each episode at its TVDB (season, episode).
        Nothing is on the user's lists yet. -> the entries' Simkl ids"""
        with self.lock:
            series_ids = {name: value for name, value in (ids or {}).items()
                          if name in SERIES_IDS and value not in (None, "")}
            key = len(self._series) + 1
            made = []
            for position, spec in enumerate(cours):
                own = {name: value for name, value in spec["ids"].items() if value not in (None, "")}
                simkl = int(own["simkl"]) if own.get("simkl") else next(self._simkl_ids)
                own["simkl"] = simkl
                for name, value in own.items():
                    self._index.setdefault(("show", name, str(value)), simkl)
                self._cours[simkl] = Cour(simkl, key, spec["title"], spec.get("year") or year, own,
                                          list(spec["tvdb"]), spec.get("anime_type") or "tv", position == 0)
                made.append(simkl)
            self._series[key] = (series_ids, made)
            for name, value in series_ids.items():
                self._series_index[(name, str(value))] = key
            return made

    def unwatch_episodes(self, ids, episodes):
        """Episodes [(season, number), ...] leave the show's history; a completed show goes back to
        Watching, a show left without watched episodes leaves its list. -> False if not listed"""
        with self.lock:
            entry = self._find("show", ids)
            if entry is None:
                return False
            self._unwatch(entry, [(int(episode[0]), int(episode[1])) for episode in episodes], self.clock())
            return True

    def remove_movie(self, ids):
        """The movie leaves the user's lists (its history removed). -> False if it was not listed"""
        with self.lock:
            return self._remove("movie", ids)

    def remove_show(self, ids):
        """The show or anime leaves the user's lists. -> False if it was not listed"""
        with self.lock:
            return self._remove("show", ids)

    def list_item(self, kind, title, year, ids, status, aired=None):
        """Put an item (kind movie|show|anime) on a list (status) without watching anything, or
        move it there (e.g. a show marked Completed on simkl.com without ticking episodes). -> simkl id"""
        if status not in (MOVIE_STATUSES if kind == "movie" else STATUSES):
            raise ValueError("no %s list %r" % (kind, status))
        with self.lock:
            now = self.clock()
            entry = self._entry(kind, title, year, ids, now)
            if aired is not None:
                entry.aired = {int(season): int(count) for season, count in aired.items()}
            self._set_status(entry, status, now)
            return entry.simkl

    def malform(self, kind, ids, defect):
        """One entry's answer carries one bad field (defect in DEFECTS): a non-numeric episode number,
        a season number null, a watched_at that is not a time, a watched_at null (observed by Yamtrack
        #707), or a movie/show block without ids. The other entries stay good. -> False if not listed"""
        if defect not in DEFECTS:
            raise ValueError("no defect %r" % defect)
        with self.lock:
            entry = self._find("movie" if kind == "movie" else "show", ids)
            if entry is None:
                return False
            entry.defect = defect
            return True

    def pause(self, kind, title, year, ids, progress, paused_at=None, episode=None, tvdb=None,
              episode_key="episode", anime=False):
        """The user paused this item on another device at `progress` percent (a /scrobble/pause there):
        kind movie|episode; episode=(season, number) in Simkl's numbering, tvdb=(season, number) its TVDB
        place (anime). It replaces an earlier pause of the item and moves <block>.playback. -> its id"""
        with self.lock:
            now = self.clock()
            at = paused_at if paused_at is not None else now
            at = at if isinstance(at, (int, float)) else parse_time(at)
            ids = {name: value for name, value in ids.items() if value not in (None, "")}
            ids.setdefault("simkl", self._lookup("movie" if kind == "movie" else "show", ids)
                           or next(self._simkl_ids))
            # docs get-playback-sessions: the movie|show block is {title, year, ids}; ids as the standard objects
            block = {"title": title, "year": year,
                     "ids": dict((name, value if name == "simkl" else str(value)) for name, value in ids.items())}
            playback = {"id": next(self._playback_ids), "progress": progress, "paused_at": at, "type": kind}
            if kind == "movie":
                playback["movie"] = block
                key = ("movie", tuple(sorted(block["ids"].items())))
            else:
                season, number = episode
                shown = {"season": season, episode_key: number, "title": "Episode %d" % number}
                if tvdb is not None:
                    shown.update(tvdb_season=tvdb[0], tvdb_number=tvdb[1])
                playback.update(episode=shown, show=block)
                key = ("episode", tuple(sorted(block["ids"].items())), season, number)
            self._playbacks[key] = playback
            self._stamp("anime" if anime else BLOCKS["movie" if kind == "movie" else "show"], "playback", now)
            return playback["id"]

    def playbacks(self, query):
        """(status, answer) for GET /sync/playback: every paused playback, paused_at >= date_from when given."""
        with self.lock:
            since = None
            if query.get("date_from"):
                since = parse_time(query["date_from"])
                if since is None:
                    return 400, {"error": "wrong_parameter", "code": 400, "message": "Bad date_from"}
            hide_watched = str(query.get("hide_watched", "true")).lower() not in ("false", "no", "0")
            found = [dict(playback, paused_at=self._time(playback["paused_at"]))
                     for playback in sorted(self._playbacks.values(), key=lambda p: p["id"])
                     if (since is None or playback["paused_at"] >= since)
                     and not (hide_watched and self._watched_since(playback))]
            return 200, found

    def _watched_since(self, playback):
        """The item was watched after its pause (docs get-playback-sessions: hide_watched, default true)."""
        if playback["type"] == "movie":
            entry = self._find("movie", playback["movie"]["ids"])
            at = entry.watched_at if entry is not None else None
        else:
            entry = self._find("show", playback["show"]["ids"])
            place = (playback["episode"]["season"], playback["episode"].get("episode",
                                                                           playback["episode"].get("number")))
            at = entry.episodes.get(place) if entry is not None else None
        seconds = parse_time(at) if at else None
        return seconds is not None and seconds > playback["paused_at"]

    def touch(self, block, bucket="all"):
        """Move one activities bucket without a library change (e.g. movies.rated_at, settings)."""
        with self.lock:
            self._stamp(block, bucket, self.clock())

    def simkl_id(self, kind, ids):
        """The Simkl id the library gave these ids (kind movie|show), or None."""
        with self.lock:
            return self._lookup("movie" if kind == "movie" else "show", ids)

    # -- what Simkl knows of split anime (used by fake_simkl.py too) ------------------------------
    def split_series(self, ids):
        """The catalogue series these ids name by a shared series id, or None."""
        with self.lock:
            for name, value in (ids if isinstance(ids, dict) else {}).items():
                if name in SERIES_IDS and value not in (None, ""):
                    key = self._series_index.get((name, str(value)))
                    if key is not None:
                        return key
            return None

    def map_tvdb(self, ids, season, number):
        """(entry's Simkl id, native number) holding TVDB (season, number) of the series these ids name,
        or None: what use_tvdb_anime_seasons does (apiary scrobble: TVDB S2E4 -> "Season 2" entry E4)."""
        with self.lock:
            key = self.split_series(ids)
            if key is None:
                return None
            for simkl in self._series[key][1]:
                for index, position in enumerate(self._cours[simkl].tvdb):
                    if position == (season, number):
                        return simkl, index + 1
            return None

    # -- answers ------------------------------------------------------------------------------
    def activities(self):
        """The GET /sync/activities answer."""
        with self.lock:
            a = self._activities
            return {"all": self._time(self._top), "settings": self._times(a["settings"]),
                    "movies": self._times(a["movies"]), "tv_shows": self._times(a["tv_shows"]),
                    "anime": self._times(a["anime"])}

    def all_items(self, path, query):
        """(status, answer) for GET /sync/all-items[/{movies|shows|anime}[/{status}]]."""
        parts = [part for part in path[len("/sync/all-items"):].split("/") if part]
        if len(parts) > 2 or (parts and parts[0] not in TYPES):
            return 404, {"error": "url_failed", "code": 404}  # an unknown type: not documented either way
        since = None
        if query.get("date_from"):
            since = parse_time(query["date_from"])
            if since is None:
                return 400, {"error": "wrong_parameter", "code": 400, "message": "Bad date_from"}
        groups = [parts[0]] if parts else list(TYPES)
        # `all` is every list (docs list-statuses); an unknown one too (observed: "does not 404").
        status = parts[1] if len(parts) == 2 and parts[1] in STATUSES else None
        options = _Options(query)
        answer = {}
        with self.lock:
            for group in groups:
                items = []
                for entry in self.entries.values():
                    if entry.kind != TYPES[group] or (status and entry.status != status):
                        continue
                    if since is not None:
                        quirk = self.watching_delta_quirk and status == "watching" and group != "movies"
                        if (entry.added_at if quirk else entry.changed_at) <= since:
                            continue
                    items.append(self._item(entry, options))
                if items:
                    answer[group] = items  # a type without items is left out (apiary examples)
        if not answer:
            return 200, (None if self.null_when_empty else {})
        return 200, answer

    def rated(self, path, query):
        """(status, answer) for GET /sync/ratings/{movies|shows|anime}/{ratings}: the user's rated titles of
        that type whose rating is one of `ratings` (one value 1-10 or a CSV list), each an all-items entry with
        user_rating and user_rated_at, grouped as all-items answers (api.simkl.org get-user-ratings: "Same as
        GET /sync/all-items: extended, date_from ..."). date_from keeps the ratings made strictly after it; the
        page does not say which time it compares: the rating's own rated_at is assumed."""
        parts = [part for part in path[len("/sync/ratings"):].split("/") if part]
        if len(parts) != 2 or parts[0] not in TYPES:
            return 404, {"error": "url_failed", "code": 404}  # the pages show only /{type}/{rating}
        wanted = {int(value) for value in parts[1].split(",") if value.strip().isdigit()}
        if not wanted or not wanted <= set(range(1, 11)) or len(wanted) != len(parts[1].split(",")):
            return 400, {"error": "wrong_parameter", "code": 400, "message": "Bad rating"}
        since = None
        if query.get("date_from"):
            since = parse_time(query["date_from"])
            if since is None:
                return 400, {"error": "wrong_parameter", "code": 400, "message": "Bad date_from"}
        options = _Options(query)
        with self.lock:
            items = [self._item(self.entries[simkl], options) for simkl, rated in self.ratings.items()
                     if simkl in self.entries and self.entries[simkl].kind == TYPES[parts[0]]
                     and rated["rating"] in wanted
                     and (since is None or (parse_time(rated["rated_at"]) or 0) > since)]
        if not items:
            return 200, (None if self.null_when_empty else {})
        return 200, {parts[0]: items}

    # -- rating hooks (POST /sync/ratings, /sync/ratings/remove) ----------------------------------
    def rate(self, kind, item, rating, rated_at):
        """The user rated a title (kind movie|show|anime): kept, `<block>.rated_at` moved; an unlisted title is
        filed (api-reference add-ratings: a released movie -> completed, a multi-episode show or anime ->
        watching), which moves that list too. -> the title's list status"""
        with self.lock:
            now = self.clock()
            found = self._find("movie" if kind == "movie" else "show", item.get("ids"))
            entry = found or self._entry(kind, item.get("title"), item.get("year"), item.get("ids"), now)
            if not entry.status:
                self._set_status(entry, "completed" if kind == "movie" else "watching", now)
            self.ratings[entry.simkl] = {"rating": rating, "rated_at": rated_at, "kind": entry.kind,
                                         "item": {"title": entry.title, "year": entry.year,
                                                  "ids": dict(item.get("ids") or {})}}
            self._stamp(BLOCKS[entry.kind], "rated_at", now)
            return entry.status

    def unrate(self, kind, ids):
        """The user's rating of a title is removed (api-reference remove-ratings: the title stays listed).
        The pages do not say whether rated_at moves then; assumed it does, as for a rating. -> whether there
        was one"""
        with self.lock:
            simkl = self._lookup("movie" if kind == "movie" else "show", ids)
            rated = self.ratings.pop(simkl, None) if simkl is not None else None
            if rated is not None:
                self._stamp(BLOCKS[rated["kind"]], "rated_at", self.clock())
            return rated is not None

    # -- history hooks (POST /sync/history, /sync/history/remove, /scrobble/stop) ------------------
    def history_movie(self, movie):
        self.watch_movie(movie.get("title"), movie.get("year"), movie.get("ids"), movie.get("watched_at"))

    def history_show(self, show, episodes, anime):
        """A show posted to /sync/history with the episodes the fake accepted from it. -> how many list
        entries it touched (a split anime series posted whole touches each of its entries)."""
        completed = show.get("status") == "completed"
        episodes = [episode for episode in episodes if _numbered(episode)]
        with self.lock:
            key = self.split_series(show.get("ids"))
            if key is not None:
                return self._history_split(key, show, episodes, completed)
            if episodes:
                self.watch_episodes(show.get("title"), show.get("year"), show.get("ids"), episodes,
                                    anime=True if anime else None, completed=completed)
            elif not show.get("seasons"):  # the whole show: listed with the status sent, Completed by default
                found = self._find("show", show.get("ids"))
                kind = "anime" if anime else (found.kind if found is not None else "show")
                status = show.get("status") if show.get("status") in STATUSES else "completed"
                self.list_item(kind, show.get("title"), show.get("year"), show.get("ids"), status)
            return 1

    def history_remove(self, body):
        with self.lock:
            for movie in body.get("movies") or []:
                self.remove_movie(movie.get("ids"))
            for show in body.get("shows") or []:
                episodes = [(season.get("number"), episode.get("number")) for season in show.get("seasons") or []
                            for episode in season.get("episodes") or []]
                episodes = [episode for episode in episodes if _numbered(episode)]
                key = self.split_series(show.get("ids"))
                if key is not None:
                    self._remove_split(key, show, episodes)
                elif episodes:
                    self.unwatch_episodes(show.get("ids"), episodes)
                elif not show.get("seasons"):
                    self.remove_show(show.get("ids"))

    # -- inside -------------------------------------------------------------------------------
    def _history_split(self, key, show, episodes, completed):
        """apiary add-to-history: "By default, anime seasons on Simkl are treated as separate series";
        with use_tvdb_anime_seasons the show's TVDB/TMDB ids and TVDB numbers reach every entry."""
        flagged = show.get("use_tvdb_anime_seasons") is True
        entries = self._series[key][1]
        now = self.clock()
        if not episodes and not show.get("seasons"):
            # The whole series: with the flag "mark all seasons ... starting from first season" (apiary: its
            # example answers added.shows 7); without it only the entry the ids name first (modelled).
            for simkl in (entries if flagged else entries[:1]):
                cour_ = self._cours[simkl]
                entry = self._entry("anime", None, None, {"simkl": simkl}, now)
                for number in range(1, len(cour_.tvdb) + 1):
                    entry.episodes.setdefault((1, number), show.get("watched_at") or iso(now))
                self._set_status(entry, "completed", now)
            return len(entries) if flagged else 1
        touched = set()
        for episode in episodes:
            season, number = int(episode[0]), int(episode[1])
            watched_at = episode[2] if len(episode) > 2 else None
            if flagged:
                found = self.map_tvdb(show.get("ids"), season, number)
                if found is None:
                    continue  # fake_simkl.py answered it in not_found.episodes
                simkl, native = found
            else:
                simkl, native = entries[0], number  # [?] unflagged: the first entry, number taken as its own
            entry = self._entry("anime", None, None, {"simkl": simkl}, now)
            entry.episodes[(1, native)] = watched_at or iso(now)
            touched.add(simkl)
        for simkl in touched:
            entry = self.entries[simkl]
            done = completed or len(entry.episodes) >= len(entry.cour.tvdb)
            self._set_status(entry, "completed" if done else
                             (entry.status if entry.status in ("watching", "completed") else "watching"), now)
        return max(1, len(touched))

    def _remove_split(self, key, show, episodes):
        flagged = show.get("use_tvdb_anime_seasons") is True
        entries = self._series[key][1]
        now = self.clock()
        if not episodes:
            if not show.get("seasons"):  # the whole show leaves the lists: every entry of it [?]
                for simkl in entries:
                    if simkl in self.entries:
                        self._drop(self.entries[simkl], now)
            return
        gone: Dict[int, List[Tuple[int, int]]] = {}
        for season, number in episodes:
            found = self.map_tvdb(show.get("ids"), int(season), int(number)) if flagged else (entries[0], int(number))
            if found is not None:
                gone.setdefault(found[0], []).append((1, found[1]))
        for simkl, numbers in gone.items():
            if simkl in self.entries:
                self._unwatch(self.entries[simkl], numbers, now)

    def _unwatch(self, entry, numbers, now):
        for number in numbers:
            entry.episodes.pop(number, None)
        if not entry.episodes:
            self._drop(entry, now)
        else:
            self._set_status(entry, "watching", now)

    def _stamp(self, block, bucket, now):
        self._activities[block][bucket] = now
        self._activities[block]["all"] = now
        self._top = now

    def _set_status(self, entry, status, now):
        block = BLOCKS[entry.kind]
        if entry.status and entry.status != status:
            self._stamp(block, entry.status, now)  # the list it left
        entry.status = status
        entry.changed_at = now
        self._stamp(block, status, now)

    def _drop(self, entry, now):
        del self.entries[entry.simkl]
        self._stamp(BLOCKS[entry.kind], entry.status, now)
        self._stamp(BLOCKS[entry.kind], "removed_from_list", now)

    def _remove(self, family, ids):
        entry = self._find(family, ids)
        if entry is None:
            return False
        self._drop(entry, self.clock())
        return True

    def _lookup(self, family, ids):
        for name, value in (ids if isinstance(ids, dict) else {}).items():
            if value not in (None, ""):
                found = self._index.get((family, name, str(value)))
                if found is not None:
                    return found
        return None

    def _find(self, family, ids):
        simkl = self._lookup(family, ids)
        entry = self.entries.get(simkl) if simkl is not None else None
        return entry if entry is not None and (entry.kind == "movie") == (family == "movie") else None

    def _entry(self, kind, title, year, ids, now):
        """The list entry for these ids, made (not yet on a list: status "") when new."""
        family = "movie" if kind == "movie" else "show"
        ids = {name: value for name, value in (ids if isinstance(ids, dict) else {}).items()
               if value not in (None, "")}
        simkl = self._lookup(family, ids)
        if simkl is None:
            simkl = int(ids["simkl"]) if ids.get("simkl") else next(self._simkl_ids)
        ids["simkl"] = simkl
        known = self._cours.get(simkl) if family == "show" else None
        if known is not None:
            ids = dict(known.ids)  # an entry of a split series: Simkl knows its ids
        for name, value in ids.items():
            self._index.setdefault((family, name, str(value)), simkl)
        entry = self.entries.get(simkl)
        if entry is None:
            entry = self.entries[simkl] = Entry(simkl, kind, title or "", year, {}, "", now, now)
        if known is not None:
            entry.kind, entry.cour, entry.anime_type = "anime", known, known.anime_type
            entry.title, entry.year = title or known.title, year if year is not None else known.year
        else:
            entry.kind = kind
            entry.title = title or entry.title
            entry.year = year if year is not None else entry.year
        entry.ids.update(ids)
        return entry

    def _time(self, value):
        """A user timestamp (clock seconds or a stored string) in the chosen time_style; a string that is
        not a time is served as it is."""
        if value is None:
            return None
        seconds = value if isinstance(value, (int, float)) else parse_time(value)
        if seconds is None:
            return value
        digits, zone = self.time_style
        offset = timedelta(0) if zone == "Z" else \
            (1 if zone[0] == "+" else -1) * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
        moment = datetime.fromtimestamp(seconds, timezone(offset))
        text = moment.strftime("%Y-%m-%dT%H:%M:%S")
        if digits:
            text += "." + ("%06d" % moment.microsecond)[:digits]
        return text + ("Z" if zone == "Z" else zone)

    def _times(self, block):
        return {key: self._time(value) for key, value in block.items()}

    def _ids(self, entry, options):
        own = [(name, value) for name, value in entry.ids.items() if name != "simkl"]
        if entry.cour is not None:
            series_ids, _ = self._series[entry.cour.series]
            if entry.cour.first or options.anime_seasons:
                # apiary: "IMDB\TVDB\TMDB ids will also be added for 2+ seasons" with full_anime_seasons
                own += [(name, value) for name, value in series_ids.items() if name not in entry.ids]
        # docs (standard media objects): simkl is a number, every other id a string
        return dict([("simkl", entry.simkl)] + [(name, str(value)) for name, value in own])

    def _item(self, entry, options):
        block = {"title": entry.title, "year": entry.year, "ids": self._ids(entry, options)}
        if entry.defect == "no_ids":
            del block["ids"]
        item = {"added_to_watchlist_at": self._time(entry.added_at), "last_watched_at": None,
                "user_rated_at": None, "user_rating": None, "status": entry.status}
        rated = self.ratings.get(entry.simkl)
        if rated is not None:  # get-all-items: user_rating 1-10 and user_rated_at, null while unrated
            item.update(user_rating=rated["rating"], user_rated_at=self._time(rated["rated_at"]))
        if entry.kind == "movie":  # apiary Get All Items: movies carry no episode fields
            item["last_watched_at"] = self._time(entry.watched_at) if entry.status == "completed" else None
            if entry.defect == "watched_at":
                item["last_watched_at"] = "last Tuesday"
            item["movie"] = block
            return item
        watched = sorted(entry.episodes)
        times = [t for t in entry.episodes.values() if parse_time(t) is not None]
        last_at = max(times, key=parse_time) if times else None
        aired = self._aired(entry)
        total = max(sum(aired.values()) if aired else (entry.total_episodes or 0), len(watched))
        item["last_watched_at"] = self._time(last_at)
        item["last_watched"] = "S%02dE%02d" % watched[-1] if watched else None
        item["next_to_watch"] = _next(watched, aired) if entry.status != "completed" else None  # null-values Type 5
        item["watched_episodes_count"] = len(watched)
        item["total_episodes_count"] = total
        item["not_aired_episodes_count"] = 0
        if entry.kind == "anime":
            item["anime_type"] = entry.anime_type  # beside `show`, not in it (apiary; CrossWatch PR #458)
            if options.anime_seasons and entry.anime_type != "movie":  # [?] a film has no TVDB season
                item["mapped_tvdb_seasons"] = sorted({self._tvdb(entry, number)[0] for number in
                                                      (self._native(aired) or watched)})
        item["show"] = block
        if not options.full:
            return item
        if entry.status in EPISODELESS and options.include not in ("yes", "original"):
            return item  # observed by CrossWatch PR #267: no episode rows for completed/dropped by default
        numbers = watched
        if options.include == "yes" and entry.status == "completed":
            numbers = sorted(set(watched) | set(self._native(aired)))  # every aired episode
        seasons = []
        for season in sorted({s for s, _ in numbers}):
            rows = []
            for number in [n for s, n in numbers if s == season]:
                row = {"number": number}
                if options.watched_at:
                    row["watched_at"] = self._time(entry.episodes.get((season, number), last_at))
                if entry.kind == "anime" and options.anime_seasons and entry.anime_type != "movie":
                    tvdb_season, tvdb_episode = self._tvdb(entry, (season, number))
                    row["tvdb"] = {"season": tvdb_season, "episode": tvdb_episode}
                rows.append(row)
            seasons.append({"number": season, "episodes": rows})
        _spoil(seasons, entry.defect)
        item["seasons"] = seasons
        return item

    def _aired(self, entry):
        """{season: aired episodes} as far as the fake knows (a catalogue entry, or what the test said)."""
        if entry.cour is not None:
            return {1: len(entry.cour.tvdb)}
        return dict(entry.aired) if entry.aired else {}

    @staticmethod
    def _native(aired):
        """Every aired (season, number), in order."""
        return [(season, number) for season, count in sorted(aired.items()) for number in range(1, count + 1)]

    @staticmethod
    def _tvdb(entry, number):
        """The TVDB (season, episode) of one of the entry's episodes: its catalogue position, or (a one-entry
        anime Simkl numbers as given) the same numbers."""
        season, native = number
        if entry.cour is not None and 1 <= native <= len(entry.cour.tvdb):
            return entry.cour.tvdb[native - 1]
        return season, native


class _Options:
    """The all-items query parameters the fake honours (apiary Get All Items table; docs get-all-items)."""

    def __init__(self, query):
        extended = query.get("extended") or ""  # one value, not a list (docs extended-info)
        self.full = extended in ("full", "full_anime_seasons")
        self.anime_seasons = extended == "full_anime_seasons"
        self.include = query.get("include_all_episodes")  # yes | original (docs); anything else: absent
        self.watched_at = query.get("episode_watched_at") == "yes"


def _next(watched, aired):
    """next_to_watch: the episode after the last watched one, when the fake knows it aired."""
    if not watched:
        return "S01E01" if not aired or aired.get(1) else None
    season, number = watched[-1]
    if aired.get(season, 0) > number:
        return "S%02dE%02d" % (season, number + 1)
    if aired.get(season + 1):
        return "S%02dE01" % (season + 1)
    return None


def _spoil(seasons, defect):
    """malform(): one bad field in the first episode row (or season) of an otherwise good entry."""
    if not seasons or not seasons[0]["episodes"] or defect is None:
        return
    first = seasons[0]["episodes"][0]
    if defect == "episode_number":
        first["number"] = "one"
    elif defect == "season_number":
        seasons[0]["number"] = None
    elif defect == "watched_at" and "watched_at" in first:
        first["watched_at"] = "last Tuesday"
    elif defect == "null_watched_at" and "watched_at" in first:
        first["watched_at"] = None  # observed: Yamtrack #707 crashed on an episode time that was not a string


def _numbered(episode):
    """A (season, number, ...) whose season and number are whole numbers (what the add-on may post is not)."""
    try:
        return all(int(value) == value for value in episode[:2])
    except (TypeError, ValueError):
        return False
