"""The delivery worker (delivery/worker.py) on its own: a real outbox file, the real sender talking to the
fake Simkl on 127.0.0.1, the virtual clock; driven only through what the worker offers."""
import sqlite3
import threading
import time

import pytest
import xbmc

from lib.scrobbler.delivery.flush import ERR_NETWORK, Flusher
from lib.scrobbler.delivery.outbox import Outbox
from lib.scrobbler.delivery.session_ids import SessionWatch
from lib.scrobbler.delivery.settle import MARKS_SETTLE
from lib.scrobbler.delivery.worker import FAILURE_RETRY_CAP, DeliveryWorker
from lib.scrobbler.media import Episode, Movie
from lib.scrobbler.playback.resolve import Lookup
from lib.scrobbler.simkl import api, auth
from scenario import wait_for

HISTORY = "/sync/history"
PREFIX = "[service.scrobbler.simkl] "
CANNOT_OPEN = sqlite3.OperationalError("unable to open database file")


def movie(n):
    return Movie("Movie %d" % n, 2000 + n, {"imdb": "tt%07d" % n})


def report(n):
    return {"media_type": "movie", "dbid": n, "label": "movie %d" % n}


def episode(n):
    return Episode("Show", 1, n, 2010, {"tvdb": "81189"})


def logged(kodi, level=None):
    """The add-on's log lines (at `level`, or all), without the add-on's prefix."""
    return [message[len(PREFIX):] for at, message in kodi.log
            if message.startswith(PREFIX) and (level is None or at == level)]


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
        self.outbox_fails = 0  # how many times the outbox cannot be opened yet
        self.clock = clock
        self.titles = {}
        self.lookups = []
        self.storage = []
        self.heard = []
        self.attention = []  # what the worker announced as put under Needs attention, one list per pass
        self.stopping = threading.Event()
        self.session = None
        self._flusher = None
        self.worker = DeliveryWorker(outbox=self.open_outbox, flusher=self.flusher, lookup=self.lookup,
                                     session_of=lambda entry, found: self.session, steady=clock, rng=lambda: 1.0,
                                     logged_in=lambda: bool(store.load()), hold_posts=self.client.hold_posts,
                                     stopping=self.stopping, on_storage=self.storage.append)
        self.worker.subscribe(self.heard.append)
        self.worker.subscribe_attention(self.attention.append)

    def open_outbox(self):
        if self.outbox_fails:
            self.outbox_fails -= 1
            raise CANNOT_OPEN
        return self.outbox

    def flusher(self):
        if self._flusher is None:
            self._flusher = Flusher(self.outbox, self.client, clock=self.clock, rng=lambda: 1.0,
                                    before_batch=self.worker.before_batch, on_sent=self.worker.sent,
                                    on_attention=self.worker.needs_attention)
        return self._flusher

    def lookup(self, stored):
        self.lookups.append(stored.get("label"))
        answer = self.titles.get(stored.get("label"), Lookup(None, "nothing known"))
        if isinstance(answer, Exception):
            raise answer
        return answer(stored) if callable(answer) else answer

    def watch(self, stored):
        """A watch from playback committed as Kodi's thread does, and its job done: its entry id."""
        entry_id = self.worker.commit_watch(stored, self.clock())
        self.worker.watch_committed()
        self.idle()
        return entry_id

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

    def make(start=True, **kwargs):
        made.append(Rig(tmp_path, server, clock, **kwargs))
        if start:  # else the test starts it, after it filled the outbox as an earlier run left it
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

    entry_id = r.watch(report(1))

    assert entry_id is not None
    assert sent_movies(server) == [["Movie 1"]]
    assert r.heard == [[movie(1)]]
    assert r.worker.next_due() is None


def test_every_subscriber_hears_what_simkl_took(rig):
    r = rig()
    also = []
    r.worker.subscribe(also.append)
    r.titles["movie 1"] = Lookup(movie(1))

    r.watch(report(1))

    assert r.heard == also == [[movie(1)]]


def test_removals_and_rewatches_are_sent_but_not_announced_as_watched(rig, server, kodi):
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
    # the session is the rewatch of watches only: an unmark is an ordinary removal
    assert [line for line in logged(kodi, xbmc.LOGINFO) if line.startswith("queued")] == [
        "queued Movie 1 (2001) as unwatched", "queued Movie 2 (2002) as part of its rewatch session"]


def test_a_rating_simkl_took_is_never_announced_as_a_watch_and_one_it_refused_is_told_like_a_watch(rig, server):
    r = rig()
    server.unknown_ids.add("imdb=tt0000002")
    r.outbox.add_rating(movie(1), 8)
    r.outbox.add_rating(movie(2), 7)
    r.outbox.add_rating(movie(3), 0)

    r.worker.kick()
    r.idle()

    assert len(server.requests_to("/sync/ratings")) == 1 and len(server.requests_to("/sync/ratings/remove")) == 1
    assert r.heard == []  # "Sent to Simkl" (and a rating prompt) hear of watches only
    assert [[(item.label, item.by_simkl) for item in one] for one in r.attention] == [[("Movie 2 (2002)", True)]]


def test_what_simkl_refuses_in_one_pass_is_announced_once_with_each_entry(rig, server):
    r = rig()
    server.refused_ids.update({"imdb=tt0000001", "imdb=tt0000003"})
    server.unknown_ids.add("imdb=tt0000002")
    for n in (1, 2, 3, 4):
        r.outbox.add(movie(n))

    r.worker.kick()
    r.idle()

    assert [[(item.label, item.by_simkl) for item in one] for one in r.attention] == [
        [("Movie 1 (2001)", True), ("Movie 2 (2002)", True), ("Movie 3 (2003)", True)]]
    assert r.outbox.attention_count() == 3
    r.worker.kick()
    r.idle()
    assert len(r.attention) == 1  # a later pass with nothing new announces nothing


def test_a_watch_without_a_title_is_announced_as_needing_attention_not_as_simkls(rig):
    r = rig()
    r.watch(dict(report(1), title="Home video"))

    assert [[(item.label, item.by_simkl) for item in one] for one in r.attention] == [[("Home video", False)]]


def test_a_rewatch_refused_for_pro_is_left_to_the_rewatch_notice(rig, server):
    r = rig()
    server.rewatch_mode = "pro_required"
    r.outbox.add(movie(1), rewatch=True)

    r.worker.kick()
    r.idle()

    assert r.outbox.attention_count() == 1
    assert r.attention == []


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
    r.watch(report(1))

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
    r.watch(report(1))

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
    r.watch(report(2))

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
    r.watch(report(1))
    assert server.requests_to(HISTORY) == [] and r.outbox.counts()["pending"] == 1
    assert r.worker.next_due() is None  # nothing wakes the worker for what waits until a login comes

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


# -- what the log tells the user ------------------------------------------------------------------------


def test_each_title_found_is_logged_as_queued_and_one_queued_already_only_at_debug_level(rig, server, kodi):
    r = rig()
    r.titles["movie 1"] = Lookup(movie(1))
    r.watch(report(1))
    r.watch(report(1))  # the same watch again (Kodi reported it twice)
    r.worker.commit_mark(report(1), r.clock(), "remove")
    r.idle()
    r.wake_when_due()

    queued = [line for line in logged(kodi, xbmc.LOGINFO) if "Movie 1" in line]
    assert queued == ["queued Movie 1 (2001) as watched", "queued Movie 1 (2001) as unwatched"]
    assert logged(kodi, xbmc.LOGDEBUG) == ["Movie 1 (2001) was already queued in the last 48 hours"]
    assert sent_movies(server) == [["Movie 1"]] and len(server.requests_to(HISTORY + "/remove")) == 1


def test_a_watch_that_continues_a_rewatch_session_is_queued_with_its_ids_and_counted_once(rig, server, kodi):
    r = rig()
    watched = {"media_type": "episode", "dbid": 7, "label": "show 1"}
    r.titles["show 1"] = Lookup(episode(1))
    r.watch(watched)  # an ordinary watch first: it is not one of the session's
    r.session = SessionWatch("rw-7", ("session:show", "rw-7"))
    for _ in range(2):
        r.watch(watched)

    assert [line for line in logged(kodi, xbmc.LOGINFO) if "S01E01" in line] == [
        "queued Show S01E01 as watched", "queued Show S01E01 as part of its rewatch session",
        "Show S01E01 was already counted in its rewatch session"]
    bodies = [request.json for request in server.requests_to(HISTORY)]
    assert [[show.get("rewatch_id") for show in body["shows"]] for body in bodies] == [[None], ["rw-7"]]


def test_a_title_the_file_search_could_not_be_asked_about_says_when_it_is_looked_up_again(rig, kodi):
    r = rig()
    r.titles["movie 1"] = Lookup(None, "file search unavailable (ConnectionError)", unavailable=True)
    start = r.clock()
    r.watch(report(1))
    assert r.outbox.next_unresolved_due() == start + 20
    r.wake_when_due()
    assert r.outbox.next_unresolved_due() == start + 20 + 40  # twice as long after the second try

    assert [line for line in logged(kodi, xbmc.LOGINFO) if line.startswith("watched")] == [
        "watched 'movie 1': looking it up again in 20 s (file search unavailable (ConnectionError))",
        "watched 'movie 1': looking it up again in 40 s (file search unavailable (ConnectionError))"]


def test_a_title_nobody_knows_is_logged_by_its_label_or_a_question_mark(rig, kodi):
    r = rig()
    r.worker.commit_watch(report(1), r.clock())
    r.watch({"media_type": "movie", "dbid": 2})  # Kodi gave no label

    assert [line for line in logged(kodi, xbmc.LOGINFO) if line.startswith("watched")] == [
        "watched 'movie 1' but could not tell which title it is (nothing known); listed in the status view",
        "watched '?' but could not tell which title it is (nothing known); listed in the status view"]
    assert len(r.outbox.attention()) == 2


# -- failures: the wait, the cap, the log -----------------------------------------------------------------


def test_a_failing_job_waits_20_s_then_twice_as_long_each_time_up_to_5_minutes(rig, kodi):
    r = rig()
    r.titles["movie 1"] = RuntimeError("JSON-RPC went away")
    r.watch(report(1))

    waits = []
    for _ in range(6):
        waits.append(r.worker.next_due() - r.clock())
        r.wake_when_due()
    assert waits == [20, 40, 80, 160, FAILURE_RETRY_CAP, FAILURE_RETRY_CAP]
    assert logged(kodi, xbmc.LOGERROR) == ["watch failed: RuntimeError: JSON-RPC went away; trying again in 20 s"]
    assert r.worker.is_alive()


def test_each_problem_is_logged_once_while_it_lasts_and_again_when_it_comes_back(rig, kodi):
    r = rig()
    r.worker.commit_watch(report(1), r.clock())
    for problem in (RuntimeError("A"), RuntimeError("B"), ValueError("B"), ValueError("B"), Lookup(movie(1))):
        r.titles["movie 1"] = problem
        r.wake_when_due()
    r.titles["movie 2"] = RuntimeError("A")
    r.watch(report(2))

    assert logged(kodi, xbmc.LOGERROR) == [
        "flush failed: RuntimeError: A; trying again in 20 s", "flush failed: RuntimeError: B; trying again in 40 s",
        "flush failed: ValueError: B; trying again in 80 s", "watch failed: RuntimeError: A; trying again in 20 s"]
    assert "working again after 4 failed attempts" in logged(kodi, xbmc.LOGINFO)


def test_an_outbox_that_cannot_be_opened_at_first_is_logged_reported_and_tried_again(rig, server, kodi):
    r = rig(start=False)
    r.outbox_fails = 1
    r.titles["movie 1"] = Lookup(movie(1))
    r.outbox.add_unresolved(report(1), r.clock())  # what an earlier run left
    r.worker.start()
    r.idle()

    assert logged(kodi, xbmc.LOGERROR) == [
        "scheduling failed: OperationalError: unable to open database file; trying again in 20 s"]
    assert r.storage[0] is CANNOT_OPEN and r.storage[-1] is None  # the status view says so, then no more
    assert sent_movies(server) == [["Movie 1"]]
    assert "working again after 1 failed attempts" in logged(kodi, xbmc.LOGINFO)


def test_a_watch_committed_just_as_the_retry_is_due_is_looked_up_at_once(rig, server):
    r = rig()
    r.titles["movie 1"] = RuntimeError("JSON-RPC went away")
    r.watch(report(1))
    r.titles["movie 1"] = Lookup(movie(1))
    r.titles["movie 2"] = Lookup(movie(2))
    retry_at = r.worker.next_due()
    r.clock.advance(retry_at - r.clock())
    assert r.clock() == retry_at

    r.watch(report(2))
    assert sent_movies(server) == [["Movie 1", "Movie 2"]]


def test_a_prune_while_a_retry_waits_is_no_sign_of_recovery(rig, kodi):
    r = rig()
    r.titles["movie 1"] = RuntimeError("JSON-RPC went away")
    r.watch(report(1))

    r.worker.prune()  # the hourly job
    r.idle()
    assert not [line for line in logged(kodi) if line.startswith("working again")]
    r.wake_when_due()  # still failing: the wait grows on
    assert r.worker.next_due() - r.clock() == 40


def test_an_unmark_the_disk_cannot_take_is_kept_and_sent_as_a_removal_once_there_is_room(rig, server):
    r = rig()
    r.titles["movie 1"] = Lookup(movie(1))
    add = r.outbox.add_unresolved

    def no_room(*args):
        raise sqlite3.OperationalError("database or disk is full")
    r.outbox.add_unresolved = no_room
    r.worker.commit_mark(report(1), r.clock(), "remove")
    r.idle()  # its job could not save it either: tried again after a wait
    r.outbox.add_unresolved = add
    r.wake_when_due()

    assert sent_movies(server) == []
    assert [[m["title"] for m in request.json["movies"]] for request in server.requests_to(HISTORY + "/remove")] \
        == [["Movie 1"]]


# -- when the worker wakes --------------------------------------------------------------------------------


def test_after_any_job_the_worker_does_unasked_what_fell_due_meanwhile(rig, server, kodi):
    r = rig()
    r.titles["movie 1"] = Lookup(None, "file search unavailable (ConnectionError)", unavailable=True)
    r.watch(report(1))
    r.titles["movie 1"] = RuntimeError("JSON-RPC went away")
    r.clock.advance(r.worker.next_due() - r.clock())  # its time came while the worker waited

    r.worker.prune()  # the hourly job only prunes; then the worker sees what is due and does it
    assert wait_for(lambda: logged(kodi, xbmc.LOGERROR) == [
        "due failed: RuntimeError: JSON-RPC went away; trying again in 20 s"])
    r.idle()
    assert r.worker.is_alive()
    r.titles["movie 1"] = Lookup(movie(1))
    r.wake_when_due()
    assert sent_movies(server) == [["Movie 1"]]


def test_after_simkl_failed_the_worker_wakes_when_the_senders_retry_is_due(rig, server):
    r = rig()
    r.titles["movie 1"] = Lookup(movie(1))
    server.fail(HISTORY, 503)
    r.watch(report(1))
    assert r.outbox.counts()["pending"] == 1
    assert r.worker.next_due() == r.outbox.next_due() > r.clock()

    r.wake_when_due()
    assert r.outbox.counts()["sent"] == 1


def test_prune_forgets_what_was_sent_a_month_ago(rig):
    r = rig()
    r.titles["movie 1"] = Lookup(movie(1))
    r.watch(report(1))
    assert r.outbox.counts()["sent"] == 1

    r.clock.advance(31 * 86400)
    r.worker.prune()
    r.idle()
    assert r.outbox.counts()["sent"] == 0


# -- start and stop ---------------------------------------------------------------------------------------


def test_what_an_earlier_run_left_is_sent_at_start_without_waiting(rig, server):
    r = rig(start=False)
    r.titles["movie 1"] = Lookup(movie(1))
    r.outbox.add_unresolved(report(1), r.clock())
    assert r.worker.started() is False
    before = set(threading.enumerate())
    start = r.clock()

    r.worker.start()
    r.idle()
    assert r.worker.started() is True
    assert sent_movies(server) == [["Movie 1"]]
    assert r.clock() == start  # the login was stored before the worker started: no POST is held for it
    # One thread, which Kodi need not wait for when it quits; its name tells it apart in a thread dump.
    assert [t.daemon for t in set(threading.enumerate()) - before if t.name == "simkl-worker"] == [True]


def test_a_failure_at_start_is_logged_with_the_first_wait(rig, kodi):
    r = rig(start=False)
    r.titles["movie 1"] = RuntimeError("JSON-RPC went away")
    r.outbox.add_unresolved(report(1), r.clock())
    start = r.clock()
    r.worker.start()
    r.idle()

    assert logged(kodi, xbmc.LOGERROR) == ["flush failed: RuntimeError: JSON-RPC went away; trying again in 20 s"]
    assert r.worker.next_due() == start + 20 and r.worker.is_alive()


def test_stop_lets_the_thread_go(rig):
    r = rig()
    r.worker.stop()

    assert not r.worker.is_alive()


def test_once_kodi_quits_the_worker_leaves_at_its_next_job_without_doing_it(rig, server):
    r = rig()
    r.titles["movie 1"] = Lookup(movie(1))
    r.stopping.set()
    r.worker.commit_watch(report(1), r.clock())
    r.worker.watch_committed()

    assert wait_for(lambda: not r.worker.is_alive())
    assert r.lookups == [] and server.requests_to(HISTORY) == []


def test_stop_waits_half_a_second_at_most_for_a_worker_stuck_in_a_job(rig):
    """A real wait: what is measured is how long Kodi's quitting is held up."""
    r = rig()
    inside, release = threading.Event(), threading.Event()

    def stuck(stored):
        inside.set()
        release.wait(10)
        return Lookup(movie(1))
    r.titles["movie 1"] = stuck
    r.worker.commit_watch(report(1), r.clock())
    r.worker.watch_committed()
    assert inside.wait(5)

    r.stopping.set()
    began = time.monotonic()
    r.worker.stop()
    waited = time.monotonic() - began
    release.set()
    assert 0.45 <= waited < 1.45  # the default wait (0.5 s), on a busy machine; never a second and a half
    assert wait_for(lambda: not r.worker.is_alive())
