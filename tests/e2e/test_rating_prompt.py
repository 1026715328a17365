"""Scenario: the rating prompt in a real Kodi. With *Ask me to rate a movie when it ends* on, a library movie played
to its end is sent, and the add-on's rating window comes only once playback has ended and nothing opened for a
few seconds (lib/scrobbler/ui/rating_prompt.py QUIET_AFTER); Skip has the focus, Up lands on 8, Select sends 8
once to /sync/ratings and Kodi's My rating (userrating) becomes 8.

Kodi facts the prompt relies on: a WindowXMLDialog opened with show() on a thread of the service gets its
clicks while that thread waits in xbmc.sleep; System.HasActiveModalDialog is false on Home with nothing open (the
window would never come otherwise)."""
import time

import pytest

from .addon_steps import focused_label, login, quit_cleanly, simkl_env, wait_for_requests
from .media_library import MOVIE_ONE, MOVIE_TWO

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("logged_in")]

RATING_WINDOW = "script-simkl-rating.xml"
QUIET_AFTER = 10  # lib/scrobbler/ui/rating_prompt.py
TITLE, TIME_LEFT = 2, 4  # controls of script-simkl-rating.xml


@pytest.fixture(scope="module")
def kodi_env(fake):
    return simkl_env(fake)


@pytest.fixture(scope="module")
def kodi_addon_settings():
    return {"debug": True, "rate_movies": True}


def labels(kodi, *control_ids):
    answer = kodi.info_labels(*["Control.GetLabel(%d)" % c for c in control_ids])
    return [answer["Control.GetLabel(%d)" % c] for c in control_ids]


def userrating(kodi, movieid):
    return kodi.call("VideoLibrary.GetMovieDetails", {"movieid": movieid, "properties": ["userrating"]})[
        "moviedetails"]["userrating"]


def test_a_movie_played_to_its_end_is_asked_about_after_playback_and_8_reaches_simkl_and_kodi(kodi, fake):
    movieid = kodi.movie_id(MOVIE_ONE.title)
    assert userrating(kodi, movieid) == 0

    assert kodi.play_to_end({"movieid": movieid}, seek_to=99)["end"] is True
    ended = time.monotonic()
    assert kodi.wait_for_log(r"rating: asking about %s \(%d\) once nothing plays" % (MOVIE_ONE.title, MOVIE_ONE.year),
                             30), kodi.log_tail()
    early = max(0.0, QUIET_AFTER - 2 - (time.monotonic() - ended))
    assert not kodi.wait_until(lambda: kodi.window_active(RATING_WINDOW), early), "asked right after the end"

    assert kodi.wait_for_window(RATING_WINDOW, 30), "the rating window did not come\n" + kodi.log_tail()
    assert time.monotonic() - ended >= QUIET_AFTER - 1
    assert not kodi.playing()
    assert kodi.wait_until(lambda: focused_label(kodi) == "Skip", 5), focused_label(kodi)
    title, time_left = labels(kodi, TITLE, TIME_LEFT)
    assert title == "%s (%d)" % (MOVIE_ONE.title, MOVIE_ONE.year)
    assert time_left.startswith("Closes in 0:5") or time_left == "Closes in 1:00", time_left

    kodi.send_input("Up")
    assert kodi.wait_until(lambda: focused_label(kodi) == "8 · Great", 5), focused_label(kodi)
    kodi.send_input("Select")

    assert kodi.wait_until(lambda: not kodi.window_active(RATING_WINDOW), 5), "the window stayed open"
    (request,) = wait_for_requests(fake, "/sync/ratings", 1, timeout=30)
    (movie,) = request.json["movies"]
    assert (movie["title"], movie["rating"]) == (MOVIE_ONE.title, 8)
    assert {key: str(value) for key, value in movie["ids"].items()} == MOVIE_ONE.ids
    assert kodi.wait_until(lambda: userrating(kodi, movieid) == 8, 10)
    time.sleep(3)
    assert len(fake.requests_to("/sync/ratings")) == 1, fake.log_text()
    assert not kodi.window_active(RATING_WINDOW)


def test_kodi_quitting_while_the_window_shows_closes_it_and_quits_cleanly(make_kodi, fake):
    kodi = make_kodi(env=simkl_env(fake), settings={"rate_movies": True})
    login(kodi, fake)
    rated_before = len(fake.requests_to("/sync/ratings"))  # the fake Simkl is the module's
    assert kodi.play_to_end({"movieid": kodi.movie_id(MOVIE_TWO.title)}, seek_to=99)["end"] is True
    assert kodi.wait_for_window(RATING_WINDOW, 40), "the rating window did not come\n" + kodi.log_tail()

    quit_cleanly(kodi)  # exit code 0, no script killed at quit, no Python error

    assert "rating: %s (%d) not rated: Kodi quits" % (MOVIE_TWO.title, MOVIE_TWO.year) in kodi.log_text()
    assert len(fake.requests_to("/sync/ratings")) == rated_before
