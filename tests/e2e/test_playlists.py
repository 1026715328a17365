"""Playlists: Kodi moves on to the next item by itself, or on a skip, and each item is judged on its own.

Seen in Kodi 20.1 and 21.2: at a natural end inside a playlist, Python gets onPlayBackEnded for the first item
only once the player already answers for the next one (getPlayingFile, getTime, getTotalTime); on a
skip (Player.GoTo next) the item left gets no onPlayBackStopped/onPlayBackEnded at all, only the
next item's onPlayBackStarted/onAVStarted.
"""
import time

import pytest

from .addon_steps import quit_cleanly, simkl_env, wait_for_requests
from .media_library import EPISODE_ONE, EPISODE_TWO, MOVIE_ONE, MOVIE_TWO, SHOW

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("logged_in")]


@pytest.fixture(scope="module")
def kodi_env(fake):
    return simkl_env(fake)


@pytest.fixture(scope="module")
def kodi_addon_settings():
    return {"debug": True}  # "not watched: …" lines in kodi.log say when a playback was judged


def history_posts(fake):
    return fake.requests_to("/sync/history", "POST")


def judged_not_watched(kodi, title, timeout=20):
    match = kodi.wait_for_log(r"not watched: '%s' \(" % title, timeout)
    assert match, "the add-on never judged %r\n%s" % (title, kodi.log_tail())


def test_an_episode_that_ends_and_moves_on_is_sent_once_and_the_next_one_stopped_early_is_not(kodi, fake):
    first = kodi.episode_id(SHOW.title, EPISODE_ONE.season, EPISODE_ONE.number)
    second = kodi.episode_id(SHOW.title, EPISODE_TWO.season, EPISODE_TWO.number)
    kodi.play_playlist([{"episodeid": first}, {"episodeid": second}])
    kodi.wait_for_position(2)

    since = kodi.mark()
    assert kodi.run_to_end(seek_to=99) == {"end": True, "item": {"id": first, "type": "episode"}}
    kodi.wait_for("Player.OnAVStart", since, 30, where=lambda data: data["item"].get("id") == second)
    kodi.wait_for_position(2)  # the second episode really plays
    assert kodi.stop_at(20)["end"] is False

    judged_not_watched(kodi, EPISODE_TWO.title)
    (request,) = wait_for_requests(fake, "/sync/history", 1)
    assert list(request.json) == ["shows"], request.json
    (show,) = request.json["shows"]
    assert {key: str(value) for key, value in show["ids"].items()} == SHOW.ids
    assert [(season["number"], [episode["number"] for episode in season["episodes"]])
            for season in show["seasons"]] == [(EPISODE_ONE.season, [EPISODE_ONE.number])]
    time.sleep(1)  # a POST for the second episode or for Kodi's own playcount update would be under way by now
    assert len(history_posts(fake)) == 1, fake.log_text()
    assert kodi.episode(first)["playcount"] == 1  # Kodi's own mark: it must not have become a second watch


def test_a_movie_skipped_at_30_percent_and_the_next_one_stopped_early_are_not_sent(kodi, fake):
    skipped, stopped = kodi.movie_id(MOVIE_ONE.title), kodi.movie_id(MOVIE_TWO.title)
    before = len(fake.requests)
    kodi.play_playlist([{"movieid": skipped}, {"movieid": stopped}])
    kodi.wait_for_position(2)
    kodi.seek(30)
    kodi.wait_for_position(kodi.total_seconds() * 0.3 + 3)

    assert kodi.goto_next().data["item"] == {"id": stopped, "type": "movie"}
    kodi.wait_for_position(2)
    assert kodi.stop_at(20)["end"] is False

    judged_not_watched(kodi, MOVIE_ONE.title)
    judged_not_watched(kodi, MOVIE_TWO.title)
    time.sleep(1)
    assert fake.requests[before:] == [], fake.log_text()
    assert kodi.movie(skipped)["playcount"] == 0 and kodi.movie(stopped)["playcount"] == 0


def test_kodi_quits_cleanly_and_every_request_kept_simkl_rules(kodi, fake):
    quit_cleanly(kodi)

    assert fake.violations == []
    assert len(history_posts(fake)) == 1
