"""The sync's pure parts: the activities gate, parsing Simkl's lists, and what Kodi must mark."""
import time

import pytest

from lib.scrobbler.sync.plan import Planner, kodi_time, removed_since, utc_of_kodi_time
from lib.scrobbler.sync.remote import UNKNOWN_TIME, moved, parse

ACTIVITIES = {"all": "2026-05-14T06:50:38Z", "settings": {"all": "2026-02-15T22:53:03Z"},
              "movies": {"all": "2026-05-14T06:50:38Z", "completed": "2026-05-14T06:50:38Z", "plantowatch": None},
              "tv_shows": {"all": "2026-05-13T10:00:00Z", "watching": "2026-05-13T10:00:00Z", "completed": None},
              "anime": {"all": None, "watching": None, "completed": None}}


def changed(block, status, stamp="2026-05-20T00:00:00Z"):
    now = {key: (dict(value) if isinstance(value, dict) else value) for key, value in ACTIVITIES.items()}
    now[block][status] = stamp
    now[block]["all"] = stamp
    now["all"] = stamp
    return now


def test_nothing_moved_means_nothing_to_pull():
    assert moved(ACTIVITIES, ACTIVITIES) == []


def test_only_the_lists_whose_activity_moved_are_pulled_from_their_saved_time():
    assert moved(ACTIVITIES, changed("tv_shows", "watching")) == [("tv_shows", "watching", "2026-05-13T10:00:00Z")]
    assert moved(ACTIVITIES, changed("anime", "completed")) == [("anime", "completed", None)]


def test_a_change_that_is_not_about_watches_pulls_nothing():
    now = changed("movies", "plantowatch")
    assert moved(ACTIVITIES, now) == []


@pytest.mark.parametrize("saved", [None, "garbage", []])
def test_without_a_usable_saved_state_everything_is_pulled(saved):
    assert moved(saved, ACTIVITIES) is None


MOVIES = {"movies": [
    {"status": "completed", "last_watched_at": "2026-05-01T20:00:00Z",
     "movie": {"title": "Inception", "year": 2010, "ids": {"simkl": 17, "imdb": "tt1375666", "tmdb": "27205"}}},
    {"status": "plantowatch", "last_watched_at": None,
     "movie": {"title": "Dune", "year": 2021, "ids": {"simkl": 18, "imdb": "tt1160419"}}},
    {"status": "completed", "last_watched_at": None, "movie": {"title": "Old", "ids": {"simkl": 19, "tmdb": 5}}},
    "not an item", {"status": "completed"}]}
SHOWS = {"shows": [{"status": "watching", "show": {"title": "The Last of Us", "year": 2023,
                                                    "ids": {"simkl": 900, "tvdb": "392256", "imdb": "tt3581920"}},
                    "seasons": [{"number": 1, "episodes": [{"number": 1, "watched_at": "2026-05-02T20:00:00Z"},
                                                           {"number": 2}]}]}],
         "anime": [{"status": "completed", "anime_type": "tv",
                    "show": {"title": "Frieren", "year": 2023, "ids": {"simkl": 901, "tvdb": 424536}},
                    "seasons": [{"number": 1, "episodes": [{"number": 28, "watched_at": "2026-04-01T12:00:00Z",
                                                            "tvdb": {"season": 1, "episode": 28}}]}]}]}


def test_parsing_keeps_completed_movies_and_watched_episodes_with_their_times():
    watched = parse(dict(MOVIES, **SHOWS))

    assert watched.movies == {"simkl=17": ({"simkl": 17, "imdb": "tt1375666", "tmdb": 27205}, "2026-05-01T20:00:00Z"),
                              "simkl=19": ({"simkl": 19, "tmdb": 5}, UNKNOWN_TIME)}
    assert watched.shows["simkl=900"].episodes == {(1, 1): "2026-05-02T20:00:00Z", (1, 2): UNKNOWN_TIME}
    assert watched.shows["simkl=901"].episodes == {(1, 28): "2026-04-01T12:00:00Z"}
    assert watched.count() == 5


@pytest.mark.parametrize("answer", [None, {}, [], "x", {"movies": None, "shows": "x"}])
def test_an_empty_library_in_any_of_its_shapes_is_empty(answer):
    assert parse(answer).count() == 0


def kodi_movie(movieid=1, playcount=0, lastplayed="", **uniqueid):
    return {"movieid": movieid, "title": "Inception", "year": 2010, "playcount": playcount, "lastplayed": lastplayed,
            "uniqueid": uniqueid or {"imdb": "tt1375666"}}


SHOW = {"tvshowid": 3, "title": "The Last of Us", "year": 2023, "uniqueid": {"tvdb": "392256"}}


def kodi_episode(episodeid=7, season=1, number=1, playcount=0, lastplayed=""):
    return {"episodeid": episodeid, "tvshowid": 3, "season": season, "episode": number, "title": "When You're Lost",
            "playcount": playcount, "lastplayed": lastplayed, "uniqueid": {"tvdb": "8444127"}}


def test_kodi_marks_what_simkl_has_watched_with_simkls_time_in_local_time():
    planner = Planner(parse(dict(MOVIES, **SHOWS)))

    write, send = planner.movie(kodi_movie(tmdb="27205"))
    assert (write.kind, write.dbid, write.playcount, send) == ("movie", 1, 1, None)
    assert write.lastplayed == time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(1777665600))
    write, _ = planner.episode(kodi_episode(), SHOW)
    assert (write.kind, write.dbid, write.playcount) == ("episode", 7, 1)


def test_an_item_kodi_already_has_watched_is_left_alone():
    planner = Planner(parse(dict(MOVIES, **SHOWS)))

    assert planner.movie(kodi_movie(playcount=2, lastplayed="2026-01-01 10:00:00")) == (None, None)
    assert planner.episode(kodi_episode(playcount=1), SHOW) == (None, None)


def test_an_episode_simkl_has_not_watched_or_of_an_unknown_show_is_not_marked():
    planner = Planner(parse(SHOWS))

    assert planner.episode(kodi_episode(number=3), SHOW) == (None, None)
    assert planner.episode(kodi_episode(), dict(SHOW, uniqueid={"tvdb": "1"})) == (None, None)
    assert planner.episode(kodi_episode(), None) == (None, None)


def test_what_kodi_watched_and_simkl_has_not_is_offered_with_kodis_time_in_utc():
    planner = Planner(parse(MOVIES))
    lastplayed = "2025-12-24 20:15:00"

    write, (movie, watched_at) = planner.movie(kodi_movie(5, 1, lastplayed, imdb="tt0000555"))
    assert write is None
    assert (movie.title, movie.ids) == ("Inception", {"imdb": "tt0000555"})
    assert watched_at == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.mktime(time.strptime(
        lastplayed, "%Y-%m-%d %H:%M:%S"))))
    _, (episode, _) = planner.episode(kodi_episode(number=5, playcount=1), SHOW)
    assert (episode.show_title, episode.season, episode.number, episode.show_ids) == (
        "The Last of Us", 1, 5, {"tvdb": 392256})


def test_a_kodi_item_without_ids_is_never_offered():
    assert Planner(parse(None)).movie(dict(kodi_movie(playcount=1), uniqueid={})) == (None, None)


def test_unwatch_applies_only_to_what_simkl_had_and_no_longer_has():
    before = parse(dict(MOVIES, **SHOWS))
    now = parse({"shows": SHOWS["shows"]})
    planner = Planner(now, removed_since(before, now))

    write, _ = planner.movie(kodi_movie(playcount=1))
    assert (write.dbid, write.playcount) == (1, 0)
    assert planner.movie(kodi_movie(2, playcount=1, imdb="tt0000002"))[0] is None  # never on Simkl: kept
    assert planner.episode(kodi_episode(playcount=1), SHOW) == (None, None)  # still on Simkl


def test_times_convert_both_ways_and_an_unknown_time_stays_unknown():
    assert kodi_time(UNKNOWN_TIME) == "" and kodi_time("") == ""
    assert utc_of_kodi_time("") == UNKNOWN_TIME and utc_of_kodi_time("garbage") == UNKNOWN_TIME
    assert utc_of_kodi_time(kodi_time("2026-05-01T20:00:00Z")) == "2026-05-01T20:00:00Z"
