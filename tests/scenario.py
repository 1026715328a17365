"""Shared set-up for service-level tests: a virtual clock, a small Kodi library, playing items, the service."""
import json
import os
import sqlite3
import threading
import time

from virtual_time import VirtualClock
from xbmc import InfoTagVideo

import fakekodi
from lib.scrobbler import config

Clock = VirtualClock  # the name the scenarios use


def iso(timestamp):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(timestamp)))


MOVIE = {"movieid": 1, "title": "Inception", "year": 2010, "uniqueid": {"imdb": "tt1375666", "tmdb": "27205"},
         "file": "/media/movies/Inception (2010)/Inception.mkv"}
SHOW = {"tvshowid": 3, "title": "The Last of Us", "year": 2023,
        "uniqueid": {"tvdb": "392256", "imdb": "tt3581920", "tmdb": "100088"}}
EPISODE = {"episodeid": 7, "tvshowid": 3, "title": "Long, Long Time", "season": 1, "episode": 3,
           "uniqueid": {"tvdb": "8444132"}, "file": "/media/tv/The Last of Us/Season 1/S01E03.mkv"}


def install_library(world, movies=(MOVIE,), shows=(SHOW,), episodes=(EPISODE,)):
    """Answer the VideoLibrary.* JSON-RPC calls the add-on makes, like Kodi's library would."""
    def movie_details(params):
        found = [m for m in movies if m["movieid"] == params["movieid"]]
        return {"moviedetails": dict(found[0], label=found[0]["title"])} if found else None

    def episode_details(params):
        found = [e for e in episodes if e["episodeid"] == params["episodeid"]]
        return {"episodedetails": dict(found[0], label=found[0]["title"])} if found else None

    def show_details(params):
        found = [s for s in shows if s["tvshowid"] == params["tvshowid"]]
        return {"tvshowdetails": dict(found[0], label=found[0]["title"])} if found else None

    world.jsonrpc_handlers.update({"VideoLibrary.GetMovieDetails": movie_details,
                                   "VideoLibrary.GetEpisodeDetails": episode_details,
                                   "VideoLibrary.GetTVShowDetails": show_details,
                                   "JSONRPC.NotifyAll": lambda params: "OK"})


def movie_tag(movie=MOVIE):
    # Kodi's tag carries only the default unique id; the add-on must ask the library for the rest.
    return InfoTagVideo(media_type="movie", title=movie["title"], year=movie["year"], dbid=movie["movieid"],
                        uniqueids={"imdb": movie["uniqueid"]["imdb"]}, path=movie["file"],
                        default_id=movie["uniqueid"]["imdb"])


def episode_tag(episode=EPISODE, show=SHOW):
    return InfoTagVideo(media_type="episode", title=episode["title"], dbid=episode["episodeid"],
                        uniqueids=dict(episode["uniqueid"]), showtitle=show["title"], season=episode["season"],
                        episode=episode["episode"], path=episode["file"],
                        default_id=episode["uniqueid"]["tvdb"])


def log_in(world, simkl, account_type="pro"):
    """A stored V1 login, as `default.py login` and the service's mirror of it leave it."""
    token = simkl.issue_token()
    simkl.account.type = account_type
    path = os.path.join(world.profile_dir, "token.json")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"access_token": token, "flow": "v1", "user_name": simkl.account.name,
                   "account_type": account_type}, handle)
    world.set_setting("logged_in", True)
    world.set_setting("account_type", account_type)
    kind = world.string({"free": 32022, "pro": 32023, "vip": 32024}[account_type])
    world.set_setting("account_status", "%s (%s)" % (world.string(32021) % simkl.account.name, kind))
    return token


class RunningService:
    """The real service loop in a thread, as Kodi runs service.py."""

    def __init__(self, world, clock):
        from lib.scrobbler.service import Service
        self.world = world
        self.clock = clock
        self.service = Service(clock=clock.wall, sleep=clock.sleep, steady=clock.time, rng=lambda: 1.0)
        self.player = self.service.player
        self.thread = threading.Thread(target=self.service.run, daemon=True)

    def start(self):
        """Start the loop and return once its start-up is done and the worker has made the queue."""
        self.thread.start()
        assert wait_for(lambda: self.service.worker.started()), "the service did not start"
        return self

    def stop(self, within=1.0):
        """Kodi's abort: the loop must be gone within a second."""
        self.world.abort.set()
        started = time.monotonic()
        self.thread.join(5)
        elapsed = time.monotonic() - started
        assert not self.thread.is_alive(), "service did not leave its loop"
        assert elapsed < within, "service took %.2f s to stop" % elapsed
        self.world.abort = threading.Event()  # the next Kodi start

    def play(self, tag, path, total, stop_at=None, ended=True, properties=None, step=60.0, source=None,
             next_file=None):
        """Play an item as Kodi does (fakekodi.open_file / close_file / skip_to): samples every `step` s of
        media time up to `stop_at`, then it ends or stops; with next_file a playlist moves on to that
        file, at the end or (not ended) by a skip."""
        if self.world.player is None or self.world.player.path != path:
            fakekodi.open_file(fakekodi.PlayingFile(tag, path, total, 0.0, properties, source))
            self.live_step()
        self.play_to(total if stop_at is None else stop_at, step)
        if next_file is not None and not ended:
            fakekodi.skip_to(next_file)
        else:
            fakekodi.close_file(ended, next_file)
        self.live_step()

    def play_to(self, target, step=60.0):
        """Let what plays run on to `target` seconds: a sample every `step` s of media time, each seen
        by the live scrobbler at that moment."""
        position = self.world.player.position
        while position < target:
            position = min(target, position + step)
            self.world.player.position = position
            self.clock.advance(step)
            self.player.sample()
            self.live_step()

    def wait(self, seconds):
        """Time passes with nothing playing on (a pause): the live scrobbler sees the moment after."""
        self.clock.advance(seconds)
        self.live_step()

    def live_step(self):
        """Let the live scrobbler act on what is due at this virtual moment, and wait until it has."""
        assert wait_for(lambda: live_idle(self.service.live)), "the live scrobbler is stuck"

    def settle_marks(self):
        """Let the service's wait for more library marks run out, so it sends what it queued."""
        from lib.scrobbler.delivery.settle import MARKS_SETTLE
        self.idle()
        self.clock.advance(MARKS_SETTLE)
        self.service.kick()
        self.idle()

    def retry_now(self):
        self.service.notification(config.ADDON_ID, "Other." + config.FLUSH_MESSAGE, "")

    def idle(self, timeout=5.0):
        """Wait until the worker (and the live scrobbler) have handled everything due so far."""
        assert wait_for(lambda: not self.service.busy() and live_idle(self.service.live), timeout), \
            "the service worker is stuck"


def live_idle(live):
    """The live scrobbler has nothing due now. It waits for what is due next on real time, and virtual
    time may move meanwhile (the worker's POST pacing sleeps on it): wake it to look again first, as
    time passing would."""
    live.kick()
    return not live.busy()


def wait_for(condition, timeout=5.0):
    """Wait for something another thread does (the service worker), not for time to pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.005)
    return condition()


def sync_now(service, full=False, timeout=30.0):
    """Run one sync of a RunningService to its end (the runner's thread, woken as its timer would)."""
    runner = service.service.sync
    before = runner.completed
    runner.request(full=full)
    runner.wake()
    assert wait_for(lambda: runner.completed > before and not runner.running, timeout), "the sync did not finish"
    service.idle()


def sqlite_full_error(folder):
    """The error SQLite raises when its file cannot grow, as on a full disk, made for real: a file held to
    its size by PRAGMA max_page_count."""
    conn = sqlite3.connect(os.path.join(folder, "held.db"))
    try:
        conn.execute("CREATE TABLE t (x)")
        conn.execute("PRAGMA max_page_count = %d" % conn.execute("PRAGMA page_count").fetchone()[0])
        try:
            conn.execute("INSERT INTO t VALUES (?)", ("x" * 10000,))
        except sqlite3.OperationalError as exc:
            return exc
    finally:
        conn.close()
    raise AssertionError("the file grew past max_page_count")


def sqlite_error_saying_full(folder):
    """A real sqlite3 error whose words say "full" but whose cause is another: a table that does not exist."""
    conn = sqlite3.connect(os.path.join(folder, "other.db"))
    try:
        conn.execute("SELECT * FROM full_history")
    except sqlite3.OperationalError as exc:
        return exc
    finally:
        conn.close()
    raise AssertionError("full_history exists")
