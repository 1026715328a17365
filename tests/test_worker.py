"""The delivery worker (delivery/worker.py) on its own: a real outbox file, the real sender talking to the
fake Simkl on 127.0.0.1, the virtual clock; driven only through what the worker offers."""
import sqlite3
import threading

import pytest

from lib.scrobbler.delivery.flush import ERR_NETWORK, Flusher
from lib.scrobbler.delivery.outbox import Outbox
from lib.scrobbler.delivery.session_ids import SessionWatch
from lib.scrobbler.delivery.settle import MARKS_SETTLE
from lib.scrobbler.delivery.worker import FAILURE_RETRY_CAP, DeliveryWorker
from lib.scrobbler.media import Movie
from lib.scrobbler.playback.resolve import Lookup
from lib.scrobbler.simkl import api, auth
from scenario import wait_for

HISTORY = "/sync/history"


def movie(n):
    return Movie("Movie %d" % n, 2000 + n, {"imdb": "tt%07d" % n})


def report(n):
    return {"media_type": "movie", "dbid": n, "label": "movie %d" % n}


class Rig:
    """A worker with its parts; lookup answers from `titles` (report label -> Lookup)."""

    def __init__(self, tmp_path, server, clock, logged_in=True):
        store = auth.TokenStore(str(tmp_path / "profile"))
        if logged_in:
            store.save({"access_token": server.issue_token("access-%d"), "flow": "v1"})
        self.store = store
        tokens = auth.TokenProvider(store, clock=clock)
        self.client = api.Client(server.url, server.client_id, "kodi-simkl", "0.1.0", "20.1", tokens=tokens,
                                 clock=clock, sleep=clock.sleep)
        tokens.client = self.client
        self.outbox = Outbox(str(tmp_path / "outbox.db"), clock=clock)
        self.clock = clock
        self.titles = {}
        self.lookups = []
        self.storage = []
        self.heard = []
        self.stopping = threading.Event()
        self.session = None
        self._flusher = None
        self.worker = DeliveryWorker(outbox=lambda: self.outbox, flusher=self.flusher, lookup=self.lookup,
                                     session_of=lambda entry, found: self.session, steady=clock, rng=lambda: 1.0,
                                     logged_in=lambda: bool(store.load()), hold_posts=self.client.hold_posts,
                                     stopping=self.stopping, on_storage=self.storage.append)
        self.worker.subscribe(self.heard.append)

    def flusher(self):
        if self._flusher is None:
            self._flusher = Flusher(self.outbox, self.client, clock=self.clock, rng=lambda: 1.0,
                                    before_batch=self.worker.before_batch, on_sent=self.worker.sent)
        return self._flusher

    def lookup(self, stored):
        self.lookups.append(stored["label"])
        answer = self.titles.get(stored["label"], Lookup(None, "nothing known"))
        if isinstance(answer, Exception):
            raise answer
        return answer

    def idle(self):
        assert wait_for(lambda: not self.worker.busy()), "the worker is stuck"

    def wake_when_due(self):
        """Let virtual time reach what the worker waits for, and wake it as that moment would."""
        due = self.worker.next_due()
        if due is not None:
            self.clock.advance(due - self.clock())
        self.worker.kick()
        self.idle()

    def close(self):
        self.stopping.set()
        self.worker.stop()
        self.outbox.close()


@pytest.fixture
def rig(tmp_path, server, clock, kodi):
    made = []

    def make(**kwargs):
        made.append(Rig(tmp_path, server, clock, **kwargs))
        made[-1].worker.start()
        made[-1].idle()
        return made[-1]
    yield make
    for one in made:
        one.close()


def sent_movies(server):
    return [[m["title"] for m in r.json.get("movies", [])] for r in server.requests_to(HISTORY)]


def test_a_committed_watch_is_found_sent_and_announced_once(rig, server):
    r = rig()
    r.titles["movie 1"] = Lookup(movie(1))

    entry_id = r.worker.commit_watch(report(1), r.clock())
    r.worker.watch_committed()
    r.idle()

    assert entry_id is not None
    assert sent_movies(server) == [["Movie 1"]]
    assert r.heard == [[movie(1)]]
    assert r.worker.next_due() is None


def test_every_subscriber_hears_what_simkl_took(rig):
    r = rig()
    also = []
    r.worker.subscribe(also.append)
    r.titles["movie 1"] = Lookup(movie(1))

    r.worker.commit_watch(report(1), r.clock())
    r.worker.watch_committed()
    r.idle()

    assert r.heard == also == [[movie(1)]]


def test_removals_and_rewatches_are_sent_but_not_announced_as_watched(rig, server):
    r = rig()
    r.titles["movie 1"] = Lookup(movie(1))
    r.titles["movie 2"] = Lookup(movie(2))
    r.session = SessionWatch("rw-1", ("pending:x", "rw-1"))

    r.worker.commit_mark(report(1), r.clock(), "remove")
    r.worker.commit_watch(report(2), r.clock())  # a watch that continues a rewatch session
    r.worker.watch_committed()
    r.wake_when_due()
    r.wake_when_due()

    assert server.requests_to(HISTORY + "/remove") and server.requests_to(HISTORY)
    assert r.heard == []


def test_marks_that_keep_coming_go_in_one_request_once_they_stop(rig, server):
    r = rig()
    for n in range(1, 6):
        r.titles["movie %d" % n] = Lookup(movie(n))
        r.worker.commit_mark(report(n), r.clock(), "add")
        r.idle()
        r.clock.advance(MARKS_SETTLE / 2)  # the next mark comes before the wait ran out
        r.worker.kick()
        r.idle()
        assert server.requests_to(HISTORY) == []

    r.wake_when_due()

    assert sent_movies(server) == [["Movie %d" % n for n in range(1, 6)]]
    assert r.heard == [[movie(n) for n in range(1, 6)]]


def test_a_lookup_that_fails_is_logged_once_and_tried_again_with_backoff_then_recovers(rig, server, kodi):
    r = rig()
    r.titles["movie 1"] = RuntimeError("JSON-RPC went away")
    first_failure = r.clock()
    r.worker.commit_watch(report(1), r.clock())
    r.worker.watch_committed()
    r.idle()

    retry_at = r.worker.next_due()
    assert retry_at is not None and r.clock() < retry_at <= r.clock() + FAILURE_RETRY_CAP
    r.worker.watch_committed()  # a watch's or a mark's job before the retry is due does nothing
    r.worker.commit_mark(report(2), r.clock(), "add")
    r.idle()
    assert r.worker.next_due() == retry_at and r.lookups == ["movie 1"]

    r.clock.advance(retry_at - r.clock())
    r.worker.kick()
    r.idle()  # the same failure again: not logged again, the wait grows
    assert r.worker.next_due() - r.clock() > retry_at - first_failure
    assert kodi.log_text().count("JSON-RPC went away") == 1

    r.titles["movie 1"] = Lookup(movie(1))
    r.titles["movie 2"] = Lookup(movie(2))
    r.worker.retry_now()  # the user asked: a send job goes at once, whatever the wait
    r.idle()
    r.wake_when_due()  # the mark's wait
    assert sent_movies(server) == [["Movie 1", "Movie 2"]]
    assert "working again after 2 failed attempts" in kodi.log_text()


def test_a_title_the_file_search_could_not_be_asked_about_is_looked_up_again_later(rig, server):
    r = rig()
    r.titles["movie 1"] = Lookup(None, "file search unavailable (ConnectionError)", unavailable=True)
    r.worker.commit_watch(report(1), r.clock())
    r.worker.watch_committed()
    r.idle()

    assert list(r.outbox.waiting_states().values()) == [("unresolved", 1, ERR_NETWORK)]
    assert r.outbox.next_unresolved_due() > r.clock()
    assert r.lookups == ["movie 1"]
    r.titles["movie 1"] = Lookup(movie(1))
    r.wake_when_due()
    assert r.lookups == ["movie 1", "movie 1"]
    assert sent_movies(server) == [["Movie 1"]]


def test_a_title_nobody_knows_waits_for_the_user_and_stops_nothing_else(rig, server):
    r = rig()
    r.titles["movie 2"] = Lookup(movie(2))
    r.worker.commit_watch(report(1), r.clock())
    r.worker.commit_watch(report(2), r.clock())
    r.worker.watch_committed()
    r.idle()

    (attention,) = r.outbox.attention()
    assert attention.reason == "nothing known"
    assert sent_movies(server) == [["Movie 2"]]


def test_a_watch_the_disk_cannot_take_is_kept_in_memory_and_saved_once_there_is_room(rig, server):
    r = rig()
    r.titles["movie 1"] = Lookup(movie(1))
    add = r.outbox.add_unresolved
    full = sqlite3.OperationalError("database or disk is full")

    def no_room(*args):
        raise full
    r.outbox.add_unresolved = no_room
    assert r.worker.commit_watch(report(1), r.clock()) is None
    assert r.storage[-1] is full
    assert r.worker.next_due() is not None  # it wants to save what waits in memory

    r.outbox.add_unresolved = add  # room again
    r.worker.watch_committed()
    r.idle()
    assert sent_movies(server) == [["Movie 1"]]
    assert r.storage[-1] is None


def test_without_a_login_nothing_is_sent_and_a_new_login_waits_a_second_before_its_first_post(rig, server):
    r = rig(logged_in=False)
    r.titles["movie 1"] = Lookup(movie(1))
    r.worker.commit_watch(report(1), r.clock())
    r.worker.watch_committed()
    r.idle()
    assert server.requests_to(HISTORY) == [] and r.outbox.counts()["pending"] == 1

    r.store.save({"access_token": server.issue_token("access-%d"), "flow": "v1"})
    before = r.clock()
    r.worker.kick()
    r.idle()
    assert sent_movies(server) == [["Movie 1"]]
    assert r.clock() - before >= 1.0  # the login script POSTed a moment ago: the first POST is spaced
    assert server.violations == []


def test_the_worker_leaves_within_half_a_second_when_kodi_quits(rig):
    r = rig()
    r.stopping.set()
    r.worker.stop(wait=0.5)

    assert not r.worker.is_alive()
