"""The sync's write phase costs Kodi little beyond its own work: the progress bar (whose spinning image makes
Kodi redraw every frame) stays up only for a short sync, nothing waits between two batches, and the look at
Kodi's scanning state (which waits for the GUI lock) is taken at most once a second. It still never writes
while a video plays and stops at Kodi's quit."""
import threading

import pytest
import xbmc
from videolibrary import VideoLibrary
from xbmc import InfoTagVideo

import fakekodi
from lib.scrobbler.sync import runner as runner_module
from lib.scrobbler.sync.runner import PROGRESS_SHOWN, SyncRunner
from scenario import RunningService, log_in, sync_now

WATCHED_AT = "2026-05-01T20:00:00Z"


def big_first_sync(kodi, server, clock, count, seconds_per_write):
    """A first sync of `count` movies Simkl has watched; each write takes Kodi `seconds_per_write`."""
    kodi.set_setting("sync_from_simkl", True)
    movies = [{"movieid": n, "title": "Movie %d" % n, "year": 2000, "uniqueid": {"imdb": "tt%07d" % n}}
              for n in range(1, count + 1)]
    library = VideoLibrary(kodi, movies=movies)
    for movie in movies:
        server.library.watch_movie(movie["title"], 2000, movie["uniqueid"], WATCHED_AT)
    real = kodi.jsonrpc_handlers["VideoLibrary.SetMovieDetails"]

    def kodi_writes(params):
        clock.advance(seconds_per_write)
        return real(params)
    kodi.jsonrpc_handlers["VideoLibrary.SetMovieDetails"] = kodi_writes
    log_in(kodi, server)
    running = RunningService(kodi, clock).start()
    try:
        sync_now(running)
    finally:
        running.stop()
    return library


def test_a_long_first_sync_puts_its_progress_bar_away_after_a_while_and_tells_its_end(kodi, server, clock):
    library = big_first_sync(kodi, server, clock, 3000, 0.01)  # 30 s of Kodi's writes

    assert sum(1 for m in library.movies.values() if m["playcount"] == 1) == 3000
    events = [event for event, _, _ in kodi.background_progress]
    assert events[0] == "create" and events.count("close") == 1
    updates_shown = events.index("close") - 1
    assert 0 < updates_shown < 3000 / 50 * PROGRESS_SHOWN / 30 + 3  # closed about PROGRESS_SHOWN s in
    told = [(heading, message) for heading, message, _ in kodi.notifications]
    assert told[0][0] == "Syncing with Simkl…" and told[0][1].endswith(" % done; it goes on quietly")
    assert told[-1] == ("Simkl", "Sync done: 3000 marked in Kodi")


def test_a_short_first_sync_keeps_its_progress_bar_to_the_end_and_says_nothing_more(kodi, server, clock):
    library = big_first_sync(kodi, server, clock, 300, 0.01)  # 3 s

    assert sum(1 for m in library.movies.values() if m["playcount"] == 1) == 300
    events = [(event, percent) for event, percent, _ in kodi.background_progress]
    assert events[-2:] == [("update", 100), ("close", 100)]
    assert kodi.notifications == []


class Gate:
    """A SyncRunner's idle gate on its own, with a Kodi whose player and scanning state the test sets."""

    def __init__(self, kodi, clock):
        self.stopping = RecordingEvent()
        self.looks = 0
        real = fakekodi.world().conditions

        class Looked(dict):
            def get(inner, key, default=None):
                if key == "Library.IsScanningVideo":
                    self.looks += 1
                return dict.get(inner, key, default)
        kodi.conditions = Looked(real)
        self.runner = SyncRunner(None, None, kodi.profile_dir, None, xbmc.Player(), self.stopping,
                                 on_queued=lambda: None, clock=clock)


class RecordingEvent(threading.Event):
    def __init__(self):
        super().__init__()
        self.waits = []

    def wait(self, timeout=None):
        self.waits.append(timeout)
        return super().wait(0)


def test_nothing_waits_between_two_batches_and_kodis_scanning_state_is_looked_at_once_a_second(kodi, clock):
    gate = Gate(kodi, clock)

    assert all(gate.runner.wait_idle() for _ in range(20))

    assert gate.stopping.waits == [] and gate.looks == 1
    clock.advance(runner_module.SCAN_LOOK)
    assert gate.runner.wait_idle() and gate.looks == 2


def test_a_scan_seen_holds_the_writes_until_it_ends(kodi, clock):
    gate = Gate(kodi, clock)
    kodi.conditions["Library.IsScanningVideo"] = True

    def scan_ends(timeout=None):
        gate.stopping.waits.append(timeout)
        kodi.conditions["Library.IsScanningVideo"] = False
        clock.advance(timeout)
        return False
    gate.stopping.wait = scan_ends

    assert gate.runner.wait_idle()
    assert gate.stopping.waits == [runner_module.IDLE_CHECK]


@pytest.mark.parametrize("paused", [False, True])
def test_a_playing_video_holds_every_batch_and_quitting_ends_the_wait(kodi, clock, paused):
    gate = Gate(kodi, clock)
    fakekodi.open_file(fakekodi.PlayingFile(InfoTagVideo(media_type="movie", title="X"), "/x.mkv", 7200))
    if paused:
        fakekodi.pause()
    gate.stopping.set()

    assert gate.runner.wait_idle() is False
