"""The Player subclass on the fake xbmc.Player: Kodi's callbacks in, one finished Tracked item per playback out.

Tests move `world().player.position` and call `sample()` where the sampler thread would; the thread's
interval is an hour, so it never fires during a test.
"""
import json

import pytest
from xbmc import InfoTagVideo

from fakekodi import PlayingFile
from lib.scrobbler.player import Player
from lib.scrobbler.watch import Rules, decide

HOUR = 3600.0
MOVIE_PATH = "/media/Movies/Inception (2010)/Inception.mkv"
RULES = Rules(threshold=0.8, min_length=300, excluded_folders=("/media/private", "smb://nas/kids"))


class Clock:
    def __init__(self):
        self.now = 1778788800.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def finished():
    return []


@pytest.fixture
def player(kodi, clock, finished):
    player = Player(on_finished=finished.append, rules=lambda: RULES, clock=clock, interval=HOUR)
    yield player
    player.stop_sampling()


def movie_tag(**fields):
    values = dict(media_type="movie", title="Inception", year=2010, dbid=12,
                  uniqueids={"imdb": "tt1375666", "tmdb": "27205"}, path=MOVIE_PATH)
    values.update(fields)
    return InfoTagVideo(**values)


def play(kodi, player, tag=None, path=MOVIE_PATH, total=2 * HOUR, position=0.0, properties=None):
    kodi.player = PlayingFile(tag or movie_tag(), path, total, position, properties)
    player.onAVStarted()


def move_to(kodi, player, position):
    kodi.player.position = position
    player.sample()


def end(kodi, player, natural):
    kodi.player = None  # once Kodi reports the end, nothing plays any more
    if natural:
        player.onPlayBackEnded()
    else:
        player.onPlayBackStopped()


def verdict(tracked):
    return decide(tracked.playback, RULES)


# --- watched or not ------------------------------------------------------------------------------

def test_natural_end_after_a_seek_counts_as_watched_though_the_last_sample_lags(kodi, player, finished):
    play(kodi, player)
    move_to(kodi, player, 0.087 * 2 * HOUR)
    player.onPlayBackSeek(int(0.97 * 2 * HOUR * 1000), 0)  # sampled before Kodi got there (seen in Kodi 20.1)

    end(kodi, player, natural=True)

    (tracked,) = finished
    assert tracked.playback.ended_naturally
    assert verdict(tracked).watched


def test_stop_at_40_percent_is_not_watched(kodi, player, finished):
    play(kodi, player)
    move_to(kodi, player, 0.4 * 2 * HOUR)

    end(kodi, player, natural=False)

    (tracked,) = finished
    assert tracked.playback.furthest == pytest.approx(0.4 * 2 * HOUR)
    assert not verdict(tracked).watched


def test_seek_to_95_percent_then_stop_is_watched_because_the_player_samples_after_a_seek(kodi, player, finished):
    play(kodi, player)
    move_to(kodi, player, 600)
    kodi.player.position = 0.95 * 2 * HOUR  # Kodi is there when it reports the seek

    player.onPlayBackSeek(int(0.95 * 2 * HOUR * 1000), int((0.95 * 2 * HOUR - 600) * 1000))
    end(kodi, player, natural=False)

    (tracked,) = finished
    assert verdict(tracked).watched


def test_a_seek_target_playback_never_reached_before_the_stop_is_not_watched(kodi, player, finished):
    play(kodi, player)
    move_to(kodi, player, 600)

    player.onPlayBackSeek(int(0.95 * 2 * HOUR * 1000), 0)  # still at 600 s when sampled
    end(kodi, player, natural=False)

    assert not verdict(finished[0]).watched


def test_a_two_minute_clip_played_to_the_end_is_not_watched(kodi, player, finished):
    play(kodi, player, total=120)
    move_to(kodi, player, 119)

    end(kodi, player, natural=True)

    (tracked,) = finished
    assert verdict(tracked).watched is False
    assert verdict(tracked).reason == "shorter than minimum"


def test_a_resumed_item_starts_from_its_resume_point(kodi, player, finished):
    play(kodi, player, position=0.5 * 2 * HOUR)
    move_to(kodi, player, 0.85 * 2 * HOUR)

    end(kodi, player, natural=False)

    assert verdict(finished[0]).watched


# --- not followed at all -------------------------------------------------------------------------

def assert_not_followed(kodi, player, finished):
    assert not player.is_following()
    end(kodi, player, natural=True)
    assert finished == []
    assert player.last_finished is None


def test_live_tv_is_not_followed(kodi, player, finished):
    kodi.conditions["PVR.IsPlayingTV"] = True

    play(kodi, player, path="/media/Movies/recording.ts")

    assert_not_followed(kodi, player, finished)


def test_a_pvr_path_is_not_followed(kodi, player, finished):
    play(kodi, player, path="pvr://channels/tv/All channels/pvr.iptvsimple_0.pvr")

    assert_not_followed(kodi, player, finished)


@pytest.mark.parametrize("path", ["/media/private/holiday.mkv", "smb://nas/kids/Cartoon/ep1.mkv",
                                  "stack:///media/private/a-cd1.avi , /media/private/a-cd2.avi"])
def test_a_file_in_an_excluded_folder_is_not_followed(kodi, player, finished, path):
    play(kodi, player, path=path)

    assert_not_followed(kodi, player, finished)


@pytest.mark.parametrize("value", ["true", "True"])
def test_an_item_the_playing_addon_opted_out_is_not_followed(kodi, player, finished, value):
    play(kodi, player, properties={"service.scrobbler.simkl.skip": value})

    assert_not_followed(kodi, player, finished)


def test_a_clip_without_a_media_type_or_handed_over_ids_is_not_followed(kodi, player, finished):
    play(kodi, player, tag=InfoTagVideo(title="Trailer"), path="plugin://plugin.video.example/trailer")

    assert_not_followed(kodi, player, finished)


def test_an_item_that_stops_before_it_can_be_read_is_not_followed(kodi, player, finished):
    kodi.player = None

    player.onAVStarted()

    assert_not_followed(kodi, player, finished)


# --- what is followed ----------------------------------------------------------------------------

def test_a_library_movie_is_followed_with_what_kodi_tells_about_it(kodi, player, finished):
    play(kodi, player, position=30)
    end(kodi, player, natural=False)

    item = finished[0].item
    assert (item.media_type, item.dbid, item.path, item.title, item.year) == ("movie", 12, MOVIE_PATH, "Inception",
                                                                              2010)
    assert item.uniqueids == {"imdb": "tt1375666", "tmdb": "27205"}
    assert finished[0].playback.total == 2 * HOUR


def test_an_episodes_default_id_is_never_read_as_an_imdb_id(kodi, player, finished):
    tag = InfoTagVideo(media_type="episode", title="Lord Snow", dbid=55, showtitle="Game of Thrones", season=1,
                       episode=3, uniqueids={"tvdb": "3436461"}, default_id="3436461")
    play(kodi, player, tag=tag, path="/media/GoT/S01E03.mkv")
    end(kodi, player, natural=False)

    item = finished[0].item
    assert (item.media_type, item.show_title, item.season, item.episode) == ("episode", "Game of Thrones", 1, 3)
    assert item.uniqueids == {"tvdb": "3436461"}


def test_ids_come_from_the_players_unique_id_labels_when_the_tag_has_none(kodi, player, finished):
    kodi.info_labels["VideoPlayer.UniqueID(imdb)"] = "tt1375666"
    play(kodi, player, tag=movie_tag(dbid=-1, uniqueids={}), path="plugin://plugin.video.example/play/1")
    end(kodi, player, natural=False)

    assert finished[0].item.uniqueids == {"imdb": "tt1375666"}


def test_plugin_item_without_media_type_but_with_trakt_ids_is_followed_as_a_movie(kodi, player, finished):
    ids = json.dumps({"imdb": "tt1375666", "tmdb": 27205})
    kodi.properties[(10000, "script.trakt.ids")] = ids
    play(kodi, player, tag=InfoTagVideo(title="Inception", year=2010), path="plugin://plugin.video.example/play/42")

    assert player.is_following()
    end(kodi, player, natural=False)

    item = finished[0].item
    assert item.media_type == "movie"
    assert item.property_ids["script.trakt.ids"] == ids


def test_plugin_item_without_media_type_but_with_show_season_and_episode_is_followed_as_an_episode(kodi, player,
                                                                                                 finished):
    kodi.properties[(10000, "script.trakt.ids")] = json.dumps({"tvdb": 121361})
    tag = InfoTagVideo(title="Lord Snow", showtitle="Game of Thrones", season=1, episode=3)
    play(kodi, player, tag=tag, path="plugin://plugin.video.example/play/43")
    end(kodi, player, natural=False)

    assert finished[0].item.media_type == "episode"


def test_ids_on_the_playing_listitem_are_handed_to_the_resolver(kodi, player, finished):
    ids = json.dumps({"simkl": 17})
    play(kodi, player, tag=InfoTagVideo(title="Inception"), path="plugin://plugin.video.example/play/42",
         properties={"service.scrobbler.simkl.ids": ids})
    end(kodi, player, natural=False)

    assert finished[0].item.property_ids["service.scrobbler.simkl.ids"] == ids


# --- life cycle ----------------------------------------------------------------------------------

def test_playlist_advance_finishes_the_first_item_as_stopped_and_follows_the_second(kodi, player, finished, clock):
    play(kodi, player)
    move_to(kodi, player, 0.5 * 2 * HOUR)

    clock.now += 3600
    second = InfoTagVideo(media_type="episode", title="Lord Snow", dbid=55, showtitle="Game of Thrones", season=1,
                          episode=3)
    play(kodi, player, tag=second, path="/media/GoT/S01E03.mkv", total=HOUR)

    (first,) = finished
    assert first.item.title == "Inception"
    assert not first.playback.ended_naturally
    assert first.playback.furthest == pytest.approx(0.5 * 2 * HOUR)
    assert not verdict(first).watched
    assert player.is_following()

    move_to(kodi, player, 0.9 * HOUR)
    end(kodi, player, natural=True)
    assert [t.item.title for t in finished] == ["Inception", "Lord Snow"]
    assert verdict(finished[1]).watched


@pytest.mark.parametrize("events", [("ended", "stopped"), ("stopped", "ended"), ("ended", "ended"),
                                    ("stopped", "error")])
def test_on_finished_is_called_once_per_item_whatever_events_follow(kodi, player, finished, events):
    play(kodi, player)
    move_to(kodi, player, 0.9 * 2 * HOUR)
    kodi.player = None

    for event in events:
        {"ended": player.onPlayBackEnded, "stopped": player.onPlayBackStopped,
         "error": player.onPlayBackError}[event]()

    assert len(finished) == 1
    assert finished[0].playback.ended_naturally == (events[0] == "ended")


def test_last_finished_records_type_dbid_and_time(kodi, player, clock):
    play(kodi, player)
    clock.now += 7000

    end(kodi, player, natural=True)

    assert player.last_finished == ("movie", 12, clock.now)
    assert not player.is_following()


def test_samples_after_the_end_change_nothing(kodi, player, finished):
    play(kodi, player)
    move_to(kodi, player, 600)
    end(kodi, player, natural=False)

    kodi.player = PlayingFile(movie_tag(), MOVIE_PATH, 2 * HOUR, 0.99 * 2 * HOUR)
    player.sample()
    player.onPlayBackSeek(7000 * 1000, 0)

    assert finished[0].playback.furthest == 600
    assert not verdict(finished[0]).watched

