"""The delivery path under faults, through the real service: nothing lost, nothing doubled, no stall."""
import sqlite3
import sys
import threading
import time

import pytest

from lib.scrobbler.delivery.outbox import Outbox
from lib.scrobbler.simkl import api
from lib.scrobbler.simkl.account import current_owner
from scenario import (
    EPISODE,
    MOVIE,
    RunningService,
    episode_tag,
    install_library,
    iso,
    log_in,
    movie_tag,
    sqlite_error_saying_full,
    sqlite_full_error,
    wait_for,
)

OTHER = {"movieid": 2, "title": "Heat", "year": 1995, "uniqueid": {"imdb": "tt0113277", "tmdb": "949"},
         "file": "/media/movies/Heat (1995)/Heat.mkv"}


@pytest.fixture
def started(kodi, server, clock):
    install_library(kodi, movies=(MOVIE, OTHER))
    log_in(kodi, server)
    services = []

    def start():
        services.append(RunningService(kodi, clock).start())
        return services[-1]

    yield start
    server.release()
    for service in services:
        if service.thread.is_alive():
            service.stop(within=5)


def keys(server):
    return sorted(w.key for w in server.watches)


# --- 1. durable at the moment of decision ------------------------------------------------------------

def quit_while_a_send_hangs(started, server):
    """Two movies watched while Simkl takes its time with the first; Kodi quits before it answers, and
    the server answers the cut request after the quit."""
    first = started()
    server.hold("/sync/history")  # Simkl takes its time with the first watch
    first.play(movie_tag(), MOVIE["file"], total=7200)
    assert wait_for(lambda: server.requests_to("/sync/history"))
    first.play(movie_tag(OTHER), OTHER["file"], total=6000)  # ends while the worker waits on Simkl

    first.stop(within=1.0)  # Kodi quits two seconds later: the request in flight is cut
    server.release()


def test_a_watch_finished_while_a_send_hangs_is_kept_and_both_arrive_once_after_a_quit(started, server, kodi,
                                                                                        clock):
    quit_while_a_send_hangs(started, server)
    assert len(kodi.log_text().split("watched 'Heat'")) == 2

    second = started()
    second.idle()
    assert keys(server) == ["movie:imdb=tt0113277", "movie:imdb=tt1375666"]
    assert len([w for w in server.watches if w.key == "movie:imdb=tt1375666"]) == 1


def test_after_a_restart_the_first_post_waits_a_second_for_the_last_run_s_cut_request(started, server, kodi,
                                                                                     clock):
    quit_while_a_send_hangs(started, server)  # Simkl counts the cut request as it answers it
    (held,) = server.requests_to("/sync/history")
    assert wait_for(lambda: held.status != 0)
    api._LAST_POST.clear()  # Kodi's next start is a new interpreter: it has no memory of the last POST

    second = started()
    second.idle()

    assert server.violations == []
    assert keys(server) == ["movie:imdb=tt0113277", "movie:imdb=tt1375666"]


def test_a_watch_is_in_the_outbox_before_the_player_callback_returns(started, kodi, clock):
    service = started()
    service.service.worker.prune()  # keep the worker busy elsewhere: it must not matter
    kodi.jsonrpc_handlers["VideoLibrary.GetMovieDetails"] = lambda params: time.sleep(30)  # a stuck Kodi

    service.play(movie_tag(), MOVIE["file"], total=7200)

    with Outbox(service.service.outbox.path, clock=clock, account=current_owner) as outbox:
        (waiting,) = outbox.unresolved()
    assert (waiting.report["dbid"], waiting.watched_at) == (1, iso(clock.wall()))


# --- 2. the worker never dies ------------------------------------------------------------------------

class FlakyOutbox:
    """The service's outbox, whose disk fails the next `failures` calls of `method` with `error` (its words,
    or a sqlite3 error raised for real)."""

    def __init__(self, outbox, method, error, failures):
        self._outbox, self._method, self._error, self.failures = outbox, method, error, failures

    def __getattr__(self, name):
        real = getattr(self._outbox, name)
        if name != self._method:
            return real

        def flaky(*args, **kwargs):
            if self.failures:
                self.failures -= 1
                raise self._error if isinstance(self._error, sqlite3.Error) else sqlite3.OperationalError(self._error)
            return real(*args, **kwargs)
        return flaky


@pytest.mark.parametrize("method, error", [("unresolved", "disk I/O error"), ("take_batch", "database is locked"),
                                           ("record", "disk I/O error")])
def test_a_storage_error_in_any_step_is_logged_once_and_the_worker_carries_on(started, server, kodi, clock,
                                                                              method, error):
    service = started()
    service.idle()
    flaky = FlakyOutbox(service.service.outbox, method, error, failures=3)
    service.service.outbox = service.service.flusher.outbox = flaky

    service.play(movie_tag(), MOVIE["file"], total=7200)
    service.idle()
    for _ in range(4):
        clock.advance(300)
        service.service.kick()
        service.idle()

    assert service.service.worker.is_alive()
    assert flaky.failures == 0
    assert keys(server) == ["movie:imdb=tt1375666"] and len(server.watches) == 1
    assert kodi.log_text().count(error) == 1


@pytest.mark.skipif(sys.version_info < (3, 11), reason="sqlite3 errors carry SQLite's code from 3.11")
def test_a_full_disk_is_told_once_and_the_watch_is_kept_until_there_is_room(started, server, kodi, clock, tmp_path):
    service = started()
    service.idle()
    flaky = FlakyOutbox(service.service.outbox, "add_unresolved", sqlite_full_error(str(tmp_path)), failures=3)
    service.service.outbox = flaky

    service.play(movie_tag(), MOVIE["file"], total=7200)
    service.play(movie_tag(OTHER), OTHER["file"], total=6000)
    service.idle()
    for _ in range(3):
        clock.advance(300)
        service.service.kick()
        service.idle()

    assert [n[:2] for n in kodi.notifications if "storage" in n[0]] == [
        ("Kodi's storage is full", "New watches wait for room")]
    assert keys(server) == ["movie:imdb=tt0113277", "movie:imdb=tt1375666"]


def test_a_storage_error_whose_words_say_full_is_not_told_as_a_full_disk(started, server, kodi, clock, tmp_path):
    service = started()
    service.idle()
    flaky = FlakyOutbox(service.service.outbox, "add_unresolved", sqlite_error_saying_full(str(tmp_path)),
                        failures=1)
    service.service.outbox = flaky

    service.play(movie_tag(), MOVIE["file"], total=7200)
    service.idle()
    clock.advance(300)
    service.service.kick()
    service.idle()

    assert [n[1] for n in kodi.notifications if "storage" in n[1]] == []
    assert keys(server) == ["movie:imdb=tt1375666"]


def test_a_json_rpc_failure_while_resolving_is_retried_and_the_watch_arrives(started, server, kodi, clock):
    service = started()
    real = kodi.jsonrpc_handlers["VideoLibrary.GetMovieDetails"]
    failures = [RuntimeError("JSON-RPC went away")]

    def flaky(params):
        if failures:
            raise failures.pop()
        return real(params)
    kodi.jsonrpc_handlers["VideoLibrary.GetMovieDetails"] = flaky

    service.play(movie_tag(), MOVIE["file"], total=7200)
    service.idle()
    assert server.watches == []
    clock.advance(300)
    service.service.kick()
    service.idle()

    assert keys(server) == ["movie:imdb=tt1375666"]
    assert service.service.worker.is_alive()


# --- 7. clocks ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("jump", [-86400, 86400])
def test_a_wall_clock_jump_neither_stretches_a_wait_nor_ends_it_early(started, server, clock, jump):
    service = started()
    server.fail("/sync/history", 503, retry_after="600")
    service.play(movie_tag(), MOVIE["file"], total=7200)
    watched = clock.wall()
    service.idle()

    clock.jump(jump)
    clock.advance(599)
    service.service.kick()
    service.idle()
    assert server.watches == []  # not early
    clock.advance(1)
    service.service.kick()
    service.idle()

    assert [w.watched_at for w in server.watches] == [iso(watched)]  # not stretched, real watched_at


def test_watched_at_is_the_wall_clock_moment_of_the_watch(started, server, clock):
    service = started()
    clock.jump(-3 * 3600)  # the user set the clock to another zone's time

    service.play(episode_tag(), EPISODE["file"], total=3000)
    service.idle()

    assert [w.watched_at for w in server.watches] == [iso(clock.wall())]


def test_the_worker_thread_is_alive_after_a_bug_in_a_job(started, server, kodi, clock):
    service = started()
    service.idle()
    outbox = service.service.outbox
    outbox.prune = lambda: {}["a bug"]  # a job that raises what nobody expected
    service.service.worker.prune()
    service.idle()

    service.play(movie_tag(), MOVIE["file"], total=7200)
    service.idle()
    assert service.service.worker.is_alive() and len(server.watches) == 1
    assert threading.active_count() > 0
