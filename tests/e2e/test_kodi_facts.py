"""Facts about Kodi's Python API that the add-on's code relies on, shown in each Kodi version the suite runs.

Kodi 21.2 ends with SIGSEGV when a Python interpreter that has not imported `xbmcgui` calls
`xbmc.Player().getPlayingItem()` (whose answer is an xbmcgui.ListItem); Kodi 20.1 answers. With
`xbmcgui` imported first both answer. lib/scrobbler/playback/player.py imports xbmcgui for this reason, and the
fake getPlayingItem (tests/kodi_fakes/xbmc.py) refuses to answer without it.

`isPlayingVideo()` is true while a video is paused and false once it stopped: the player's sampler asks it
first, because getPlayingFile() on a stopped player makes Kodi log an EXCEPTION line even when it is caught.

Kodi 19 has neither `Player.getPlayingItem()` nor `InfoTagVideo.getUniqueID()` (both came with Kodi 20): the
player asks for them first (tests/test_kodi19_api.py) and reads the ids from `VideoPlayer.UniqueID()` there.

`xbmc.PlayList(PLAYLIST_VIDEO).getposition()` is the playing item's place while a playlist plays and -1 once
it was stopped: the sync asks its questions only when no playlist goes on (kodi.playlist_goes_on).
"""
import signal
from pathlib import Path

import pytest

from .kodi_harness import VIDEO_PLAYER
from .media_library import MOVIE_ONE, SHOW

pytestmark = pytest.mark.e2e

PROBE_DIR = Path(__file__).resolve().parent / "service.e2eprobe"
STARTED = r"e2eprobe: started"


def _play_movie(kodi):
    movieid = kodi.movie_id(MOVIE_ONE.title)
    kodi.call("Player.Open", {"item": {"movieid": movieid}, "options": {"resume": False}})
    # CI once saw kodi.log on Kodi 20 stay silent for 30 s after Player.Open (no OpenFile, no scan line although
    # the scan had ended): the wait is long, and a failure says what Kodi's player and process said meanwhile.
    assert kodi.wait_for_log(r"e2eprobe: onAVStarted", 90), _player_report(kodi)


def _player_report(kodi):
    state = "kodi.bin exited with %s" % kodi.process.returncode
    if kodi.running:
        state = "kodi.bin running; active players %r" % (kodi.call("Player.GetActivePlayers"),)
    return "%s\n---- kodi's output ----\n%s\n%s" % (state, kodi.output_tail(), kodi.log_tail())


def test_get_playing_item_answers_once_xbmcgui_is_imported_and_kodi_19_has_none(make_kodi):
    kodi = make_kodi(enable=False, addons=[PROBE_DIR], env={"E2E_PROBE_IMPORT_XBMCGUI": "1"})
    assert kodi.wait_for_log(STARTED, 20), kodi.log_tail()
    newer = kodi.major >= 20
    assert kodi.wait_for_log(r"e2eprobe: api Player.getPlayingItem %s, InfoTagVideo.getUniqueID %s"
                             % (newer, newer), 5), kodi.log_tail()

    _play_movie(kodi)

    if not newer:
        assert kodi.wait_for_log(r"e2eprobe: no getPlayingItem", 10), kodi.log_tail()
        kodi.stop_playback()
        assert kodi.stop() == 0
        return
    assert kodi.wait_for_log(r"e2eprobe: playing item .*%s" % MOVIE_ONE.folder.replace("(", r"\(")
                             .replace(")", r"\)"), 10), kodi.log_tail()
    kodi.stop_playback()
    assert kodi.stop() == 0


def test_get_playing_item_without_xbmcgui_imported_crashes_kodi_21_only(make_kodi):
    kodi = make_kodi(enable=False, addons=[PROBE_DIR])
    assert kodi.wait_for_log(STARTED, 20), kodi.log_tail()

    _play_movie(kodi)

    if kodi.major < 20:
        assert kodi.wait_for_log(r"e2eprobe: no getPlayingItem", 10), kodi.log_tail()
        kodi.stop_playback()
        assert kodi.stop() == 0
    elif kodi.major >= 21:
        assert kodi.wait_until(lambda: not kodi.running, 20), "Kodi %s survived" % kodi.version
        assert kodi.process.returncode == -signal.SIGSEGV
        assert "e2eprobe: playing item" not in kodi.log_text()
    else:
        assert kodi.wait_for_log(r"e2eprobe: playing item ", 10), kodi.log_tail()
        kodi.stop_playback()
        assert kodi.stop() == 0


def test_is_playing_video_holds_while_paused_and_ends_with_the_video(make_kodi):
    kodi = make_kodi(enable=False, addons=[PROBE_DIR], env={"E2E_PROBE_IMPORT_XBMCGUI": "1"})
    assert kodi.wait_for_log(STARTED, 20), kodi.log_tail()
    _play_movie(kodi)

    kodi.call("Player.PlayPause", {"playerid": VIDEO_PLAYER, "play": False})
    assert kodi.wait_for_log(r"e2eprobe: paused, isPlayingVideo True", 10), kodi.log_tail()
    kodi.stop_playback()
    assert kodi.wait_for_log(r"e2eprobe: stopped, isPlayingVideo False", 10), kodi.log_tail()
    assert kodi.stop() == 0


def test_the_playlist_position_follows_the_playing_item_and_is_reset_when_the_playlist_ends_or_stops(make_kodi):
    kodi = make_kodi(enable=False, addons=[PROBE_DIR], env={"E2E_PROBE_IMPORT_XBMCGUI": "1"})
    assert kodi.wait_for_log(STARTED, 20), kodi.log_tail()
    first, second = (kodi.episode_id(SHOW.title, e.season, e.number) for e in SHOW.episodes[:2])

    kodi.play_playlist([{"episodeid": first}, {"episodeid": second}])
    assert kodi.wait_for_log(r"e2eprobe: playlist position 0 of 2, playing True", 10), kodi.log_tail()
    kodi.goto_next()
    assert kodi.wait_for_log(r"e2eprobe: playlist position 1 of 2, playing True", 10), kodi.log_tail()
    kodi.run_to_end()  # the last item ends by itself
    assert kodi.wait_for_log(r"e2eprobe: playlist position -1 of 2, playing False", 10), kodi.log_tail()

    kodi.play_playlist([{"episodeid": first}, {"episodeid": second}])
    assert kodi.wait_until(lambda: kodi.log_text().count("e2eprobe: playlist position 0 of 2, playing True") == 2,
                           10), kodi.log_tail()
    kodi.stop_playback()  # stopped in the middle

    assert kodi.wait_until(lambda: kodi.log_text().count("e2eprobe: playlist position -1 of 2, playing False") == 2,
                           10), kodi.log_tail()
    assert kodi.stop() == 0
