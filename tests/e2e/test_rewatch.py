"""Scenario 8 (issue 5): "Rewatch on Simkl" in Kodi's real context menu, with Track rewatches on and off."""
import re
import time

import pytest

from .addon_steps import (
    ADDON_ID,
    back_to_settings,
    menu_labels,
    open_movie_context_menu,
    open_show_context_menu,
    pick,
    quit_cleanly,
    simkl_env,
    wait_for_requests,
)
from .media_library import MOVIE_ONE, SHOW

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("logged_in")]

REWATCH = "Rewatch on Simkl"


@pytest.fixture(scope="module")
def kodi_env(fake):
    return simkl_env(fake)


@pytest.fixture(scope="module")
def kodi_addon_settings():
    return {"track_rewatches": True}


@pytest.fixture(autouse=True)
def back_to_settings_after_each_test(kodi):
    """A failed step must not leave a dialog open for the next test (or block the add-on's script at quit)."""
    yield
    if kodi.running:
        back_to_settings(kodi)


def dialog_text(kodi):
    return kodi.info_labels("Control.GetLabel(9)")["Control.GetLabel(9)"]


def choose_rewatch(kodi, window):
    """Context menu of MOVIE_ONE > Rewatch on Simkl; wait for the add-on's dialog `window`."""
    open_movie_context_menu(kodi, MOVIE_ONE.title)
    pick(kodi, REWATCH)
    assert kodi.wait_for_window(window, 15), "no %s after %s\n%s" % (window, REWATCH, kodi.log_tail())
    # The dialog is active a moment before its text is set.
    return kodi.wait_until(lambda: dialog_text(kodi), 10)


def test_the_show_question_says_the_next_episodes_count_until_the_session_ends(kodi, fake):
    open_show_context_menu(kodi, SHOW.title)
    pick(kodi, REWATCH)
    assert kodi.wait_for_window("yesnodialog", 15), "no question after %s\n%s" % (REWATCH, kodi.log_tail())
    question = kodi.wait_until(lambda: dialog_text(kodi), 10)

    back_to_settings(kodi)  # Back in a yes/no dialog is "no"

    assert question == ("Start a rewatch of %s (%d) on Simkl? The episodes of it you watch from now on count as this"
                        " rewatch, until you end it with End rewatch session in Simkl Scrobbler. Logging out or"
                        " turning off Track rewatches ends it too." % (SHOW.title, SHOW.year))
    time.sleep(2)
    assert fake.requests_to("/sync/history") == []


def test_answering_no_records_nothing(kodi, fake):
    question = choose_rewatch(kodi, "yesnodialog")

    back_to_settings(kodi)  # Back in a yes/no dialog is "no"

    assert question == "Record a new viewing of %s (%d) on Simkl?" % (MOVIE_ONE.title, MOVIE_ONE.year)
    time.sleep(2)
    assert fake.requests_to("/sync/history") == []


def test_rewatch_from_the_context_menu_sends_one_allow_rewatch_request(kodi, fake):
    assert choose_rewatch(kodi, "yesnodialog")

    kodi.send_input("Left", "Select")  # yes

    (request,) = wait_for_requests(fake, "/sync/history", 1, status=201)
    assert request.query.get("allow_rewatch") == "yes"
    (movie,) = request.json["movies"]
    # The ids Kodi's library holds: Kodi 19 keeps only the default one (imdb) once its Videos window listed the
    # movie (it rewrites the movie with the stream details it reads then; seen in 19.1), Kodi 20 and 21 all
    library_ids = kodi.movie(kodi.movie_id(MOVIE_ONE.title))["uniqueid"]
    assert library_ids == (MOVIE_ONE.ids if kodi.major >= 20 else {"imdb": MOVIE_ONE.ids["imdb"]})
    assert {key: str(value) for key, value in movie["ids"].items()} == library_ids
    assert (movie["title"], movie["year"]) == (MOVIE_ONE.title, MOVIE_ONE.year)
    assert [(w.key, w.rewatch) for w in fake.watches] == [("movie:imdb=" + MOVIE_ONE.ids["imdb"], True)]
    back_to_settings(kodi)
    time.sleep(2)
    assert len(fake.requests_to("/sync/history")) == 1


def test_a_second_rewatch_within_48_hours_is_refused_with_an_explanation(kodi, fake):
    text = choose_rewatch(kodi, "okdialog")
    back_to_settings(kodi)

    assert "less than 48 hours ago" in text, text
    # In the regional format Kodi's getRegion gives for the profile's region (English: "USA (12h)"), as the
    # fakes answer it (tests/kodi_fakes/xbmc.py REGION); the day after tomorrow, so with the date.
    assert re.search(r"You can record a rewatch from \d\d/\d\d/\d{4} \d\d:\d\d [AP]M\.$", text), text
    time.sleep(1)
    assert len(fake.requests_to("/sync/history")) == 1


def test_with_track_rewatches_off_the_context_menu_has_no_rewatch_entry(kodi, fake):
    assert kodi.restart(settings={ADDON_ID: {"track_rewatches": False}}) == 0

    open_movie_context_menu(kodi, MOVIE_ONE.title)
    labels = menu_labels(kodi)
    back_to_settings(kodi)

    assert "Information" in labels, labels  # the menu was really read
    assert REWATCH not in labels, labels


def test_kodi_quits_cleanly_and_every_request_kept_simkl_rules(kodi, fake):
    quit_cleanly(kodi)

    assert fake.violations == []
    assert len(fake.requests_to("/sync/history")) == 1
