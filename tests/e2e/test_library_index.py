"""Scenario: what Kodi announces when its library changes, and the sync's library index following it.

Kodi 20 and 21 (each test in a Kodi of its own, with a library of its own):
- a scan announces every movie, show and episode it adds with VideoLibrary.OnUpdate
  {"item": {"type", "id"}, "added": true, "transaction": true} (Kodi 20 first also announces each movie and
  episode with {"item": {"type", "id"}, "transaction": true}), and nothing for what it already had;
- VideoLibrary.RemoveMovie / RemoveTVShow announce VideoLibrary.OnRemove {"type", "id"};
- a watched mark announces VideoLibrary.OnUpdate with "playcount" (tests/e2e/test_library_marks.py).
tests/kodi_fakes/videolibrary.py copies these shapes. The add-on's first sync reads the whole library and
builds its index; a sync after a scan added a movie, and after a removal, reads only what Simkl's changes
name (lib/scrobbler/sync/index.py)."""
import re
import shutil

import pytest

from .addon_steps import login, quit_cleanly, simkl_env, wait_for_requests
from .media_library import (
    EPISODE_ONE,
    MOVIE_TWO,
    MOVIES,
    SHOW,
    SHOWS,
    LibraryMovie,
    add_movie,
    build_library,
    movie_folder,
)

pytestmark = pytest.mark.e2e

NEW_MOVIE = LibraryMovie("Zeta New Movie", 2006, 400, {"imdb": "tt9900006", "tmdb": "990006"})
SYNC_DONE = r"\] sync: (full|partial) pull, "
ITEMS_READ = r"\] sync: read (\d+) of Kodi's library items in (\d+) calls"
WATCHED_AT = "2026-03-14T18:30:00Z"


@pytest.fixture
def own_library(tmp_path, e2e_cache):
    """A library of this test's own: it adds a movie to it (the module-wide one is shared)."""
    return build_library(tmp_path / "media", e2e_cache)


def scan(kodi, library=None):
    """A library scan (the first one with the library's folders as sources); Kodi's notifications meanwhile."""
    since = kodi.mark()
    for content, folder in (library or {}).items():
        kodi.add_video_source(folder, content)
    kodi.scan_library()
    return [n for n in kodi.rpc.notifications[since:] if n.method.startswith("VideoLibrary.")]


def updates(notes):
    return [n.data for n in notes if n.method == "VideoLibrary.OnUpdate"]


def test_what_kodi_announces_when_a_scan_adds_items_and_when_it_removes_them(make_kodi, own_library, e2e_cache):
    kodi = make_kodi(enable=False, library=False)

    notes = scan(kodi, own_library)

    ids = {("movie", m["title"]): m["movieid"] for m in kodi.movies()}
    shows = kodi.call("VideoLibrary.GetTVShows")["tvshows"]
    episodes = kodi.episodes()
    added = [("movie", movieid) for movieid in ids.values()] + [("tvshow", show["tvshowid"]) for show in shows] \
        + [("episode", episode["episodeid"]) for episode in episodes]
    # each item: "added", in the scan's transaction; Kodi 20 first also announces each movie and episode without it
    # (Kodi 19 and 21 do not)
    expected = [{"item": {"type": kind, "id": dbid}, "added": True, "transaction": True} for kind, dbid in added]
    if kodi.major == 20:
        expected += [{"item": {"type": kind, "id": dbid}, "transaction": True} for kind, dbid in added
                     if kind != "tvshow"]
    order = lambda data: (data["item"]["type"], data["item"]["id"], "added" in data)  # noqa: E731
    assert sorted(updates(notes), key=order) == sorted(expected, key=order), notes
    assert len(ids) == len(MOVIES) and len(shows) == len(SHOWS)
    assert len(episodes) == sum(len(show.episodes) for show in SHOWS)

    add_movie(own_library, NEW_MOVIE, e2e_cache)
    notes = scan(kodi)

    new_id = kodi.movie_id(NEW_MOVIE.title)
    assert updates(notes) == ([{"item": {"type": "movie", "id": new_id}, "transaction": True}] if kodi.major == 20
                              else []) + [{"item": {"type": "movie", "id": new_id}, "added": True,
                                           "transaction": True}], notes

    since = kodi.mark()
    kodi.call("VideoLibrary.RemoveMovie", {"movieid": new_id})
    kodi.wait_for("VideoLibrary.OnRemove", since)
    kodi.call("VideoLibrary.RemoveTVShow", {"tvshowid": shows[0]["tvshowid"]})
    kodi.wait_for("VideoLibrary.OnRemove", since, where=lambda data: data.get("type") == "tvshow")
    removed = [n.data for n in kodi.rpc.notifications[since:] if n.method == "VideoLibrary.OnRemove"]
    assert {"type": "movie", "id": new_id} in removed
    assert {"type": "tvshow", "id": shows[0]["tvshowid"]} in removed
    assert all(set(data) == {"type", "id"} for data in removed), removed  # no transaction outside a scan
    assert kodi.stop() == 0


def items_read(kodi):
    return [(int(a), int(b)) for a, b in re.findall(ITEMS_READ, kodi.log_text())]


def test_after_the_first_sync_a_sync_reads_only_what_simkls_changes_name(make_kodi, own_library, e2e_cache, fake):
    kodi = make_kodi(env=simkl_env(fake), settings={"debug": True, "sync_from_simkl": True}, library=False)
    scan(kodi, own_library)
    fake.library.watch_movie(MOVIE_TWO.title, MOVIE_TWO.year, dict(MOVIE_TWO.ids), WATCHED_AT)
    login(kodi, fake)
    wait_for_requests(fake, "/users/settings", 1, status=200)
    assert kodi.wait_until(lambda: items_read(kodi), 60, interval=0.5), kodi.log_tail()
    whole = len(MOVIES) + len(SHOWS) + sum(len(show.episodes) for show in SHOWS)
    assert items_read(kodi) == [(whole, 3)]  # the first sync: every movie, show and episode, a page each

    # A scan adds a movie that Simkl has as watched: the automatic sync 5 s after the scan reads the new
    # movie's ids (the index heard it was added), Kodi's two counts, and that movie.
    add_movie(own_library, NEW_MOVIE, e2e_cache)
    scan(kodi)
    fake.library.watch_movie(NEW_MOVIE.title, NEW_MOVIE.year, dict(NEW_MOVIE.ids), WATCHED_AT)
    assert kodi.wait_until(lambda: len(items_read(kodi)) == 2, 60, interval=0.5), kodi.log_tail()
    # (the delta may hold MOVIE_TWO too: Simkl's activity times are whole seconds, date_from keeps what
    # changed after that second began)
    named = len((fake.requests_to("/sync/all-items/movies/completed")[-1].answer or {}).get("movies") or [])
    assert items_read(kodi)[1][0] == 1 + 2 + named and named <= 2
    assert kodi.movie(kodi.movie_id(NEW_MOVIE.title))["playcount"] == 1

    # A movie removed: the index drops it, so Kodi's counts still match it; an episode watched on Simkl is
    # found by its show and season alone.
    shutil.rmtree(str(movie_folder(own_library, MOVIE_TWO)))  # or the next scan finds it again
    kodi.call("VideoLibrary.RemoveMovie", {"movieid": kodi.movie_id(MOVIE_TWO.title)})
    scan(kodi)  # nothing new on disk: only the trigger of the automatic sync 5 s later
    fake.library.watch_episodes(SHOW.title, SHOW.year, dict(SHOW.ids),
                                [(EPISODE_ONE.season, EPISODE_ONE.number, WATCHED_AT)])
    assert kodi.wait_until(lambda: len(items_read(kodi)) == 3, 60, interval=0.5), kodi.log_tail()
    season = [e for e in SHOW.episodes if e.season == EPISODE_ONE.season]
    assert items_read(kodi)[2][0] == 2 + 1 + len(season)  # counts, the show, its season
    assert items_read(kodi)[2][0] < whole
    assert kodi.episode(kodi.episode_id(SHOW.title, EPISODE_ONE.season, EPISODE_ONE.number))["playcount"] == 1
    assert "library index cannot be used" not in kodi.log_text()
    assert len(re.findall(SYNC_DONE, kodi.log_text())) == 3
    quit_cleanly(kodi)
    assert fake.violations == []
