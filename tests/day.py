"""A day of Kodi use played through the real service, for bench/bench_day.py and tests/test_day.py.

The real Service (tests/scenario.py RunningService) on the Kodi fakes, with Kodi's video library answered
by tests/kodi_fakes/videolibrary.py, against the fake Simkl server on 127.0.0.1, real sqlite files in the
profile folder, and virtual time (tests/virtual_time.py): nothing really sleeps. The add-on's settings are
settings.xml's defaults (live scrobbling, Mark in Kodi, resume points and ratings on).

Before the day (not counted): the user logged in, and the first full sync ran the evening before. The day
then starts with Kodi's start and lasts `hours` hours: a sync 60 s after each start and one every hour of
a run (what the service's loop asks for), the plays of the schedule with their pauses and seeks, Kodi
quits and starts again (the same profile), a library scan that adds items, and changes the user makes on
another device. What Simkl received is then counted by endpoint.
"""
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, List, Optional

from videolibrary import VideoLibrary
from xbmc import InfoTagVideo

import fakekodi
from scenario import RunningService, log_in, wait_for

MINUTE = 60.0
HOUR = 3600.0
SYNC_AFTER_START = 60.0  # service.py: the first sync of a run waits for Kodi to settle
SYNC_AFTER_SCAN = 5.0
STEP = 300.0  # idle time passes in steps of at most this (the sync thread's look at Kodi's ratings)
SYNC_WRITES_WAIT = 1.0  # real seconds a sync due while a title plays may take before the playback goes on


# -- Kodi's library, and what Simkl and its file search know ---------------------------------------------
def movie(movieid, title, year, imdb, tmdb, folder):
    return {"movieid": movieid, "title": title, "year": year, "uniqueid": {"imdb": imdb, "tmdb": str(tmdb)},
            "file": "/media/movies/%s/%s.mkv" % (folder, folder)}


def show(tvshowid, title, year, tvdb, imdb):
    return {"tvshowid": tvshowid, "title": title, "year": year, "uniqueid": {"tvdb": str(tvdb), "imdb": imdb}}


def episode(episodeid, tvshow, season, number, tvdb):
    return {"episodeid": episodeid, "tvshowid": tvshow["tvshowid"], "title": "Episode %d" % number,
            "season": season, "episode": number, "uniqueid": {"tvdb": str(tvdb)}, "showtitle": tvshow["title"],
            "file": "/media/tv/%s/Season %d/S%02dE%02d.mkv" % (tvshow["title"], season, season, number)}


ARRIVAL = movie(1, "Arrival", 2016, "tt2543164", 329865, "Arrival (2016)")
DUNE = movie(2, "Dune", 2021, "tt1160419", 438631, "Dune (2021)")
OFFICE = show(10, "The Office", 2005, 73244, "tt0386676")
OFFICE_EPISODES = [episode(100 + n, OFFICE, 3, n, 330000 + n) for n in range(1, 6)]
SEVERANCE = show(11, "Severance", 2022, 371980, "tt11280740")
LIBRARY_MOVIES = (ARRIVAL, DUNE)
LIBRARY_SHOWS = (OFFICE, SEVERANCE)
LIBRARY_EPISODES = tuple(OFFICE_EPISODES[:3])
SCANNED_EPISODES = tuple(OFFICE_EPISODES[3:])  # the evening's scan adds them


@dataclass
class FileTitle:
    """A file outside Kodi's library, known to Simkl's file search by the name the add-on sends."""
    path: str
    search_name: str
    answer: dict
    tag_title: str


def _movie_found(title, year, simkl, imdb):
    # POST /search/file's movie answer (simkl-api §4.2; api.simkl.org ref/simkl/search-by-file)
    return {"type": "movie", "movie": {"title": title, "year": year, "ids": {"simkl": simkl, "imdb": imdb}}}


def _episode_found(title, year, simkl, tvdb, season, number):
    # POST /search/file's episode answer (simkl-api §4.2; api.simkl.org ref/simkl/search-by-file)
    return {"type": "episode", "show": {"title": title, "year": year, "ids": {"simkl": simkl, "tvdb": str(tvdb)}},
            "episode": {"title": "Episode %d" % number, "season": season, "episode": number, "multipart": False,
                        "ids": {"simkl": simkl * 100 + number}}}


def _downloads(name):
    return "/storage/downloads/" + name


PARASITE = FileTitle(_downloads("Parasite (2019)/Parasite.2019.1080p.mkv"), "Parasite (2019)/Parasite.2019.1080p.mkv",
                     _movie_found("Parasite", 2019, 1071, "tt6751668"), "Parasite.2019.1080p")
SHOGUN = FileTitle(_downloads("Shogun/Season 1/Shogun.S01E01.mkv"), "Shogun/Season 1/Shogun.S01E01.mkv",
                   _episode_found("Shogun", 2024, 2201, 392573, 1, 1), "Shogun.S01E01")
BEAR_1 = FileTitle(_downloads("The Bear/Season 2/The.Bear.S02E01.mkv"), "The Bear/Season 2/The.Bear.S02E01.mkv",
                   _episode_found("The Bear", 2022, 2302, 406207, 2, 1), "The.Bear.S02E01")
BEAR_2 = FileTitle(_downloads("The Bear/Season 2/The.Bear.S02E02.mkv"), "The Bear/Season 2/The.Bear.S02E02.mkv",
                   _episode_found("The Bear", 2022, 2302, 406207, 2, 2), "The.Bear.S02E02")
FILE_TITLES = (PARASITE, SHOGUN, BEAR_1, BEAR_2)


def library_tag(item):
    """What Kodi's player tag carries for a library item (the default unique id only, as scenario.py)."""
    if "movieid" in item:
        return InfoTagVideo(media_type="movie", title=item["title"], year=item["year"], dbid=item["movieid"],
                            uniqueids={"imdb": item["uniqueid"]["imdb"]}, path=item["file"],
                            default_id=item["uniqueid"]["imdb"])
    return InfoTagVideo(media_type="episode", title=item["title"], dbid=item["episodeid"],
                        uniqueids=dict(item["uniqueid"]), showtitle=item["showtitle"], season=item["season"],
                        episode=item["episode"], path=item["file"], default_id=item["uniqueid"]["tvdb"])


def file_tag(title):
    """A file played from a folder: no library id, no unique ids, its file name for a title (as the unit
    suite's played files, tests/test_played_files.py)."""
    kind = "episode" if title.answer["type"] == "episode" else "movie"
    return InfoTagVideo(media_type=kind, title=title.tag_title, path=title.path)


# -- a play, and a day's schedule -------------------------------------------------------------------------
@dataclass
class Play:
    """One title played: from `start` (media seconds) to `stop_at` (None: to its end, which ends it by
    itself), with pauses [(at media s, seconds paused)] and seeks [(at media s, to media s)]; `then` is a
    Play that follows as the playlist's next item (at this one's natural end)."""
    tag: Callable[[], InfoTagVideo]
    path: str
    total: float
    stop_at: Optional[float] = None
    pauses: List[tuple] = field(default_factory=list)
    seeks: List[tuple] = field(default_factory=list)
    start: float = 0.0
    library: Optional[tuple] = None  # (kind, dbid) of a library item: Kodi raises its playcount at the end
    then: Optional["Play"] = None

    def minutes(self) -> float:
        played = (self.stop_at if self.stop_at is not None else self.total) - self.start
        return played / MINUTE + (self.then.minutes() if self.then else 0.0)

    def titles(self) -> int:
        return 1 + (self.then.titles() if self.then else 0)

    def finished(self) -> int:
        """Titles of this play (and the playlist's next ones) played to their end."""
        return (self.stop_at is None) + (self.then.finished() if self.then else 0)


def play_of_library(item, total_minutes, **kwargs):
    key = ("movie", item["movieid"]) if "movieid" in item else ("episode", item["episodeid"])
    return Play(lambda: library_tag(item), item["file"], total_minutes * MINUTE, library=key, **kwargs)


def play_of_file(title, total_minutes, **kwargs):
    return Play(lambda: file_tag(title), title.path, total_minutes * MINUTE, **kwargs)


def playlist(*plays):
    for first, second in zip(plays, plays[1:]):
        first.then = second
    return plays[0]


@dataclass
class Event:
    at: float  # seconds into the day
    kind: str  # play | restart | scan | remote
    play: Optional[Play] = None
    action: Optional[Callable] = None  # scan / remote: what happens (given the Day)
    label: str = ""


def heavy_day() -> List[Event]:
    """Ten titles (six of the library, four by file name), 5 h 15 min of playback with pauses and seeks, two
    Kodi restarts, a library scan that adds two episodes, and three titles marked on another device."""
    minutes = MINUTE
    return [
        Event(2 * HOUR, "play", play_of_library(ARRIVAL, 116, pauses=[(40 * minutes, 10 * minutes),
                                                                      (85 * minutes, 2 * minutes)],
                                                seeks=[(60 * minutes, 58 * minutes)]), label="Arrival (library)"),
        Event(4 * HOUR + 30 * minutes, "play", playlist(
            play_of_library(OFFICE_EPISODES[0], 22),
            play_of_library(OFFICE_EPISODES[1], 22, pauses=[(10 * minutes, 5 * minutes)]),
            play_of_library(OFFICE_EPISODES[2], 22)), label="The Office S03E01-03 (library, a playlist)"),
        Event(6 * HOUR, "restart", label="Kodi quits and starts again"),
        Event(7 * HOUR, "remote", action=lambda day: day.simkl.library.watch_movie(
            "Oppenheimer", 2023, {"imdb": "tt15398776", "tmdb": "872585"}), label="a movie marked on simkl.com"),
        Event(8 * HOUR, "play", play_of_file(BEAR_1, 34, seeks=[(1 * minutes, 2.5 * minutes),
                                                                (20 * minutes, 20.5 * minutes),
                                                                (20.5 * minutes, 21 * minutes),
                                                                (21 * minutes, 24 * minutes)]),
              label="The Bear S02E01 (file), an intro skipped and a hunt for a scene"),
        Event(9 * HOUR, "play", play_of_file(BEAR_2, 30, pauses=[(15 * minutes, 15 * minutes)]),
              label="The Bear S02E02 (file)"),
        Event(11 * HOUR, "scan", action=lambda day: day.library.scan_in(episodes=SCANNED_EPISODES),
              label="a library scan adds The Office S03E04-05"),
        Event(12 * HOUR, "play", play_of_file(PARASITE, 132, stop_at=10 * minutes),
              label="Parasite (file), stopped after 10 min"),
        Event(12 * HOUR + 30 * minutes, "play", playlist(
            play_of_library(OFFICE_EPISODES[3], 22, seeks=[(3 * minutes, 4 * minutes)]),
            play_of_library(OFFICE_EPISODES[4], 22)), label="The Office S03E04-05 (scanned in)"),
        Event(13 * HOUR + 30 * minutes, "remote", action=lambda day: day.simkl.library.watch_episodes(
            "Severance", 2022, {"tvdb": "371980", "imdb": "tt11280740"}, [(1, 1), (1, 2)]),
            label="two episodes marked on the phone"),
        Event(15 * HOUR, "restart", label="Kodi quits and starts again"),
        Event(16 * HOUR, "play", play_of_file(SHOGUN, 58, stop_at=15 * minutes, pauses=[(5 * minutes, 8 * minutes)]),
              label="Shogun S01E01 (file), stopped after 15 min"),
    ]


def small_day() -> List[Event]:
    """The day's kinds of events, fewer and shorter (for the unit suite): a library movie with a pause and a
    seek, a file-name episode, a Kodi restart, a scan, a change on simkl.com."""
    minutes = MINUTE
    return [
        Event(1 * HOUR, "play", play_of_library(ARRIVAL, 20, pauses=[(8 * minutes, 2 * minutes)],
                                                seeks=[(12 * minutes, 11 * minutes)]), label="Arrival"),
        Event(2 * HOUR, "restart", label="Kodi quits and starts again"),
        Event(2 * HOUR + 10 * minutes, "play", play_of_file(BEAR_1, 12), label="The Bear S02E01 (file)"),
        Event(2 * HOUR + 40 * minutes, "scan", action=lambda day: day.library.scan_in(episodes=SCANNED_EPISODES[:1]),
              label="a library scan"),
        Event(3 * HOUR, "remote", action=lambda day: day.simkl.library.watch_movie(
            "Oppenheimer", 2023, {"imdb": "tt15398776", "tmdb": "872585"}), label="a movie marked on simkl.com"),
    ]


# -- the day ---------------------------------------------------------------------------------------------
class Day:
    """Plays a schedule through the real service; `simkl` is the FakeSimkl (on `clock`), `profile` the add-on's
    data folder (empty), `world` the fake Kodi made by fakekodi.reset(profile)."""

    def __init__(self, world, simkl, clock):
        self.world = world
        self.simkl = simkl
        self.clock = clock
        self.library = VideoLibrary(world, LIBRARY_MOVIES, LIBRARY_SHOWS, LIBRARY_EPISODES)
        world.jsonrpc_handlers["JSONRPC.NotifyAll"] = lambda params: "OK"
        for title in FILE_TITLES:
            simkl.search_results[title.search_name] = title.answer
        self.running: Optional[RunningService] = None
        self._callbacks = (0, 0)
        self.day_start = 0.0
        self.run_start = 0.0
        self.next_tick = 0.0  # the running service's next hourly sync (its loop's waitForAbort(3600))
        self.syncs = 0
        self.log: List[str] = []
        self.first_request = 0  # requests before the day (the login's first sync) are not the day's
        self.first_watch = 0

    # -- before the day ---------------------------------------------------------------------------------
    def before(self):
        """Yesterday: a user of Simkl who logged in and let the first full sync run; then Kodi quit."""
        simkl = self.simkl
        simkl.library.watch_movie("Inception", 2010, {"imdb": "tt1375666", "tmdb": "27205"})
        simkl.library.watch_episodes("The Office", 2005, {"tvdb": "73244", "imdb": "tt0386676"},
                                     [(1, n) for n in range(1, 7)] + [(2, n) for n in range(1, 23)])
        simkl.library.watch_episodes("Severance", 2022, {"tvdb": "371980", "imdb": "tt11280740"}, [])
        log_in(self.world, simkl)
        self._start()
        self._pass(SYNC_AFTER_START + 1)
        assert self.running.service.sync.completed >= 1, "the first sync did not run"
        self._stop()
        self.syncs = 0
        self.clock.advance(10 * HOUR)  # the night
        self.first_request = len(simkl.requests)
        self.first_watch = len(simkl.watches)

    # -- the day ----------------------------------------------------------------------------------------
    def run(self, events: List[Event], hours: float = 24.0):
        self.day_start = self.clock.time()
        self._start()
        for event in sorted(events, key=lambda e: e.at):
            self._pass_until(self.day_start + event.at)
            self.log.append("%5.2f h  %s" % (event.at / HOUR, event.label or event.kind))
            if event.kind == "play":
                self._play(event.play)
            elif event.kind == "restart":
                self._stop()
                self.clock.advance(MINUTE)
                self._start()
            else:
                event.action(self)
                if event.kind == "scan":
                    self._due(SYNC_AFTER_SCAN)
        self._pass_until(self.day_start + hours * HOUR)
        self._stop()

    def requests(self):
        """Every request Simkl received during the day."""
        return self.simkl.requests[self.first_request:]

    def watches(self):
        """The history entries Simkl made during the day (by /sync/history or a live stop)."""
        return self.simkl.watches[self.first_watch:]

    def problems(self, events: List[Event]) -> List[str]:
        """What went wrong: a breach of Simkl's rules the fake saw, a watch that did not arrive exactly once,
        or a title stopped early that arrived as watched."""
        found = ["Simkl's rules: " + violation for violation in self.simkl.violations]
        finished = sum(play.finished() for event in events if event.kind == "play" for play in [event.play])
        keys = Counter(watch.key for watch in self.watches())
        if len(keys) != finished:
            found.append("%d titles played to their end, %d distinct watches on Simkl: %s"
                         % (finished, len(keys), sorted(keys)))
        found += ["%s arrived %d times" % (key, number) for key, number in keys.items() if number > 1]
        return found

    # -- the service's life -----------------------------------------------------------------------------
    def _start(self):
        self._callbacks = (len(self.world.monitors), len(self.world.players))
        self.running = RunningService(self.world, self.clock).start()
        self.running.idle()
        self.run_start = self.clock.time()
        self.next_tick = self.run_start + HOUR
        self._due(SYNC_AFTER_START)

    def _stop(self):
        assert self._finish_sync(), "the sync did not finish"
        self.running.idle()
        self.syncs += self.running.service.sync.completed
        self.running.stop()
        self.running = None
        # Kodi quit: the next start is a new interpreter, the stopped run's monitor and players hear nothing more
        del self.world.monitors[self._callbacks[0]:], self.world.players[self._callbacks[1]:]

    def _due(self, delay):
        """A sync the service asked for `delay` s from now (its start, a scan's end): time passes until it ran."""
        self._pass(delay)

    def _pass_until(self, moment):
        self._pass(max(0.0, moment - self.clock.time()))

    def _pass(self, seconds):
        """Time passes with nothing playing: the hourly syncs fall due, each sync runs when due."""
        end = self.clock.time() + seconds
        while self.clock.time() < end:
            now = self.clock.time()
            self.clock.advance(min(STEP, end - now, self.next_tick - now if self.next_tick > now else STEP))
            self._tick_if_due()
            self._let_sync_run()

    def _tick_if_due(self):
        if self.clock.time() >= self.next_tick:
            self.next_tick += HOUR
            self.running.service.sync.request()  # the service loop's hourly request

    def _let_sync_run(self):
        """Wake the sync's thread to look at its timers (on virtual time), and let a sync due now run to its end."""
        assert self._finish_sync(), "the sync did not finish"
        self.running.idle()

    def _finish_sync(self, timeout=30.0):
        """Let a sync due now run to its end; True once none runs or is due (False: still running at timeout)."""
        runner = self.running.service.sync
        runner.wake()

        def settled():
            due = runner.due_at()
            return not runner.running and (due is None or due > self.clock.time())
        return wait_for(settled, timeout)

    # -- playback ---------------------------------------------------------------------------------------
    def _play(self, play: Play):
        service = self.running
        fakekodi.open_file(fakekodi.PlayingFile(play.tag(), play.path, play.total, play.start))
        service.live_step()
        while play is not None:
            marks = sorted([(at, "pause", length) for at, length in play.pauses]
                           + [(at, "seek", to) for at, to in play.seeks])
            for at, what, value in marks:
                self._play_to(at)
                if what == "pause":
                    fakekodi.pause()
                    self._wait(value)
                    fakekodi.resume()
                else:
                    fakekodi.seek(value)
                    self._wait(1.0)
            self._play_to(play.stop_at if play.stop_at is not None else play.total)
            ended = play.stop_at is None
            following = play.then if ended else None
            if ended and play.library is not None:
                self._count_play(play.library)
            next_file = fakekodi.PlayingFile(following.tag(), following.path, following.total, following.start) \
                if following is not None else None
            fakekodi.close_file(ended, next_file)
            service.live_step()
            play = following
        service.idle()
        assert self._finish_sync(), "the sync did not finish"

    def _count_play(self, key):
        """Kodi's own database keeps the watch: the library row's playcount (fakekodi raises the one it
        announces in the same moment)."""
        kind, dbid = key
        table = self.library.movies if kind == "movie" else self.library.episodes
        table[dbid]["playcount"] = self.world.playcounts.get(key, 0) + 1
        table[dbid]["lastplayed"] = "2026-05-29 20:00:00"

    def _play_to(self, target):
        """Playback runs on to `target` media seconds: a sample a minute, the hourly syncs on time."""
        service = self.running
        while self.world.player.position < target:
            step = min(MINUTE, target - self.world.player.position)
            self.world.player.position += step
            self.clock.advance(step)
            service.player.sample()
            service.live_step()
            self._on_time()

    def _wait(self, seconds):
        """Paused (or just after a seek): time passes, the position stays."""
        end = self.clock.time() + seconds
        while self.clock.time() < end:
            self.running.wait(min(MINUTE, end - self.clock.time()))
            self._on_time()

    def _on_time(self):
        """While something plays: an hourly sync falls due as it would, and runs before the playback goes on
        (the same order every run); one with writes for Kodi waits for the playback's end to make them."""
        if self.clock.time() >= self.next_tick:
            self._tick_if_due()
            self._finish_sync(timeout=SYNC_WRITES_WAIT)


def endpoint(record) -> str:
    """A request's method and path, without ids (a path part that is a number or a code) or query."""
    parts = ["{id}" if re.fullmatch(r"[0-9]+|[A-Z0-9-]{4,}", part) else part for part in record.path.split("/")]
    return "%s %s" % (record.method, "/".join(parts))


def by_endpoint(requests) -> Counter:
    return Counter(endpoint(record) for record in requests)


def profile_folder(root):
    path = os.path.join(root, "addon_data")
    os.makedirs(path, exist_ok=True)
    return path
