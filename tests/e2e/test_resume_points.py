"""Scenario: resume where you paused on another device. A paused playback on Simkl becomes the library
movie's (and episode's) resume point in a real Kodi, at Simkl's percentage of Kodi's own length of the
file; Kodi's announcements of those writes are never taken for something the user did (nothing is posted
back to Simkl); a later pause alone costs one activities and one playback request."""
import re
import time

import pytest

from .addon_steps import back_to_settings, login, simkl_env, wait_for_requests
from .media_library import EPISODE_TWO, MOVIE_ONE, MOVIE_TWO, SHOW

pytestmark = pytest.mark.e2e

SYNC_TIMEOUT = 40  # the sync starts 5 s after the login (or a library scan)
RESUMED = r"\] sync: (\d+) resume points from Simkl's (\d+) paused playbacks written in Kodi"
SETTLE = 8  # seconds: longer than the add-on gathers library marks before it sends them (README, "Library marks")
NOTHING_BACK = ("/sync/history", "/sync/history/remove", "/scrobble/start", "/scrobble/pause", "/scrobble/stop")


@pytest.fixture(scope="module")
def kodi_env(fake):
    return simkl_env(fake)


@pytest.fixture(scope="module")
def kodi_addon_settings():
    return {"debug": True, "sync_from_simkl": True}


def log_count(kodi, pattern):
    return len(re.findall(pattern, kodi.log_text()))


def details(kodi, kind, dbid):
    method, key = {"movie": ("VideoLibrary.GetMovieDetails", "moviedetails"),
                   "episode": ("VideoLibrary.GetEpisodeDetails", "episodedetails")}[kind]
    return kodi.call(method, {kind + "id": dbid, "properties": ["resume", "runtime", "streamdetails", "playcount",
                                                                  "lastplayed"]})[key]


def kodi_length(item):
    """Kodi's own length of the file: what the add-on reads (resume total, runtime, the video stream's duration)."""
    videos = (item.get("streamdetails") or {}).get("video") or [{}]
    return (item["resume"].get("total") or item.get("runtime") or videos[0].get("duration") or 0)


def updates_of(kodi, since, kind, dbid):
    return [n.data for n in kodi.rpc.notifications[since:] if n.method == "VideoLibrary.OnUpdate"
            and (n.data or {}).get("item", {}).get("type") == kind and n.data["item"].get("id") == dbid]


def posted_back(fake):
    return [(r.method, r.path) for r in fake.requests if r.path in NOTHING_BACK]


def learn_lengths(kodi, items):
    """Kodi 19 reads a file's length (its stream details) when the Videos window lists it or it plays, not at the
    scan as Kodi 20 and 21 do (seen in 19.1): list the library there first, as a user browsing it would."""
    if kodi.major >= 20:
        return
    kodi.call("GUI.ActivateWindow", {"window": "videos", "parameters": ["videodb://movies/titles/"]})
    tvshowid = kodi.episode(items[-1][1])["tvshowid"]
    assert kodi.wait_until(lambda: kodi_length(details(kodi, *items[0])) > 0, 20), "Kodi 19 read no movie length"
    season = "videodb://tvshows/titles/%d/%d/" % (tvshowid, EPISODE_TWO.season)
    kodi.call("GUI.ActivateWindow", {"window": "videos", "parameters": [season]})
    assert kodi.wait_until(lambda: all(kodi_length(details(kodi, *item)) > 0 for item in items), 20), \
        "Kodi 19 read no length of %s" % (items,)
    back_to_settings(kodi)


def test_a_paused_playback_on_simkl_becomes_the_movies_and_the_episodes_resume_point(kodi, fake):
    movieid = kodi.movie_id(MOVIE_ONE.title)
    episodeid = kodi.episode_id(SHOW.title, EPISODE_TWO.season, EPISODE_TWO.number)
    learn_lengths(kodi, [("movie", movieid), ("movie", kodi.movie_id(MOVIE_TWO.title)), ("episode", episodeid)])
    movie_before, episode_before = details(kodi, "movie", movieid), details(kodi, "episode", episodeid)
    assert movie_before["resume"]["position"] == 0 and kodi_length(movie_before) > 0, movie_before
    fake.library.pause("movie", MOVIE_ONE.title, MOVIE_ONE.year, dict(MOVIE_ONE.ids), 25)
    fake.library.pause("episode", SHOW.title, SHOW.year, dict(SHOW.ids), 50,
                       episode=(EPISODE_TWO.season, EPISODE_TWO.number), episode_key="number")
    since = kodi.mark()

    login(kodi, fake)

    assert kodi.wait_until(lambda: log_count(kodi, RESUMED), SYNC_TIMEOUT, interval=0.5), \
        "the sync wrote no resume points\n" + kodi.log_tail()
    movie, episode = details(kodi, "movie", movieid), details(kodi, "episode", episodeid)
    assert movie["resume"] == {"position": round(kodi_length(movie_before) * 0.25),
                               "total": kodi_length(movie_before)}, movie
    assert episode["resume"] == {"position": round(kodi_length(episode_before) * 0.5),
                                 "total": kodi_length(episode_before)}, episode
    assert (movie["playcount"], episode["playcount"]) == (0, 0)
    assert re.search(RESUMED, kodi.log_text()).groups() == ("2", "2")
    # What Kodi announces of a resume write: never a playcount, so never a library mark (Kodi 20.1 announces
    # nothing at all for it, nor does 21; tests/kodi_fakes/videolibrary.py does the same)
    updates = updates_of(kodi, since, "movie", movieid) + updates_of(kodi, since, "episode", episodeid)
    assert all("playcount" not in (data or {}) for data in updates), [
        (n.method, n.data) for n in kodi.rpc.notifications[since:] if n.method.startswith("VideoLibrary.")]
    time.sleep(SETTLE)
    assert posted_back(fake) == [], fake.log_text()
    kodi.assert_no_python_errors()


def test_a_later_pause_alone_costs_one_activities_and_one_playback_request(kodi, fake):
    movieid = kodi.movie_id(MOVIE_TWO.title)
    length = kodi_length(details(kodi, "movie", movieid))
    done = log_count(kodi, RESUMED)
    fake.library.pause("movie", MOVIE_TWO.title, MOVIE_TWO.year, dict(MOVIE_TWO.ids), 60)
    before = len(fake.requests)

    kodi.scan_library()  # the end of a library scan asks for a sync 5 s later

    assert kodi.wait_until(lambda: log_count(kodi, RESUMED) > done, SYNC_TIMEOUT, interval=0.5), \
        "no sync after the library scan\n" + kodi.log_tail()
    assert details(kodi, "movie", movieid)["resume"] == {"position": round(length * 0.6), "total": length}
    syncs = [r for r in fake.requests[before:] if r.path.startswith("/sync/")]
    assert [(r.method, r.path) for r in syncs] == [("GET", "/sync/activities"), ("GET", "/sync/playback")]
    assert syncs[1].query.get("date_from"), "a later playback is asked from the saved server time"
    time.sleep(SETTLE)
    assert posted_back(fake) == [], fake.log_text()
    wait_for_requests(fake, "/sync/activities", 2)
