"""The fake Simkl's library, checked through real HTTP: /sync/activities and /sync/all-items answer in
the shapes fake_simkl_library.py names its sources for (one test per shape), `date_from`, `extended`,
`include_all_episodes` and `episode_watched_at` act as Simkl's pages and clients say, anime series
are split into entries with their TVDB mapping, the watching-delta quirk can be switched on, more than
10 GETs a second is a violation, and what is posted to /sync/history[/remove] lands in the library.
"""
import pytest
import requests
from fake_simkl_library import cour, iso, tvdb_run
from virtual_time import START

T0 = iso(START)  # 2026-05-28T20:26:40Z
MATRIX = {"title": "The Matrix", "year": 1999, "ids": {"imdb": "tt0133093", "tmdb": "603"}}
DARK = {"title": "Dark", "year": 2017, "ids": {"imdb": "tt5753856", "tvdb": 334824}}
FRIEREN = {"title": "Frieren", "year": 2023, "ids": {"tvdb": 424536, "mal": 52991}}
EMPTY = {}  # an empty all-items answer for a client id above 58447
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
    assert api.ok("/sync/all-items") == EMPTY


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
            "next_to_watch": None, "watched_episodes_count": 3, "total_episodes_count": 26,
            "not_aired_episodes_count": 0,
            "show": {"title": "Dark", "year": 2017, "ids": {"simkl": simkl, "imdb": "tt5753856", "tvdb": "334824"}}}

    assert api.ok("/sync/all-items") == {"shows": [base]}
    assert api.ok("/sync/all-items/shows", episode_watched_at="yes") == {"shows": [base]}
    assert api.ok("/sync/all-items/shows", extended="full") == {"shows": [dict(base, seasons=[
        {"number": 1, "episodes": [{"number": 1}, {"number": 2}]}, {"number": 2, "episodes": [{"number": 1}]}])]}
    assert api.ok("/sync/all-items/shows", extended="full", episode_watched_at="yes") == {"shows": [dict(
        base, seasons=[{"number": 1, "episodes": [{"number": 1, "watched_at": "2026-05-01T20:00:00Z"},
                                                  {"number": 2, "watched_at": "2026-05-02T20:00:00Z"}]},
                       {"number": 2, "episodes": [{"number": 1, "watched_at": "2026-05-03T20:00:00Z"}]}])]}


def test_a_one_entry_anime_comes_under_anime_with_anime_type_beside_show_and_its_numbers_as_given(api, server):
    simkl = server.library.watch_episodes(**FRIEREN, episodes=[(1, 3, "2026-05-10T12:00:00Z")], anime=True)
    answer = api.ok("/sync/all-items/anime", extended="full", episode_watched_at="yes")
    assert list(answer) == ["anime"]
    [item] = answer["anime"]
    assert item["show"] == {"title": "Frieren", "year": 2023,
                            "ids": {"simkl": simkl, "tvdb": "424536", "mal": "52991"}}
    assert item["anime_type"] == "tv" and "anime_type" not in item["show"]
    assert item["seasons"] == [{"number": 1, "episodes": [{"number": 3, "watched_at": "2026-05-10T12:00:00Z"}]}]
    assert item["last_watched"] == "S01E03" and "mapped_tvdb_seasons" not in item
    [mapped] = api.ok("/sync/all-items/anime", extended="full_anime_seasons")["anime"]
    assert mapped["mapped_tvdb_seasons"] == [1]
    assert mapped["seasons"] == [{"number": 1, "episodes": [{"number": 3, "tvdb": {"season": 1, "episode": 3}}]}]
    assert api.ok("/sync/all-items/shows") == EMPTY
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
    assert api.ok("/sync/all-items/shows") == EMPTY


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


def test_all_or_an_unknown_status_is_every_list_of_the_type_and_movies_watching_is_empty(api, server):
    server.library.watch_episodes(**DARK, episodes=[(1, 1, None)])
    server.library.list_item("show", "Severance", 2022, {"tvdb": 371980}, "plantowatch")
    server.library.watch_movie(**MATRIX)
    for status in ("all", "finished"):  # docs list-statuses "use all"; observed: an unknown one does not 404
        assert [item["show"]["title"] for item in api.ok("/sync/all-items/shows/" + status)["shows"]] \
            == ["Dark", "Severance"]
    for status in ("watching", "hold"):  # docs list-statuses: valid, always empty
        assert api.ok("/sync/all-items/movies/" + status) == EMPTY


def test_unknown_types_and_longer_paths_are_404(api):
    for path in ("/sync/all-items/episodes", "/sync/all-items/shows/watching/x"):
        answer = api.get(path)
        assert answer.status_code == 404, path
        assert answer.json()["error"] == "url_failed"


def test_an_empty_result_is_an_empty_object_or_null_for_an_old_client_id(api, server):
    answer = api.get("/sync/all-items")
    assert answer.status_code == 200 and answer.json() == {}
    server.null_when_empty = True  # client ids up to 58447 (CrossWatch PR #360)
    assert server.library.null_when_empty is True
    assert api.get("/sync/all-items").text == "null"
    assert api.ok("/sync/all-items/movies/completed", date_from=T0) is None


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
    assert api.ok("/sync/all-items/movies", date_from=saved) == EMPTY
    assert api.ok("/sync/all-items/shows/watching", date_from=saved)["shows"][0]["show"]["title"] == "Dark"
    assert api.ok("/sync/all-items/shows/watching", date_from=iso(START + 200)) == EMPTY  # strictly after
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
    assert api.ok("/sync/all-items") == EMPTY
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
    assert api.ok("/sync/all-items") == EMPTY
    assert api.ok("/sync/activities")["all"] is None


def test_odd_history_bodies_keep_their_answers_and_leave_the_library_alone(api, server):
    answer = api.post("/sync/history", {"shows": [dict(DARK, seasons=[{"number": None, "episodes": [{"number": 1}]}]),
                                                  {"title": "No ids", "seasons": [{"number": 1}]}]})
    assert answer.status_code == 201
    assert answer.json()["added"]["shows"] == 2
    assert api.post("/sync/history/remove", {"shows": [{"ids": {"tvdb": 1}, "seasons": [
        {"number": "one", "episodes": [{"number": 1}]}]}]}).status_code == 201
    assert api.ok("/sync/all-items/shows/watching") == EMPTY


# -- completed and dropped entries, include_all_episodes ---------------------------------------

LOST = {"title": "Lost", "year": 2004, "ids": {"tvdb": 73739}}


def test_completed_and_dropped_shows_have_no_episode_rows_without_include_all_episodes(api, server):
    at(server, 10)
    server.library.watch_episodes(**LOST, episodes=[(1, 1, "2026-05-01T20:00:00Z"), (1, 2, "2026-05-02T20:00:00Z")],
                                  completed=True, aired={1: 3})
    server.library.watch_episodes(**DARK, episodes=[(1, 1, "2026-05-03T20:00:00Z")])
    server.library.list_item("show", DARK["title"], 2017, DARK["ids"], "dropped")
    server.library.watch_episodes("Severance", 2022, {"tvdb": 371980}, [(1, 1, None)])
    server.library.list_item("show", "Severance", 2022, {"tvdb": 371980}, "hold")

    plain = {item["show"]["title"]: item for item in
             api.ok("/sync/all-items/shows", extended="full", episode_watched_at="yes")["shows"]}
    assert "seasons" not in plain["Lost"] and "seasons" not in plain["Dark"]  # CrossWatch PR #267
    assert plain["Severance"]["seasons"] == [{"number": 1, "episodes": [{"number": 1, "watched_at": iso(START + 10)}]}]
    # what an entry without seasons still says
    assert (plain["Lost"]["status"], plain["Lost"]["watched_episodes_count"], plain["Lost"]["total_episodes_count"],
            plain["Lost"]["last_watched"], plain["Lost"]["last_watched_at"], plain["Lost"]["next_to_watch"]) \
        == ("completed", 2, 3, "S01E02", "2026-05-02T20:00:00Z", None)

    original = {item["show"]["title"]: item for item in api.ok(
        "/sync/all-items/shows", extended="full", episode_watched_at="yes", include_all_episodes="original")["shows"]}
    assert original["Lost"]["seasons"] == [{"number": 1, "episodes": [
        {"number": 1, "watched_at": "2026-05-01T20:00:00Z"}, {"number": 2, "watched_at": "2026-05-02T20:00:00Z"}]}]
    assert original["Dark"]["seasons"] == [
        {"number": 1, "episodes": [{"number": 1, "watched_at": "2026-05-03T20:00:00Z"}]}]

    every = {item["show"]["title"]: item for item in api.ok(
        "/sync/all-items/shows", extended="full", episode_watched_at="yes", include_all_episodes="yes")["shows"]}
    assert every["Lost"]["seasons"] == [{"number": 1, "episodes": [  # every aired one; unrecorded at the last watch
        {"number": 1, "watched_at": "2026-05-01T20:00:00Z"}, {"number": 2, "watched_at": "2026-05-02T20:00:00Z"},
        {"number": 3, "watched_at": "2026-05-02T20:00:00Z"}]}]
    assert every["Dark"]["seasons"] == original["Dark"]["seasons"]  # dropped: only what was recorded
    assert "seasons" not in api.ok("/sync/all-items/shows/completed", include_all_episodes="yes")["shows"][0]


def test_a_show_marked_completed_without_episodes_has_rows_only_with_include_all_episodes_yes(api, server):
    server.library.list_item("show", LOST["title"], 2004, LOST["ids"], "completed", aired={1: 2})
    [item] = api.ok("/sync/all-items/shows", extended="full", include_all_episodes="original")["shows"]
    assert item["seasons"] == [] and item["watched_episodes_count"] == 0
    [item] = api.ok("/sync/all-items/shows", extended="full", include_all_episodes="yes")["shows"]
    assert item["seasons"] == [{"number": 1, "episodes": [{"number": 1}, {"number": 2}]}]


# -- anime split per cour (apiary: full_anime_seasons, mapped_tvdb_seasons, use_tvdb_anime_seasons) --

AOT = {"title": "Attack on Titan", "year": 2013, "ids": {"tvdb": 267440, "tmdb": 1429}}
AOT_COURS = [cour("Shingeki no Kyojin", {"simkl": 39687, "mal": 16498, "anidb": 9541}, tvdb_run(1, 1, 25)),
             cour("Shingeki no Kyojin Season 2", {"simkl": 439744, "mal": 25777, "anidb": 10944},
                  tvdb_run(2, 1, 12), year=2017),
             cour("Shingeki no Kyojin: The Final Season Part 2", {"simkl": 1579947, "mal": 48583},
                  tvdb_run(4, 17, 12), year=2022)]


def test_an_anime_series_is_several_entries_numbered_from_one_with_their_tvdb_mapping(api, server):
    assert server.library.anime_series(**AOT, cours=AOT_COURS) == [39687, 439744, 1579947]
    server.library.watch_episodes(None, None, {"simkl": 439744}, [(1, 4, "2026-05-04T20:00:00Z")])
    server.library.watch_episodes(None, None, {"mal": 48583}, [(1, 1, "2026-05-05T20:00:00Z"),
                                                               (1, 2, "2026-05-06T20:00:00Z")])
    assert api.ok("/sync/all-items/shows") == EMPTY

    full = api.ok("/sync/all-items/anime", extended="full", episode_watched_at="yes")["anime"]
    assert [item["show"]["ids"] for item in full] == [  # later seasons: their own ids only
        {"simkl": 439744, "mal": "25777", "anidb": "10944"}, {"simkl": 1579947, "mal": "48583"}]
    assert [item["show"]["title"] for item in full] == ["Shingeki no Kyojin Season 2",
                                                        "Shingeki no Kyojin: The Final Season Part 2"]
    assert full[1]["seasons"] == [{"number": 1, "episodes": [{"number": 1, "watched_at": "2026-05-05T20:00:00Z"},
                                                             {"number": 2, "watched_at": "2026-05-06T20:00:00Z"}]}]
    assert "mapped_tvdb_seasons" not in full[1] and full[1]["total_episodes_count"] == 12

    mapped = api.ok("/sync/all-items/anime", extended="full_anime_seasons", episode_watched_at="yes")["anime"]
    assert [item["show"]["ids"] for item in mapped] == [  # "TVDB/TMDB ids ... added for 2+ seasons"
        {"simkl": 439744, "mal": "25777", "anidb": "10944", "tvdb": "267440", "tmdb": "1429"},
        {"simkl": 1579947, "mal": "48583", "tvdb": "267440", "tmdb": "1429"}]
    assert [item["mapped_tvdb_seasons"] for item in mapped] == [[2], [4]]
    assert mapped[1]["seasons"] == [{"number": 1, "episodes": [
        {"number": 1, "watched_at": "2026-05-05T20:00:00Z", "tvdb": {"season": 4, "episode": 17}},
        {"number": 2, "watched_at": "2026-05-06T20:00:00Z", "tvdb": {"season": 4, "episode": 18}}]}]
    assert mapped[0]["anime_type"] == "tv" and mapped[0]["last_watched"] == "S01E04"

    server.library.watch_episodes(None, None, {"anidb": 9541}, [(1, 1, None)])  # the first season
    [first] = [item for item in api.ok("/sync/all-items/anime", extended="full")["anime"]
               if item["show"]["ids"]["simkl"] == 39687]
    assert first["show"]["ids"] == {"simkl": 39687, "mal": "16498", "anidb": "9541", "tvdb": "267440", "tmdb": "1429"}


def test_a_history_post_with_series_ids_tvdb_numbers_and_the_flag_lands_on_the_right_entry(api, server):
    server.library.anime_series(**AOT, cours=AOT_COURS)
    answer = api.post("/sync/history", {"shows": [dict(AOT, use_tvdb_anime_seasons=True, seasons=[
        {"number": 2, "episodes": [{"number": 4, "watched_at": "2026-05-04T20:00:00Z"}]},
        {"number": 4, "episodes": [{"number": 18, "watched_at": "2026-05-06T20:00:00Z"}]},
        {"number": 3, "episodes": [{"number": 1}]}])]})
    assert answer.status_code == 201
    body = answer.json()
    assert body["added"]["episodes"] == 2
    assert [(e["season"], e["number"]) for e in body["not_found"]["episodes"]] == [(3, 1)]  # no entry holds S3E1
    assert body["added"]["statuses"][0]["response"]["simkl_type"] == "anime"

    items = api.ok("/sync/all-items/anime", extended="full_anime_seasons", episode_watched_at="yes")["anime"]
    assert [(item["show"]["ids"]["simkl"], item["seasons"]) for item in items] == [
        (439744, [{"number": 1, "episodes": [{"number": 4, "watched_at": "2026-05-04T20:00:00Z",
                                              "tvdb": {"season": 2, "episode": 4}}]}]),
        (1579947, [{"number": 1, "episodes": [{"number": 2, "watched_at": "2026-05-06T20:00:00Z",
                                               "tvdb": {"season": 4, "episode": 18}}]}])]

    removed = api.post("/sync/history/remove", {"shows": [dict(AOT, use_tvdb_anime_seasons=True, seasons=[
        {"number": 4, "episodes": [{"number": 18}]}])]})
    assert removed.status_code == 201
    assert [item["show"]["ids"]["simkl"] for item in api.ok("/sync/all-items/anime")["anime"]] == [439744]


def test_a_whole_series_posted_with_the_flag_completes_every_entry(api, server):
    server.library.anime_series(**AOT, cours=AOT_COURS)
    answer = api.post("/sync/history", {"shows": [dict(AOT, status="completed", use_tvdb_anime_seasons=True)]})
    assert answer.json()["added"]["shows"] == 3  # apiary: one per entry ("shows": 7 for all of AoT)
    items = api.ok("/sync/all-items/anime/completed", extended="full", include_all_episodes="original")["anime"]
    assert [(item["show"]["ids"]["simkl"], item["watched_episodes_count"]) for item in items] \
        == [(39687, 25), (439744, 12), (1579947, 12)]


def test_without_the_flag_the_series_ids_name_the_first_entry_in_its_own_numbers(api, server):
    server.library.anime_series(**AOT, cours=AOT_COURS)
    api.post("/sync/history", {"shows": [dict(AOT, seasons=[{"number": 2, "episodes": [{"number": 4}]}])]})
    [item] = api.ok("/sync/all-items/anime", extended="full_anime_seasons")["anime"]
    assert item["show"]["ids"]["simkl"] == 39687
    assert item["seasons"] == [{"number": 1, "episodes": [{"number": 4, "tvdb": {"season": 1, "episode": 4}}]}]


def test_a_scrobble_of_a_split_anime_with_the_flag_lands_on_its_entry(api, server):
    server.library.anime_series(**AOT, cours=AOT_COURS)
    answer = api.post("/scrobble/stop", {"progress": 90, "show": dict(AOT, use_tvdb_anime_seasons=True),
                                         "episode": {"season": 4, "number": 17}})
    assert answer.status_code == 201 and answer.json()["action"] == "scrobble"
    [item] = api.ok("/sync/all-items/anime", extended="full_anime_seasons")["anime"]
    assert item["show"]["ids"]["simkl"] == 1579947
    assert item["seasons"][0]["episodes"] == [{"number": 1, "tvdb": {"season": 4, "episode": 17}}]
    server.clock.advance(30)
    answer = api.post("/scrobble/stop", {"progress": 90, "show": dict(AOT), "episode": {"season": 4, "number": 18}})
    assert answer.status_code == 404  # a split anime without the flag is not found (shared doc §12)


def test_an_anime_film_sits_in_the_anime_list_with_anime_type_movie(api, server):
    simkl = server.library.watch_anime_movie("Spirited Away", 2001, {"simkl": 39079, "mal": 199, "tmdb": 129,
                                                                     "imdb": "tt0245429"}, "2026-05-07T20:00:00Z")
    answer = api.ok("/sync/all-items", extended="full", episode_watched_at="yes")
    assert list(answer) == ["anime"]
    [item] = answer["anime"]
    assert item["anime_type"] == "movie" and "movie" not in item
    assert item["show"] == {"title": "Spirited Away", "year": 2001,
                            "ids": {"simkl": simkl, "mal": "199", "tmdb": "129", "imdb": "tt0245429"}}
    assert (item["status"], item["last_watched_at"]) == ("completed", "2026-05-07T20:00:00Z")
    assert "seasons" not in item  # completed: no episode rows by default, as for any entry
    [item] = api.ok("/sync/all-items/anime", extended="full", episode_watched_at="yes",
                    include_all_episodes="original")["anime"]
    assert item["seasons"] == [{"number": 1, "episodes": [{"number": 1, "watched_at": "2026-05-07T20:00:00Z"}]}]
    assert api.ok("/sync/activities")["anime"]["completed"] is not None
    assert api.ok("/sync/all-items/movies") == EMPTY


# -- time styles and malformed entries: for the add-on's tolerance --------------------------------

@pytest.mark.parametrize("style,stamp", [
    ((0, "Z"), "2026-05-28T20:26:50Z"), ((3, "Z"), "2026-05-28T20:26:50.000Z"),
    ((6, "Z"), "2026-05-28T20:26:50.000000Z"), ((0, "+09:00"), "2026-05-29T05:26:50+09:00"),
    ((3, "-05:00"), "2026-05-28T15:26:50.000-05:00")])
def test_the_time_style_writes_every_timestamp_that_way_for_the_same_instant(api, server, style, stamp):
    server.library.time_style = style
    at(server, 10)
    server.library.watch_episodes(**DARK, episodes=[(1, 1, iso(START + 10))])
    server.library.watch_movie(**MATRIX, watched_at=iso(START + 10))
    activities = api.ok("/sync/activities")
    assert activities["all"] == activities["tv_shows"]["watching"] == stamp
    answer = api.ok("/sync/all-items", extended="full", episode_watched_at="yes")
    show, movie = answer["shows"][0], answer["movies"][0]
    assert show["added_to_watchlist_at"] == show["last_watched_at"] == stamp
    assert show["seasons"][0]["episodes"][0]["watched_at"] == stamp
    assert movie["last_watched_at"] == stamp
    assert api.ok("/sync/all-items", date_from=stamp) == EMPTY  # the style's stamps work as date_from
    assert list(api.ok("/sync/all-items", date_from=iso(START + 9))) == ["movies", "shows"]


@pytest.mark.parametrize("defect,path,bad", [
    ("episode_number", ("seasons", 0, "episodes", 0, "number"), "one"),
    ("season_number", ("seasons", 0, "number"), None),
    ("watched_at", ("seasons", 0, "episodes", 0, "watched_at"), "last Tuesday"),
    ("null_watched_at", ("seasons", 0, "episodes", 0, "watched_at"), None)])
def test_one_malformed_show_entry_among_good_ones(api, server, defect, path, bad):
    server.library.watch_episodes(**DARK, episodes=[(1, 1, None), (1, 2, None)])
    server.library.watch_episodes(**LOST, episodes=[(1, 1, None)])
    assert server.library.malform("show", DARK["ids"], defect) is True
    dark, lost = api.ok("/sync/all-items/shows", extended="full", episode_watched_at="yes")["shows"]
    value = dark
    for step in path:
        value = value[step]
    assert value == bad
    assert dark["seasons"][0]["episodes"][1]["number"] == 2  # only the one field
    assert lost["seasons"] == [{"number": 1, "episodes": [{"number": 1, "watched_at": iso(START)}]}]


def test_a_malformed_movie_has_no_ids_or_a_watched_at_that_is_not_a_time(api, server):
    server.library.watch_movie(**MATRIX)
    server.library.watch_movie("Heat", 1995, {"imdb": "tt0113277"})
    server.library.malform("movie", MATRIX["ids"], "no_ids")
    server.library.malform("movie", {"imdb": "tt0113277"}, "watched_at")
    matrix, heat = api.ok("/sync/all-items/movies")["movies"]
    assert matrix["movie"] == {"title": "The Matrix", "year": 1999}
    assert heat["last_watched_at"] == "last Tuesday" and heat["movie"]["ids"]["imdb"] == "tt0113277"
    assert server.library.malform("movie", {"imdb": "tt404"}, "no_ids") is False
    with pytest.raises(ValueError):
        server.library.malform("movie", MATRIX["ids"], "everything")


# -- paused playbacks made by /scrobble/pause and a /scrobble/stop below 80 % ---------------------------------

def test_a_scrobble_pause_and_a_stop_below_80_are_paused_playbacks_that_move_the_playback_bucket(api, server):
    """api.simkl.org api-reference/playback and get-playback-sessions: a paused playback is made by
    /scrobble/pause or a /scrobble/stop below 80 % (simkl-api §5.3, §13), one per item."""
    at(server, 10)
    assert api.post("/scrobble/pause", {"movie": MATRIX, "progress": 40.0}).status_code == 201  # at 11 s
    at(server, 40)  # past Simkl's 20-s scrobble lock
    assert api.post("/scrobble/stop", {"show": DARK, "episode": {"season": 1, "number": 3},
                                       "progress": 55.5}).status_code == 201  # at 41 s
    activities = api.ok("/sync/activities")
    assert activities["movies"]["playback"] == iso(START + 11)
    assert activities["tv_shows"]["playback"] == iso(START + 41)
    found = api.ok("/sync/playback")
    assert [(p["type"], p["progress"]) for p in found] == [("movie", 40.0), ("episode", 55.5)]
    assert found[1]["episode"]["season"] == 1 and found[1]["show"]["ids"]["imdb"] == "tt5753856"
