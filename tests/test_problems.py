"""The words a problem is told in (lib/scrobbler/ui/problems.py): one table that the service's notifications
and the status view both read, with words in strings.po for every code the sender can leave on an entry."""
import ast
import json
from pathlib import Path

import pytest

from lib.scrobbler import kodi as kodi_api
from lib.scrobbler.delivery import flush
from lib.scrobbler.delivery.outbox import ATTENTION, PENDING, REFUSED
from lib.scrobbler.simkl.account import token_store
from lib.scrobbler.ui import problems, status_model
from scenario import MOVIE, movie_tag

PACKAGE = Path(__file__).resolve().parent.parent / "lib" / "scrobbler"
NOT_SENT = "Not sent to Simkl yet"


def codes_the_add_on_leaves():
    """Every flush.ERR_* code a module outside ui/ (the readers) uses beyond defining it: the sender's and
    the worker's reasons an entry waits."""
    used = set()
    for path in PACKAGE.rglob("*.py"):
        if path.relative_to(PACKAGE).parts[0] == "ui":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Name) and node.id.startswith("ERR_") and isinstance(node.ctx, ast.Load):
                used.add(getattr(flush, node.id))
    return used


def test_every_code_the_sender_can_leave_on_an_entry_has_its_words_in_strings_po(kodi):
    codes = codes_the_add_on_leaves()
    assert {flush.ERR_NETWORK, flush.ERR_SERVER, flush.ERR_RATE, flush.ERR_AUTH, flush.ERR_CONFIG,
            flush.ERR_UNEXPECTED, flush.ERR_SESSION} <= codes
    for code in codes:
        words = problems.PROBLEMS[code]
        assert kodi.string(words.told)
        for short in (words.why, words.short):
            if short is not None:
                assert kodi.string(short)


def test_every_state_that_needs_the_user_says_why_in_its_own_words_and_a_stuck_entry_its_problem(kodi):
    text = kodi_api.localize
    assert [problems.reason_text(state, "400 bad_id", text) for state in ATTENTION] == [
        "Could not tell which title this is", "Simkl does not know this title", "Simkl did not accept it"]
    assert problems.reason_text(REFUSED, None, text) == "Simkl did not accept it"
    assert problems.reason_text(PENDING, flush.ERR_NETWORK, text) == "Still failing: Simkl could not be reached"


@pytest.mark.parametrize("reason, words", [
    ("400 wrong_parameter", "Simkl did not accept the details sent for it"),
    ("400 empty_field", "Simkl did not accept the details sent for it"),
    ("404 id_err", "Simkl does not know this title"),
    ("409 already_watched", "Simkl has it as watched already"),
    ("403 pro_required", "Rewatches need a Simkl PRO or VIP account."),
    ("422", "Simkl did not accept it")])
def test_simkls_refusal_is_said_in_words_a_person_reads_never_its_code(kodi, reason, words):
    assert problems.reason_text(REFUSED, reason, kodi_api.localize) == words


def test_a_code_without_words_is_shown_as_it_is_and_none_as_nothing(kodi):
    assert problems.told_text("from_a_newer_version", kodi_api.localize) == "from_a_newer_version"
    assert problems.told_text(None, kodi_api.localize) == ""


@pytest.mark.parametrize("status, code", [(503, flush.ERR_SERVER), (0, flush.ERR_NETWORK), (429, flush.ERR_RATE),
                                          (403, flush.ERR_UNEXPECTED)])
def test_the_notification_and_the_status_view_tell_a_failure_in_the_same_words(service, kodi, server, status, code):
    server.fail("/sync/history", status, times=1)
    service.play(movie_tag(), MOVIE["file"], total=7200)
    service.idle()

    assert kodi.notifications == [(NOT_SENT, problems.short_text(code, kodi_api.localize), "warning")]
    snapshot = status_model.read(service.service.outbox, token_store().load(), [])
    shown = status_model.build(snapshot, service.service.steady(), kodi_api.localize, str)
    assert (shown.why, shown.problem) == ("Why: " + problems.why_text(code, kodi_api.localize), "")  # said once
    due = status_model.build(snapshot, service.service.steady() + 86400, kodi_api.localize, str)  # its try came
    assert (due.why, due.problem) == ("", "Last problem: " + problems.told_text(code, kodi_api.localize))


def test_a_v1_login_simkl_no_longer_accepts_is_said_in_the_status_view_as_in_the_notification(service, kodi, server):
    server.refuse_v1_tokens()  # the `service` fixture's login is a PIN (V1) login
    service.play(movie_tag(), MOVIE["file"], total=7200)
    service.idle()

    assert kodi.notifications == [("Simkl's login changed", "Choose Log in; watches are kept", "warning")]
    snapshot = status_model.read(service.service.outbox, token_store().load(), [])
    shown = status_model.build(snapshot, service.service.steady(), kodi_api.localize, str)
    assert shown.account == "Not logged in"
    assert shown.problem == kodi.string(32972)
    assert "Simkl changed" in shown.problem and "Log in" in shown.problem
    assert shown.action_names()[0] == status_model.LOGIN


def test_a_v2_login_whose_refresh_fails_keeps_the_words_of_a_rejected_login(service, kodi, server):
    with open(token_store().path, "w", encoding="utf-8") as handle:
        json.dump({"access_token": "v2-gone", "refresh_token": "refresh-gone", "expires_at": 4e9, "flow": "v2",
                   "user_name": "jane_doe"}, handle)
    service.play(movie_tag(), MOVIE["file"], total=7200)
    service.idle()

    assert kodi.notifications == [("Log in to Simkl again", "Your watches stay queued", "warning")]
    snapshot = status_model.read(service.service.outbox, token_store().load(), [])
    shown = status_model.build(snapshot, service.service.steady(), kodi_api.localize, str)
    assert "Simkl changed" not in shown.problem
