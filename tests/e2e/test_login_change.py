"""Scenario: Simkl ends the PIN login (issue 21). A user logged in with the PIN login (V1) on an earlier version
runs a build with the device login (V2, a build's default); Simkl starts refusing V1 tokens. The add-on says once,
in plain words, that Simkl changed its login and to choose Log in; a movie watched meanwhile waits, and the status
view says the same. The device login of the same Simkl user then sends both waiting watches, once each, without
asking whose they are."""
import json
import re

import pytest

from .addon_steps import (
    ACCOUNT_SHOWN,
    ADDON_ID,
    LOGIN_WINDOW,
    close_status_view,
    open_status_view,
    quit_cleanly,
    simkl_env,
    status_view,
    wait_for_requests,
)
from .media_library import MOVIE_ONE, MOVIE_TWO

pytestmark = pytest.mark.e2e

HISTORY = "/sync/history"
TOLD = "told: Simkl's login changed: Choose Log in; watches are kept"
SAID_IN_THE_VIEW = ("Simkl changed how add-ons log in, and the earlier login no longer works. Choose Log in once"
                    " more: your watches stay queued and go out after it.")


@pytest.fixture(scope="module")
def kodi_env(fake):
    return simkl_env(fake)  # no SIMKL_AUTH: the build's own login, the device login


@pytest.fixture(scope="module")
def kodi_addon_files(fake):
    """token.json as the PIN login of an earlier version left it (tests/e2e/test_login.py reads one back)."""
    login = {"access_token": fake.issue_token("pin-token-%d"), "flow": "v1", "user_name": fake.account.name,
             "account_type": fake.account.type, "account_id": fake.account.id}
    return {"token.json": json.dumps(login)}


def titles_taken(fake):
    """The titles of the movies in every /sync/history request Simkl took, each as often as it was sent."""
    return sorted(m["title"] for r in fake.requests_to(HISTORY, "POST") if r.status == 201
                  for m in (r.json or {}).get("movies", []))


def test_the_pin_login_simkl_refuses_is_told_once_in_plain_words_and_the_watch_waits(kodi, fake):
    assert kodi.addon_settings(ADDON_ID).get("logged_in") == "true"
    fake.refuse_v1_tokens()

    assert kodi.play_to_end({"movieid": kodi.movie_id(MOVIE_ONE.title)}, seek_to=99)["end"] is True

    wait_for_requests(fake, HISTORY, 1, status=401)
    assert kodi.wait_for_log(re.escape(TOLD), 20), kodi.log_tail()
    assert kodi.wait_until(lambda: kodi.addon_settings(ADDON_ID).get("logged_in") == "false", 10)
    assert fake.requests_to("/oauth2/token") == []  # a V1 token has nothing to refresh it with


def test_a_movie_watched_meanwhile_waits_and_nothing_more_is_said(kodi, fake):
    assert kodi.play_to_end({"movieid": kodi.movie_id(MOVIE_TWO.title)}, seek_to=99)["end"] is True

    assert kodi.wait_for_log(r"watched '%s'" % MOVIE_TWO.title, 20), kodi.log_tail()
    assert [r.status for r in fake.requests_to(HISTORY)] == [401]
    assert kodi.log_text().count(TOLD) == 1


def test_the_status_view_says_the_same_and_offers_log_in(kodi, fake):
    open_status_view(kodi)
    assert kodi.wait_until(lambda: status_view(kodi).get("problem") == SAID_IN_THE_VIEW, 10), status_view(kodi)
    shown = status_view(kodi)
    assert shown["account"] == "Not logged in"
    assert shown["actions"].startswith("Log in | ")
    close_status_view(kodi)


def test_the_device_login_of_the_same_user_sends_both_watches_once_without_a_question(kodi, fake):
    shown_before = len(re.findall(ACCOUNT_SHOWN + "logged in", kodi.log_text()))
    kodi.run_addon(ADDON_ID, "login")
    assert kodi.wait_for_window(LOGIN_WINDOW, 20), "the login dialog did not open\n" + kodi.log_tail()
    assert kodi.wait_until(lambda: fake.devices, 10), "the add-on asked Simkl for no device code"
    heading = kodi.wait_until(lambda: kodi.info_labels("Control.GetLabel(1)")["Control.GetLabel(1)"], 10)
    assert heading == "Log in to Simkl once more: Simkl changed its login"
    fake.approve_pin()
    assert kodi.wait_until(lambda: not kodi.window_active(LOGIN_WINDOW), 20), "the login dialog stayed open"
    assert kodi.wait_until(lambda: len(re.findall(ACCOUNT_SHOWN + "logged in", kodi.log_text())) > shown_before, 20)

    expected = sorted([MOVIE_ONE.title, MOVIE_TWO.title])
    assert kodi.wait_until(lambda: titles_taken(fake) == expected, 30), fake.log_text()
    taken = [r for r in fake.requests_to(HISTORY, "POST") if r.status == 201]
    assert all(r.headers.get("Authorization", "").startswith("Bearer v2-token-") for r in taken)
    assert {fake.account_of(r).name for r in taken} == {"jane_doe"}
    assert not kodi.window_active("yesnodialog")  # the same Simkl account: nobody is asked whose they are
    assert "entries of another account waiting" not in kodi.log_text()


def test_kodi_quits_cleanly_and_the_build_never_asked_for_a_pin(kodi, fake):
    quit_cleanly(kodi)
    assert fake.requests_to("/oauth/pin") == []
    assert titles_taken(fake) == sorted([MOVIE_ONE.title, MOVIE_TWO.title])  # nothing went out twice
    assert fake.violations == []
