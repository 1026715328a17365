"""What the status view shows and offers (lib/scrobbler/ui/status_model.py), read from a real outbox file,
worded with the real strings.po; Retry now's outcome from a real service sending to the fake Simkl."""
import os
import time

import pytest

from lib.scrobbler import config
from lib.scrobbler import kodi as kodi_api
from lib.scrobbler.delivery.flush import ERR_AUTH, ERR_CONFIG, ERR_NETWORK, ERR_RATE, ERR_SERVER
from lib.scrobbler.delivery.outbox import Kept, Outbox
from lib.scrobbler.media import Movie
from lib.scrobbler.simkl.auth import Owner
from lib.scrobbler.ui import handover_model, status_model
from lib.scrobbler.ui.status_model import CLOSE, END_SESSION, HANDOVER, LOGIN, NEEDS_ATTENTION, RETRY, SYNC
from scenario import Clock, RunningService, log_in

NOW = 1_780_000_000.0  # 2026-05-28T20:26:40Z
STORED_LOGIN = {"access_token": "secret-token", "user_name": "jane_doe", "account_type": "pro"}


def hhmm(timestamp):
    return time.strftime("%H:%M", time.gmtime(timestamp))


@pytest.fixture
def outbox(tmp_path):
    with Outbox(str(tmp_path / config.OUTBOX_FILE), clock=lambda: NOW) as box:
        yield box


def view(kodi, outbox, login=STORED_LOGIN, sessions=(), now=NOW, synced_at=None):
    snapshot = status_model.read(outbox, dict(login), sessions, synced_at)
    return status_model.build(snapshot, now, kodi_api.localize, hhmm)


def movie(n, title=None):
    return Movie(title or "Movie %d" % n, 2000 + n, {"imdb": "tt%07d" % n})


def test_logged_in_with_nothing_waiting_offers_no_retry(kodi, outbox):
    outbox.mark_sent([outbox.add(movie(1), NOW - 60)])
    shown = view(kodi, outbox)
    assert shown.account == "Logged in as jane_doe (PRO)"
    assert shown.counts == "Waiting to be sent: 0   ·   Sent: 1"
    assert (shown.next_try, shown.why, shown.problem, shown.waiting_heading) == ("", "", "", "")
    assert shown.waiting == "Nothing is waiting to be sent."
    assert shown.actions == ((SYNC, "Sync now"), (CLOSE, "Close"))


def test_not_logged_in_offers_log_in_and_no_retry_even_with_watches_waiting(kodi, outbox):
    outbox.add(movie(1), NOW - 60)
    shown = view(kodi, outbox, login={})
    assert shown.account == "Not logged in"
    assert shown.next_try == "They are sent once you log in."
    assert shown.action_names() == (LOGIN, CLOSE)


def test_waiting_titles_are_listed_with_their_watch_time_the_first_few_then_a_count(kodi, outbox):
    for n in range(1, 8):
        outbox.add(movie(n), NOW - 3600 + n * 60)
    outbox.add_unresolved({"title": "Home Video", "label": "home.mkv"}, NOW - 30)
    shown = view(kodi, outbox)
    assert shown.waiting_heading == "Waiting to be sent"
    assert shown.waiting.split("[CR]") == [
        "Movie 1 (2001) — watched 19:27", "Movie 2 (2002) — watched 19:28", "Movie 3 (2003) — watched 19:29",
        "Movie 4 (2004) — watched 19:30", "Movie 5 (2005) — watched 19:31", "…and 3 more"]
    assert shown.counts.startswith("Waiting to be sent: 8")
    assert shown.next_try == "Next automatic try: now"
    assert shown.action_names() == (RETRY, SYNC, CLOSE)


def test_a_watch_imported_without_a_date_is_listed_as_date_unknown_never_1970(kodi, outbox):
    from lib.scrobbler.sync.plan import utc_of_kodi_time
    # The sync's import queues an item Kodi has no last-played time for with Simkl's placeholder.
    outbox.add_many([(movie(1), utc_of_kodi_time("")), (movie(2), NOW - 60)])
    shown = view(kodi, outbox)
    assert shown.waiting.split("[CR]") == ["Movie 1 (2001) — watched, date unknown",
                                           "Movie 2 (2002) — watched %s" % hhmm(NOW - 60)]


def test_after_a_failure_the_next_try_tells_when_and_why_and_the_problem_is_not_said_twice(kodi, outbox):
    first, second = outbox.add(movie(1), NOW - 120), outbox.add(movie(2), NOW - 60)
    outbox.defer([first, second], NOW + 540, ERR_NETWORK)
    shown = view(kodi, outbox)
    assert shown.next_try == "Next automatic try: %s (in 9 min)" % hhmm(NOW + 540)
    assert shown.why == "Why: Simkl could not be reached"
    assert shown.problem == ""  # the Why line said it


def test_the_reason_and_the_last_problem_are_never_the_same_words_twice(kodi, outbox):
    outbox.defer([outbox.add(movie(1), NOW - 120)], NOW + 540, ERR_SERVER)
    waiting = view(kodi, outbox)
    assert (waiting.why, waiting.problem) == ("Why: Simkl had a problem answering", "")
    due = view(kodi, outbox, now=NOW + 600)  # the next try has come: no Why line, the problem in full
    assert (due.next_try, due.why) == ("Next automatic try: now", "")
    assert due.problem == "Last problem: Simkl had a problem answering. The add-on tries again by itself."


def test_a_new_watch_waits_for_the_hold_after_a_failure_like_the_sender_does(kodi, outbox):
    outbox.defer([outbox.add(movie(1), NOW - 120)], NOW + 30, ERR_RATE)
    outbox.add(movie(2), NOW - 10)  # due at once, but the sender holds everything after a rate limit
    shown = view(kodi, outbox)
    assert shown.next_try == "Next automatic try: %s (in less than a minute)" % hhmm(NOW + 30)
    assert shown.why == "Why: Simkl asked the add-on to slow down"


def test_a_retry_time_that_has_come_reads_now(kodi, outbox):
    outbox.defer([outbox.add(movie(1), NOW - 120)], NOW - 5, ERR_SERVER)
    shown = view(kodi, outbox)
    assert (shown.next_try, shown.why) == ("Next automatic try: now", "")
    assert shown.problem.startswith("Last problem: Simkl had a problem answering.")


def test_a_build_without_a_client_id_means_no_automatic_try_and_says_why(kodi, outbox):
    outbox.defer([outbox.add(movie(1), NOW - 120)], NOW, ERR_CONFIG)
    shown = view(kodi, outbox)
    assert shown.next_try == "No automatic try until the problem below is solved."
    assert shown.why == ""  # the problem below says it in full
    assert shown.problem.startswith("Last problem: This build has no Simkl client id, so it cannot talk to Simkl.")


def test_after_a_rejected_login_a_new_login_sends_at_once(kodi, outbox):
    outbox.defer([outbox.add(movie(1), NOW - 120)], NOW - 60, ERR_AUTH)
    assert view(kodi, outbox, login={}).next_try == "They are sent once you log in."
    shown = view(kodi, outbox)  # logged in again: the service resumes sending (Service.settings_changed)
    assert (shown.next_try, shown.why) == ("Next automatic try: now", "")
    assert shown.problem.startswith("Last problem: Simkl rejected the saved login.")


def test_the_time_of_the_last_sync_is_shown_once_there_was_one(kodi, outbox):
    assert view(kodi, outbox).last_sync == ""
    assert view(kodi, outbox, synced_at=NOW - 3600).last_sync == "Last sync with Simkl: %s" % hhmm(NOW - 3600)
    assert view(kodi, outbox, login={}, synced_at=NOW - 3600).last_sync == ""  # logged out: no account synced


def test_needs_attention_and_rewatch_sessions_are_counted_and_offered(kodi, outbox):
    outbox.mark_not_found([outbox.add(movie(1), NOW - 60)])
    one = view(kodi, outbox, sessions=[("show:tvdb=1", "The Last of Us (2023)")])
    # The title is in the counts line: in the button it was cut off (tests/test_words.py BUTTON_MAX).
    assert one.counts == ("Waiting to be sent: 0   ·   Sent: 0   ·   Needs attention: 1   ·   Rewatching: The Last"
                          " of Us (2023)")
    assert one.actions == ((NEEDS_ATTENTION, "Needs attention: 1"), (SYNC, "Sync now"),
                           (END_SESSION, "End rewatch session"), (CLOSE, "Close"))
    two = view(kodi, outbox, sessions=[("show:tvdb=1", "A (2001)"), ("show:tvdb=2", "B (2002)")])
    assert two.counts.endswith("Rewatch sessions: 2")
    assert (END_SESSION, "End a rewatch…") in two.actions


# -- accounts: each sees its own counts --------------------------------------------------------

JANE, BOB = Owner("id:12345", "jane_doe"), Owner("id:777", "bob")
BOBS_LOGIN = {"access_token": "bobs-token", "user_name": "bob", "account_type": "vip", "account_id": 777}


def test_each_account_is_shown_its_own_counts_and_how_many_watches_wait_for_other_accounts(kodi, tmp_path):
    login = {"owner": JANE}
    with Outbox(str(tmp_path / "shared.sqlite"), clock=lambda: NOW, account=lambda: login["owner"]) as shared:
        shared.mark_sent([shared.add(movie(1), NOW - 600)])
        shared.add(movie(2), NOW - 300)
        shared.mark_not_found([shared.add(movie(3), NOW - 200)])
        login["owner"] = BOB
        shared.mark_sent([shared.add(movie(4), NOW - 100)])

        bobs = view(kodi, shared, login=BOBS_LOGIN)
        login["owner"] = None
        nobodys = view(kodi, shared, login={})

    assert bobs.counts == "Waiting to be sent: 0   ·   Sent: 1   ·   Kept for other accounts: 2"
    assert bobs.waiting == "Nothing is waiting to be sent."
    assert bobs.actions == ((HANDOVER, "Other accounts: 2"), (SYNC, "Sync now"), (CLOSE, "Close"))
    assert nobodys.counts == "Waiting to be sent: 0   ·   Sent: 0   ·   Kept for other accounts: 2"
    assert nobodys.action_names() == (LOGIN, CLOSE)  # the choice is offered once an account is logged in


def test_needs_attention_counts_an_accounts_rows_a_title_queued_twice_once_as_its_list_shows_it(kodi, tmp_path):
    login = {"owner": JANE}
    with Outbox(str(tmp_path / "shared.sqlite"), clock=lambda: NOW, account=lambda: login["owner"]) as shared:
        shared.refuse([shared.add(movie(1), NOW - 5 * 86400), shared.add(movie(1), NOW - 60)], "400 wrong_parameter")
        shared.mark_not_found([shared.add(movie(2), NOW - 300)])
        janes = view(kodi, shared)
        rows = status_model.attention_rows(shared.attention(), kodi_api.localize, hhmm)
        heading = status_model.attention_heading(shared.attention(), shared.attention_count(), kodi_api.localize)
        login["owner"] = BOB
        bobs = view(kodi, shared, login=BOBS_LOGIN)

    assert [row.title for row in rows] == ["Movie 2 (2002)", "Movie 1 (2001)"]
    assert heading == "Needs attention: 2"
    assert janes.counts == "Waiting to be sent: 0   ·   Sent: 0   ·   Needs attention: 2"
    assert (NEEDS_ATTENTION, "Needs attention: 2") in janes.actions
    assert bobs.counts == "Waiting to be sent: 0   ·   Sent: 0   ·   Kept for other accounts: 3"  # watches, not rows
    assert NEEDS_ATTENTION not in bobs.action_names()


def test_the_watches_of_several_other_accounts_are_counted_together(kodi, tmp_path):
    login = {"owner": JANE}
    with Outbox(str(tmp_path / "shared.sqlite"), clock=lambda: NOW, account=lambda: login["owner"]) as shared:
        shared.add(movie(1), NOW - 600)
        login["owner"] = Owner("id:5", "carol")
        shared.add(movie(2), NOW - 300)
        login["owner"] = BOB
        shown = view(kodi, shared, login=BOBS_LOGIN)
    assert (HANDOVER, "Other accounts: 2") in shown.actions


def test_the_question_about_another_accounts_watches_is_worded_for_one_and_for_many(kodi):
    text = kodi_api.localize
    one, three = Kept("id:12345", "jane_doe", 1), Kept("id:12345", "jane_doe", 3)
    assert handover_model.question(one, "bob", text) == (
        "1 watch made for jane_doe is not on Simkl yet. Send it to bob, or discard it? Later keeps it for jane_doe.")
    assert handover_model.question(three, "bob", text) == (
        "3 watches made for jane_doe are not on Simkl yet. Send them to bob, or discard them? Later keeps them for"
        " jane_doe.")
    assert [handover_model.done_text(answer, count, "bob", text) for answer, count in (
        (handover_model.SEND, 1), (handover_model.SEND, 3), (handover_model.DISCARD, 1), (handover_model.DISCARD, 3),
        (handover_model.LATER, 3))] == ["Sending 1 watch to bob", "Sending 3 watches to bob", "1 watch discarded",
                                        "3 watches discarded", ""]
    assert [handover_model.choice(button) for button in (1, 0, 2, -1)] == ["send", "later", "discard", "later"]


def test_another_accounts_ratings_are_never_called_watches(kodi):
    text = kodi_api.localize
    rating, ratings = Kept("id:12345", "jane_doe", 1, ratings=1), Kept("id:12345", "jane_doe", 3, ratings=3)
    mixed = Kept("id:12345", "jane_doe", 3, ratings=1)
    assert handover_model.question(rating, "bob", text) == (
        "1 rating made for jane_doe is not on Simkl yet. Send it to bob, or discard it? Later keeps it for jane_doe.")
    assert handover_model.question(ratings, "bob", text).startswith("3 ratings made for jane_doe are not on Simkl")
    assert handover_model.question(mixed, "bob", text) == (
        "3 watches and ratings made for jane_doe are not on Simkl yet. Send them to bob, or discard them? Later keeps"
        " them for jane_doe.")
    assert [handover_model.done_text(answer, kept.count, "bob", text, kept) for kept in (rating, ratings, mixed)
            for answer in (handover_model.SEND, handover_model.DISCARD)] == [
        "Sending 1 rating to bob", "1 rating discarded", "Sending 3 ratings to bob", "3 ratings discarded",
        "Sending 3 entries to bob", "3 entries discarded"]
    assert [handover_model.heading(kept, text) for kept in (Kept("id:1", "jane", 2), rating, mixed)] == [
        "Watches of another Simkl account", "Ratings of another Simkl account",
        "Watches and ratings of another Simkl account"]
    assert [handover_model.not_now(kept, text).heading for kept in (Kept("id:1", "jane", 2), rating, mixed)] == [
        "Watches of jane wait", "Ratings of jane_doe wait", "Entries of jane_doe wait"]


# -- Retry now's outcome ----------------------------------------------------------------------

def test_outcome_is_open_while_the_entries_wait_and_failed_when_one_failed_again(outbox):
    first, second = outbox.add(movie(1), NOW - 60), outbox.add(movie(2), NOW - 30)
    before = status_model.before_retry(outbox)
    assert status_model.outcome(before, outbox.states(before)) is None
    outbox.mark_sent([first])
    assert status_model.outcome(before, outbox.states(before)) is None
    outbox.defer([second], NOW + 20, ERR_SERVER)
    assert status_model.outcome(before, outbox.states(before)) == status_model.Outcome(1, 0, ERR_SERVER)


def test_outcome_counts_sent_and_needs_attention_once_nothing_waits(outbox):
    first, second = outbox.add(movie(1), NOW - 60), outbox.add(movie(2), NOW - 30)
    outbox.defer([first, second], NOW + 20, ERR_SERVER)  # failed before: an older failure is no outcome
    before = status_model.before_retry(outbox)
    assert status_model.outcome(before, outbox.states(before)) is None
    outbox.mark_sent([first])
    outbox.mark_not_found([second])
    assert status_model.outcome(before, outbox.states(before)) == status_model.Outcome(1, 1, None)


def test_when_the_wait_runs_out_with_100000_waiting_the_outcome_tells_what_was_sent_so_far(kodi, outbox):
    imported = ((movie(n), NOW - 86400) for n in range(1, 100_001))
    assert outbox.add_many(imported) == 100_000
    before = status_model.before_retry(outbox)
    outbox.retry_now()
    outbox.mark_sent(range(1, 301))  # the sender got three batches through before the wait ran out
    assert status_model.outcome(before, outbox.states(before)) is None  # still under way

    result = status_model.outcome(before, outbox.states(before), waited_out=True)

    assert result == status_model.Outcome(300, 0, None, under_way=99_700)
    assert status_model.outcome_words(result, kodi_api.localize) == ("Sent so far: 300", "The rest goes by itself")


def test_outcome_texts(kodi):
    text = kodi_api.localize
    words, Outcome = status_model.outcome_words, status_model.Outcome
    assert words(Outcome(3, 0, None), text) == ("", "Sent to Simkl: 3")
    assert words(Outcome(1, 1, None), text) == ("Sent to Simkl: 1", "Needs attention: 1")
    assert words(Outcome(0, 2, None), text) == ("", "Needs attention: 2")
    assert words(Outcome(0, 0, ERR_NETWORK), text) == ("Not sent to Simkl yet", "Simkl could not be reached")
    assert words(Outcome(2, 0, ERR_SERVER), text) == ("Sent 2, rest waits", "Simkl had a problem answering")
    assert words(Outcome(0, 0, None), text) == ("", "Nothing is waiting to be sent.")
    assert words(Outcome(5, 1, None, under_way=9), text) == ("Sent so far: 5", "Needs attention: 1")
    assert words(None, text) == ("No answer from Simkl", "The add-on keeps trying")


def test_an_outcome_names_its_one_title_and_counts_a_title_queued_twice_once(kodi, outbox):
    text = kodi_api.localize
    dune = [outbox.add(movie(1, "Dune"), NOW - 5 * 86400), outbox.add(movie(1, "Dune"), NOW - 60)]  # watched twice
    heat, clip = outbox.add(movie(2, "Heat"), NOW - 30), outbox.add(movie(3, "Clip"), NOW - 20)
    before = status_model.before_retry(outbox)
    outbox.mark_sent(dune)
    outbox.refuse([heat, clip], "400 wrong_parameter")
    result = status_model.outcome(before, outbox.states(before))
    assert (result.sent, result.attention) == (2, 2)  # entries, as the log says them

    # rows as the lists show them: Dune once, Heat and Clip under Needs attention
    assert status_model.outcome_words(result, text, outbox.labels) == ("Sent to Simkl: 1", "Needs attention: 2")
    only_dune = status_model.Outcome(2, 0, None, sent_ids=tuple(dune))
    assert status_model.outcome_words(only_dune, text, outbox.labels) == ("Sent to Simkl", "Dune (2001)")
    only_heat = status_model.Outcome(0, 1, None, attention_ids=(heat,))
    assert status_model.told_by_the_service(only_heat)  # the service's notification names it: no second one
    assert not status_model.told_by_the_service(result)
    one_failing = status_model.Outcome(1, 0, ERR_NETWORK, sent_ids=(dune[0],))
    assert status_model.outcome_words(one_failing, text, outbox.labels) == (
        "Sent 1, rest waits", "Simkl could not be reached")


def test_an_outcome_names_a_rating_as_the_lists_do_and_counts_it_apart_from_its_titles_watch(kodi, outbox):
    text = kodi_api.localize
    inception = Movie("Inception", 2010, {"imdb": "tt1375666"})
    watch, rated = outbox.add(inception, NOW - 60), outbox.add_rating(inception, 8, NOW - 30)
    labels = status_model.listed_labels(outbox, text)

    both = status_model.Outcome(2, 0, None, sent_ids=(watch, rated))
    only_rating = status_model.Outcome(1, 0, None, sent_ids=(rated,))
    assert status_model.outcome_words(both, text, labels) == ("", "Sent to Simkl: 2")
    assert status_model.outcome_words(only_rating, text, labels) == (
        "Sent to Simkl", "Inception (2010) · your rating 8")


def test_the_outcome_of_retry_all_follows_the_entries_it_retried(outbox):
    refused, stuck = outbox.add(movie(1), NOW - 60), outbox.add(movie(2), NOW - 30)
    outbox.refuse([refused], "400 wrong_parameter")
    for _ in range(3):
        outbox.defer([stuck], NOW - 1, ERR_SERVER)
    outbox.retry_attention([refused, stuck])
    before = status_model.before_retry(outbox, [refused, stuck])
    assert status_model.outcome(before, outbox.states(before)) is None  # sent again: under way
    outbox.refuse([refused], "400 wrong_parameter")
    outbox.mark_sent([stuck])
    result = status_model.outcome(before, outbox.states(before))
    assert (result.sent_ids, result.attention_ids, result.failing) == ((stuck,), (refused,), None)


def test_retry_outcome_from_the_real_service_and_the_fake_simkl(kodi, simkl):
    """Simkl down: the retry fails again and says why; Simkl back: the retry sends both."""
    log_in(kodi, simkl)
    clock = Clock()
    runner = RunningService(kodi, clock).start()
    try:
        simkl.fail("/sync/history", 503, times=1000)
        path = os.path.join(kodi.profile_dir, config.OUTBOX_FILE)
        with Outbox(path) as script_outbox:  # the status view's own connection, as in its interpreter
            script_outbox.add(movie(1), NOW - 60)
            script_outbox.add(movie(2), NOW - 30)
            runner.service.kick()
            runner.idle()

            before = status_model.before_retry(script_outbox)
            script_outbox.retry_now()
            runner.retry_now()
            runner.idle()
            result = status_model.outcome(before, script_outbox.states(before))
            assert result == status_model.Outcome(0, 0, "server")

            simkl.clear_faults()
            before = status_model.before_retry(script_outbox)
            script_outbox.retry_now()
            runner.retry_now()
            runner.idle()
            assert status_model.outcome(before, script_outbox.states(before)) == status_model.Outcome(2, 0, None)
        assert len(simkl.watches) == 2
    finally:
        runner.stop()


# -- ratings: queue entries like watches, worded as ratings ----------------------------------------------

def test_a_waiting_rating_reads_as_the_users_rating_with_when_it_was_chosen_never_as_a_watch(kodi, outbox):
    outbox.add(movie(1), NOW - 600)
    outbox.add_rating(Movie("Inception", 2010, {"imdb": "tt1375666"}), 8, rated_at=NOW - 300)
    outbox.add_rating(movie(2), 0, rated_at=NOW - 60)

    shown = view(kodi, outbox)

    assert shown.waiting.split("[CR]") == [
        "Movie 1 (2001) — watched 20:16", "Inception (2010) · your rating 8 — rated 20:21",
        "Movie 2 (2002) · rating removed — rated 20:25"]
    assert shown.counts.startswith("Waiting to be sent: 3")
    assert shown.action_names() == (RETRY, SYNC, CLOSE)


def test_a_rating_simkl_did_not_take_is_a_row_of_its_own_under_needs_attention(kodi, outbox):
    inception = Movie("Inception", 2010, {"imdb": "tt1375666"})
    watch = outbox.add(inception, NOW - 900)
    rated, changed = outbox.add_rating(inception, 8, rated_at=NOW - 600), outbox.add_rating(inception, 9, NOW - 300)
    outbox.mark_not_found([watch, rated, changed])

    rows = status_model.attention_rows(outbox.attention(), kodi_api.localize, hhmm)

    assert [(row.label, row.title, row.ids) for row in rows] == [
        ("Inception (2010) · your rating 9 — rated 20:21 — Simkl does not know this title",
         "Inception (2010) · your rating 9", (changed,)),
        ("Inception (2010) · your rating 8 — rated 20:16 — Simkl does not know this title",
         "Inception (2010) · your rating 8", (rated,)),
        ("Inception (2010) — watched 20:11 — Simkl does not know this title", "Inception (2010)", (watch,))]
