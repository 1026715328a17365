"""The status view (`default.py status`): its window from the add-on's skin folder, what it shows and what
its buttons do, with the real outbox file, the fake Simkl server and, for Retry now, the real service."""
import os
import runpy
import sys
import time

from lib.scrobbler import config
from lib.scrobbler import kodi as kodi_api
from lib.scrobbler.delivery.outbox import Outbox
from lib.scrobbler.media import Movie, Show
from lib.scrobbler.rewatch.sessions import Sessions
from lib.scrobbler.simkl.account import current_owner
from scenario import SHOW, Clock, RunningService, log_in, sync_now, wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_status(kodi, *steps, selects=()):
    """Open the status view as Kodi runs `default.py status`; `steps` are what the user does in it
    (a button's label is a click; Back closes it once none is left); returns the window."""
    kodi.window_steps.extend(steps)
    kodi.select_answers.extend(selects)
    old = sys.argv
    sys.argv = ["default.py", "status"]
    try:
        runpy.run_path(os.path.join(ROOT, "default.py"), run_name="__main__")
    finally:
        sys.argv = old
    assert kodi.window_steps == [], "steps left over: %r" % kodi.window_steps
    return [w for w in kodi.windows_shown if w._xml == "script-simkl-status.xml"][-1]


def queue(kodi):
    with Outbox(os.path.join(kodi.profile_dir, config.OUTBOX_FILE)) as outbox:
        first = outbox.add(Movie("Inception", 2010, {"imdb": "tt1375666"}), 1_700_000_000)
        second = outbox.add(Movie("Unknown Film", 1999, {"imdb": "tt0000001"}), 1_700_000_000)
        third = outbox.add(Movie("Dune", 2021, {"imdb": "tt1160419"}), 1_700_000_000)
        outbox.mark_sent([first])
        outbox.mark_not_found([second])
        outbox.defer([third], time.time() + 3600, "network")


def test_the_view_is_the_addons_own_window_with_information_apart_from_actions(kodi, simkl):
    log_in(kodi, simkl)
    queue(kodi)
    window = run_status(kodi)
    assert window.xml_path == os.path.join(ROOT, "resources", "skins", "default", "1080i", "script-simkl-status.xml")
    first = window.screens[0]
    assert first["info"][:2] == ["Simkl · Status and queue", "Logged in as jane_doe (PRO)"]
    assert "Waiting to be sent: 1   ·   Sent: 1   ·   Needs attention: 1" in first["info"]
    # in Kodi's default region for en_gb (tests/kodi_fakes/xbmc.py REGION), in local time
    watched = time.strftime("%m/%d/%Y %I:%M %p", time.localtime(1_700_000_000))
    assert first["info"][first["info"].index("Waiting to be sent") + 1] == "Dune (2021) — watched " + watched
    assert "Why: Simkl could not be reached" in first["info"]
    assert [line for line in first["info"] if line.startswith("Next automatic try: ")]
    assert not [line for line in first["info"] if line.startswith("Last problem")]  # the Why line said it
    assert first["actions"] == ["Retry now", "Needs attention: 1", "Sync now", "Close"]


def test_a_watch_imported_without_a_date_shows_date_unknown_and_never_1970(kodi, simkl):
    from lib.scrobbler.sync.plan import utc_of_kodi_time
    log_in(kodi, simkl)
    with Outbox(os.path.join(kodi.profile_dir, config.OUTBOX_FILE)) as outbox:
        outbox.add_many([(Movie("Heat", 1995, {"imdb": "tt0113277"}), utc_of_kodi_time(""))])
    window = run_status(kodi)
    assert "Heat (1995) — watched, date unknown" in window.screens[0]["info"]
    assert not [line for line in window.screens[0]["info"] if "1970" in line]


def test_close_closes_the_view(kodi, simkl):
    log_in(kodi, simkl)
    window = run_status(kodi, "Close")
    assert window.is_open is False and len(window.screens) == 2


def test_not_logged_in_is_said_plainly_and_log_in_is_offered_instead_of_retry(kodi, simkl):
    queue(kodi)
    window = run_status(kodi)
    assert window.screens[0]["info"][1] == "Not logged in"
    assert "They are sent once you log in." in window.screens[0]["info"]
    assert window.screens[0]["actions"] == ["Log in", "Needs attention: 1", "Close"]


def test_log_in_runs_the_login_and_the_view_then_shows_the_account(kodi, simkl, monkeypatch):
    from lib.scrobbler.simkl import api
    simkl.pin_interval = 0.01
    simkl.approve_after_polls = 1  # the user types the code at once
    monkeypatch.setattr(api, "POST_INTERVAL", 0.02)  # Simkl's POST pacing, shrunk as in test_login
    simkl.post_interval = 0.02
    window = run_status(kodi, "Log in")
    assert ("window", "script-simkl-login.xml") in [d[:2] for d in kodi.dialogs]
    assert window.screens[-2]["info"][1] == "Logged in as jane_doe (PRO)"
    assert window.screens[-2]["actions"] == ["Sync now", "Close"]


def test_retry_now_is_not_offered_with_nothing_waiting(kodi, simkl):
    log_in(kodi, simkl)
    window = run_status(kodi)
    assert window.screens[0]["actions"] == ["Sync now", "Close"]
    assert "Nothing is waiting to be sent." in window.screens[0]["info"]


def retry_with_the_service(kodi, clock=None):
    """Retry now in the view while the real service runs; returns the window once the outcome was told."""
    runner = RunningService(kodi, clock or Clock(time.time())).start()  # by default the queue's times are real
    try:
        # the user waits in the view until the outcome is told
        window = run_status(kodi, "Retry now", lambda window: window.controller.finish())
        runner.idle()
    finally:
        runner.stop()
    return window


def test_retry_now_sends_what_waits_and_names_the_one_title_it_sent(kodi, simkl):
    log_in(kodi, simkl)
    queue(kodi)
    window = retry_with_the_service(kodi)
    assert ("JSONRPC.NotifyAll", {"sender": config.ADDON_ID, "message": config.FLUSH_MESSAGE}) in kodi.jsonrpc_calls
    assert ("Sent to Simkl", "Dune (2021)") in [n[:2] for n in kodi.notifications]
    assert [w.key for w in simkl.watches] == ["movie:imdb=tt1160419"]
    assert "Retry now: sent 1, needs attention 0, failing: none" in kodi.log_text()
    assert window.screens[-2]["actions"] == ["Needs attention: 1", "Sync now", "Close"]  # the view shows it too


def test_retry_now_counts_a_title_queued_twice_as_one_row(kodi, simkl):
    log_in(kodi, simkl)
    with Outbox(os.path.join(kodi.profile_dir, config.OUTBOX_FILE)) as outbox:
        dune = [outbox.add(Movie("Dune", 2021, {"imdb": "tt1160419"}), moment)
                for moment in (1_700_000_000, 1_700_500_000)]  # watched twice, days apart
        heat = outbox.add(Movie("Heat", 1995, {"imdb": "tt0113277"}), 1_700_600_000)
        outbox.defer(dune + [heat], time.time() + 3600, "network")
    retry_with_the_service(kodi)
    assert ("Simkl", "Sent to Simkl: 2") in [n[:2] for n in kodi.notifications]
    assert "Retry now: sent 3, needs attention 0, failing: none" in kodi.log_text()  # the log counts entries


def test_the_open_view_follows_the_queue_without_a_key_press(kodi, simkl):
    """A watch ends while the view is open, Simkl fails, then the service's next try sends it: the view shows
    each change by itself."""
    log_in(kodi, simkl)
    simkl.fail("/sync/history", 503, times=1000, retry_after="600")
    clock = Clock(time.time())
    runner = RunningService(kodi, clock).start()
    seen = []

    def the_service_works_meanwhile(window):
        with Outbox(os.path.join(kodi.profile_dir, config.OUTBOX_FILE)) as outbox:
            outbox.add(Movie("Dune", 2021, {"imdb": "tt1160419"}), time.time())  # a watch ends
        runner.service.kick()
        runner.idle()  # Simkl fails: the service waits 10 minutes
        assert wait_for(lambda: "Why: Simkl had a problem answering" in window.screen()["info"], 3), window.screen()
        seen.append(window.screen())
        simkl.clear_faults()
        clock.advance(601)  # the service's own next try
        runner.service.kick()
        runner.idle()
        assert wait_for(lambda: "Waiting to be sent: 0   ·   Sent: 1" in window.screen()["info"], 3), window.screen()

    try:
        window = run_status(kodi, the_service_works_meanwhile)
    finally:
        runner.stop()
    assert window.screens[0]["actions"] == ["Sync now", "Close"]
    assert "Waiting to be sent: 1   ·   Sent: 0" in seen[0]["info"] and seen[0]["actions"][0] == "Retry now"
    assert window.screens[-2]["actions"] == ["Sync now", "Close"]
    assert "Nothing is waiting to be sent." in window.screens[-2]["info"]


def test_the_view_closes_within_a_second_of_kodis_abort(kodi, simkl):
    log_in(kodi, simkl)
    queue(kodi)

    def kodi_quits(window):
        kodi.abort.set()
        started = time.monotonic()
        assert wait_for(lambda: not window.is_open, 2), "the view stayed open after Kodi's abort"
        assert time.monotonic() - started < 1.0

    run_status(kodi, kodi_quits)


def test_the_view_says_when_the_last_sync_ended_in_the_regional_format(kodi, server, clock, service):
    kodi.set_setting("sync_from_simkl", True)
    kodi.region.update({"dateshort": "%d.%m.%Y", "time": "%H:%M:%S"})
    window = run_status(kodi)
    assert not [line for line in window.screens[0]["info"] if line.startswith("Last sync")]  # none yet

    sync_now(service)

    window = run_status(kodi)
    ended = time.localtime(clock())  # the virtual clock's day is not today: the date is shown too
    assert window.screens[0]["info"][2] == "Last sync with Simkl: %s" % time.strftime("%d.%m.%Y %H:%M", ended)


def test_the_information_sits_in_a_vertical_grouplist_so_a_hidden_line_leaves_no_gap():
    """Kodi lays out a grouplist's visible controls one after the other (xbmc/guilib/GUIControlGroupList.cpp):
    a line with nothing to say takes no room. A text box is as tall as its text, up to its max."""
    import xml.etree.ElementTree as ET
    root = ET.parse(os.path.join(ROOT, "resources", "skins", "default", "1080i", "script-simkl-status.xml")).getroot()
    information = {10, 11, 12, 13, 14, 15, 16, 17}
    lists = [group for group in root.iter("control")
             if group.get("type") == "grouplist" and group.findtext("orientation") == "vertical"]
    holding = [group for group in lists if {int(c.get("id")) for c in group.findall("control")} >= information]
    assert holding, "the information lines are not the children of one vertical grouplist"
    for box in holding[0].findall("control"):
        if box.get("type") == "textbox":
            height = box.find("height")
            assert (height.text, int(height.get("max", 0)) > 0) == ("auto", True), box.get("id")


def test_a_retry_that_fails_again_says_why(kodi, simkl):
    log_in(kodi, simkl)
    queue(kodi)
    simkl.fail("/sync/history", 503, times=1000)
    retry_with_the_service(kodi)
    assert ("Not sent to Simkl yet", "Simkl had a problem answering") in [n[:2] for n in kodi.notifications]
    with Outbox(os.path.join(kodi.profile_dir, config.OUTBOX_FILE), account=current_owner) as outbox:
        assert outbox.counts()["pending"] == 1


def test_retry_now_with_100000_watches_waiting_tells_what_came_of_it(kodi, server, clock, sqlite_999):
    """A first import queued 100,000 watches; SQLite binds at most 999 parameters in one statement. The
    service and the fake Simkl share virtual time (Simkl's one POST a second holds on it)."""
    log_in(kodi, server)
    with Outbox(os.path.join(kodi.profile_dir, config.OUTBOX_FILE)) as outbox:
        imported = ((Movie("Import %d" % n, 2000, {"imdb": "tt%07d" % n}), 1_700_000_000) for n in range(1, 100_001))
        assert outbox.add_many(imported) == 100_000
        outbox.defer(range(1, 100_001), clock.now + 3600, "server", attempt=False)  # nothing due until the retry
    server.breaking_ids.add("imdb=tt0000150")  # the second batch breaks the server

    window = retry_with_the_service(kodi, clock)

    assert len(server.watches) == 100
    assert ("Sent 100, rest waits", "Simkl had a problem answering") in [n[:2] for n in kodi.notifications]
    assert "Retry now: sent 100, needs attention 0, failing: server" in kodi.log_text()
    assert "Waiting to be sent: 99900   ·   Sent: 100" in window.screens[-2]["info"]


def test_when_the_wait_for_retry_now_runs_out_what_was_sent_so_far_is_told(kodi, simkl, monkeypatch):
    from lib.scrobbler.ui import status
    log_in(kodi, simkl)
    path = os.path.join(kodi.profile_dir, config.OUTBOX_FILE)
    with Outbox(path) as outbox:
        imported = ((Movie("Import %d" % n, 2000, {"imdb": "tt%07d" % n}), 1_700_000_000) for n in range(1, 100_001))
        assert outbox.add_many(imported) == 100_000
    monkeypatch.setattr(status, "RETRY_WAIT", 1.0)  # Simkl takes 100 a second: 100,000 outlast any wait
    clock = Clock()  # the wait runs out when the test says, not when a busy machine gets to the next step
    await_outcome = status.await_outcome
    monkeypatch.setattr(status, "await_outcome", lambda outbox, before: await_outcome(outbox, before, clock=clock))

    def service_sends_three_batches(window):
        with Outbox(path) as outbox:
            outbox.mark_sent(range(1, 301))
        clock.advance(status.RETRY_WAIT)
        window.controller.finish()
    run_status(kodi, "Retry now", service_sends_three_batches)

    assert ("Sent so far: 300", "The rest goes by itself") in [n[:2] for n in kodi.notifications]
    assert "Retry now: sent 300 so far, needs attention 0, 99700 still on their way after 1 s" in kodi.log_text()


def test_no_answer_in_time_is_told_too(kodi, simkl, monkeypatch):
    from lib.scrobbler.ui import status
    log_in(kodi, simkl)
    queue(kodi)
    monkeypatch.setattr(status, "RETRY_WAIT", 0.0)  # no service runs: nothing comes of the retry
    run_status(kodi, "Retry now")
    assert ("No answer from Simkl", "The add-on keeps trying") in [n[:2] for n in kodi.notifications]


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


def no_service(kodi, monkeypatch):
    """No service runs: Kodi takes the wake-up call, and a retry's outcome is told at once (nothing comes of it)."""
    from lib.scrobbler.ui import status
    kodi.jsonrpc_handlers["JSONRPC.NotifyAll"] = lambda params: "OK"
    monkeypatch.setattr(status, "RETRY_WAIT", 0.0)


def attention_rows(kodi):
    selects = [d for d in kodi.dialogs if d[0] == "select" and d[1].startswith("Needs attention")]
    return selects[-1][2].split("\n")


def test_needs_attention_lists_each_entry_with_its_reason_in_plain_words(kodi, simkl):
    log_in(kodi, simkl)
    needs_attention_queue(kodi)

    run_status(kodi, "Needs attention: 4", selects=[-1])

    when = kodi_api.format_time(1_700_000_000)
    assert attention_rows(kodi) == [
        "Retry all", "Discard all",
        "Home Video — watched %s — Could not tell which title this is" % when,
        "Stuck Film (2002) — watched %s — Still failing: Simkl had a problem answering" % when,
        "Bad Entry (2001) — watched %s — Simkl did not accept the details sent for it" % when,
        "Unknown Film (1999) — watched %s — Simkl does not know this title" % when]


def test_one_title_queued_twice_is_one_row_and_its_discard_drops_both(kodi, simkl):
    log_in(kodi, simkl)
    needs_attention_queue(kodi)
    with Outbox(os.path.join(kodi.profile_dir, config.OUTBOX_FILE)) as outbox:
        again = outbox.add(Movie("Bad Entry", 2001, {"imdb": "tt0000002"}), 1_700_300_000)  # watched again later
        outbox.refuse([again], "400 wrong_parameter")
    kodi.yesno_answers.append(True)

    run_status(kodi, "Needs attention: 4", selects=[2, 1, -1])  # Bad Entry (the newest): Discard

    rows = [d for d in kodi.dialogs if d[0] == "select" and d[1].startswith("Needs attention")][0]
    assert rows[1] == "Needs attention: 4"
    assert rows[2].split("\n")[2] == "Bad Entry (2001) — watched %s — Simkl did not accept the details sent " \
        "for it" % kodi_api.format_time(1_700_300_000)
    assert ("yesno", "Simkl", "Discard Bad Entry (2001)? It will never be sent to Simkl.") in kodi.dialogs
    with Outbox(os.path.join(kodi.profile_dir, config.OUTBOX_FILE)) as outbox:
        assert sorted(a.label for a in outbox.attention()) == ["Home Video", "Stuck Film (2002)",
                                                               "Unknown Film (1999)"]


def test_the_view_counts_needs_attention_in_rows_as_its_list_shows_them(kodi, simkl):
    log_in(kodi, simkl)
    needs_attention_queue(kodi)
    with Outbox(os.path.join(kodi.profile_dir, config.OUTBOX_FILE)) as outbox:
        again = outbox.add(Movie("Bad Entry", 2001, {"imdb": "tt0000002"}), 1_700_300_000)  # watched again later
        outbox.refuse([again], "400 wrong_parameter")

    window = run_status(kodi, "Needs attention: 4", selects=[-1])

    assert "Waiting to be sent: 1   ·   Sent: 0   ·   Needs attention: 4" in window.screens[0]["info"]  # Stuck Film
    assert [d[1] for d in kodi.dialogs if d[0] == "select"] == ["Needs attention: 4"]
    assert len(attention_rows(kodi)) == 2 + 4


def test_one_entry_can_be_retried_and_another_discarded_after_a_question(kodi, simkl, monkeypatch):
    log_in(kodi, simkl)
    needs_attention_queue(kodi)
    no_service(kodi, monkeypatch)
    kodi.yesno_answers.append(True)

    # Bad Entry: Retry; then the entry in its place, Unknown Film: Discard
    window = run_status(kodi, "Needs attention: 4", selects=[4, 0, 4, 1, -1])

    with Outbox(os.path.join(kodi.profile_dir, config.OUTBOX_FILE)) as outbox:
        left = {a.label for a in outbox.attention()}
        assert (outbox.counts()["pending"], outbox.counts()["refused"]) == (2, 0)
    assert left == {"Home Video", "Stuck Film (2002)"}  # Bad Entry retried, Unknown Film discarded
    assert ("yesno", "Simkl", "Discard Unknown Film (1999)? It will never be sent to Simkl.") in kodi.dialogs
    assert "Needs attention: 2" in window.screens[-2]["actions"]  # the view shows what is left


def test_a_rating_simkl_did_not_take_is_retried_or_discarded_alone_by_its_row(kodi, simkl, monkeypatch):
    log_in(kodi, simkl)
    no_service(kodi, monkeypatch)
    inception = Movie("Inception", 2010, {"imdb": "tt1375666"})
    with Outbox(os.path.join(kodi.profile_dir, config.OUTBOX_FILE)) as outbox:
        watch, rated = outbox.add(inception, 1_700_000_000), outbox.add_rating(inception, 8, 1_700_000_060)
        removed = outbox.add_rating(Movie("Dune", 2021, {"imdb": "tt1160419"}), 0, 1_700_000_120)
        outbox.mark_not_found([watch, rated])
        outbox.refuse([removed], "400 wrong_parameter")
    kodi.yesno_answers.append(True)

    # the newest first: Dune's removal, Inception's rating, Inception's watch; Retry the rating, Discard the removal
    run_status(kodi, "Needs attention: 3", selects=[3, 0, 2, 1, -1])

    first = [d for d in kodi.dialogs if d[0] == "select" and d[1].startswith("Needs attention")][0]
    assert [row.split(" — ")[0] for row in first[2].split("\n")[2:]] == [
        "Dune (2021) · rating removed", "Inception (2010) · your rating 8", "Inception (2010)"]
    assert ("yesno", "Simkl", "Discard Dune (2021) · rating removed? It will never be sent to Simkl.") in kodi.dialogs
    with Outbox(os.path.join(kodi.profile_dir, config.OUTBOX_FILE)) as outbox:
        assert outbox.states([watch, rated, removed]) == {watch: ("not_found", 0, None), rated: ("pending", 0, None)}


def test_discard_all_asks_first_and_drops_every_entry_that_needs_attention(kodi, simkl):
    log_in(kodi, simkl)
    needs_attention_queue(kodi)
    kodi.yesno_answers.append(True)

    window = run_status(kodi, "Needs attention: 4", selects=[1])

    with Outbox(os.path.join(kodi.profile_dir, config.OUTBOX_FILE)) as outbox:
        assert outbox.attention() == []
        assert sum(outbox.counts().values()) == 0
    assert window.screens[-2]["actions"] == ["Sync now", "Close"]


def refused_meanwhile(kodi, answer):
    """A dialog's answer, given after another watch reached Needs attention while the dialog was open
    (the service refused it meanwhile)."""
    def meanwhile():
        with Outbox(os.path.join(kodi.profile_dir, config.OUTBOX_FILE)) as outbox:
            late = outbox.add(Movie("Late Film", 2003, {"imdb": "tt0000009"}), 1_700_000_000)
            outbox.refuse([late], "400 wrong_parameter")
        return answer
    return meanwhile


def test_discard_all_drops_only_the_entries_the_question_named_not_one_that_came_meanwhile(kodi, simkl):
    log_in(kodi, simkl)
    needs_attention_queue(kodi)
    kodi.yesno_answers.append(refused_meanwhile(kodi, True))

    run_status(kodi, "Needs attention: 4", selects=[1, -1])

    assert ("yesno", "Simkl", "Discard these 4 entries? They will never be sent to Simkl.") in kodi.dialogs
    with Outbox(os.path.join(kodi.profile_dir, config.OUTBOX_FILE)) as outbox:
        assert [(a.label, a.state) for a in outbox.attention()] == [("Late Film (2003)", "refused")]


def test_with_more_entries_than_listed_discard_all_drops_the_listed_ones_and_says_so(kodi, simkl, monkeypatch):
    from lib.scrobbler.ui import status_model
    monkeypatch.setattr(status_model, "ATTENTION_LISTED", 3)
    log_in(kodi, simkl)
    ids = needs_attention_queue(kodi)
    kodi.yesno_answers.append(True)

    run_status(kodi, "Needs attention: 4", selects=[1, -1])

    assert [d[1] for d in kodi.dialogs if d[0] == "select"] == [
        "Needs attention: 4 (the newest 3 listed)", "Needs attention: 1"]
    assert ("yesno", "Simkl", "Discard these 3 entries? They will never be sent to Simkl.") in kodi.dialogs
    with Outbox(os.path.join(kodi.profile_dir, config.OUTBOX_FILE)) as outbox:
        assert [a.id for a in outbox.attention()] == [ids["unknown"]]  # the oldest, not listed


def test_retry_all_retries_only_the_entries_the_list_showed(kodi, simkl, monkeypatch):
    log_in(kodi, simkl)
    needs_attention_queue(kodi)
    no_service(kodi, monkeypatch)

    run_status(kodi, "Needs attention: 4", selects=[refused_meanwhile(kodi, 0)])

    with Outbox(os.path.join(kodi.profile_dir, config.OUTBOX_FILE)) as outbox:
        assert [(a.label, a.state) for a in outbox.attention()] == [("Late Film (2003)", "refused")]
        assert (outbox.counts()["pending"], outbox.counts()["unresolved"]) == (3, 1)


def test_retry_all_tells_its_outcome_and_the_view_shows_the_entry_simkl_refused_again(kodi, server, clock):
    """The service and the fake Simkl share virtual time (Simkl's one POST a second holds on it)."""
    log_in(kodi, server)
    server.refused_ids.add("imdb=tt0000002")
    runner = RunningService(kodi, clock).start()

    def outcome_told(window):
        window.controller.finish()  # the user waits in the view until the outcome is told
        runner.idle()
        assert wait_for(lambda: "Next automatic try: now" not in window.screen()["info"], 3), window.screen()

    try:
        with Outbox(os.path.join(kodi.profile_dir, config.OUTBOX_FILE)) as outbox:
            outbox.add(Movie("Bad Entry", 2001, {"imdb": "tt0000002"}), 1_700_000_000)
        runner.service.kick()
        runner.idle()  # Simkl refuses it: Needs attention
        window = run_status(kodi, "Needs attention: 1", outcome_told, selects=[0])  # Retry all
    finally:
        runner.stop()

    assert [r.status for r in server.requests_to("/sync/history")] == [400, 400]
    # Told once each time: by the service's notification (ui/notices.py), not a second time by the view.
    assert [n[:2] for n in kodi.notifications] == [("Not accepted by Simkl", "Bad Entry (2001)")] * 2
    assert "Retry all: sent 0, needs attention 1, failing: none" in kodi.log_text()
    shown = window.screens[-2]
    assert "Waiting to be sent: 0   ·   Sent: 0   ·   Needs attention: 1" in shown["info"]
    assert shown["actions"] == ["Needs attention: 1", "Sync now", "Close"]


def test_retry_all_sends_everything_again_and_looks_up_the_unidentified_again(kodi, simkl, monkeypatch):
    log_in(kodi, simkl)
    needs_attention_queue(kodi)
    no_service(kodi, monkeypatch)

    run_status(kodi, "Needs attention: 4", selects=[0])

    with Outbox(os.path.join(kodi.profile_dir, config.OUTBOX_FILE)) as outbox:
        assert outbox.attention() == []
        assert (outbox.counts()["pending"], outbox.counts()["unresolved"]) == (3, 1)
    assert ("No answer from Simkl", "The add-on keeps trying") in [n[:2] for n in kodi.notifications]
    assert "Retry all: sent 0 so far, needs attention 0, 4 still on their way after 0 s" in kodi.log_text()


def test_an_active_rewatch_session_is_listed_and_can_be_ended(kodi, simkl):
    log_in(kodi, simkl)
    sessions = Sessions(kodi.profile_dir)
    sessions.start(Show(SHOW["title"], SHOW["year"], {"tvdb": 392256}))
    window = run_status(kodi, "End rewatch session")
    assert "Rewatching: The Last of Us (2023)" in window.screens[0]["info"][2]
    assert sessions.all() == {}
    assert ("Rewatch session ended", "The Last of Us (2023)") in [n[:2] for n in kodi.notifications]
    assert window.screens[-2]["actions"] == ["Sync now", "Close"]


def test_one_of_several_rewatch_sessions_is_picked_to_end(kodi, simkl):
    log_in(kodi, simkl)
    sessions = Sessions(kodi.profile_dir)
    sessions.start(Show("Alpha", 2001, {"tvdb": 1}))
    sessions.start(Show("Beta", 2002, {"tvdb": 2}))
    run_status(kodi, "End a rewatch…", selects=[1])
    assert [sessions.label(key) for key in sessions.all()] == ["Alpha (2001)"]


def test_sync_now_in_the_status_view_asks_the_service_for_a_sync(kodi, simkl):
    log_in(kodi, simkl)
    kodi.jsonrpc_handlers["JSONRPC.NotifyAll"] = lambda params: "OK"

    run_status(kodi, "Sync now")

    assert ("JSONRPC.NotifyAll", {"sender": config.ADDON_ID, "message": config.SYNC_MESSAGE}) in kodi.jsonrpc_calls
