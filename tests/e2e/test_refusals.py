"""Refusals are told (issue 19): a watch Simkl refuses goes to Needs attention with one notification, and one
refused while the next video plays is held back (No notifications while a video plays) and told once it stops.

The words are checked in tests/test_notifications.py; here the add-on's log line of each told notification,
and Kodi's own answer to whether a video plays: at Player.OnStop the stopped video no longer counts."""
import pytest

from .addon_steps import quit_cleanly, simkl_env, wait_for_requests
from .media_library import MOVIE_ONE, MOVIE_TWO

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("logged_in")]

HISTORY = "/sync/history"


@pytest.fixture(scope="module")
def kodi_env(fake):
    return simkl_env(fake)


@pytest.fixture(scope="module")
def kodi_addon_settings():
    return {"debug": True, "notify_quiet_playback": True}


def refused(movie):
    return "imdb=%s" % movie.ids["imdb"]


def test_a_watch_simkl_refuses_is_told_naming_it(kodi, fake):
    fake.refused_ids.add(refused(MOVIE_ONE))

    assert kodi.play_to_end({"movieid": kodi.movie_id(MOVIE_ONE.title)}, seek_to=99)["end"] is True

    wait_for_requests(fake, HISTORY, 1, status=400)
    told = r"told: Not accepted by Simkl: %s \(%d\)" % (MOVIE_ONE.title, MOVIE_ONE.year)
    assert kodi.wait_for_log(told, 20), kodi.log_tail()
    assert kodi.wait_for_window("notification", 5), "no notification shown"


def test_a_refusal_while_the_next_video_plays_is_told_once_it_stops(kodi, fake):
    fake.refused_ids.add(refused(MOVIE_TWO))
    kodi.play_playlist([{"movieid": kodi.movie_id(MOVIE_TWO.title)}, {"movieid": kodi.movie_id(MOVIE_ONE.title)}])
    kodi.wait_for_position(2)
    kodi.seek(99)  # ends by itself; Kodi moves on to the next movie, which plays while Simkl refuses the first

    label = r"%s \(%d\)" % (MOVIE_TWO.title, MOVIE_TWO.year)
    assert kodi.wait_for_log(r"not shown while a video plays: %s" % label, 60), kodi.log_tail()
    assert not kodi.wait_for_log(r"told: Not accepted by Simkl: %s" % label, 2)
    assert kodi.stop_at(20)["end"] is False

    assert kodi.wait_for_log(r"told: Not accepted by Simkl: %s" % label, 20), kodi.log_tail()
    assert kodi.log_text().count("told: Not accepted by Simkl: %s (%d)" % (MOVIE_TWO.title, MOVIE_TWO.year)) == 1


def test_kodi_quits_cleanly_and_every_request_kept_simkl_rules(kodi, fake):
    quit_cleanly(kodi)
    assert fake.violations == []
