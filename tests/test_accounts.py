"""One account's queue is never sent to another (issue 19, item 2), through the real service, the real login
and logout scripts (default.py) and the fake Simkl server serving two users: every queued entry belongs to the
account it was made for, or to nobody yet when it was made while logged out (then to whoever logs in next).
When another account logs in, the login script asks what to do with the first account's waiting watches;
each account sees only its own counts; a logout ends the account's rewatch sessions."""
import json
import os
import runpy
import sqlite3
import sys

import pytest
from test_outbox import OUTBOX_V2_SCHEMA
from videolibrary import VideoLibrary

import fakekodi
from fake_simkl import Account
from lib.scrobbler import config
from lib.scrobbler.delivery.outbox import Outbox
from lib.scrobbler.media import Movie, Show
from lib.scrobbler.rewatch.sessions import Sessions
from lib.scrobbler.sync import runner as runner_module
from lib.scrobbler.sync.state import SyncState
from scenario import EPISODE, MOVIE, SHOW, RunningService, episode_tag, install_library, movie_tag, wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HISTORY = "/sync/history"
JANE = Account("jane_doe", "pro", 12345)
BOB = Account("bob", "vip", 777)
OTHER = {"movieid": 2, "title": "Heat", "year": 1995, "uniqueid": {"imdb": "tt0113277", "tmdb": "949"},
         "file": "/media/movies/Heat (1995)/Heat.mkv"}
SEND, LATER, DISCARD, BACK = 1, 0, 2, -1  # what Kodi's yes/no/custom dialog returns for each of its buttons


def run_default(*args):
    old = sys.argv
    sys.argv = ["default.py", *args]
    try:
        runpy.run_path(os.path.join(ROOT, "default.py"), run_name="__main__")
    finally:
        sys.argv = old


@pytest.fixture
def fast_logins(server, monkeypatch):
    """The login script's PIN (the V1 login: a GET poll, while the device login's POSTs would meet the fake's
    POST pace on the virtual clock) is approved at its first poll, which comes at once."""
    monkeypatch.setenv("SIMKL_AUTH", "v1")
    server.pin_interval = 0.01
    server.approve_after_polls = 1


@pytest.fixture
def running(kodi, server, clock, fast_logins):
    install_library(kodi, movies=(MOVIE, OTHER))
    services = []

    def start():
        services.append(RunningService(kodi, clock).start())
        return services[-1]

    yield start
    server.release()
    for service in services:
        if service.thread.is_alive():
            service.stop(within=5)


def log_in_as(user, kodi, server, clock, answers=()):
    """`default.py login` approved as `user` on the fake Simkl; `answers` are the buttons the user presses
    in the questions that follow it."""
    kodi.yesnocustom_answers.extend(answers)
    server.account = user
    clock.advance(2)  # Simkl's 1 POST per second, counted on the virtual clock the fake server keeps
    run_default("login")
    del kodi.yesnocustom_answers[:]  # an answer no question took (the test looks at the questions asked)


def log_in_with_the_device_login(user, kodi, server, clock, monkeypatch):
    """`default.py login` on a build with the device login (V2), approved as `user`. The script paces its POSTs
    (the code, the poll, /users/settings: about 2 s) on the real clock, which the fake's check of Simkl's pace on
    the virtual clock cannot follow: that check is left out for this login alone. (The pace is not shrunk: the
    service's own pause after a login is one POST_INTERVAL, on the virtual clock the fake checks.)"""
    with monkeypatch.context() as patch:
        patch.setenv("SIMKL_AUTH", "v2")
        server.enforce_post_rate = False
        try:
            log_in_as(user, kodi, server, clock)
        finally:
            server.enforce_post_rate = True


def log_out(kodi):
    kodi.yesno_answers.append(True)  # "Log out of Simkl?"
    run_default("logout")


def questions(kodi):
    return [(heading, message) for kind, heading, message in kodi.dialogs if kind == "yesnocustom"]


def history_of(server, user):
    """Keys of the history entries Simkl wrote for `user`."""
    return sorted(w.key for w in server.watches if w.account == user.name)


def posted_with(server, user):
    """The /sync/history requests that carried `user`'s token."""
    return [r for r in server.requests_to(HISTORY) if server.account_of(r) is user]


def outbox_of(kodi):
    return Outbox(os.path.join(kodi.profile_dir, config.OUTBOX_FILE))


def watch_while_simkl_fails(service, server, movie=MOVIE):
    server.fail(HISTORY, 503, times=1000, retry_after="600")
    service.play(movie_tag(movie), movie["file"], total=7200)
    service.idle()


INCEPTION, HEAT = "movie:imdb=tt1375666", "movie:imdb=tt0113277"
THE_SHOW = Show(SHOW["title"], SHOW["year"], {"tvdb": 392256, "imdb": "tt3581920", "tmdb": 100088})


def test_a_watch_queued_for_one_account_is_never_sent_with_another_accounts_login(kodi, server, clock, running):
    service = running()
    log_in_as(JANE, kodi, server, clock)
    watch_while_simkl_fails(service, server)
    log_out(kodi)
    log_in_as(BOB, kodi, server, clock, answers=[LATER])
    server.clear_faults()
    clock.advance(700)  # jane's watch is due again
    service.retry_now()
    service.idle()

    assert posted_with(server, BOB) == []
    assert server.watches == []
    with outbox_of(kodi) as outbox:
        assert outbox.counts()["pending"] == 0  # bob's own queue is empty
    log_out(kodi)
    log_in_as(JANE, kodi, server, clock)  # jane's watch waited for her
    service.idle()
    assert history_of(server, JANE) == [INCEPTION]
    assert questions(kodi) == [("Watches of another Simkl account",
                                "1 watch made for jane_doe is not on Simkl yet. Send it to bob, or discard it?"
                                " Later keeps it for jane_doe.")]


def test_send_gives_the_other_accounts_waiting_watches_to_the_new_account(kodi, server, clock, running):
    service = running()
    log_in_as(JANE, kodi, server, clock)
    watch_while_simkl_fails(service, server)
    watch_while_simkl_fails(service, server, OTHER)
    log_out(kodi)
    server.clear_faults()
    log_in_as(BOB, kodi, server, clock, answers=[SEND])
    service.idle()

    assert history_of(server, BOB) == [HEAT, INCEPTION]
    assert history_of(server, JANE) == []
    assert questions(kodi)[0][1] == ("2 watches made for jane_doe are not on Simkl yet. Send them to bob, or discard"
                                     " them? Later keeps them for jane_doe.")
    assert "Sending 2 watches to bob" in [message for _, message, _ in kodi.notifications]
    assert kodi.yesnocustom_buttons == [("Send", "Later", "Discard")]  # Estuary shows yes, no, custom


def test_discard_drops_the_other_accounts_waiting_watches(kodi, server, clock, running):
    service = running()
    log_in_as(JANE, kodi, server, clock)
    watch_while_simkl_fails(service, server)
    log_out(kodi)
    server.clear_faults()
    log_in_as(BOB, kodi, server, clock, answers=[DISCARD])
    service.idle()
    log_out(kodi)
    log_in_as(JANE, kodi, server, clock)
    service.idle()

    assert server.watches == []
    assert len(questions(kodi)) == 1  # jane has nothing left to be asked about
    assert "1 watch discarded" in [message for _, message, _ in kodi.notifications]


def test_a_watch_made_while_logged_out_goes_to_whoever_logs_in_next_without_a_question(kodi, server, clock, running):
    service = running()
    log_in_as(JANE, kodi, server, clock)
    log_out(kodi)
    service.play(movie_tag(), MOVIE["file"], total=7200)  # nobody is logged in
    service.idle()
    log_in_as(BOB, kodi, server, clock)
    service.idle()

    assert history_of(server, BOB) == [INCEPTION]
    assert questions(kodi) == []


def test_each_account_sees_only_its_own_counts_in_the_status_view(kodi, server, clock, running):
    service = running()
    log_in_as(JANE, kodi, server, clock)
    service.play(movie_tag(OTHER), OTHER["file"], total=6000)  # sent for jane
    service.idle()
    watch_while_simkl_fails(service, server)  # waits for jane
    log_out(kodi)
    server.clear_faults()
    log_in_as(BOB, kodi, server, clock, answers=[BACK])  # Back: kept for jane, as Later
    service.idle()

    with outbox_of(kodi) as outbox:
        from lib.scrobbler.ui import status
        shown = status.Controller(outbox).view()
    assert shown.account == "Logged in as bob (VIP)"
    assert shown.counts == "Waiting to be sent: 0   ·   Sent: 0   ·   Kept for other accounts: 1"
    assert shown.waiting == "Nothing is waiting to be sent."
    assert ("handover", "Other accounts: 1") in shown.actions


def test_the_status_views_choice_asks_again_and_sends_to_the_account_logged_in(kodi, server, clock, running):
    service = running()
    log_in_as(JANE, kodi, server, clock)
    watch_while_simkl_fails(service, server)
    log_out(kodi)
    server.clear_faults()
    log_in_as(BOB, kodi, server, clock, answers=[LATER])
    kodi.yesnocustom_answers.append(SEND)
    kodi.window_steps.extend(["Other accounts: 1"])
    run_default("status")
    service.idle()

    assert history_of(server, BOB) == [INCEPTION]
    assert len(questions(kodi)) == 2


def test_no_question_over_a_playing_video_the_watches_stay_kept(kodi, server, clock, running):
    service = running()
    log_in_as(JANE, kodi, server, clock)
    watch_while_simkl_fails(service, server)
    log_out(kodi)
    server.clear_faults()
    kodi.conditions["Player.HasVideo"] = True  # a film plays behind the settings
    log_in_as(BOB, kodi, server, clock)
    service.idle()

    assert questions(kodi) == []
    assert kodi.notifications[-1][:2] == ("Watches of jane_doe wait", "Open Simkl Scrobbler to decide")
    assert server.watches == []


def test_no_question_between_two_items_of_a_playlist_either(kodi, server, clock, running):
    service = running()
    log_in_as(JANE, kodi, server, clock)
    watch_while_simkl_fails(service, server)
    log_out(kodi)
    server.clear_faults()
    kodi.playlist_sizes[1], kodi.playlist_position = 3, 1  # the next item is opening: nothing plays for a moment
    log_in_as(BOB, kodi, server, clock)
    service.idle()

    assert questions(kodi) == []
    assert kodi.notifications[-1][:2] == ("Watches of jane_doe wait", "Open Simkl Scrobbler to decide")


def test_log_out_ends_the_accounts_rewatch_sessions(kodi, server, clock, running):
    kodi.set_setting("track_rewatches", True)
    running()
    log_in_as(JANE, kodi, server, clock)
    Sessions(kodi.profile_dir).start(THE_SHOW)
    log_out(kodi)
    assert Sessions(kodi.profile_dir).all() == {}


def test_a_watch_made_while_logged_out_never_joins_the_last_accounts_rewatch_session(kodi, server, clock, running):
    kodi.set_setting("track_rewatches", True)
    service = running()
    log_in_as(JANE, kodi, server, clock)
    Sessions(kodi.profile_dir).start(THE_SHOW)
    os.remove(os.path.join(kodi.profile_dir, "token.json"))  # logged out behind the service's back
    service.play(episode_tag(), EPISODE["file"], total=3000)
    service.idle()

    assert "as part of its rewatch session" not in kodi.log_text()
    with outbox_of(kodi) as outbox:
        assert [w.state for w in outbox.waiting_entries()] == ["pending"]
        assert outbox.take_batch()[0].rewatch is False


def test_an_old_queue_files_entries_belong_to_whoever_logs_in_next(kodi, server, clock, running):
    path = os.path.join(kodi.profile_dir, config.OUTBOX_FILE)
    old = sqlite3.connect(path)  # the queue 0.4.0 leaves: no owners
    old.executescript(OUTBOX_V2_SCHEMA)
    old.execute("INSERT INTO entries (kind, item, item_key, watched_at, next_try, created, updated)"
                " VALUES ('add', ?, ?, '2026-05-14T19:00:00Z', 0, 0, 0)",
                (json.dumps(Movie("Inception", 2010, {"imdb": "tt1375666"}).to_dict()), INCEPTION))
    old.commit()
    old.close()
    service = running()
    log_in_as(BOB, kodi, server, clock)
    service.idle()

    assert history_of(server, BOB) == [INCEPTION]
    assert questions(kodi) == []


def test_a_live_stop_waiting_out_simkls_lock_never_goes_out_with_the_next_accounts_login(kodi, server, clock,
                                                                                          running):
    kodi.set_setting("live_scrobble", True)
    service = running()
    log_in_as(JANE, kodi, server, clock)
    # Simkl's 20-second lock (another of jane's devices scrobbled): the stop waits for it
    server.fail("/scrobble/stop", 400, body={"error": "RATE_LIMIT", "code": 400, "message": "Please wait"})
    service.play(movie_tag(), MOVIE["file"], total=7200)
    assert [r.status for r in server.requests_to("/scrobble/stop")] == [400]
    log_out(kodi)
    log_in_as(BOB, kodi, server, clock, answers=[LATER])
    service.wait(20)
    service.idle()

    assert [r.path for r in server.requests if r.path.startswith("/scrobble/") and server.account_of(r) is BOB] == []
    assert posted_with(server, BOB) == []
    log_out(kodi)
    log_in_as(JANE, kodi, server, clock)  # the watch waited for her
    service.idle()
    assert history_of(server, JANE) == [INCEPTION]


def test_a_history_question_waiting_for_a_video_to_end_is_never_asked_with_another_accounts_login(
        kodi, server, clock, running):
    kodi.set_setting("sync_from_simkl", True)
    service = running()
    library = VideoLibrary(kodi, movies=(MOVIE, OTHER))
    library.movies[2].update(playcount=1, lastplayed="2025-12-24 20:15:00")  # Heat, watched in Kodi
    fakekodi.open_file(fakekodi.PlayingFile(movie_tag(MOVIE), MOVIE["file"], 7200))  # a film plays
    log_in_as(JANE, kodi, server, clock)
    runner = service.service.sync
    runner.request()
    runner.wake()
    assert wait_for(lambda: SyncState(kodi.profile_dir, JANE.name).import_due, 5)  # jane's question waits
    log_out(kodi)
    server.library.watch_movie("Heat", 1995, {"imdb": "tt0113277"}, "2026-05-01T20:00:00Z")  # bob has Heat
    log_in_as(BOB, kodi, server, clock)
    kodi.yesno_answers.append(True)
    fakekodi.close_file(natural=True)
    clock.advance(runner_module.QUIET_AFTER)
    runner.request()
    runner.wake()
    assert wait_for(lambda: runner.completed >= 2 and not runner.running, 10)
    service.idle()

    assert posted_with(server, BOB) == []
    assert [d for d in kodi.dialogs if d[0] == "yesno" and "history" in d[1]] == []
    assert "sync: jane_doe is no longer logged in: Kodi's history found missing there is not queued" \
        in kodi.log_text()  # jane's next login starts her sync state over: its first sync asks her again


def test_kodis_history_asked_for_by_one_account_is_not_queued_when_another_logged_in_during_the_sync(
        kodi, server, clock, running):
    kodi.set_setting("sync_from_simkl", True)
    service = running()
    library = VideoLibrary(kodi, movies=(MOVIE, OTHER))
    library.movies[2].update(playcount=1, lastplayed="2025-12-24 20:15:00")  # Heat, watched in Kodi
    log_in_as(JANE, kodi, server, clock)
    runner = service.service.sync
    assert wait_for(lambda: not runner.running, 5)
    server.hold("/sync/activities")  # jane's Send Kodi's history: Simkl is slow with the sync's first answer
    service.service.notification(config.ADDON_ID, "Other." + config.IMPORT_MESSAGE, "null")
    assert wait_for(lambda: runner.running, 5)
    log_out(kodi)
    log_in_as(BOB, kodi, server, clock)
    server.release()
    assert wait_for(lambda: not runner.running, 10)
    service.idle()

    assert posted_with(server, BOB) == []
    with outbox_of(kodi) as outbox:
        assert sum(outbox.counts().values()) == 0
    assert (kodi.string(32881), kodi.string(32880)) in [(h, m) for h, m, _ in kodi.notifications]  # told why


def history_questions(kodi):
    heading = kodi.string(32750)  # the heading of the first sync's history question
    return [d for d in kodi.dialogs if d[0] == "yesno" and d[1] == heading]


def test_an_account_asked_about_kodis_history_is_not_asked_again_after_another_accounts_turn(
        kodi, server, clock, running):
    kodi.set_setting("sync_from_simkl", True)
    service = running()
    runner = service.service.sync
    library = VideoLibrary(kodi, movies=(MOVIE, OTHER))
    library.movies[2].update(playcount=1, lastplayed="2025-12-24 20:15:00")  # Heat, watched in Kodi only

    def sync_after_login(user):
        done = runner.completed
        log_in_as(user, kodi, server, clock)
        runner.request()
        runner.wake()
        assert wait_for(lambda: runner.completed > done and not runner.running, 10)
        service.idle()

    kodi.yesno_answers.append(False)  # jane: "No" to sending Kodi's history
    sync_after_login(JANE)
    log_out(kodi)
    kodi.yesno_answers.append(False)  # bob is asked his own question once
    sync_after_login(BOB)
    log_out(kodi)
    sync_after_login(JANE)  # her turn again: the sync compares the whole of Kodi again, the question is not asked

    assert len(history_questions(kodi)) == 2
    assert history_of(server, JANE) == history_of(server, BOB) == []
    assert SyncState(kodi.profile_dir, JANE.name).full_done


def test_a_sync_state_file_from_before_keeps_the_answered_history_question_across_a_switch(tmp_path):
    (tmp_path / "sync_state.json").write_text(json.dumps({
        "account": JANE.name, "activities": {"all": "2026-01-01T00:00:00Z"}, "full_done": True,
        "import_offered": True, "import_due": False}))  # what 0.4.1 wrote
    bob = SyncState(str(tmp_path), BOB.name)
    assert (bob.full_done, bob.import_offered) == (False, False)
    bob.save()

    jane = SyncState(str(tmp_path), JANE.name)
    assert (jane.full_done, jane.activities, jane.import_offered) == (False, None, True)


def test_a_refusal_held_back_during_playback_is_never_told_to_the_next_account(kodi, server, clock, running):
    kodi.set_setting("notify_quiet_playback", True)
    service = running()
    log_in_as(JANE, kodi, server, clock)
    server.refused_ids.add("imdb=tt1375666")  # Simkl refuses jane's Inception
    service.play(movie_tag(MOVIE), MOVIE["file"], total=7200)
    fakekodi.open_file(fakekodi.PlayingFile(movie_tag(OTHER), OTHER["file"], 7200))  # the next film plays
    service.idle()
    log_out(kodi)
    log_in_as(BOB, kodi, server, clock)
    fakekodi.close_file(natural=False)
    service.service.notification("xbmc", "Player.OnStop", json.dumps({"end": False}))
    service.idle()

    refused = kodi.string(32800)  # "Not accepted by Simkl"
    assert [n for n in kodi.notifications if n[0] == refused] == []
    with outbox_of(kodi) as outbox:
        assert sum(outbox.counts().values()) == 0  # bob's queue: jane's refused watch stays hers


# -- Simkl ends the PIN login (issue 21) ----------------------------------------------------------------------------

def movies_posted(server):
    """The imdb ids of the movies in every /sync/history request Simkl took, each as often as it was sent."""
    return sorted(movie["ids"]["imdb"] for r in server.requests_to(HISTORY) if r.status == 201
                  for movie in r.json.get("movies") or [])


@pytest.mark.parametrize("known_by", ["account id", "user name"])
def test_after_simkl_ends_the_v1_login_the_same_users_device_login_sends_every_waiting_watch_once_unasked(
        kodi, server, clock, running, monkeypatch, known_by):
    if known_by == "user name":  # a V1 login saved by a version that did not keep Simkl's account id
        with open(os.path.join(kodi.profile_dir, "token.json"), "w", encoding="utf-8") as handle:
            json.dump({"access_token": server.issue_token(account=JANE), "flow": "v1", "user_name": JANE.name,
                       "account_type": JANE.type}, handle)
        service = running()
    else:
        service = running()
        log_in_as(JANE, kodi, server, clock)  # the PIN login (fast_logins)
    server.refuse_v1_tokens()
    service.play(movie_tag(), MOVIE["file"], total=7200)  # meets the 401 and waits for jane
    service.idle()
    service.play(movie_tag(OTHER), OTHER["file"], total=6000)  # made while logged out
    service.idle()
    assert server.watches == []
    assert [n[:2] for n in kodi.notifications if n[2] == "warning"] == [("Simkl's login changed",
                                                                         "Choose Log in; watches are kept")]

    log_in_with_the_device_login(JANE, kodi, server, clock, monkeypatch)
    service.idle()

    assert questions(kodi) == []
    assert history_of(server, JANE) == [HEAT, INCEPTION], server.log_text() + "\n" + kodi.log_text()
    assert movies_posted(server) == ["tt0113277", "tt1375666"]  # each once
    with open(os.path.join(kodi.profile_dir, "token.json"), encoding="utf-8") as handle:
        assert json.load(handle)["flow"] == "v2"
    assert all(r.headers["Authorization"].startswith("Bearer v2-token-")
               for r in server.requests_to(HISTORY) if r.status == 201)
    with outbox_of(kodi) as outbox:
        assert outbox.kept_for_others() == []
    assert server.violations == []
