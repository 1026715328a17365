"""Ratings both ways through the real service: the fake Simkl's ratings (GET /sync/ratings, POST
/sync/ratings), Kodi's library (fake JSON-RPC), the real outbox and sender. Simkl's ratings become Kodi's
My rating only when rated_at moved, never over the user's newer choice and never sent back; a My rating set
or cleared in Kodi reaches Simkl once; with the setting off nothing of it happens."""
import pytest
import requests
from videolibrary import VideoLibrary

from lib.scrobbler.media import Movie
from lib.scrobbler.sync import runner as runner_module
from scenario import sync_now, wait_for

INCEPTION = {"movieid": 1, "title": "Inception", "year": 2010, "uniqueid": {"imdb": "tt1375666", "tmdb": "27205"}}
HEAT = {"movieid": 2, "title": "Heat", "year": 1995, "uniqueid": {"imdb": "tt0113277"}}
SHOW = {"tvshowid": 3, "title": "The Last of Us", "year": 2023, "uniqueid": {"tvdb": "392256", "imdb": "tt3581920"}}
SIMKL_SHOW = {"title": "The Last of Us", "year": 2023, "ids": {"tvdb": 392256, "imdb": "tt3581920"}}
SIMKL_HEAT = {"title": "Heat", "year": 1995, "ids": {"imdb": "tt0113277"}}
ALL = "1,2,3,4,5,6,7,8,9,10"


@pytest.fixture
def library(kodi):
    kodi.set_setting("sync_from_simkl", True)
    return VideoLibrary(kodi, movies=(INCEPTION, HEAT), shows=(SHOW,))


def rating_requests(server, since=0):
    return [(r.method, r.path) for r in server.requests[since:] if r.path.startswith("/sync/ratings")]


def rating_writes(library):
    return [(kind, params) for kind, params in library.writes if "userrating" in params]


def delivered(service):
    """Let the worker send what the ratings check queued."""
    service.service.kick()
    service.idle()


def test_simkls_rating_of_a_show_becomes_its_my_rating_and_nothing_is_posted_back(service, server, library,
                                                                                  clock):
    server.library.rate("show", SIMKL_SHOW, 9, "2026-05-01T20:00:00Z")

    sync_now(service)
    delivered(service)
    clock.advance(60)
    sync_now(service, full=True)
    delivered(service)

    assert library.shows[3]["userrating"] == 9
    assert rating_writes(library) == [("tvshow", {"tvshowid": 3, "userrating": 9})]
    assert "sync: 1 of Simkl's 1 ratings written as My rating in Kodi" in library.world.log_text()
    assert [path for method, path in rating_requests(server) if method == "POST"] == []
    assert ("GET", "/sync/ratings/shows/" + ALL) in rating_requests(server)
    assert server.violations == []


def test_a_full_sync_asks_only_the_types_ever_rated(service, server, library):
    server.library.rate("show", SIMKL_SHOW, 9, "2026-05-01T20:00:00Z")

    sync_now(service)

    assert rating_requests(server) == [("GET", "/sync/ratings/shows/" + ALL)]


def test_rated_at_moved_alone_costs_the_activities_and_that_types_ratings_only(service, server, library, clock):
    server.library.watch_movie("Heat", 1995, {"imdb": "tt0113277"}, "2026-05-01T20:00:00Z")
    server.library.rate("show", SIMKL_SHOW, 9, "2026-05-01T20:00:00Z")
    sync_now(service)
    saved = server.library.activities()["movies"]["rated_at"]
    clock.advance(3600)
    server.library.rate("movie", SIMKL_HEAT, 7, "2026-05-02T20:00:00Z")  # listed: only movies.rated_at moves
    before, calls = len(server.requests), len(library.world.jsonrpc_calls)

    sync_now(service)

    assert [r.path for r in server.requests[before:]] == ["/sync/activities", "/sync/ratings/movies/" + ALL]
    assert server.requests[-1].query.get("date_from") == saved
    assert library.movies[2]["userrating"] == 7
    # Kodi: its movies with their ratings, the one to write read again just before, the write (and the look at
    # its rated items after the sync, filtered)
    assert [m for m, p in library.world.jsonrpc_calls[calls:] if "filter" not in p] == [
        "VideoLibrary.GetMovies", "VideoLibrary.GetMovieDetails", "VideoLibrary.SetMovieDetails"]


def test_a_sync_where_no_rating_moved_asks_no_ratings(service, server, library, clock):
    server.library.rate("show", SIMKL_SHOW, 9, "2026-05-01T20:00:00Z")
    sync_now(service)
    clock.advance(3600)
    server.library.watch_movie("Heat", 1995, {"imdb": "tt0113277"}, "2026-05-02T20:00:00Z")
    before = len(server.requests)

    sync_now(service)

    assert rating_requests(server, before) == []


def test_a_my_rating_set_then_cleared_in_kodi_reaches_simkl_once_each(service, server, library, clock):
    sync_now(service)  # the first look: Kodi's ratings taken as known
    library.movies[1]["userrating"] = 8

    sync_now(service)
    delivered(service)
    sync_now(service)
    delivered(service)

    assert [(r.path, r.json["movies"][0]["rating"]) for r in server.requests if r.path == "/sync/ratings"] == [
        ("/sync/ratings", 8)]
    (posted,) = [r.json["movies"][0] for r in server.requests if r.path == "/sync/ratings"]
    assert posted["ids"]["imdb"] == "tt1375666"
    simkl = server.library.simkl_id("movie", {"imdb": "tt1375666"})
    assert server.ratings[simkl]["rating"] == 8

    library.movies[1]["userrating"] = 0
    sync_now(service)
    delivered(service)
    sync_now(service)
    delivered(service)

    assert len([r for r in server.requests if r.path == "/sync/ratings/remove"]) == 1
    assert simkl not in server.ratings


def test_ratings_in_kodi_before_the_first_look_are_not_sent(service, server, library):
    library.movies[2]["userrating"] = 6

    sync_now(service)
    delivered(service)

    assert [r for r in server.requests if r.method == "POST" and r.path.startswith("/sync/ratings")] == []


def test_a_change_in_kodi_is_found_between_syncs_by_the_look_every_few_minutes(service, server, library, clock):
    sync_now(service)
    library.movies[1]["userrating"] = 9
    before = len(server.requests)

    clock.advance(runner_module.RATINGS_CHECK_EVERY)
    service.service.sync.wake()
    assert wait_for(lambda: service.service.outbox.ratings_waiting() == {"movie:1"}
                    or any(r.path == "/sync/ratings" for r in server.requests))
    delivered(service)

    assert [r.path for r in server.requests[before:]] == ["/sync/ratings"]  # no sync: Kodi only, then the post


def test_a_rating_still_waiting_in_the_queue_is_never_overwritten_by_simkls_older_one(service, server, library,
                                                                                     clock):
    sync_now(service)
    server.fail("/sync/ratings", 503, times=100)
    service.service.user_rated("movie", 2, Movie("Heat", 1995, {"imdb": "tt0113277"}), 8)
    delivered(service)
    server.library.watch_movie("Heat", 1995, {"imdb": "tt0113277"}, "2026-05-01T20:00:00Z")
    server.library.rate("movie", SIMKL_HEAT, 5, "2026-05-01T20:00:00Z")  # Simkl's older rating

    sync_now(service)

    assert library.movies[2]["userrating"] == 8
    assert service.service.outbox.ratings_waiting() == {"movie:2"}


def test_with_keep_ratings_the_same_off_nothing_is_asked_looked_at_or_written(kodi, service, server, library, clock):
    kodi.set_setting("sync_ratings", False)
    server.library.rate("show", SIMKL_SHOW, 9, "2026-05-01T20:00:00Z")
    sync_now(service)
    library.movies[1]["userrating"] = 8
    clock.advance(runner_module.RATINGS_CHECK_EVERY)

    sync_now(service, full=True)
    delivered(service)

    assert rating_requests(server) == []
    assert rating_writes(library) == []
    assert not [p for m, p in kodi.jsonrpc_calls if "filter" in (p or {})]


def test_the_fake_answers_get_user_ratings_in_the_documented_shape(server, clock):
    server.library.watch_movie("Heat", 1995, {"imdb": "tt0113277"}, "2026-05-01T20:00:00Z")
    server.library.rate("movie", SIMKL_HEAT, 7, "2026-05-02T20:00:00Z")
    server.library.rate("show", SIMKL_SHOW, 3, "2026-05-03T20:00:00Z")
    token = server.issue_token()

    def get(path, **query):
        params = dict({"client_id": server.client_id, "app-name": "fake-test", "app-version": "1.0"}, **query)
        answer = requests.get(server.url + path, params=params, timeout=5,
                              headers={"User-Agent": "fake-test/1.0", "Authorization": "Bearer " + token})
        return answer.status_code, answer.json()

    status, answer = get("/sync/ratings/movies/" + ALL)
    assert status == 200 and list(answer) == ["movies"]
    (movie,) = answer["movies"]
    assert (movie["user_rating"], movie["user_rated_at"], movie["status"]) == (7, "2026-05-02T20:00:00Z",
                                                                               "completed")
    assert movie["movie"]["ids"]["imdb"] == "tt0113277" and isinstance(movie["movie"]["ids"]["simkl"], int)
    assert get("/sync/ratings/movies/8,9,10") == (200, {})
    assert get("/sync/ratings/movies/" + ALL, date_from="2026-05-02T20:00:00Z") == (200, {})
    assert get("/sync/ratings/shows/3")[1]["shows"][0]["user_rating"] == 3
    assert get("/sync/ratings/shows/0")[0] == 400


def play_something():
    from xbmc import InfoTagVideo

    import fakekodi
    fakekodi.open_file(fakekodi.PlayingFile(InfoTagVideo(media_type="movie", title="X"), "/x.mkv", 7200))


def filtered_reads(kodi):
    return len([p for m, p in kodi.jsonrpc_calls if "filter" in (p or {})])


def test_no_look_at_kodis_ratings_while_a_video_plays(service, server, library, kodi, clock):
    sync_now(service)
    library.movies[1]["userrating"] = 9
    play_something()
    looks = filtered_reads(kodi)

    clock.advance(runner_module.RATINGS_CHECK_EVERY)
    service.service.sync.wake()
    assert not wait_for(lambda: filtered_reads(kodi) > looks, 0.3)
    kodi.player = None
    clock.advance(runner_module.RATINGS_CHECK_EVERY)
    service.service.sync.wake()

    assert wait_for(lambda: service.service.outbox.ratings_waiting() == {"movie:1"}
                    or any(r.path == "/sync/ratings" for r in server.requests))


def test_simkls_ratings_are_written_only_once_the_video_ended(service, server, library, kodi):
    server.library.rate("show", SIMKL_SHOW, 9, "2026-05-01T20:00:00Z")
    play_something()
    runner = service.service.sync
    runner.request()
    runner.wake()
    assert wait_for(lambda: runner.running, 5)

    assert not wait_for(lambda: rating_writes(library), 0.3)
    kodi.player = None
    assert wait_for(lambda: not runner.running, 10)
    assert library.shows[3]["userrating"] == 9


def test_no_look_at_kodis_ratings_once_kodi_quits(service, server, library, kodi):
    sync_now(service)
    library.movies[1]["userrating"] = 9
    looks = filtered_reads(kodi)
    runner = service.service.sync
    service.service.stop()  # Kodi quits: the sync's thread leaves, and a look due now is not taken

    runner.check_ratings()

    assert filtered_reads(kodi) == looks
    assert service.service.outbox.ratings_waiting() == set()
