"""Track rewatches and the context-menu Rewatch action, through the real service and default.py."""
import calendar
import json
import os
import runpy
import sys
import time

import pytest
from xbmc import InfoTagVideo
from xbmcgui import ListItem

from lib.scrobbler import config
from lib.scrobbler.rewatch import action as rewatch_action
from scenario import EPISODE, MOVIE, SHOW, RunningService, episode_tag, install_library, iso, log_in, movie_tag

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EPISODE_4 = dict(EPISODE, episodeid=8, episode=4, title="Please Hold to My Hand",
                 file="/media/tv/The Last of Us/Season 1/S01E04.mkv")
REWATCH_PROPERTY = (10000, config.ADDON_ID + ".rewatch")


def start(kodi, server, clock, track=True, account_type="pro"):
    install_library(kodi, episodes=(EPISODE, EPISODE_4))
    log_in(kodi, server, account_type)
    kodi.set_setting("track_rewatches", track)
    return RunningService(kodi, clock).start()


@pytest.fixture
def stop_services():
    running = []
    yield running
    for service in running:
        if service.thread.is_alive():
            service.stop()


def context_menu(kodi, tag, answer=True, properties=None, clock=None, try_wait=rewatch_action.FIRST_TRY_WAIT):
    """Click "Rewatch on Simkl" on a list item, as Kodi runs it: default.py with sys.listitem.

    With a `clock`, the action runs on the test's virtual time (default.py would read the wall clock), and waits
    `try_wait` s for the service's try.
    """
    item = ListItem(path=tag.getPath())
    item.set_tag(tag)
    for key, value in (properties or {}).items():
        item.setProperty(key, value)
    kodi.yesno_answers.append(answer)
    if clock is not None:
        rewatch_action.run(item, clock=clock.time, try_wait=try_wait)
        return
    sys.listitem = item
    old_argv = sys.argv
    sys.argv = ["default.py", "rewatch"]
    try:
        runpy.run_path(os.path.join(ROOT, "default.py"), run_name="__main__")
    finally:
        sys.argv = old_argv
        del sys.listitem


def rewatch_requests(server):
    return [r for r in server.requests if r.query.get("allow_rewatch") == "yes"]


def show_tag():
    return InfoTagVideo(media_type="tvshow", title=SHOW["title"], year=SHOW["year"], dbid=SHOW["tvshowid"])


def test_with_track_rewatches_off_nothing_ever_carries_allow_rewatch(kodi, server, clock, stop_services):
    service = start(kodi, server, clock, track=False)
    stop_services.append(service)
    assert REWATCH_PROPERTY not in kodi.properties  # the context menu entry stays hidden
    service.play(movie_tag(), MOVIE["file"], total=7200)
    service.idle()
    clock.advance(3 * 86400)
    context_menu(kodi, movie_tag())
    service.play(movie_tag(), MOVIE["file"], total=7200)
    service.play(episode_tag(), EPISODE["file"], total=3000)
    service.idle()
    assert kodi.dialogs[-1][0] == "ok" and "Track rewatches is off" in kodi.dialogs[-1][2]
    assert server.violations == []
    assert [w.key for w in server.watches] == ["movie:imdb=tt1375666", "show:imdb=tt3581920:S1E3"]
    assert len(server.requests_to("/sync/history")) >= 2  # the second movie and the episode may travel together
    assert rewatch_requests(server) == []


def test_rewatch_of_a_movie_sends_one_allow_rewatch_request_through_a_503_and_a_retry(kodi, server, clock,
                                                                                       stop_services):
    service = start(kodi, server, clock)
    stop_services.append(service)
    assert kodi.properties[REWATCH_PROPERTY] == "true"
    service.play(movie_tag(), MOVIE["file"], total=7200)
    service.idle()
    clock.advance(3 * 86400)
    server.fail("/sync/history", 503, times=1)
    context_menu(kodi, movie_tag(), clock=clock)
    asked_at = clock.time()
    service.idle()
    clock.advance(600)
    service.retry_now()
    service.idle()
    attempts = rewatch_requests(server)
    assert [r.status for r in attempts] == [503, 201]
    assert attempts[0].json == attempts[1].json == {"movies": [{
        "title": "Inception", "year": 2010, "ids": {"imdb": "tt1375666", "tmdb": 27205},
        "watched_at": iso(asked_at)}]}
    sessions = {w.rewatch_id for w in server.watches if w.rewatch}
    assert len(sessions) == 1
    assert ("yesno", "Simkl", "Record a new viewing of Inception (2010) on Simkl?") in kodi.dialogs


# --- one rewatch, one notification ------------------------------------------------------------------------

def rewatched_movie(kodi, server, clock, stop_services):
    """Inception watched three days ago; the notifications before the rewatch are left out."""
    service = start(kodi, server, clock)
    stop_services.append(service)
    service.play(movie_tag(), MOVIE["file"], total=7200)
    service.idle()
    clock.advance(3 * 86400)
    del kodi.notifications[:]
    return service


def test_a_rewatch_simkl_records_is_one_notification(kodi, server, clock, stop_services):
    service = rewatched_movie(kodi, server, clock, stop_services)
    context_menu(kodi, movie_tag(), clock=clock)
    service.idle()
    assert [w.rewatch for w in server.watches] == [False, True]
    assert kodi.notifications == [("Rewatch recorded", "Inception (2010)", "info")]


def test_a_show_rewatch_simkl_starts_is_one_notification(kodi, server, clock, stop_services):
    service = start(kodi, server, clock)
    stop_services.append(service)
    context_menu(kodi, show_tag(), clock=clock)
    service.idle()
    assert len(rewatch_requests(server)) == 1
    assert kodi.notifications == [("Rewatching on Simkl", "The Last of Us (2023)", "info")]


def test_a_rewatch_that_cannot_be_sent_now_is_one_notification_that_tells_the_problem(kodi, server, clock,
                                                                                     stop_services):
    service = rewatched_movie(kodi, server, clock, stop_services)
    server.fail("/sync/history", 503, times=1)
    context_menu(kodi, movie_tag(), clock=clock)
    service.idle()
    assert kodi.notifications == [("Not sent to Simkl yet", "Simkl had a problem answering", "warning")]
    clock.advance(600)
    service.retry_now()
    service.idle()
    assert kodi.notifications[1:] == [("Rewatch recorded", "Inception (2010)", "info")]  # told when it is


def test_a_rewatch_during_a_problem_already_told_is_one_notification_that_it_waits(kodi, server, clock,
                                                                                  stop_services):
    service = rewatched_movie(kodi, server, clock, stop_services)
    server.fail("/sync/history", 0, times=1000)  # Simkl cannot be reached
    service.play(episode_tag(), EPISODE["file"], total=3000)
    service.idle()
    assert kodi.notifications == [("Not sent to Simkl yet", "Simkl could not be reached", "warning")]
    del kodi.notifications[:]
    clock.advance(600)
    context_menu(kodi, movie_tag(), clock=clock)
    service.idle()
    assert kodi.notifications == [("Rewatch not sent yet", "Inception (2010)", "warning")]
    assert [w.rewatch for w in server.watches] == [False]


def test_a_rewatch_no_service_tries_in_time_is_one_notification_that_it_waits(kodi, server, clock):
    install_library(kodi)
    log_in(kodi, server, "pro")
    kodi.set_setting("track_rewatches", True)
    context_menu(kodi, movie_tag(), clock=clock, try_wait=0)  # the service is not running: no try comes
    assert kodi.notifications == [("Rewatch not sent yet", "Inception (2010)", "warning")]
    assert server.requests_to("/sync/history") == []


def test_answering_no_sends_nothing(kodi, server, clock, stop_services):
    service = start(kodi, server, clock)
    stop_services.append(service)
    context_menu(kodi, movie_tag(), answer=False, clock=clock)
    service.idle()
    assert server.requests_to("/sync/history") == []


def test_a_show_session_is_pinned_across_two_episodes(kodi, server, clock, stop_services):
    service = start(kodi, server, clock)
    stop_services.append(service)
    context_menu(kodi, show_tag(), clock=clock)
    service.idle()
    start_request = rewatch_requests(server)[0]
    assert start_request.json["shows"][0]["ids"] == {"imdb": "tt3581920", "tmdb": 100088, "tvdb": 392256}
    assert "rewatch_id" not in start_request.json["shows"][0]
    assert start_request.query["skip_auto_watching"] == "yes"
    pinned = server.watches[0].rewatch_id
    service.play(episode_tag(), EPISODE["file"], total=3000)
    service.idle()
    clock.advance(3600)
    service.play(episode_tag(EPISODE_4), EPISODE_4["file"], total=3000)
    service.idle()
    episodes = rewatch_requests(server)[1:]
    assert len(episodes) == 2
    assert [r.json["shows"][0]["rewatch_id"] for r in episodes] == [pinned, pinned]
    assert [r.json["shows"][0]["seasons"][0]["episodes"][0]["number"] for r in episodes] == [3, 4]
    assert len({w.rewatch_id for w in server.watches}) == 1


def test_the_show_question_says_the_next_episodes_count_until_the_session_ends_and_how_it_ends(kodi, server, clock,
                                                                                               stop_services):
    service = start(kodi, server, clock)
    stop_services.append(service)
    context_menu(kodi, show_tag(), answer=False, clock=clock)
    assert kodi.dialogs[-1] == ("yesno", "Simkl", "Start a rewatch of The Last of Us (2023) on Simkl? The episodes"
                                " of it you watch from now on count as this rewatch, until you end it with End rewatch"
                                " session in Simkl Scrobbler. Logging out or turning off Track rewatches ends it too.")


def test_an_episode_watched_before_the_session_id_is_known_waits_for_it(kodi, server, clock, stop_services):
    service = start(kodi, server, clock)
    stop_services.append(service)
    server.fail("/sync/history", 503, times=1)  # the session start fails once
    context_menu(kodi, show_tag(), clock=clock)
    service.idle()
    service.play(episode_tag(), EPISODE["file"], total=3000)
    service.idle()
    clock.advance(900)
    service.retry_now()
    service.idle()
    clock.advance(900)
    service.retry_now()
    service.idle()
    sent = [r for r in rewatch_requests(server) if r.status == 201]
    assert "seasons" not in sent[0].json["shows"][0]
    assert sent[1].json["shows"][0]["rewatch_id"] == server.watches[0].rewatch_id
    assert all(not r.json["shows"][0].get("rewatch_id", "").startswith("session:") for r in sent)


def test_turning_track_rewatches_off_ends_the_session_at_once(kodi, server, clock, stop_services):
    service = start(kodi, server, clock)
    stop_services.append(service)
    context_menu(kodi, show_tag(), clock=clock)
    service.idle()
    kodi.set_setting("track_rewatches", False)
    kodi.settings_saved()
    service.play(episode_tag(), EPISODE["file"], total=3000)
    service.idle()
    assert REWATCH_PROPERTY not in kodi.properties
    assert len(rewatch_requests(server)) == 1
    assert server.requests_to("/sync/history")[-1].query.get("allow_rewatch") is None


def test_ordinary_scrobbles_never_carry_the_flag_with_the_setting_on(kodi, server, clock, stop_services):
    service = start(kodi, server, clock)
    stop_services.append(service)
    service.play(movie_tag(), MOVIE["file"], total=7200)
    service.play(episode_tag(), EPISODE["file"], total=3000)
    service.idle()
    assert [w.rewatch for w in server.watches] == [False, False]
    assert rewatch_requests(server) == []


def test_a_free_account_is_told_rewatches_need_pro_and_nothing_is_sent(kodi, server, clock, stop_services):
    service = start(kodi, server, clock, account_type="free")
    stop_services.append(service)
    context_menu(kodi, movie_tag())
    service.idle()
    assert kodi.dialogs[-1] == ("ok", "Simkl", "Rewatches need a Simkl PRO or VIP account.")
    assert server.requests_to("/sync/history") == []


def test_no_rewatch_within_48_hours_and_the_user_is_told_when(kodi, server, clock, stop_services):
    service = start(kodi, server, clock)
    stop_services.append(service)
    service.play(movie_tag(), MOVIE["file"], total=7200)
    service.idle()
    clock.advance(3600)
    context_menu(kodi, movie_tag(), clock=clock)
    service.idle()
    kind, _, message = kodi.dialogs[-1]
    assert kind == "ok" and "less than 48 hours ago" in message
    assert rewatch_requests(server) == []


def test_the_48_hour_message_says_the_time_in_the_users_regional_format(kodi, server, clock, stop_services):
    kodi.region = {"dateshort": "%d.%m.%Y", "time": "%H:%M:%S"}  # what Kodi's getRegion gives for a 24 h region
    service = start(kodi, server, clock)
    stop_services.append(service)
    service.play(movie_tag(), MOVIE["file"], total=7200)
    service.idle()
    watched = calendar.timegm(time.strptime(server.watches[0].watched_at[:19], "%Y-%m-%dT%H:%M:%S"))
    clock.advance(3600)
    context_menu(kodi, movie_tag(), clock=clock)
    possible = time.localtime(watched + 48 * 3600)  # two days on: another day, so the date is said too
    assert kodi.dialogs[-1][2].endswith("You can record a rewatch from %s." % time.strftime("%d.%m.%Y %H:%M", possible))


def test_pro_required_answer_is_explained_and_not_retried(kodi, server, clock, stop_services):
    service = start(kodi, server, clock)
    stop_services.append(service)
    server.rewatch_mode = "pro_required"
    context_menu(kodi, movie_tag(), clock=clock)
    service.idle()
    clock.advance(3600)
    service.retry_now()
    service.idle()
    assert len(rewatch_requests(server)) == 1
    assert any(n[:2] == ("Rewatch not recorded", "Simkl needs PRO or VIP for it") for n in kodi.notifications)


def test_answer_without_rewatch_id_ends_the_show_session_and_is_explained(kodi, server, clock, stop_services):
    service = start(kodi, server, clock)
    stop_services.append(service)
    server.rewatch_mode = "no_rewatch_id"
    context_menu(kodi, show_tag(), clock=clock)
    service.idle()
    service.play(episode_tag(), EPISODE["file"], total=3000)
    service.idle()
    assert len(rewatch_requests(server)) == 1
    assert any(n[:2] == ("Rewatch not recorded", "The Last of Us (2023)") for n in kodi.notifications)
    sessions_file = os.path.join(kodi.profile_dir, "rewatch_sessions.json")
    with open(sessions_file, encoding="utf-8") as handle:
        assert json.load(handle) == {}


def test_plugin_item_with_ids_can_be_rewatched(kodi, server, clock, stop_services):
    service = start(kodi, server, clock)
    stop_services.append(service)
    tag = InfoTagVideo(media_type="movie", title="Oppenheimer", year=2023, path="plugin://plugin.video.x/1")
    context_menu(kodi, tag, properties={"service.scrobbler.simkl.ids": json.dumps({"imdb": "tt15398776"})},
                 clock=clock)
    service.idle()
    assert rewatch_requests(server)[0].json["movies"][0]["ids"] == {"imdb": "tt15398776"}


# --- sessions under faults -----------------------------------------------------------------------

def test_an_episode_counted_twice_in_one_session_within_48_hours_is_sent_once(kodi, server, clock, stop_services):
    service = start(kodi, server, clock)
    stop_services.append(service)
    context_menu(kodi, show_tag(), clock=clock)
    service.idle()

    service.play(episode_tag(), EPISODE["file"], total=3000)
    service.idle()
    clock.advance(3 * 3600)
    service.play(episode_tag(), EPISODE["file"], total=3000)  # watched again the same evening
    service.idle()

    episodes = [w for w in server.watches if w.kind == "episode"]
    assert len(episodes) == 1 and episodes[0].rewatch


@pytest.mark.parametrize("status", [400, 404, 422])
def test_a_refused_session_start_ends_the_session_and_its_episodes_go_as_ordinary_watches(kodi, server, clock,
                                                                                         stop_services, status):
    service = start(kodi, server, clock)
    stop_services.append(service)
    server.fail("/sync/history", status)  # Simkl refuses the session start
    context_menu(kodi, show_tag(), clock=clock)
    service.idle()

    service.play(episode_tag(), EPISODE["file"], total=3000)
    service.idle()

    assert [(w.kind, w.rewatch) for w in server.watches] == [("episode", False)]
    assert any(n[:2] == ("Rewatch not recorded", "The Last of Us (2023)") for n in kodi.notifications)
    with open(os.path.join(kodi.profile_dir, "rewatch_sessions.json"), encoding="utf-8") as handle:
        assert json.load(handle) == {}


def test_a_session_whose_start_the_user_discarded_lets_its_episodes_go(kodi, server, clock, stop_services):
    from lib.scrobbler.delivery.outbox import Outbox
    service = start(kodi, server, clock)
    stop_services.append(service)
    server.refused_ids.add("tvdb=392256")  # every request naming the show is refused for a while
    context_menu(kodi, show_tag(), clock=clock)
    service.idle()
    server.refused_ids.clear()
    with Outbox(os.path.join(kodi.profile_dir, "outbox.sqlite"), clock=clock) as outbox:
        outbox.discard_attention([a.id for a in outbox.attention()])

    service.play(episode_tag(), EPISODE["file"], total=3000)
    service.idle()

    assert [(w.kind, w.rewatch) for w in server.watches] == [("episode", False)]


def test_a_crash_after_simkl_started_the_session_but_before_the_pin_was_kept_recovers(kodi, server, clock,
                                                                                      stop_services):
    service = start(kodi, server, clock)
    stop_services.append(service)
    context_menu(kodi, show_tag(), clock=clock)
    service.idle()
    pinned = server.watches[0].rewatch_id
    service.stop()
    sessions_file = os.path.join(kodi.profile_dir, "rewatch_sessions.json")
    with open(sessions_file, encoding="utf-8") as handle:
        sessions = json.load(handle)
    for session in sessions.values():
        session["rewatch_id"] = None  # the session file was not written before the crash
    with open(sessions_file, "w", encoding="utf-8") as handle:
        json.dump(sessions, handle)

    again = RunningService(kodi, clock).start()
    stop_services.append(again)
    again.play(episode_tag(), EPISODE["file"], total=3000)
    again.idle()

    episodes = [r for r in rewatch_requests(server) if "seasons" in r.json["shows"][0]]
    assert [r.json["shows"][0]["rewatch_id"] for r in episodes] == [pinned]
    assert len(rewatch_requests(server)) == 2  # the start was not sent again
