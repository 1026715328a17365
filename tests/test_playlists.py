"""Playlists and Up Next through the real service: Kodi opens the next file before Python hears of it,
and each item is decided from its own samples."""
import pytest

import fakekodi
from scenario import EPISODE, MOVIE, episode_tag, install_library, movie_tag

NEXT_EPISODE = dict(EPISODE, episodeid=8, episode=4, title="Please Hold to My Hand", uniqueid={"tvdb": "8444133"},
                    file="/media/tv/The Last of Us/Season 1/S01E04.mkv")
SHORT_MOVIE = {"movieid": 2, "title": "Short", "year": 2021, "uniqueid": {"imdb": "tt0000202"},
               "file": "/media/movies/Short (2021)/Short.mkv"}


@pytest.fixture
def library(kodi):
    install_library(kodi, movies=(MOVIE, SHORT_MOVIE), episodes=(EPISODE, NEXT_EPISODE))


def episodes_sent(server):
    return [(e["number"]) for r in server.requests_to("/sync/history") if r.status == 201
            for s in r.json.get("shows", []) for season in s["seasons"] for e in season["episodes"]]


def test_an_episode_that_ends_and_moves_on_is_sent_once_and_the_next_stopped_early_is_not(service, server):
    second = fakekodi.PlayingFile(episode_tag(NEXT_EPISODE), NEXT_EPISODE["file"], 3000)

    service.play(episode_tag(), EPISODE["file"], total=3000, next_file=second)
    service.play(episode_tag(NEXT_EPISODE), NEXT_EPISODE["file"], total=3000, stop_at=600, ended=False)
    service.settle_marks()

    assert episodes_sent(server) == [3]
    assert len(server.watches) == 1


def test_a_sample_in_the_moment_kodi_opened_the_next_longer_file_does_not_undo_the_first(service, server):
    following = fakekodi.PlayingFile(episode_tag(NEXT_EPISODE), NEXT_EPISODE["file"], 9000, 1.0)

    _play_until(service, episode_tag(), EPISODE["file"], 3000, 2998)
    fakekodi.close_file(natural=True, next_file=following, meanwhile=service.player.sample)
    service.play(episode_tag(NEXT_EPISODE), NEXT_EPISODE["file"], total=9000, stop_at=60, ended=False)
    service.idle()

    assert episodes_sent(server) == [3]


def test_a_long_movie_skipped_at_30_percent_to_a_short_item_sends_nothing(service, server):
    short = fakekodi.PlayingFile(movie_tag(SHORT_MOVIE), SHORT_MOVIE["file"], 1500, 5.0)

    _play_until(service, movie_tag(), MOVIE["file"], 9000, 0.3 * 9000)
    fakekodi.skip_to(short, meanwhile=service.player.sample)
    fakekodi.close_file(natural=False)
    service.settle_marks()

    assert server.requests_to("/sync/history") == []


def _play_until(service, tag, path, total, position):
    fakekodi.open_file(fakekodi.PlayingFile(tag, path, total))
    fakekodi.world().player.position = position
    service.player.sample()


def test_up_next_at_95_percent_sends_the_episode_once(service, server):
    second = fakekodi.PlayingFile(episode_tag(NEXT_EPISODE), NEXT_EPISODE["file"], 3000)

    service.play(episode_tag(), EPISODE["file"], total=3000, stop_at=2850, ended=False, next_file=second)
    service.play(episode_tag(NEXT_EPISODE), NEXT_EPISODE["file"], total=3000, stop_at=300, ended=False)
    service.settle_marks()

    assert episodes_sent(server) == [3]
