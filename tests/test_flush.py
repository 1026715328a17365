"""The Flusher draining a real sqlite outbox through the real api.Client into the fake Simkl server.

Outbox, client, flusher and server share one virtual clock: the client's POST pacing moves it, the
server checks Simkl's 1-POST-per-second rule on it, and retries come due when a test moves it.
"""
import math
import os
import socket
import sqlite3
import tempfile

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings
from virtual_time import VirtualClock

from fake_simkl import FakeSimkl
from lib.scrobbler.delivery.flush import BATCH_SIZE, MAX_RETRY, SPLIT_AFTER, Flusher
from lib.scrobbler.delivery.outbox import Outbox
from lib.scrobbler.media import Episode, Movie, Show
from lib.scrobbler.simkl import api, auth

HISTORY = "/sync/history"
REMOVE = "/sync/history/remove"

EMPTY = {"unresolved": 0, "pending": 0, "sent": 0, "unidentified": 0, "not_found": 0, "refused": 0}


START = 1778788800.0  # 2026-05-14T20:00:00Z, the time the expected bodies below are written for


@pytest.fixture
def clock():
    return VirtualClock(START)


def movie(n=1):
    return Movie("Movie %d" % n, 2000 + n, {"imdb": "tt%07d" % n, "tmdb": 1000 + n})


def episode(season, number, show=1):
    return Episode("Show %d" % show, season, number, 2010 + show, {"tvdb": 70000 + show, "imdb": "tt99%05d" % show},
                   "Episode %d" % number, {"tvdb": 500000 + number})


@pytest.fixture
def store(tmp_path, server):
    store = auth.TokenStore(str(tmp_path / "profile"))
    store.save({"access_token": server.issue_token("access-%d"), "flow": "v1"})
    return store


@pytest.fixture
def outbox(tmp_path, clock):
    with Outbox(str(tmp_path / "outbox.db"), clock=clock) as box:
        yield box


def make_client(server, clock, store, **kwargs):
    tokens = auth.TokenProvider(store, clock=clock)
    client = api.Client(server.url, server.client_id, "kodi-simkl", "0.1.0", "20.1", tokens=tokens,
                        clock=clock, sleep=clock.sleep, **kwargs)
    tokens.client = client
    return client


class Calls:
    def __init__(self):
        self.count = 0

    def __call__(self, *args):
        self.count += 1


@pytest.fixture
def expired():
    return Calls()


@pytest.fixture
def flusher(outbox, server, clock, store, expired):
    return Flusher(outbox, make_client(server, clock, store), clock=clock, rng=lambda: 1.0, on_auth_expired=expired)


def rows(outbox):
    """(state, last_error) of every entry, read from the sqlite file itself."""
    with sqlite3.connect(outbox.path) as conn:
        return conn.execute("SELECT state, last_error FROM entries ORDER BY id").fetchall()


def wait_of(outbox, clock):
    return outbox.next_due() - clock.now


def sizes(server):
    return [len(r.json["movies"]) for r in server.requests_to(HISTORY)]


def run_until(flusher, clock, done, rounds=200):
    """Flush whenever something is due, on virtual time, until done() or `rounds` flushes."""
    for _ in range(rounds):
        if done():
            return True
        flusher.flush()
        clock.now = max(clock.now, flusher.next_due() or clock.now)
    return done()


# --- request bodies ------------------------------------------------------------------------------

def test_movies_are_sent_with_all_ids_title_year_and_their_own_utc_watched_at(flusher, outbox, server):
    outbox.add(movie(1), watched_at=START - 7200)
    outbox.add(movie(2), watched_at="2026-05-14T21:30:00+01:00")

    assert flusher.flush() == 2

    (request,) = server.requests_to(HISTORY)
    assert request.json == {"movies": [
        {"title": "Movie 1", "year": 2001, "ids": {"imdb": "tt0000001", "tmdb": 1001},
         "watched_at": "2026-05-14T18:00:00Z"},
        {"title": "Movie 2", "year": 2002, "ids": {"imdb": "tt0000002", "tmdb": 1002},
         "watched_at": "2026-05-14T20:30:00Z"},
    ]}
    assert "allow_rewatch" not in request.query
    assert outbox.counts() == dict(EMPTY, pending=0, sent=2, not_found=0)


def test_episodes_are_grouped_into_shows_seasons_and_episodes_each_with_its_watched_at(flusher, outbox, server):
    outbox.add(episode(1, 1), watched_at=START - 300)
    outbox.add(episode(1, 2), watched_at=START - 200)
    outbox.add(episode(1, 7, show=2), watched_at=START - 150)
    outbox.add(episode(2, 1), watched_at=START - 100)

    assert flusher.flush() == 4

    (request,) = server.requests_to(HISTORY)
    assert request.json == {"shows": [
        {"title": "Show 1", "year": 2011, "ids": {"tvdb": 70001, "imdb": "tt9900001"}, "seasons": [
            {"number": 1, "episodes": [{"number": 1, "watched_at": "2026-05-14T19:55:00Z"},
                                       {"number": 2, "watched_at": "2026-05-14T19:56:40Z"}]},
            {"number": 2, "episodes": [{"number": 1, "watched_at": "2026-05-14T19:58:20Z"}]}]},
        {"title": "Show 2", "year": 2012, "ids": {"tvdb": 70002, "imdb": "tt9900002"}, "seasons": [
            {"number": 1, "episodes": [{"number": 7, "watched_at": "2026-05-14T19:57:30Z"}]}]},
    ]}
    assert sorted(w.key for w in server.watches) == [
        "show:imdb=tt9900001:S1E1", "show:imdb=tt9900001:S1E2", "show:imdb=tt9900001:S2E1",
        "show:imdb=tt9900002:S1E7"]


@pytest.mark.parametrize("addon_first", [False, True])
def test_one_show_from_two_sources_in_one_batch_keeps_each_entrys_own_tvdb_season_flag(flusher, outbox, server,
                                                                                         addon_first):
    ids = {"tvdb": 424536, "tmdb": 209867}
    # Kodi's library numbers the TVDB way: sent with the flag. An add-on's episode is not.
    library = Episode("Frieren", 1, 19, 2023, dict(ids), "Well-Laid Plans", {}, tvdb_numbering=True)
    addon = Episode("Frieren", 2, 3, 2023, dict(ids), "", {})
    queued = [(library, START - 120), (addon, START - 60)]
    for item, watched_at in reversed(queued) if addon_first else queued:
        outbox.add(item, watched_at=watched_at)

    assert flusher.flush() == 2

    (request,) = server.requests_to(HISTORY)
    flagged = {"title": "Frieren", "year": 2023, "ids": ids, "use_tvdb_anime_seasons": True,
               "seasons": [{"number": 1, "episodes": [{"number": 19, "watched_at": "2026-05-14T19:58:00Z"}]}]}
    plain = {"title": "Frieren", "year": 2023, "ids": ids,
             "seasons": [{"number": 2, "episodes": [{"number": 3, "watched_at": "2026-05-14T19:59:00Z"}]}]}
    assert request.json == {"shows": [plain, flagged] if addon_first else [flagged, plain]}
    assert server.violations == []


def test_movies_and_episodes_queued_together_travel_in_one_body(flusher, outbox, server):
    outbox.add(movie(1))
    outbox.add(episode(3, 4))

    flusher.flush()

    (request,) = server.requests_to(HISTORY)
    assert [m["title"] for m in request.json["movies"]] == ["Movie 1"]
    assert request.json["shows"][0]["seasons"] == [
        {"number": 3, "episodes": [{"number": 4, "watched_at": "2026-05-14T20:00:00Z"}]}]


# --- batches and pacing --------------------------------------------------------------------------

def test_250_queued_watches_go_in_3_batches_of_at_most_100_at_least_a_second_apart(flusher, outbox, server):
    for n in range(1, 251):
        outbox.add(movie(n), watched_at=START - 1000 + n)

    assert flusher.flush() == 250

    requests = server.requests_to(HISTORY)
    assert [len(r.json["movies"]) for r in requests] == [100, 100, 50]
    assert len(requests) == -(-250 // BATCH_SIZE)
    assert all(b.time - a.time >= 1.0 for a, b in zip(requests, requests[1:]))
    assert server.violations == []
    assert len(server.watches) == 250
    assert outbox.counts()["sent"] == 250


# --- answers -------------------------------------------------------------------------------------

def test_items_simkl_does_not_find_are_marked_not_found_and_the_rest_sent(flusher, outbox, server):
    server.unknown_ids = {"imdb=tt0000002", "tvdb=70002"}
    outbox.add(movie(1))
    outbox.add(movie(2))
    outbox.add(episode(1, 1, show=2))
    outbox.add(episode(1, 1, show=1))

    assert flusher.flush() == 2

    assert [state for state, _ in rows(outbox)] == ["sent", "not_found", "not_found", "sent"]
    assert sorted(a.label for a in outbox.attention()) == ["Movie 2 (2002)", "Show 2 S01E01"]
    assert len(server.requests_to(HISTORY)) == 1


def test_429_with_retry_after_defers_exactly_that_long_and_loses_nothing(flusher, outbox, server, clock):
    server.fail(HISTORY, 429, retry_after="30")
    outbox.add(movie(1))
    outbox.add(movie(2))

    assert flusher.flush() == 0
    assert wait_of(outbox, clock) == 30
    assert outbox.counts() == dict(EMPTY, pending=2, sent=0, not_found=0)

    clock.now += 29.5
    assert flusher.flush() == 0
    assert len(server.requests_to(HISTORY)) == 1

    clock.now += 0.5
    assert flusher.flush() == 2
    assert sorted(w.key for w in server.watches) == ["movie:imdb=tt0000001", "movie:imdb=tt0000002"]
    assert server.violations == []


def test_412_blocks_the_flush_for_the_blocked_wait_and_sends_nothing_else_meanwhile(flusher, outbox, server, clock):
    for n in range(1, 151):
        outbox.add(movie(n))
    server.fail(HISTORY, 412)

    assert flusher.flush() == 0
    assert len(server.requests_to(HISTORY)) == 1  # the second batch is not tried against a block
    assert flusher.next_due() - clock.now == api.BLOCKED_WAIT
    assert outbox.counts()["pending"] == 150

    clock.now += api.BLOCKED_WAIT
    assert flusher.flush() == 150
    assert len(server.watches) == 150


def test_a_watch_queued_during_a_rate_limit_waits_for_the_limit_to_pass(flusher, outbox, server, clock):
    server.fail(HISTORY, 429, retry_after="30")
    outbox.add(movie(1))
    flusher.flush()

    clock.now += 10
    outbox.add(movie(2))
    assert flusher.next_due() == START + 30
    assert flusher.flush() == 0
    assert len(server.requests_to(HISTORY)) == 1

    clock.now = START + 30
    assert flusher.flush() == 2


def test_resume_lifts_a_hold_after_a_failure_but_not_a_rate_limit(flusher, outbox, server, clock):
    server.fail(HISTORY, 503)
    outbox.add(movie(1))
    flusher.flush()
    outbox.retry_now()  # the status view's "Retry now"
    flusher.resume()
    assert flusher.flush() == 1

    server.fail(HISTORY, 412)
    outbox.add(movie(2))
    flusher.flush()
    outbox.retry_now()
    flusher.resume()
    assert flusher.flush() == 0
    assert flusher.next_due() == clock.now + api.BLOCKED_WAIT
    assert len(server.requests_to(HISTORY)) == 3


def test_400_rate_limit_waits_for_the_20_second_lock_and_keeps_the_entries(flusher, outbox, server, clock):
    server.fail(HISTORY, 400, body={"error": "RATE_LIMIT", "code": 400})
    outbox.add(movie(1))

    assert flusher.flush() == 0
    assert wait_of(outbox, clock) == api.SCROBBLE_LOCK_WAIT
    assert rows(outbox) == [("pending", "rate_limited")]


def test_503_retries_back_off_from_within_30_seconds_growing_to_a_15_minute_cap(flusher, outbox, server, clock):
    outbox.add(movie(1))
    waits = []
    for _ in range(9):
        server.fail(HISTORY, 503)
        assert flusher.flush() == 0
        waits.append(wait_of(outbox, clock))
        clock.now = outbox.next_due()

    assert waits[0] <= 30
    assert all(later > earlier for earlier, later in zip(waits[:6], waits[1:7]))
    assert max(waits) == MAX_RETRY
    assert waits[-1] == MAX_RETRY
    assert rows(outbox) == [("pending", "server")]

    assert flusher.flush() == 1
    assert len(server.watches) == 1
    assert server.violations == []


@pytest.mark.parametrize("draw, first_wait", [(0.0, 10.0), (0.5, 15.0), (1.0, 20.0)])
def test_backoff_is_jittered_by_the_random_draw(outbox, server, clock, store, draw, first_wait):
    flusher = Flusher(outbox, make_client(server, clock, store), clock=clock, rng=lambda: draw)
    server.fail(HISTORY, 503)
    outbox.add(movie(1))

    flusher.flush()

    assert wait_of(outbox, clock) == first_wait


def test_503_with_retry_after_waits_what_the_server_asked(flusher, outbox, server, clock):
    server.fail(HISTORY, 503, retry_after="45")
    outbox.add(movie(1))

    flusher.flush()

    assert wait_of(outbox, clock) == 45


def test_dropped_connection_is_retried_later_and_each_entry_reaches_simkl_exactly_once(flusher, outbox, server,
                                                                                      clock):
    server.fail(HISTORY, 0)
    for n in (1, 2, 3):
        outbox.add(movie(n))

    assert flusher.flush() == 0
    assert rows(outbox) == [("pending", "network")] * 3
    assert 0 < wait_of(outbox, clock) <= 30
    assert flusher.flush() == 0  # not due yet
    assert len(server.requests_to(HISTORY)) == 1

    clock.now = outbox.next_due()
    assert flusher.flush() == 3
    assert flusher.flush() == 0

    assert sorted(w.key for w in server.watches) == [
        "movie:imdb=tt0000001", "movie:imdb=tt0000002", "movie:imdb=tt0000003"]
    assert [state for state, _ in rows(outbox)] == ["sent"] * 3


def test_answer_slower_than_the_read_timeout_keeps_the_entries_for_a_later_try(outbox, clock, store):
    # A listener that takes the connection and never answers: the read timeout, with no server thread left behind.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        client = api.Client("http://127.0.0.1:%d" % silent.getsockname()[1], "test-client-id", "kodi-simkl", "0.1.0",
                            "20.1", tokens=auth.TokenProvider(store, clock=clock), clock=clock, sleep=clock.sleep,
                            timeout=(1.0, 0.05))
        flusher = Flusher(outbox, client, clock=clock, rng=lambda: 1.0)
        outbox.add(movie(1))

        assert flusher.flush() == 0

    assert rows(outbox) == [("pending", "network")]
    assert 0 < wait_of(outbox, clock) <= 30


def test_401_blocks_flushing_until_resume_and_reports_the_expired_login_once(flusher, outbox, server, clock, store,
                                                                            expired):
    store.save({"access_token": "revoked-token", "flow": "v1"})
    outbox.add(movie(1))
    outbox.add(episode(1, 1))

    assert flusher.flush() == 0
    assert flusher.auth_blocked
    assert expired.count == 1
    assert outbox.counts() == dict(EMPTY, pending=2, sent=0, not_found=0)
    assert flusher.next_due() is None

    clock.now += 3600
    assert flusher.flush() == 0
    assert len(server.requests_to(HISTORY)) == 1
    assert expired.count == 1

    store.save({"access_token": server.issue_token("new-%d"), "flow": "v1"})
    flusher.resume()
    assert flusher.flush() == 2
    assert expired.count == 1
    assert outbox.counts()["sent"] == 2


def test_a_2xx_answer_that_is_not_json_keeps_the_entries_pending(flusher, outbox, server, clock):
    server.fail(HISTORY, 201, body=b"not json")
    outbox.add(movie(1))

    assert flusher.flush() == 0
    assert rows(outbox) == [("pending", "unexpected_answer")]

    clock.now = outbox.next_due()
    assert flusher.flush() == 1
    assert len(server.watches) == 1


def test_a_2xx_json_answer_without_added_keeps_the_entries_pending(flusher, outbox, server):
    server.fail(HISTORY, 201, body={"result": "ok"})
    outbox.add(movie(1))

    assert flusher.flush() == 0
    assert rows(outbox) == [("pending", "unexpected_answer")]


def test_a_400_for_one_entry_of_100_refuses_only_that_entry_and_sends_the_other_99(flusher, outbox, server):
    server.refused_ids.add("imdb=tt0000037")
    for n in range(1, 101):
        outbox.add(movie(n))

    assert flusher.flush() == 99

    assert [(a.label, a.state, a.reason) for a in outbox.attention()] == [
        ("Movie 37 (2037)", "refused", "400 wrong_parameter")]
    assert len(server.watches) == 99
    assert len(server.requests_to(HISTORY)) <= 2 * 7 + 1  # halving: about two requests per level
    assert server.violations == []


@pytest.mark.parametrize("old, new", [("remove", "add"), ("add", "remove")])
def test_retrying_an_old_refused_change_never_undoes_a_newer_delivered_one(flusher, outbox, server, clock, old, new):
    outbox.add(movie(2))
    assert flusher.flush() == 1  # the user once watched Movie 2 (and Movie 1, below)
    if old == "remove":
        outbox.add(movie(1))
        assert flusher.flush() == 1
    server.refused_ids.add("imdb=tt0000001")
    clock.now += 3600
    refused = outbox.add(movie(1), kind=old)  # Simkl refuses it: it waits under Needs attention
    assert flusher.flush() == 0 and [a.id for a in outbox.attention()] == [refused]
    server.refused_ids.clear()
    clock.now += 3600
    outbox.add(movie(1), kind=new)  # later the user changes their mind again, and that is delivered
    assert flusher.flush() == 1
    delivered = sorted(server.watched_keys)

    outbox.retry_attention([a.id for a in outbox.attention()])  # "Retry all"
    flusher.flush()

    assert sorted(server.watched_keys) == delivered
    assert outbox.attention() == [] and outbox.counts()["pending"] == 0
    assert server.violations == []


def test_a_refused_entry_is_never_sent_again_until_the_user_retries_it(flusher, outbox, server, clock):
    server.refused_ids.add("imdb=tt0000001")
    outbox.add(movie(1))
    assert flusher.flush() == 0
    clock.now += 86400

    assert flusher.flush() == 0
    assert len(server.requests_to(HISTORY)) == 1

    server.refused_ids.clear()  # e.g. Simkl fixed its side
    outbox.retry_attention([a.id for a in outbox.attention()])
    assert flusher.flush() == 1


def test_two_bad_entries_in_a_batch_are_both_found_and_the_rest_go_through(flusher, outbox, server):
    server.refused_ids.update({"imdb=tt0000003", "imdb=tt0000010"})
    for n in range(1, 13):
        outbox.add(movie(n))

    assert flusher.flush() == 10
    assert sorted(a.label for a in outbox.attention()) == ["Movie 10 (2010)", "Movie 3 (2003)"]


@pytest.mark.parametrize("status, body", [(301, {"error": "moved"}), (403, {"error": "forbidden"}),
                                          (405, None), (408, None), (400, b"<html>Bad gateway</html>"),
                                          (404, b"<html>Not found</html>"), (302, b"")])
def test_answers_that_say_nothing_about_the_content_keep_the_entries_for_a_later_try(flusher, outbox, server,
                                                                                      clock, status, body):
    server.fail(HISTORY, status, body=body if body is not None else b"")
    outbox.add(movie(1))
    outbox.add(movie(2))

    assert flusher.flush() == 0

    assert rows(outbox) == [("pending", "unexpected_answer")] * 2
    assert outbox.attention() == []
    clock.now = outbox.next_due()
    assert flusher.flush() == 2


def test_a_batch_that_keeps_failing_with_5xx_is_split_so_the_other_entries_get_through(flusher, outbox, server,
                                                                                        clock):
    server.breaking_ids.add("imdb=tt0000005")
    for n in range(1, 41):
        outbox.add(movie(n))

    assert run_until(flusher, clock, lambda: len(server.watches) == 39, rounds=30)

    assert [(len(r.json["movies"]), r.status) for r in server.requests_to(HISTORY)] == [
        (40, 500), (40, 500), (40, 500), (20, 500), (20, 201), (10, 500), (10, 201), (5, 500), (5, 201), (3, 201),
        (2, 500), (1, 201), (1, 500)]
    assert [(e.item.title, e.attempts >= 3) for e in outbox.take_batch(exclude=())] in ([], [("Movie 5", True)])
    assert outbox.counts()["pending"] == 1
    # Still pending (a server error is never the entry's fault for good), and shown to the user as stuck.
    assert [(a.label, a.state, a.reason) for a in outbox.attention()] == [("Movie 5 (2005)", "pending", "server")]


def test_not_found_episodes_and_anime_are_honoured_per_item(flusher, outbox, server):
    server.unknown_episodes.add(("imdb=tt9900001", 1, 2))
    server.unknown_ids.add("tvdb=70003")
    server.anime_ids.add("imdb=tt9900003")
    outbox.add(episode(1, 1))
    outbox.add(episode(1, 2))
    outbox.add(episode(1, 1, show=3))  # an anime Simkl does not know: under not_found.shows, as any show
    outbox.add(movie(1))

    assert flusher.flush() == 2

    assert sorted(a.label for a in outbox.attention()) == ["Show 1 S01E02", "Show 3 S01E01"]
    assert sorted(w.key for w in server.watches) == ["movie:imdb=tt0000001", "show:imdb=tt9900001:S1E1"]


def test_a_show_echoed_with_seasons_in_not_found_names_only_those_episodes(flusher, outbox, server):
    server.fail(HISTORY, 201, body={"added": {"movies": 0, "shows": 1, "episodes": 1}, "not_found": {
        "shows": [{"title": "Show 1", "ids": {"tvdb": 70001}, "seasons": [{"number": 1, "episodes": [{"number": 2}]}]}],
        "movies": [], "episodes": []}})
    outbox.add(episode(1, 1))
    outbox.add(episode(1, 2))

    assert flusher.flush() == 1
    assert [a.label for a in outbox.attention()] == ["Show 1 S01E02"]


class FailingRecords(Outbox):
    """An outbox whose disk refuses the next `failures` writes of Simkl's answers (full, locked)."""

    failures = 0

    def record(self, states, rewatch_ids=None):
        if self.failures:
            self.failures -= 1
            raise sqlite3.OperationalError("database or disk is full")
        return super().record(states, rewatch_ids)


def test_a_batch_simkl_took_but_the_disk_could_not_record_is_never_posted_again(tmp_path, server, clock, store):
    outbox = FailingRecords(str(tmp_path / "outbox.db"), clock=clock)
    outbox.failures = 1
    flusher = Flusher(outbox, make_client(server, clock, store), clock=clock, rng=lambda: 1.0)
    outbox.add(movie(1))

    with pytest.raises(sqlite3.OperationalError):
        flusher.flush()
    outbox.add(movie(2))
    for _ in range(3):
        flusher.flush()

    assert [len(r.json["movies"]) for r in server.requests_to(HISTORY)] == [1, 1]
    assert outbox.counts() == dict(EMPTY, sent=2)


def test_a_request_cut_by_kodis_quit_leaves_its_entries_untouched(flusher, outbox, server, clock):
    server.fail(HISTORY, 0)  # the connection goes, as when the service cuts it at quit
    outbox.add(movie(1))
    before = rows(outbox)

    assert flusher.flush(should_stop=lambda: len(server.requests) > 0) == 0

    assert rows(outbox) == before and outbox.next_due() <= clock.now


# --- removes and rewatches -----------------------------------------------------------------------

def test_a_remove_batch_goes_to_history_remove_with_season_and_number_and_no_watched_at(flusher, outbox, server):
    outbox.add(movie(1), kind="remove")
    outbox.add(episode(2, 5), kind="remove")

    assert flusher.flush() == 2

    assert server.requests_to(HISTORY) == []
    (request,) = server.requests_to(REMOVE)
    assert request.json == {
        "movies": [{"title": "Movie 1", "year": 2001, "ids": {"imdb": "tt0000001", "tmdb": 1001}}],
        "shows": [{"title": "Show 1", "year": 2011, "ids": {"tvdb": 70001, "imdb": "tt9900001"},
                   "seasons": [{"number": 2, "episodes": [{"number": 5}]}]}]}
    assert server.removed == ["movie:imdb=tt0000001", "show:imdb=tt9900001:S2E5"]


def test_removes_and_adds_are_never_sent_in_the_same_request(flusher, outbox, server):
    outbox.add(movie(1))
    outbox.add(movie(2), kind="remove")
    outbox.add(movie(3))
    outbox.add(episode(1, 1), kind="remove")

    assert flusher.flush() == 4

    adds = server.requests_to(HISTORY)
    removes = server.requests_to(REMOVE)
    assert [[m["title"] for m in r.json["movies"]] for r in adds] == [["Movie 1", "Movie 3"]]
    assert [r.json for r in removes] == [{
        "movies": [{"title": "Movie 2", "year": 2002, "ids": {"imdb": "tt0000002", "tmdb": 1002}}],
        "shows": [{"title": "Show 1", "year": 2011, "ids": {"tvdb": 70001, "imdb": "tt9900001"},
                   "seasons": [{"number": 1, "episodes": [{"number": 1}]}]}]}]
    assert server.violations == []


def test_only_rewatch_batches_carry_allow_rewatch_and_never_with_ordinary_watches(flusher, outbox, server):
    outbox.add(movie(1))
    outbox.add(movie(2), rewatch=True)
    outbox.add(movie(3))

    assert flusher.flush() == 3

    sent = [(r.query.get("allow_rewatch"), [m["title"] for m in r.json["movies"]])
            for r in server.requests_to(HISTORY)]
    assert sent == [(None, ["Movie 1", "Movie 3"]), ("yes", ["Movie 2"])]


def test_retries_of_ordinary_watches_never_carry_allow_rewatch(flusher, outbox, server, clock):
    outbox.add(movie(2), rewatch=True, rewatch_id="9001")
    outbox.add(movie(1))
    server.fail(HISTORY, 503, times=2)

    flusher.flush()
    for _ in range(2):
        clock.now = flusher.next_due()
        flusher.flush()
    server.fail(HISTORY, 0)
    outbox.add(movie(3))
    flusher.flush()
    clock.now = flusher.next_due()
    flusher.flush()

    sent = [(r.query.get("allow_rewatch"), [m["title"] for m in r.json["movies"]])
            for r in server.requests_to(HISTORY)]
    assert sent == [("yes", ["Movie 2"]), (None, ["Movie 1"]), ("yes", ["Movie 2"]), (None, ["Movie 1"]),
                    (None, ["Movie 3"]), (None, ["Movie 3"])]
    assert [(w.key, w.rewatch, w.rewatch_id) for w in server.watches] == [
        ("movie:imdb=tt0000002", True, "9001"), ("movie:imdb=tt0000001", False, None),
        ("movie:imdb=tt0000003", False, None)]


def test_each_rewatch_session_travels_alone_and_pins_its_rewatch_id(flusher, outbox, server):
    outbox.add(movie(1), rewatch=True, rewatch_id="9001")
    outbox.add(movie(2), rewatch=True, rewatch_id="9002")

    assert flusher.flush() == 2

    bodies = [r.json["movies"] for r in server.requests_to(HISTORY)]
    assert [[(m["title"], m["rewatch_id"]) for m in body] for body in bodies] == [
        [("Movie 1", "9001")], [("Movie 2", "9002")]]


# --- rewatch sessions, refusals, answers and the log: what the mutation run found untested --------

def show(n=1):
    return Show("Show %d" % n, 2010 + n, {"tvdb": 70000 + n, "imdb": "tt99%05d" % n})


class Recorder:
    """Collects what the flusher hands its callbacks; `answer` is what session_id() returns."""

    def __init__(self, answer=None):
        self.answer = answer
        self.rewatches, self.sent, self.asked, self.lines = [], [], [], []

    def on_rewatch(self, entry, response):
        self.rewatches.append((entry.item, response))

    def on_sent(self, entries):
        self.sent.append([entry.item for entry in entries])

    def session_id(self, placeholder):
        self.asked.append(placeholder)
        return self.answer


@pytest.fixture
def seen():
    return Recorder()


@pytest.fixture
def watched(outbox, server, clock, store, seen):
    """A flusher whose callbacks and log lines the test reads."""
    return Flusher(outbox, make_client(server, clock, store), clock=clock, rng=lambda: 1.0, log=seen.lines.append,
                   on_rewatch=seen.on_rewatch, on_sent=seen.on_sent, session_id=seen.session_id)


def test_rewatch_session_starts_send_each_show_with_is_rewatch_and_pin_the_rewatch_id_simkl_gives_it(
        watched, outbox, server, seen):
    outbox.add(show(1), rewatch=True)
    outbox.add(show(2), watched_at=START - 60, rewatch=True)

    assert watched.flush() == 2

    (request,) = server.requests_to(HISTORY)
    assert (request.query.get("allow_rewatch"), request.query.get("skip_auto_watching")) == ("yes", "yes")
    assert request.json == {"shows": [
        {"title": "Show 1", "year": 2011, "ids": {"tvdb": 70001, "imdb": "tt9900001"},
         "watched_at": "2026-05-14T20:00:00Z", "is_rewatch": True, "rewatch_status": "active"},
        {"title": "Show 2", "year": 2012, "ids": {"tvdb": 70002, "imdb": "tt9900002"},
         "watched_at": "2026-05-14T19:59:00Z", "is_rewatch": True, "rewatch_status": "active"}]}
    assert outbox.session_pins() == {show(1).key(): "9001", show(2).key(): "9002"}
    assert [(item, response["rewatch_id"]) for item, response in seen.rewatches] == [
        (show(1), "9001"), (show(2), "9002")]
    assert seen.sent == [[show(1), show(2)]]


def test_an_episode_of_a_pinned_session_carries_its_rewatch_id_and_gets_its_shows_answer(watched, outbox, server,
                                                                                       seen):
    outbox.add(episode(1, 2), rewatch=True, rewatch_id="9001")

    assert watched.flush() == 1

    (request,) = server.requests_to(HISTORY)
    assert request.json["shows"][0]["rewatch_id"] == "9001"
    assert [(item, response.get("rewatch_id")) for item, response in seen.rewatches] == [(episode(1, 2), "9001")]
    assert outbox.session_pins() == {}  # only a session's start is pinned


def test_only_a_session_start_keeps_the_rewatch_id_simkl_answers_with(watched, outbox, server):
    outbox.add(movie(1), rewatch=True)

    assert watched.flush() == 1

    assert [w.rewatch_id for w in server.watches] == ["9001"]
    with sqlite3.connect(outbox.path) as conn:
        assert conn.execute("SELECT state, rewatch_id FROM entries").fetchall() == [("sent", None)]


def test_ordinary_watches_are_never_reported_as_rewatches(watched, outbox, seen):
    outbox.add(movie(1))
    outbox.add(episode(1, 1))

    assert watched.flush() == 2
    assert seen.rewatches == []
    assert seen.sent == [[movie(1), episode(1, 1)]]


SESSION = "session:" + show(1).key()


def test_an_episode_waits_while_its_sessions_start_is_on_its_way(watched, outbox, server, clock, seen):
    seen.answer = ""
    outbox.add(episode(1, 2), rewatch=True, rewatch_id=SESSION)

    assert watched.flush() == 0

    assert seen.asked == [SESSION]
    assert server.requests_to(HISTORY) == []
    assert rows(outbox) == [("pending", "waiting_for_session")]
    assert outbox.next_due() == START + 20


def test_an_episode_of_a_session_pinned_meanwhile_continues_that_session(watched, outbox, server, seen):
    seen.answer = "9001"
    outbox.add(episode(1, 2), rewatch=True, rewatch_id=SESSION)

    assert watched.flush() == 1

    (request,) = server.requests_to(HISTORY)
    assert request.query.get("allow_rewatch") == "yes"
    assert request.json["shows"][0]["rewatch_id"] == "9001"
    assert [(w.rewatch, w.rewatch_id) for w in server.watches] == [(True, "9001")]


def test_an_episode_of_a_session_that_ended_goes_as_an_ordinary_watch(watched, outbox, server, seen):
    seen.answer = None
    outbox.add(episode(1, 2), rewatch=True, rewatch_id=SESSION)

    assert watched.flush() == 1

    (request,) = server.requests_to(HISTORY)
    assert "allow_rewatch" not in request.query
    assert "rewatch_id" not in request.json["shows"][0]
    assert seen.rewatches == []


def test_a_rewatch_simkl_refuses_for_pro_is_kept_as_refused_told_once_and_ordinary_watches_still_go(
        watched, outbox, server, clock, seen):
    server.rewatch_mode = "pro_required"
    outbox.add(movie(1), rewatch=True)
    outbox.add(movie(2))

    assert watched.flush() == 1

    assert [(a.label, a.state, a.reason) for a in outbox.attention()] == [
        ("Movie 1 (2001)", "refused", "403 pro_required")]
    assert seen.rewatches == [(movie(1), {"error": "pro_required"})]
    assert [w.key for w in server.watches] == ["movie:imdb=tt0000002"]
    clock.now += 86400
    assert watched.flush() == 0
    assert len(server.requests_to(HISTORY)) == 2


def test_a_session_start_simkl_refuses_is_kept_as_refused_and_ends_the_session(watched, outbox, server, seen):
    server.refused_ids.add("tvdb=70001")
    outbox.add(show(1), rewatch=True)

    assert watched.flush() == 0

    assert [(a.state, a.reason) for a in outbox.attention()] == [("refused", "400 wrong_parameter")]
    assert seen.rewatches == [(show(1), {"error": "wrong_parameter"})]


def test_a_session_start_refused_without_simkls_error_code_is_told_as_refused(watched, outbox, server, seen):
    server.fail(HISTORY, 404, body=b"<html>Not found</html>")
    outbox.add(show(1), rewatch=True)

    assert watched.flush() == 0

    assert [(a.state, a.reason) for a in outbox.attention()] == [("refused", "404")]
    assert seen.rewatches == [(show(1), {"error": "refused"})]


def test_an_episode_rewatch_simkl_refuses_for_its_content_is_refused_like_any_watch(watched, outbox, server, seen):
    server.refused_ids.add("tvdb=70001")
    outbox.add(episode(1, 2), rewatch=True, rewatch_id="9001")

    assert watched.flush() == 0

    assert [(a.state, a.reason) for a in outbox.attention()] == [("refused", "400 wrong_parameter")]
    assert seen.rewatches == []  # the session goes on: only this episode was refused


@pytest.mark.parametrize("status, retry_after, state", [(500, None, "server"), (401, None, "login_needed"),
                                                       (429, "30", "rate_limited")])
def test_a_failure_while_narrowing_a_refused_batch_stops_the_flush(flusher, outbox, server, status, retry_after,
                                                                   state):
    refusal = {"error": "wrong_parameter", "code": 400}
    server.fail(HISTORY, 400, times=2, body=refusal)
    server.fail(HISTORY, status, retry_after=retry_after)
    for n in range(1, 5):
        outbox.add(movie(n))

    assert flusher.flush() == 0

    assert [len(r.json["movies"]) for r in server.requests_to(HISTORY)] == [4, 2, 1]
    assert flusher.requests == 3
    assert [row[0] for row in rows(outbox)] == ["pending"] * 4
    assert rows(outbox)[0] == ("pending", state)


def test_a_batch_that_failed_three_times_goes_in_halves_of_its_own_size(flusher, outbox, server, clock):
    for n in range(1, 62):
        outbox.add(movie(n))
    server.fail(HISTORY, 500, times=3)

    assert run_until(flusher, clock, lambda: not outbox.counts()["pending"], rounds=4)

    assert sizes(server) == [61, 61, 61, 31, 30]
    assert outbox.counts()["sent"] == 61


def test_a_two_entry_batch_failing_with_503_goes_in_halves_after_its_own_third_try(flusher, outbox, server, clock):
    server.fail(HISTORY, 503, times=1000)
    outbox.add(movie(1))
    outbox.add(movie(2))

    assert run_until(flusher, clock, lambda: len(server.requests_to(HISTORY)) >= 7)

    assert sizes(server)[:7] == [2, 2, 2, 1, 1, 1, 1]
    singles = [r.json["movies"][0]["title"] for r in server.requests_to(HISTORY)[3:7]]
    assert singles == ["Movie 1", "Movie 2", "Movie 1", "Movie 2"]  # each half is tried in its turn
    assert outbox.counts()["pending"] == 2


def test_a_half_that_fails_again_is_halved_again_and_new_watches_go_ahead(flusher, outbox, server, clock):
    server.breaking_ids.add("imdb=tt0000001")  # one entry makes the server fail the whole request
    for n in range(1, 9):
        outbox.add(movie(n))

    assert run_until(flusher, clock, lambda: len(server.watches) == 7)
    outbox.add(movie(9))  # a new watch goes ahead of the single entry that keeps failing
    assert run_until(flusher, clock, lambda: len(server.watches) == 8)

    requests = server.requests_to(HISTORY)
    assert [(len(r.json["movies"]), r.status) for r in requests] == [
        (8, 500), (8, 500), (8, 500),  # three tries of the batch itself, then halves of 4
        (4, 500), (4, 201),  # the half without the bad entry goes at its first try; the other fails: halves
        (2, 500), (2, 201),  # the failing half of 2: in single entries
        (1, 500), (1, 201), (1, 500),  # single entries
        (1, 201), (1, 500)]  # the new watch, then the bad entry again
    assert [r.json["movies"][0]["title"] for r in requests[-5:]] == ["Movie 1", "Movie 2", "Movie 1", "Movie 9",
                                                                      "Movie 1"]
    assert [(e.item.title, e.attempts) for e in outbox.take_batch(exclude=())] in ([], [("Movie 1", 8)])


def test_a_restart_keeps_the_halves_of_a_failing_batch(tmp_path, server, clock, store):
    def parts():
        outbox = Outbox(str(tmp_path / "outbox.db"), clock=clock)
        return outbox, Flusher(outbox, make_client(server, clock, store), clock=clock, rng=lambda: 1.0)
    server.fail(HISTORY, 503, times=4)
    outbox, flusher = parts()
    outbox.add(movie(1))
    outbox.add(movie(2))
    assert run_until(flusher, clock, lambda: len(server.requests_to(HISTORY)) == 3)
    outbox.close()  # Kodi restarts after the batch's third failed try

    outbox, flusher = parts()
    assert run_until(flusher, clock, lambda: not outbox.counts()["pending"])

    assert [(size, r.status) for size, r in zip(sizes(server), server.requests_to(HISTORY))] == [
        (2, 503), (2, 503), (2, 503), (1, 503), (1, 201), (1, 201)]
    outbox.close()


def tried_before(requests, index, title):
    """How many earlier requests carrying `title` failed."""
    return sum(1 for r in requests[:index] if r.status != 201 and title in [m["title"] for m in r.json["movies"]])


@st.composite
def failing_batches(draw):
    """`count` watches; the entries in `bad` make the server fail every request that carries them (500);
    `outage`: the first requests answer 503 where it says True, whatever they carry."""
    count = draw(st.one_of(st.integers(1, 8), st.integers(1, 120)))
    return count, draw(st.sets(st.integers(1, count), max_size=2)), draw(st.lists(st.booleans(), max_size=10))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(failing_batches())
def test_any_failing_batch_loses_nothing_sends_nothing_twice_and_reaches_single_entries_in_bounded_tries(case):
    count, bad, outage = case
    clock = VirtualClock(START)
    with tempfile.TemporaryDirectory() as folder, FakeSimkl(clock=clock) as server:
        store = auth.TokenStore(os.path.join(folder, "profile"))
        store.save({"access_token": server.issue_token("access-%d"), "flow": "v1"})
        for down in outage:
            server.fail(HISTORY, 503 if down else 200)  # 200: answered as Simkl answers
        server.breaking_ids.update("imdb=tt%07d" % n for n in bad)
        # A batch of at most B entries reaches parts of one after K halvings: the first after three failed
        # tries, each further one after one more.
        levels = math.ceil(math.log2(min(count, BATCH_SIZE)))
        alone_after = SPLIT_AFTER + levels - 1
        with Outbox(os.path.join(folder, "outbox.db"), clock=clock) as outbox:
            flusher = Flusher(outbox, make_client(server, clock, store), clock=clock, rng=lambda: 1.0)
            ids = {n: outbox.add(movie(n)) for n in range(1, count + 1)}

            def finished():
                if not bad:
                    return not outbox.counts()["pending"]
                tries = [attempts for _, attempts, _ in outbox.states(ids[n] for n in bad).values()]
                return outbox.counts()["sent"] == count - len(bad) and min(tries) > alone_after
            assert run_until(flusher, clock, finished, rounds=1000)

            requests = server.requests_to(HISTORY)
            carried = [[m["title"] for m in r.json["movies"]] for r in requests]
            delivered = [title for r, titles in zip(requests, carried) if r.status == 201 for title in titles]
            assert sorted(delivered) == sorted(movie(n).title for n in range(1, count + 1) if n not in bad)
            assert outbox.counts()["pending"] == len(bad)  # a bad entry is kept (shown as stuck), never lost
            for index, titles in enumerate(carried):
                assert len(titles) <= BATCH_SIZE
                if any(tried_before(requests, index, title) >= alone_after for title in titles):
                    assert len(titles) == 1, (index, titles)


def test_429_without_retry_after_backs_off_like_a_server_error(flusher, outbox, server, clock):
    outbox.add(movie(1))
    waits = []
    for _ in range(2):
        server.fail(HISTORY, 429)
        assert flusher.flush() == 0
        waits.append(wait_of(outbox, clock))
        clock.now = outbox.next_due()

    assert waits == [20.0, 40.0]
    assert rows(outbox) == [("pending", "rate_limited")]


def test_a_build_without_a_client_id_sends_nothing_and_keeps_every_watch(outbox, server, clock, store):
    tokens = auth.TokenProvider(store, clock=clock)
    client = api.Client(server.url, "", "kodi-simkl", "0.1.0", "20.1", tokens=tokens, clock=clock, sleep=clock.sleep)
    flusher = Flusher(outbox, client, clock=clock, rng=lambda: 1.0)
    outbox.add(movie(1))

    assert flusher.flush() == 0

    assert flusher.auth_blocked and flusher.next_due() is None
    assert rows(outbox) == [("pending", "not_configured")]
    assert server.requests == []


def test_the_401_of_an_expired_login_is_kept_as_the_reason(flusher, outbox, server, store):
    store.save({"access_token": "revoked-token", "flow": "v1"})
    outbox.add(movie(1))

    flusher.flush()
    assert rows(outbox) == [("pending", "login_needed")]


def test_a_title_shared_by_two_movies_marks_only_the_one_simkl_did_not_find(flusher, outbox, server):
    server.unknown_ids.add("imdb=tt0087182")
    outbox.add(Movie("Dune", 1984, {"imdb": "tt0087182"}))
    outbox.add(Movie("Dune", 2021, {"imdb": "tt1160419"}))

    assert flusher.flush() == 1
    assert [(a.label, a.state) for a in outbox.attention()] == [("Dune (1984)", "not_found")]


def test_items_without_ids_are_sent_without_empty_fields_and_matched_by_title(flusher, outbox, server):
    server.fail(HISTORY, 201, body={"added": {"movies": 1}, "not_found": {
        "movies": [{"title": "Home Movie", "year": 2020}],
        "shows": [{"title": "Home Show"}]}})
    outbox.add(Movie("Home Movie", 2020, {}))
    outbox.add(Movie("Other Movie", None, {}))
    outbox.add(Movie("", 2021, {"imdb": "tt0000009"}))  # an add-on's item known by its id alone
    outbox.add(Episode("Home Show", 1, 1, None, {}, "", {}))
    outbox.add(Episode("Other Show", 1, 1, None, {}, "", {}))

    assert flusher.flush() == 3

    (request,) = server.requests_to(HISTORY)
    assert request.json["movies"][1:] == [{"title": "Other Movie", "watched_at": "2026-05-14T20:00:00Z"},
                                          {"year": 2021, "ids": {"imdb": "tt0000009"},
                                           "watched_at": "2026-05-14T20:00:00Z"}]
    assert request.json["shows"][1] == {"title": "Other Show", "seasons": [
        {"number": 1, "episodes": [{"number": 1, "watched_at": "2026-05-14T20:00:00Z"}]}]}
    assert sorted(a.label for a in outbox.attention()) == ["Home Movie (2020)", "Home Show S01E01"]


def test_a_show_session_start_simkl_does_not_know_is_not_found_and_no_session_is_pinned(watched, outbox, server,
                                                                                       seen):
    server.unknown_ids.add("tvdb=70001")
    outbox.add(show(1), rewatch=True)
    outbox.add(show(2), rewatch=True)

    assert watched.flush() == 1

    assert [(a.label, a.state) for a in outbox.attention()] == [("Show 1 (2011)", "not_found")]
    assert outbox.session_pins() == {show(2).key(): "9001"}
    assert [item for item, _ in seen.rewatches] == [show(2)]


US, UK = {"tvdb": 73244}, {"tvdb": 78107}  # two shows called "The Office"


def test_two_shows_sharing_a_title_have_their_not_found_episodes_told_apart(flusher, outbox, server):
    server.unknown_ids.add("tvdb=78107")  # Simkl does not know the UK show: not_found.shows
    server.unknown_episodes.add(("tvdb=73244", 1, 2))  # nor one US episode: not_found.episodes
    outbox.add(Episode("The Office", 1, 1, 2005, US, "Pilot", {}))
    outbox.add(Episode("The Office", 1, 1, 2001, UK, "Downsize", {}))
    outbox.add(Episode("The Office", 1, 2, 2005, US, "Diversity Day", {}))
    outbox.add(Episode("The Office", 1, 3, 2005, US, "Health Care", {}))

    assert flusher.flush() == 2

    assert [w.key for w in server.watches] == ["show:tvdb=73244:S1E1", "show:tvdb=73244:S1E3"]
    assert sorted((a.label, a.state) for a in outbox.attention()) == [("The Office S01E01", "not_found"),
                                                                      ("The Office S01E02", "not_found")]


def test_the_uk_episode_goes_when_simkl_misses_only_the_us_episode_of_the_same_title(flusher, outbox, server):
    server.unknown_episodes.add(("tvdb=73244", 1, 2))
    outbox.add(Episode("The Office", 1, 2, 2005, US, "Diversity Day", {}))
    outbox.add(Episode("The Office", 1, 2, 2001, UK, "Work Experience", {}))

    assert flusher.flush() == 1
    assert [w.key for w in server.watches] == ["show:tvdb=78107:S1E2"]


def test_session_starts_are_matched_to_not_found_shows_by_ids_or_else_by_title(watched, outbox, server, seen):
    server.fail(HISTORY, 201, body={"added": {"shows": 1}, "not_found": {
        "shows": [{"title": "The Office", "ids": UK}, {"title": "Home Show"}]}})
    outbox.add(Show("The Office", 2005, US), rewatch=True)
    outbox.add(Show("The Office", 2001, UK), rewatch=True)
    outbox.add(Show("Home Show", None, {}), rewatch=True)

    assert watched.flush() == 1

    assert sorted((a.label, a.state) for a in outbox.attention()) == [("Home Show", "not_found"),
                                                                      ("The Office (2001)", "not_found")]
    assert seen.rewatches == [(Show("The Office", 2005, US), {})]  # answered without statuses


def test_a_rewatch_answered_without_statuses_is_reported_with_an_empty_response(watched, outbox, server, seen):
    server.fail(HISTORY, 201, body={"added": {"movies": 1}, "not_found": {}})
    outbox.add(movie(1), rewatch=True)

    assert watched.flush() == 1
    assert seen.rewatches == [(movie(1), {})]


def test_a_show_echoed_without_seasons_in_not_found_names_all_its_episodes(flusher, outbox, server):
    server.fail(HISTORY, 201, body={"added": {"episodes": 0}, "not_found": {"shows": [{"ids": {"tvdb": 70001}}]}})
    outbox.add(episode(1, 1))
    outbox.add(episode(2, 5))
    outbox.add(episode(1, 1, show=2))

    assert flusher.flush() == 1
    assert sorted(a.label for a in outbox.attention()) == ["Show 1 S01E01", "Show 1 S02E05"]


def test_not_found_episodes_are_matched_by_their_own_ids_or_their_show_season_and_episode(flusher, outbox, server):
    server.fail(HISTORY, 201, body={"added": {"episodes": 1}, "not_found": {"episodes": [
        {"ids": {"tvdb": 500002}},
        {"show": {"title": "Show 2", "ids": {"imdb": "tt9900002"}}, "season": 1, "episode": 3},
        {"show": "Show 1", "season": 1, "number": 1},  # not an object: names nothing
        {"show": {"title": "Home Show"}, "season": 1, "number": 2},
        "not an episode"]}})
    outbox.add(episode(1, 1))
    outbox.add(episode(1, 2))
    outbox.add(Episode("Show 2", 1, 3, 2012, {"imdb": "tt9900002"}, "Episode 3", {}))
    outbox.add(Episode("Home Show", 1, 2, None, {}, "", {}))
    outbox.add(Episode("Home Show", 1, 3, None, {}, "", {}))

    assert flusher.flush() == 2
    assert sorted(a.label for a in outbox.attention()) == ["Home Show S01E02", "Show 1 S01E02", "Show 2 S01E03"]


@pytest.mark.parametrize("fault, lines", [
    (None, ["sent 2 entries to Simkl"]),
    ((HISTORY, 201, None, {"added": {"movies": 1}, "not_found": {"movies": [{"ids": {"imdb": "tt0000002"}}]}}),
     ["Simkl did not find 1 of 2 items", "sent 1 entries to Simkl"]),
    ((HISTORY, 201, None, {"result": "ok"}),
     ["sending 2 entries failed (answer without added/deleted): next try in 20 s"]),
    ((HISTORY, 503, None, None), ["sending 2 entries failed (server error 503): next try in 20 s"]),
    ((HISTORY, 403, None, None), ["sending 2 entries failed (unexpected answer 403): next try in 20 s"]),
    ((HISTORY, 429, "30", None), ["Simkl asked to slow down (429): next try in 30 s"]),
    ((HISTORY, 401, None, None), ["Simkl rejected the login: 2 watches stay queued until the next login"]),
])
def test_the_log_tells_what_became_of_each_request(watched, outbox, server, seen, fault, lines):
    if fault:
        path, status, retry_after, body = fault
        server.fail(path, status, retry_after=retry_after, body=body)
    outbox.add(movie(1))
    outbox.add(movie(2))

    watched.flush()
    assert seen.lines == lines


def test_the_log_names_an_entry_simkl_refused_and_why(watched, outbox, server, seen):
    server.refused_ids.add("imdb=tt0000001")
    outbox.add(movie(1))

    watched.flush()
    assert seen.lines == ["Simkl refused Movie 1 (2001) (400 wrong_parameter); kept for the user to retry or discard"]


def test_before_each_batch_the_service_may_end_the_flush_and_what_waits_stays_pending(outbox, server, clock, store):
    """before_batch runs before every batch; False (library marks still coming) ends the flush there."""
    answers = iter([True, False])
    calls = Calls()

    def before_batch():
        calls()
        return next(answers)

    for n in range(BATCH_SIZE + 1):
        outbox.add(movie(n + 1), watched_at=START - 60)
    flusher = Flusher(outbox, make_client(server, clock, store), clock=clock, rng=lambda: 1.0,
                      before_batch=before_batch)

    assert flusher.flush() == BATCH_SIZE
    assert calls.count == 2
    assert len(server.requests_to(HISTORY)) == 1
    assert outbox.counts()["pending"] == 1


# --- ratings: POST /sync/ratings and /sync/ratings/remove ---------------------------------------------

RATINGS, UNRATE = "/sync/ratings", "/sync/ratings/remove"


def test_ratings_go_to_sync_ratings_with_title_year_ids_rating_and_the_moment_of_the_choice(flusher, outbox,
                                                                                           server):
    outbox.add_rating(movie(1), 8, rated_at=START - 7200, library="movie:1")
    outbox.add_rating(show(1), 10, rated_at="2026-05-14T21:30:00+01:00")

    assert flusher.flush() == 2

    (request,) = server.requests_to(RATINGS)
    assert request.json == {
        "movies": [{"title": "Movie 1", "year": 2001, "ids": {"imdb": "tt0000001", "tmdb": 1001}, "rating": 8,
                    "rated_at": "2026-05-14T18:00:00Z"}],
        "shows": [{"title": "Show 1", "year": 2011, "ids": {"tvdb": 70001, "imdb": "tt9900001"}, "rating": 10,
                   "rated_at": "2026-05-14T20:30:00Z"}]}
    assert server.requests_to(HISTORY) == [] and server.watches == []  # a rating is never sent as a watch
    assert outbox.counts()["sent"] == 2 and outbox.ratings_waiting() == set()
    assert [(c.key, c.rating) for c in server.rating_changes] == [("movie:imdb=tt0000001", 8),
                                                                   ("show:imdb=tt9900001", 10)]


def test_a_removal_goes_to_sync_ratings_remove_with_the_ids_and_no_rating(flusher, outbox, server):
    outbox.add_rating(movie(1), 0)
    outbox.add_rating(show(1), 0)

    assert flusher.flush() == 2

    (request,) = server.requests_to(UNRATE)
    assert request.json == {"movies": [{"title": "Movie 1", "year": 2001, "ids": {"imdb": "tt0000001", "tmdb": 1001}}],
                            "shows": [{"title": "Show 1", "year": 2011, "ids": {"tvdb": 70001, "imdb": "tt9900001"}}]}
    assert server.requests_to(RATINGS) == [] and server.requests_to(HISTORY) == []
    assert outbox.counts()["sent"] == 2


def test_a_rating_change_and_its_removal_reach_simkl_in_the_order_they_were_made(flusher, outbox, server, clock):
    outbox.add_rating(movie(1), 8)
    outbox.add_rating(movie(1), 9)
    outbox.add_rating(movie(1), 0)
    outbox.add_rating(movie(1), 6)

    assert run_until(flusher, clock, lambda: outbox.counts()["pending"] == 0)

    assert [(c.key, c.rating) for c in server.rating_changes] == [("movie:imdb=tt0000001", r) for r in (8, 9, 0, 6)]
    assert [len(r.json["movies"]) for r in server.requests if r.path in (RATINGS, UNRATE)] == [1, 1, 1, 1]
    simkl = server.library.simkl_id("movie", movie(1).ids)
    assert server.ratings[simkl]["rating"] == 6
    assert server.violations == []


def test_ratings_and_watches_never_share_a_request(flusher, outbox, server):
    outbox.add(movie(1))
    outbox.add_rating(movie(1), 8)
    outbox.add(movie(2), kind="remove")
    outbox.add_rating(movie(2), 0)

    assert flusher.flush() == 4

    assert sorted(r.path for r in server.requests) == [HISTORY, REMOVE, RATINGS, UNRATE]


def test_a_rated_title_simkl_does_not_know_needs_attention_as_not_found(outbox, server, clock, store, seen):
    told = []
    flusher = Flusher(outbox, make_client(server, clock, store), clock=clock, rng=lambda: 1.0,
                      on_sent=seen.on_sent, on_attention=told.append)
    server.unknown_ids = {"imdb=tt0000002"}
    outbox.add_rating(movie(1), 8)
    outbox.add_rating(movie(2), 7, library="movie:2")
    outbox.add_rating(show(1), 0)

    assert flusher.flush() == 2

    assert [(a.label, a.state) for a in outbox.attention()] == [("Movie 2 (2002)", "not_found")]
    assert [[entry.item for entry in entries] for entries in told] == [[movie(2)]]
    assert outbox.ratings_waiting() == {"movie:2"}


def test_a_refused_rating_is_kept_alone_and_the_others_of_its_batch_go_through(flusher, outbox, server):
    server.refused_ids.add("imdb=tt0000003")
    for n in range(1, 9):
        outbox.add_rating(movie(n), n)

    assert flusher.flush() == 7

    assert [(a.label, a.state, a.reason) for a in outbox.attention()] == [
        ("Movie 3 (2003)", "refused", "400 wrong_parameter")]
    assert sorted(c.rating for c in server.rating_changes) == [1, 2, 4, 5, 6, 7, 8]


@pytest.mark.parametrize("status, error", [(503, "server"), (0, "network"), (429, "rate_limited")])
def test_a_rating_that_could_not_be_sent_is_retried_with_backoff_and_reaches_simkl_once(flusher, outbox, server,
                                                                                          clock, status, error):
    server.fail(RATINGS, status, times=2)
    outbox.add_rating(movie(1), 8)

    assert flusher.flush() == 0
    assert rows(outbox) == [("pending", error)]
    assert 10 <= wait_of(outbox, clock) <= 40

    assert run_until(flusher, clock, lambda: outbox.counts()["sent"] == 1)
    assert [c.rating for c in server.rating_changes] == [8]


def test_a_rating_waits_for_a_login_after_a_401(flusher, outbox, server, clock, store, expired):
    server.revoke_all()
    outbox.add_rating(movie(1), 8)

    assert flusher.flush() == 0
    assert flusher.auth_blocked and expired.count == 1
    assert rows(outbox) == [("pending", "login_needed")] and flusher.next_due() is None

    store.save({"access_token": server.issue_token("again-%d"), "flow": "v1"})
    flusher.resume()
    assert flusher.flush() == 1 and [c.rating for c in server.rating_changes] == [8]


def test_a_rating_simkl_took_is_reported_sent_but_never_as_a_rewatch(watched, outbox, seen):
    outbox.add_rating(movie(1), 8)

    assert watched.flush() == 1
    assert seen.sent == [[movie(1)]] and seen.rewatches == []


@pytest.mark.parametrize("old, new", [(8, 9), (8, 0), (0, 7)])
def test_retrying_an_old_refused_rating_never_undoes_a_newer_delivered_one(flusher, outbox, server, clock, old, new):
    server.refused_ids.add("imdb=tt0000001")
    refused = outbox.add_rating(movie(1), old)
    assert flusher.flush() == 0 and [a.id for a in outbox.attention()] == [refused]
    server.refused_ids.clear()
    clock.now += 3600
    outbox.add_rating(movie(1), new)  # the user changed their mind, and that reached Simkl
    assert flusher.flush() == 1

    outbox.retry_attention([refused])  # "Retry all"
    flusher.flush()

    delivered = [r for r in server.requests if r.path in (RATINGS, UNRATE) and r.status == 201]
    assert [(r.path, r.json["movies"][0].get("rating")) for r in delivered] == [(RATINGS if new else UNRATE,
                                                                               new or None)]
    assert outbox.attention() == [] and outbox.counts()["pending"] == 0
