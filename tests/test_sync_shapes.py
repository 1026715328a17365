"""The sync on the shapes Simkl really sends (issue 17): completed and dropped shows without their
episodes, anime entries per cour with their TVDB places, anime films, every time format, and one
malformed item among good ones. Pure parts: parse, Planner, removed_since, snapshot.

Each answer below follows Simkl's docs or a public client's observation, named beside it."""
import pytest

from lib.scrobbler.sync.plan import Planner, kodi_time, removed_since, snapshot
from lib.scrobbler.sync.remote import parse
from lib.scrobbler.times import UNKNOWN_TIME

T1, T2, T3 = "2026-03-01T21:00:00Z", "2026-03-02T21:00:00.000Z", "2026-03-03T06:00:00+09:00"

# A completed show asked without include_all_episodes: no `seasons` (CrossWatch PR #267; api.simkl.org
# conventions/extended-info lists the summary fields it keeps).
DARK_COMPLETED = {"added_to_watchlist_at": "2024-01-02T10:00:00Z", "last_watched_at": T1, "user_rated_at": None,
                  "user_rating": None, "status": "completed", "last_watched": "S02E10", "next_to_watch": None,
                  "watched_episodes_count": 20, "total_episodes_count": 20, "not_aired_episodes_count": 0,
                  "show": {"title": "Dark", "year": 2017,
                           "ids": {"simkl": 583436, "imdb": "tt5753856", "tvdb": "334824", "tmdb": "70523"}}}
DARK_DROPPED = dict(DARK_COMPLETED, status="dropped", watched_episodes_count=5, last_watched="S01E05")
# The same show with include_all_episodes=yes: its episodes listed (api.simkl.org get-all-items).
DARK_LISTED = dict(DARK_COMPLETED, seasons=[{"number": 1, "episodes": [{"number": 1, "watched_at": T1},
                                                                        {"number": 2, "watched_at": T2}]}])

# Anime per cour with extended=full_anime_seasons: each entry numbers from 1, each episode carries its TVDB
# place as {"season", "episode"}, entries share the series' tvdb/tmdb ids ([apiary] Get All Items example;
# CrossWatch PR #442; simkl-api §13).
AOT_PART_1 = {"status": "completed", "anime_type": "tv", "last_watched_at": T1, "mapped_tvdb_seasons": [4],
              "show": {"title": "Attack on Titan: The Final Season", "year": 2020,
                       "ids": {"simkl": 1240000, "mal": "40028", "anidb": "14977", "tvdb": "267440", "tmdb": "1429"}},
              "seasons": [{"number": 1, "episodes": [
                  {"number": n, "watched_at": T1, "tvdb": {"season": 4, "episode": n}} for n in (1, 2)]}]}
AOT_PART_2 = {"status": "watching", "anime_type": "tv", "last_watched_at": T2, "mapped_tvdb_seasons": [4],
              "show": {"title": "Attack on Titan: The Final Season Part 2", "year": 2022,
                       "ids": {"simkl": 1579947, "mal": "48583", "anidb": "16177", "tvdb": "267440", "tmdb": "1429"}},
              "seasons": [{"number": 1, "episodes": [
                  {"number": 1, "watched_at": T2, "tvdb": {"season": 4, "episode": 17}},
                  {"number": 2, "watched_at": T3, "tvdb": {"season": 4, "episode": 18}}]}]}
# An anime film: in the anime list, `show` block, anime_type "movie" beside it, the film's TMDB movie id
# (CrossWatch PRs #296 and #458; NuvioTV issue #2913).
PONYO = {"status": "completed", "anime_type": "movie", "last_watched_at": T3,
         "show": {"title": "Ponyo", "year": 2008, "ids": {"simkl": 37000, "mal": "1689", "imdb": "tt0876563",
                                                          "tmdb": "12429"}},
         "seasons": [{"number": 1, "episodes": [{"number": 1, "watched_at": T3}]}]}

KODI_DARK = {"tvshowid": 1, "title": "Dark", "year": 2017, "uniqueid": {"tvdb": "334824"}}
KODI_AOT = {"tvshowid": 2, "title": "Attack on Titan", "year": 2013, "uniqueid": {"tvdb": "267440", "tmdb": "1429"}}


def episode(episodeid, season, number, playcount=0, lastplayed=""):
    return {"episodeid": episodeid, "season": season, "episode": number, "title": "E%d" % number,
            "playcount": playcount, "lastplayed": lastplayed, "uniqueid": {}}


def mark_of(write_and_send):
    write, _ = write_and_send
    return None if write is None else (write.playcount, write.lastplayed)


# -- completed and dropped shows ------------------------------------------------------------------

def test_a_completed_show_listed_without_its_episodes_marks_every_regular_episode_in_kodi():
    planner = Planner(parse({"shows": [DARK_COMPLETED]}))

    assert mark_of(planner.episode(episode(1, 1, 1), KODI_DARK)) == (1, kodi_time(T1))
    assert mark_of(planner.episode(episode(2, 2, 10), KODI_DARK)) == (1, kodi_time(T1))
    assert mark_of(planner.episode(episode(3, 0, 1), KODI_DARK)) is None  # a special is not part of "completed"


def test_a_completed_show_with_its_episodes_listed_marks_exactly_those_with_their_times():
    planner = Planner(parse({"shows": [DARK_LISTED]}))

    assert mark_of(planner.episode(episode(1, 1, 1), KODI_DARK)) == (1, kodi_time(T1))
    assert mark_of(planner.episode(episode(2, 1, 2), KODI_DARK)) == (1, kodi_time(T2))
    assert mark_of(planner.episode(episode(3, 1, 3), KODI_DARK)) is None


def test_a_dropped_show_without_its_episodes_marks_nothing_and_offers_nothing_to_send():
    planner = Planner(parse({"shows": [DARK_DROPPED]}))

    assert planner.episode(episode(1, 1, 1), KODI_DARK) == (None, None)
    assert planner.episode(episode(9, 1, 9, playcount=1, lastplayed="2025-01-01 10:00:00"), KODI_DARK) == (None, None)


def test_the_import_never_offers_what_simkl_has_as_part_of_a_completed_show():
    planner = Planner(parse({"shows": [DARK_COMPLETED]}))

    watched = episode(1, 1, 1, playcount=1, lastplayed="2025-01-01 10:00:00")
    assert planner.episode(watched, KODI_DARK) == (None, None)
    special = episode(3, 0, 1, playcount=1, lastplayed="2025-01-01 10:00:00")
    assert planner.episode(special, KODI_DARK) == (None, None)  # Simkl did not list what it has of it


@pytest.mark.parametrize("now", [DARK_COMPLETED, DARK_DROPPED])
def test_a_show_that_comes_back_without_its_episodes_is_never_read_as_removed(now):
    before = parse({"shows": [DARK_LISTED]})
    current = parse({"shows": [now]})

    gone = removed_since(before, current)
    assert gone.count() == 0
    planner = Planner(current, gone)
    assert mark_of(planner.episode(episode(1, 1, 1, playcount=1), KODI_DARK)) is None
    # and the snapshot keeps the episodes Simkl did not list this time, for the next full sync
    assert snapshot(before, current).shows["simkl=583436"].episodes == before.shows["simkl=583436"].episodes


def test_an_episode_really_removed_from_a_listed_show_is_still_found():
    before = parse({"shows": [DARK_LISTED]})
    only_first = dict(DARK_LISTED, seasons=[{"number": 1, "episodes": [{"number": 1, "watched_at": T1}]}])

    gone = removed_since(before, parse({"shows": [only_first]}))

    assert gone.shows["simkl=583436"].episodes == {(1, 2): T2}


# -- anime ----------------------------------------------------------------------------------------

def test_anime_episodes_mark_the_kodi_episode_at_their_tvdb_place_never_the_cours_own_number():
    planner = Planner(parse({"anime": [AOT_PART_2]}))

    assert mark_of(planner.episode(episode(17, 4, 17), KODI_AOT)) == (1, kodi_time(T2))
    assert mark_of(planner.episode(episode(18, 4, 18), KODI_AOT)) == (1, kodi_time(T3))
    assert mark_of(planner.episode(episode(1, 1, 1), KODI_AOT)) is None  # the cour's own S01E01
    assert mark_of(planner.episode(episode(41, 4, 1), KODI_AOT)) is None


def test_every_simkl_entry_of_one_series_is_applied_not_only_the_last():
    planner = Planner(parse({"anime": [AOT_PART_1, AOT_PART_2]}))

    assert mark_of(planner.episode(episode(1, 4, 1), KODI_AOT)) == (1, kodi_time(T1))
    assert mark_of(planner.episode(episode(2, 4, 2), KODI_AOT)) == (1, kodi_time(T1))
    assert mark_of(planner.episode(episode(17, 4, 17), KODI_AOT)) == (1, kodi_time(T2))


def test_an_anime_episode_without_its_tvdb_place_is_left_out_and_counted():
    no_place = dict(AOT_PART_2, seasons=[{"number": 1, "episodes": [{"number": 1, "watched_at": T2}]}])

    watched = parse({"anime": [no_place]})

    assert watched.count() == 0 and len(watched.skipped) == 1
    assert Planner(watched).episode(episode(1, 1, 1), KODI_AOT) == (None, None)


def test_an_anime_film_is_marked_like_a_movie():
    planner = Planner(parse({"anime": [PONYO]}))
    kodi = {"movieid": 7, "title": "Ponyo", "year": 2008, "playcount": 0, "lastplayed": "",
            "uniqueid": {"tmdb": "12429"}}

    assert mark_of(planner.movie(kodi)) == (1, kodi_time(T3))
    assert planner.episode(episode(1, 1, 1), {"tvshowid": 9, "uniqueid": {"tmdb": "12429"}}) == (None, None)


# -- times and malformed items ---------------------------------------------------------------------

@pytest.mark.parametrize("stamp", ["2026-03-01T21:00:00Z", "2026-03-01T21:00:00.000Z", "2026-03-01T21:00:00.000000Z",
                                   "2026-03-02T06:00:00+09:00", "2026-03-01T16:00:00.5-05:00"])
def test_every_time_format_marks_with_the_same_moment(stamp):
    answer = {"movies": [{"status": "completed", "last_watched_at": stamp,
                          "movie": {"title": "Heat", "year": 1995, "ids": {"simkl": 5, "imdb": "tt0113277"}}}]}
    kodi = {"movieid": 1, "playcount": 0, "uniqueid": {"imdb": "tt0113277"}}

    write, _ = Planner(parse(answer)).movie(kodi)

    assert write.lastplayed == kodi_time("2026-03-01T21:00:00Z")


def test_one_malformed_item_is_skipped_and_counted_the_others_are_applied():
    good = {"status": "completed", "last_watched_at": T1,
            "movie": {"title": "Heat", "year": 1995, "ids": {"simkl": 5, "imdb": "tt0113277"}}}
    bad_time = dict(good, last_watched_at="yesterday", movie={"title": "X", "ids": {"simkl": 6, "imdb": "tt0000006"}})
    no_ids = {"status": "completed", "last_watched_at": T1, "movie": {"title": "Y"}}
    bad_episode = dict(DARK_LISTED, seasons=[{"number": 1, "episodes": [{"number": "two", "watched_at": T1},
                                                                         {"number": 1, "watched_at": "soon"},
                                                                         {"number": 3, "watched_at": T2}]},
                                             {"number": None, "episodes": []}, "not a season"])

    watched = parse({"movies": [good, bad_time, no_ids, "text", None], "shows": [bad_episode]})

    assert list(watched.movies) == ["simkl=5"]
    assert watched.shows["simkl=583436"].episodes == {(1, 3): T2}
    assert len(watched.skipped) == 6 and watched.anonymous_skips == 1 and watched.skipped_keys == {"simkl=6"}


def test_a_malformed_item_is_never_read_as_removed():
    heat = {"status": "completed", "last_watched_at": T1,
            "movie": {"title": "Heat", "year": 1995, "ids": {"simkl": 5, "imdb": "tt0113277"}}}
    before = parse({"movies": [heat], "shows": [DARK_LISTED]})

    assert removed_since(before, parse({"movies": [dict(heat, last_watched_at="?")]})).movies == {}
    assert removed_since(before, parse({"movies": [{"status": "completed", "movie": {}}]})).count() == 0
    kept = snapshot(before, parse({"movies": [{"status": "completed", "movie": {}}]}))
    assert kept.count() == before.count()


def test_a_watch_without_a_time_marks_with_no_last_played_time():
    answer = {"movies": [{"status": "completed", "last_watched_at": None,
                          "movie": {"title": "Heat", "ids": {"simkl": 5, "imdb": "tt0113277"}}}]}

    assert parse(answer).movies["simkl=5"][1] == UNKNOWN_TIME
    write, _ = Planner(parse(answer)).movie({"movieid": 1, "playcount": 0, "uniqueid": {"imdb": "tt0113277"}})
    assert (write.playcount, write.lastplayed) == (1, "")
