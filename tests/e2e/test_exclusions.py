"""Excluded folders: a movie played from one is never sent, not even through Kodi's own playcount raise
at its end (Kodi marks it watched in its library whatever any add-on thinks); a user's own mark of
another movie still is."""
import time

import pytest

from .addon_steps import quit_cleanly, simkl_env, wait_for_requests
from .media_library import EXCLUDED_MOVIE, MOVIE_TWO, movie_folder

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("logged_in")]


@pytest.fixture(scope="module")
def kodi_env(fake):
    return simkl_env(fake)


@pytest.fixture(scope="module")
def kodi_addon_settings(media_library):
    # As Kodi's folder browser stores a path setting: the absolute folder with a trailing slash.
    excluded = str(movie_folder(media_library, EXCLUDED_MOVIE).resolve()) + "/"
    return {"debug": True, "exclude_folder1": excluded}


def history_posts(fake):
    return fake.requests_to("/sync/history", "POST")


def sent_ids(requests):
    """Every id value of every item the requests carried."""
    found = set()

    def walk(value):
        if isinstance(value, dict):
            for key, inner in value.items():
                if key == "ids" and isinstance(inner, dict):
                    found.update(str(v) for v in inner.values())
                else:
                    walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    for request in requests:
        walk(request.json)
    return found


def test_a_movie_in_an_excluded_folder_played_to_its_end_is_marked_by_kodi_but_not_sent(kodi, fake):
    movieid = kodi.movie_id(EXCLUDED_MOVIE.title)

    assert kodi.play_to_end({"movieid": movieid}, seek_to=99)["end"] is True

    assert kodi.wait_until(lambda: kodi.movie(movieid)["playcount"] == 1, 10), "Kodi did not mark it watched"
    assert kodi.wait_for_log(r"excluded folder", 15), "the add-on never said it excluded the movie\n" + kodi.log_tail()
    time.sleep(1)  # Kodi's playcount raise came with the end: a POST for it would be under way by now
    assert history_posts(fake) == [], fake.log_text()


def test_a_user_mark_of_another_movie_is_sent_alone(kodi, fake):
    movieid = kodi.movie_id(MOVIE_TWO.title)
    before, before_all = len(history_posts(fake)), len(fake.requests)

    kodi.set_playcount({"movieid": movieid}, 1)

    request = wait_for_requests(fake, "/sync/history", before + 1)[before]
    assert list(request.json) == ["movies"], request.json
    (movie,) = request.json["movies"]
    assert {key: str(value) for key, value in movie["ids"].items()} == MOVIE_TWO.ids
    assert not set(EXCLUDED_MOVIE.ids.values()) & sent_ids(fake.requests[before_all:]), fake.log_text()


def test_kodi_quits_cleanly_and_every_request_kept_simkl_rules(kodi, fake):
    quit_cleanly(kodi)

    assert fake.violations == []
    assert len(history_posts(fake)) == 1, fake.log_text()
    assert not set(EXCLUDED_MOVIE.ids.values()) & sent_ids(fake.requests), fake.log_text()
