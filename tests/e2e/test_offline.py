"""Scenario 6: Simkl is down when a watch is finished; the watch waits and reaches Simkl exactly once."""
import time

import pytest

from .addon_steps import quit_cleanly, simkl_env, status_view_retry, wait_for_requests
from .media_library import MOVIE_ONE, MOVIE_TWO

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("logged_in")]

HISTORY = "/sync/history"


@pytest.fixture(scope="module")
def kodi_env(fake):
    return simkl_env(fake)


def posts_of(fake, movie, status=None):
    """The /sync/history POSTs that carried this movie (answered `status`, if given)."""
    return [r for r in fake.requests_to(HISTORY, "POST")
            if any(m.get("title") == movie.title for m in (r.json or {}).get("movies", []))
            and (status is None or r.status == status)]


def watches_of(fake, movie):
    return [w for w in fake.watches if w.key == "movie:imdb=" + movie.ids["imdb"]]


def test_a_watch_finished_while_simkl_is_down_is_kept_and_sent_once_after_a_retry(kodi, fake):
    # Retry-After keeps the add-on's own next try far away: only the user's Retry sends again.
    fake.fail(HISTORY, 503, times=1000, retry_after="600")

    assert kodi.play_to_end({"movieid": kodi.movie_id(MOVIE_ONE.title)}, seek_to=99)["end"] is True

    wait_for_requests(fake, HISTORY, 1, status=503)
    # The fake has answered; the add-on logs this once the failure is in its queue, which the view reads.
    assert kodi.wait_for_log(r"sending 1 entries failed \(server error 503\)", 20), kodi.log_tail()
    shown = status_view_retry(kodi)  # still down: this retry fails too
    assert shown["counts"].startswith("Waiting to be sent: 1 "), shown
    assert shown["why"] == "Why: Simkl had a problem answering", shown  # said once: no Last problem beside it
    assert "problem" not in shown, shown
    assert shown["outcome"] == "sent 0, needs attention 0, failing: server", shown
    wait_for_requests(fake, HISTORY, 2, status=503)
    assert watches_of(fake, MOVIE_ONE) == []

    fake.clear_faults()  # Simkl is back
    shown = status_view_retry(kodi)

    assert shown["counts"].startswith("Waiting to be sent: 1 "), shown
    assert shown["outcome"] == "sent 1, needs attention 0, failing: none", shown
    wait_for_requests(fake, HISTORY, 1, status=201)
    time.sleep(2)
    assert len(posts_of(fake, MOVIE_ONE, 201)) == 1, fake.log_text()
    assert len(posts_of(fake, MOVIE_ONE)) == 3, fake.log_text()
    assert len(watches_of(fake, MOVIE_ONE)) == 1


def test_a_watch_pending_at_quit_is_sent_once_after_kodi_restarts(kodi, fake):
    fake.fail(HISTORY, 503, times=1000, retry_after="8")
    assert kodi.play_to_end({"movieid": kodi.movie_id(MOVIE_TWO.title)}, seek_to=99)["end"] is True
    wait_for_requests(fake, HISTORY, 1 + 2, status=503)  # the two failures of the first scenario, and this one

    assert kodi.stop() == 0
    fake.clear_faults()  # Simkl recovers while Kodi is closed
    restarted = time.time()
    kodi.start()

    # The add-on's own retry (8 s after the failure) comes from the new Kodi, without any help.
    (request,) = [r for r in wait_for_requests(fake, HISTORY, 2, status=201, timeout=30)
                  if r in posts_of(fake, MOVIE_TWO)]
    assert request.time >= restarted
    time.sleep(2)
    assert len(posts_of(fake, MOVIE_TWO, 201)) == 1, fake.log_text()
    assert len(watches_of(fake, MOVIE_TWO)) == 1
    assert len(watches_of(fake, MOVIE_ONE)) == 1


def test_kodi_quits_cleanly_and_every_request_kept_simkl_rules(kodi, fake):
    quit_cleanly(kodi)

    assert fake.violations == []
