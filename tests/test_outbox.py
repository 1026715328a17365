"""The outbox through a real sqlite file: durability, 48-hour dedupe, batches, retries, corruption."""
import json
import os
import sqlite3
import threading
import time

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings

from lib.scrobbler.delivery.outbox import SCHEMA_VERSION, Kept, Outbox
from lib.scrobbler.media import Episode, Movie, Show
from lib.scrobbler.simkl.auth import Owner

HOUR = 3600.0
START = 1778788800.0  # 2026-05-14T20:00:00Z

EMPTY = {"unresolved": 0, "pending": 0, "sent": 0, "unidentified": 0, "not_found": 0, "refused": 0}
# The queue file as 0.3.3 writes it (schema version 2): what earlier versions check when they open it.
OUTBOX_V2_SCHEMA = """
    CREATE TABLE entries (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, item TEXT NOT NULL,
        item_key TEXT NOT NULL, watched_at TEXT NOT NULL, rewatch INTEGER NOT NULL DEFAULT 0, rewatch_id TEXT,
        state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0, next_try REAL NOT NULL,
        last_error TEXT, created REAL NOT NULL, updated REAL NOT NULL, detail TEXT);
    CREATE INDEX entries_due ON entries (state, next_try);
    CREATE INDEX entries_key ON entries (item_key, kind);
    PRAGMA user_version = 2;"""


class Clock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def movie(n: int = 1) -> Movie:
    return Movie("Movie %d" % n, 2000 + n, {"imdb": "tt%07d" % n})


def episode(number: int = 1, season: int = 1) -> Episode:
    return Episode("Show", season, number, 2010, {"tvdb": 4242}, "Episode %d" % number, {})


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "outbox.db")


@pytest.fixture
def box(db, clock):
    outbox = Outbox(db, clock=clock)
    yield outbox
    outbox.close()


def ids(entries):
    return [entry.id for entry in entries]


# --- durability --------------------------------------------------------------------------

def test_added_watch_survives_a_restart(db, clock):
    first = Outbox(db, clock=clock)
    entry_id = first.add(episode(3), watched_at="2026-05-14T19:00:00Z")
    first.close()

    second = Outbox(db, clock=clock)
    [entry] = second.take_batch()
    assert entry.id == entry_id
    assert entry.item == episode(3)
    assert entry.watched_at == "2026-05-14T19:00:00Z"
    assert (entry.kind, entry.rewatch, entry.rewatch_id, entry.attempts) == ("add", False, None, 0)
    second.close()


def test_add_is_committed_before_it_returns(box, db):
    box.add(movie())
    other = sqlite3.connect(db)
    assert other.execute("SELECT COUNT(*) FROM entries").fetchone()[0] == 1
    other.close()


def test_schema_carries_a_user_version(box, db):
    other = sqlite3.connect(db)
    assert other.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 1
    other.close()


def test_missing_addon_data_folder_is_created(tmp_path, clock):
    outbox = Outbox(str(tmp_path / "addon_data" / "service.scrobbler.simkl" / "outbox.db"), clock=clock)
    assert outbox.add(movie()) is not None
    outbox.close()


# --- watched_at --------------------------------------------------------------------------

def test_watched_at_defaults_to_the_clock_as_iso_utc_seconds(box, clock):
    clock.now = START + 0.75
    box.add(movie())
    assert box.take_batch()[0].watched_at == "2026-05-14T20:00:00Z"


@pytest.mark.parametrize("given", [START - HOUR, "2026-05-14T19:00:00Z", "2026-05-14T19:00:00.400+00:00",
                                   "2026-05-14T21:00:00+02:00", "2026-05-14T19:00:00"])
def test_watched_at_from_the_caller_is_stored_as_iso_utc_seconds(box, given):
    box.add(movie(), watched_at=given)
    assert box.take_batch()[0].watched_at == "2026-05-14T19:00:00Z"


def test_unknown_entry_kind_is_rejected(box):
    with pytest.raises(ValueError):
        box.add(movie(), kind="scrobble")


# --- 48-hour dedupe ----------------------------------------------------------------------

def test_same_item_again_within_48_hours_is_not_queued(box, clock):
    assert box.add(episode(1)) is not None
    clock.now += 47 * HOUR
    assert box.add(episode(1)) is None
    assert box.counts()["pending"] == 1


def test_dedupe_holds_after_the_first_add_was_sent(box, clock):
    box.mark_sent([box.add(movie())])
    clock.now += HOUR
    assert box.add(movie()) is None


def test_replay_with_the_same_watched_at_is_not_queued(box, clock):
    box.add(movie(), watched_at="2026-05-10T12:00:00Z")
    clock.now += 10 * HOUR
    assert box.add(movie(), watched_at="2026-05-10T12:00:00Z") is None


def test_same_item_again_after_48_hours_is_queued(box, clock):
    box.add(episode(1))
    clock.now += 48 * HOUR
    assert box.add(episode(1)) is not None
    assert box.counts()["pending"] == 2


def test_add_after_a_remove_of_that_item_is_queued_within_48_hours(box, clock):
    box.add(movie())
    clock.now += HOUR
    box.add(movie(), kind="remove")
    clock.now += HOUR
    assert box.add(movie()) is not None
    clock.now += HOUR
    assert box.add(movie()) is None


def test_a_remove_before_the_previous_add_does_not_lift_the_dedupe(box, clock):
    box.add(movie(), kind="remove")
    clock.now += HOUR
    box.add(movie())
    clock.now += HOUR
    assert box.add(movie()) is None


def test_different_items_are_not_duplicates(box):
    assert box.add(episode(1)) is not None
    assert box.add(episode(2)) is not None
    assert box.add(movie()) is not None


def test_rewatch_adds_are_never_deduplicated(box, clock):
    box.add(episode(1))
    assert box.add(episode(1), rewatch=True, rewatch_id="r1") is not None
    clock.now += HOUR
    assert box.add(episode(1), rewatch=True, rewatch_id="r1") is not None
    assert box.counts()["pending"] == 3


def test_removes_are_never_deduplicated(box):
    assert box.add(movie(), kind="remove") is not None
    assert box.add(movie(), kind="remove") is not None


def test_last_watched_is_the_newest_add_in_any_state(box, clock):
    assert box.last_watched(movie().key()) is None
    box.mark_sent([box.add(movie(), watched_at=START - 50 * HOUR)])
    box.add(movie(), watched_at=START - HOUR, rewatch=True, rewatch_id="r1")
    box.add(movie(), kind="remove")
    assert box.last_watched(movie().key()) == START - HOUR


# --- batches -----------------------------------------------------------------------------

def test_batches_hold_at_most_100_entries_oldest_first(box, clock):
    added = []
    for n in range(250):
        clock.now += 1
        added.append(box.add(movie(n)))
    batches = []
    while True:
        batch = box.take_batch()
        if not batch:
            break
        batches.append(ids(batch))
        box.mark_sent(ids(batch))
    assert [len(batch) for batch in batches] == [100, 100, 50]
    assert sum(batches, []) == added


def test_batch_limit_can_be_lowered(box):
    for n in range(5):
        box.add(movie(n))
    assert len(box.take_batch(limit=2)) == 2


def test_batch_rebuilds_the_media_objects(box):
    box.add(movie(7))
    box.add(episode(4, season=2))
    assert [entry.item for entry in box.take_batch()] == [movie(7), episode(4, season=2)]


def test_rewatch_entries_never_travel_with_ordinary_adds(box):
    ordinary = [box.add(episode(1)), box.add(episode(2))]
    rewatch = box.add(episode(3), rewatch=True, rewatch_id="r1")
    ordinary.append(box.add(episode(4)))
    first = box.take_batch()
    assert ids(first) == ordinary
    box.mark_sent(ids(first))
    [second] = box.take_batch()
    assert (second.id, second.rewatch, second.rewatch_id) == (rewatch, True, "r1")


def test_removes_never_travel_with_adds(box):
    removed = box.add(movie(1), kind="remove")
    added = box.add(movie(2))
    assert ids(box.take_batch()) == [removed]
    box.mark_sent([removed])
    assert ids(box.take_batch()) == [added]


def test_different_rewatch_sessions_never_share_a_batch(box):
    first = box.add(Show("Show", 2010, {"tvdb": 4242}), rewatch=True, rewatch_id="r1")
    second = box.add(episode(1), rewatch=True, rewatch_id="r2")
    also_first = box.add(episode(2), rewatch=True, rewatch_id="r1")
    assert ids(box.take_batch()) == [first, also_first]
    box.mark_sent([first, also_first])
    assert ids(box.take_batch()) == [second]


def test_batch_is_empty_when_nothing_is_pending(box):
    assert box.take_batch() == []


# --- acknowledgement and retries ---------------------------------------------------------

def test_deferred_entries_are_not_due_until_the_given_time(box, clock):
    entry_id = box.add(movie())
    box.defer([entry_id], until=START + 600, error="HTTP 503")
    assert box.take_batch() == []
    assert box.next_due() == START + 600
    assert box.last_error() == "HTTP 503"
    clock.now = START + 599
    assert box.take_batch() == []
    clock.now = START + 600
    [entry] = box.take_batch()
    assert (entry.id, entry.attempts) == (entry_id, 1)
    assert box.counts()["pending"] == 1


def test_defer_counts_attempts(box):
    entry_id = box.add(movie())
    box.defer([entry_id], until=START, error="timeout")
    box.defer([entry_id], until=START, error="HTTP 502")
    assert box.take_batch()[0].attempts == 2
    assert box.last_error() == "HTTP 502"


def test_due_entries_go_ahead_of_deferred_older_ones(box):
    older = box.add(movie(1))
    newer = box.add(movie(2))
    box.defer([older], until=START + 60, error="HTTP 500")
    assert ids(box.take_batch()) == [newer]


def test_mark_sent_and_mark_not_found_update_counts(box):
    first, second, third, fourth = [box.add(movie(n)) for n in range(4)]
    box.mark_sent([first, second])
    box.mark_not_found([third])
    assert box.counts() == dict(EMPTY, pending=1, sent=2, not_found=1)
    assert ids(box.take_batch()) == [fourth]


def test_counts_are_zero_for_an_empty_queue(box):
    assert box.counts() == dict(EMPTY, pending=0, sent=0, not_found=0)


def test_retry_now_makes_every_pending_entry_due(box, clock):
    first, second = box.add(movie(1)), box.add(movie(2))
    box.defer([first], until=START + HOUR, error="HTTP 503")
    box.defer([second], until=START + 2 * HOUR, error="HTTP 503")
    clock.now += 5
    box.retry_now()
    assert box.next_due() <= clock.now
    assert ids(box.take_batch()) == [first, second]


def test_a_new_entry_is_due_whatever_clock_the_interpreter_that_added_it_reads(db, clock):
    script = Outbox(db, clock=lambda: clock.now + 86400)  # a script, its wall clock a day ahead
    entry = script.add(movie(1))
    script.close()

    assert ids(Outbox(db, clock=clock).take_batch()) == [entry]


def test_entries_simkl_did_not_find_are_listed_by_label_newest_first(box):
    box.mark_not_found([box.add(movie(1)), box.add(episode(5, 2)), box.add(movie(3))])
    assert [a.label for a in box.attention()] == ["Movie 3 (2003)", "Show S02E05", "Movie 1 (2001)"]
    assert [a.label for a in box.attention(limit=1)] == ["Movie 3 (2003)"]


def test_next_due_is_none_when_nothing_is_pending(box):
    assert box.next_due() is None
    box.mark_sent([box.add(movie())])
    assert box.next_due() is None


def test_next_due_is_the_earliest_pending_try(box, clock):
    first, second = box.add(movie(1)), box.add(movie(2))
    box.defer([first], until=START + 300, error="x")
    box.defer([second], until=START + 100, error="x")
    assert box.next_due() == START + 100


def test_last_error_is_none_once_nothing_is_pending(box):
    assert box.last_error() is None
    entry_id = box.add(movie())
    box.defer([entry_id], until=START, error="HTTP 503")
    box.mark_sent([entry_id])
    assert box.last_error() is None



# --- what the status view reads ----------------------------------------------------------

def test_waiting_lists_pending_and_unresolved_entries_oldest_first_with_their_watch_time(box, clock):
    first = box.add(movie(1), START - HOUR)
    lookup = box.add_unresolved({"title": "Home Video", "label": "home.mkv"}, START - 60)
    box.mark_sent([box.add(movie(2), START)])
    box.mark_not_found([box.add(movie(3), START)])
    third = box.add(episode(4), START - 30)
    box.defer([third], until=START + 300, error="network")

    waiting = box.waiting_entries(limit=5)

    assert [(w.id, w.state, w.label, w.watched_at) for w in waiting] == [
        (first, "pending", "Movie 1 (2001)", "2026-05-14T19:00:00Z"),
        (lookup, "unresolved", "Home Video", "2026-05-14T19:59:00Z"),
        (third, "pending", "Show S01E04", "2026-05-14T19:59:30Z")]
    assert [w.id for w in box.waiting_entries(limit=2)] == [first, lookup]


def test_an_unresolved_entry_without_a_title_is_listed_by_its_label(box):
    box.add_unresolved({"media_type": "movie", "dbid": 4, "label": "movie 4"}, START)
    assert [w.label for w in box.waiting_entries()] == ["movie 4"]


def test_last_deferral_tells_why_and_until_when_the_latest_failed_entry_waits(box, clock):
    assert box.last_deferral() is None
    first, second = box.add(movie(1)), box.add(movie(2))
    box.defer([first], until=START + 600, error="server")
    clock.now += 10
    box.defer([second], until=START + 900, error="rate_limited")
    assert box.last_deferral() == ("rate_limited", START + 900)
    box.mark_sent([second])
    assert box.last_deferral() == ("server", START + 600)


def test_states_tell_each_entry_state_attempts_and_last_error(box):
    first, second = box.add(movie(1)), box.add(movie(2))
    box.defer([first], until=START, error="network")
    box.mark_sent([second])
    assert box.states([first, second, 999]) == {first: ("pending", 1, "network"), second: ("sent", 0, None)}
    assert box.states([]) == {}

# --- pruning -----------------------------------------------------------------------------

def test_prune_deletes_sent_entries_older_than_the_age(box, clock):
    old = box.add(movie(1))
    box.mark_sent([old])
    clock.now += 10 * 86400
    recent = box.add(movie(2))
    box.mark_sent([recent])
    pending = box.add(movie(3))
    clock.now += 25 * 86400
    assert box.prune(older_than_days=30) == 1
    assert box.counts() == dict(EMPTY, pending=1, sent=1, not_found=0)
    assert ids(box.take_batch()) == [pending]


def test_prune_keeps_entries_the_48_hour_dedupe_still_needs(box, clock):
    box.mark_sent([box.add(movie())])
    clock.now += HOUR
    assert box.prune(older_than_days=0) == 0
    assert box.add(movie()) is None
    clock.now += 48 * HOUR
    assert box.prune(older_than_days=0) == 1


# --- corrupt files -----------------------------------------------------------------------

def corrupt_garbage(path: str) -> None:
    with open(path, "wb") as handle:
        handle.write(b"this is not an sqlite database \x00\xff" * 200)


def corrupt_truncated(path: str) -> None:
    outbox = Outbox(path)
    for n in range(300):
        outbox.add(movie(n))
    outbox.close()
    with open(path, "rb") as handle:
        data = handle.read()
    with open(path, "wb") as handle:
        handle.write(data[:len(data) // 2])


def corrupt_other_schema(path: str) -> None:
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE queue (id INTEGER PRIMARY KEY, payload TEXT)")
    other.execute("INSERT INTO queue (payload) VALUES ('x')")
    other.commit()
    other.close()


def corrupt_same_version_other_columns(path: str) -> None:
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE entries (id INTEGER PRIMARY KEY, payload TEXT)")
    other.execute("PRAGMA user_version = %d" % SCHEMA_VERSION)
    other.commit()
    other.close()


def corrupt_newer_version(path: str) -> None:
    Outbox(path).close()
    other = sqlite3.connect(path)
    other.execute("PRAGMA user_version = %d" % (SCHEMA_VERSION + 1))
    other.commit()
    other.close()


@pytest.mark.parametrize("corrupt", [corrupt_garbage, corrupt_truncated, corrupt_other_schema,
                                     corrupt_same_version_other_columns, corrupt_newer_version])
def test_unreadable_file_is_moved_aside_with_one_log_line_and_a_fresh_queue_works(tmp_path, clock, corrupt):
    path = str(tmp_path / "outbox.db")
    corrupt(path)
    with open(path, "rb") as handle:
        original = handle.read()
    lines = []

    outbox = Outbox(path, clock=clock, log=lines.append)

    aside = path + ".corrupt-%d" % START
    assert len(lines) == 1
    assert "moved it to " + aside in lines[0]
    with open(aside, "rb") as handle:
        assert handle.read() == original
    assert outbox.counts() == dict(EMPTY, pending=0, sent=0, not_found=0)
    entry_id = outbox.add(movie())
    assert ids(outbox.take_batch()) == [entry_id]
    outbox.close()
    assert Outbox(path, clock=clock, log=lines.append).counts()["pending"] == 1
    assert len(lines) == 1


def test_a_second_corrupt_file_in_the_same_second_does_not_overwrite_the_first(tmp_path, clock):
    path = str(tmp_path / "outbox.db")
    for _ in range(2):
        corrupt_garbage(path)
        Outbox(path, clock=clock).close()
    assert sorted(os.listdir(str(tmp_path))) == ["outbox.db", "outbox.db.corrupt-%d" % START,
                                                 "outbox.db.corrupt-%d-1" % START]


def test_healthy_file_opens_without_logging(db, clock):
    lines = []
    Outbox(db, clock=clock, log=lines.append).close()
    Outbox(db, clock=clock, log=lines.append).close()
    assert lines == []


def test_a_path_sqlite_cannot_open_raises_and_is_left_in_place(tmp_path, clock):
    path = tmp_path / "outbox.db"
    path.mkdir()
    lines = []
    with pytest.raises(sqlite3.OperationalError):
        Outbox(str(path), clock=clock, log=lines.append)
    assert path.is_dir()
    assert lines == []


# --- two processes, two threads ----------------------------------------------------------

def test_two_outboxes_on_one_file_see_each_others_writes(db, clock):
    service, script = Outbox(db, clock=clock), Outbox(db, clock=clock)
    from_script = script.add(episode(1), rewatch=True, rewatch_id="r1")
    from_service = service.add(movie())
    assert ids(service.take_batch()) == [from_script]
    service.mark_sent([from_script])
    assert ids(script.take_batch()) == [from_service]
    assert script.counts() == dict(EMPTY, pending=1, sent=1, not_found=0)
    assert script.add(movie()) is None
    service.close()
    script.close()


def test_two_threads_adding_at_once_lose_nothing(box):
    def add_many(offset: int) -> None:
        for n in range(50):
            box.add(movie(offset + n))

    threads = [threading.Thread(target=add_many, args=(offset,)) for offset in (0, 1000)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert box.counts()["pending"] == 100


def test_add_remove_add_of_one_title_reach_simkl_in_that_order(box, clock):
    first_add = box.add(movie(1))
    other = box.add(movie(2))
    remove = box.add(movie(1), kind="remove")
    clock.now += 60
    second_add = box.add(movie(1))  # a remove came in between, so this is no repeat
    assert ids(box.take_batch()) == [first_add, other]
    box.mark_sent([first_add, other])
    assert ids(box.take_batch()) == [remove]
    box.mark_sent([remove])
    assert ids(box.take_batch()) == [second_add]


# --- order per title, whatever the retry state -----------------------------------------------------

def test_a_backed_off_add_is_never_overtaken_by_a_newer_remove_of_the_same_title(box, clock):
    add = box.add(movie(1))
    box.defer([add], clock.now + HOUR, "server")  # its send failed: backing off
    remove = box.add(movie(1), kind="remove")
    other = box.add(movie(2), kind="remove")

    assert ids(box.take_batch()) == [other]
    box.mark_sent([other])
    clock.now += HOUR
    assert ids(box.take_batch()) == [add]
    box.mark_sent([add])
    assert ids(box.take_batch()) == [remove]


def test_a_backed_off_remove_holds_a_newer_add_of_the_same_title(box, clock):
    remove = box.add(movie(1), kind="remove")
    box.defer([remove], clock.now + HOUR, "server")
    add = box.add(movie(1))

    assert box.take_batch() == []
    clock.now += HOUR
    assert ids(box.take_batch()) == [remove]
    box.mark_sent([remove])
    assert ids(box.take_batch()) == [add]


def test_excluded_entries_are_not_taken_and_hold_their_titles(box):
    first, second = box.add(movie(1)), box.add(movie(2))

    assert ids(box.take_batch(exclude=[first])) == [second]


# --- unresolved watches --------------------------------------------------------------------------

REPORT = {"media_type": "movie", "dbid": 12, "path": "/media/Heat (1995)/Heat.mkv", "title": "Heat"}


def test_an_unresolved_watch_is_committed_at_once_with_its_watched_at(db, clock):
    outbox = Outbox(db, clock=clock)
    entry_id = outbox.add_unresolved(REPORT, START - 60)
    outbox.close()  # Kodi quits before the title is known

    reopened = Outbox(db, clock=clock)
    (waiting,) = reopened.unresolved()
    assert (waiting.id, waiting.kind, waiting.report) == (entry_id, "add", REPORT)
    assert waiting.watched_at == "2026-05-14T19:59:00Z"
    assert reopened.counts() == dict(EMPTY, unresolved=1)
    assert reopened.take_batch() == []


def test_a_resolved_watch_becomes_pending_with_its_title_and_original_watched_at(box):
    entry_id = box.add_unresolved(REPORT, START - 60)

    assert box.resolved(entry_id, movie(1)) is True

    (entry,) = box.take_batch()
    assert (entry.id, entry.item, entry.watched_at) == (entry_id, movie(1), "2026-05-14T19:59:00Z")
    assert box.unresolved() == []


def test_a_resolved_watch_that_repeats_one_of_the_last_48_hours_is_dropped(box, clock):
    box.add(movie(1), START - HOUR)
    entry_id = box.add_unresolved(REPORT, START)

    assert box.resolved(entry_id, movie(1)) is False
    assert box.counts() == dict(EMPTY, pending=1)


def test_an_episode_counted_twice_in_one_rewatch_session_is_kept_once(box):
    session = ("session:show:tvdb=4242", "rw-1")
    first = box.add_unresolved(REPORT, START)
    again = box.add_unresolved(REPORT, START + HOUR)
    box.add(episode(1), START - 200 * HOUR)  # the first viewing, long before

    assert box.resolved(first, episode(1), rewatch=True, rewatch_id="rw-1", session_ids=session) is True
    assert box.resolved(again, episode(1), rewatch=True, rewatch_id="session:show:tvdb=4242",
                        session_ids=session) is False
    assert box.counts()["pending"] == 2


def test_an_unidentified_watch_needs_attention_and_a_retry_looks_it_up_again(box):
    entry_id = box.add_unresolved(dict(REPORT, title="Home Video"), START)

    box.unidentified(entry_id, "no ids")

    (waiting,) = box.attention()
    assert (waiting.state, waiting.label, waiting.reason) == ("unidentified", "Home Video", "no ids")
    assert box.retry_attention([entry_id]) == 1
    assert [u.id for u in box.unresolved()] == [entry_id]


def test_a_deferred_lookup_is_not_due_before_its_time(box, clock):
    entry_id = box.add_unresolved(REPORT, START)

    box.defer_unresolved(entry_id, clock.now + 60, "network")

    assert box.unresolved() == [] and box.next_unresolved_due() == clock.now + 60
    clock.now += 60
    assert [u.attempts for u in box.unresolved()] == [1]


# --- entries that need the user ------------------------------------------------------------------

def test_refused_entries_keep_simkls_reason_until_the_user_retries_or_discards(box):
    kept, dropped, fine = box.add(movie(1)), box.add(movie(2)), box.add(movie(3))
    box.refuse([kept, dropped], "wrong_parameter")

    assert {(a.id, a.state, a.reason) for a in box.attention()} == {(kept, "refused", "wrong_parameter"),
                                                                    (dropped, "refused", "wrong_parameter")}
    assert ids(box.take_batch()) == [fine]
    assert box.discard_attention([dropped]) == 1
    assert box.retry_attention([kept]) == 1
    assert set(ids(box.take_batch())) == {kept, fine}
    assert box.attention() == []


def test_retry_and_discard_apply_only_to_the_ids_named_that_still_need_attention(box):
    shown = [box.add(movie(1)), box.add(movie(2))]
    box.mark_not_found(shown[:1])
    box.refuse(shown[1:], "x")
    later = box.add(movie(3))
    box.refuse([later], "x")  # reached Needs attention after the user's list was read
    sent = box.add(movie(4))
    box.mark_sent([sent])

    assert box.retry_attention(shown + [sent]) == 2
    box.refuse(ids(box.take_batch()), "y")
    assert box.discard_attention(shown + [sent]) == 2
    assert [a.id for a in box.attention()] == [later] and box.counts() == dict(EMPTY, sent=1, refused=1)


def test_retry_drops_only_an_entry_that_a_newer_delivered_change_of_its_title_undid(box, clock):
    watched = box.add(movie(1))
    box.mark_sent([watched])
    unmark = box.add(movie(1), kind="remove")  # refused after an older delivered watch: sent again
    undone = box.add(movie(2), kind="remove")  # refused, then undone by a newer delivered watch: dropped
    again = box.add(movie(3))  # refused, then watched again (delivered): nothing undone, sent again
    before = box.add(movie(4), kind="remove")  # refused, then watched again (not sent yet): goes first
    box.refuse([unmark, undone, again, before], "x")
    clock.now += 49 * HOUR
    box.mark_sent([box.add(movie(2)), box.add(movie(3))])
    box.add(movie(4))

    assert box.retry_attention([unmark, undone, again, before]) == 3
    first = ids(box.take_batch())
    assert sorted(first + ids(box.take_batch(exclude=first))) == [unmark, again, before]
    assert box.attention() == [] and box.counts() == dict(EMPTY, pending=4, sent=3)


def test_retry_and_discard_with_an_empty_list_change_nothing(box):
    box.refuse([box.add(movie(1))], "x")

    assert box.retry_attention([]) == 0 and box.discard_attention([]) == 0
    assert len(box.attention()) == 1


def test_no_statement_binds_more_parameters_than_an_old_sqlite_allows(db, clock, sqlite_999):
    with Outbox(db, clock=clock) as box:
        assert box.add_many((movie(n), START) for n in range(2000)) == 2000
        every = list(range(1, 2001))
        other = sqlite3.connect(db)  # the limit holds: a statement with 1000 parameters fails
        with pytest.raises(sqlite3.OperationalError, match="too many SQL variables"):
            other.execute("SELECT 1 FROM entries WHERE id IN (%s)" % ",".join("?" * 1000), every[:1000])
        other.close()

        assert len(box.take_batch(limit=2000)) == 2000
        assert box.next_due(exclude=every[:1999]) == 0.0 and box.next_due(exclude=every) is None
        assert len(box.states(every)) == 2000
        box.refuse(every, "x")
        assert box.attention_count() == 2000
        assert box.retry_attention(every[:1500]) == 1500
        box.refuse(every, "x")
        assert box.discard_attention(every[:1500]) == 1500
        assert box.counts() == dict(EMPTY, refused=500)
        session = tuple("pending:%d" % n for n in range(1500)) + ("77",)
        box.add(episode(1), rewatch=True, rewatch_id="77")
        assert box.resolved(box.add_unresolved(REPORT, START), episode(1), rewatch=True, rewatch_id="77",
                            session_ids=session) is False  # a repeat within the session


# --- clocks and the 0.1 queue --------------------------------------------------------------------

def test_a_wait_written_before_the_clock_went_back_a_day_is_due_at_once(db, clock):
    outbox = Outbox(db, clock=clock)
    entry = outbox.add(movie(1))
    outbox.defer([entry], clock.now + 600, "server")
    outbox.close()
    clock.now -= 86400 + 1  # the wall clock was a day ahead and got corrected

    assert ids(Outbox(db, clock=clock).take_batch()) == [entry]


def test_a_version_1_queue_is_upgraded_with_every_entry_kept(db, clock):
    old = sqlite3.connect(db)
    old.executescript("""
        CREATE TABLE entries (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, item TEXT NOT NULL,
            item_key TEXT NOT NULL, watched_at TEXT NOT NULL, rewatch INTEGER NOT NULL DEFAULT 0, rewatch_id TEXT,
            state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0, next_try REAL NOT NULL,
            last_error TEXT, created REAL NOT NULL, updated REAL NOT NULL);
        CREATE INDEX entries_due ON entries (state, next_try);
        CREATE INDEX entries_key ON entries (item_key, kind);
        PRAGMA user_version = 1;""")
    old.execute("INSERT INTO entries (kind, item, item_key, watched_at, next_try, created, updated) VALUES"
                " ('add', ?, ?, '2026-05-14T19:00:00Z', 0, 0, 0)",
                ('{"type": "movie", "title": "Movie 1", "year": 2001, "ids": {"imdb": "tt0000001"}}',
                 movie(1).key()))
    old.commit()
    old.close()

    upgraded = Outbox(db, clock=clock)

    (entry,) = upgraded.take_batch()
    assert (entry.item, entry.watched_at) == (movie(1), "2026-05-14T19:00:00Z")
    assert sqlite3.connect(db).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_pending_entry_that_failed_three_times_is_shown_as_stuck_and_the_user_can_retry_or_discard(box, clock):
    stuck, fresh = box.add(movie(1)), box.add(movie(2))
    for _ in range(3):
        box.defer([stuck], clock.now + HOUR, "server")
    box.defer([fresh], clock.now + HOUR, "network")

    assert [(a.id, a.state, a.reason) for a in box.attention()] == [(stuck, "pending", "server")]
    assert box.retry_attention([stuck, fresh]) == 1
    assert ids(box.take_batch()) == [stuck]
    for _ in range(3):
        box.defer([stuck], clock.now + HOUR, "server")
    assert box.discard_attention([stuck]) == 1
    assert box.counts() == dict(EMPTY, pending=1)


# --- edges the mutation run found untested ---------------------------------------------------------

def test_a_lowercase_z_and_a_string_without_offset_are_utc_whatever_the_local_zone(box, monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        assert box.add(movie(1), watched_at="2026-05-14T19:00:00z") is not None
        assert box.add(movie(2), watched_at="2026-05-14T19:00:00") is not None
    finally:
        monkeypatch.undo()
        time.tzset()
    assert [e.watched_at for e in box.take_batch()] == ["2026-05-14T19:00:00Z", "2026-05-14T19:00:00Z"]


def test_a_wait_of_an_hour_is_kept_across_a_restart(db, clock):
    outbox = Outbox(db, clock=clock)
    entry = outbox.add(movie(1))
    outbox.defer([entry], clock.now + HOUR, "server")
    outbox.close()

    reopened = Outbox(db, clock=clock)
    assert reopened.take_batch() == [] and reopened.next_due() == START + HOUR
    reopened.close()


def test_an_unknown_kind_is_refused_with_its_name_for_resolved_lookups_too(box):
    with pytest.raises(ValueError, match="^unknown outbox entry kind: 'watch'$"):
        box.add(movie(1), kind="watch")
    with pytest.raises(ValueError, match="^unknown outbox entry kind: 'watch'$"):
        box.add_unresolved(REPORT, START, kind="watch")
    assert box.counts() == EMPTY


def test_lookups_and_the_attention_list_come_50_at_a_time(box):
    for n in range(51):
        box.add_unresolved(dict(REPORT, dbid=n), START)
    for n in range(51):
        box.refuse([box.add(movie(n))], "x")

    assert len(box.unresolved()) == 50
    assert len(box.attention()) == 50


def test_resolving_an_entry_that_is_no_longer_waiting_for_its_title_does_nothing(box):
    entry_id = box.add_unresolved(REPORT, START)
    assert box.resolved(entry_id, movie(1)) is True

    assert box.resolved(entry_id, movie(2)) is False
    box.discard_attention([entry_id])
    assert box.resolved(entry_id + 1, movie(2)) is False
    assert [e.item for e in box.take_batch()] == [movie(1)]


def test_a_rewatch_session_episode_is_not_a_repeat_of_an_ordinary_watch_the_day_before(box):
    box.add(episode(1), START - 20 * HOUR)  # watched normally yesterday
    entry_id = box.add_unresolved(REPORT, START)

    assert box.resolved(entry_id, episode(1), rewatch=True, rewatch_id="rw-1",
                        session_ids=("session:show:tvdb=4242", "rw-1")) is True
    assert box.counts()["pending"] == 2


def test_a_rewatch_outside_any_session_is_never_a_repeat(box):
    box.add(movie(1), START - HOUR)
    entry_id = box.add_unresolved(REPORT, START)

    assert box.resolved(entry_id, movie(1), rewatch=True) is True
    assert box.rewatch_count(movie(1).key()) == 1


def test_session_pins_are_the_rewatch_ids_simkl_gave_sent_show_starts(box):
    show, other = Show("Show", 2010, {"tvdb": 4242}), Show("Other", 2011, {"tvdb": 4343})
    start = box.add(show, rewatch=True)
    film = box.add(movie(1), rewatch=True)
    box.add(other, rewatch=True, rewatch_id="not-sent-yet")

    box.record({("sent", None): [start, film]}, {start: "777", film: "888"})

    assert box.session_pins() == {show.key(): "777"}
    again = box.add(show, START + HOUR, rewatch=True)
    box.record({("sent", None): [again]}, {again: "999"})
    assert box.session_pins() == {show.key(): "999"}  # the newest session of a show wins


def test_a_title_is_waiting_while_an_entry_of_it_is_pending(box):
    entry = box.add(movie(1))
    assert box.waiting(movie(1).key()) and not box.waiting(movie(2).key())

    box.mark_sent([entry])
    assert not box.waiting(movie(1).key())


def test_rewatch_count_counts_only_the_rewatch_adds_of_that_title(box, clock):
    box.add(movie(1))
    box.add(movie(1), rewatch=True)
    box.add(movie(1), rewatch=True)
    box.add(movie(1), kind="remove", rewatch=True)
    box.add(movie(2), rewatch=True)

    assert box.rewatch_count(movie(1).key()) == 2
    assert box.rewatch_count(movie(3).key()) == 0


def test_an_unidentified_watch_is_labelled_by_its_title_else_its_label_else_a_question_mark(box):
    for report in (dict(REPORT, title="Heat"), {"label": "clip.mkv"}, {"path": "/media/x.mkv"}):
        box.unidentified(box.add_unresolved(report, START), "no ids")
    box.mark_not_found([box.add(movie(1), START - HOUR)])

    assert [(a.state, a.label, a.watched_at, a.reason) for a in box.attention()] == [
        ("not_found", "Movie 1 (2001)", "2026-05-14T19:00:00Z", ""),
        ("unidentified", "?", "2026-05-14T20:00:00Z", "no ids"),
        ("unidentified", "clip.mkv", "2026-05-14T20:00:00Z", "no ids"),
        ("unidentified", "Heat", "2026-05-14T20:00:00Z", "no ids")]


def test_the_user_can_retry_several_chosen_entries_at_once(box):
    first, second, third = (box.add(movie(n)) for n in (1, 2, 3))
    box.refuse([first, second, third], "x")

    assert box.retry_attention([first, third]) == 2
    assert ids(box.take_batch()) == [first, third]
    assert box.discard_attention([second, first]) == 1


def test_prune_by_default_deletes_what_was_sent_more_than_30_days_ago(box, clock):
    box.mark_sent([box.add(movie(1))])

    clock.now += 30 * 86400 - 10
    assert box.prune() == 0
    clock.now += 20
    assert box.prune() == 1


def test_an_entry_simkl_took_but_not_yet_recorded_does_not_hold_up_entries_tried_more_often(box, clock):
    taken = box.add(movie(1))
    retried = box.add(movie(2))
    box.defer([retried], clock.now, "server")

    assert ids(box.take_batch(exclude=[taken])) == [retried]


def test_a_due_entry_goes_while_an_entry_tried_fewer_times_waits_for_its_retry(box, clock):
    waiting, due = box.add(movie(1)), box.add(movie(2))
    box.defer([waiting], clock.now + HOUR, "server")
    box.defer([due], clock.now, "server")
    box.defer([due], clock.now, "server")

    assert ids(box.take_batch()) == [due]


def test_an_import_queues_many_watches_at_once_without_repeats(box):
    box.add(movie(3), START - HOUR)

    queued = box.add_many([(movie(1), START - 3 * HOUR), (movie(1), START - 2 * HOUR), (movie(3), START - 2 * HOUR),
                           (movie(2), "2026-05-14T18:00:00Z")])

    assert queued == 2
    assert [(e.item, e.watched_at, e.kind, e.rewatch) for e in box.take_batch()] == [
        (movie(3), "2026-05-14T19:00:00Z", "add", False), (movie(1), "2026-05-14T17:00:00Z", "add", False),
        (movie(2), "2026-05-14T18:00:00Z", "add", False)]


def open_logged(path, clock):
    lines = []
    Outbox(path, clock=clock, log=lines.append).close()
    return lines


@pytest.mark.parametrize("corrupt, why", [
    (corrupt_newer_version, "schema version %d, expected %d" % (SCHEMA_VERSION + 1, SCHEMA_VERSION)),
    (corrupt_same_version_other_columns, "unexpected entries table")])
def test_the_log_says_why_a_file_was_moved_aside(tmp_path, clock, corrupt, why):
    path = str(tmp_path / "outbox.db")
    corrupt(path)

    assert open_logged(path, clock) == [
        "Outbox file %s is unreadable (%s); moved it to %s.corrupt-%d and started an empty queue"
        % (path, why, path, START)]


def test_a_file_that_fails_the_integrity_check_is_moved_aside_and_the_log_says_so(tmp_path, clock):
    path = str(tmp_path / "outbox.db")
    outbox = Outbox(path, clock=clock)
    outbox.add(movie(1))
    outbox.close()
    conn = sqlite3.connect(path)
    root, size = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'entries'").fetchone()[0], \
        conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with open(path, "r+b") as handle:  # the table's first cell pointer now points out of its page
        handle.seek((root - 1) * size + 8)
        handle.write(b"\xff\xf0")

    (line,) = open_logged(path, clock)

    assert line.startswith("Outbox file %s is unreadable (integrity check: *** in database main ***" % path)
    assert os.path.exists(path + ".corrupt-%d" % START)


def test_a_version_1_file_with_other_columns_is_moved_aside_not_upgraded(tmp_path, clock):
    path = str(tmp_path / "outbox.db")
    old = sqlite3.connect(path)
    old.executescript("CREATE TABLE entries (id INTEGER PRIMARY KEY, payload TEXT); PRAGMA user_version = 1;")
    old.close()

    assert open_logged(path, clock) == [
        "Outbox file %s is unreadable (schema version 1, expected %d); moved it to %s.corrupt-%d and started an"
        " empty queue" % (path, SCHEMA_VERSION, path, START)]


def test_a_third_corrupt_file_in_the_same_second_gets_the_next_number(tmp_path, clock):
    path = str(tmp_path / "outbox.db")
    for _ in range(3):
        corrupt_garbage(path)
        Outbox(path, clock=clock).close()

    assert sorted(os.listdir(str(tmp_path))) == ["outbox.db"] + ["outbox.db.corrupt-%d%s" % (START, suffix)
                                                                 for suffix in ("", "-1", "-2")]


def test_the_wal_of_a_file_that_is_not_ours_goes_aside_with_it_and_is_not_replayed_into_the_new_queue(
        tmp_path, clock):
    path = str(tmp_path / "outbox.db")
    other = sqlite3.connect(path)  # another program's database, still open: its last writes are in its WAL
    other.execute("PRAGMA journal_mode = WAL")
    other.execute("CREATE TABLE queue (id INTEGER PRIMARY KEY, payload TEXT)")
    other.execute("INSERT INTO queue (payload) VALUES ('theirs')")
    other.commit()
    assert os.path.getsize(path + "-wal") > 0

    outbox = Outbox(path, clock=clock)

    aside = path + ".corrupt-%d" % START
    assert os.path.exists(aside + "-wal") and os.path.exists(aside + "-shm")
    assert outbox.counts() == EMPTY
    outbox.close()
    other.close()
    moved = sqlite3.connect(aside)
    assert moved.execute("SELECT payload FROM queue").fetchall() == [("theirs",)]
    moved.close()
    fresh = sqlite3.connect(path)
    assert [row[0] for row in fresh.execute("SELECT name FROM sqlite_master WHERE type = 'table'")] == [
        "entries", "sqlite_sequence", "parts", "owners", "ratings"]
    fresh.close()


def test_waiting_for_something_else_is_not_a_failed_try(box, clock):
    entry = box.add(episode(1))
    for _ in range(5):
        box.defer([entry], clock.now + 20, "waiting_for_session", attempt=False)

    clock.now += 20
    (taken,) = box.take_batch()
    assert taken.attempts == 0 and box.attention() == []


# --- parts: a batch that keeps failing travels in smaller parts ----------------------------------------

def test_a_part_size_holds_across_a_restart_and_counts_the_tries_at_that_size(db, clock):
    outbox = Outbox(db, clock=clock)
    batch = [outbox.add(movie(n)) for n in range(1, 6)]
    for _ in range(3):
        outbox.defer(batch, clock.now, "server")
    outbox.defer(batch, clock.now, "server", part_size=3)  # the fourth try failed: parts of 3 from now on
    outbox.close()

    with Outbox(db, clock=clock) as reopened:
        first = reopened.take_batch()
        assert [(e.id, e.attempts, e.part_size, e.tries_at_size) for e in first] == [
            (entry_id, 4, 3, 0) for entry_id in batch[:3]]
        reopened.defer(ids(first), clock.now, "server")
        assert [(e.id, e.tries_at_size) for e in reopened.take_batch()] == [(batch[3], 0), (batch[4], 0)]


def test_a_retry_in_needs_attention_sends_the_entries_in_whole_batches_again(box, clock):
    batch = [box.add(movie(n)) for n in range(1, 5)]
    for _ in range(2):
        box.defer(batch, clock.now, "server")
    box.defer(batch, clock.now, "server", part_size=1)

    assert box.retry_attention(batch) == 4

    assert [(e.attempts, e.part_size) for e in box.take_batch()] == [(0, None)] * 4


def test_a_part_an_older_version_outlived_is_ignored_and_prune_drops_parts_of_entries_gone(box, db, clock):
    stale, sent = box.add(movie(1)), box.add(movie(2))
    for _ in range(3):
        box.defer([stale, sent], clock.now, "server")
    box.defer([stale, sent], clock.now, "server", part_size=1)
    box.mark_sent([sent])
    other = sqlite3.connect(db)  # 0.3.3's Retry knows no parts: it only sets the tries back to 0
    other.execute("UPDATE entries SET attempts = 0 WHERE id = ?", (stale,))
    other.commit()

    assert [(e.id, e.part_size, e.tries_at_size) for e in box.take_batch()] == [(stale, None, 0)]
    box.prune()
    assert other.execute("SELECT id FROM parts").fetchall() == [(stale,)]
    other.close()


def test_the_parts_table_leaves_the_entries_as_earlier_versions_read_them(tmp_path, clock):
    path = str(tmp_path / "outbox.db")
    old = sqlite3.connect(path)  # a queue 0.3.3 wrote: no parts table
    old.executescript(OUTBOX_V2_SCHEMA)
    old.execute("INSERT INTO entries (kind, item, item_key, watched_at, next_try, created, updated)"
                " VALUES ('add', ?, 'movie:imdb=tt0000001', '2026-05-14T19:00:00Z', 0, 0, 0)",
                (json.dumps(movie(1).to_dict()),))
    old.commit()
    old.close()

    with Outbox(path, clock=clock) as outbox:
        (entry,) = outbox.take_batch()
        outbox.defer([entry.id], clock.now, "server", part_size=1)

    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2  # what 0.3.3 checks, with the columns below
    assert [row[1] for row in conn.execute("PRAGMA table_info(entries)")] == [
        "id", "kind", "item", "item_key", "watched_at", "rewatch", "rewatch_id", "state", "attempts", "next_try",
        "last_error", "created", "updated", "detail"]
    assert conn.execute("SELECT id, size, since FROM parts").fetchall() == [(entry.id, 1, 1)]
    conn.close()


# --- live scrobbles: Simkl wrote the watch itself ---------------------------------------------------

def test_a_watch_simkl_took_live_is_sent_and_never_posted(box):
    entry = box.add(movie(1), START - 60)

    assert box.scrobbled(entry, movie(1)) is True
    assert box.states([entry])[entry][0] == "sent"
    assert box.take_batch() == []


def test_a_watch_taken_live_before_its_title_was_looked_up_gets_its_title_and_counts_for_the_48_hours(box):
    entry = box.add_unresolved({"media_type": "movie", "dbid": 4}, START - 60)
    box.defer_unresolved(entry, START + HOUR, "search failed")

    assert box.scrobbled(entry, movie(4)) is True
    state, _, last_error = box.states([entry])[entry]
    assert (state, last_error) == ("sent", None)
    assert box.last_watched(movie(4).key()) == START - 60
    assert box.unresolved() == [] and box.take_batch() == []
    assert box.add(movie(4), START) is None  # a second watch an hour later repeats it


def test_a_live_watch_that_repeats_one_of_the_last_48_hours_is_dropped_not_recorded(box):
    box.mark_sent([box.add(movie(2), START - 2 * HOUR)])
    entry = box.add_unresolved({"media_type": "movie", "dbid": 2}, START - 60)

    assert box.scrobbled(entry, movie(2)) is False
    assert box.states([entry]) == {}
    assert box.counts()["sent"] == 1


def test_a_live_watch_of_another_title_is_no_repeat(box):
    box.mark_sent([box.add(movie(2), START - 2 * HOUR)])
    entry = box.add_unresolved({"media_type": "movie", "dbid": 3}, START - 60)

    assert box.scrobbled(entry, movie(3)) is True
    assert box.counts()["sent"] == 2


@pytest.mark.parametrize("case", ["rewatch", "remove", "refused", "sent", "gone"])
def test_only_an_ordinary_watch_still_on_its_way_can_be_taken_live(box, case):
    if case == "rewatch":
        entry = box.add(movie(5), START - 60, rewatch=True)
    elif case == "remove":
        entry = box.add(movie(5), START - 60, kind="remove")
    else:
        entry = box.add(movie(5), START - 60)
    if case in ("refused", "gone"):
        box.refuse([entry], "invalid")
    if case == "gone":
        box.discard_attention([entry])
    elif case == "sent":
        box.mark_sent([entry])
    before = box.states([entry])

    assert box.scrobbled(entry, movie(5)) is False
    assert box.states([entry]) == before


def test_what_waits_before_an_entry_is_an_older_entry_of_its_title_on_its_way_or_any_title_not_looked_up(box):
    key = movie(1).key()
    older = box.add(movie(1), START - 3 * HOUR)
    box.add(movie(2), START - 2 * HOUR)  # another title, on its way
    remove = box.add(movie(1), START - 60, kind="remove")
    later = box.add(movie(1), START)

    assert box.waiting_before(remove, key) is True  # `older` is on its way
    box.mark_sent([older])
    assert box.waiting_before(remove, key) is False  # the other title's and the newer entries do not count
    assert box.waiting_before(later, key) is True  # the remove is older and on its way
    box.refuse([remove], "invalid")
    assert box.waiting_before(later, key) is False  # refused: it waits for the user, not on its way

    box.add_unresolved({"media_type": "episode", "dbid": 9}, START + 30)
    assert box.waiting_before(later, key) is False  # not looked up yet, but newer
    assert box.waiting_before(box.add(movie(1), START + HOUR * 60), key) is True  # it may turn out to be movie 1


# --- accounts: every entry belongs to the account it was made for -----------------------------------

JANE, BOB = Owner("id:12345", "jane_doe"), Owner("id:777", "bob")


class Login:
    """Who is logged in, as the service's `account` callable tells the outbox (None: nobody)."""

    def __init__(self, owner=None):
        self.owner = owner

    def __call__(self):
        return self.owner


@pytest.fixture
def login():
    return Login()


@pytest.fixture
def shared(db, clock, login):
    with Outbox(db, clock=clock, account=login) as outbox:
        yield outbox


def test_an_account_never_sees_counts_or_sends_another_accounts_entries(shared, login):
    login.owner = JANE
    sent, waiting = shared.add(movie(1)), shared.add(movie(2))
    shared.mark_sent([sent])
    login.owner = BOB

    assert shared.take_batch() == [] and shared.next_due() is None
    assert shared.counts() == EMPTY
    assert shared.waiting_entries() == [] and shared.attention() == []
    assert shared.kept_for_others() == [Kept("id:12345", "jane_doe", 1)]
    login.owner = JANE
    assert ids(shared.take_batch()) == [waiting]
    assert shared.counts()["sent"] == 1 and shared.kept_for_others() == []


def test_what_was_made_while_logged_out_is_whoever_logs_in_next(shared, login):
    nobodys = shared.add(movie(1))
    login.owner = JANE
    assert ids(shared.take_batch()) == [nobodys]  # seen before the claim too: nobody else's

    assert shared.claim(JANE) == 1
    login.owner = BOB
    assert shared.take_batch() == []
    login.owner = None
    assert shared.take_batch() == []  # logged out: only what was made logged out


def test_a_login_known_by_its_name_only_keeps_what_it_made_once_simkl_gives_its_id(shared, login):
    login.owner = Owner("name:jane_doe", "jane_doe")  # a token.json saved before the id was kept
    entry = shared.add(movie(1))
    login.owner = JANE

    shared.claim(JANE)

    assert ids(shared.take_batch()) == [entry] and shared.kept_for_others() == []


def test_hand_over_gives_what_waits_to_the_new_account_due_now_and_rewatches_as_ordinary_watches(shared, login,
                                                                                                 clock):
    login.owner = JANE
    sent, failing = shared.add(movie(1)), shared.add(movie(2))
    shared.mark_sent([sent])
    shared.defer([failing], clock.now + HOUR, "server")
    rewatch = shared.add(movie(3), rewatch=True)
    shared.add(Show("Show", 2010, {"tvdb": 4242}), rewatch=True)  # the start of jane's show rewatch session
    episode_of_session = shared.add(episode(1), rewatch=True, rewatch_id="session:show:tvdb=4242")
    login.owner = BOB

    assert shared.hand_over("id:12345", BOB) == 3

    batch = shared.take_batch()
    assert ids(batch) == [failing, rewatch, episode_of_session]
    assert [(e.rewatch, e.rewatch_id) for e in batch] == [(False, None)] * 3
    assert shared.kept_for_others() == []
    login.owner = JANE
    assert shared.counts()["sent"] == 1 and shared.take_batch() == []  # jane's history stays hers


def test_discard_for_drops_only_what_that_account_has_not_sent(shared, login):
    login.owner = JANE
    sent, waiting = shared.add(movie(1)), shared.add(movie(2))
    shared.mark_sent([sent])
    login.owner = BOB
    bobs = shared.add(movie(3))

    assert shared.discard_for("id:12345") == 1

    assert ids(shared.take_batch()) == [bobs]
    login.owner = JANE
    assert shared.counts()["sent"] == 1 and shared.states([waiting]) == {}


def test_another_accounts_watch_of_a_title_does_not_make_it_a_repeat(shared, login):
    login.owner = JANE
    shared.add(movie(1), START - HOUR)
    login.owner = BOB
    assert shared.add(movie(1), START) is not None
    assert shared.add(movie(1), START + 60) is None  # bob's own repeat


def test_an_old_queue_file_opens_with_its_entries_kept_for_whoever_logs_in_next(tmp_path, clock):
    path = str(tmp_path / "outbox.db")
    old = sqlite3.connect(path)  # a queue 0.4.0 wrote: no owners table
    old.executescript(OUTBOX_V2_SCHEMA)
    old.execute("INSERT INTO entries (kind, item, item_key, watched_at, next_try, created, updated)"
                " VALUES ('add', ?, 'movie:imdb=tt0000001', '2026-05-14T19:00:00Z', 0, 0, 0)",
                (json.dumps(movie(1).to_dict()),))
    old.commit()
    old.close()
    login = Login()

    with Outbox(path, clock=clock, account=login) as outbox:
        (kept,) = outbox.take_batch()
        assert outbox.kept_for_others() == []
        login.owner = BOB
        assert outbox.claim(BOB) == 1
        login.owner = JANE
        assert outbox.take_batch() == [] and outbox.kept_for_others() == [Kept("id:777", "bob", 1)]

    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2  # what 0.4.0 checks, with the columns below
    assert [row[1] for row in conn.execute("PRAGMA table_info(entries)")] == [
        "id", "kind", "item", "item_key", "watched_at", "rewatch", "rewatch_id", "state", "attempts", "next_try",
        "last_error", "created", "updated", "detail"]
    assert conn.execute("SELECT id, account, name FROM owners").fetchall() == [(kept.id, "id:777", "bob")]
    conn.close()



def test_labels_are_the_titles_as_the_lists_show_them_of_entries_still_queued(tmp_path):
    with Outbox(str(tmp_path / "outbox.sqlite")) as outbox:
        entry = outbox.add(Movie("Dune", 2021, {"imdb": "tt1160419"}), 1_700_000_000)
        lost = outbox.add_unresolved({"title": "Home Video", "label": "home.mkv"}, 1_700_000_000)
        assert outbox.labels([entry, lost, lost + 1]) == {entry: "Dune (2021)", lost: "Home Video"}


def test_data_version_changes_when_another_connection_commits_and_not_when_it_only_reads(tmp_path):
    """The status view's cheap look whether the service changed the queue (SQLite's PRAGMA data_version)."""
    path = str(tmp_path / "outbox.sqlite")
    with Outbox(path) as view, Outbox(path) as service:
        first = view.data_version()
        service.counts()
        assert view.data_version() == first
        entry = service.add(Movie("Dune", 2021, {"imdb": "tt1160419"}), 1_700_000_000)
        second = view.data_version()
        assert second != first
        service.mark_sent([entry])
        assert view.data_version() != second


# --- ratings: a rating (or its removal) is a queue entry like a watch --------------------------------

INCEPTION = Movie("Inception", 2010, {"imdb": "tt1375666", "tmdb": 27205})
SHOW = Show("Show", 2010, {"tvdb": 4242})


def test_a_rating_is_committed_at_once_with_the_moment_of_the_choice_and_survives_a_restart(db, clock):
    first = Outbox(db, clock=clock)
    entry_id = first.add_rating(INCEPTION, 8, rated_at="2026-05-14T19:00:00Z", library="movie:12")
    assert sqlite3.connect(db).execute("SELECT COUNT(*) FROM entries").fetchone()[0] == 1  # before close
    first.close()

    with Outbox(db, clock=clock) as second:
        [entry] = second.take_batch()
    assert (entry.id, entry.kind, entry.item, entry.rating) == (entry_id, "rate", INCEPTION, 8)
    assert entry.watched_at == "2026-05-14T19:00:00Z"  # the moment of the choice: sent as rated_at


def test_a_rating_defaults_to_now_and_zero_queues_its_removal(box, clock):
    box.add_rating(SHOW, 0)
    [entry] = box.take_batch()
    assert (entry.kind, entry.item, entry.rating) == ("unrate", SHOW, 0)
    assert entry.watched_at == "2026-05-14T20:00:00Z"


@pytest.mark.parametrize("rating", [-1, 11, 8.5, "8", None, True])
def test_a_rating_simkl_would_silently_ignore_is_refused_before_it_is_queued(box, rating):
    with pytest.raises(ValueError):
        box.add_rating(INCEPTION, rating)
    assert box.counts() == EMPTY


def test_an_episode_cannot_be_rated_simkl_rates_only_movies_and_shows(box):
    with pytest.raises(ValueError):
        box.add_rating(episode(1), 8)
    assert box.counts() == EMPTY


def test_ratings_waiting_names_the_library_items_whose_rating_is_not_on_simkl_yet(box):
    sent = box.add_rating(Movie("Dune", 2021, {"imdb": "tt1160419"}), 9, library="movie:1")
    box.add_rating(INCEPTION, 8, library="movie:12")
    box.add_rating(SHOW, 0, library="tvshow:3")
    box.add_rating(Movie("Heat", 1995, {"imdb": "tt0113277"}), 7)  # not from the library
    refused = box.add_rating(Movie("Up", 2009, {"imdb": "tt1049413"}), 6, library="movie:5")
    box.mark_sent([sent])
    box.refuse([refused], "400 wrong_parameter")

    assert box.ratings_waiting() == {"movie:12", "tvshow:3", "movie:5"}
    box.discard_attention([refused])
    assert box.ratings_waiting() == {"movie:12", "tvshow:3"}


def test_ratings_waiting_is_the_accounts_own_and_nobodys(shared, login):
    login.owner = JANE
    shared.add_rating(INCEPTION, 8, library="movie:12")
    login.owner = None
    shared.add_rating(SHOW, 5, library="tvshow:3")
    login.owner = BOB
    assert shared.ratings_waiting() == {"tvshow:3"}
    login.owner = JANE
    assert shared.ratings_waiting() == {"movie:12", "tvshow:3"}


def test_a_rating_is_the_accounts_like_a_watch(shared, login):
    login.owner = JANE
    entry_id = shared.add_rating(INCEPTION, 8)
    login.owner = BOB
    assert shared.take_batch() == [] and shared.kept_for_others() == [Kept("id:12345", "jane_doe", 1, ratings=1)]
    login.owner = JANE
    assert ids(shared.take_batch()) == [entry_id]


def test_ratings_are_never_counted_as_watches_of_their_title(box, clock):
    box.add_rating(INCEPTION, 8)
    assert box.last_watched(INCEPTION.key()) is None
    assert box.add(INCEPTION) is not None  # the watch is not taken for a repeat of anything


def test_a_later_rating_or_removal_of_a_title_goes_after_the_earlier_one_never_in_its_batch(box, clock):
    first, other = box.add_rating(INCEPTION, 8), box.add_rating(SHOW, 7)
    change, removal, again = box.add_rating(INCEPTION, 9), box.add_rating(INCEPTION, 0), box.add_rating(INCEPTION, 6)

    assert ids(box.take_batch()) == [first, other]  # Simkl would get both ratings of Inception in one body
    box.mark_sent([first, other])
    assert ids(box.take_batch()) == [change]
    box.defer([change], clock.now + HOUR, "server")
    clock.now += 60
    assert box.take_batch() == []  # the removal waits for the change it follows
    clock.now += HOUR
    assert ids(box.take_batch()) == [change]
    box.mark_sent([change])
    assert ids(box.take_batch()) == [removal]
    box.mark_sent([removal])
    assert ids(box.take_batch()) == [again]


def test_ratings_never_travel_with_watches_and_a_titles_watch_does_not_hold_its_rating(box, clock):
    watch = box.add(INCEPTION)
    box.defer([watch], clock.now + HOUR, "server")
    rating = box.add_rating(INCEPTION, 8)
    assert ids(box.take_batch()) == [rating]


def test_ratings_change_hands_with_their_accounts_watches_and_a_login_claims_those_made_logged_out(shared, login):
    login.owner = JANE
    janes_rating, janes_watch = shared.add_rating(INCEPTION, 8), shared.add(movie(1))
    login.owner = None
    nobodys = shared.add_rating(SHOW, 6, library="tvshow:3")
    assert ids(shared.take_batch()) == [nobodys]  # logged out: what was made logged out
    login.owner = BOB

    assert shared.kept_for_others() == [Kept("id:12345", "jane_doe", 2, ratings=1)]
    assert shared.claim(BOB) == 1 and shared.ratings_waiting() == {"tvshow:3"}
    assert shared.hand_over("id:12345", BOB) == 2
    assert ids(shared.take_batch()) == [janes_rating, nobodys]
    shared.mark_sent([janes_rating, nobodys])
    assert ids(shared.take_batch()) == [janes_watch]
    login.owner = JANE
    assert shared.take_batch() == [] and shared.ratings_waiting() == set()


def test_discard_for_drops_an_accounts_ratings_with_its_watches(shared, login):
    login.owner = JANE
    shared.add_rating(INCEPTION, 8)
    shared.add(movie(1))
    login.owner = BOB

    assert shared.discard_for("id:12345") == 2
    assert shared.kept_for_others() == []


def test_a_rating_made_under_a_login_known_by_its_name_stays_its_own_once_simkl_gives_its_id(shared, login):
    login.owner = Owner("name:jane_doe", "jane_doe")
    entry = shared.add_rating(INCEPTION, 8)
    login.owner = JANE

    shared.claim(JANE)

    assert ids(shared.take_batch()) == [entry] and shared.kept_for_others() == []



RATED_TITLES = (INCEPTION, SHOW, Movie("Heat", 1995, {"imdb": "tt0113277"}))
RATING_STEPS = st.lists(st.one_of(
    st.tuples(st.just("rate"), st.sampled_from(range(len(RATED_TITLES))), st.integers(0, 10)),
    st.tuples(st.just("send"), st.integers(0, 3), st.integers(0, 1000)),  # 0: the batch fails; else Simkl takes it
    st.tuples(st.just("wait"), st.sampled_from([10, 100, 1000]), st.just(0))), max_size=40)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(RATING_STEPS)
def test_whatever_fails_a_titles_ratings_and_removals_reach_simkl_once_each_in_the_order_chosen(tmp_path_factory,
                                                                                                steps):
    clock = Clock()
    chosen, simkl = {}, {}  # title index -> the user's choices in order / what Simkl got, in order
    with Outbox(str(tmp_path_factory.mktemp("ratings") / "outbox.db"), clock=clock) as box:
        def send(outcome, limit=100):
            batch = box.take_batch(limit)
            keys = [entry.item.key() for entry in batch]
            assert len(keys) == len(set(keys))  # Simkl never gets two ratings of a title in one body
            if outcome == 0:
                box.defer([entry.id for entry in batch], clock.now + 60, "server")
                return
            for entry in batch:
                simkl.setdefault(RATED_TITLES.index(entry.item), []).append(entry.rating)
            box.mark_sent([entry.id for entry in batch])

        for action, first, second in steps:
            if action == "rate":
                box.add_rating(RATED_TITLES[first], second)
                chosen.setdefault(first, []).append(second)
            elif action == "send":
                send(second, limit=first + 1)
            else:
                clock.now += first
        for _ in range(100):  # the drain: time past every wait, everything Simkl takes
            clock.now += 3600
            send(1)
        assert box.counts()["pending"] == 0
    assert simkl == chosen
