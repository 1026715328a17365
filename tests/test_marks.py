"""Which library playcount raises come from Kodi's own playback, not the user's "Mark as watched"."""
import json

import pytest

from lib.scrobbler.playback.marks import PLAYBACK_UPDATE_WINDOW, OwnWrites, PlaybackMarks, library_item

MOVIE = ("movie", 12)
EPISODE = ("episode", 7)


def note(key):
    """A player notification's data naming a library item, as Kodi sends it (a JSON string)."""
    return json.dumps({"item": {"type": key[0], "id": key[1]}})


@pytest.fixture
def marks(clock):
    return PlaybackMarks(clock=clock)


def test_a_notification_names_its_library_item_from_json_text_or_parsed_data():
    assert library_item('{"item": {"type": "movie", "id": 12}}') == MOVIE
    assert library_item({"item": {"type": "episode", "id": "7"}}) == EPISODE


@pytest.mark.parametrize("data", ["not json", '{"no": "item"}', '{"item": {"type": "movie"}}',
                                  '{"item": {"type": "movie", "id": "x"}}', '{"item": "movie"}', None, 42])
def test_a_notification_without_a_library_item_names_none(data):
    assert library_item(data) is None


@pytest.mark.parametrize("start", ["Player.OnPlay", "Player.OnAVStart"])
def test_a_playcount_raise_for_the_item_playing_now_is_kodis(marks, start):
    marks.notification(start, note(MOVIE))

    assert marks.caused_by_playback(MOVIE, 1)
    assert not marks.caused_by_playback(EPISODE, 1)


def test_a_playcount_raise_with_nothing_playing_is_the_users(marks):
    assert not marks.caused_by_playback(MOVIE, 1)


def test_a_playcount_lowered_to_zero_is_always_the_users_even_for_the_item_playing(marks):
    marks.notification("Player.OnPlay", note(MOVIE))

    assert not marks.caused_by_playback(MOVIE, 0)
    assert marks.caused_by_playback(MOVIE, 1)


def test_a_raise_within_the_window_after_a_stop_is_kodis_and_one_at_its_end_is_the_users(marks, clock):
    marks.notification("Player.OnPlay", note(MOVIE))
    marks.notification("Player.OnStop", note(MOVIE))

    assert marks.caused_by_playback(MOVIE, 1)  # the same moment
    clock.advance(PLAYBACK_UPDATE_WINDOW - 0.5)
    assert marks.caused_by_playback(MOVIE, 1)
    clock.advance(0.5)
    assert not marks.caused_by_playback(MOVIE, 1)


def test_a_stop_without_an_item_ends_what_was_playing_from_that_moment(marks, clock):
    marks.notification("Player.OnAVStart", note(MOVIE))
    clock.advance(100)
    marks.notification("Player.OnStop", "{}")

    clock.advance(PLAYBACK_UPDATE_WINDOW - 1)
    assert marks.caused_by_playback(MOVIE, 2)
    clock.advance(1)
    assert not marks.caused_by_playback(MOVIE, 2)


def test_the_next_item_starting_ends_the_previous_one_which_stays_kodis_for_the_window(marks, clock):
    marks.notification("Player.OnPlay", note(MOVIE))
    clock.advance(10)
    marks.notification("Player.OnPlay", note(EPISODE))

    assert marks.caused_by_playback(EPISODE, 1)
    clock.advance(PLAYBACK_UPDATE_WINDOW - 1)
    assert marks.caused_by_playback(MOVIE, 1)
    clock.advance(1)
    assert not marks.caused_by_playback(MOVIE, 1)
    assert marks.caused_by_playback(EPISODE, 1)  # still playing


def test_a_stopped_item_no_longer_counts_as_playing_after_the_window(marks, clock):
    marks.notification("Player.OnPlay", note(MOVIE))
    marks.notification("Player.OnStop", note(MOVIE))
    marks.notification("Player.OnStop", note(MOVIE))

    clock.advance(PLAYBACK_UPDATE_WINDOW)
    assert not marks.caused_by_playback(MOVIE, 1)


def test_a_stop_time_ahead_of_the_clock_does_not_count(marks, clock):
    clock.advance(1000)
    marks.notification("Player.OnStop", note(MOVIE))
    clock.now -= 1  # the stop reads as in the future: the clock went back

    assert not marks.caused_by_playback(MOVIE, 1)


def test_other_notifications_change_nothing(marks, clock):
    marks.notification("Player.OnPause", note(MOVIE))
    marks.notification("VideoLibrary.OnUpdate", note(EPISODE))

    assert not marks.caused_by_playback(MOVIE, 1)
    assert not marks.caused_by_playback(EPISODE, 1)


def test_a_stop_naming_an_item_never_seen_starting_makes_its_raise_kodis(marks, clock):
    marks.notification("Player.OnStop", note(EPISODE))  # the start came before the service did

    assert marks.caused_by_playback(EPISODE, 1)
    assert not marks.caused_by_playback(MOVIE, 1)
    clock.advance(PLAYBACK_UPDATE_WINDOW)
    assert not marks.caused_by_playback(EPISODE, 1)


# The add-on's own library writes


@pytest.fixture
def own(clock):
    return OwnWrites(clock=clock)


def test_an_expected_update_is_recognised_once(own):
    own.expect(MOVIE, 1)

    assert own.consume(MOVIE, 1)
    assert not own.consume(MOVIE, 1)  # a second update is the user's


def test_an_update_is_ours_when_it_goes_the_expected_way_watched_or_unwatched(own):
    own.expect(MOVIE, 2)
    own.expect(EPISODE, 0)

    assert not own.consume(MOVIE, 0)
    assert not own.consume(EPISODE, 1)
    assert own.consume(MOVIE, 1)  # any playcount above zero is "watched"
    assert own.consume(EPISODE, 0)


def test_an_update_without_a_playcount_or_for_another_item_is_not_ours(own):
    own.expect(MOVIE, 1)

    assert not own.consume(MOVIE, None)
    assert not own.consume(EPISODE, 1)
    assert own.consume(MOVIE, 1)


def test_an_expected_update_that_never_came_is_forgotten_after_its_lifetime(own, clock):
    own.expect(MOVIE, 1)
    own.expect(EPISODE, 1)

    clock.advance(OwnWrites.LIFETIME - 0.5)
    assert own.consume(MOVIE, 1)
    clock.advance(0.5)
    assert not own.consume(EPISODE, 1)
