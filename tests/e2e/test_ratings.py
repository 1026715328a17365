"""Scenario: ratings the same in Kodi and on Simkl, in a real Kodi. Simkl's rating of a show becomes its
My rating (`userrating`) after the login's sync, and nothing is posted back; a My rating set with
`VideoLibrary.SetMovieDetails {userrating}` reaches Simkl's /sync/ratings once, with its rating and ids.

Kodi facts the ratings code relies on: a rating set over JSON-RPC is announced to no one (no
`VideoLibrary.OnUpdate` at all in Kodi 20.1 and 21.2, so never a library mark), as the
information dialog's is (CGUIDialogVideoInfo writes it with CVideoDatabase::SetVideoUserRating, a bare
UPDATE): the add-on looks at Kodi's rated items instead. `VideoLibrary.GetMovies` / `GetTVShows` filter on
`userrating`.
"""
import re
import time

import pytest

from .addon_steps import ADDON_ID, login, quit_cleanly, simkl_env, wait_for_requests
from .media_library import MOVIE_ONE, SHOW

SYNC_TIMEOUT = 60  # the sync starts 5 s after the login; two Kodis may share the machine
SYNC_DONE = r"\] sync: (full|partial) pull, "
SEEDED = r"\] ratings: \d+ of Kodi's ratings taken as known"

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def kodi_env(fake):
    return simkl_env(fake)


@pytest.fixture(scope="module")
def kodi_addon_settings():
    return {"debug": True, "sync_from_simkl": True}


RATED = {"field": "userrating", "operator": "greaterthan", "value": "0"}


def updates_after(kodi, since, wait=3.0):
    """The VideoLibrary.OnUpdate data Kodi announced after the mark, within `wait` seconds."""
    time.sleep(wait)
    return [n.data for n in kodi.rpc.notifications[since:] if n.method == "VideoLibrary.OnUpdate"]


def test_a_rating_set_over_json_rpc_is_announced_to_no_one_and_kodi_filters_on_it(kodi):
    movieid = kodi.movie_id(MOVIE_ONE.title)
    since = kodi.mark()

    kodi.call("VideoLibrary.SetMovieDetails", {"movieid": movieid, "userrating": 7})

    updates = updates_after(kodi, since)
    print("OnUpdate after a movie's userrating:", updates)
    assert updates == []  # Kodi 20.1 and 21.2: nothing (so never a library mark either)
    rated = kodi.call("VideoLibrary.GetMovies", {"properties": ["userrating"], "filter": RATED})
    assert [(m["movieid"], m["userrating"]) for m in rated["movies"]] == [(movieid, 7)]
    shows = kodi.call("VideoLibrary.GetTVShows", {"properties": ["title", "userrating"]})["tvshows"]
    (show,) = [s for s in shows if s["title"] == SHOW.title]
    since = kodi.mark()
    kodi.call("VideoLibrary.SetTVShowDetails", {"tvshowid": show["tvshowid"], "userrating": 9})
    updates = updates_after(kodi, since)
    print("OnUpdate after a show's userrating:", updates)
    assert updates == []  # Kodi 20.1 and 21.2: nothing (so never a library mark either)
    rated = kodi.call("VideoLibrary.GetTVShows", {"properties": ["userrating"], "filter": RATED})
    assert [(s["tvshowid"], s["userrating"]) for s in rated["tvshows"]] == [(show["tvshowid"], 9)]
    kodi.call("VideoLibrary.SetMovieDetails", {"movieid": movieid, "userrating": 0})
    kodi.call("VideoLibrary.SetTVShowDetails", {"tvshowid": show["tvshowid"], "userrating": 0})
    assert kodi.call("VideoLibrary.GetMovies", {"filter": RATED}).get("movies", []) == []


def log_count(kodi, pattern):
    return len(re.findall(pattern, kodi.log_text()))


def wait_for_log_count(kodi, pattern, count, timeout=SYNC_TIMEOUT):
    return kodi.wait_until(lambda: log_count(kodi, pattern) >= count, timeout, interval=0.25)


def show_rating(kodi, tvshowid):
    return kodi.call("VideoLibrary.GetTVShowDetails", {"tvshowid": tvshowid, "properties": ["userrating"]}
                     )["tvshowdetails"]["userrating"]


def test_simkls_rating_of_a_show_becomes_its_my_rating_and_nothing_is_posted_back(kodi, fake):
    fake.library.rate("show", {"title": SHOW.title, "year": SHOW.year, "ids": dict(SHOW.ids)}, 9,
                      "2026-05-01T20:00:00Z")
    shows = kodi.call("VideoLibrary.GetTVShows", {"properties": ["title"]})["tvshows"]
    (tvshowid,) = [s["tvshowid"] for s in shows if s["title"] == SHOW.title]
    assert show_rating(kodi, tvshowid) == 0

    login(kodi, fake)

    assert kodi.wait_until(lambda: show_rating(kodi, tvshowid) == 9, SYNC_TIMEOUT, interval=0.5), \
        "Kodi did not get Simkl's rating\n" + kodi.log_tail()
    assert wait_for_log_count(kodi, SEEDED, 1), "the ratings were not looked at after the sync\n" + kodi.log_tail()
    assert "] sync: 1 of Simkl's 1 ratings written as My rating in Kodi" in kodi.log_text()
    gets = [r for r in fake.requests if r.method == "GET" and r.path.startswith("/sync/ratings/")]
    assert [r.path for r in gets] == ["/sync/ratings/shows/1,2,3,4,5,6,7,8,9,10"]
    time.sleep(3)  # the worker had its chance to send anything the look found
    assert fake.requests_to("/sync/ratings", "POST") == [] and fake.requests_to("/sync/ratings/remove") == []


def test_a_rating_set_with_set_movie_details_reaches_simkl_once(kodi, fake):
    movieid = kodi.movie_id(MOVIE_ONE.title)
    syncs = log_count(kodi, SYNC_DONE) + log_count(kodi, r"\] sync: nothing moved on Simkl")

    kodi.call("VideoLibrary.SetMovieDetails", {"movieid": movieid, "userrating": 8})
    kodi.run_addon(ADDON_ID, "sync")  # Sync now: the look at Kodi's ratings follows every sync

    (posted,) = wait_for_requests(fake, "/sync/ratings", 1, timeout=SYNC_TIMEOUT, status=201)
    (movie,) = posted.json["movies"]
    assert movie["rating"] == 8 and movie["rated_at"]
    assert {key: str(value) for key, value in movie["ids"].items()} == dict(MOVIE_ONE.ids)
    assert fake.ratings[fake.library.simkl_id("movie", MOVIE_ONE.ids)]["rating"] == 8

    time.sleep(1.5)  # two full syncs within a second would pass Simkl's 10 GETs a second (the fake answers 429)
    kodi.run_addon(ADDON_ID, "sync")
    assert kodi.wait_until(lambda: log_count(kodi, SYNC_DONE) + log_count(kodi, r"\] sync: nothing moved on Simkl")
                           >= syncs + 2, SYNC_TIMEOUT, interval=0.25), kodi.log_tail()
    time.sleep(3)
    assert len(fake.requests_to("/sync/ratings", "POST")) == 1
    assert kodi.movie(movieid)["title"] == MOVIE_ONE.title


def test_kodi_quits_cleanly_and_every_request_kept_simkl_rules(kodi, fake):
    quit_cleanly(kodi)

    assert fake.violations == []
