"""The fake Simkl's library, checked through real HTTP: /sync/activities and /sync/all-items answer in
the documented shapes (docs §7.1, §7.2, §8.3), `date_from` and `extended` filter as Simkl does, the
watching-delta quirk of §12 can be switched on, more than 10 GETs a second is a violation, and what
is posted to /sync/history[/remove] lands in the library.
"""
import pytest
import requests
from fake_simkl_library import iso
from virtual_time import START

T0 = iso(START)  # 2026-05-28T20:26:40Z
MATRIX = {"title": "The Matrix", "year": 1999, "ids": {"imdb": "tt0133093", "tmdb": "603"}}
DARK = {"title": "Dark", "year": 2017, "ids": {"imdb": "tt5753856", "tvdb": 334824}}
FRIEREN = {"title": "Frieren", "year": 2023, "ids": {"tvdb": 424536, "mal": 52991}}
NULL_BUCKETS = {"movies": dict.fromkeys(("all", "rated_at", "playback", "plantowatch", "completed", "dropped",
                                         "removed_from_list")),
                "tv_shows": dict.fromkeys(("all", "rated_at", "playback", "plantowatch", "watching", "completed",
                                           "hold", "dropped", "removed_from_list"))}
NULL_BUCKETS["anime"] = dict(NULL_BUCKETS["tv_shows"])


@pytest.fixture
def api(server):
    token = server.issue_token()

    class Api:
        def get(self, path, auth=True, **params):
            params.update({"client_id": server.client_id, "app-name": "fake-test", "app-version": "1.0"})
            headers = {"User-Agent": "fake-test/1.0"}
            if auth:
                headers["Authorization"] = "Bearer " + token
            return requests.get(server.url + path, params=params, headers=headers, timeout=5)

        def ok(self, path, **params):
            server.clock.advance(0.2)  # stays within 10 GETs a second
            answer = self.get(path, **params)
            assert answer.status_code == 200, answer.text
            return answer.json()

        def post(self, path, body):
            server.clock.advance(1.0)
            params = {"client_id": server.client_id, "app-name": "fake-test", "app-version": "1.0"}
            headers = {"User-Agent": "fake-test/1.0", "Authorization": "Bearer " + token}
            return requests.post(server.url + path, params=params, json=body, headers=headers, timeout=5)

    return Api()


def at(server, seconds):
    """Move the fake's clock to START + seconds and give its ISO stamp."""
    server.clock.advance(START + seconds - server.clock())
    return iso(START + seconds)


# -- /sync/activities -------------------------------------------------------------------------

def test_activities_of_a_fresh_account_are_all_null_in_the_documented_keys(api, server):
    assert api.ok("/sync/activities") == dict({"all": None, "settings": {"all": None}}, **NULL_BUCKETS)
    assert server.violations == []


def test_activities_need_the_bearer_token(api):
    answer = api.get("/sync/activities", auth=False)
    assert answer.status_code == 401
    assert answer.json()["error"] == "user_token_failed"


def test_a_watched_movie_moves_movies_completed_its_block_and_the_top(api, server):
    stamp = at(server, 100)
    server.library.watch_movie(**MATRIX, watched_at="2026-05-20T21:00:00Z")
    activities = api.ok("/sync/activities")
    assert activities["all"] == stamp
    assert activities["movies"] == dict(NULL_BUCKETS["movies"], all=stamp, completed=stamp)
    assert activities["tv_shows"] == NULL_BUCKETS["tv_shows"]
    assert activities["anime"] == NULL_BUCKETS["anime"]
    assert "watching" not in activities["movies"] and "hold" not in activities["movies"]


def test_episodes_move_watching_then_completed_and_anime_moves_its_own_block(api, server):
    at(server, 100)
    server.library.watch_episodes(**DARK, episodes=[(1, 1, None)])
    second = at(server, 200)
    server.library.watch_episodes(**DARK, episodes=[(1, 2, None)], completed=True)
    third = at(server, 300)
    server.library.watch_episodes(**FRIEREN, episodes=[(1, 1, None)], anime=True)

    activities = api.ok("/sync/activities")
    assert activities["tv_shows"] == dict(NULL_BUCKETS["tv_shows"], all=second, watching=second, completed=second)
    # watching moved again at `second`: the show left Watching for Completed
    assert activities["anime"] == dict(NULL_BUCKETS["anime"], all=third, watching=third)
    assert activities["movies"] == NULL_BUCKETS["movies"]
    assert activities["all"] == third


def test_a_removal_moves_removed_from_list_and_the_list_it_left(api, server):
    server.library.watch_movie(**MATRIX)
    server.library.watch_episodes(**DARK, episodes=[(1, 1, None)])
    stamp = at(server, 500)
    assert server.library.remove_movie({"imdb": "tt0133093"}) is True
    assert server.library.remove_show({"tvdb": 334824}) is True
    assert server.library.remove_movie({"imdb": "tt0133093"}) is False
    activities = api.ok("/sync/activities")
    assert activities["movies"]["removed_from_list"] == activities["movies"]["completed"] == stamp
    assert activities["tv_shows"]["removed_from_list"] == activities["tv_shows"]["watching"] == stamp
    assert activities["all"] == stamp
    assert api.ok("/sync/all-items") is None


def test_touch_moves_any_bucket_for_example_a_rating_or_the_settings(api, server):
    stamp = at(server, 50)
    server.library.touch("movies", "rated_at")
    server.library.touch("settings")
    activities = api.ok("/sync/activities")
    assert activities["movies"]["rated_at"] == activities["movies"]["all"] == stamp
    assert activities["settings"] == {"all": stamp}
    assert activities["movies"]["completed"] is None


# -- /sync/all-items shapes -------------------------------------------------------------------

def test_a_movie_item_has_the_documented_shape_and_a_stable_simkl_id(api, server):
    at(server, 10)
    simkl = server.library.watch_movie(**MATRIX, watched_at="2026-05-20T21:00:00Z")
    assert server.library.watch_movie(MATRIX["title"], 1999, {"tmdb": "603"}) == simkl  # same movie, any id
    assert server.library.simkl_id("movie", {"imdb": "tt0133093"}) == simkl
    assert server.library.simkl_id("show", {"tmdb": "603"}) is None  # a TMDB TV id is another thing

    answer = api.ok("/sync/all-items", extended="full", episode_watched_at="yes")
    assert answer == {"movies": [{
        "added_to_watchlist_at": iso(START + 10), "last_watched_at": iso(START + 10), "user_rated_at": None,
        "user_rating": None, "status": "completed",
        "movie": {"title": "The Matrix", "year": 1999,
                  "ids": {"simkl": simkl, "imdb": "tt0133093", "tmdb": "603"}}}]}
    assert list(answer["movies"][0]["movie"]["ids"])[0] == "simkl"


def test_given_simkl_ids_are_kept_and_a_removed_item_comes_back_with_its_id(server):
    assert server.library.watch_movie("Heat", 1995, {"simkl": 53536, "imdb": "tt0113277"}) == 53536
    server.library.remove_movie({"imdb": "tt0113277"})
    assert server.library.watch_movie("Heat", 1995, {"imdb": "tt0113277"}) == 53536
    one = server.library.watch_movie("A", 2000, {"imdb": "tt1"})
    two = server.library.watch_movie("B", 2001, {"imdb": "tt2"})
    assert one != two


def test_a_show_item_carries_seasons_only_with_extended_full_and_watched_at_only_when_asked(api, server):
    at(server, 5)
    simkl = server.library.watch_episodes(**DARK, episodes=[(1, 2, "2026-05-02T20:00:00Z"),
                                                            (1, 1, "2026-05-01T20:00:00Z"),
                                                            (2, 1, "2026-05-03T20:00:00Z")], total_episodes=26)
    base = {"added_to_watchlist_at": iso(START + 5), "last_watched_at": "2026-05-03T20:00:00Z",
            "user_rated_at": None, "user_rating": None, "status": "watching", "last_watched": "S02E01",
            "watched_episodes_count": 3, "total_episodes_count": 26, "not_aired_episodes_count": 0,
            "show": {"title": "Dark", "year": 2017, "ids": {"simkl": simkl, "imdb": "tt5753856", "tvdb": 334824}}}

    assert api.ok("/sync/all-items") == {"shows": [base]}
    assert api.ok("/sync/all-items/shows", episode_watched_at="yes") == {"shows": [base]}
    assert api.ok("/sync/all-items/shows", extended="full") == {"shows": [dict(base, seasons=[
        {"number": 1, "episodes": [{"number": 1}, {"number": 2}]}, {"number": 2, "episodes": [{"number": 1}]}])]}
    assert api.ok("/sync/all-items/shows", extended="full", episode_watched_at="yes") == {"shows": [dict(
        base, seasons=[{"number": 1, "episodes": [{"number": 1, "watched_at": "2026-05-01T20:00:00Z"},
                                                  {"number": 2, "watched_at": "2026-05-02T20:00:00Z"}]},
                       {"number": 2, "episodes": [{"number": 1, "watched_at": "2026-05-03T20:00:00Z"}]}])]}


def test_anime_come_under_anime_with_anime_type_and_their_tvdb_numbering_as_stored(api, server):
    simkl = server.library.watch_episodes(**FRIEREN, episodes=[(2, 3, "2026-05-10T12:00:00Z")], anime=True)
    answer = api.ok("/sync/all-items/anime", extended="full_anime_seasons", episode_watched_at="yes")
    assert list(answer) == ["anime"]
    [item] = answer["anime"]
    assert item["show"] == {"title": "Frieren", "year": 2023, "ids": {"simkl": simkl, "tvdb": 424536, "mal": 52991}}
    assert item["anime_type"] == "tv"
    assert item["seasons"] == [{"number": 2, "episodes": [{"number": 3, "watched_at": "2026-05-10T12:00:00Z"}]}]
    assert item["last_watched"] == "S02E03"
    assert api.ok("/sync/all-items/shows") is None
    server.library.watch_episodes(**DARK, episodes=[(1, 1, None)])
    assert "anime_type" not in api.ok("/sync/all-items/shows")["shows"][0]  # absent on non-anime (§8.3)
    # later watches of the same show stay anime without saying so again
    server.library.watch_episodes(FRIEREN["title"], 2023, {"tvdb": 424536}, [(2, 4, None)])
    assert len(api.ok("/sync/all-items/anime")["anime"]) == 1


def test_the_whole_library_answer_has_only_the_types_that_have_items(api, server):
    server.library.watch_movie(**MATRIX)
    server.library.watch_episodes(**FRIEREN, episodes=[(1, 1, None)], anime=True)
    answer = api.ok("/sync/all-items")
    assert sorted(answer) == ["anime", "movies"]
    assert list(api.ok("/sync/all-items/movies")) == ["movies"]
    assert api.ok("/sync/all-items/shows") is None


def test_status_paths_keep_only_that_list(api, server):
    server.library.watch_episodes(**DARK, episodes=[(1, 1, None)])
    server.library.watch_episodes("Lost", 2004, {"tvdb": 73739}, [(1, 1, None)], completed=True)
    server.library.list_item("show", "Severance", 2022, {"tvdb": 371980}, "plantowatch")
    server.library.list_item("movie", "Heat", 1995, {"imdb": "tt0113277"}, "plantowatch")

    def titles(path):
        answer = api.ok(path) or {}
        return sorted(item.get("show", item.get("movie", {}))["title"] for group in answer.values() for item in group)

    assert titles("/sync/all-items/shows/watching") == ["Dark"]
    assert titles("/sync/all-items/shows/completed") == ["Lost"]
    assert titles("/sync/all-items/shows/plantowatch") == ["Severance"]
    assert titles("/sync/all-items/movies/plantowatch") == ["Heat"]
    assert titles("/sync/all-items/movies/completed") == []
    assert titles("/sync/all-items/shows/hold") == []
    [heat] = api.ok("/sync/all-items/movies")["movies"]
    assert heat["status"] == "plantowatch" and heat["last_watched_at"] is None
    [severance] = api.ok("/sync/all-items/shows/plantowatch", extended="full")["shows"]
    assert severance["last_watched"] is None and severance["last_watched_at"] is None
    assert severance["watched_episodes_count"] == 0 and severance["seasons"] == []


def test_unknown_types_and_statuses_are_404(api):
    for path in ("/sync/all-items/episodes", "/sync/all-items/shows/finished", "/sync/all-items/shows/watching/x"):
        answer = api.get(path)
        assert answer.status_code == 404, path
        assert answer.json()["error"] == "url_failed"


def test_an_empty_result_is_null_or_an_empty_object_when_the_test_says_so(api, server):
    answer = api.get("/sync/all-items")
    assert answer.status_code == 200 and answer.text == "null"
    server.null_when_empty = False
    assert server.library.null_when_empty is False
    assert api.ok("/sync/all-items") == {}
    assert api.ok("/sync/all-items/movies/completed", date_from=T0) == {}


# -- date_from ------------------------------------------------------------------------------

def test_date_from_keeps_the_entries_changed_after_it_and_never_shows_removals(api, server):
    at(server, 10)
    server.library.watch_movie(**MATRIX)
    server.library.watch_movie("Heat", 1995, {"imdb": "tt0113277"})
    server.library.watch_episodes(**DARK, episodes=[(1, 1, None)])
    saved = at(server, 100)
    at(server, 200)
    server.library.watch_episodes(**DARK, episodes=[(1, 2, None)])
    server.library.remove_movie({"imdb": "tt0113277"})

    delta = api.ok("/sync/all-items", date_from=saved, extended="full")
    assert list(delta) == ["shows"]  # Heat's removal is not in it, the Matrix did not change
    assert [e["number"] for e in delta["shows"][0]["seasons"][0]["episodes"]] == [1, 2]
    assert api.ok("/sync/all-items/movies", date_from=saved) is None
    assert api.ok("/sync/all-items/shows/watching", date_from=saved)["shows"][0]["show"]["title"] == "Dark"
    assert api.ok("/sync/all-items/shows/watching", date_from=iso(START + 200)) is None  # strictly after
    # the other spellings of a UTC time
    assert list(api.ok("/sync/all-items", date_from="2026-05-28T20:28:20.000Z")) == ["shows"]
    assert list(api.ok("/sync/all-items", date_from="2026-05-28T21:28:20+01:00")) == ["shows"]
    assert sorted(api.ok("/sync/all-items", date_from="2026-05-28")) == ["movies", "shows"]


def test_a_bad_date_from_is_400(api):
    answer = api.get("/sync/all-items", date_from="yesterday")
    assert answer.status_code == 400 and answer.json()["error"] == "wrong_parameter"


def test_unwatching_episodes_changes_the_entry_and_the_last_one_takes_the_show_off_the_list(api, server):
    server.library.watch_episodes(**DARK, episodes=[(1, 1, None), (1, 2, None)], completed=True)
    stamp = at(server, 100)
    assert server.library.unwatch_episodes({"tvdb": 334824}, [(1, 2)]) is True
    [item] = api.ok("/sync/all-items/shows", date_from=iso(START + 50), extended="full")["shows"]
    assert item["status"] == "watching" and item["seasons"] == [{"number": 1, "episodes": [{"number": 1}]}]
    assert api.ok("/sync/activities")["tv_shows"]["completed"] == stamp  # the list it left
    removed = at(server, 200)
    server.library.unwatch_episodes({"tvdb": 334824}, [(1, 1)])
    assert api.ok("/sync/all-items") is None
    assert api.ok("/sync/activities")["tv_shows"]["removed_from_list"] == removed
    assert server.library.unwatch_episodes({"tvdb": 334824}, [(1, 1)]) is False


# -- the watching-delta quirk (§12) -----------------------------------------------------------

@pytest.mark.parametrize("group,anime", [("shows", False), ("anime", True)])
def test_the_quirk_makes_a_watching_delta_filter_by_when_the_show_entered_the_list(api, server, group, anime):
    at(server, 10)
    server.library.watch_episodes(**DARK, episodes=[(1, 1, None)], anime=anime)
    saved = at(server, 100)
    at(server, 200)
    server.library.watch_episodes(**DARK, episodes=[(1, 2, None)])
    server.library.watch_episodes("Lost", 2004, {"tvdb": 73739}, [(1, 1, None)], anime=anime)

    def titles(path):
        return sorted(item["show"]["title"] for item in (api.ok(path, date_from=saved) or {}).get(group, []))

    assert titles("/sync/all-items/%s/watching" % group) == ["Dark", "Lost"]
    server.watching_delta_quirk = True
    assert server.library.watching_delta_quirk is True
    assert titles("/sync/all-items/%s/watching" % group) == ["Lost"]  # Dark's new episode is missed
    assert titles("/sync/all-items/%s" % group) == ["Dark", "Lost"]  # other paths are not affected
    assert api.ok("/sync/activities")["tv_shows" if group == "shows" else group]["watching"] == iso(START + 200)


# -- Simkl's 10 GETs per second ---------------------------------------------------------------

def test_an_eleventh_get_within_one_second_is_a_violation_and_a_429(api, server):
    for _ in range(10):
        assert api.get("/sync/activities").status_code == 200
    assert server.violations == []
    answer = api.get("/sync/activities")
    assert answer.status_code == 429 and answer.json()["error"] == "rate_limit"
    assert len(server.violations) == 1 and "GET /sync/activities" in server.violations[0]
    server.clock.advance(1.0)
    assert api.get("/sync/all-items").status_code == 200
    assert len(server.violations) == 1


def test_gets_paced_at_a_tenth_of_a_second_are_fine(api, server):
    for _ in range(30):
        assert api.get("/sync/activities").status_code == 200
        server.clock.advance(0.1)
    assert server.violations == []


# -- what the add-on posts reaches the library ------------------------------------------------

def test_history_posts_land_in_the_library_and_move_the_activities(api, server):
    server.anime_ids.add("tvdb=424536")
    answer = api.post("/sync/history", {
        "movies": [dict(MATRIX, watched_at="2026-05-20T21:00:00Z")],
        "shows": [dict(DARK, seasons=[{"number": 1, "episodes": [
                      {"number": 1, "watched_at": "2026-05-21T21:00:00Z"},
                      {"number": 2, "watched_at": "2026-05-21T22:00:00Z"}]}]),
                  dict(FRIEREN, use_tvdb_anime_seasons=True,
                       seasons=[{"number": 2, "episodes": [{"number": 3, "watched_at": "2026-05-22T12:00:00Z"}]}]),
                  {"title": "Breaking Bad", "year": 2008, "ids": {"imdb": "tt0903747"}, "status": "completed"}]})
    assert answer.status_code == 201
    assert answer.json()["added"]["movies"] == 1 and answer.json()["added"]["episodes"] == 3
    stamp = iso(server.clock())

    activities = api.ok("/sync/activities")
    assert activities["movies"]["completed"] == activities["tv_shows"]["watching"] == stamp
    assert activities["anime"]["watching"] == activities["tv_shows"]["completed"] == stamp
    everything = api.ok("/sync/all-items", extended="full", episode_watched_at="yes")
    [matrix] = everything["movies"]
    assert matrix["last_watched_at"] == "2026-05-20T21:00:00Z" and matrix["movie"]["ids"]["imdb"] == "tt0133093"
    dark, breaking_bad = everything["shows"]
    assert dark["seasons"] == [{"number": 1, "episodes": [{"number": 1, "watched_at": "2026-05-21T21:00:00Z"},
                                                          {"number": 2, "watched_at": "2026-05-21T22:00:00Z"}]}]
    assert breaking_bad["status"] == "completed" and breaking_bad["show"]["title"] == "Breaking Bad"
    [frieren] = everything["anime"]
    assert frieren["seasons"] == [{"number": 2, "episodes": [{"number": 3, "watched_at": "2026-05-22T12:00:00Z"}]}]

    again = at(server, 1000)
    api.post("/sync/history", {"movies": [MATRIX]})  # a re-add is a no-op: nothing moves
    assert api.ok("/sync/activities")["movies"]["completed"] == stamp != again


def test_history_removals_take_items_off_the_library(api, server):
    api.post("/sync/history", {"movies": [MATRIX], "shows": [dict(DARK, seasons=[
        {"number": 1, "episodes": [{"number": 1}, {"number": 2}]}])]})
    answer = api.post("/sync/history/remove", {"movies": [{"ids": {"imdb": "tt0133093"}}], "shows": [
        {"ids": {"tvdb": 334824}, "seasons": [{"number": 1, "episodes": [{"number": 2}]}]}]})
    removed = iso(server.clock())
    assert answer.status_code == 201
    assert answer.json()["deleted"] == {"movies": 1, "shows": 0, "episodes": 1}
    everything = api.ok("/sync/all-items", extended="full")
    assert list(everything) == ["shows"]
    assert everything["shows"][0]["seasons"] == [{"number": 1, "episodes": [{"number": 1}]}]
    activities = api.ok("/sync/activities")
    assert activities["movies"]["removed_from_list"] == activities["movies"]["completed"] == removed
    assert activities["tv_shows"]["watching"] == removed


def test_history_items_simkl_does_not_know_stay_out_of_the_library(api, server):
    server.unknown_ids.add("imdb=tt0133093")
    api.post("/sync/history", {"movies": [MATRIX]})
    assert api.ok("/sync/all-items") is None
    assert api.ok("/sync/activities")["all"] is None


def test_odd_history_bodies_keep_their_answers_and_leave_the_library_alone(api, server):
    answer = api.post("/sync/history", {"shows": [dict(DARK, seasons=[{"number": None, "episodes": [{"number": 1}]}]),
                                                  {"title": "No ids", "seasons": [{"number": 1}]}]})
    assert answer.status_code == 201
    assert answer.json()["added"]["shows"] == 2
    assert api.post("/sync/history/remove", {"shows": [{"ids": {"tvdb": 1}, "seasons": [
        {"number": "one", "episodes": [{"number": 1}]}]}]}).status_code == 201
    assert api.ok("/sync/all-items/shows/watching") is None
