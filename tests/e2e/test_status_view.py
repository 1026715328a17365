"""Scenario: the status view is the add-on's own window (resources/skins/default/1080i/script-simkl-status.xml):
information takes no focus, only the actions that apply are offered, Retry now tells its outcome, Close closes;
the open view follows what the service does without a key press, and Retry all tells its outcome too."""
import re
import time

import pytest

from .addon_steps import (
    LOGIN_WINDOW,
    STATUS_INFO,
    STATUS_WINDOW,
    choose_in_status_view,
    close_status_view,
    focused_label,
    open_status_view,
    quit_cleanly,
    retry_all_outcomes,
    retry_outcomes,
    simkl_env,
    status_view,
    wait_for_requests,
)
from .kodi_harness import Kodi
from .media_library import EXCLUDED_MOVIE, MOVIE_ONE, MOVIE_TWO

pytestmark = pytest.mark.e2e

HISTORY = "/sync/history"
MOVES = ("Down", "Down", "Down", "Up", "Up", "Up", "Left", "Right")


@pytest.fixture(scope="module")
def kodi_env(fake):
    return simkl_env(fake)


@pytest.fixture(scope="module")
def kodi_addon_settings():
    return {"sync_from_simkl": True}  # the view shows when the login's sync ended


def focus_walk(kodi: Kodi):
    """Move the focus every way a remote can; returns each focused label and every information control that
    ever had the focus."""
    labels, focused_info = [focused_label(kodi)], set()
    checks = ["Control.HasFocus(%d)" % control_id for control_id in STATUS_INFO.values()]
    for move in MOVES:
        kodi.send_input(move)
        time.sleep(0.3)  # the focus moves in one of Kodi's next frames
        labels.append(focused_label(kodi))
        answer = kodi.call("XBMC.GetInfoBooleans", {"booleans": checks})
        focused_info |= {check for check, value in answer.items() if value}
    return labels, focused_info


def test_logged_out_the_view_offers_log_in_and_no_retry_and_its_information_takes_no_focus(kodi, fake):
    open_status_view(kodi)
    shown = status_view(kodi)
    assert shown["heading"] == "Simkl · Status and queue"
    assert shown["account"] == "Not logged in"
    assert shown["counts"] == "Waiting to be sent: 0   ·   Sent: 0"
    assert shown["waiting"] == "Nothing is waiting to be sent."
    assert shown["actions"] == "Log in | Close"

    labels, focused_info = focus_walk(kodi)

    assert focused_info == set()
    assert set(labels) == {"Log in", "Close"}, labels


def test_log_in_from_the_view_runs_the_login_and_the_view_then_shows_the_account(kodi, fake):
    choose_in_status_view(kodi, "Log in")
    assert kodi.wait_for_window(LOGIN_WINDOW, 20), "the login dialog did not open\n" + kodi.log_tail()
    assert kodi.wait_until(lambda: fake.devices or fake.pins, 10), "the add-on asked Simkl for no code"
    fake.approve_pin()
    assert kodi.wait_until(lambda: not kodi.window_active(LOGIN_WINDOW), 20), "the login dialog stayed open"

    assert kodi.wait_until(lambda: status_view(kodi)["account"] == "Logged in as jane_doe (PRO)", 10), \
        status_view(kodi)
    assert kodi.window_active(STATUS_WINDOW)
    # Nothing waits: no Retry now. Waited for: the view relabels its buttons after its account line.
    assert kodi.wait_until(lambda: status_view(kodi)["actions"] == "Sync now | Close", 5), status_view(kodi)
    close_status_view(kodi)
    wait_for_requests(fake, "/users/settings", 1, status=200)


def test_with_a_watch_waiting_the_view_says_when_and_why_and_retry_now_tells_its_outcome(kodi, fake):
    # Retry-After keeps the add-on's own next try 10 minutes away: only Retry now sends sooner.
    fake.fail(HISTORY, 503, times=1000, retry_after="600")
    assert kodi.play_to_end({"movieid": kodi.movie_id(MOVIE_ONE.title)}, seek_to=99)["end"] is True
    wait_for_requests(fake, HISTORY, 1, status=503)
    # The fake has answered; the add-on logs this once the failure is in its queue, which the view reads.
    assert kodi.wait_for_log(r"sending 1 entries failed \(server error 503\)", 20), kodi.log_tail()

    open_status_view(kodi)
    shown = status_view(kodi)
    assert shown["counts"] == "Waiting to be sent: 1   ·   Sent: 0"
    assert re.fullmatch(r"Next automatic try: \S.* \(in (9|10) min\)", shown["next_try"]), shown
    assert shown["why"] == "Why: Simkl had a problem answering"
    assert shown["waiting_heading"] == "Waiting to be sent"
    assert shown["waiting"].startswith("%s (%d) — watched " % (MOVIE_ONE.title, MOVIE_ONE.year)), shown
    assert "problem" not in shown  # the Why line says it: never the same words twice
    assert shown["actions"] == "Retry now | Sync now | Close"
    assert focused_label(kodi) == "Retry now"

    kodi.send_input("Select")  # still down: the retry fails again and says so
    assert kodi.wait_until(lambda: retry_outcomes(kodi), 40), kodi.log_tail()
    assert retry_outcomes(kodi) == ["sent 0, needs attention 0, failing: server"]
    assert kodi.wait_for_window("notification", 5), "no notification of the outcome"
    wait_for_requests(fake, HISTORY, 2, status=503)

    fake.clear_faults()  # Simkl is back
    assert focused_label(kodi) == "Retry now"
    kodi.send_input("Select")
    assert kodi.wait_until(lambda: len(retry_outcomes(kodi)) == 2, 40), kodi.log_tail()
    assert retry_outcomes(kodi)[1] == "sent 1, needs attention 0, failing: none"
    wait_for_requests(fake, HISTORY, 1, status=201)

    # The view, still open, shows what is left: nothing waits, so Retry now is gone.
    assert kodi.wait_until(lambda: status_view(kodi)["actions"] == "Sync now | Close", 5), status_view(kodi)
    shown = status_view(kodi)
    assert shown["counts"] == "Waiting to be sent: 0   ·   Sent: 1"
    assert "next_try" not in shown and "problem" not in shown
    assert focused_label(kodi) in ("Sync now", "Close")


def test_close_closes_the_view_and_back_does_too(kodi, fake):
    close_status_view(kodi)  # the view of the scenario above, still open
    assert not kodi.window_active(STATUS_WINDOW)

    open_status_view(kodi)
    kodi.send_input("Back")
    assert kodi.wait_until(lambda: not kodi.window_active(STATUS_WINDOW), 10), "Back left the view open"


def test_a_watch_sent_while_the_view_is_open_leaves_it_without_a_key_press(kodi, fake):
    # Simkl is down for 20 s: the service's own next try (Retry-After) sends it while the view is open.
    fake.fail(HISTORY, 503, times=1, retry_after="20")
    assert kodi.play_to_end({"movieid": kodi.movie_id(MOVIE_TWO.title)}, seek_to=99)["end"] is True
    assert kodi.wait_for_log(r"sending 1 entries failed \(server error 503\): next try in 20 s", 30), kodi.log_tail()
    open_status_view(kodi)
    shown = status_view(kodi)
    assert shown["counts"] == "Waiting to be sent: 1   ·   Sent: 1", shown
    assert shown["waiting"].startswith("%s (%d) — watched " % (MOVIE_TWO.title, MOVIE_TWO.year)), shown
    assert shown["why"] == "Why: Simkl had a problem answering", shown
    outcomes = len(retry_outcomes(kodi))

    wait_for_requests(fake, HISTORY, 2, timeout=60, status=201)  # nobody touched the remote meanwhile

    # the window sets its labels one after the other: wait for the whole view, not only its first line
    assert kodi.wait_until(lambda: (status_view(kodi)["counts"], status_view(kodi)["waiting"])
                           == ("Waiting to be sent: 0   ·   Sent: 2", "Nothing is waiting to be sent."), 5), \
        status_view(kodi)
    shown = status_view(kodi)
    assert "next_try" not in shown and "waiting_heading" not in shown
    assert shown["actions"] == "Sync now | Close"
    assert len(retry_outcomes(kodi)) == outcomes  # no Retry now was pressed
    # The login's first sync ran meanwhile (it waits while a video plays): the view shows when it ended, in
    # Kodi's regional format, also without a key press.
    assert kodi.wait_until(lambda: status_view(kodi).get("last_sync"), 60), status_view(kodi)
    assert re.fullmatch(r"Last sync with Simkl: (\S+ )?\d{1,2}:\d{2}( [AP]M)?", status_view(kodi)["last_sync"]), \
        status_view(kodi)
    close_status_view(kodi)


def test_retry_all_of_an_entry_simkl_refuses_again_tells_it_and_the_view_shows_it_under_needs_attention(kodi, fake):
    fake.refused_ids.add("imdb=%s" % EXCLUDED_MOVIE.ids["imdb"])
    assert kodi.play_to_end({"movieid": kodi.movie_id(EXCLUDED_MOVIE.title)}, seek_to=99)["end"] is True
    wait_for_requests(fake, HISTORY, 1, status=400)
    assert kodi.wait_for_log(r"Simkl refused %s" % re.escape(EXCLUDED_MOVIE.title), 20), kodi.log_tail()
    open_status_view(kodi)
    shown = status_view(kodi)
    assert shown["counts"] == "Waiting to be sent: 0   ·   Sent: 2   ·   Needs attention: 1", shown
    assert shown["actions"] == "Needs attention: 1 | Sync now | Close"

    choose_in_status_view(kodi, "Needs attention: 1")
    assert kodi.wait_for_window("selectdialog", 10), kodi.log_tail()
    assert kodi.wait_until(lambda: focused_label(kodi) == "Retry all", 5), focused_label(kodi)  # the first entry
    kodi.send_input("Select")

    assert kodi.wait_until(lambda: retry_all_outcomes(kodi), 40), kodi.log_tail()
    assert retry_all_outcomes(kodi) == ["sent 0, needs attention 1, failing: none"]
    assert kodi.wait_for_window("notification", 5), "no notification of the outcome"
    # Told once each time Simkl refused it, by the service; the view adds no second notification.
    told = r"told: Not accepted by Simkl: %s" % re.escape(EXCLUDED_MOVIE.title)
    assert kodi.wait_until(lambda: len(re.findall(told, kodi.log_text())) == 2, 10), kodi.log_tail()
    wait_for_requests(fake, HISTORY, 2, status=400)
    # The view, still open, shows it back under Needs attention, never "Waiting to be sent: 1 · Next try: now".
    # the window sets its labels one after the other: wait for the whole view, not only one line of it
    assert kodi.wait_until(lambda: (status_view(kodi)["actions"], status_view(kodi)["counts"])
                           == ("Needs attention: 1 | Sync now | Close",
                               "Waiting to be sent: 0   ·   Sent: 2   ·   Needs attention: 1"), 5), status_view(kodi)
    shown = status_view(kodi)
    assert "next_try" not in shown
    assert shown["waiting"] == "Nothing is waiting to be sent."
    fake.refused_ids.clear()
    close_status_view(kodi)


def test_kodi_quits_cleanly_with_the_view_open_and_every_request_kept_simkl_rules(kodi, fake):
    open_status_view(kodi)  # the view closes itself at Kodi's abort: no script is killed at quit
    quit_cleanly(kodi)
    assert fake.violations == []
