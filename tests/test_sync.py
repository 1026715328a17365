"""Two-way sync through the real service: the fake Simkl's library, Kodi's library (fake JSON-RPC),
the outbox; what reaches Kodi, what reaches Simkl, and what is never done."""
import json
import time

import pytest
from fake_simkl_library import cour, tvdb_run
from videolibrary import VideoLibrary

from lib.scrobbler import config
from lib.scrobbler.sync import runner as runner_module
from lib.scrobbler.sync.library import WRITE_BATCH
from lib.scrobbler.sync.plan import kodi_time
from scenario import RunningService, log_in, sync_now, wait_for

INCEPTION = {"movieid": 1, "title": "Inception", "year": 2010, "uniqueid": {"imdb": "tt1375666", "tmdb": "27205"}}
HEAT = {"movieid": 2, "title": "Heat", "year": 1995, "uniqueid": {"imdb": "tt0113277"}}
DUNE = {"movieid": 3, "title": "Dune", "year": 2021, "uniqueid": {"tmdb": "438631"}}
SHOW = {"tvshowid": 3, "title": "The Last of Us", "year": 2023, "uniqueid": {"tvdb": "392256", "imdb": "tt3581920"}}
EPISODES = [{"episodeid": 10 + n, "tvshowid": 3, "season": 1, "episode": n, "title": "Episode %d" % n,
             "uniqueid": {"tvdb": str(900 + n)}} for n in range(1, 5)]
WATCHED_AT = "2026-05-01T20:00:00Z"
LATER = "2026-05-02T21:00:00Z"


@pytest.fixture
def library(kodi):
    kodi.set_setting("sync_from_simkl", True)
    return VideoLibrary(kodi, movies=(INCEPTION, HEAT, DUNE), shows=(SHOW,), episodes=EPISODES)


def simkl_watches(server):
    server.library.watch_movie("Inception", 2010, {"imdb": "tt1375666", "tmdb": 27205}, WATCHED_AT)
    server.library.watch_episodes("The Last of Us", 2023, {"tvdb": 392256}, [(1, 1, WATCHED_AT), (1, 2, LATER)])


def logged(kodi, line):
    """How many times the add-on logged exactly this line."""
    return kodi.log_text().splitlines().count("[%s] %s" % (config.ADDON_ID, line))


def gets(server, path):
    return [r for r in server.requests if r.method == "GET" and r.path.startswith(path)]


def test_the_first_sync_marks_in_kodi_what_simkl_has_watched_with_its_time_and_posts_nothing(service, server, library,
                                                                                              kodi):
    simkl_watches(server)

    sync_now(service)

    assert (library.movies[1]["playcount"], library.movies[1]["lastplayed"]) == (1, kodi_time(WATCHED_AT))
    assert (library.episodes[11]["playcount"], library.episodes[11]["lastplayed"]) == (1, kodi_time(WATCHED_AT))
    assert (library.episodes[12]["playcount"], library.episodes[12]["lastplayed"]) == (1, kodi_time(LATER))
    assert library.movies[2]["playcount"] == 0 and library.episodes[13]["playcount"] == 0
    assert [r.path for r in server.requests if r.method == "POST"] == []  # Kodi's own updates never bounce back
    assert gets(server, "/sync/activities")[0].time <= gets(server, "/sync/all-items")[0].time
    assert server.violations == []
    # the end line bench/bench_sync.py and the real-Kodi tests wait for and read
    assert logged(kodi, "sync: full pull, 3 marked and 0 unmarked in Kodi, 0 writes refused, 5 requests") == 1
    assert [r.path for r in gets(server, "/sync/playback")] == ["/sync/playback"]  # the paused playbacks, all


def test_a_sync_where_nothing_changed_is_one_request(service, server, kodi):
    simkl_watches(server)
    sync_now(service)
    before = len(server.requests)

    sync_now(service)

    assert [r.path for r in server.requests[before:]] == ["/sync/activities"]
    assert logged(kodi, "sync: nothing moved on Simkl since the last sync") == 1  # bench_sync.py reads it


def test_an_empty_delta_of_a_list_other_than_watching_is_not_pulled_again(service, server, library, clock):
    simkl_watches(server)
    sync_now(service)
    clock.advance(3600)
    server.library.touch("movies", "completed")
    before = len(server.requests)

    sync_now(service)

    assert [r.path for r in server.requests[before:]] == ["/sync/activities", "/sync/all-items/movies/completed"]


def test_a_later_sync_pulls_only_what_moved_since_the_saved_time(service, server, library, clock, kodi):
    simkl_watches(server)
    sync_now(service)
    first = gets(server, "/sync/activities")[-1]
    clock.advance(3600)
    server.library.watch_movie("Heat", 1995, {"imdb": "tt0113277"}, "2026-05-02T20:00:00Z")
    before = len(server.requests)

    sync_now(service)

    pulls = [r for r in server.requests[before:] if r.path.startswith("/sync/all-items")]
    assert [r.path for r in pulls] == ["/sync/all-items/movies/completed"]
    assert pulls[0].query["date_from"] and pulls[0].query["date_from"] <= time.strftime(
        "%Y-%m-%dT%H:%M:%SZ", time.gmtime(clock.time()))
    assert library.movies[2]["playcount"] == 1
    assert first.status == 200
    assert logged(kodi, "sync: partial pull, 1 marked and 0 unmarked in Kodi, 0 writes refused, 2 requests") == 1


def test_new_episodes_of_a_show_already_watching_are_found_though_the_delta_misses_them(service, server, library,
                                                                                       clock):
    server.watching_delta_quirk = True
    simkl_watches(server)
    sync_now(service)
    clock.advance(3600)
    server.library.watch_episodes("The Last of Us", 2023, {"tvdb": 392256}, [(1, 3, "2026-05-03T20:00:00Z")])
    before = len(server.requests)

    sync_now(service)

    assert library.episodes[13]["playcount"] == 1
    pulls = [r for r in server.requests[before:] if r.path.startswith("/sync/all-items")]
    assert [(r.path, bool(r.query.get("date_from"))) for r in pulls] == [
        ("/sync/all-items/shows/watching", True), ("/sync/all-items/shows/watching", False)]  # that one list in full


def test_an_incremental_sync_never_unwatches_in_kodi(service, server, library, clock, kodi):
    kodi.set_setting("sync_unwatch", True)
    simkl_watches(server)
    sync_now(service, full=True)
    server.library.remove_movie({"imdb": "tt1375666"})
    clock.advance(3600)

    sync_now(service)
    assert library.movies[1]["playcount"] == 1

    kodi.yesno_answers.append(True)  # one of Kodi's three watched items: asked first
    sync_now(service, full=True)  # "Sync now", with the unwatch setting on
    assert library.movies[1]["playcount"] == 0
    assert [r.path for r in server.requests if r.method == "POST"] == []


def test_without_the_unwatch_setting_a_removal_on_simkl_is_never_mirrored(service, server, library, clock):
    simkl_watches(server)
    sync_now(service, full=True)
    server.library.remove_movie({"imdb": "tt1375666"})
    clock.advance(3600)

    sync_now(service, full=True)

    assert library.movies[1]["playcount"] == 1


def test_the_first_sync_offers_kodis_own_history_once_and_sends_it_through_the_outbox(service, server, library,
                                                                                     kodi):
    library.movies[2].update(playcount=1, lastplayed="2025-12-24 20:15:00")
    library.episodes[14].update(playcount=2, lastplayed="2025-12-25 21:00:00")
    simkl_watches(server)
    kodi.yesno_answers.append(True)

    sync_now(service)
    service.idle()

    assert ("yesno", "Send Kodi's history to Simkl? (asked once)",
            "Kodi has 1 movie and 1 episode as watched that Simkl does not have. Send them to your Simkl history?"
            "[CR]To do it later: add-on settings, under Sync, Send Kodi's watched history to Simkl.") in kodi.dialogs
    posts = [r for r in server.requests_to("/sync/history") if r.status == 201]
    sent = [m["title"] for r in posts for m in r.json.get("movies", [])]
    assert sent == ["Heat"]
    assert all("allow_rewatch" not in r.query for r in posts)
    assert len([w for w in server.watches if w.kind == "episode"]) == 1
    sync_now(service, full=True)
    assert len([d for d in kodi.dialogs if d[0] == "yesno"]) == 1  # asked once


def test_saying_no_sends_nothing_and_is_not_asked_again(service, server, library, kodi):
    library.movies[2].update(playcount=1, lastplayed="2025-12-24 20:15:00")
    kodi.yesno_answers.append(False)

    sync_now(service)
    sync_now(service, full=True)

    assert server.requests_to("/sync/history") == []
    assert len([d for d in kodi.dialogs if d[0] == "yesno"]) == 1


def history_questions(kodi):
    """The yes/no questions other than the unmark one: the offer to send Kodi's history."""
    return [d for d in kodi.dialogs if d[0] == "yesno" and d[1] != "Unmark in Kodi?"]


def start_sync(service):
    """Request a sync of a RunningService and return its runner once the sync runs."""
    runner = service.service.sync
    runner.request()
    runner.wake()
    assert wait_for(lambda: runner.running, 5)
    return runner


def play_something():
    from xbmc import InfoTagVideo

    import fakekodi
    fakekodi.open_file(fakekodi.PlayingFile(InfoTagVideo(media_type="movie", title="X"), "/x.mkv", 7200))


def history_sent(server):
    posts = [r for r in server.requests_to("/sync/history") if r.status == 201]
    return [m["title"] for r in posts for m in r.json.get("movies", [])]


def test_the_history_question_never_comes_over_a_playing_video_nor_the_moment_it_ends(service, server, library, kodi,
                                                                                     clock):
    import fakekodi
    library.movies[2].update(playcount=1, lastplayed="2025-12-24 20:15:00")
    kodi.yesno_answers.append(True)
    play_something()
    runner = start_sync(service)

    assert not wait_for(lambda: history_questions(kodi), 1.0), "asked over a playing video"
    fakekodi.close_file(natural=True)
    runner.wake()
    assert not wait_for(lambda: history_questions(kodi), 0.5), "asked the moment the video ended"
    clock.advance(runner_module.QUIET_AFTER)
    runner.wake()

    assert wait_for(lambda: history_questions(kodi), 5), "never asked once nothing played"
    assert wait_for(lambda: not runner.running, 5)
    service.idle()
    assert history_sent(server) == ["Heat"]


def test_the_history_question_waits_while_a_playlist_goes_on_to_its_next_item(service, server, library, kodi):
    library.movies[2].update(playcount=1, lastplayed="2025-12-24 20:15:00")
    kodi.yesno_answers.append(False)
    kodi.playlist_sizes[1], kodi.playlist_position = 3, 1  # between two items: nothing plays for a moment
    runner = start_sync(service)

    assert not wait_for(lambda: history_questions(kodi), 1.0), "asked between two items of a playlist"
    kodi.playlist_position = -1  # the user stopped the playlist (Kodi resets its playlist player)
    runner.wake()

    assert wait_for(lambda: history_questions(kodi), 5), "never asked once the playlist was over"


def test_a_history_question_kodi_quit_before_is_asked_after_the_next_start(service, server, library, kodi, clock):
    from lib.scrobbler.sync.state import SyncState
    library.movies[2].update(playcount=1, lastplayed="2025-12-24 20:15:00")
    play_something()
    start_sync(service)
    assert wait_for(lambda: SyncState(kodi.profile_dir, server.account.name).full_done, 5)
    assert not wait_for(lambda: history_questions(kodi), 0.5), "asked over a playing video"

    service.stop()
    kodi.player = None
    kodi.yesno_answers.append(True)
    again = RunningService(kodi, clock).start()
    try:
        sync_now(again)
        assert len(history_questions(kodi)) == 1
        assert history_sent(server) == ["Heat"]
    finally:
        again.stop()


def test_a_due_history_question_whose_titles_simkl_got_meanwhile_is_dropped_and_syncs_are_cheap_again(
        service, server, library, kodi, clock):
    from lib.scrobbler.sync.state import SyncState
    library.movies[2].update(playcount=1, lastplayed="2025-12-24 20:15:00")
    play_something()
    start_sync(service)
    assert wait_for(lambda: SyncState(kodi.profile_dir, server.account.name).import_due, 5)
    service.stop()
    kodi.player = None
    server.library.watch_movie("Heat", 1995, {"imdb": "tt0113277"}, WATCHED_AT)  # sent from another device
    again = RunningService(kodi, clock).start()
    try:
        sync_now(again)  # a full one: the question was due
        clock.advance(3600)
        before = len(server.requests)
        sync_now(again)

        assert history_questions(kodi) == []
        assert [r.path for r in server.requests[before:]] == ["/sync/activities"]
    finally:
        again.stop()


def test_the_history_question_names_a_single_title_and_says_where_to_send_it_later(service, server, library, kodi):
    library.movies[2].update(playcount=1, lastplayed="2025-12-24 20:15:00")
    kodi.yesno_answers.append(False)

    sync_now(service)

    assert history_questions(kodi) == [(
        "yesno", "Send Kodi's history to Simkl? (asked once)",
        "Kodi has Heat (1995) as watched, and Simkl does not. Send it to your Simkl history?[CR]"
        "To do it later: add-on settings, under Sync, Send Kodi's watched history to Simkl.")]


def manual_sync(service):
    """Sync now, as the user asks for it (settings or status view)."""
    runner = service.service.sync
    before = runner.completed
    service.service.notification(config.ADDON_ID, "Other." + config.SYNC_MESSAGE, "null")
    assert wait_for(lambda: runner.completed > before and not runner.running, 10)


def test_sync_now_tells_its_end_in_a_few_plain_words(service, server, library, kodi):
    simkl_watches(server)
    manual_sync(service)
    manual_sync(service)

    assert [n[:2] for n in kodi.notifications if n[1].startswith("Sync done")] == [
        ("Simkl", "Sync done: 3 marked in Kodi"), ("Simkl", "Sync done: nothing new")]


def test_sync_now_that_cannot_reach_simkl_says_so_and_that_it_tries_again(service, server, library, kodi):
    server.fail("/sync/activities", 0)

    manual_sync(service)

    assert ("Cannot reach Simkl", "The sync tries again later", "warning") in kodi.notifications


def test_send_history_on_demand_queues_everything_simkl_lacks_and_never_what_it_has(service, server, library, kodi):
    library.movies[1].update(playcount=1, lastplayed="2025-11-01 10:00:00")  # Simkl has it
    library.movies[3].update(playcount=1, lastplayed="")  # Kodi does not know when
    simkl_watches(server)
    runner = service.service.sync
    before = runner.completed
    service.service.notification(config.ADDON_ID, "Other." + config.IMPORT_MESSAGE, "null")
    assert wait_for(lambda: runner.completed > before and not runner.running, 10)
    service.idle()

    posts = [r for r in server.requests_to("/sync/history") if r.status == 201]
    assert [(m["title"], m["watched_at"]) for r in posts for m in r.json.get("movies", [])] == [
        ("Dune", "1970-01-01T00:00:01Z")]
    assert ("Simkl", "1 watch queued for Simkl") in [n[:2] for n in kodi.notifications]


def test_a_sync_waits_while_a_video_plays(service, server, library, kodi):
    from xbmc import InfoTagVideo

    import fakekodi
    simkl_watches(server)
    fakekodi.open_file(fakekodi.PlayingFile(InfoTagVideo(media_type="movie", title="X"), "/x.mkv", 7200))
    runner = service.service.sync
    runner.request()
    runner.wake()
    assert wait_for(lambda: runner.running, 5)

    assert library.writes == []
    kodi.player = None
    assert wait_for(lambda: not runner.running, 10)
    assert library.movies[1]["playcount"] == 1


def test_a_failing_simkl_mid_sync_saves_nothing_and_the_next_sync_does_it_all(service, server, library):
    simkl_watches(server)
    server.fail("/sync/all-items/shows", 503)

    sync_now(service)
    assert library.writes == []

    sync_now(service)
    assert library.movies[1]["playcount"] == 1 and library.episodes[11]["playcount"] == 1


def test_kodis_answers_are_read_per_write_and_a_refused_one_is_logged(service, server, library, kodi):
    simkl_watches(server)
    real = kodi.jsonrpc_handlers["VideoLibrary.SetEpisodeDetails"]

    def refuse_one(params):
        if params["episodeid"] == 11:
            from fakekodi import JsonRpcError
            raise JsonRpcError("Invalid params")
        return real(params)
    kodi.jsonrpc_handlers["VideoLibrary.SetEpisodeDetails"] = refuse_one

    sync_now(service)

    assert library.movies[1]["playcount"] == 1 and library.episodes[12]["playcount"] == 1
    assert any(line.startswith("[%s] sync: Kodi refused episode 11: " % config.ADDON_ID)
               for line in kodi.log_text().splitlines())
    assert logged(kodi, "sync: full pull, 2 marked and 0 unmarked in Kodi, 1 writes refused, 5 requests") == 1


def test_a_big_library_is_written_in_batches_and_read_in_pages(kodi, server, clock):
    kodi.set_setting("sync_from_simkl", True)
    movies = [{"movieid": n, "title": "Movie %d" % n, "year": 2000, "uniqueid": {"imdb": "tt%07d" % n}}
              for n in range(1, 4501)]
    library = VideoLibrary(kodi, movies=movies)
    for movie in movies[:3000]:
        server.library.watch_movie(movie["title"], 2000, movie["uniqueid"], WATCHED_AT)
    log_in(kodi, server)
    running = RunningService(kodi, clock).start()
    try:
        sync_now(running)
    finally:
        running.stop()

    assert sum(1 for m in library.movies.values() if m["playcount"] == 1) == 3000
    # the sync's reads (the ratings check after it reads only the rated ones, filtered: test_ratings_sync.py)
    reads = [p for m, p in kodi.jsonrpc_calls if m == "VideoLibrary.GetMovies" and "filter" not in p]
    assert len(reads) == 3 and all(p["limits"]["end"] - p["limits"]["start"] == 2000 for p in reads)
    assert json.dumps(reads[0]).count("limits") == 1
    assert len(library.writes) == 3000 and WRITE_BATCH == 50


@pytest.mark.parametrize("answer", [["a list"], "text", 42])
def test_a_malformed_answer_stops_the_sync_and_saves_nothing(service, server, library, answer):
    simkl_watches(server)
    server.fail("/sync/all-items/movies", 200, body=answer)

    sync_now(service)
    assert library.writes == [] and "malformed" not in json.dumps(library.movies)

    sync_now(service)
    assert library.movies[1]["playcount"] == 1


@pytest.mark.parametrize("path, answer, told", [
    ("/sync/activities", b"null", "no activities in Simkl's answer"),
    ("/sync/activities", b"[]", "Simkl's answer is not an object"),
    ("/sync/all-items/shows", b'"text"', "Simkl's answer is not an object")])
def test_an_answer_the_sync_cannot_use_is_told_in_one_log_line_with_what_was_wrong(service, server, library, kodi,
                                                                                 path, answer, told):
    simkl_watches(server)
    server.fail(path, 200, body=answer)

    sync_now(service)

    assert library.writes == []
    assert kodi.log_text().count("sync: Simkl could not be asked (Rejected: %s); the next sync tries again"
                                 % told) == 1


def test_a_sync_cut_by_kodis_quit_is_done_again_after_the_next_start(kodi, server, clock, library):
    from xbmc import InfoTagVideo

    import fakekodi
    simkl_watches(server)
    log_in(kodi, server)
    first = RunningService(kodi, clock).start()
    fakekodi.open_file(fakekodi.PlayingFile(InfoTagVideo(media_type="movie", title="X"), "/x.mkv", 7200))
    first.service.sync.request()
    first.service.sync.wake()
    assert wait_for(lambda: first.service.sync.running, 5)  # waiting for the video to end
    first.stop()
    kodi.player = None
    assert library.writes == []

    second = RunningService(kodi, clock).start()
    try:
        sync_now(second)
    finally:
        second.stop()
    assert library.movies[1]["playcount"] == 1 and library.episodes[11]["playcount"] == 1


def test_an_import_of_10000_watches_reaches_simkl_in_batches_of_100(kodi, server, clock):
    kodi.set_setting("sync_from_simkl", True)
    movies = [{"movieid": n, "title": "Movie %d" % n, "year": 2000, "uniqueid": {"imdb": "tt%07d" % n},
               "playcount": 1, "lastplayed": "2025-01-01 10:00:00"} for n in range(1, 10001)]
    VideoLibrary(kodi, movies=movies)
    log_in(kodi, server)
    running = RunningService(kodi, clock).start()
    try:
        runner = running.service.sync
        before = runner.completed
        running.service.notification(config.ADDON_ID, "Other." + config.IMPORT_MESSAGE, "null")
        assert wait_for(lambda: runner.completed > before and not runner.running, 30)
        running.idle(60)
    finally:
        running.stop(within=5)
    posts = [r for r in server.requests_to("/sync/history") if r.status == 201]
    assert len(posts) == 100 and all(len(r.json["movies"]) == 100 for r in posts)
    assert len(server.watches) == 10000 and server.violations == []


def send_history(service):
    """The user's "Send Kodi's watched history to Simkl", run to its end."""
    runner = service.service.sync
    before = runner.completed
    service.service.notification(config.ADDON_ID, "Other." + config.IMPORT_MESSAGE, "null")
    assert wait_for(lambda: runner.completed > before and not runner.running, 10)
    service.idle()


def test_sending_kodis_history_with_mark_in_kodi_off_leaves_everything_to_mark_for_later(service, server, library,
                                                                                          kodi):
    kodi.set_setting("sync_from_simkl", False)
    library.movies[3].update(playcount=1, lastplayed="2025-11-01 10:00:00")
    simkl_watches(server)

    send_history(service)
    assert library.movies[1]["playcount"] == 0  # Mark in Kodi is off: Kodi is left alone
    assert progress_bar(kodi) == [5, 30, 100]
    assert [m["title"] for r in server.requests_to("/sync/history") for m in r.json.get("movies", [])] == ["Dune"]

    kodi.set_setting("sync_from_simkl", True)
    sync_now(service)

    assert (library.movies[1]["playcount"], library.movies[1]["lastplayed"]) == (1, kodi_time(WATCHED_AT))
    assert library.episodes[11]["playcount"] == 1 and library.episodes[12]["playcount"] == 1


def many_movies(kodi, count, watched):
    """A library of `count` movies, the first `watched` of them watched in Kodi and on Simkl."""
    movies = [{"movieid": n, "title": "Movie %d" % n, "year": 2000, "uniqueid": {"imdb": "tt%07d" % n},
               "playcount": 1 if n <= watched else 0, "lastplayed": "2025-01-01 10:00:00" if n <= watched else ""}
              for n in range(1, count + 1)]
    return movies, VideoLibrary(kodi, movies=movies)


def unmark_questions(kodi):
    return [d for d in kodi.dialogs if d[0] == "yesno" and d[1] == "Unmark in Kodi?"]


def progress_bar(kodi):
    """The percentages the progress bar in the corner went through; the sync never changes its text."""
    updates = [(percent, text) for event, percent, text in kodi.background_progress if event == "update"]
    assert all(text == "" for _, text in updates), updates
    return [percent for percent, _ in updates]


def refusing(kodi, movieid):
    """Kodi refuses every write to this movie (an error entry in its batch answer)."""
    real = kodi.jsonrpc_handlers["VideoLibrary.SetMovieDetails"]

    def handler(params):
        if params["movieid"] == movieid:
            from fakekodi import JsonRpcError
            raise JsonRpcError("Invalid params")
        return real(params)
    kodi.jsonrpc_handlers["VideoLibrary.SetMovieDetails"] = handler


def running_with(kodi, server, clock, watched_on_simkl):
    """The service, logged in, with these library movies watched on Simkl."""
    for movie in watched_on_simkl:
        server.library.watch_movie(movie["title"], 2000, movie["uniqueid"], WATCHED_AT)
    log_in(kodi, server)
    return RunningService(kodi, clock).start()


def test_the_progress_bar_shows_the_pull_then_each_write_batch_up_to_100(kodi, server, clock):
    kodi.set_setting("sync_from_simkl", True)
    movies, _ = many_movies(kodi, 120, 0)
    running = running_with(kodi, server, clock, movies)
    try:
        sync_now(running)  # the first sync of a login shows the bar
    finally:
        running.stop()

    # the pull is the first 30 %, each batch of 50 writes its share of the rest
    assert progress_bar(kodi) == [5, 30, 30 + 70 * 50 // 120, 30 + 70 * 100 // 120, 100, 100]


def test_the_end_line_counts_what_kodi_took_refused_and_unmarked_over_several_batches(kodi, server, clock):
    kodi.set_setting("sync_from_simkl", True)
    kodi.set_setting("sync_unwatch", True)
    movies, library = many_movies(kodi, 120, 0)
    refusing(kodi, 7)
    running = running_with(kodi, server, clock, movies[:110])
    try:
        sync_now(running, full=True)
        assert logged(kodi, "sync: full pull, 109 marked and 0 unmarked in Kodi, 1 writes refused, 5 requests") == 1

        for movie in movies[50:110]:
            server.library.remove_movie(movie["uniqueid"])
        for movie in movies[110:]:
            server.library.watch_movie(movie["title"], 2000, movie["uniqueid"], LATER)
        clock.advance(3600)
        kodi.yesno_answers.append(True)
        sync_now(running, full=True)
    finally:
        running.stop()

    assert logged(kodi, "sync: full pull, 10 marked and 60 unmarked in Kodi, 1 writes refused, 5 requests") == 1
    assert sum(1 for m in library.movies.values() if m["playcount"]) == 59


@pytest.mark.parametrize("kodi_read", ["named items", "whole library"])
def test_with_unwatch_on_a_partial_sync_never_asks_nor_unmarks(service, server, library, clock, kodi, kodi_read):
    kodi.set_setting("sync_unwatch", True)
    simkl_watches(server)
    sync_now(service, full=True)
    clock.advance(3600)
    server.library.watch_movie("Heat", 1995, {"imdb": "tt0113277"}, LATER)
    if kodi_read == "whole library":  # a movie added while the add-on was not listening: the index is not trusted
        library.movies[4] = {"movieid": 4, "title": "Ronin", "year": 1998, "uniqueid": {"imdb": "tt0122690"},
                             "playcount": 0, "lastplayed": ""}

    sync_now(service)  # pulls only the movies that moved: never taken as all Simkl has

    assert library.movies[2]["playcount"] == 1
    assert unmark_questions(kodi) == []
    assert [library.movies[1]["playcount"], library.episodes[11]["playcount"], library.episodes[12]["playcount"]] == [
        1, 1, 1]


def test_saying_no_to_the_unmark_question_still_marks_what_simkl_has_newly_watched(kodi, server, clock):
    kodi.set_setting("sync_from_simkl", True)
    kodi.set_setting("sync_unwatch", True)
    movies, library = many_movies(kodi, 30, 25)
    running = running_with(kodi, server, clock, movies[:25])
    try:
        sync_now(running, full=True)
        for movie in movies[:21]:
            server.library.remove_movie(movie["uniqueid"])
        server.library.watch_movie("Movie 30", 2000, movies[29]["uniqueid"], LATER)
        clock.advance(3600)
        kodi.yesno_answers.append(False)

        sync_now(running, full=True)
    finally:
        running.stop()

    assert len(unmark_questions(kodi)) == 1
    assert (library.movies[30]["playcount"], library.movies[30]["lastplayed"]) == (1, kodi_time(LATER))
    assert all(library.movies[n]["playcount"] == 1 for n in range(1, 26))  # "no": nothing unmarked


@pytest.mark.parametrize("watched_movies, unwatched_movies, watched_episodes, unwatched_episodes, asked", [
    (1, 0, 40, 0, False),  # one unmark of 41 watched items (the episodes count too) is not over 5 %
    (2, 30, 0, 30, True),  # one of 2 watched is: Kodi's unwatched movies and episodes do not count
])
def test_the_unmark_share_is_of_what_kodi_has_as_watched_movies_and_episodes_alike(
        kodi, server, clock, watched_movies, unwatched_movies, watched_episodes, unwatched_episodes, asked):
    kodi.set_setting("sync_from_simkl", True)
    kodi.set_setting("sync_unwatch", True)
    movies = [{"movieid": n, "title": "Movie %d" % n, "year": 2000, "uniqueid": {"imdb": "tt%07d" % n},
               "playcount": 1 if n <= watched_movies else 0, "lastplayed": "2025-01-01 10:00:00"}
              for n in range(1, watched_movies + unwatched_movies + 1)]
    episodes = [{"episodeid": 100 + n, "tvshowid": 3, "season": 1, "episode": n, "title": "Episode %d" % n,
                 "playcount": 1 if n <= watched_episodes else 0, "lastplayed": "2025-01-01 10:00:00"}
                for n in range(1, watched_episodes + unwatched_episodes + 1)]
    library = VideoLibrary(kodi, movies=movies, shows=(SHOW,), episodes=episodes)
    server.library.watch_episodes("The Last of Us", 2023, {"tvdb": 392256},
                                  [(1, n, WATCHED_AT) for n in range(1, watched_episodes + 1)])
    running = running_with(kodi, server, clock, movies[:watched_movies])
    try:
        sync_now(running, full=True)
        server.library.remove_movie(movies[0]["uniqueid"])
        clock.advance(3600)

        sync_now(running, full=True)  # "no" if asked
    finally:
        running.stop()

    assert len(unmark_questions(kodi)) == asked
    assert library.movies[1]["playcount"] == (1 if asked else 0)


def test_the_log_line_of_items_left_out_says_how_many_and_names_the_first_three(service, server, library, kodi):
    ids = [{"imdb": "tt%07d" % n} for n in range(1, 5)]
    for n, movie_ids in enumerate(ids, 1):
        server.library.watch_movie("Movie %d" % n, 2000, movie_ids, WATCHED_AT)
        server.library.malform("movie", movie_ids, "watched_at")

    sync_now(service)

    named = ["simkl=%s: unreadable time 'last Tuesday'" % server.library.simkl_id("movie", movie_ids)
             for movie_ids in ids[:3]]
    assert logged(kodi, "sync: 4 items in Simkl's answer could not be read and were left out, e.g. %s"
                  % "; ".join(named)) == 1


@pytest.mark.parametrize("watched, removed, asked", [
    (1000, 20, False),  # 20 of 1000: at the limit, not over it
    (1000, 21, True),  # more than 20
    (100, 5, False),  # 5 % of Kodi's watched items
    (100, 6, True),  # more than 5 %
    (10, 1, True),  # one of ten is more than 5 %
    (19, 1, True),  # one of 19 is more than 5 %
    (20, 1, False),  # one of 20 is 5 %
])
def test_a_full_sync_that_would_unmark_many_asks_first_and_says_how_many(kodi, server, clock, watched, removed,
                                                                         asked):
    kodi.set_setting("sync_from_simkl", True)
    kodi.set_setting("sync_unwatch", True)
    movies, library = many_movies(kodi, watched, watched)
    for movie in movies:
        server.library.watch_movie(movie["title"], 2000, movie["uniqueid"], WATCHED_AT)
    log_in(kodi, server)
    running = RunningService(kodi, clock).start()
    try:
        sync_now(running, full=True)
        for movie in movies[:removed]:
            server.library.remove_movie(movie["uniqueid"])
        clock.advance(3600)
        kodi.yesno_answers.append(False)

        sync_now(running, full=True)
        left = sum(1 for m in library.movies.values() if m["playcount"] == 1)
        if asked:
            message = "Your Simkl history no longer has %s that Kodi has as watched. Mark as unwatched in Kodi?" % (
                "1 movie" if removed == 1 else "%d movies" % removed)
            assert unmark_questions(kodi) == [("yesno", "Unmark in Kodi?", message)]
            assert left == watched  # "no": nothing unmarked

            kodi.yesno_answers.append(True)
            sync_now(running, full=True)  # asked again, since nothing was unmarked
            assert len(unmark_questions(kodi)) == 2
        else:
            assert unmark_questions(kodi) == []
        assert sum(1 for m in library.movies.values() if m["playcount"] == 1) == watched - removed
    finally:
        running.stop()


def test_the_unmark_question_counts_movies_and_episodes_apart_and_waits_for_the_video_to_end(service, server,
                                                                                               library, kodi, clock):
    from xbmc import InfoTagVideo

    import fakekodi
    kodi.set_setting("sync_unwatch", True)
    simkl_watches(server)
    sync_now(service, full=True)
    server.library.remove_movie({"imdb": "tt1375666"})
    server.library.unwatch_episodes({"tvdb": 392256}, [(1, 1), (1, 2)])
    clock.advance(3600)
    fakekodi.open_file(fakekodi.PlayingFile(InfoTagVideo(media_type="movie", title="X"), "/x.mkv", 7200))
    kodi.yesno_answers.append(True)
    runner = service.service.sync
    runner.request(full=True)
    runner.wake()
    assert wait_for(lambda: runner.running, 5)
    assert unmark_questions(kodi) == []  # never over a playing video

    kodi.player = None
    clock.advance(runner_module.QUIET_AFTER)  # nor the moment it ended
    runner.wake()
    assert wait_for(lambda: not runner.running, 10)
    assert unmark_questions(kodi) == [("yesno", "Unmark in Kodi?", "Your Simkl history no longer has 1 movie and 2 "
                                       "episodes that Kodi has as watched. Mark as unwatched in Kodi?")]
    assert library.movies[1]["playcount"] == 0 and library.episodes[11]["playcount"] == 0


# -- issue 17: the sync against what Simkl really sends (tests/fake_simkl_library.py names its sources) --

AOT_SHOW = {"tvshowid": 7, "title": "Attack on Titan", "year": 2013, "uniqueid": {"tvdb": "267440", "tmdb": "1429"}}
AOT_EPISODES = [{"episodeid": 70 + 10 * season + number, "tvshowid": 7, "season": season, "episode": number,
                 "title": "S%dE%d" % (season, number)} for season in (1, 2) for number in (1, 4)]
SPIRITED_AWAY = {"movieid": 9, "title": "Spirited Away", "year": 2001,
                 "uniqueid": {"tmdb": "129", "imdb": "tt0245429"}}


@pytest.fixture
def anime_library(kodi):
    kodi.set_setting("sync_from_simkl", True)
    return VideoLibrary(kodi, movies=(SPIRITED_AWAY,), shows=(AOT_SHOW,), episodes=AOT_EPISODES)


def test_a_show_completed_on_simkl_is_marked_in_kodi(service, server, library):
    server.library.watch_episodes("The Last of Us", 2023, {"tvdb": 392256}, [(1, 1, WATCHED_AT), (1, 2, LATER)],
                                  completed=True)

    sync_now(service)

    assert [library.episodes[n]["playcount"] for n in (11, 12, 13, 14)] == [1, 1, 0, 0]  # what Simkl lists, no more
    assert library.episodes[12]["lastplayed"] == kodi_time(LATER)


def test_finishing_a_show_on_simkl_never_unmarks_its_episodes_in_kodi(service, server, library, clock, kodi):
    kodi.set_setting("sync_unwatch", True)
    simkl_watches(server)
    sync_now(service, full=True)
    clock.advance(3600)
    server.library.watch_episodes("The Last of Us", 2023, {"tvdb": 392256}, [(1, 3, LATER)], completed=True)

    sync_now(service, full=True)  # "Sync now", with the unwatch setting on

    assert [library.episodes[n]["playcount"] for n in (11, 12)] == [1, 1]


def test_an_anime_season_simkl_keeps_as_its_own_entry_marks_the_kodi_episode_at_its_tvdb_position(
        service, server, anime_library):
    server.library.anime_series("Attack on Titan", 2013, {"tvdb": 267440, "tmdb": 1429}, cours=[
        cour("Shingeki no Kyojin", {"simkl": 39687, "mal": 16498}, tvdb_run(1, 1, 25)),
        cour("Shingeki no Kyojin Season 2", {"simkl": 439744, "mal": 25777}, tvdb_run(2, 1, 12))])
    server.library.watch_episodes(None, None, {"simkl": 39687}, [(1, 1, WATCHED_AT)])
    server.library.watch_episodes(None, None, {"simkl": 439744}, [(1, 4, LATER)])  # TVDB S02E04

    sync_now(service)

    marked = sorted((e["season"], e["episode"]) for e in anime_library.episodes.values() if e["playcount"])
    assert marked == [(1, 1), (2, 4)]


def test_an_anime_film_simkl_files_in_its_anime_list_is_marked_in_kodi(service, server, anime_library):
    server.library.watch_anime_movie("Spirited Away", 2001, {"simkl": 39079, "mal": 199, "tmdb": 129,
                                                             "imdb": "tt0245429"}, WATCHED_AT)

    sync_now(service)

    assert anime_library.movies[9]["playcount"] == 1


@pytest.mark.parametrize("style", [(3, "Z"), (6, "Z"), (0, "+09:00")])
def test_simkls_time_styles_give_kodi_the_same_lastplayed(service, server, library, style):
    server.library.time_style = style
    simkl_watches(server)

    sync_now(service)

    assert (library.episodes[12]["playcount"], library.episodes[12]["lastplayed"]) == (1, kodi_time(LATER))


@pytest.mark.parametrize("defect", ["episode_number", "season_number", "watched_at", "null_watched_at", "no_ids"])
def test_one_malformed_field_never_stops_the_rest_of_the_sync(service, server, library, kodi, defect):
    kodi.set_setting("sync_unwatch", True)  # the full sync also keeps what Simkl has, for the next one's unmarks
    simkl_watches(server)
    server.library.malform("show", {"tvdb": 392256}, defect)  # in the row of S01E01, or the whole show's ids

    sync_now(service)

    assert library.movies[1]["playcount"] == 1
    assert kodi.log_text().count("sync: full pull, ") == 1  # to its end
    # a null time is "date unknown", not a defect; the others are told in one log line per sync
    assert kodi.log_text().count("could not be read and were left out") == (defect != "null_watched_at")
    if defect not in ("season_number", "no_ids"):  # those leave nothing usable of the season or the show
        assert (library.episodes[12]["playcount"], library.episodes[12]["lastplayed"]) == (1, kodi_time(LATER))


def test_the_sync_logs_how_many_of_kodis_library_items_it_read(service, server, library, kodi):
    simkl_watches(server)

    sync_now(service)

    # 3 movies, 1 show and 4 episodes, one page each (bench/bench_sync.py reads this line)
    assert "sync: read 8 of Kodi's library items in 3 calls" in kodi.log_text()


# -- the engine alone: the fake Simkl over HTTP, Kodi's library on the fake JSON-RPC ----------------

def test_the_engine_lists_kodis_history_to_send_only_after_a_full_pull_that_asked_for_it(kodi, server, clock,
                                                                                         library):
    from lib.scrobbler import kodi as boundary
    from lib.scrobbler.simkl import api, auth
    from lib.scrobbler.sync.engine import Options, SyncEngine
    from lib.scrobbler.sync.library import KodiLibrary
    library.movies[3].update(playcount=1, lastplayed="2025-11-01 10:00:00")  # Dune: watched in Kodi only
    simkl_watches(server)
    log_in(kodi, server)
    tokens = auth.TokenProvider(auth.TokenStore(kodi.profile_dir), clock=clock)
    client = api.Client(server.url, server.client_id, "kodi-simkl", "0.1.0", "20.1", tokens=tokens, clock=clock,
                        sleep=clock.sleep)
    tokens.client = client
    progress = []
    engine = SyncEngine(client, KodiLibrary(boundary.jsonrpc, boundary.jsonrpc_batch), kodi.profile_dir, "user",
                        progress=lambda percent, message: progress.append(percent))

    first = engine.run(Options(full=True, collect_import=True))
    assert [item.title for item, _ in first.to_send] == ["Dune"]
    assert (progress[-1], max(progress)) == (100, 100)
    progress.clear()
    assert engine.run(Options(full=True, to_kodi=False, collect_import=True)).to_send == first.to_send
    assert (progress[-1], max(progress)) == (100, 100)

    clock.advance(3600)
    server.library.watch_movie("Heat", 1995, {"imdb": "tt0113277"}, LATER)
    partial = engine.run(Options(collect_import=True))
    assert (partial.full, partial.marked, partial.to_send) == (False, 1, [])  # Simkl's side only partly known

    assert engine.run(Options(full=True)).to_send == []  # not asked for
