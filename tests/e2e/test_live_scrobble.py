"""Live "Watching now" in a real Kodi: the player's own events drive /scrobble/*, and a watch reaches
Simkl's history exactly once, through the stop or, when the stop fails, through /sync/history.

Simkl's per-user 20-second lock (the fake enforces it) makes these tests wait between events: the add-on
must send each change only once the lock is free, so each step waits up to 20 s for its request.
"""
import time

import pytest

from .addon_steps import quit_cleanly, simkl_env, wait_for_requests
from .media_library import MOVIE_ONE, MOVIE_TWO

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("logged_in")]

LOCK = 20  # seconds: Simkl's scrobble lock
VIDEO_PLAYER = 1


@pytest.fixture(scope="module")
def kodi_env(fake):
    return simkl_env(fake)


@pytest.fixture(scope="module")
def kodi_addon_settings():
    return {"debug": True, "live_scrobble": True}


def scrobbles_of(fake, movie):
    """(endpoint, progress, status, Simkl's action) of the /scrobble/* requests naming this movie, in order."""
    return [(r.path.rsplit("/", 1)[1], r.json["progress"], r.status, (r.answer or {}).get("action"))
            for r in list(fake.requests) if r.path.startswith("/scrobble/")
            and (r.json or {}).get("movie", {}).get("title") == movie.title]


def history_of(fake, movie):
    return [r for r in fake.requests_to("/sync/history", "POST")
            if movie.title in [m.get("title") for m in (r.json or {}).get("movies", [])]]


def wait_for_scrobbles(kodi, fake, movie, count, timeout=LOCK + 25):
    found = kodi.wait_until(lambda: len([s for s in scrobbles_of(fake, movie) if s[2]]) >= count, timeout)
    assert found, "fewer than %d scrobbles of %s:\n%s" % (count, movie.title, fake.log_text())
    return scrobbles_of(fake, movie)


def key_of(movie):
    return "movie:imdb=" + movie.ids["imdb"]


def test_a_movie_paused_in_the_middle_goes_start_pause_start_stop_and_the_stop_is_its_history_entry(kodi, fake):
    kodi.play({"movieid": kodi.movie_id(MOVIE_ONE.title)})
    wait_for_scrobbles(kodi, fake, MOVIE_ONE, 1)
    kodi.wait_for_position(LOCK + 5)  # past the lock the start took

    kodi.call("Player.PlayPause", {"playerid": VIDEO_PLAYER, "play": False})
    wait_for_scrobbles(kodi, fake, MOVIE_ONE, 2)
    time.sleep(LOCK + 2)  # paused for a while
    kodi.call("Player.PlayPause", {"playerid": VIDEO_PLAYER, "play": True})
    wait_for_scrobbles(kodi, fake, MOVIE_ONE, 3)
    assert kodi.run_to_end(seek_to=97, timeout=90)["end"] is True
    sent = wait_for_scrobbles(kodi, fake, MOVIE_ONE, 4)
    time.sleep(3)  # nothing more may follow: no history write, no other scrobble

    assert [(s[0], s[2], s[3]) for s in scrobbles_of(fake, MOVIE_ONE)] == [
        ("start", 201, "start"), ("pause", 201, "pause"), ("start", 201, "start"), ("stop", 201, "scrobble")]
    start, pause, resume, stop = (s[1] for s in sent)
    assert start < pause <= resume < 50 and stop == 100  # Kodi's own positions, then the natural end
    assert history_of(fake, MOVIE_ONE) == []
    assert fake.history_entries(key_of(MOVIE_ONE)) == 1
    assert not any("allow_rewatch" in r.query for r in fake.requests if r.path.startswith("/scrobble/"))


def test_when_the_stop_fails_the_watch_reaches_the_history_once_through_the_outbox(kodi, fake):
    fake.fail("/scrobble/stop", 503)
    kodi.play({"movieid": kodi.movie_id(MOVIE_TWO.title)})
    wait_for_scrobbles(kodi, fake, MOVIE_TWO, 1)  # it went live (after the previous movie's lock)

    assert kodi.run_to_end(seek_to=97, timeout=90)["end"] is True
    sent = wait_for_scrobbles(kodi, fake, MOVIE_TWO, 2)
    (request,) = wait_for_requests(fake, "/sync/history", 1, timeout=30)
    time.sleep(3)

    assert [(s[0], s[2]) for s in sent] == [("start", 201), ("stop", 503)]
    assert [r.status for r in history_of(fake, MOVIE_TWO)] == [201]
    (movie,) = request.json["movies"]
    assert (movie["title"], movie["year"]) == (MOVIE_TWO.title, MOVIE_TWO.year)
    assert request.time > fake.requests_to("/scrobble/stop")[-1].time
    assert fake.history_entries(key_of(MOVIE_TWO)) == 1


def test_kodi_quits_cleanly_and_every_request_kept_simkl_rules(kodi, fake):
    quit_cleanly(kodi)

    assert fake.violations == []
    assert [r.status for r in fake.requests if r.path.startswith("/scrobble/") and r.status == 400] == []
