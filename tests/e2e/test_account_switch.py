"""Scenario: two Simkl accounts take turns on one Kodi (issue 19, item 2). jane_doe logs in and watches a movie
while Simkl answers 503; she logs out (the question says her watch is kept for her), a movie is watched while
nobody is logged in; bob logs in: the movie watched logged out is his without a question, and the login asks
what to do with jane's waiting watch. Back keeps it for her: bob's status view counts only his own and offers
the choice; there Send gives it to bob. Nothing of jane's ever goes out with bob's login unasked."""
import re

import pytest

from fake_simkl import Account

from .addon_steps import (
    ADDON_ID,
    choose_in_status_view,
    close_status_view,
    focused_label,
    login,
    open_status_view,
    quit_cleanly,
    simkl_env,
    status_view,
    wait_for_requests,
)
from .media_library import MOVIE_ONE, MOVIE_TWO

pytestmark = pytest.mark.e2e

HISTORY = "/sync/history"
QUESTION = "yesnodialog"  # Kodi's yes/no dialog, which Dialog.yesnocustom shows with its third button
JANE = Account()  # the fake's first user: jane_doe, PRO
BOB = Account("bob", "vip", 777)


@pytest.fixture(scope="module")
def kodi_env(fake):
    return simkl_env(fake)


def posts(fake, movie, user=None, status=None):
    """The /sync/history POSTs that carried this movie (with `user`'s token, answered `status`, if given)."""
    return [r for r in fake.requests_to(HISTORY, "POST")
            if any(m.get("title") == movie.title for m in (r.json or {}).get("movies", []))
            and (user is None or fake.account_of(r) is user) and (status is None or r.status == status)]


def question_text(kodi):
    """The open question's message (the dialog's text box), once Kodi has filled it in."""
    return kodi.wait_until(lambda: kodi.info_labels("Control.GetLabel(9)")["Control.GetLabel(9)"], 10)


def press(kodi, key, then):
    """Move the focus with `key` and wait until `then` has it."""
    kodi.send_input(key)
    assert kodi.wait_until(lambda: focused_label(kodi) == then, 3, interval=0.05), \
        "%r has the focus after %s, not %r" % (focused_label(kodi), key, then)


def move_to(kodi, label, key, steps=4):
    for _ in range(steps):
        if focused_label(kodi) == label:
            return
        kodi.send_input(key)
        kodi.wait_until(lambda: focused_label(kodi) == label, 1, interval=0.05)
    assert focused_label(kodi) == label, "no %r in reach: %r has the focus" % (label, focused_label(kodi))


def test_jane_logs_in_and_her_watch_waits_while_simkl_fails(kodi, fake):
    login(kodi, fake)
    wait_for_requests(fake, "/users/settings", 1, status=200)
    fake.fail(HISTORY, 503, times=1000, retry_after="600")  # her watch waits: only a later try sends it

    assert kodi.play_to_end({"movieid": kodi.movie_id(MOVIE_ONE.title)}, seek_to=99)["end"] is True

    wait_for_requests(fake, HISTORY, 1, status=503)
    assert kodi.wait_for_log(r"sending 1 entries failed \(server error 503\)", 20), kodi.log_tail()
    assert [fake.account_of(r) for r in posts(fake, MOVIE_ONE)] == [JANE]


def test_she_logs_out_the_question_says_her_watch_is_kept_for_her(kodi, fake):
    kodi.run_addon(ADDON_ID, "logout")
    assert kodi.wait_for_window("yesnodialog", 15), "Log out did not ask\n" + kodi.log_tail()
    assert question_text(kodi) == ("Log out of Simkl? Watches not yet sent are kept for jane_doe (if another account"
                                   " logs in, you are asked about them). Rewatch sessions end.")
    move_to(kodi, "Yes", "Left")  # Yes is left of No, which has the focus
    kodi.send_input("Select")
    assert kodi.wait_until(lambda: kodi.addon_settings(ADDON_ID).get("logged_in") == "false", 10)
    assert not (kodi.addon_data(ADDON_ID) / "token.json").exists()


def test_a_movie_watched_while_nobody_is_logged_in_waits(kodi, fake):
    assert kodi.play_to_end({"movieid": kodi.movie_id(MOVIE_TWO.title)}, seek_to=99)["end"] is True
    assert kodi.wait_for_log(r"watched '%s'" % MOVIE_TWO.title, 20), kodi.log_tail()
    assert posts(fake, MOVIE_TWO) == []


def test_bob_logs_in_gets_the_movie_watched_logged_out_and_is_asked_about_janes(kodi, fake):
    fake.clear_faults()  # Simkl is back
    fake.account = BOB
    login(kodi, fake)

    assert kodi.wait_for_window(QUESTION, 15), "no question about jane's watch\n" + kodi.log_tail()
    assert question_text(kodi) == ("1 watch made for jane_doe is not on Simkl yet. Send it to bob, or discard it?"
                                   " Later keeps it for jane_doe.")
    assert kodi.wait_until(lambda: focused_label(kodi), 5) == "Later"  # an early press of OK loses nothing
    press(kodi, "Right", "Discard")  # on screen: Send | Later | Discard
    press(kodi, "Left", "Later")
    press(kodi, "Left", "Send")
    kodi.send_input("Back")  # keeps it for jane, as Later does
    assert kodi.wait_until(lambda: not kodi.window_active(QUESTION), 10)
    assert kodi.wait_for_log(r"1 entries of another account waiting: later \(0\)", 10), kodi.log_tail()

    (sent,) = wait_for_requests(fake, HISTORY, 1, status=201)
    assert fake.account_of(sent) is BOB and [m["title"] for m in sent.json["movies"]] == [MOVIE_TWO.title]
    assert re.search(r"1 queued entries made while nobody was logged in are now bob's", kodi.log_text())
    assert posts(fake, MOVIE_ONE, user=BOB) == []


def test_bobs_status_view_shows_only_his_counts_and_offers_janes_watch(kodi, fake):
    open_status_view(kodi)
    assert kodi.wait_until(lambda: status_view(kodi)["account"] == "Logged in as bob (VIP)", 10), status_view(kodi)
    shown = status_view(kodi)
    assert shown["counts"] == "Waiting to be sent: 0   ·   Sent: 1   ·   Kept for other accounts: 1"
    assert shown["waiting"] == "Nothing is waiting to be sent."
    assert shown["actions"] == "Other accounts: 1 | Sync now | Close"


def test_send_in_the_status_view_gives_janes_watch_to_bob(kodi, fake):
    choose_in_status_view(kodi, "Other accounts: 1")
    assert kodi.wait_for_window(QUESTION, 15), "the view's choice asked nothing\n" + kodi.log_tail()
    move_to(kodi, "Send", "Left")
    kodi.send_input("Select")

    (sent,) = [r for r in wait_for_requests(fake, HISTORY, 2, status=201) if r in posts(fake, MOVIE_ONE)]
    assert fake.account_of(sent) is BOB
    assert [w.account for w in fake.watches] == ["bob", "bob"]
    # the view, refreshed after the choice (Simkl may get the watch a moment before the view is drawn again)
    assert kodi.wait_until(lambda: "Kept for other accounts" not in status_view(kodi)["counts"], 10), \
        status_view(kodi)
    close_status_view(kodi)
    open_status_view(kodi)
    assert kodi.wait_until(lambda: status_view(kodi)["counts"] == "Waiting to be sent: 0   ·   Sent: 2", 10), \
        status_view(kodi)
    assert status_view(kodi)["actions"] == "Sync now | Close"
    close_status_view(kodi)


def test_kodi_quits_cleanly_and_every_request_kept_simkl_rules(kodi, fake):
    quit_cleanly(kodi)
    assert fake.violations == []
