"""Kodi quits while a watch is in flight to Simkl and another has just ended: after the next start
both reach Simkl exactly once, and the quit itself is clean and quick.

The fake server holds the first /sync/history POST without an answer (a very slow Simkl). The add-on
must cut that request at quit (no "didn't stop in 5 seconds"), keep both watches in its outbox, and
send them after the next start. The held request is released only once Kodi has exited: the fake
then answers it into a closed connection and records its watch, as a real server could have done
with a request whose client went away, so the resend after the restart must not become a second
watch either.
"""
import re
import time

import pytest

from .addon_steps import quit_cleanly, simkl_env, wait_for_requests
from .kodi_harness import Kodi
from .media_library import MOVIE_ONE, MOVIE_TWO

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("logged_in")]

HISTORY = "/sync/history"
SERVICE_STOPPED = r"\[service\.scrobbler\.simkl\] service stopped"
QUIT_WITHIN = 2.0  # seconds between the second movie's end and Application.Quit


@pytest.fixture(scope="module")
def kodi_env(fake):
    return simkl_env(fake)


@pytest.fixture(scope="module")
def kodi_addon_settings():
    return {"debug": True}


def carried(request):
    """Titles of the movies a /sync/history POST carried."""
    return sorted(movie.get("title") for movie in (request.json or {}).get("movies", []))


def watches_of(fake, movie):
    return [w for w in fake.watches if w.key == "movie:imdb=" + movie.ids["imdb"]]


def test_a_watch_in_flight_and_one_just_ended_at_quit_reach_simkl_once_after_the_next_start(kodi, fake):
    first, second = kodi.movie_id(MOVIE_ONE.title), kodi.movie_id(MOVIE_TWO.title)
    fake.hold(HISTORY)  # Simkl takes forever to answer the first watch

    assert kodi.play_to_end({"movieid": first}, seek_to=99)["end"] is True
    (held,) = wait_for_requests(fake, HISTORY, 1, timeout=30)
    assert carried(held) == [MOVIE_ONE.title], fake.log_text()

    assert kodi.play_to_end({"movieid": second}, seek_to=99)["end"] is True
    ended = time.monotonic()
    assert held.status == 0, "the first watch was answered before the second movie ended:\n" + fake.log_text()
    assert time.monotonic() - ended < QUIT_WITHIN
    quit_cleanly(kodi)  # exit code 0 within its time, no script killed at quit, no Python error

    quit_log = kodi.log_text()
    assert re.search(SERVICE_STOPPED, quit_log), kodi.log_tail()
    assert re.search(r"watched '%s'" % MOVIE_TWO.title, quit_log), "the second watch was never committed\n" \
        + kodi.log_tail()
    # Guard on the scenario itself: the held request must still have been in flight at quit (the
    # add-on's read timeout did not end it first), and nothing else was sent before the quit.
    assert not re.search(r"sending \d+ entries failed", quit_log), kodi.log_tail()
    assert fake.requests_to(HISTORY) == [held], fake.log_text()

    fake.release()  # the server answers the cut request now, into a closed connection
    assert Kodi.wait_until(lambda: held.status != 0, 30), "the held request was never answered"
    restarted = time.time()
    kodi.start()

    def resent():
        posts = [r for r in fake.requests_to(HISTORY, "POST") if r.time >= restarted and r.status]
        titles = [title for r in posts for title in carried(r)]
        return posts if MOVIE_ONE.title in titles and MOVIE_TWO.title in titles else None

    assert Kodi.wait_until(resent, 90, interval=0.25), "not both watches sent after the restart:\n" \
        + fake.log_text() + "\n" + kodi.log_tail()
    time.sleep(3)  # nothing more may follow
    after = [r for r in fake.requests_to(HISTORY, "POST") if r.time >= restarted]
    for movie in (MOVIE_ONE, MOVIE_TWO):
        sent = [r for r in after if movie.title in carried(r)]
        assert [r.status for r in sent] == [201], "%s after the restart:\n%s" % (movie.title, fake.log_text())
        assert len(watches_of(fake, movie)) == 1, [w.key for w in fake.watches]
    assert len(fake.watches) == 2, [w.key for w in fake.watches]


def test_kodi_quits_cleanly_and_every_request_kept_simkl_rules(kodi, fake):
    quit_cleanly(kodi)

    assert re.search(SERVICE_STOPPED, kodi.log_text()), kodi.log_tail()
    assert fake.violations == []
