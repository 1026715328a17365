"""Simkl -> Kodi for ratings, the pure part: Simkl's answer read (one
bad item skipped and told), and which library movies and shows get Simkl's rating as "My rating" (matched
by any shared id; never over the user's own newer choice)."""
from lib.scrobbler.sync.library import RatingWrite
from lib.scrobbler.sync.rated import parse_ratings, plan_ratings


class Memo:
    """The memo as the pull sees it (ratings/known.py): get, set, seeded."""

    def __init__(self, items=None, seeded=True):
        self.items = dict(items or {})
        self.seeded = seeded

    def get(self, key):
        return self.items.get(key, 0)

    def set(self, key, rating):
        self.items[key] = rating


def movie_entry(rating, ids, at="2026-05-02T09:00:00Z"):
    # api.simkl.org get-user-ratings
    return {"last_watched_at": "2014-08-16T18:45:20.000Z", "user_rated_at": at, "user_rating": rating,
            "status": "completed", "movie": {"title": "A movie", "year": 2014, "ids": ids}}


def show_entry(rating, ids, at="2026-05-02T09:00:00Z", **extra):
    return dict({"user_rated_at": at, "user_rating": rating, "status": "watching",
                 "show": {"title": "A show", "year": 2014, "ids": ids}}, **extra)


def kodi_movie(movieid, uniqueid, userrating=0):
    return {"movieid": movieid, "title": "A movie", "year": 2014, "uniqueid": uniqueid, "userrating": userrating}


def kodi_show(tvshowid, uniqueid, userrating=0):
    return {"tvshowid": tvshowid, "title": "A show", "year": 2014, "uniqueid": uniqueid, "userrating": userrating}


def test_simkls_ratings_are_matched_by_any_shared_id_and_kodi_gets_the_ones_it_lacks():
    rated = parse_ratings({"movies": [movie_entry(8, {"simkl": 1, "imdb": "tt1375666", "tmdb": "27205"})],
                           "shows": [show_entry(9, {"simkl": 2, "tvdb": "392256"})]})
    assert rated.count() == 2  # titles, whatever their ids
    movies = [kodi_movie(1, {"tmdb": "27205"}), kodi_movie(2, {"imdb": "tt0113277"})]

    assert plan_ratings(rated, "movie", movies, Memo(), set()) == [RatingWrite("movie", 1, 8)]
    assert plan_ratings(rated, "tvshow", [kodi_show(3, {"tvdb": "392256", "imdb": "tt3581920"})], Memo(),
                        set()) == [RatingWrite("tvshow", 3, 9)]


def test_a_movies_tmdb_id_never_matches_a_shows_and_an_anime_film_is_a_film():
    rated = parse_ratings({"movies": [movie_entry(8, {"tmdb": "100"})],
                           "anime": [show_entry(7, {"tmdb": "200"}, anime_type="movie"),
                                     show_entry(6, {"tvdb": "300"}, anime_type="tv")]})

    assert plan_ratings(rated, "tvshow", [kodi_show(3, {"tmdb": "100"})], Memo(), set()) == []
    assert plan_ratings(rated, "movie", [kodi_movie(4, {"tmdb": "200"})], Memo(), set()) == [
        RatingWrite("movie", 4, 7)]
    assert plan_ratings(rated, "tvshow", [kodi_show(5, {"tvdb": "300"})], Memo(), set()) == [
        RatingWrite("tvshow", 5, 6)]


def test_of_two_simkl_entries_sharing_an_id_the_newest_rating_counts():
    rated = parse_ratings({"anime": [show_entry(9, {"simkl": 1, "tvdb": "300"}, at="2026-05-02T09:00:00Z"),
                                     show_entry(4, {"simkl": 2, "tvdb": "300"}, at="2026-05-01T09:00:00Z")]})

    assert plan_ratings(rated, "tvshow", [kodi_show(5, {"tvdb": "300"})], Memo(), set()) == [
        RatingWrite("tvshow", 5, 9)]


def test_a_rating_still_waiting_in_the_queue_or_changed_in_kodi_since_is_left_alone():
    rated = parse_ratings({"movies": [movie_entry(8, {"imdb": "tt1"}), movie_entry(5, {"imdb": "tt2"}),
                                      movie_entry(6, {"imdb": "tt3"})]})
    movies = [kodi_movie(1, {"imdb": "tt1"}, 3), kodi_movie(2, {"imdb": "tt2"}, 7), kodi_movie(3, {"imdb": "tt3"}, 4)]
    memo = Memo({"movie:1": 3, "movie:2": 2, "movie:3": 4})

    writes = plan_ratings(rated, "movie", movies, memo, waiting={"movie:1"})

    # movie 1: the user's rating waits to be sent; movie 2: changed in Kodi, not checked yet; movie 3: Simkl's
    assert writes == [RatingWrite("movie", 3, 6)]


def test_an_item_kodi_and_simkl_agree_on_is_noted_in_the_memo_and_not_written():
    rated = parse_ratings({"movies": [movie_entry(8, {"imdb": "tt1"})]})
    memo = Memo(seeded=False)

    assert plan_ratings(rated, "movie", [kodi_movie(1, {"imdb": "tt1"}, 8)], memo, set()) == []
    assert memo.items == {"movie:1": 8}


def test_before_the_first_check_simkls_rating_wins_over_kodis():
    rated = parse_ratings({"movies": [movie_entry(8, {"imdb": "tt1"})]})

    assert plan_ratings(rated, "movie", [kodi_movie(1, {"imdb": "tt1"}, 5)], Memo(seeded=False), set()) == [
        RatingWrite("movie", 1, 8)]


def test_one_bad_item_is_skipped_and_told_and_never_stops_the_others():
    rated = parse_ratings({"movies": [movie_entry(11, {"imdb": "tt1"}), movie_entry("8", {"imdb": "tt2"}),
                                      movie_entry(7, {"simkl": 5}), movie_entry(6, {"imdb": "tt4"}, at="yesterday"),
                                      "not an entry", {"user_rating": 5},
                                      movie_entry(9, {"imdb": "tt3"}, at=None)],
                           "shows": None, "anime": {}})

    assert rated.movies == {("imdb", "tt3"): (9, 0.0)} and rated.count() == 1
    assert rated.skipped == ["imdb=tt1: rating 11", "imdb=tt2: rating '8'", "an entry without ids Kodi has",
                             "imdb=tt4: unreadable time 'yesterday'", "an entry without ids Kodi has",
                             "an entry without ids Kodi has"]


def test_an_empty_answer_is_no_ratings():
    for answer in (None, {}, [], {"movies": []}):
        assert parse_ratings(answer).count() == 0


def test_a_my_rating_the_user_changes_in_kodi_while_the_writes_wait_is_not_overwritten(kodi, tmp_path):
    from videolibrary import VideoLibrary

    from lib.scrobbler import kodi as kodi_module
    from lib.scrobbler.delivery.outbox import Outbox
    from lib.scrobbler.ratings.follow import Ratings
    from lib.scrobbler.sync.library import KodiLibrary
    from lib.scrobbler.sync.rated import apply_ratings

    videos = VideoLibrary(kodi, movies=[kodi_movie(1, {"imdb": "tt1"}), kodi_movie(2, {"imdb": "tt2"})])
    outbox = Outbox(tmp_path / "outbox.db")
    link = Ratings(kodi.profile_dir, kodi_module.jsonrpc, kodi_module.jsonrpc_batch, outbox=lambda: outbox,
                   account=lambda: "jane")
    link.check()  # the memo seeded: nothing rated
    rated = parse_ratings({"movies": [movie_entry(8, {"imdb": "tt1"}), movie_entry(6, {"imdb": "tt2"})]})

    def video_ends_after_the_user_rated_movie_1():
        videos.movies[1]["userrating"] = 3  # in the information dialog, while the sync waited
        return True

    applied = apply_ratings(rated, KodiLibrary(kodi_module.jsonrpc, kodi_module.jsonrpc_batch), link,
                            video_ends_after_the_user_rated_movie_1)

    assert (videos.movies[1]["userrating"], videos.movies[2]["userrating"]) == (3, 6)
    assert applied.written == 1
    link.check()
    assert [(entry.item.title, entry.rating) for entry in outbox.take_batch()] == [("A movie", 3)]
    outbox.close()
