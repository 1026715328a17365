"""The status view (`default.py status`): what it shows and what its buttons do."""
import os
import runpy
import sys
import time

from lib.scrobbler import config
from lib.scrobbler.media import Movie, Show
from lib.scrobbler.outbox import Outbox
from lib.scrobbler.rewatch import Sessions
from scenario import SHOW, log_in

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_status(kodi, *answers):
    kodi.select_answers.extend(answers)
    old = sys.argv
    sys.argv = ["default.py", "status"]
    try:
        runpy.run_path(os.path.join(ROOT, "default.py"), run_name="__main__")
    finally:
        sys.argv = old


def queue(kodi):
    with Outbox(os.path.join(kodi.profile_dir, config.OUTBOX_FILE)) as outbox:
        first = outbox.add(Movie("Inception", 2010, {"imdb": "tt1375666"}), 1_700_000_000)
        second = outbox.add(Movie("Unknown Film", 1999, {"imdb": "tt0000001"}), 1_700_000_000)
        third = outbox.add(Movie("Dune", 2021, {"imdb": "tt1160419"}), 1_700_000_000)
        outbox.mark_sent([first])
        outbox.mark_not_found([second])
        outbox.defer([third], time.time() + 3600, "network")


def shown_lines(kodi):
    selects = [d for d in kodi.dialogs if d[0] == "select"]
    return selects[-1][2].split("\n")


def test_status_shows_account_counts_and_the_last_problem_in_plain_words(kodi, simkl):
    log_in(kodi, simkl)
    queue(kodi)
    run_status(kodi, -1)
    lines = shown_lines(kodi)
    assert lines[:5] == ["Logged in as jane_doe (PRO)", "Waiting to be sent: 1", "Sent: 1", "Not found on Simkl: 1",
                         "Last problem: Cannot reach Simkl. Check the network connection and try again."]
    assert "Retry now" in lines and "Discard items Simkl did not find" in lines


def test_retry_now_makes_everything_due_and_wakes_the_service(kodi, simkl):
    log_in(kodi, simkl)
    queue(kodi)
    kodi.jsonrpc_handlers["JSONRPC.NotifyAll"] = lambda params: "OK"
    run_status(kodi, 5)  # the first action, after five information lines
    with Outbox(os.path.join(kodi.profile_dir, config.OUTBOX_FILE)) as outbox:
        assert outbox.next_due() <= time.time()
    assert ("JSONRPC.NotifyAll", {"sender": config.ADDON_ID, "message": config.FLUSH_MESSAGE}) in kodi.jsonrpc_calls


def test_discarding_not_found_items_asks_first_and_removes_them(kodi, simkl):
    log_in(kodi, simkl)
    queue(kodi)
    kodi.yesno_answers.append(True)
    lines_before = 5
    run_status(kodi, lines_before + 2, -1)  # Retry, Show not found, Discard
    with Outbox(os.path.join(kodi.profile_dir, config.OUTBOX_FILE)) as outbox:
        assert outbox.counts()["not_found"] == 0
        assert outbox.counts()["pending"] == 1


def test_an_active_rewatch_session_is_listed_and_can_be_ended(kodi, simkl):
    log_in(kodi, simkl)
    sessions = Sessions(kodi.profile_dir)
    show = Show(SHOW["title"], SHOW["year"], {"tvdb": 392256})
    sessions.start(show)
    run_status(kodi, 6, -1)  # 5 lines (account, 3 counts, sessions), then Retry now, End session
    assert "Rewatch sessions: 1" in [d for d in kodi.dialogs if d[0] == "select"][0][2].split("\n")
    assert sessions.all() == {}
    assert any("Rewatch session ended: The Last of Us (2023)" in n[1] for n in kodi.notifications)


def test_not_logged_in_is_said_plainly(kodi, simkl):
    run_status(kodi, -1)
    assert shown_lines(kodi)[0] == "Not logged in"
