"""Live "Watching now" through the real service, the Kodi fakes and the fake Simkl's /scrobble/*:
what is sent on which player event, the 20-second lock, and exactly one history entry per watch
across /scrobble/stop and /sync/history."""
import threading
import time

import pytest
from test_anime import FRIEREN, FRIEREN_E19, anime_tag
from xbmc import InfoTagVideo

import fakekodi
from lib.scrobbler.delivery.holds import Holds
from lib.scrobbler.delivery.live import LOCK_SECONDS, QUIET, RECORD_RETRY, Live, live_ids, progress_of
from lib.scrobbler.delivery.outbox import Outbox
from lib.scrobbler.media import Episode, Movie, Show
from lib.scrobbler.playback.player import Tracked
from lib.scrobbler.playback.resolve import PlayingItem
from lib.scrobbler.playback.watch import Playback
from lib.scrobbler.simkl import api, auth
from lib.scrobbler.simkl.account import current_owner
from scenario import (
    EPISODE,
    MOVIE,
    SHOW,
    RunningService,
    episode_tag,
    install_library,
    iso,
    log_in,
    movie_tag,
    wait_for,
)

INCEPTION = "movie:imdb=tt1375666"
INCEPTION_BODY = {"title": "Inception", "year": 2010, "ids": {"imdb": "tt1375666", "tmdb": 27205}}


TRAILER = {"movieid": 9, "title": "Inception Trailer", "year": 2010, "uniqueid": {"imdb": "tt1375666"},
           "file": "/media/movies/Inception (2010)/Inception-trailer.mkv"}  # a library item with ids, 2 min long


@pytest.fixture
def service(kodi, server, clock):
    install_library(kodi, movies=(MOVIE, TRAILER), shows=(SHOW, FRIEREN), episodes=(EPISODE, FRIEREN_E19))
    log_in(kodi, server)
    kodi.set_setting("live_scrobble", True)
    running = RunningService(kodi, clock).start()
    yield running
    server.release()
    if running.thread.is_alive():
        running.stop()


def scrobbles(server):
    """(endpoint, progress, HTTP status, Simkl's action) of every /scrobble/* request, in order."""
    return [(r.path.rsplit("/", 1)[1], r.json["progress"], r.status, (r.answer or {}).get("action"))
            for r in server.requests if r.path.startswith("/scrobble/")]


def history_posts(server):
    return server.requests_to("/sync/history")


def outbox_counts(service, clock):
    with Outbox(service.service.outbox.path, clock=clock, account=current_owner) as outbox:
        return {k: v for k, v in outbox.counts().items() if v}


def progress(position, total):
    return round(position / total * 100, 2)


def play_and_close(service, tag, path, total, stop_at=None, wait=True):
    """Play an item from its start to its end (or a stop at `stop_at` s); returns the wall-clock moment
    it ended. With wait, the live scrobbler acts on the end before this returns."""
    fakekodi.open_file(fakekodi.PlayingFile(tag, path, total))
    service.live_step()
    service.play_to(total if stop_at is None else stop_at)
    finished = service.clock.wall()
    fakekodi.close_file(natural=stop_at is None)
    if wait:
        service.live_step()
    else:
        service.service.live.kick()
    return finished


# --- what is sent on which event ----------------------------------------------------------------------

def test_a_movie_played_to_its_end_goes_live_and_its_stop_is_the_history_entry(service, server, kodi, clock):
    service.play(movie_tag(), MOVIE["file"], total=7200)
    service.idle()

    assert scrobbles(server) == [("start", progress(60, 7200), 201, "start"), ("stop", 100.0, 201, "scrobble")]
    assert server.requests_to("/scrobble/start")[0].json == {"progress": progress(60, 7200), "movie": INCEPTION_BODY}
    assert history_posts(server) == []
    assert server.history_entries(INCEPTION) == 1
    assert outbox_counts(service, clock) == {"sent": 1}
    assert ("Watched on Simkl", "Inception (2010)", "info") in kodi.notifications
    assert server.violations == []


def test_pause_and_resume_send_pause_then_start_with_the_position(service, server, clock):
    fakekodi.open_file(fakekodi.PlayingFile(movie_tag(), MOVIE["file"], 7200))
    service.live_step()
    service.play_to(1800)
    fakekodi.pause()
    service.wait(600)  # ten minutes away from the screen
    fakekodi.resume()
    service.play(movie_tag(), MOVIE["file"], total=7200)
    service.idle()

    assert scrobbles(server) == [("start", progress(60, 7200), 201, "start"), ("pause", 25.0, 201, "pause"),
                                 ("start", progress(1860, 7200), 201, "start"), ("stop", 100.0, 201, "scrobble")]
    assert history_posts(server) == [] and server.history_entries(INCEPTION) == 1


def test_a_quick_pause_and_resume_sends_nothing(service, server, clock):
    fakekodi.open_file(fakekodi.PlayingFile(movie_tag(), MOVIE["file"], 7200))
    service.live_step()
    service.play_to(1800)
    fakekodi.pause()
    service.wait(1)
    fakekodi.resume()
    service.play(movie_tag(), MOVIE["file"], total=7200)
    service.idle()

    assert [s[0] for s in scrobbles(server)] == ["start", "stop"]


def test_a_seek_storm_is_one_start_once_it_settles_and_the_lock_never_refuses(service, server, clock):
    fakekodi.open_file(fakekodi.PlayingFile(movie_tag(), MOVIE["file"], 7200))
    service.live_step()
    service.play_to(600)
    for target in range(900, 5700, 300):  # sixteen seeks in eight seconds, as a user hunting for a scene
        fakekodi.seek(target)
        service.wait(0.5)
    service.play(movie_tag(), MOVIE["file"], total=7200)
    service.idle()

    assert scrobbles(server) == [("start", progress(60, 7200), 201, "start"),
                                 ("start", progress(5460, 7200), 201, "start"), ("stop", 100.0, 201, "scrobble")]


def test_simkls_lock_answer_is_later_not_an_error(service, server, kodi, clock):
    # Another device of the same user scrobbled a moment ago: Simkl's lock refuses the first start.
    server.fail("/scrobble/start", 400, body={"error": "RATE_LIMIT", "code": 400, "message": "Please wait"})
    fakekodi.open_file(fakekodi.PlayingFile(movie_tag(), MOVIE["file"], 7200))
    service.live_step()
    service.play_to(60)
    service.wait(LOCK_SECONDS - 1)
    assert [s[2] for s in scrobbles(server)] == [400]
    service.wait(1)

    assert [s[:3] for s in scrobbles(server)] == [("start", progress(60, 7200), 400),
                                                  ("start", progress(60, 7200), 201)]
    assert "Traceback" not in kodi.log_text() and not [m for level, m in kodi.log if level >= 3]


def test_a_playlist_stops_the_first_item_before_it_starts_the_next_after_the_lock(service, server, clock):
    movie = fakekodi.PlayingFile(movie_tag(), MOVIE["file"], 7200)
    service.play(episode_tag(), EPISODE["file"], total=3000, next_file=movie)  # ends, the movie follows
    service.play(movie_tag(), MOVIE["file"], total=7200, stop_at=2880, ended=False)  # stopped at 40 %
    service.idle()

    assert scrobbles(server) == [("start", progress(60, 3000), 201, "start"), ("stop", 100.0, 201, "scrobble"),
                                 ("start", progress(LOCK_SECONDS // 60 * 60 + 60, 7200), 201, "start"),
                                 ("stop", 40.0, 201, "pause")]
    stop, start = server.requests_to("/scrobble/stop")[0], server.requests_to("/scrobble/start")[1]
    assert start.time - stop.time >= LOCK_SECONDS
    assert server.requests_to("/scrobble/start")[0].json["show"] == {
        "title": "The Last of Us", "year": 2023, "ids": {"imdb": "tt3581920", "tmdb": 100088, "tvdb": 392256},
        "use_tvdb_anime_seasons": True}
    assert history_posts(server) == []
    assert server.now_playing == {INCEPTION: ("paused", 40.0)}  # resumable on another device


def test_nothing_goes_live_for_clips_live_tv_excluded_items_or_items_without_ids(service, server, kodi):
    kodi.set_setting("exclude_folder1", "/media/excluded")
    service.service.settings_changed()
    service.play(movie_tag(TRAILER), TRAILER["file"], total=120)
    kodi.conditions["PVR.IsPlayingTV"] = True
    channel = InfoTagVideo(media_type="", title="News", path="pvr://channels/tv/1.pvr")
    service.play(channel, "pvr://channels/tv/1.pvr", total=3600)
    kodi.conditions["PVR.IsPlayingTV"] = False
    excluded = InfoTagVideo(media_type="movie", title="Heat", year=1995, path="/media/excluded/Heat.mkv")
    service.play(excluded, "/media/excluded/Heat.mkv", total=6000)
    unknown = InfoTagVideo(media_type="movie", title="Home Video", path="/media/home/holiday.mkv")
    service.play(unknown, "/media/home/holiday.mkv", total=3600)  # no ids, and the file search finds nothing
    service.idle()

    assert scrobbles(server) == []
    assert [r.json for r in server.requests_to("/search/file")] == [{"file": "home/holiday.mkv"}]  # asked once


def test_with_live_scrobbling_off_only_the_history_write_goes(service, server, kodi):
    kodi.set_setting("live_scrobble", False)
    service.play(movie_tag(), MOVIE["file"], total=7200)
    service.idle()

    assert scrobbles(server) == []
    assert [r.status for r in history_posts(server)] == [201] and server.history_entries(INCEPTION) == 1


# --- exactly one history entry per watch, across both endpoints ----------------------------------------

def test_a_stop_below_80_that_is_a_watch_by_a_70_percent_threshold_goes_to_history_once(service, server, kodi,
                                                                                        clock):
    kodi.set_setting("threshold", 70)
    service.service.settings_changed()
    stopped = play_and_close(service, movie_tag(), MOVIE["file"], 7200, stop_at=5400)
    service.idle()

    assert scrobbles(server)[-1] == ("stop", 75.0, 201, "pause")  # Simkl keeps a resumable playback
    assert [r.json for r in history_posts(server)] == [{"movies": [dict(INCEPTION_BODY, watched_at=iso(stopped))]}]
    assert server.history_entries(INCEPTION) == 1
    assert outbox_counts(service, clock) == {"sent": 1}


def test_a_stop_at_85_percent_that_the_users_90_percent_does_not_count_is_a_pause_not_a_watch(service, server,
                                                                                              kodi, clock):
    kodi.set_setting("threshold", 90)
    service.service.settings_changed()
    service.play(movie_tag(), MOVIE["file"], total=7200, stop_at=6120, ended=False)
    service.idle()

    assert scrobbles(server)[-1] == ("pause", 85.0, 201, "pause")
    assert history_posts(server) == [] and server.history_entries(INCEPTION) == 0


def test_a_failing_stop_leaves_the_watch_to_the_outbox_which_sends_it_once_simkl_recovers(service, server, clock):
    server.fail("/scrobble/stop", 503)
    server.fail("/sync/history", 503)
    finished = play_and_close(service, movie_tag(), MOVIE["file"], 7200)
    service.idle()
    assert [s[:3] for s in scrobbles(server)][-1] == ("stop", 100.0, 503)
    assert [r.status for r in history_posts(server)] == [503]

    clock.advance(3600)
    service.retry_now()
    service.idle()

    assert [r.status for r in history_posts(server)] == [503, 201]
    assert history_posts(server)[-1].json == {"movies": [dict(INCEPTION_BODY, watched_at=iso(finished))]}
    assert server.history_entries(INCEPTION) == 1
    first_history = history_posts(server)[0].time
    assert not [r for r in server.requests if r.path.startswith("/scrobble/") and r.time > first_history]


def test_a_409_on_the_stop_means_simkl_has_it_and_nothing_else_is_sent(service, server, clock):
    server.fail("/scrobble/stop", 409, body={"watched_at": iso(clock.wall() - 600),
                                             "expires_at": iso(clock.wall() + 3000)})
    service.play(movie_tag(), MOVIE["file"], total=7200)
    service.idle()
    clock.advance(3600)
    service.retry_now()
    service.idle()

    assert [s[:3] for s in scrobbles(server)] == [("start", progress(60, 7200), 201), ("stop", 100.0, 409)]
    assert history_posts(server) == []
    assert outbox_counts(service, clock) == {"sent": 1}


def test_kodi_quitting_while_the_stop_is_unanswered_gives_exactly_one_history_entry_after_the_restart(
        kodi, server, clock, service):
    server.hold("/scrobble/stop")  # Simkl takes the stop, but its answer never reaches Kodi
    finished = play_and_close(service, movie_tag(), MOVIE["file"], 7200, wait=False)
    assert wait_for(lambda: server.requests_to("/scrobble/stop"))
    for _ in range(3):  # meanwhile the sender runs, is kicked, and time passes: it never posts the held watch
        clock.advance(600)
        service.service.kick()
        assert wait_until_worker_idle(service)
    assert history_posts(server) == []
    assert outbox_counts(service, clock) == {"pending": 1}

    service.stop(within=1.0)  # Kodi quits: the stop in flight is cut
    server.release()  # Simkl had it: the fake writes the history entry into a closed connection
    assert wait_for_status(server.requests_to("/scrobble/stop")[0])
    assert server.history_entries(INCEPTION) == 1

    restarted = RunningService(kodi, clock).start()
    restarted.idle()
    restarted.stop()

    assert [r.status for r in history_posts(server)] == [201]
    assert history_posts(server)[0].json == {"movies": [dict(INCEPTION_BODY, watched_at=iso(finished))]}
    assert server.history_entries(INCEPTION) == 1  # Simkl's re-add of a watched title is a no-op


def test_live_events_never_wait_on_simkl_in_kodis_callbacks(service, server, clock):
    server.hold("/scrobble/start")  # Simkl hangs on the start
    fakekodi.open_file(fakekodi.PlayingFile(movie_tag(), MOVIE["file"], 7200))
    service.live_step()
    clock.advance(60)
    service.service.live.kick()
    assert wait_for(lambda: server.requests_to("/scrobble/start"))  # the live thread waits on it, not Kodi

    def kodis_callbacks():
        fakekodi.pause()
        fakekodi.resume()
        fakekodi.seek(7000)
        fakekodi.close_file(natural=True)
    # Simkl holds its answer until release(): a callback that waited on it would never return. The
    # bound is generous, as a loaded machine may be slow (a 0.5 s bound once failed under load).
    callbacks = threading.Thread(target=kodis_callbacks, daemon=True)
    callbacks.start()
    callbacks.join(10)
    assert not callbacks.is_alive(), "a Kodi callback waits on Simkl's held answer"
    with Outbox(service.service.outbox.path, clock=clock, account=current_owner) as outbox:
        assert len(outbox.unresolved()) + outbox.counts()["pending"] == 1  # the watch is in the outbox already
    server.release()
    service.idle()
    clock.advance(LOCK_SECONDS)
    service.idle()

    assert server.history_entries(INCEPTION) == 1
    assert len(history_posts(server)) + len([s for s in scrobbles(server) if s[3] == "scrobble"]) == 1


def test_a_start_simkl_failed_is_never_sent_again_later(service, server, clock):
    server.fail("/scrobble/start", 503)
    fakekodi.open_file(fakekodi.PlayingFile(movie_tag(), MOVIE["file"], 7200))
    service.live_step()
    service.play_to(3600)
    service.wait(3600)

    assert [s[:3] for s in scrobbles(server)] == [("start", progress(60, 7200), 503)]


# --- anime ---------------------------------------------------------------------------------------------

def test_an_anime_episode_goes_live_in_the_guides_shape(service, server, clock):
    server.anime_ids.add("tvdb=424536")  # Simkl files it as anime: without the flag it would answer 404
    service.play(anime_tag(FRIEREN_E19, FRIEREN), FRIEREN_E19["file"], total=1440)
    service.idle()

    assert server.requests_to("/scrobble/start")[0].json == {
        "progress": progress(60, 1440),
        "show": {"title": "Frieren: Beyond Journey's End", "year": 2023, "ids": {"tvdb": 424536, "tmdb": 209867},
                 "use_tvdb_anime_seasons": True},
        "episode": {"season": 1, "number": 19}}
    assert [s[:3] for s in scrobbles(server)][-1] == ("stop", 100.0, 201)
    assert history_posts(server) == [] and server.violations == []


def test_a_404_for_an_anime_episodes_stop_falls_back_to_the_history_write(service, server, clock):
    server.fail("/scrobble/stop", 404)
    finished = play_and_close(service, anime_tag(FRIEREN_E19, FRIEREN), FRIEREN_E19["file"], 1440)
    service.idle()

    assert [s[:3] for s in scrobbles(server)][-1] == ("stop", 100.0, 404)
    assert [r.json for r in history_posts(server)] == [{"shows": [{
        "title": "Frieren: Beyond Journey's End", "year": 2023, "ids": {"tvdb": 424536, "tmdb": 209867},
        "use_tvdb_anime_seasons": True,
        "seasons": [{"number": 1, "episodes": [{"number": 19, "watched_at": iso(finished)}]}]}]}]


def test_after_a_404_on_the_start_nothing_more_is_sent_live_and_the_watch_goes_to_history(service, server, clock):
    server.fail("/scrobble/start", 404)
    service.play(anime_tag(FRIEREN_E19, FRIEREN), FRIEREN_E19["file"], total=1440)
    service.idle()

    assert [s[:3] for s in scrobbles(server)] == [("start", progress(60, 1440), 404)]
    assert [r.status for r in history_posts(server)] == [201]


# --- the numbers the README states ---------------------------------------------------------------------

def test_a_two_hour_movie_with_two_pauses_costs_six_scrobble_requests_and_no_history_write(service, server, clock):
    fakekodi.open_file(fakekodi.PlayingFile(movie_tag(), MOVIE["file"], 7200))
    service.live_step()
    for position in (2400, 4800):
        service.play_to(position)
        fakekodi.pause()
        service.wait(300)
        fakekodi.resume()
    service.play(movie_tag(), MOVIE["file"], total=7200)
    service.idle()

    assert [s[0] for s in scrobbles(server)] == ["start", "pause", "start", "pause", "start", "stop"]
    assert [r.path for r in server.requests if r.method == "POST"] == ["/scrobble/" + s[0] for s in scrobbles(server)]


def wait_until_worker_idle(service):
    return wait_for(lambda: not service.service.busy())


def wait_for_status(request):
    return wait_for(lambda: request.status != 0)


def test_a_live_stop_never_overtakes_an_unmark_of_the_same_title_still_on_its_way(service, server, kodi, clock):
    import json
    server.watched_keys.add(INCEPTION)  # watched on Simkl long ago
    # The watch's commit wakes the sender, whose retry of the unmark is due by then (two hours of virtual
    # playback): it must fail too, or whichever of that retry and the live stop came first would decide.
    server.fail("/sync/history/remove", 503, times=2)
    service.service.notification("xbmc", "VideoLibrary.OnUpdate",
                                 json.dumps({"item": {"id": 1, "type": "movie"}, "playcount": 0}))
    service.settle_marks()
    assert [r.status for r in server.requests_to("/sync/history/remove")] == [503]

    service.play(movie_tag(), MOVIE["file"], total=7200)  # watched again while the unmark waits
    service.idle()
    assert [r.status for r in server.requests_to("/sync/history/remove")] == [503, 503]
    assert [s[0] for s in scrobbles(server)] == ["start", "pause"]  # a stop would write history before it
    clock.advance(3600)
    service.retry_now()
    service.idle()

    assert [r.path for r in server.requests if r.path.startswith("/sync/history")] == [
        "/sync/history/remove", "/sync/history/remove", "/sync/history/remove", "/sync/history"]
    assert server.history_entries(INCEPTION) == 1 and INCEPTION in server.watched_keys


def test_an_episode_of_a_rewatch_session_the_user_started_is_not_sent_live(service, server, kodi, clock):
    from test_fault_campaign import confirm_rewatch, show_tag
    assert wait_for(service.service.worker.is_alive)  # the service started (it syncs the setting first)
    kodi.set_setting("track_rewatches", True)
    service.service.settings_changed()
    confirm_rewatch(kodi, show_tag(), clock)  # "Rewatch on Simkl" on the show: its session starts
    service.retry_now()
    service.idle()
    clock.advance(60)

    service.play(episode_tag(), EPISODE["file"], total=3000)
    service.idle()

    assert scrobbles(server) == []
    episode_post = history_posts(server)[-1]
    assert episode_post.query.get("allow_rewatch") == "yes" and episode_post.json["shows"][0].get("rewatch_id")


# --- the edges of each rule ------------------------------------------------------------------------------

def failure_lines(kodi):
    """Lines of kodi.log that tell of a live scrobble that broke (not a refusal Simkl answered)."""
    return [m for _, m in kodi.log if "live scrobble of" in m or "Traceback" in m]


def test_a_movie_that_ends_by_itself_is_stopped_at_100_percent_wherever_the_last_sample_was(service, server,
                                                                                              kodi, clock):
    fakekodi.open_file(fakekodi.PlayingFile(movie_tag(), MOVIE["file"], 7200))
    service.live_step()
    service.play_to(7170)  # the credits' last seconds are never sampled
    fakekodi.close_file(natural=True)
    service.idle()

    assert scrobbles(server) == [("start", progress(60, 7200), 201, "start"), ("stop", 100.0, 201, "scrobble")]
    assert "[service.scrobbler.simkl] Simkl wrote Inception (2010) into the history from its live stop" in [
        m for _, m in kodi.log]


def test_a_seek_right_before_the_end_is_still_followed_by_the_stop(service, server, clock):
    fakekodi.open_file(fakekodi.PlayingFile(movie_tag(), MOVIE["file"], 7200))
    service.live_step()
    service.play_to(6000)
    fakekodi.seek(7190)  # to the last seconds; the end comes before the seek's start is due
    fakekodi.close_file(natural=True)
    service.idle()

    assert scrobbles(server) == [("start", progress(60, 7200), 201, "start"), ("stop", 100.0, 201, "scrobble")]
    assert history_posts(server) == [] and server.history_entries(INCEPTION) == 1


def test_a_movie_stopped_while_paused_at_90_percent_is_stopped_live_and_that_stop_is_the_history_entry(
        service, server, clock):
    fakekodi.open_file(fakekodi.PlayingFile(movie_tag(), MOVIE["file"], 7200))
    service.live_step()
    service.play_to(6480)
    fakekodi.pause()
    service.wait(600)
    fakekodi.close_file(natural=False)
    service.wait(LOCK_SECONDS)  # the pause went a moment ago: the stop waits for Simkl's lock
    service.idle()

    assert scrobbles(server) == [("start", progress(60, 7200), 201, "start"), ("pause", 90.0, 201, "pause"),
                                 ("stop", 90.0, 201, "scrobble")]
    assert history_posts(server) == [] and outbox_counts(service, clock) == {"sent": 1}


def test_stopping_a_paused_item_below_80_percent_sends_nothing_more_simkl_has_it_paused_there(service, server,
                                                                                               kodi, clock):
    fakekodi.open_file(fakekodi.PlayingFile(movie_tag(), MOVIE["file"], 7200))
    service.live_step()
    service.play_to(2880)
    fakekodi.pause()
    service.wait(5)  # the pause goes out
    service.wait(600)  # ten minutes away: a playing item would have moved on by far more than 30 s
    fakekodi.close_file(natural=False)
    service.idle()

    assert scrobbles(server) == [("start", progress(60, 7200), 201, "start"), ("pause", 40.0, 201, "pause")]
    assert server.now_playing == {INCEPTION: ("paused", 40.0)}
    assert failure_lines(kodi) == []


def test_stopping_while_paused_at_85_percent_that_a_90_percent_threshold_does_not_count_sends_nothing_more(
        service, server, kodi, clock):
    kodi.set_setting("threshold", 90)
    service.service.settings_changed()
    fakekodi.open_file(fakekodi.PlayingFile(movie_tag(), MOVIE["file"], 7200))
    service.live_step()
    service.play_to(6120)
    fakekodi.pause()
    service.wait(600)
    fakekodi.close_file(natural=False)
    service.wait(LOCK_SECONDS)

    assert scrobbles(server) == [("start", progress(60, 7200), 201, "start"), ("pause", 85.0, 201, "pause")]
    assert history_posts(server) == [] and server.history_entries(INCEPTION) == 0
    assert failure_lines(kodi) == []


def test_a_stop_at_exactly_80_percent_that_a_90_percent_threshold_does_not_count_is_a_pause(service, server, kodi,
                                                                                           clock):
    kodi.set_setting("threshold", 90)
    service.service.settings_changed()
    service.play(movie_tag(), MOVIE["file"], total=7200, stop_at=5760, ended=False)
    service.idle()

    assert scrobbles(server)[-1] == ("pause", 80.0, 201, "pause")
    assert history_posts(server) == [] and server.history_entries(INCEPTION) == 0


def test_a_stop_at_exactly_80_percent_that_is_a_watch_is_simkls_history_entry_and_is_not_posted_again(
        service, server, kodi, clock):
    kodi.set_setting("threshold", 70)
    service.service.settings_changed()
    service.play(movie_tag(), MOVIE["file"], total=7200, stop_at=5760, ended=False)
    service.idle()
    clock.advance(3600)
    service.retry_now()
    service.idle()

    assert scrobbles(server)[-1] == ("stop", 80.0, 201, "scrobble")
    assert history_posts(server) == [] and server.history_entries(INCEPTION) == 1
    assert outbox_counts(service, clock) == {"sent": 1}


def test_an_item_stopped_before_its_start_went_out_sends_nothing_live(service, server, kodi, clock):
    fakekodi.open_file(fakekodi.PlayingFile(movie_tag(), MOVIE["file"], 7200))
    service.live_step()
    service.wait(1)  # the wrong file: stopped at once
    fakekodi.close_file(natural=False)
    service.idle()
    service.wait(60)

    assert scrobbles(server) == []
    assert failure_lines(kodi) == []


# --- Simkl's lock and its answers --------------------------------------------------------------------------

LOCKED = {"error": "RATE_LIMIT", "code": 400, "message": "Please wait 20 seconds"}


def scrobble_times(server, since):
    """(endpoint, HTTP status, seconds after `since`) of every /scrobble/* request."""
    return [(r.path.rsplit("/", 1)[1], r.status, r.time - since) for r in server.requests
            if r.path.startswith("/scrobble/")]


def test_three_lock_refusals_are_waited_out_and_the_fourth_try_goes(service, server, kodi, clock):
    server.fail("/scrobble/start", 400, times=3, body=LOCKED)  # another device keeps scrobbling
    fakekodi.open_file(fakekodi.PlayingFile(movie_tag(), MOVIE["file"], 7200))
    service.live_step()
    service.play_to(60)
    first = server.requests_to("/scrobble/start")[0].time
    for _ in range(4):
        service.wait(LOCK_SECONDS)

    assert scrobble_times(server, first) == [("start", 400, 0), ("start", 400, 20), ("start", 400, 40),
                                             ("start", 201, 60)]
    assert "not sent" not in kodi.log_text()


def test_a_fourth_lock_refusal_gives_the_start_up_and_the_next_change_gets_three_tries_of_its_own(service, server,
                                                                                                  kodi, clock):
    server.fail("/scrobble/start", 400, times=4, body=LOCKED)
    server.fail("/scrobble/pause", 400, times=3, body=LOCKED)
    fakekodi.open_file(fakekodi.PlayingFile(movie_tag(), MOVIE["file"], 7200))
    service.live_step()
    service.play_to(60)
    first = server.requests_to("/scrobble/start")[0].time
    for _ in range(5):
        service.wait(LOCK_SECONDS)
    fakekodi.pause()  # at 60 + 100 s: the lock is free
    service.wait(5)
    for _ in range(4):
        service.wait(LOCK_SECONDS)

    assert scrobble_times(server, first) == [("start", 400, 0), ("start", 400, 20), ("start", 400, 40),
                                             ("start", 400, 60), ("pause", 400, 105), ("pause", 400, 125),
                                             ("pause", 400, 145), ("pause", 201, 165)]
    assert [m for _, m in kodi.log if "not sent" in m] == [
        "[service.scrobbler.simkl] live start of Inception (2010) not sent: 400 RATE_LIMIT"]


@pytest.mark.parametrize("status, logged", [
    (201, None),
    (503, "live start of Inception (2010) failed: server error 503"),
    (400, "live start of Inception (2010) refused: 400 wrong_parameter"),
], ids=["taken", "server error", "refused"])
def test_after_any_answer_the_next_change_waits_for_simkls_lock_and_gets_three_lock_tries(service, server, kodi,
                                                                                          clock, status, logged):
    server.fail("/scrobble/start", 400, body=LOCKED)  # refused once first: the count starts again after
    if status != 201:
        server.fail("/scrobble/start", status)
    server.fail("/scrobble/pause", 400, times=3, body=LOCKED)
    fakekodi.open_file(fakekodi.PlayingFile(movie_tag(), MOVIE["file"], 7200))
    service.live_step()
    service.play_to(60)
    first = server.requests_to("/scrobble/start")[0].time
    service.wait(LOCK_SECONDS)  # the start goes again, and Simkl answers
    fakekodi.pause()
    service.wait(3)  # quiet long enough, but the lock is not free yet
    assert [s[0] for s in scrobbles(server)] == ["start", "start"]
    service.wait(LOCK_SECONDS - 3)
    for _ in range(3):
        service.wait(LOCK_SECONDS)

    assert scrobble_times(server, first) == [("start", 400, 0), ("start", status, 20), ("pause", 400, 40),
                                             ("pause", 400, 60), ("pause", 400, 80), ("pause", 201, 100)]
    assert [m.split("] ", 1)[1] for _, m in kodi.log if " of Inception (2010) " in m] == (
        [logged] if logged else [])


def test_a_stop_simkl_answers_without_saying_it_scrobbled_leaves_the_watch_to_the_history_write(service, server,
                                                                                                clock):
    server.fail("/scrobble/stop", 201, body=b"")  # taken, with an empty body: nothing says a history entry
    finished = play_and_close(service, movie_tag(), MOVIE["file"], 7200)
    service.idle()

    assert [s[:3] for s in scrobbles(server)][-1] == ("stop", 100.0, 201)
    assert [r.json for r in history_posts(server)] == [{"movies": [dict(INCEPTION_BODY, watched_at=iso(finished))]}]
    assert server.history_entries(INCEPTION) == 1 and outbox_counts(service, clock) == {"sent": 1}


def test_a_start_simkl_took_with_an_empty_answer_is_what_simkl_has_a_small_seek_after_it_sends_nothing(
        service, server, clock):
    server.fail("/scrobble/start", 201, body=b"")
    fakekodi.open_file(fakekodi.PlayingFile(movie_tag(), MOVIE["file"], 7200))
    service.live_step()
    service.play_to(600)
    fakekodi.seek(620)  # 20 s on from where Simkl has it playing
    service.wait(5)

    assert scrobbles(server) == [("start", progress(60, 7200), 201, None)]


def test_while_paused_a_seek_by_less_than_30_s_sends_nothing_and_one_by_30_s_is_a_new_pause(service, server, clock):
    fakekodi.open_file(fakekodi.PlayingFile(movie_tag(), MOVIE["file"], 7200))
    service.live_step()
    service.play_to(1800)
    fakekodi.pause()
    service.wait(LOCK_SECONDS)  # Simkl has it paused at 1800 s
    fakekodi.seek(1771)
    service.wait(LOCK_SECONDS)
    assert [s[:2] for s in scrobbles(server)] == [("start", progress(60, 7200)), ("pause", 25.0)]
    fakekodi.seek(1830)
    service.wait(LOCK_SECONDS)

    assert [s[:2] for s in scrobbles(server)] == [("start", progress(60, 7200)), ("pause", 25.0),
                                                  ("pause", progress(1830, 7200))]


# --- errors on Kodi's side -----------------------------------------------------------------------------------

def test_a_live_scrobble_the_disk_could_not_record_is_recorded_30_s_later_and_never_posted(service, server, kodi,
                                                                                            clock):
    from test_delivery import FlakyOutbox
    service.service.outbox = FlakyOutbox(service.service.outbox, "scrobbled", "disk I/O error", failures=1)
    service.play(movie_tag(), MOVIE["file"], total=7200)
    service.idle()
    assert [s[:3] for s in scrobbles(server)][-1] == ("stop", 100.0, 201)
    assert outbox_counts(service, clock) == {"pending": 1}
    service.wait(RECORD_RETRY - 1)
    service.service.kick()  # the sender looks meanwhile: the watch stays held, Simkl has it
    service.idle()
    assert outbox_counts(service, clock) == {"pending": 1} and history_posts(server) == []

    service.wait(1)
    service.idle()

    assert outbox_counts(service, clock) == {"sent": 1}
    assert history_posts(server) == [] and server.history_entries(INCEPTION) == 1
    assert ("[service.scrobbler.simkl] recording the live scrobble of Inception (2010) failed (OperationalError); "
            "trying again in 30 s") in kodi.log_text()


def test_a_storage_error_while_deciding_the_stop_is_logged_and_leaves_the_watch_to_the_history_write(
        service, server, kodi, clock):
    from test_delivery import FlakyOutbox
    service.service.outbox = FlakyOutbox(service.service.outbox, "waiting_before", "disk I/O error", failures=1)
    finished = play_and_close(service, movie_tag(), MOVIE["file"], 7200)
    service.idle()

    assert [s[0] for s in scrobbles(server)] == ["start"]
    assert [r.json for r in history_posts(server)] == [{"movies": [dict(INCEPTION_BODY, watched_at=iso(finished))]}]
    assert server.history_entries(INCEPTION) == 1
    assert ("[service.scrobbler.simkl] live scrobble of Inception (2010) failed: OperationalError: disk I/O error"
            in kodi.log_text())


def test_a_library_lookup_that_fails_for_live_is_not_tried_again_and_the_watch_goes_to_history(service, server,
                                                                                               kodi, clock):
    real = kodi.jsonrpc_handlers["VideoLibrary.GetMovieDetails"]
    broken = [True]

    def flaky(params):
        if broken[0]:
            raise RuntimeError("JSON-RPC went away")
        return real(params)
    kodi.jsonrpc_handlers["VideoLibrary.GetMovieDetails"] = flaky

    fakekodi.open_file(fakekodi.PlayingFile(movie_tag(), MOVIE["file"], 7200))
    service.live_step()
    broken[0] = False  # Kodi answers again before the movie ends
    service.play(movie_tag(), MOVIE["file"], total=7200)
    service.idle()

    assert scrobbles(server) == []
    assert [r.status for r in history_posts(server)] == [201] and server.history_entries(INCEPTION) == 1
    assert [m for _, m in kodi.log if "live scrobble" in m] == [
        "[service.scrobbler.simkl] live scrobble of Inception failed: RuntimeError: JSON-RPC went away"]


def test_an_item_without_ids_is_named_in_the_log_line_that_says_it_does_not_go_live(service, server, kodi):
    unknown = InfoTagVideo(media_type="movie", title="Home Video", path="/media/home/holiday.mkv")
    service.play(unknown, "/media/home/holiday.mkv", total=3600)
    untitled = InfoTagVideo(media_type="movie", title="", path="/media/home/VID_0001.mkv")
    service.play(untitled, "/media/home/VID_0001.mkv", total=3600)
    service.idle()

    assert scrobbles(server) == []
    assert [m for _, m in kodi.log if "not live" in m] == [
        "[service.scrobbler.simkl] not live on Simkl: Home Video has no ids",
        "[service.scrobbler.simkl] not live on Simkl: item has no ids"]


def test_with_live_scrobbling_off_pausing_resuming_and_seeking_send_nothing_live(service, server, kodi):
    kodi.set_setting("live_scrobble", False)
    fakekodi.open_file(fakekodi.PlayingFile(movie_tag(), MOVIE["file"], 7200))
    service.live_step()
    service.play_to(1800)
    fakekodi.pause()
    fakekodi.resume()
    fakekodi.seek(3600)
    service.play(movie_tag(), MOVIE["file"], total=7200)
    service.idle()

    assert scrobbles(server) == []
    assert [r.status for r in history_posts(server)] == [201] and server.history_entries(INCEPTION) == 1


def test_kodi_quitting_ends_the_live_scrobblers_thread(kodi, server, clock):
    install_library(kodi)
    log_in(kodi, server)
    kodi.set_setting("live_scrobble", True)
    before = set(threading.enumerate())
    running = RunningService(kodi, clock).start()
    running.play(movie_tag(), MOVIE["file"], total=7200)
    running.idle()
    assert [s[0] for s in scrobbles(server)] == ["start", "stop"]

    running.stop()

    assert wait_for(lambda: not [t.name for t in set(threading.enumerate()) - before
                                 if t.name.startswith("simkl-") and t.is_alive()])


# --- the parts on their own ----------------------------------------------------------------------------------

def test_progress_is_a_percentage_with_two_decimals_kept_within_0_and_100():
    assert progress_of(60, 7200) == 0.83
    assert progress_of(0.5, 1) == 50.0
    assert progress_of(7300, 7200) == 100.0  # a last sample past a total Kodi guessed short
    assert progress_of(-1, 7200) == 0.0
    assert progress_of(600, 0) == 0.0  # the length is not known


def test_only_a_movie_with_ids_or_an_episode_whose_show_has_ids_a_write_may_carry_may_go_live():
    assert live_ids(Movie("Inception", 2010, {"imdb": "tt1375666"}))
    assert not live_ids(Movie("Home Video"))
    assert live_ids(Episode("Frieren: Beyond Journey's End", 1, 19, show_ids={"tvdb": 424536}))
    assert not live_ids(Episode("Frieren: Beyond Journey's End", 1, 19, show_ids={"mal": 52991}))  # one cour's id
    assert not live_ids(Show("Frieren: Beyond Journey's End", 2023, {"tvdb": 424536}))  # a whole show
    assert not live_ids(None)  # not found


class RunningClock:
    """Steady time that runs on in real time; skip() moves it on as if that long had passed."""

    def __init__(self):
        self.offset = 0.0

    def __call__(self):
        return time.monotonic() + self.offset

    def skip(self, seconds):
        self.offset += seconds


def test_a_change_that_falls_due_goes_out_without_any_further_event_or_kick(tmp_path, kodi, server):
    store = auth.TokenStore(str(tmp_path / "login"))
    store.save({"access_token": server.issue_token(), "flow": "v1"})
    steady = RunningClock()
    client = api.Client(server.url, server.client_id, "kodi-simkl-scrobbler", "0.1.0", "20.1",
                        tokens=auth.TokenProvider(store), clock=steady, sleep=time.sleep)
    movie = Movie("Inception", 2010, {"imdb": "tt1375666", "tmdb": 27205})
    live = Live(client, resolve=lambda item: movie, enabled=lambda tracked: True, holds=Holds(),
                on_scrobbled=lambda entry_id, media: None, on_released=lambda: None, clock=steady)
    tracked = Tracked(PlayingItem(media_type="movie", title="Inception", path=MOVIE["file"]),
                      Playback(7200, position=600.0), MOVIE["file"])
    live.event("started", tracked)  # the start is due QUIET seconds from now
    steady.skip(QUIET - 0.05)  # as if nearly that long had passed: it is due in 50 ms of real time
    live.start()
    try:
        assert wait_for(lambda: server.requests_to("/scrobble/start"), timeout=2.0)
    finally:
        live.stop()

    assert [r.json for r in server.requests_to("/scrobble/start")] == [{"progress": progress(600, 7200),
                                                                        "movie": INCEPTION_BODY}]
