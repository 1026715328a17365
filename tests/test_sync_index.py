"""A sync after something moved on Simkl reads only the Kodi items Simkl's changes name, through the library
index (lib/scrobbler/sync/index.py), instead of the whole library; the index follows Kodi's library
notifications, is only a hint (a stale entry never marks a wrong item), and a sync that cannot trust it
reads the whole library as before. Through the real service, the fake Kodi library and the fake Simkl."""
import json
import os

import pytest
from videolibrary import VideoLibrary

from lib.scrobbler import kodi as kodi_module
from lib.scrobbler.sync import library as library_module
from lib.scrobbler.sync.index import INDEX_FILE, Entries, LibraryIndex
from lib.scrobbler.sync.plan import kodi_time
from lib.scrobbler.sync.remote import Watched, WatchedShow
from scenario import sync_now

MOVIES, SHOWS, EPISODES = 2000, 50, 20  # 3,050 items: 1 % of a whole read is 30 items
WATCHED_AT = "2026-05-01T20:00:00Z"
NEW_AT = "2026-06-01T20:00:00Z"


def movie(n):
    return {"movieid": n, "title": "Movie %d" % n, "year": 2000, "uniqueid": {"imdb": "tt%07d" % n, "tmdb": str(n)}}


def show(s):
    return {"tvshowid": s, "title": "Show %d" % s, "year": 2010,
            "uniqueid": {"tvdb": str(70000 + s), "imdb": "tt%07d" % (7000000 + s)}}


def episode(s, e):
    """Episode e (0-based) of show s: seasons of 10."""
    return {"episodeid": s * 100 + e, "tvshowid": s, "season": 1 + e // 10, "episode": 1 + e % 10,
            "title": "Episode %d" % e, "uniqueid": {"tvdb": str(900000 + s * 100 + e)}}


@pytest.fixture
def library(kodi):
    kodi.set_setting("sync_from_simkl", True)
    return VideoLibrary(kodi, movies=[movie(n) for n in range(1, MOVIES + 1)],
                        shows=[show(s) for s in range(1, SHOWS + 1)],
                        episodes=[episode(s, e) for s in range(1, SHOWS + 1) for e in range(EPISODES)])


class ReadCounter:
    """Counts, at the fake Kodi, every movie, show and episode object its Get* answers hold."""

    def __init__(self, kodi):
        self.items = 0
        self.calls = []
        for method in [m for m in kodi.jsonrpc_handlers if m.startswith("VideoLibrary.Get")]:
            kodi.jsonrpc_handlers[method] = self._counting(method, kodi.jsonrpc_handlers[method])

    def _counting(self, method, handler):
        def counted(params):
            result = handler(params)
            self.calls.append((method, params))
            for key in ("movies", "tvshows", "episodes"):
                self.items += len((result or {}).get(key) or [])
            self.items += sum(1 for key in ("moviedetails", "tvshowdetails", "episodedetails") if key in (result or {}))
            return result
        return counted

    def reset(self):
        self.items, self.calls = 0, []


def watch_movie(server, n, at=NEW_AT):
    server.library.watch_movie("Movie %d" % n, 2000, {"imdb": "tt%07d" % n, "tmdb": n}, at)


def watch_episode(server, s, e, at=NEW_AT):
    number = episode(s, e)
    server.library.watch_episodes("Show %d" % s, 2010, {"tvdb": 70000 + s},
                                  [(number["season"], number["episode"], at)])


def first_sync(service, server, clock):
    """Simkl has a few things watched; the first (full) sync marks them and builds the index."""
    watch_movie(server, 1, WATCHED_AT)
    watch_episode(server, 1, 0, WATCHED_AT)
    sync_now(service)
    clock.advance(3600)


def test_a_one_change_sync_reads_only_the_items_simkls_changes_name(service, server, library, kodi, clock):
    first_sync(service, server, clock)
    counter = ReadCounter(kodi)
    watch_movie(server, 1500)
    watch_episode(server, 40, 13)  # season 2 of show 40

    sync_now(service)

    assert (library.movies[1500]["playcount"], library.movies[1500]["lastplayed"]) == (1, kodi_time(NEW_AT))
    assert library.episodes[40 * 100 + 13]["playcount"] == 1
    whole = MOVIES + SHOWS + SHOWS * EPISODES
    # the movie, the show, its season 2 (10 episodes), and one item of each count check
    assert counter.items == 14 and counter.items < 0.01 * whole, counter.calls
    assert [p for m, p in counter.calls if m == "VideoLibrary.GetEpisodes"] == [
        {"tvshowid": 40, "season": 2, "properties": p["properties"]} for m, p in counter.calls
        if m == "VideoLibrary.GetEpisodes"]
    assert "sync: read 14 of Kodi's library items in" in kodi.log_text()
    assert sum(1 for write in library.writes if write[1].get("playcount")) == 4  # 2 at the first sync, 2 now


def test_the_syncs_own_writes_make_the_index_read_nothing_again(service, server, library, kodi, clock):
    for n in range(1, 1001):
        watch_movie(server, n, WATCHED_AT)
    sync_now(service)  # 1,000 writes, each announced by Kodi with VideoLibrary.OnUpdate {"playcount": 1}
    assert sum(1 for m in library.movies.values() if m["playcount"]) == 1000
    clock.advance(3600)
    counter = ReadCounter(kodi)
    watch_movie(server, 1500)

    sync_now(service)

    assert library.movies[1500]["playcount"] == 1
    # the sync's reads (the ratings check after it reads the rated items alone, filtered)
    assert [m for m, p in counter.calls if "filter" not in p] == ["VideoLibrary.GetMovies", "VideoLibrary.GetTVShows",
                                                                  "VideoLibrary.GetMovieDetails"]


def test_a_stale_index_entry_never_marks_a_wrong_item_and_a_full_sync_catches_the_miss(service, server, library,
                                                                                      kodi, clock):
    first_sync(service, server, clock)
    # Behind the index's back (an edit no notification told of): movie 7 now is what movie 5 was, and
    # movie 5 something else. The index still finds movie 5 under movie 5's old ids.
    library.movies[7]["uniqueid"] = dict(library.movies[5]["uniqueid"])
    library.movies[5]["uniqueid"] = {"imdb": "tt9999999"}
    watch_movie(server, 5)

    sync_now(service)

    assert library.movies[5]["playcount"] == 0  # read, and its own ids did not match: never written
    assert library.movies[7]["playcount"] == 0  # missed: the index does not know it yet
    assert not [w for w in library.writes if w[0] == "movie" and w[1]["movieid"] in (5, 7)]

    sync_now(service, full=True)  # "Sync now": a full sync reads the whole library

    assert (library.movies[7]["playcount"], library.movies[7]["lastplayed"]) == (1, kodi_time(NEW_AT))
    assert library.movies[5]["playcount"] == 0


def test_an_item_added_while_the_add_on_did_not_listen_makes_the_sync_read_the_whole_library(service, server,
                                                                                            library, kodi, clock):
    first_sync(service, server, clock)
    library.movies[MOVIES + 1] = dict(movie(MOVIES + 1), playcount=0, lastplayed="")  # no notification
    counter = ReadCounter(kodi)
    watch_movie(server, MOVIES + 1)

    sync_now(service)

    assert library.movies[MOVIES + 1]["playcount"] == 1
    assert counter.items > MOVIES  # Kodi has more movies than the index: it was not used
    assert "the library index cannot be used (Kodi has 2001 movies, the index 2000)" in kodi.log_text()
    counter.reset()
    clock.advance(3600)
    watch_movie(server, 1600)

    sync_now(service)  # the whole read built the index again

    assert library.movies[1600]["playcount"] == 1 and counter.items < 20


def test_the_index_follows_what_a_scan_adds_and_what_kodi_removes(service, server, library, kodi, clock):
    first_sync(service, server, clock)
    new_show = show(SHOWS + 1)
    library.scan_in(movies=[movie(MOVIES + 1)], shows=[new_show],
                    episodes=[episode(SHOWS + 1, e) for e in range(EPISODES)])
    library.remove("movie", 3)
    library.remove("tvshow", 2)
    counter = ReadCounter(kodi)
    watch_movie(server, MOVIES + 1)
    watch_episode(server, SHOWS + 1, 2)

    sync_now(service)

    assert library.movies[MOVIES + 1]["playcount"] == 1
    assert library.episodes[(SHOWS + 1) * 100 + 2]["playcount"] == 1
    # the two added items' ids read once each, then the movie, the show and its season 1
    assert counter.items == 2 + 2 + 2 + 10, counter.calls
    assert "cannot be used" not in kodi.log_text()


def test_a_scan_that_changed_more_than_the_limit_makes_the_sync_read_the_whole_library(service, server, library,
                                                                                      kodi, clock, monkeypatch):
    first_sync(service, server, clock)
    monkeypatch.setattr(library_module, "RECHECK_LIMIT", 3)
    library.scan_in(movies=[movie(n) for n in range(MOVIES + 1, MOVIES + 5)])
    counter = ReadCounter(kodi)
    watch_movie(server, MOVIES + 4)

    sync_now(service)

    assert library.movies[MOVIES + 4]["playcount"] == 1
    assert counter.items > MOVIES and "4 library changes since it was saved" in kodi.log_text()


def test_a_quit_with_changes_not_yet_applied_leaves_no_index_and_the_next_sync_reads_everything(kodi, server, clock,
                                                                                               library):
    from scenario import RunningService, log_in
    log_in(kodi, server)
    first = RunningService(kodi, clock).start()
    first_sync(first, server, clock)
    assert os.path.exists(os.path.join(kodi.profile_dir, INDEX_FILE))
    library.scan_in(movies=[movie(MOVIES + 1)])  # heard, to be read at the next sync: Kodi quits first
    first.stop()
    assert not os.path.exists(os.path.join(kodi.profile_dir, INDEX_FILE))

    second = RunningService(kodi, clock).start()
    try:
        counter = ReadCounter(kodi)
        watch_movie(server, MOVIES + 1)
        sync_now(second)
    finally:
        second.stop()
    assert library.movies[MOVIES + 1]["playcount"] == 1 and counter.items > MOVIES


def test_a_show_completed_on_simkl_reads_each_season_simkl_lists(service, server, library, kodi, clock):
    first_sync(service, server, clock)
    counter = ReadCounter(kodi)
    server.library.list_item("show", "Show 30", 2010, {"tvdb": 70030}, "completed", aired={1: 10, 2: 10})

    sync_now(service)

    reads = [p for m, p in counter.calls if m == "VideoLibrary.GetEpisodes"]
    assert [(p["tvshowid"], p["season"]) for p in reads] == [(30, 1), (30, 2)]
    assert all(library.episodes[30 * 100 + e]["playcount"] == 1 for e in range(EPISODES))


def test_a_show_whose_episodes_simkl_did_not_list_is_read_whole(kodi, library):
    """Completed on Simkl, listed without its episodes: every regular season counts (plan.py), so every
    episode of the show is read."""
    kodi_library = library_module.KodiLibrary(kodi_module.jsonrpc, kodi_module.jsonrpc_batch,
                                              index=LibraryIndex(kodi.profile_dir))
    list(kodi_library.movies())
    kodi_library.shows()  # a whole read: the index is built
    watched = Watched()
    watched.shows["simkl=1"] = WatchedShow({"tvdb": 70030}, listed=False, whole=NEW_AT)
    counter = ReadCounter(kodi)

    named = kodi_library.named(watched)

    assert [p.get("season", -1) for m, p in counter.calls if m == "VideoLibrary.GetEpisodes"] == [-1]
    assert sorted(e["episodeid"] for e, _ in named.episodes) == [30 * 100 + e for e in range(EPISODES)]
    assert {s["tvshowid"] for _, s in named.episodes} == {30}


def test_a_sync_now_is_always_a_whole_read(service, server, library, kodi, clock):
    first_sync(service, server, clock)
    counter = ReadCounter(kodi)

    sync_now(service, full=True)

    assert counter.items == MOVIES + SHOWS + SHOWS * EPISODES


# -- the index alone: what each of Kodi's notifications does -------------------------------------------
@pytest.mark.parametrize("method, data, change", [
    ("VideoLibrary.OnUpdate", {"item": {"type": "movie", "id": 4}, "added": True, "transaction": True},
     {("movie", 4): True}),
    ("VideoLibrary.OnUpdate", {"item": {"type": "tvshow", "id": 2}}, {("tvshow", 2): True}),
    ("VideoLibrary.OnRemove", {"type": "movie", "id": 4, "transaction": True}, {("movie", 4): False}),
    ("VideoLibrary.OnRemove", {"type": "tvshow", "id": "2"}, {("tvshow", 2): False}),
    # a watched mark (the user's, playback's, or one of the sync's own writes): ids unchanged, nothing to read
    ("VideoLibrary.OnUpdate", {"item": {"type": "movie", "id": 4}, "playcount": 1}, {}),
    ("VideoLibrary.OnUpdate", {"item": {"type": "episode", "id": 9}, "added": True}, {}),
    ("VideoLibrary.OnRemove", {"type": "episode", "id": 9}, {}),
    ("VideoLibrary.OnUpdate", {"item": {"type": "movie"}}, {}),
    ("VideoLibrary.OnUpdate", None, {}),
    ("VideoLibrary.OnScanFinished", {"item": {"type": "movie", "id": 4}}, {}),
])
def test_each_notification_is_one_change_or_none(tmp_path, method, data, change):
    index = LibraryIndex(str(tmp_path))

    index.notification(method, data)

    assert index.take_changes() == change


def test_unreadable_notification_data_reaches_the_service_without_harm(service, kodi, library):
    kodi.notify("VideoLibrary.OnRemove", "not json")  # Kodi sends JSON text; this one is not even that
    for monitor in list(kodi.monitors):
        monitor.onNotification("xbmc", "VideoLibrary.OnUpdate", "{broken")
    assert "Traceback" not in kodi.log_text()


def test_an_index_file_of_another_version_is_not_used(tmp_path):
    path = tmp_path / INDEX_FILE
    path.write_text(json.dumps({"version": 0, "movie": {"1": ["imdb=tt0000001"]}, "tvshow": {}}), encoding="utf-8")

    assert LibraryIndex(str(tmp_path)).load() is None



def test_once_kodi_quits_a_sync_still_running_saves_no_index(tmp_path):
    """Kodi's thread quits while the sync thread finishes a whole read: changes heard meanwhile would be
    missing from what it saves."""
    index = LibraryIndex(str(tmp_path))
    index.notification("VideoLibrary.OnUpdate", {"item": {"type": "movie", "id": 4}, "added": True})

    index.quitting()
    index.save(Entries({"movie": {1: ["imdb=tt0000001"]}, "tvshow": {}}))

    assert not (tmp_path / INDEX_FILE).exists()
