"""The harness itself: library, playback and restart helpers that the scenarios build on."""
from pathlib import Path

import pytest

from .addon_steps import ADDON_ID
from .kodi_profile import GUI_SETTINGS
from .kodi_root import requested_version
from .media_library import EPISODE_ONE, MOVIE_TWO, SHORT_CLIP, SHOW

pytestmark = pytest.mark.e2e
PROBE_DIR = Path(__file__).resolve().parent / "service.e2eprobe"


def test_kodi_is_the_version_asked_for_and_takes_the_profile_as_written(kodi):
    assert kodi.major == int(requested_version())
    assert kodi.video_db.is_file()
    # Kodi 20.1 and 21.2 log this when guisettings.xml lacks <resolutions> or <viewstates>.
    assert "unable to load settings from special://masterprofile/guisettings.xml" not in kodi.all_logs()
    for setting in ("services.wsdiscovery", "services.zeroconf", "lookandfeel.startupwindow"):
        if setting == "services.wsdiscovery" and kodi.major < 20:
            continue  # Kodi 19 has no WS-Discovery setting (Settings.GetSettingValue: Invalid params)
        assert kodi.call("Settings.GetSettingValue", {"setting": setting})["value"] == GUI_SETTINGS[setting]


def test_library_holds_the_generated_movies_and_episodes_with_their_ids(kodi):
    movies = {movie["title"]: movie for movie in kodi.movies()}
    assert movies[SHORT_CLIP.title]["uniqueid"] == SHORT_CLIP.ids
    assert movies[MOVIE_TWO.title]["year"] == MOVIE_TWO.year
    episode = kodi.episode(kodi.episode_id(SHOW.title, 1, 1))
    assert episode["uniqueid"] == EPISODE_ONE.ids
    show = kodi.call("VideoLibrary.GetTVShowDetails", {"tvshowid": episode["tvshowid"], "properties": ["uniqueid"]})
    assert show["tvshowdetails"]["uniqueid"] == SHOW.ids


def test_short_clip_played_to_its_end_reports_a_natural_end(kodi):
    movieid = kodi.movie_id(SHORT_CLIP.title)

    stop = kodi.play_to_end({"movieid": movieid}, seek_to=90)

    assert stop == {"end": True, "item": {"id": movieid, "type": "movie"}}
    assert kodi.movie(movieid)["playcount"] == 1


def test_stopping_at_40_percent_is_not_an_end(kodi):
    movieid = kodi.movie_id(MOVIE_TWO.title)

    stop = kodi.play_and_stop_at({"movieid": movieid}, 40)

    assert stop["end"] is False
    assert kodi.movie(movieid)["playcount"] == 0


def test_playcount_can_be_set_and_cleared_like_a_user_would(kodi):
    episodeid = kodi.episode_id(SHOW.title, 1, 2)

    assert kodi.set_playcount({"episodeid": episodeid}, 1).data["playcount"] == 1
    assert kodi.episode(episodeid)["playcount"] == 1
    assert kodi.set_playcount({"episodeid": episodeid}, 0).data["playcount"] == 0
    assert kodi.episode(episodeid)["playcount"] == 0


def test_restart_keeps_the_library_and_seeded_settings(kodi):
    assert kodi.restart(settings={ADDON_ID: {"debug": True}}) == 0

    assert kodi.addon_settings(ADDON_ID)["debug"] == "true"
    assert kodi.movie(kodi.movie_id(SHORT_CLIP.title))["playcount"] == 1


def test_a_first_boot_with_two_new_addons_leaves_no_enable_question_open(make_kodi):
    kodi = make_kodi(enable=False, library=False, addons=[PROBE_DIR])  # Kodi asks once for each of them
    assert not kodi.wait_for_window("yesnodialog", timeout=5)
