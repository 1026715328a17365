"""Resume points from Simkl through the real service: the fake Simkl's paused playbacks, Kodi's library
(fake JSON-RPC); the activities gate, what reaches Kodi, and that nothing goes back to Simkl."""
import pytest
from videolibrary import VideoLibrary

from lib.scrobbler import config
from lib.scrobbler.sync import resume
from lib.scrobbler.sync.engine import _yield_to_marks
from lib.scrobbler.sync.library import WRITE_BATCH, ResumeWrite, Write
from lib.scrobbler.sync.plan import kodi_time
from lib.scrobbler.times import parse_time
from scenario import sync_now

INCEPTION = {"movieid": 1, "title": "Inception", "year": 2010, "uniqueid": {"imdb": "tt1375666", "tmdb": "27205"},
             "runtime": 8880}
HEAT = {"movieid": 2, "title": "Heat", "year": 1995, "uniqueid": {"imdb": "tt0113277"}}  # Kodi knows no runtime
SHOW = {"tvshowid": 3, "title": "Breaking Bad", "year": 2008, "uniqueid": {"tvdb": "81189", "tmdb": "1396"}}
EPISODES = [{"episodeid": 10 + n, "tvshowid": 3, "season": 1, "episode": n, "title": "Episode %d" % n,
             "uniqueid": {"tvdb": str(900 + n)}, "runtime": 2820} for n in range(1, 4)]
INCEPTION_IDS = {"imdb": "tt1375666", "tmdb": 27205}


@pytest.fixture
def library(kodi):
    kodi.set_setting("sync_from_simkl", True)
    return VideoLibrary(kodi, movies=(INCEPTION, HEAT), shows=(SHOW,), episodes=EPISODES)


def logged(kodi, line):
    return kodi.log_text().splitlines().count("[%s] %s" % (config.ADDON_ID, line))


def paths(server, since=0):
    return [r.path for r in server.requests[since:]]


def posted(server):
    return [r.path for r in server.requests if r.method == "POST"]


def test_a_paused_playback_becomes_the_library_movies_resume_point_at_simkls_share_of_kodis_runtime(
        service, server, library, kodi):
    server.library.pause("movie", "Inception", 2010, INCEPTION_IDS, 45.5)

    sync_now(service)

    assert library.movies[1]["resume"] == {"position": round(8880 * 0.455), "total": 8880}
    assert library.movies[1]["playcount"] == 0
    assert posted(server) == []  # the resume write never goes back as a mark or a scrobble
    assert logged(kodi, "sync: 1 resume points from Simkl's 1 paused playbacks written in Kodi") == 1


def test_only_the_playback_moved_is_one_activities_and_one_playback_request_and_nothing_else(
        service, server, library, clock, kodi):
    server.library.watch_movie("Heat", 1995, {"imdb": "tt0113277"}, "2026-05-01T20:00:00Z")
    sync_now(service)
    clock.advance(3600)
    server.library.pause("movie", "Inception", 2010, INCEPTION_IDS, 50)
    since = len(server.requests)

    sync_now(service)

    assert paths(server, since) == ["/sync/activities", "/sync/playback"]
    assert "date_from" not in server.requests[-1].query  # no pause was saved before: all of them
    assert library.movies[1]["resume"]["position"] == 4440
    assert library.movies[2]["playcount"] == 1  # the earlier sync's mark stands
    since = len(server.requests)

    sync_now(service)

    assert paths(server, since) == ["/sync/activities"]  # nothing moved: one request
    assert logged(kodi, "sync: nothing moved on Simkl since the last sync") == 1


def test_a_later_playback_is_asked_from_the_saved_server_time(service, server, library, clock):
    server.library.pause("episode", "Breaking Bad", 2008, {"tvdb": 81189}, 10, episode=(1, 1))
    sync_now(service)
    saved = server.library.activities()["tv_shows"]["playback"]
    clock.advance(3600)
    server.library.pause("episode", "Breaking Bad", 2008, {"tvdb": 81189}, 50, episode=(1, 2))
    since = len(server.requests)

    sync_now(service)

    assert paths(server, since) == ["/sync/activities", "/sync/playback"]
    assert server.requests[-1].query["date_from"] == saved
    assert library.episodes[12]["resume"] == {"position": 1410, "total": 2820}


def test_a_full_sync_asks_for_every_paused_playback_without_date_from(service, server, library, clock):
    server.library.pause("movie", "Inception", 2010, INCEPTION_IDS, 10)
    sync_now(service)
    clock.advance(3600)
    since = len(server.requests)

    sync_now(service, full=True)

    playback = [r for r in server.requests[since:] if r.path == "/sync/playback"]
    assert len(playback) == 1 and "date_from" not in playback[0].query


def test_with_the_setting_off_simkls_paused_playbacks_are_never_asked_for(service, server, library, clock, kodi):
    kodi.set_setting("sync_resume", False)
    server.library.pause("movie", "Inception", 2010, INCEPTION_IDS, 45.5)
    sync_now(service)
    clock.advance(3600)
    server.library.pause("movie", "Inception", 2010, INCEPTION_IDS, 60)
    since = len(server.requests)

    sync_now(service)

    assert "/sync/playback" not in paths(server)
    assert paths(server, since) == ["/sync/activities"]
    assert library.movies[1].get("resume") is None


def test_a_sync_cut_before_the_resume_writes_is_done_again(service, server, library, clock, kodi):
    server.library.pause("movie", "Inception", 2010, INCEPTION_IDS, 45.5)
    refused = {"on": True}
    set_movie = kodi.jsonrpc_handlers["VideoLibrary.SetMovieDetails"]

    def failing(params):
        if refused["on"] and "resume" in params:
            raise RuntimeError("Kodi went away")
        return set_movie(params)

    kodi.jsonrpc_handlers["VideoLibrary.SetMovieDetails"] = failing
    sync_now(service)
    assert library.movies[1].get("resume") is None
    refused["on"] = False
    clock.advance(3600)
    since = len(server.requests)

    sync_now(service)

    assert "/sync/playback" in paths(server, since)
    assert library.movies[1]["resume"]["position"] == round(8880 * 0.455)


def test_an_item_kodi_played_after_the_pause_keeps_its_own_resume_point(service, server, library, clock):
    server.library.pause("movie", "Inception", 2010, INCEPTION_IDS, 45.5, paused_at=clock() - 7200)
    library.movies[1]["lastplayed"] = kodi_time_of(clock() - 3600)
    library.movies[1]["resume"] = {"position": 100.0, "total": 8880.0}

    sync_now(service)

    assert library.movies[1]["resume"] == {"position": 100.0, "total": 8880.0}
    assert [write for write in library.writes if "resume" in write[1]] == []


def test_an_item_simkl_has_watched_after_the_pause_gets_no_resume_point(service, server, library, clock):
    server.library.pause("movie", "Inception", 2010, INCEPTION_IDS, 45.5, paused_at=clock() - 7200)
    server.library.watch_movie("Inception", 2010, INCEPTION_IDS, kodi_iso(clock() - 3600))

    sync_now(service)

    assert library.movies[1]["playcount"] == 1
    assert library.movies[1].get("resume") is None


def test_a_pause_the_same_sync_marks_watched_since_is_left_out_and_an_older_mark_is_not():
    pause = ResumeWrite("movie", 1, 600, 6000, paused_at=parse_time("2026-05-02T20:00:00Z"))
    episode = ResumeWrite("episode", 5, 600, 6000, paused_at=parse_time("2026-05-02T20:00:00Z"))
    later = Write("movie", 1, 1, kodi_time("2026-05-02T21:00:00Z"))
    earlier = Write("episode", 5, 1, kodi_time("2026-05-01T21:00:00Z"))

    assert _yield_to_marks([later, pause, earlier, episode]) == [later, earlier, episode]
    assert _yield_to_marks([Write("movie", 1, 1, ""), pause]) == [Write("movie", 1, 1, "")]  # time unknown
    assert _yield_to_marks([Write("movie", 1, 0), pause]) == [Write("movie", 1, 0), pause]


def test_a_movie_kodi_knows_no_runtime_of_is_left_with_one_log_line(service, server, library, kodi):
    server.library.pause("movie", "Heat", 1995, {"imdb": "tt0113277"}, 30)

    sync_now(service)

    assert library.movies[2].get("resume") is None
    assert sum("Kodi knows no runtime for it" in line for line in kodi.log_text().splitlines()) == 1


def test_a_movie_only_its_video_stream_knows_the_length_of_is_read_again_with_it_alone(service, server, library,
                                                                                          kodi):
    library.movies[4] = {"movieid": 4, "title": "Dune", "year": 2021, "uniqueid": {"tmdb": "438631"}, "playcount": 0,
                         "lastplayed": "", "streamdetails": {"video": [{"duration": 9300}]}}
    server.library.pause("movie", "Dune", 2021, {"tmdb": 438631}, 20)

    sync_now(service)

    assert library.movies[4]["resume"] == {"position": 1860, "total": 9300}
    asked = [(method, params) for method, params in kodi.jsonrpc_calls if "streamdetails" in str(params)]
    assert asked == [("VideoLibrary.GetMovieDetails", {"movieid": 4, "properties": resume.STREAM_PROPERTIES["movie"]})]


def test_resume_points_are_written_beside_the_marks_of_the_same_sync(service, server, library):
    server.library.watch_episodes("Breaking Bad", 2008, {"tvdb": 81189}, [(1, 1, "2026-05-01T20:00:00Z")])
    server.library.pause("episode", "Breaking Bad", 2008, {"tvdb": 81189}, 25, episode=(1, 2), episode_key="number")
    server.library.pause("movie", "Inception", 2010, INCEPTION_IDS, 45.5)

    sync_now(service)

    assert library.episodes[11]["playcount"] == 1
    assert library.episodes[12]["resume"] == {"position": 705, "total": 2820}
    assert library.movies[1]["resume"]["position"] == round(8880 * 0.455)
    assert len(library.writes) == 3 <= WRITE_BATCH


def kodi_time_of(seconds):
    from lib.scrobbler.times import iso_utc
    return kodi_time(iso_utc(seconds))


def kodi_iso(seconds):
    from lib.scrobbler.times import iso_utc
    return iso_utc(seconds)


@pytest.mark.parametrize("answer", ["garbage", 7, {"error": "x"}])
def test_a_playback_answer_that_is_not_a_list_stops_the_sync_and_it_is_asked_again(service, server, library, clock,
                                                                                  answer):
    server.library.pause("movie", "Inception", 2010, INCEPTION_IDS, 45.5)
    server.fail("/sync/playback", 200, body=answer)

    sync_now(service)

    assert library.movies[1].get("resume") is None
    clock.advance(3600)

    sync_now(service)

    assert library.movies[1]["resume"]["position"] == round(8880 * 0.455)


@pytest.mark.parametrize("answer", [b"null", {}, []])
def test_an_empty_answer_in_any_shape_is_no_paused_playbacks(service, server, library, answer, kodi):
    server.library.pause("movie", "Inception", 2010, INCEPTION_IDS, 45.5)
    server.fail("/sync/playback", 200, body=answer)

    sync_now(service)

    assert library.movies[1].get("resume") is None
    assert logged(kodi, "sync: 0 resume points from Simkl's 0 paused playbacks written in Kodi") == 1


def test_pauses_of_movies_and_shows_moved_together_are_one_request_from_the_older_saved_time(
        service, server, library, clock):
    server.library.pause("movie", "Inception", 2010, INCEPTION_IDS, 10)
    clock.advance(600)
    server.library.pause("episode", "Breaking Bad", 2008, {"tvdb": 81189}, 10, episode=(1, 1))
    sync_now(service)
    older = server.library.activities()["movies"]["playback"]
    clock.advance(3600)
    server.library.pause("episode", "Breaking Bad", 2008, {"tvdb": 81189}, 50, episode=(1, 2))
    server.library.pause("movie", "Inception", 2010, INCEPTION_IDS, 50)
    since = len(server.requests)

    sync_now(service)

    assert paths(server, since) == ["/sync/activities", "/sync/playback"]
    assert server.requests[-1].query["date_from"] == older
    assert library.movies[1]["resume"]["position"] == 4440 and library.episodes[12]["resume"]["position"] == 1410
