"""Kodi -> Simkl for ratings: the memo of what Kodi and Simkl agree on, and the check that queues the user's
own changes of "My rating" once (a new rating, a change, a clearing), never the add-on's own writes, never
ratings set before the first check, and never a removal for a title that left the library."""
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from videolibrary import VideoLibrary

import fakekodi
from lib.scrobbler import kodi as kodi_module
from lib.scrobbler.delivery.outbox import Outbox
from lib.scrobbler.media import Movie, Show
from lib.scrobbler.ratings.follow import Checked, Ratings
from lib.scrobbler.ratings.known import KNOWN_FILE, Known

INCEPTION = {"movieid": 1, "title": "Inception", "year": 2010, "uniqueid": {"imdb": "tt1375666", "tmdb": "27205"}}
HEAT = {"movieid": 2, "title": "Heat", "year": 1995, "uniqueid": {"imdb": "tt0113277"}}
SHOW = {"tvshowid": 3, "title": "The Last of Us", "year": 2023, "uniqueid": {"tvdb": "392256"}}


@pytest.fixture
def videos(kodi):
    return VideoLibrary(kodi, movies=(INCEPTION, HEAT), shows=(SHOW,))


@pytest.fixture
def queue(tmp_path):
    """The real outbox: what the check queued is what its next batch holds."""
    outbox = Outbox(tmp_path / "outbox.db")
    yield outbox
    outbox.close()


@pytest.fixture
def account():
    return {"key": "jane_doe"}


@pytest.fixture
def ratings(kodi, queue, account):
    return Ratings(kodi.profile_dir, kodi_module.jsonrpc, kodi_module.jsonrpc_batch, outbox=lambda: queue,
                   account=lambda: account["key"])


def rate_in_kodi(videos, kind, dbid, rating):
    """The user sets (or clears, 0) "My rating" in Kodi's information dialog."""
    (videos.movies if kind == "movie" else videos.shows)[dbid]["userrating"] = rating


def queued(queue):
    """(kind of title, title, rating) of each rating entry queued, in order; 0: a removal."""
    return [(entry.item.kind, entry.item.title, entry.rating) for entry in queue.take_batch()]


def test_the_memo_keeps_ratings_per_account_and_forgets_another_accounts(tmp_path):
    known = Known(str(tmp_path), "jane")
    known.seed({"movie:1": 8, "tvshow:3": 0})
    known.set("movie:2", 11)  # not a rating
    known.save()

    again = Known(str(tmp_path), "jane")
    assert (again.seeded, again.items()) == (True, {"movie:1": 8})
    other = Known(str(tmp_path), "john")
    assert (other.seeded, other.items()) == (False, {})


def test_a_damaged_memo_is_an_empty_one_and_its_bad_entries_are_left_out(tmp_path):
    (tmp_path / KNOWN_FILE).write_text(json.dumps({"account": "jane", "seeded": True,
                                                   "items": {"movie:1": 7, "episode:4": 5, "movie:x": 3,
                                                             "tvshow:3": "9", "movie:2": True}}))
    assert Known(str(tmp_path), "jane").items() == {"movie:1": 7}
    (tmp_path / KNOWN_FILE).write_text("{not json")
    assert Known(str(tmp_path), "jane").seeded is False


def test_the_first_check_only_takes_kodis_ratings_as_known_and_sends_nothing(ratings, videos, queue):
    rate_in_kodi(videos, "movie", 1, 8)
    rate_in_kodi(videos, "tvshow", 3, 6)

    assert ratings.check() == Checked(seeded=True)

    assert queued(queue) == []
    assert ratings.check() == Checked()
    assert queued(queue) == []


def test_a_rating_set_in_kodi_is_queued_once_with_its_library_item(ratings, videos, queue):
    ratings.check()
    rate_in_kodi(videos, "movie", 1, 9)

    assert ratings.check() == Checked(rated=1)
    assert ratings.check() == Checked()

    (entry,) = queue.take_batch()
    assert (entry.item, entry.rating) == (Movie("Inception", 2010, {"imdb": "tt1375666", "tmdb": 27205}), 9)
    assert queue.ratings_waiting() == {"movie:1"}


def test_a_changed_rating_of_a_show_is_queued_once(ratings, videos, queue):
    rate_in_kodi(videos, "tvshow", 3, 6)
    ratings.check()
    rate_in_kodi(videos, "tvshow", 3, 8)

    ratings.check()
    ratings.check()

    (entry,) = queue.take_batch()
    assert (entry.item, entry.rating) == (Show("The Last of Us", 2023, {"tvdb": 392256}), 8)
    assert queue.ratings_waiting() == {"tvshow:3"}


def test_a_rating_cleared_in_kodi_is_queued_as_a_removal_once(ratings, videos, queue):
    rate_in_kodi(videos, "movie", 2, 7)
    ratings.check()
    rate_in_kodi(videos, "movie", 2, 0)

    assert ratings.check() == Checked(removed=1)
    assert ratings.check() == Checked()

    assert queued(queue) == [("movie", "Heat", 0)] and queue.ratings_waiting() == {"movie:2"}


def test_a_title_gone_from_the_library_leaves_the_memo_without_a_removal(ratings, videos, queue):
    rate_in_kodi(videos, "movie", 2, 7)
    ratings.check()
    videos.remove("movie", 2)

    assert ratings.check() == Checked(dropped=1)

    assert queued(queue) == []
    assert Known(videos.world.profile_dir, "jane_doe").items() == {}


def test_the_prompts_choice_is_written_to_kodi_queued_once_and_never_sent_again_by_the_check(ratings, videos,
                                                                                            queue):
    ratings.check()

    ratings.user_rated("movie", 1, Movie("Inception", 2010, {"imdb": "tt1375666"}), 8)
    ratings.check()

    assert videos.movies[1]["userrating"] == 8
    assert queued(queue) == [("movie", "Inception", 8)] and queue.ratings_waiting() == {"movie:1"}


def test_what_the_sync_writes_through_the_memo_is_never_sent_back(ratings, videos, queue):
    ratings.check()

    with ratings.memo() as known:  # as the sync's pull does: Kodi written, the memo told
        rate_in_kodi(videos, "tvshow", 3, 9)
        known.set("tvshow:3", 9)
    ratings.check()

    assert queued(queue) == []


def test_another_account_starts_over_and_is_never_sent_what_kodi_had_before(ratings, videos, queue, account):
    ratings.check()
    rate_in_kodi(videos, "movie", 1, 8)
    account["key"] = "john"

    assert ratings.check() == Checked(seeded=True)
    assert queued(queue) == []


def test_nobody_logged_in_checks_nothing(ratings, videos, queue, account):
    account["key"] = None
    rate_in_kodi(videos, "movie", 1, 8)

    assert ratings.check() is None
    assert queued(queue) == []


def test_a_look_kodi_could_not_answer_changes_nothing_and_never_seeds_the_memo_empty(ratings, videos, queue, kodi):
    from fakekodi import JsonRpcError
    rate_in_kodi(videos, "movie", 1, 8)
    real = kodi.jsonrpc_handlers["VideoLibrary.GetMovies"]

    def busy(params):
        raise JsonRpcError("Kodi is busy")
    kodi.jsonrpc_handlers["VideoLibrary.GetMovies"] = busy

    assert ratings.check() == Checked()
    kodi.jsonrpc_handlers["VideoLibrary.GetMovies"] = real
    assert ratings.check() == Checked(seeded=True)
    assert ratings.check() == Checked()
    assert queued(queue) == []


TITLES = [("movie", 1), ("movie", 2), ("tvshow", 3)]
FOLLOW_STEPS = st.lists(st.one_of(
    st.tuples(st.just("user"), st.integers(0, 2), st.integers(0, 10)),  # My rating set (0: cleared) in Kodi
    st.tuples(st.just("sync"), st.integers(0, 2), st.integers(1, 10)),  # the sync writes Simkl's, memo told
    st.tuples(st.just("prompt"), st.integers(0, 2), st.integers(1, 10)),  # the rating prompt's choice
    st.tuples(st.just("remove"), st.integers(0, 2), st.just(0)),  # the title leaves the library
    st.tuples(st.just("check"), st.just(0), st.just(0))), max_size=30)


class RecordingOutbox(Outbox):
    """The real outbox, noting each rating queued (its library item and rating) in order."""

    def __init__(self, path):
        super().__init__(path)
        self.rated = []

    def add_rating(self, item, rating, rated_at=None, library=None):
        self.rated.append((library, rating))
        return super().add_rating(item, rating, rated_at, library)


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(FOLLOW_STEPS)
def test_whatever_happens_only_the_users_own_changes_are_queued_each_once_in_order(tmp_path_factory, steps):
    folder = tmp_path_factory.mktemp("follow")
    world = fakekodi.reset(str(folder))
    videos = VideoLibrary(world, movies=(INCEPTION, HEAT), shows=(SHOW,))
    outbox = RecordingOutbox(str(folder / "outbox.db"))
    ratings = Ratings(str(folder), kodi_module.jsonrpc, kodi_module.jsonrpc_batch, outbox=lambda: outbox,
                      account=lambda: "jane")
    table = {"movie": videos.movies, "tvshow": videos.shows}
    known, seeded, expected, gone = {}, False, [], set()  # the model
    for action, index, rating in steps:
        kind, dbid = TITLES[index]
        key = "%s:%d" % (kind, dbid)
        if index in gone and action != "check":
            continue
        if action == "user":
            table[kind][dbid]["userrating"] = rating
        elif action == "sync":
            with ratings.memo() as memo:
                table[kind][dbid]["userrating"] = rating
                memo.set(key, rating)
            known[key] = rating
        elif action == "prompt":
            item = Movie("t", None, {"imdb": "tt%d" % dbid}) if kind == "movie" else Show("t", None, {"tvdb": dbid})
            ratings.user_rated(kind, dbid, item, rating)
            expected.append((key, rating))
            known[key] = rating
        elif action == "remove":
            videos.remove(kind, dbid)
            gone.add(index)
        else:
            ratings.check()
            now = {"%s:%d" % (k, d): table[k][d].get("userrating") or 0
                   for k, d in TITLES if d in table[k]}
            if seeded:
                expected += [(k, r) for k, r in sorted(now.items(), key=lambda pair: TITLES.index(
                    tuple([pair[0].split(":")[0], int(pair[0].split(":")[1])]))) if known.get(k, 0) != r]
            known, seeded = {k: r for k, r in now.items() if r}, True
    outbox.close()
    assert sorted(outbox.rated) == sorted(expected)
    for key in {k for k, _ in expected}:  # per title, in the order the user made them
        assert [r for k, r in outbox.rated if k == key] == [r for k, r in expected if k == key]
