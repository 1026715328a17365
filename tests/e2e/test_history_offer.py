"""Scenario: the first sync's question whether to send Kodi's own history never comes up over a video.

The user logs in while a playlist of two episodes plays, and Kodi has a movie as watched that Simkl does not:
the sync runs a few seconds after the login and finds it, but asks nothing while the first episode plays, as
the playlist moves on to the second, or while that one plays; once the user stops and nothing has played
for a moment (sync/runner.py QUIET_AFTER), the question comes, and Yes sends the movie (the first episode,
played to its end, went as a watch of its own).
"""
import pytest

from .addon_steps import login, simkl_env
from .media_library import MOVIE_ONE, SHOW

pytestmark = pytest.mark.e2e

WAITING = r"\] sync: 1 of Kodi's watched items are not on Simkl: asking whether to send them once nothing plays"
QUESTION = "yesnodialog"
QUIET_AFTER = 10  # lib/scrobbler/sync/runner.py


@pytest.fixture(scope="module")
def kodi_env(fake):
    return simkl_env(fake)


@pytest.fixture(scope="module")
def kodi_addon_settings():
    # The movie is marked watched in Kodi before the login: not as a library mark to send, but as the history
    # the sync offers.
    return {"sync_from_simkl": True, "sync_library_marks": False}


def asked(kodi):
    return kodi.window_active(QUESTION)


def test_no_question_while_a_playlist_plays_and_one_once_nothing_plays(kodi, fake):
    kodi.set_playcount({"movieid": kodi.movie_id(MOVIE_ONE.title)}, 1)
    first, second = (kodi.episode_id(SHOW.title, e.season, e.number) for e in SHOW.episodes[:2])
    kodi.play_playlist([{"episodeid": first}, {"episodeid": second}])

    login(kodi, fake)
    assert kodi.wait_for_log(WAITING, 40), "the sync did not find Kodi's history\n" + kodi.log_tail()
    assert not kodi.wait_until(lambda: asked(kodi), 3, interval=0.1), "asked over the first episode"
    kodi.run_to_end()  # the playlist moves on to the second episode by itself
    assert not kodi.wait_until(lambda: asked(kodi), 5, interval=0.1), "asked as the playlist moved on"
    assert kodi.playing()

    kodi.stop_playback()
    assert not kodi.wait_until(lambda: asked(kodi), QUIET_AFTER / 2, interval=0.1), "asked right after the stop"
    assert kodi.wait_until(lambda: asked(kodi), QUIET_AFTER + 20, interval=0.2), \
        "never asked once nothing played\n" + kodi.log_tail()
    labels = kodi.info_labels("Control.GetLabel(1)", "Control.GetLabel(9)")  # DialogConfirm's heading and text
    assert labels["Control.GetLabel(1)"] == "Send Kodi's history to Simkl? (asked once)"
    assert labels["Control.GetLabel(9)"] == (
        "Kodi has %s (%d) as watched, and Simkl does not. Send it to your Simkl history?[CR]To do it later: add-on "
        "settings, under Sync, Send Kodi's watched history to Simkl." % (MOVIE_ONE.title, MOVIE_ONE.year))
    kodi.send_input("Left", "Select")  # Yes
    assert kodi.wait_until(lambda: not asked(kodi), 5), "the question stayed open"

    def movies_sent():
        return [m["ids"].get("imdb") for r in fake.requests_to("/sync/history") if r.status == 201
                for m in r.json.get("movies") or []]
    assert kodi.wait_until(movies_sent, 20), fake.log_text()
    assert movies_sent() == [MOVIE_ONE.ids["imdb"]]
