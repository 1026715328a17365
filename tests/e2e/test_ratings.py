"""Scenario: ratings the same in Kodi and on Simkl, in a real Kodi.

Kodi facts the ratings code relies on: `VideoLibrary.SetMovieDetails {userrating}` (what a script or a
remote sets as "My rating") is announced as `VideoLibrary.OnUpdate` naming the movie and carrying no
playcount, so it is never taken for a library mark; `VideoLibrary.GetMovies` / `GetTVShows` filter on
`userrating`.
"""
import time

import pytest

from .addon_steps import simkl_env
from .media_library import MOVIE_ONE, SHOW

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


def test_a_rating_set_over_json_rpc_is_never_announced_with_a_playcount_and_kodi_filters_on_it(kodi):
    movieid = kodi.movie_id(MOVIE_ONE.title)
    since = kodi.mark()

    kodi.call("VideoLibrary.SetMovieDetails", {"movieid": movieid, "userrating": 7})

    updates = updates_after(kodi, since)
    print("OnUpdate after a movie's userrating:", updates)
    assert all("playcount" not in (data or {}) for data in updates)
    rated = kodi.call("VideoLibrary.GetMovies", {"properties": ["userrating"], "filter": RATED})
    assert [(m["movieid"], m["userrating"]) for m in rated["movies"]] == [(movieid, 7)]
    shows = kodi.call("VideoLibrary.GetTVShows", {"properties": ["title", "userrating"]})["tvshows"]
    (show,) = [s for s in shows if s["title"] == SHOW.title]
    since = kodi.mark()
    kodi.call("VideoLibrary.SetTVShowDetails", {"tvshowid": show["tvshowid"], "userrating": 9})
    updates = updates_after(kodi, since)
    print("OnUpdate after a show's userrating:", updates)
    assert all("playcount" not in (data or {}) for data in updates)
    rated = kodi.call("VideoLibrary.GetTVShows", {"properties": ["userrating"], "filter": RATED})
    assert [(s["tvshowid"], s["userrating"]) for s in rated["tvshows"]] == [(show["tvshowid"], 9)]
    kodi.call("VideoLibrary.SetMovieDetails", {"movieid": movieid, "userrating": 0})
    kodi.call("VideoLibrary.SetTVShowDetails", {"tvshowid": show["tvshowid"], "userrating": 0})
    assert kodi.call("VideoLibrary.GetMovies", {"filter": RATED}).get("movies", []) == []
