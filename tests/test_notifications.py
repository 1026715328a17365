"""What the user is told, and when: the real service with the Kodi fakes and the fake Simkl server."""
import json
import tempfile

from hypothesis import given, settings
from hypothesis import strategies as st
from xbmc import InfoTagVideo

import fakekodi
from lib.scrobbler.media import Movie
from scenario import EPISODE, MOVIE, RunningService, episode_tag, install_library, movie_tag, sync_now, wait_for

HEADING = "Watched on Simkl"
NOT_SENT = "Not sent to Simkl yet"
LOG_IN = ("Log in to Simkl", "Open Simkl Scrobbler to log in", "info")
KEPT = ("Not logged in to Simkl", "Watch kept; log in to send it", "info")
SIMKL_CHANGED = ("Simkl's login changed", "Choose Log in; watches are kept", "warning")
LOG_IN_AGAIN = ("Log in to Simkl again", "Your watches stay queued", "warning")


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


# -- Simkl ends the PIN login (issue 21) -------------------------------------------------------------------------
# The `service` fixture's login is a PIN (V1) login, as scenario.log_in stores it.

def waiting(service):
    counts = service.service.outbox.counts()
    return counts.get("pending", 0) + counts.get("unresolved", 0)


def test_a_v1_login_simkl_stops_accepting_is_told_once_in_plain_words_and_every_watch_waits(
        service, kodi, server, clock):
    server.refuse_v1_tokens()
    service.play(movie_tag(), MOVIE["file"], total=7200)
    service.idle()
    retry(service, clock)  # nothing more is tried with the refused login, and nothing more is said
    service.play(episode_tag(), EPISODE["file"], total=3000)  # made meanwhile, logged out
    service.idle()

    told = [notice for notice in kodi.notifications if notice[2] == "warning"]
    assert told == [SIMKL_CHANGED]
    assert LOG_IN_AGAIN not in kodi.notifications
    assert [r.status for r in server.requests_to("/sync/history")] == [401]
    assert server.watches == []
    assert kodi.setting("logged_in") == "false"
    assert waiting(service) == 1  # the episode (nobody's yet); the movie waits for its account, see test_accounts
    assert service.service.outbox.kept_for_others()[0].count == 1


def test_a_v1_login_the_sync_finds_refused_is_told_at_once_without_a_watch(service, kodi, server):
    kodi.set_setting("sync_from_simkl", True)
    server.refuse_v1_tokens()

    sync_now(service)
    sync_now(service)  # the next hour's sync: logged out, it asks nothing

    assert [notice for notice in kodi.notifications if notice[2] == "warning"] == [SIMKL_CHANGED]
    assert [r.status for r in server.requests if r.path.startswith("/sync/")] == [401]
    assert kodi.setting("logged_in") == "false"


# -- refusals are told, once per batch (issue 19) ---------------------------------------------------------------
NOT_ACCEPTED = "Not accepted by Simkl"
INCEPTION = "imdb=tt1375666"  # MOVIE's id: the fake Simkl refuses a request naming it (400 wrong_parameter)
LAST_OF_US = "tvdb=392256"  # SHOW's id: every episode of it is sent under it


def season(kodi, count=3):
    episodes = [dict(EPISODE, episodeid=7 + n, episode=3 + n, uniqueid={"tvdb": str(8444132 + n)})
                for n in range(count)]
    install_library(kodi, episodes=episodes)
    return episodes


def mark(service, episodes):
    for episode in episodes:
        service.service.notification("xbmc", "VideoLibrary.OnUpdate", json.dumps(
            {"item": {"id": episode["episodeid"], "type": "episode"}, "playcount": 1}))
    service.settle_marks()


def test_a_watch_simkl_refuses_is_told_once_naming_it(service, kodi, server, clock):
    server.refused_ids.add(INCEPTION)
    service.play(movie_tag(), MOVIE["file"], total=7200)
    service.idle()
    retry(service, clock)  # nothing to send: the refused entry waits for the user

    assert [r.status for r in server.requests_to("/sync/history")] == [400]
    assert kodi.notifications == [(NOT_ACCEPTED, "Inception (2010)", "warning")]
    assert service.service.outbox.attention_count() == 1


def test_a_watch_simkl_does_not_know_is_told_too(service, kodi, server):
    server.unknown_ids.add(INCEPTION)
    service.play(movie_tag(), MOVIE["file"], total=7200)
    service.idle()
    assert kodi.notifications == [(NOT_ACCEPTED, "Inception (2010)", "warning")]


def test_three_titles_refused_in_one_batch_are_one_notification_with_the_count(service, kodi, server):
    server.refused_ids.add(LAST_OF_US)
    mark(service, season(kodi))
    assert [r.status for r in server.requests_to("/sync/history")] == [400, 400, 400, 400, 400]  # halved to singles
    assert kodi.notifications == [(NOT_ACCEPTED, "3 watches: open the add-on", "warning")]


def test_a_title_queued_twice_and_refused_is_one_title(service, kodi, server, clock):
    server.fail("/sync/history", 503, times=1)
    service.play(movie_tag(), MOVIE["file"], total=7200)
    service.idle()
    server.refused_ids.add(INCEPTION)
    clock.advance(49 * 3600)  # watched again two days later: a second entry of the same title
    service.play(movie_tag(), MOVIE["file"], total=7200)
    service.idle()

    # one flush sends both, each in a request of its own (a title's entries go one at a time)
    assert [r.status for r in server.requests_to("/sync/history")] == [503, 400, 400]
    assert service.service.outbox.attention_count() == 2
    assert kodi.notifications[1:] == [(NOT_ACCEPTED, "Inception (2010)", "warning")]


def refused_while_the_next_video_plays(service, kodi):
    """A movie ends and Simkl refuses it while the next video already plays: nothing is told yet."""
    service.play(movie_tag(), MOVIE["file"], total=7200)
    fakekodi.open_file(fakekodi.PlayingFile(episode_tag(), EPISODE["file"], 3000))  # the next video plays
    service.idle()
    assert kodi.notifications == []


def test_a_refusal_held_back_during_playback_is_told_once_after_it(service, kodi, server, clock):
    kodi.set_setting("notify_quiet_playback", True)
    server.refused_ids.add(INCEPTION)
    refused_while_the_next_video_plays(service, kodi)

    fakekodi.close_file(natural=False)
    service.idle()
    retry(service, clock)

    assert kodi.notifications == [(NOT_ACCEPTED, "Inception (2010)", "warning")]


def test_a_refusal_held_back_is_told_once_kodi_stops_reporting_the_video_after_its_stop(service, kodi, server, clock):
    kodi.set_setting("notify_quiet_playback", True)
    server.refused_ids.add(INCEPTION)
    refused_while_the_next_video_plays(service, kodi)

    # Kodi 19.1 (and at times 20.1) still says Player.HasVideo at Player.OnStop (seen in tests/e2e/test_refusals.py)
    kodi.conditions["Player.HasVideo"] = True
    fakekodi.close_file(natural=False)
    assert kodi.notifications == []
    del kodi.conditions["Player.HasVideo"]  # a moment later nothing plays

    assert wait_for(lambda: kodi.notifications == [(NOT_ACCEPTED, "Inception (2010)", "warning")]), \
        kodi.notifications
    assert kodi.log_text().count("not shown while a video plays: Inception (2010)") <= 2  # no line per look


def test_a_refusal_held_back_is_told_with_the_next_batchs_refusals_as_one(service, kodi, server, clock):
    kodi.set_setting("notify_quiet_playback", True)
    server.refused_ids.update({INCEPTION, "imdb=tt0000001"})
    refused_while_the_next_video_plays(service, kodi)

    kodi.set_setting("notify_quiet_playback", False)  # the user lets notifications show, the video still plays
    service.service.outbox.add(Movie("Other", 2001, {"imdb": "tt0000001"}), clock.wall())
    retry(service, clock)

    assert kodi.notifications == [(NOT_ACCEPTED, "2 watches: open the add-on", "warning")]


def test_a_rating_simkl_took_is_not_told_as_a_watch_and_a_refused_one_is_told_with_the_rating(service, kodi, server,
                                                                                               clock):
    outbox = service.service.outbox
    outbox.add_rating(Movie("Up", 2009, {"imdb": "tt1049413"}), 7)
    retry(service, clock)
    assert server.requests_to("/sync/ratings") and kodi.notifications == []

    server.refused_ids.add(INCEPTION)
    outbox.add_rating(Movie("Inception", 2010, {"imdb": "tt1375666"}), 8)
    retry(service, clock)
    assert kodi.notifications == [(NOT_ACCEPTED, "Inception (2010) · your rating 8", "warning")]

    server.refused_ids.add("imdb=tt0000001")
    outbox.add(Movie("Other", 2001, {"imdb": "tt0000001"}), clock.wall())
    outbox.add_rating(Movie("Inception", 2010, {"imdb": "tt1375666"}), 0)
    retry(service, clock)
    assert kodi.notifications[1:] == [(NOT_ACCEPTED, "2 titles: open the add-on", "warning")]


def test_refusals_in_a_later_batch_are_told_again(service, kodi, server):
    server.refused_ids.update({INCEPTION, LAST_OF_US})
    service.play(movie_tag(), MOVIE["file"], total=7200)
    service.idle()
    service.play(episode_tag(), EPISODE["file"], total=3000)
    service.idle()

    assert kodi.notifications == [(NOT_ACCEPTED, "Inception (2010)", "warning"),
                                  (NOT_ACCEPTED, "The Last of Us S01E03", "warning")]


def test_a_watch_whose_title_is_not_found_is_told_as_not_recognised(service, kodi, server):
    # a file outside the library that Simkl's file search does not know: kept under Needs attention
    service.play(InfoTagVideo(media_type="movie", title="Home Video"), "/media/home/birthday.mkv", total=6000)
    service.idle()

    assert [r.json["file"] for r in server.requests_to("/search/file")] == ["home/birthday.mkv"]
    assert service.service.outbox.counts()["unidentified"] == 1
    assert kodi.notifications == [("Title not recognised", "Home Video", "warning")]


TITLES = ("Alpha (2001)", "Beta (2002)", "Gamma (2003)")
STEPS = st.lists(st.one_of(st.lists(st.sampled_from(TITLES), min_size=1, max_size=4),  # a pass's refusals
                           st.just("play"), st.just("stop")), max_size=12)


def told_titles(message):
    """How many titles a refusal notification stands for: one named, or "N watches: …"."""
    return 1 if message in TITLES else int(message.split()[0])


@settings(max_examples=60, deadline=None)
@given(STEPS)
def test_refusals_held_back_by_playback_are_never_lost_nor_told_twice(steps):
    from lib.scrobbler.delivery.worker import NeedsAttention
    from lib.scrobbler.ui.notices import Notices
    with tempfile.TemporaryDirectory() as folder:
        world = fakekodi.reset(folder)
        world.set_setting("notify_quiet_playback", True)
        notices = Notices(folder)
        untold = set()  # titles refused since the last notification
        for step in steps + ["stop"]:  # in the end nothing plays any more
            shown = len(world.notifications)
            if step == "play":
                world.conditions["Player.HasVideo"] = True
            elif step == "stop":
                world.conditions["Player.HasVideo"] = False
                notices.playback_ended()
            else:
                untold.update(step)
                notices.needs_attention([NeedsAttention(title, True) for title in step])
            if len(world.notifications) > shown:
                (heading, message, icon), = world.notifications[shown:]
                assert not world.conditions.get("Player.HasVideo")  # never over a playing video
                assert (heading, icon) == (NOT_ACCEPTED, "warning")
                assert told_titles(message) == len(untold) > 0  # each title once, none told twice
                untold.clear()
            else:
                assert world.conditions.get("Player.HasVideo") or not untold  # held back only while a video plays
        assert untold == set()
