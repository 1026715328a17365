"""What the user is told, and when: the real service with the Kodi fakes and the fake Simkl server."""
import json

import fakekodi
from scenario import EPISODE, MOVIE, RunningService, episode_tag, install_library, movie_tag, wait_for

HEADING = "Watched on Simkl"
NOT_SENT = "Not sent to Simkl yet"
LOG_IN = ("Log in to Simkl", "Open Simkl Scrobbler to log in", "info")
KEPT = ("Not logged in to Simkl", "Watch kept; log in to send it", "info")


def retry(service, clock, seconds=3600):
    clock.advance(seconds)
    service.retry_now()
    service.idle()


def test_a_sent_watch_is_announced_with_the_heading_and_the_title_as_the_message(service, kodi):
    service.play(movie_tag(), MOVIE["file"], total=7200)
    service.idle()
    assert kodi.notifications == [(HEADING, "Inception (2010)", "info")]


def test_a_marked_season_is_one_notification_with_the_count(service, kodi, server, clock):
    episodes = [dict(EPISODE, episodeid=7 + n, episode=3 + n, uniqueid={"tvdb": str(8444132 + n)}) for n in range(3)]
    install_library(kodi, episodes=episodes)
    for episode in episodes:
        service.service.notification("xbmc", "VideoLibrary.OnUpdate", json.dumps(
            {"item": {"id": episode["episodeid"], "type": "episode"}, "playcount": 1}))
    service.settle_marks()
    assert len(server.requests_to("/sync/history")) == 1
    assert kodi.notifications == [(HEADING, "3 episodes", "info")]


def test_a_failure_to_send_is_told_once_however_often_it_is_retried(service, kodi, server, clock):
    server.fail("/sync/history", 503, times=4)
    service.play(movie_tag(), MOVIE["file"], total=7200)
    service.idle()
    for _ in range(3):
        retry(service, clock)
    assert [r.status for r in server.requests_to("/sync/history")] == [503, 503, 503, 503]
    assert kodi.notifications == [(NOT_SENT, "Simkl had a problem answering", "warning")]


def test_each_new_problem_is_told_and_the_same_one_again_only_after_a_success(service, kodi, server, clock):
    server.fail("/sync/history", 503, times=2)
    server.fail("/sync/history", 0, times=2)  # then dropped connections
    service.play(movie_tag(), MOVIE["file"], total=7200)
    service.idle()
    for _ in range(4):
        retry(service, clock)
    assert [n[1] for n in kodi.notifications] == ["Simkl had a problem answering", "Simkl could not be reached",
                                                  "Inception (2010)"]
    server.fail("/sync/history", 503, times=1)
    service.play(episode_tag(), EPISODE["file"], total=3000)
    service.idle()
    assert kodi.notifications[-1] == (NOT_SENT, "Simkl had a problem answering", "warning")


def test_silent_during_playback_holds_back_every_notification_of_the_service(service, kodi, server, clock):
    kodi.set_setting("notify_quiet_playback", True)
    server.fail("/sync/history", 503, times=1)
    service.play(movie_tag(), MOVIE["file"], total=7200)
    fakekodi.open_file(fakekodi.PlayingFile(episode_tag(), EPISODE["file"], 3000))  # the next video plays
    service.idle()
    retry(service, clock)
    assert [r.status for r in server.requests_to("/sync/history")] == [503, 201]
    assert kodi.notifications == []
    assert "while a video plays" in kodi.log_text()


def test_a_problem_held_back_during_playback_is_told_once_nothing_plays(service, kodi, server, clock):
    kodi.set_setting("notify_quiet_playback", True)
    server.fail("/sync/history", 503, times=2)
    service.play(movie_tag(), MOVIE["file"], total=7200)
    fakekodi.open_file(fakekodi.PlayingFile(episode_tag(), EPISODE["file"], 3000))
    service.idle()
    assert kodi.notifications == []
    fakekodi.close_file(natural=False)
    retry(service, clock)
    assert kodi.notifications == [(NOT_SENT, "Simkl had a problem answering", "warning")]


# -- a new user is told to log in (issue 19) ------------------------------------------------------------------

def run_logged_out(kodi, clock):
    """The real service started as after an install: no login stored."""
    running = RunningService(kodi, clock).start()
    running.idle()
    return running


def test_a_fresh_install_says_once_to_log_in(kodi, server, clock, library):
    running = run_logged_out(kodi, clock)
    assert wait_for(lambda: LOG_IN in kodi.notifications), kodi.notifications
    running.stop()

    run_logged_out(kodi, clock).stop()  # the next Kodi start

    assert kodi.notifications == [LOG_IN]


def test_a_start_held_back_by_a_playing_video_says_it_at_the_next_start(kodi, server, clock, library):
    kodi.set_setting("notify_quiet_playback", True)
    kodi.conditions["Player.HasVideo"] = True
    run_logged_out(kodi, clock).stop()
    assert kodi.notifications == []

    kodi.conditions["Player.HasVideo"] = False
    running = run_logged_out(kodi, clock)
    assert wait_for(lambda: LOG_IN in kodi.notifications), kodi.notifications
    running.stop()


def test_a_logged_in_start_says_nothing_about_logging_in(service, kodi):
    service.idle()
    assert LOG_IN not in kodi.notifications


def test_the_first_watch_kept_while_logged_out_is_told_once_and_every_watch_is_kept(kodi, server, clock, library):
    running = run_logged_out(kodi, clock)
    try:
        running.play(movie_tag(), MOVIE["file"], total=7200)
        running.idle()
        running.play(episode_tag(), EPISODE["file"], total=3000)
        running.idle()

        assert kodi.notifications.count(KEPT) == 1
        assert server.requests_to("/sync/history") == []
        assert running.service.outbox.counts().get("pending", 0) + running.service.outbox.counts().get(
            "unresolved", 0) == 2
    finally:
        running.stop()
    run_logged_out(kodi, clock).stop()
    assert kodi.notifications.count(KEPT) == 1
