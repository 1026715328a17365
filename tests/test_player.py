"""The Player subclass on the fake xbmc.Player: Kodi's callbacks in, one finished Tracked item per playback out.

Tests move `world().player.position` and call `sample()` where the sampler thread would; the thread's
interval is an hour, so it never fires during a test.
"""
import json

import pytest
from xbmc import InfoTagVideo

from fakekodi import PlayingFile, close_file, open_file, skip_to
from lib.scrobbler.playback.player import Player
from lib.scrobbler.playback.watch import Rules, Verdict, decide

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


def play(kodi, player, tag=None, path=MOVIE_PATH, total=2 * HOUR, position=0.0, properties=None, source=None):
    open_file(PlayingFile(tag or movie_tag(), path, total, position, properties, source))


def move_to(kodi, player, position):
    kodi.player.position = position
    player.sample()


def end(kodi, player, natural):
    close_file(natural)  # once Kodi reports the end, nothing plays any more


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

    assert not player.is_following()
    player.onPlayBackEnded()
    assert finished == []


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


def test_on_kodi_19_ids_come_from_the_players_labels_since_its_tag_has_no_getuniqueid(kodi, player, finished):
    kodi.be_kodi(19)
    kodi.info_labels["VideoPlayer.UniqueID(imdb)"] = "tt1375666"
    play(kodi, player, position=30, properties={"service.scrobbler.simkl.ids": '{"imdb": "tt0000001"}'},
         source="plugin://plugin.video.example/play/1")
    end(kodi, player, natural=False)

    (tracked,) = finished
    assert (tracked.item.media_type, tracked.item.dbid, tracked.item.title) == ("movie", 12, "Inception")
    assert tracked.item.uniqueids == {"imdb": "tt1375666"}
    # Kodi 19 has no getPlayingItem: the item's own path comes from Player.Filenameandpath, its properties not at all
    assert tracked.item.source == "plugin://plugin.video.example/play/1"
    assert tracked.item.property_ids["service.scrobbler.simkl.ids"] == ""


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

    assert finished[0].item.property_ids["listitem"] == ids


# --- life cycle ----------------------------------------------------------------------------------

def test_it_is_quiet_once_nothing_played_opened_or_closed_for_a_while_and_no_playlist_goes_on(kodi, clock):
    player = Player(on_finished=lambda tracked: None, rules=lambda: RULES, clock=clock, interval=HOUR, steady=clock)
    assert player.quiet(10)  # nothing opened since the service started
    play(kodi, player)
    clock.now += 60
    assert not player.quiet(10)  # it plays
    end(kodi, player, natural=True)
    clock.now += 9
    assert not player.quiet(10)  # closed a moment ago: Up Next or the user may open the next one
    clock.now += 1
    assert player.quiet(10)
    kodi.playlist_sizes[1], kodi.playlist_position = 3, 1  # between two items of a playlist
    assert not player.quiet(10)
    kodi.playlist_position = -1  # the user stopped it (Kodi resets its playlist player)
    assert player.quiet(10)
    player.stop_sampling()



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


def test_samples_after_the_end_change_nothing(kodi, player, finished):
    play(kodi, player)
    move_to(kodi, player, 600)
    end(kodi, player, natural=False)

    kodi.player = PlayingFile(movie_tag(), MOVIE_PATH, 2 * HOUR, 0.99 * 2 * HOUR)
    player.sample()
    player.onPlayBackSeek(7000 * 1000, 0)

    assert finished[0].playback.furthest == 600
    assert not verdict(finished[0]).watched



# --- each sample belongs to its own item (Kodi opens the next file before Python hears of it) -----

EPISODE_PATH = "/media/GoT/S01E03.mkv"
NEXT_PATH = "/media/GoT/S01E04.mkv"


def episode(number=3, dbid=55):
    return InfoTagVideo(media_type="episode", title="Episode %d" % number, dbid=dbid, showtitle="Game of Thrones",
                        season=1, episode=number)


def next_file_opens(kodi, tag, path, total, position=0.0):
    """Kodi has opened the next playlist item: the player answers for it, Python has heard nothing yet."""
    kodi.player = PlayingFile(tag, path, total, position)


def test_an_episode_that_ends_naturally_in_a_playlist_is_watched_once(kodi, player, finished):
    play(kodi, player, tag=episode(3), path=EPISODE_PATH, total=HOUR)
    move_to(kodi, player, HOUR - 1.5)

    close_file(natural=True, next_file=PlayingFile(episode(4, 56), NEXT_PATH, 2 * HOUR))

    assert [t.item.title for t in finished] == ["Episode 3"]
    assert verdict(finished[0]).watched
    assert player.is_following()


def test_a_sample_taken_after_kodi_opened_the_next_longer_item_is_not_the_first_items(kodi, player, finished):
    play(kodi, player, tag=episode(3), path=EPISODE_PATH, total=HOUR)
    move_to(kodi, player, HOUR - 1.5)
    next_file_opens(kodi, episode(4, 56), NEXT_PATH, 2 * HOUR, position=1.0)

    player.sample()  # the sampler's tick lands in the window
    player.onPlayBackEnded()

    (first,) = finished
    assert first.playback.total == HOUR
    assert verdict(first).watched


def test_a_long_movie_skipped_at_30_percent_to_a_short_item_is_not_watched(kodi, player, finished):
    play(kodi, player, total=3 * HOUR)
    move_to(kodi, player, 0.3 * 3 * HOUR)
    next_file_opens(kodi, episode(4, 56), NEXT_PATH, 0.25 * HOUR, position=0.2 * HOUR)

    player.sample()
    player.onPlayBackStarted()
    player.onAVStarted()

    (first,) = finished
    assert first.playback.total == 3 * HOUR
    assert first.playback.furthest == pytest.approx(0.3 * 3 * HOUR)
    assert not verdict(first).watched


@pytest.mark.parametrize("next_total", [0.5 * HOUR, 2 * HOUR])
def test_an_item_skipped_at_85_percent_is_watched_whatever_the_next_items_length(kodi, player, finished,
                                                                                   next_total):
    play(kodi, player, tag=episode(3), path=EPISODE_PATH, total=HOUR)
    move_to(kodi, player, 0.85 * HOUR)
    next_file_opens(kodi, episode(4, 56), NEXT_PATH, next_total, position=3.0)

    player.sample()
    player.onPlayBackStarted()
    player.onAVStarted()

    (first,) = finished
    assert first.playback.total == HOUR
    assert verdict(first).watched


@pytest.mark.parametrize("next_total", [0.5 * HOUR, 3 * HOUR])
def test_a_stop_at_50_percent_is_not_watched_whatever_the_next_items_length(kodi, player, finished, next_total):
    play(kodi, player, tag=episode(3), path=EPISODE_PATH, total=HOUR)
    move_to(kodi, player, 0.5 * HOUR)
    next_file_opens(kodi, episode(4, 56), NEXT_PATH, next_total, position=0.45 * next_total)

    player.sample()
    player.onPlayBackStarted()
    player.onAVStarted()

    assert not verdict(finished[0]).watched


def test_two_items_played_back_to_back_within_seconds_keep_their_own_samples(kodi, player, finished, clock):
    play(kodi, player, tag=episode(3), path=EPISODE_PATH, total=HOUR)
    move_to(kodi, player, 0.9 * HOUR)
    skip_to(PlayingFile(episode(4, 56), NEXT_PATH, HOUR))
    clock.now += 2
    move_to(kodi, player, 0.1 * HOUR)
    skip_to(PlayingFile(movie_tag(), MOVIE_PATH, 2 * HOUR))
    clock.now += 2
    move_to(kodi, player, 0.95 * 2 * HOUR)
    end(kodi, player, natural=True)

    assert [(t.item.title, verdict(t).watched) for t in finished] == [
        ("Episode 3", True), ("Episode 4", False), ("Inception", True)]
    assert [t.playback.total for t in finished] == [HOUR, HOUR, 2 * HOUR]


def test_the_same_file_twice_in_a_row_keeps_the_second_plays_samples_apart(kodi, player, finished):
    play(kodi, player, tag=episode(3), path=EPISODE_PATH, total=HOUR)
    move_to(kodi, player, 0.3 * HOUR)
    skip_to(PlayingFile(episode(3), EPISODE_PATH, HOUR))
    move_to(kodi, player, 0.95 * HOUR)
    end(kodi, player, natural=False)

    assert [verdict(t).watched for t in finished] == [False, True]


def test_a_stream_that_breaks_off_at_10_percent_and_reports_a_natural_end_is_not_watched(kodi, player, finished):
    play(kodi, player, path="smb://nas/Movies/Inception.mkv")
    move_to(kodi, player, 0.1 * 2 * HOUR)

    end(kodi, player, natural=True)

    assert verdict(finished[0]) == Verdict(False, "ended early at 10%")


# --- ids a playing add-on hands over -------------------------------------------------------------

ADDON_PATH = "plugin://plugin.video.example/play/42"
STREAM = "http://127.0.0.1:8080/stream/42.mp4?token=abc"


def addon_movie(title="Inception"):
    return InfoTagVideo(media_type="movie", title=title, year=2010)


def test_window_ids_are_read_for_the_item_that_starts_and_cleared_when_it_ends(kodi, player, finished):
    kodi.properties[(10000, "script.trakt.ids")] = json.dumps({"imdb": "tt1375666"})
    play(kodi, player, tag=addon_movie(), path=STREAM, source=ADDON_PATH)

    end(kodi, player, natural=False)

    assert finished[0].item.property_ids["script.trakt.ids"] == json.dumps({"imdb": "tt1375666"})
    assert (10000, "script.trakt.ids") not in kodi.properties


def test_an_item_without_ids_never_inherits_the_previous_items(kodi, player, finished, clock):
    kodi.properties[(10000, "service.scrobbler.simkl.ids")] = json.dumps({"imdb": "tt1375666"})
    play(kodi, player, tag=addon_movie(), path=STREAM, source=ADDON_PATH)
    end(kodi, player, natural=False)
    clock.now += 30 * 86400

    play(kodi, player, tag=addon_movie("Another"), path=STREAM + "2", source=ADDON_PATH + "2")
    end(kodi, player, natural=False)

    assert [t.item.title for t in finished] == ["Inception", "Another"]
    assert not any(finished[1].item.property_ids.values())


def test_an_item_skipped_in_a_playlist_hands_no_ids_to_the_next_one(kodi, player, finished):
    kodi.properties[(10000, "script.trakt.ids")] = json.dumps({"imdb": "tt1375666"})
    play(kodi, player, tag=addon_movie(), path=STREAM, source=ADDON_PATH)
    move_to(kodi, player, 600)

    next_file_opens(kodi, addon_movie("Next"), STREAM + "2", 2 * HOUR)  # its add-on set no ids
    player.onPlayBackStarted()
    player.onAVStarted()
    end(kodi, player, natural=False)

    assert not any(finished[1].item.property_ids.values())


def test_ids_the_next_items_add_on_set_before_the_previous_end_arrived_are_kept_for_it(kodi, player, finished):
    kodi.properties[(10000, "script.trakt.ids")] = json.dumps({"imdb": "tt1375666"})
    play(kodi, player, tag=addon_movie(), path=STREAM, source=ADDON_PATH)
    next_ids = json.dumps({"imdb": "tt0816692"})
    kodi.properties[(10000, "script.trakt.ids")] = next_ids  # set while resolving the next playlist item

    close_file(natural=True, next_file=PlayingFile(addon_movie("Interstellar"), STREAM + "2", 2 * HOUR,
                                                   source=ADDON_PATH + "2"))
    end(kodi, player, natural=False)

    assert finished[1].item.property_ids["script.trakt.ids"] == next_ids


def test_a_listitem_property_outranks_window_properties(kodi, player, finished):
    kodi.properties[(10000, "service.scrobbler.simkl.ids")] = json.dumps({"imdb": "tt0000001"})
    play(kodi, player, tag=addon_movie(), path=STREAM, source=ADDON_PATH,
         properties={"service.scrobbler.simkl.ids": json.dumps({"tmdb": 27205})})
    end(kodi, player, natural=False)

    from lib.scrobbler.playback.resolve import ID_SOURCES
    first_given = next(finished[0].item.property_ids[name] for name in ID_SOURCES
                       if finished[0].item.property_ids.get(name))
    assert first_given == json.dumps({"tmdb": 27205})


# --- add-on videos are known by their source -----------------------------------------------------

def test_an_add_on_video_is_followed_with_its_plugin_source_and_its_stream(kodi, player, finished):
    play(kodi, player, tag=addon_movie(), path=STREAM, source=ADDON_PATH)
    end(kodi, player, natural=False)

    item = finished[0].item
    assert (item.path, item.source, item.origin) == (STREAM, ADDON_PATH, ADDON_PATH)


def test_exclude_add_on_videos_applies_to_an_item_resolved_to_an_http_stream(kodi, clock, finished):
    rules = Rules(exclude_plugin=True)
    player = Player(on_finished=finished.append, rules=lambda: rules, clock=clock, interval=HOUR)

    play(kodi, player, tag=addon_movie(), path=STREAM, source=ADDON_PATH)

    assert not player.is_following()
    end(kodi, player, natural=True)
    assert finished == []


def test_every_module_that_asks_kodi_for_the_playing_item_imports_xbmcgui_itself():
    """Kodi 21.2 crashes (SIGSEGV) on getPlayingItem() in an interpreter that has not imported xbmcgui
    (tests/e2e/test_kodi_facts.py): each caller imports it at its top, not trusting another module to."""
    import ast
    from pathlib import Path

    lib = Path(__file__).resolve().parents[1] / "lib"
    callers = []
    for path in sorted(lib.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if not any(isinstance(node, ast.Attribute) and node.attr == "getPlayingItem" for node in ast.walk(tree)):
            continue
        callers.append(path.name)
        top_imports = {alias.name for node in tree.body if isinstance(node, ast.Import) for alias in node.names}
        assert "xbmcgui" in top_imports, "%s calls getPlayingItem() without importing xbmcgui" % path
    assert callers, "no module calls getPlayingItem(): the test looks at the wrong tree"
