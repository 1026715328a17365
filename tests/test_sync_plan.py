"""The sync's pure parts: the activities gate, parsing Simkl's lists, and what Kodi must mark."""
import time

import pytest

from lib.scrobbler.media import Episode, Movie
from lib.scrobbler.sync.plan import Planner, kodi_time, removed_since, utc_of_kodi_time
from lib.scrobbler.sync.remote import PLAYBACK_BUCKETS, UNKNOWN_TIME, moved, parse

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


@pytest.mark.parametrize("block", [None, "garbage"])
def test_a_list_missing_from_the_saved_activities_is_pulled_whole_once_it_moves(block):
    saved = dict(ACTIVITIES, anime=block)

    assert moved(saved, changed("anime", "completed")) == [("anime", "completed", None)]
    assert moved(saved, dict(ACTIVITIES, all="2026-05-20T00:00:00Z")) == []


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


def test_what_kodi_offers_to_send_is_the_library_item_as_kodi_has_it_with_kodis_time():
    planner = Planner(parse(None))
    lastplayed = "2025-12-24 20:15:00"

    _, sent = planner.movie(kodi_movie(5, 1, lastplayed, imdb="tt0000555", tmdb="555"))
    assert sent == (Movie("Inception", 2010, {"imdb": "tt0000555", "tmdb": 555}), utc_of_kodi_time(lastplayed))
    _, sent = planner.episode(kodi_episode(number=5, playcount=1, lastplayed=lastplayed), SHOW)
    # Kodi's library numbers episodes the TVDB way: the body to Simkl says so for anime (media.show_reference)
    assert sent == (Episode("The Last of Us", 1, 5, 2023, {"tvdb": 392256}, "When You're Lost", {"tvdb": 8444127},
                            tvdb_numbering=True), utc_of_kodi_time(lastplayed))
    assert utc_of_kodi_time(lastplayed) != UNKNOWN_TIME


def test_a_kodi_item_without_a_title_or_a_time_is_offered_by_its_ids_with_nothing_made_up():
    planner = Planner(parse(None))
    movie = dict(kodi_movie(playcount=1), title=None, year=None, lastplayed=None)
    episode = dict(kodi_episode(playcount=1), title=None)
    del episode["lastplayed"]

    assert planner.movie(movie)[1] == (Movie("", None, {"imdb": "tt1375666"}), UNKNOWN_TIME)
    _, (sent, watched_at) = planner.episode(episode, dict(SHOW, title=None, year=0))
    assert (sent.show_title, sent.title, sent.show_year, watched_at) == ("", "", None, UNKNOWN_TIME)


@pytest.mark.parametrize("season, number", [(None, 1), (1, None), (1, 0)])
def test_a_kodi_episode_without_its_season_or_number_is_never_offered(season, number):
    planner = Planner(parse(None))

    assert planner.episode(kodi_episode(season=season, number=number, playcount=1), SHOW) == (None, None)


@pytest.mark.parametrize("uniqueid", ["tt1375666", ["tt1375666"], None])
def test_a_kodi_item_with_unreadable_ids_is_never_offered_and_never_stops_the_plan(uniqueid):
    planner = Planner(parse(MOVIES))

    assert planner.movie(dict(kodi_movie(playcount=1), uniqueid=uniqueid)) == (None, None)
    assert planner.episode(kodi_episode(playcount=1), dict(SHOW, uniqueid=uniqueid)) == (None, None)


def test_an_item_removed_from_simkl_that_kodi_has_as_unwatched_is_left_alone():
    before = parse(dict(MOVIES, **SHOWS))
    now = parse(None)
    planner = Planner(now, removed_since(before, now))

    assert planner.movie(kodi_movie(playcount=0)) == (None, None)
    assert planner.episode(kodi_episode(playcount=0), SHOW) == (None, None)
    assert planner.movie(kodi_movie(playcount=1))[0].playcount == 0  # watched in Kodi: unmarked
    assert planner.episode(kodi_episode(playcount=1), SHOW)[0].playcount == 0


def test_the_playback_buckets_are_followed_apart_from_the_watch_lists():
    now = changed("tv_shows", "playback")

    assert moved(ACTIVITIES, now) == []  # not a watch list
    assert moved(ACTIVITIES, now, PLAYBACK_BUCKETS) == [("tv_shows", "playback", None)]
    assert moved(ACTIVITIES, changed("movies", "completed"), PLAYBACK_BUCKETS) == []
