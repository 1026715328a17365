"""The watched decision and its exclusions, one behaviour per test."""
import pytest

from lib.scrobbler.playback.watch import NATURAL_END_SLACK, Playback, Rules, Verdict, decide, exclusion_reason

MOVIE = 6000.0  # 100 minutes
RULES = Rules()
SAMPLE_GAP = 2.0  # the player samples every 2 s


class FakeClock:
    def __init__(self, now: float = 1700000000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def played(total: float, *positions: float) -> Playback:
    playback = Playback(total, clock=FakeClock())
    for position in positions:
        playback.sample(position)
    return playback


def excluded(path="/media/movies/film.mkv", media_type="movie", is_live=False, opted_out=False,
             rules=RULES, source=None):
    return exclusion_reason(path, media_type, is_live, opted_out, rules, source=source)


# The decision


def test_stop_after_threshold_is_watched():
    playback = played(MOVIE, 60, 3000, 4800)
    playback.stopped()
    assert decide(playback, RULES) == Verdict(True, "threshold reached")


def test_stop_at_40_percent_is_not_watched():
    playback = played(MOVIE, 60, 2400)
    playback.stopped()
    assert decide(playback, RULES) == Verdict(False, "below threshold 40%")


def test_just_below_threshold_reads_as_below_not_rounded_up():
    playback = played(MOVIE, 4799)
    playback.stopped()
    assert decide(playback, RULES) == Verdict(False, "below threshold 79%")


def test_custom_threshold_is_used():
    playback = played(MOVIE, 3600)
    playback.stopped()
    assert decide(playback, Rules(threshold=0.6)) == Verdict(True, "threshold reached")
    assert decide(playback, Rules(threshold=0.7)) == Verdict(False, "below threshold 60%")


def test_natural_end_with_lagging_last_sample_is_watched():
    playback = played(MOVIE, 60, 522)  # 8.7 %: the sample had not caught up with the seek
    playback.seek(5990)
    playback.ended()
    assert decide(playback, RULES) == Verdict(True, "ended")
    assert playback.furthest == 522  # what samples showed; the seek target counts only for the end


def test_natural_end_just_after_the_last_sample_is_watched():
    playback = played(MOVIE, 60, 3000, MOVIE - SAMPLE_GAP)
    playback.ended()
    assert decide(playback, RULES) == Verdict(True, "ended")


def test_a_stream_that_ends_at_10_percent_is_not_watched():
    playback = played(MOVIE, 60, 600)  # a network stream that failed and reported a natural end
    playback.ended()
    assert decide(playback, RULES) == Verdict(False, "ended early at 10%")


def test_a_natural_end_counts_when_the_sampling_interval_can_hide_the_threshold():
    hidden = played(MOVIE, 0.8 * MOVIE - NATURAL_END_SLACK + 0.5)
    hidden.ended()
    short = played(MOVIE, 0.8 * MOVIE - NATURAL_END_SLACK - 30)
    short.ended()
    assert decide(hidden, RULES).watched
    assert decide(short, RULES) == Verdict(False, "ended early at 79%")


def test_a_seek_target_short_of_the_threshold_does_not_make_a_natural_end_count():
    playback = played(MOVIE, 60)
    playback.seek(0.5 * MOVIE)
    playback.ended()
    assert decide(playback, RULES) == Verdict(False, "ended early at 50%")


def test_a_natural_end_after_a_resumed_start_near_the_end_is_watched():
    playback = Playback(MOVIE, position=0.95 * MOVIE, clock=FakeClock())
    playback.ended()
    assert decide(playback, RULES) == Verdict(True, "ended")


def test_seek_to_end_then_stop_counts_when_a_sample_reached_it():
    playback = played(MOVIE, 60)
    playback.seek(5900)
    playback.sample(5901)
    playback.stopped()
    assert decide(playback, RULES) == Verdict(True, "threshold reached")


def test_seek_target_alone_then_stop_does_not_count():
    playback = played(MOVIE, 60)
    playback.seek(5900)
    playback.stopped()
    assert playback.furthest == 60
    assert decide(playback, RULES) == Verdict(False, "below threshold 1%")


def test_seek_back_keeps_the_furthest_position():
    playback = played(MOVIE, 5000)
    playback.seek(100)
    playback.sample(120)
    playback.stopped()
    assert playback.furthest == 5000
    assert decide(playback, RULES) == Verdict(True, "threshold reached")


def test_unknown_duration_is_not_watched_even_when_ended():
    playback = played(0, 60, 4000)
    playback.ended()
    assert decide(playback, RULES) == Verdict(False, "unknown duration")


def test_trailer_shorter_than_minimum_is_not_watched_even_when_ended():
    playback = played(120, 30, 119)
    playback.ended()
    assert decide(playback, RULES) == Verdict(False, "shorter than minimum")


def test_item_of_exactly_minimum_length_can_count():
    playback = played(300, 250)
    playback.stopped()
    assert decide(playback, RULES) == Verdict(True, "threshold reached")


def test_total_known_late_through_a_sample_is_used():
    playback = played(0, 30, 60)
    assert decide(playback, RULES) == Verdict(False, "unknown duration")
    playback.sample(3000, total=3600)
    playback.sample(3100, total=0)  # a later unknown total does not forget the known one
    playback.stopped()
    assert playback.total == 3600
    assert decide(playback, RULES) == Verdict(True, "threshold reached")


def test_playlist_advance_decides_each_item_on_its_own():
    first = played(2700, 60, 2565)  # 95 %, then the playlist (or Up Next) moves on
    first.stopped()
    second = played(2700, 30, 270)  # 10 %, then the user stops
    second.stopped()
    assert decide(first, RULES) == Verdict(True, "threshold reached")
    assert not first.ended_naturally
    assert decide(second, RULES) == Verdict(False, "below threshold 10%")


def test_finished_at_is_the_clock_at_finish_and_later_events_are_ignored():
    clock = FakeClock(1000.0)
    playback = Playback(MOVIE, clock=clock)
    playback.sample(1000)
    clock.now = 2000.0
    playback.stopped()
    clock.now = 3000.0
    playback.sample(5900)
    playback.ended()
    assert playback.finished
    assert playback.finished_at == 2000.0
    assert not playback.ended_naturally
    assert decide(playback, RULES) == Verdict(False, "below threshold 16%")


def test_resumed_start_position_counts_as_reached():
    playback = Playback(MOVIE, position=4900, clock=FakeClock())
    playback.stopped()
    assert decide(playback, RULES) == Verdict(True, "threshold reached")


def test_threshold_given_as_a_percentage_is_refused():
    with pytest.raises(ValueError):
        Rules(threshold=80)


# Exclusions


def test_plain_library_movie_and_episode_are_not_excluded():
    assert excluded() is None
    assert excluded("smb://nas/tv/show/s01e01.mkv", "episode") is None


def test_live_tv_is_always_excluded():
    assert excluded("/media/recording.ts", is_live=True) == "live tv"


def test_pvr_path_is_live_tv():
    assert excluded("pvr://channels/tv/All channels/pvr.hts_1.pvr", "") == "live tv"
    assert excluded("PVR://recordings/tv/active/x.pvr", "episode") == "live tv"


def test_http_stream_is_excluded_only_when_the_option_is_on():
    assert excluded("https://cdn.example.com/film.m3u8") is None
    assert excluded("http://cdn.example.com/film.mp4") is None
    on = Rules(exclude_http=True)
    assert excluded("https://cdn.example.com/film.m3u8", rules=on) == "http stream"
    assert excluded("HTTP://cdn.example.com/film.mp4", rules=on) == "http stream"
    assert excluded("/media/movies/film.mkv", rules=on) is None


def test_plugin_source_is_excluded_only_when_the_option_is_on():
    path = "plugin://plugin.video.example/play?id=42"
    assert excluded(path) is None
    assert excluded(path, rules=Rules(exclude_plugin=True)) == "plugin source"


def test_an_add_on_video_is_known_by_its_source_not_by_the_stream_it_resolved_to():
    # Kodi's getPlayingFile() gives the resolved URL; where the item came from is the plugin:// path.
    stream = "http://127.0.0.1:8080/stream/film.mp4?token=abc"
    source = "plugin://plugin.video.example/play?id=42"
    assert excluded(stream, source=source, rules=Rules(exclude_plugin=True)) == "plugin source"
    assert excluded(stream, source=source) is None
    assert excluded(stream, source=source, rules=Rules(exclude_http=True)) == "http stream"


def test_an_excluded_folder_applies_to_the_items_source_too():
    rules = Rules(excluded_folders=("plugin://plugin.video.kids",))
    assert excluded("https://cdn.example.com/x.mp4", source="plugin://plugin.video.kids/play?id=1",
                    rules=rules) == "excluded folder"


def test_excluded_folder_excludes_its_files_and_subfolders():
    rules = Rules(excluded_folders=("/media/movies",))
    assert excluded("/media/movies/film.mkv", rules=rules) == "excluded folder"
    assert excluded("/media/movies/kids/film.mkv", rules=rules) == "excluded folder"


def test_excluded_folder_does_not_exclude_a_sibling_sharing_its_prefix():
    rules = Rules(excluded_folders=("/media/movies",))
    assert excluded("/media/movies-other/x.mkv", rules=rules) is None


def test_excluded_folder_ignores_trailing_separator_slash_direction_and_case():
    rules = Rules(excluded_folders=("C:\\Media\\Movies\\", "smb://NAS/Share/"))
    assert excluded("c:/media/movies/film.mkv", rules=rules) == "excluded folder"
    assert excluded("C:\\Media\\Movies\\film.mkv", rules=rules) == "excluded folder"
    assert excluded("smb://nas/share/film.mkv", rules=rules) == "excluded folder"
    assert excluded("C:\\Media\\Movies2\\film.mkv", rules=rules) is None


def test_up_to_five_excluded_folders_each_apply_and_empty_entries_are_ignored():
    folders = ("/a", "", "/c", "  ", "/e")
    rules = Rules(excluded_folders=folders)
    for folder in ("/a", "/c", "/e"):
        assert excluded(folder + "/film.mkv", rules=rules) == "excluded folder"
    assert excluded("/b/film.mkv", rules=rules) is None
    five = Rules(excluded_folders=("/a", "/b", "/c", "/d", "/e"))
    assert excluded("/e/film.mkv", rules=five) == "excluded folder"
    assert excluded("/f/film.mkv", rules=five) is None


def test_stacked_movie_in_excluded_folder_is_excluded():
    rules = Rules(excluded_folders=("/media/movies",))
    path = "stack:///media/movies/film-cd1.avi , /media/movies/film-cd2.avi"
    assert excluded(path, rules=rules) == "excluded folder"


def test_item_opted_out_by_its_add_on_is_excluded():
    path = "plugin://plugin.video.example/play?id=42"
    assert excluded(path, opted_out=True) == "opted out by add-on"


def test_movies_switched_off_excludes_movies_only():
    rules = Rules(movies=False)
    assert excluded(media_type="movie", rules=rules) == "movies switched off"
    assert excluded(media_type="episode", rules=rules) is None


def test_episodes_switched_off_excludes_episodes_only():
    rules = Rules(episodes=False)
    assert excluded(media_type="episode", rules=rules) == "episodes switched off"
    assert excluded(media_type="movie", rules=rules) is None


@pytest.mark.parametrize("media_type", ["musicvideo", "video", "song", ""])
def test_only_movies_and_episodes_can_be_watched(media_type):
    assert excluded(media_type=media_type) == "not a movie or episode"


# Boundaries and odd input


def test_a_threshold_of_exactly_one_is_allowed_and_zero_or_above_one_is_refused_with_the_value():
    assert Rules(threshold=1.0).threshold == 1.0
    for wrong in (0, 0.0, 1.01, 2):
        with pytest.raises(ValueError, match=r"threshold must be a fraction in \(0, 1\], got %r" % (wrong,)):
            Rules(threshold=wrong)


def test_a_natural_end_exactly_the_sampling_slack_short_of_the_threshold_is_watched():
    playback = played(MOVIE, 0.8 * MOVIE - NATURAL_END_SLACK)
    playback.ended()
    assert decide(playback, RULES) == Verdict(True, "ended")

    short = played(MOVIE, 0.8 * MOVIE - NATURAL_END_SLACK - 1)
    short.ended()
    assert decide(short, RULES) == Verdict(False, "ended early at 79%")


def test_a_total_under_a_second_is_a_known_duration_not_an_unknown_one():
    playback = Playback(0.5, clock=FakeClock())
    playback.sample(0.5)
    playback.stopped()
    assert decide(playback, Rules(min_length=0)) == Verdict(True, "threshold reached")
    assert decide(playback, RULES) == Verdict(False, "shorter than minimum")

    late = Playback(0, clock=FakeClock())
    late.sample(0.25, total=0.5)  # a stream that learns its (tiny) length late
    assert late.total == 0.5


def test_a_new_playback_starts_at_zero_unfinished_and_negative_positions_count_as_the_start():
    fresh = Playback(MOVIE, clock=FakeClock())
    assert (fresh.position, fresh.furthest, fresh.furthest_known) == (0.0, 0.0, 0.0)
    assert (fresh.finished, fresh.finished_at) == (False, None)

    assert Playback(MOVIE, position=-3, clock=FakeClock()).position == 0.0
    assert Playback(MOVIE, position=0.5, clock=FakeClock()).position == 0.5
    playback = Playback(MOVIE, position=600, clock=FakeClock())
    playback.sample(-2)
    assert playback.position == 0.0
    playback.seek(-1)
    assert playback.position == 0.0
    playback.seek(0.5)
    assert playback.position == 0.5
    playback.sample(0.25)
    assert (playback.position, playback.furthest) == (0.25, 600)


def test_a_recording_is_live_tv_by_its_source_even_when_it_plays_from_an_http_address():
    stream = "http://127.0.0.1:8080/recordings/42.ts"
    assert excluded(stream, "episode", source="pvr://recordings/tv/active/42.pvr") == "live tv"
    assert excluded("pvr://channels/tv/1.pvr", "episode", source="/media/tv/show.ts") == "live tv"
    assert excluded(stream, "episode", source="/media/tv/show.ts") is None


def test_a_library_item_that_resolves_to_a_plugin_is_a_plugin_source():
    # a .strm file in the library: its source is a file, what plays is an add-on's plugin:// URL
    path = "plugin://plugin.video.example/play?id=42"
    assert excluded(path, source="/media/movies/film.strm", rules=Rules(exclude_plugin=True)) == "plugin source"
    assert excluded(path, source="/media/movies/film.strm") is None


def test_an_excluded_folder_named_in_capitals_excludes_its_files():
    rules = Rules(excluded_folders=("/media/XBOX",))
    assert excluded("/media/XBOX/film.mkv", rules=rules) == "excluded folder"
    assert excluded("/media/xbo/film.mkv", rules=rules) is None


def test_a_stacked_movie_lives_where_its_first_part_lives_spaces_and_all():
    path = "stack:///media/my movies/film cd1.avi , /media/other movies/film cd2.avi"
    assert excluded(path, rules=Rules(excluded_folders=("/media/my movies",))) == "excluded folder"
    assert excluded(path, rules=Rules(excluded_folders=("/media/other movies",))) is None
