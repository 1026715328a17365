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
    assert lines == ["Logged in as jane_doe (PRO)", "Waiting to be sent: 1", "Sent: 1",
                     "Last problem: Cannot reach Simkl. Check the network connection and try again.",
                     "Retry now", "Sync now", "Needs attention: 1"]


def test_retry_now_makes_everything_due_and_wakes_the_service(kodi, simkl):
    log_in(kodi, simkl)
    queue(kodi)
    kodi.jsonrpc_handlers["JSONRPC.NotifyAll"] = lambda params: "OK"
    run_status(kodi, 4)  # the first action, after four information lines
    with Outbox(os.path.join(kodi.profile_dir, config.OUTBOX_FILE)) as outbox:
        assert outbox.next_due() <= time.time()
    assert ("JSONRPC.NotifyAll", {"sender": config.ADDON_ID, "message": config.FLUSH_MESSAGE}) in kodi.jsonrpc_calls


def needs_attention_queue(kodi):
    with Outbox(os.path.join(kodi.profile_dir, config.OUTBOX_FILE)) as outbox:
        unknown = outbox.add(Movie("Unknown Film", 1999, {"imdb": "tt0000001"}), 1_700_000_000)
        refused = outbox.add(Movie("Bad Entry", 2001, {"imdb": "tt0000002"}), 1_700_000_000)
        stuck = outbox.add(Movie("Stuck Film", 2002, {"imdb": "tt0000003"}), 1_700_000_000)
        lost = outbox.add_unresolved({"title": "Home Video", "label": "Home Video"}, 1_700_000_000)
        outbox.mark_not_found([unknown])
        outbox.refuse([refused], "400 wrong_parameter")
        for _ in range(3):
            outbox.defer([stuck], time.time() + 3600, "server")
        outbox.unidentified(lost, "no ids")
        return {"unknown": unknown, "refused": refused, "stuck": stuck, "lost": lost}


def attention_rows(kodi):
    selects = [d for d in kodi.dialogs if d[0] == "select" and d[1].startswith("Needs attention")]
    return selects[-1][2].split("\n")


def test_needs_attention_lists_each_entry_with_its_reason_in_plain_words(kodi, simkl):
    log_in(kodi, simkl)
    needs_attention_queue(kodi)

    run_status(kodi, 6, -1, -1)  # Needs attention (after four lines, Retry now, Sync now), then close both lists

    assert attention_rows(kodi) == [
        "Retry all", "Discard all",
        "Home Video — Could not tell which title this is",
        "Stuck Film (2002) — Still failing: Simkl had a problem answering. The add-on tries again by itself.",
        "Bad Entry (2001) — Simkl refused it (400 wrong_parameter)",
        "Unknown Film (1999) — Simkl does not know this title"]


def test_one_entry_can_be_retried_and_another_discarded_after_a_question(kodi, simkl):
    log_in(kodi, simkl)
    ids = needs_attention_queue(kodi)
    kodi.jsonrpc_handlers["JSONRPC.NotifyAll"] = lambda params: "OK"
    kodi.yesno_answers.append(True)

    run_status(kodi, 6, 4, 0, 4, 1, -1, -1)  # Bad Entry: Retry; then the entry in its place, Unknown Film: Discard

    with Outbox(os.path.join(kodi.profile_dir, config.OUTBOX_FILE)) as outbox:
        left = {a.label for a in outbox.attention()}
        assert (outbox.counts()["pending"], outbox.counts()["refused"]) == (2, 0)
    assert left == {"Home Video", "Stuck Film (2002)"}  # Bad Entry retried, Unknown Film discarded
    assert ("yesno", "Simkl", "Discard 1 entries? They will never be sent to Simkl.") in kodi.dialogs
    assert ids


def test_discard_all_asks_first_and_drops_every_entry_that_needs_attention(kodi, simkl):
    log_in(kodi, simkl)
    needs_attention_queue(kodi)
    kodi.yesno_answers.append(True)

    run_status(kodi, 6, 1, -1)

    with Outbox(os.path.join(kodi.profile_dir, config.OUTBOX_FILE)) as outbox:
        assert outbox.attention() == []
        assert sum(outbox.counts().values()) == 0


def test_retry_all_sends_everything_again_and_looks_up_the_unidentified_again(kodi, simkl):
    log_in(kodi, simkl)
    needs_attention_queue(kodi)
    kodi.jsonrpc_handlers["JSONRPC.NotifyAll"] = lambda params: "OK"

    run_status(kodi, 6, 0)

    with Outbox(os.path.join(kodi.profile_dir, config.OUTBOX_FILE)) as outbox:
        assert outbox.attention() == []
        assert (outbox.counts()["pending"], outbox.counts()["unresolved"]) == (3, 1)


def test_an_active_rewatch_session_is_listed_and_can_be_ended(kodi, simkl):
    log_in(kodi, simkl)
    sessions = Sessions(kodi.profile_dir)
    show = Show(SHOW["title"], SHOW["year"], {"tvdb": 392256})
    sessions.start(show)
    run_status(kodi, 6, -1)  # 4 lines (account, 2 counts, sessions), then Retry now, Sync now, End session
    assert "Rewatch sessions: 1" in [d for d in kodi.dialogs if d[0] == "select"][0][2].split("\n")
    assert sessions.all() == {}
    assert any("Rewatch session ended: The Last of Us (2023)" in n[1] for n in kodi.notifications)


def test_sync_now_in_the_status_view_asks_the_service_for_a_sync(kodi, simkl):
    log_in(kodi, simkl)
    kodi.jsonrpc_handlers["JSONRPC.NotifyAll"] = lambda params: "OK"

    run_status(kodi, 4)  # after three lines and Retry now

    assert ("JSONRPC.NotifyAll", {"sender": config.ADDON_ID, "message": config.SYNC_MESSAGE}) in kodi.jsonrpc_calls


def test_not_logged_in_is_said_plainly(kodi, simkl):
    run_status(kodi, -1)
    assert shown_lines(kodi)[0] == "Not logged in"
