"""Scenarios 3 to 5: library items played in Kodi reach Simkl's history once, or not at all."""
import calendar
import time

import pytest

from .addon_steps import quit_cleanly, simkl_env, wait_for_requests
from .media_library import EPISODE_ONE, MOVIE_ONE, MOVIE_TWO, SHORT_CLIP, SHOW

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("logged_in")]


@pytest.fixture(scope="module")
def kodi_env(fake):
    return simkl_env(fake)


@pytest.fixture(scope="module")
def kodi_addon_settings():
    return {"debug": True}  # "not watched: …" lines in kodi.log say when a playback was judged


def ids_of(sent):
    return {key: str(value) for key, value in sent.items()}


def utc_seconds(stamp):
    return calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ"))


def history_posts(fake):
    return fake.requests_to("/sync/history", "POST")


def test_a_movie_played_to_its_end_is_sent_once_with_its_ids(kodi, fake):
    movieid = kodi.movie_id(MOVIE_ONE.title)
    started = time.time()

    assert kodi.play_to_end({"movieid": movieid}, seek_to=99)["end"] is True

    (request,) = wait_for_requests(fake, "/sync/history", 1)
    assert "allow_rewatch" not in request.query
    assert list(request.json) == ["movies"]
    (movie,) = request.json["movies"]
    assert movie["title"] == MOVIE_ONE.title
    assert movie["year"] == MOVIE_ONE.year
    assert ids_of(movie["ids"]) == MOVIE_ONE.ids
    assert started - 2 <= utc_seconds(movie["watched_at"]) <= request.time + 2
    time.sleep(2)  # Kodi's own playcount update at the end must not become a second watch
    assert len(history_posts(fake)) == 1, fake.log_text()
    assert [w.key for w in fake.watches] == ["movie:imdb=" + MOVIE_ONE.ids["imdb"]]


def test_an_episode_played_to_its_end_is_sent_with_the_show_ids_season_and_number(kodi, fake):
    episodeid = kodi.episode_id(SHOW.title, EPISODE_ONE.season, EPISODE_ONE.number)
    started = time.time()

    assert kodi.play_to_end({"episodeid": episodeid}, seek_to=99)["end"] is True

    request = wait_for_requests(fake, "/sync/history", 2)[1]
    assert list(request.json) == ["shows"]
    (show,) = request.json["shows"]
    assert show["title"] == SHOW.title
    assert show["year"] == SHOW.year
    assert ids_of(show["ids"]) == SHOW.ids  # the show's ids, not the episode's own
    (season,) = show["seasons"]
    assert season["number"] == EPISODE_ONE.season
    (episode,) = season["episodes"]
    assert episode["number"] == EPISODE_ONE.number
    assert started - 2 <= utc_seconds(episode["watched_at"]) <= request.time + 2
    time.sleep(2)
    assert len(history_posts(fake)) == 2, fake.log_text()


def test_a_clip_shorter_than_the_minimum_is_not_sent_even_played_to_its_end(kodi, fake):
    before = len(fake.requests)

    assert kodi.play_to_end({"movieid": kodi.movie_id(SHORT_CLIP.title)}, seek_to=95)["end"] is True

    assert kodi.wait_for_log(r"not watched: '%s' \(shorter than minimum\)" % SHORT_CLIP.title, 15), kodi.log_tail()
    time.sleep(1)
    assert fake.requests[before:] == []


def test_a_movie_stopped_at_40_percent_is_not_sent(kodi, fake):
    before = len(fake.requests)

    assert kodi.play_and_stop_at({"movieid": kodi.movie_id(MOVIE_TWO.title)}, 40)["end"] is False

    assert kodi.wait_for_log(r"not watched: '%s' \(below threshold \d+%%\)" % MOVIE_TWO.title, 15), kodi.log_tail()
    time.sleep(1)
    assert fake.requests[before:] == []


def test_kodi_quits_cleanly_and_every_request_kept_simkl_rules(kodi, fake):
    quit_cleanly(kodi)

    assert fake.violations == []
    assert len(history_posts(fake)) == 2
