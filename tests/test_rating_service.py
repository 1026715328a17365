"""The rating prompt through the real service: a title played to its end, Simkl takes the watch, the window (built
from the real skin file) comes once nothing plays, and the choice reaches the fake Simkl's /sync/ratings and
Kodi's My rating. A library mark never asks."""
import json

import pytest
from videolibrary import VideoLibrary

from lib.scrobbler.ui.rating_prompt import QUIET_AFTER
from scenario import EPISODE, MOVIE, SHOW, episode_tag, movie_tag, wait_for

LAST = dict(EPISODE, episodeid=8, episode=4, title="Please Hold to My Hand", uniqueid={"tvdb": "8444133"},
            file="/media/tv/The Last of Us/Season 1/S01E04.mkv")


@pytest.fixture
def library(kodi):
    return VideoLibrary(kodi, movies=[dict(MOVIE, userrating=0)], shows=[dict(SHOW, userrating=0)],
                        episodes=[EPISODE, LAST])


def ratings_sent(server):
    return [r.json for r in server.requests_to("/sync/ratings", "POST")]


def answer(kodi, label):
    """The user reads the window, then picks `label`; what the window showed, and whether a video played."""
    seen = []
    kodi.window_steps.extend([lambda window: seen.append((window.screen(), kodi.player is not None)), label])
    return seen


def test_a_library_movie_played_to_its_end_is_asked_about_once_nothing_plays_and_8_reaches_simkl_and_kodi(
        start, server, kodi, library, clock):
    service = start(rate_movies=True)
    seen = answer(kodi, "8 · Great")

    service.play(movie_tag(), MOVIE["file"], total=7200)
    service.idle()
    assert [r.status for r in server.requests_to("/sync/history")] == [201]  # Simkl took the watch

    assert not wait_for(lambda: kodi.windows_shown, 1.5), "asked the moment the movie ended"
    clock.advance(QUIET_AFTER)
    assert wait_for(lambda: ratings_sent(server), 10), "no rating reached Simkl\n" + kodi.log_text()[-2000:]

    ((screen, playing),) = seen
    assert not playing
    assert screen["info"][:3] == ["Rate this movie", "Closes in 1:00", "Inception (2010)"]
    (body,) = ratings_sent(server)
    (movie,) = body["movies"]
    assert (movie["title"], movie["ids"]["imdb"], movie["rating"]) == ("Inception", "tt1375666", 8)
    assert library.movies[1]["userrating"] == 8
    assert not wait_for(lambda: len(ratings_sent(server)) > 1 or len(kodi.windows_shown) > 1, 1.5)


def test_the_last_library_episode_of_a_show_asks_about_the_show(start, server, kodi, library, clock):
    service = start(rate_shows=True)
    seen = answer(kodi, "9 · Superb")

    service.play(episode_tag(EPISODE), EPISODE["file"], total=3000)  # not the last: nothing to ask
    service.play(episode_tag(LAST), LAST["file"], total=3000)
    service.idle()
    clock.advance(QUIET_AFTER)

    assert wait_for(lambda: ratings_sent(server), 10), "no rating reached Simkl\n" + kodi.log_text()[-2000:]
    assert [screen["info"][:3:2] for screen, _ in seen] == [["Rate this show", "The Last of Us (2023)"]]
    (body,) = ratings_sent(server)
    assert [(show["title"], show["rating"]) for show in body["shows"]] == [("The Last of Us", 9)]
    assert library.shows[3]["userrating"] == 9


def test_a_library_mark_never_asks(start, server, kodi, library, clock):
    service = start(rate_movies=True)

    service.service.notification("xbmc", "VideoLibrary.OnUpdate",
                                 json.dumps({"item": {"id": 1, "type": "movie"}, "playcount": 1}))
    service.settle_marks()
    assert [r.status for r in server.requests_to("/sync/history")] == [201]
    clock.advance(QUIET_AFTER)

    assert not wait_for(lambda: kodi.windows_shown, 2.0)
    assert ratings_sent(server) == []
