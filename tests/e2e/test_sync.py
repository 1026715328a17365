"""Scenario: the two-way sync in a real Kodi. What Simkl has as watched before the login is marked in Kodi's
library after it, with Simkl's times in Kodi's local time; Kodi's own announcements of those writes never
travel back to Simkl as marks; a sync where nothing changed on Simkl costs one request."""
import calendar
import re
import time

import pytest

from .addon_steps import ADDON_ID, login, quit_cleanly, simkl_env, wait_for_requests
from .media_library import EPISODE_ONE, EPISODE_TWO, MOVIE_ONE, MOVIE_TWO, MOVIES, SHOW

pytestmark = pytest.mark.e2e

MOVIE_WATCHED_AT = "2026-03-14T18:30:00Z"
EPISODE_WATCHED_AT = "2026-04-02T21:15:00Z"
SYNC_TIMEOUT = 30  # the sync starts 5 s after the login
SYNC_DONE = r"\] sync: (full|partial) pull, "
NOTHING_MOVED = r"\] sync: nothing moved on Simkl since the last sync"


@pytest.fixture(scope="module")
def kodi_env(fake):
    return simkl_env(fake)


@pytest.fixture(scope="module")
def kodi_addon_settings():
    return {"debug": True, "sync_from_simkl": True}


def kodi_local(watched_at):
    """Simkl's UTC time as Kodi writes lastplayed: local time of this machine (Kodi runs with its zone)."""
    moment = calendar.timegm(time.strptime(watched_at, "%Y-%m-%dT%H:%M:%SZ"))
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(moment))


def log_count(kodi, pattern):
    return len(re.findall(pattern, kodi.log_text()))


def wait_for_log_count(kodi, pattern, count, timeout):
    return kodi.wait_until(lambda: log_count(kodi, pattern) >= count, timeout, interval=0.25)


def library_state(kodi):
    """{("movie", title) or ("episode", season, number): (playcount, lastplayed)} of the whole library."""
    state = {("movie", m["title"]): (m["playcount"], m["lastplayed"]) for m in kodi.movies()}
    state.update({("episode", e["season"], e["episode"]): (e["playcount"], e["lastplayed"])
                  for e in kodi.episodes() if e["showtitle"] == SHOW.title})
    return state


def test_after_the_login_kodi_shows_what_simkl_has_watched_with_simkls_times(kodi, fake):
    fake.library.watch_movie(MOVIE_TWO.title, MOVIE_TWO.year, dict(MOVIE_TWO.ids), MOVIE_WATCHED_AT)
    fake.library.watch_episodes(SHOW.title, SHOW.year, dict(SHOW.ids),
                                [(EPISODE_TWO.season, EPISODE_TWO.number, EPISODE_WATCHED_AT)])
    assert log_count(kodi, SYNC_DONE) == 0

    login(kodi, fake)
    wait_for_requests(fake, "/users/settings", 1, status=200)

    movie_key, episode_key = ("movie", MOVIE_TWO.title), ("episode", EPISODE_TWO.season, EPISODE_TWO.number)

    def both_watched():
        state = library_state(kodi)
        return state[movie_key][0] and state[episode_key][0]

    assert kodi.wait_until(both_watched, SYNC_TIMEOUT, interval=0.5), "Kodi did not get Simkl's watches " \
        "within %ss: %r\n%s" % (SYNC_TIMEOUT, library_state(kodi), kodi.log_tail())
    assert wait_for_log_count(kodi, SYNC_DONE, 1, SYNC_TIMEOUT), "the sync did not log its end\n" + kodi.log_tail()
    state = library_state(kodi)
    assert state[movie_key] == (1, kodi_local(MOVIE_WATCHED_AT))
    assert state[episode_key] == (1, kodi_local(EPISODE_WATCHED_AT))
    others = {key: value for key, value in state.items() if key not in (movie_key, episode_key)}
    assert set(others) == {("movie", m.title) for m in MOVIES if m != MOVIE_TWO} | {
        ("episode", EPISODE_ONE.season, EPISODE_ONE.number)}
    assert all(value == (0, "") for value in others.values()), others
    assert "sync: full pull, 2 marked and 0 unmarked in Kodi, 0 writes refused, 5 requests" in kodi.log_text()
    gets = [r.path for r in fake.requests if r.method == "GET" and r.path.startswith("/sync/")]
    assert gets == ["/sync/activities", "/sync/all-items/movies", "/sync/all-items/shows", "/sync/all-items/anime",
                    "/sync/playback"]


def test_a_sync_where_nothing_changed_on_simkl_is_one_request(kodi, fake):
    # An automatic sync: the end of a library scan asks for one 5 s later (as do the start and the hour).
    before = len(fake.requests)
    ended = (log_count(kodi, NOTHING_MOVED), log_count(kodi, SYNC_DONE))

    kodi.scan_library()

    assert kodi.wait_until(lambda: (log_count(kodi, NOTHING_MOVED), log_count(kodi, SYNC_DONE)) != ended,
                           SYNC_TIMEOUT, interval=0.25), "no sync after the library scan\n" + kodi.log_tail()
    assert [(r.method, r.path) for r in fake.requests[before:]] == [("GET", "/sync/activities")], fake.log_text()
    assert log_count(kodi, NOTHING_MOVED) == ended[0] + 1


def test_sync_now_pulls_everything_again_and_marks_nothing_new(kodi, fake):
    # "Sync now" (the add-on's `sync` action) is a full sync by design, whatever the activities say: it is
    # the one sync that may unmark (sync_unwatch), so it compares the whole lists.
    before = len(fake.requests)

    kodi.run_addon(ADDON_ID, "sync")

    assert wait_for_log_count(kodi, SYNC_DONE, 2, SYNC_TIMEOUT), "Sync now did not run\n" + kodi.log_tail()
    assert [(r.method, r.path) for r in fake.requests[before:]] == [
        ("GET", "/sync/activities"), ("GET", "/sync/all-items/movies"), ("GET", "/sync/all-items/shows"),
        ("GET", "/sync/all-items/anime"), ("GET", "/sync/playback")], fake.log_text()
    assert "sync: full pull, 0 marked and 0 unmarked in Kodi, 0 writes refused, 5 requests" in kodi.log_text()


def test_kodis_own_updates_of_the_sync_never_reached_simkl_as_marks(kodi, fake):
    # A user's mark after the sync is sent; had Kodi's announcements of the sync's writes been taken for
    # marks, they were queued before it and would travel first or with it.
    assert fake.requests_to("/sync/history") == []
    kodi.set_playcount({"movieid": kodi.movie_id(MOVIE_ONE.title)}, 1)

    (sent,) = wait_for_requests(fake, "/sync/history", 1, status=201)

    assert [m["ids"].get("imdb") for m in sent.json.get("movies") or []] == [MOVIE_ONE.ids["imdb"]]
    assert not sent.json.get("shows") and not sent.json.get("episodes")


def test_kodi_quits_cleanly_and_every_request_kept_simkl_rules(kodi, fake):
    quit_cleanly(kodi)

    assert fake.violations == []
    assert len(fake.requests_to("/sync/history")) == 1
    assert fake.requests_to("/sync/history/remove") == []
