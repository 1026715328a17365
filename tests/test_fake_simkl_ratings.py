"""The fake Simkl's POST /sync/ratings and /sync/ratings/remove, through real HTTP: the documented answers
(api.simkl.org api-reference add-ratings, remove-ratings; simkl-api §7.3, §13), an out-of-range rating
silently ignored, an unlisted title filed into a list, /sync/activities moving, and the ratings store
that GET /sync/ratings reads."""
import pytest
import requests
from fake_simkl_library import iso

MATRIX = {"title": "The Matrix", "year": 1999, "ids": {"imdb": "tt0133093", "tmdb": 603}}
DARK = {"title": "Dark", "year": 2017, "ids": {"imdb": "tt5753856", "tvdb": 334824}}


@pytest.fixture
def post(server):
    token = server.issue_token()

    def post(path, body):
        server.clock.advance(1.0)
        params = {"client_id": server.client_id, "app-name": "fake-test", "app-version": "1.0"}
        headers = {"User-Agent": "fake-test/1.0", "Authorization": "Bearer " + token}
        answer = requests.post(server.url + path, params=params, json=body, headers=headers, timeout=5)
        assert answer.status_code == 201, answer.text
        return answer.json()

    return post


def test_a_rating_is_added_in_the_documented_shape_and_files_an_unlisted_movie_as_completed(post, server):
    answer = post("/sync/ratings", {"movies": [dict(MATRIX, rating=8, rated_at="2026-05-14T19:00:00Z")]})

    assert answer["added"]["movies"] == 1 and answer["added"]["shows"] == 0 and "anime" not in answer["added"]
    assert answer["added"]["statuses"] == [{"request": dict(MATRIX, rating=8, rated_at="2026-05-14T19:00:00Z"),
                                            "response": {"status": "completed"}}]
    assert answer["not_found"] == {"movies": [], "shows": []}
    simkl = server.library.simkl_id("movie", MATRIX["ids"])
    assert server.ratings[simkl] == {"rating": 8, "rated_at": "2026-05-14T19:00:00Z", "kind": "movie",
                                     "item": {"title": "The Matrix", "year": 1999, "ids": MATRIX["ids"]}}
    assert server.library.entries[simkl].status == "completed"
    moved = iso(server.clock())
    activities = server.library.activities()
    assert activities["movies"]["rated_at"] == moved and activities["movies"]["completed"] == moved


def test_a_show_or_an_anime_rated_unlisted_goes_to_watching_and_is_counted_as_a_show(post, server):
    frieren = {"title": "Frieren", "year": 2023, "ids": {"tvdb": 424536, "mal": 52991}}
    answer = post("/sync/ratings", {"shows": [dict(DARK, rating=9)], "anime": [dict(frieren, rating=10)]})

    assert answer["added"]["shows"] == 2 and "anime" not in answer["added"]
    assert [status["response"] for status in answer["added"]["statuses"]] == [{"status": "watching"}] * 2
    dark = server.library.simkl_id("show", DARK["ids"])
    assert server.ratings[dark]["rating"] == 9 and server.ratings[dark]["rated_at"] == iso(server.clock())
    assert server.library.activities()["tv_shows"]["rated_at"] == iso(server.clock())
    assert server.library.activities()["anime"]["rated_at"] == iso(server.clock())


def test_a_rerating_overwrites_and_a_listed_title_keeps_its_list(post, server):
    server.library.list_item("movie", MATRIX["title"], MATRIX["year"], MATRIX["ids"], "plantowatch")
    post("/sync/ratings", {"movies": [dict(MATRIX, rating=8)]})
    post("/sync/ratings", {"movies": [dict(MATRIX, rating=6)]})

    simkl = server.library.simkl_id("movie", MATRIX["ids"])
    assert server.ratings[simkl]["rating"] == 6 and server.library.entries[simkl].status == "plantowatch"


@pytest.mark.parametrize("rating", [0, 11, -1, "8", 7.5, None])
def test_an_out_of_range_rating_is_silently_ignored(post, server, rating):
    answer = post("/sync/ratings", {"movies": [dict(MATRIX, rating=rating)]})

    assert answer == {"added": {"movies": 0, "shows": 0, "statuses": []}, "not_found": {"movies": [], "shows": []}}
    assert server.ratings == {} and server.library.activities()["movies"]["rated_at"] is None


def test_a_title_simkl_does_not_know_is_not_found(post, server):
    server.unknown_ids.add("imdb=tt0133093")
    answer = post("/sync/ratings", {"movies": [dict(MATRIX, rating=8)]})

    assert answer["added"]["movies"] == 0 and answer["not_found"]["movies"] == [dict(MATRIX, rating=8)]
    assert server.ratings == {}


def test_removing_a_rating_keeps_the_title_listed_counts_every_match_and_is_idempotent(post, server):
    post("/sync/ratings", {"movies": [dict(MATRIX, rating=8)], "shows": [dict(DARK, rating=9)]})
    server.unknown_ids.add("tvdb=1")
    unknown = {"title": "Nothing", "ids": {"tvdb": 1}}

    answer = post("/sync/ratings/remove", {"movies": [MATRIX], "shows": [unknown]})
    again = post("/sync/ratings/remove", {"movies": [MATRIX]})

    assert answer == {"deleted": {"movies": 1, "shows": 0}, "not_found": {"movies": [], "shows": [unknown]}}
    assert again == {"deleted": {"movies": 1, "shows": 0}, "not_found": {"movies": [], "shows": []}}
    movie = server.library.simkl_id("movie", MATRIX["ids"])
    assert movie not in server.ratings and server.library.entries[movie].status == "completed"
    assert list(server.ratings.values())[0]["rating"] == 9


def test_every_accepted_rating_change_is_recorded_in_order(post, server):
    post("/sync/ratings", {"movies": [dict(MATRIX, rating=8)]})
    post("/sync/ratings/remove", {"movies": [MATRIX]})
    post("/sync/ratings", {"movies": [dict(MATRIX, rating=0)]})  # ignored: not a change

    assert [(change.key, change.rating) for change in server.rating_changes] == [
        ("movie:imdb=tt0133093", 8), ("movie:imdb=tt0133093", 0)]
    assert len(server.requests_to("/sync/ratings")) == 2 and len(server.requests_to("/sync/ratings/remove")) == 1


def test_all_items_tells_the_users_rating_of_a_rated_title(post, server, api_get):
    post("/sync/ratings", {"movies": [dict(MATRIX, rating=8, rated_at="2026-05-14T19:00:00Z")]})

    (movie,) = api_get("/sync/all-items/movies")["movies"]
    assert (movie["user_rating"], movie["user_rated_at"]) == (8, "2026-05-14T19:00:00Z")


@pytest.fixture
def api_get(server):
    token = server.issue_token()

    def get(path):
        server.clock.advance(0.2)
        params = {"client_id": server.client_id, "app-name": "fake-test", "app-version": "1.0"}
        headers = {"User-Agent": "fake-test/1.0", "Authorization": "Bearer " + token}
        answer = requests.get(server.url + path, params=params, headers=headers, timeout=5)
        assert answer.status_code == 200, answer.text
        return answer.json()

    return get
