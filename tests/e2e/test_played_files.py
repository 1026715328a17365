"""A multi-part movie in Kodi 20/21: Kodi plays it as one stack:// path of its parts, and the add-on's
queue file keeps nothing of that path but the name the file search would be told."""
import time

import pytest

from .addon_steps import simkl_env, wait_for_requests
from .media_library import STACKED_MOVIE, build_stacked_movie

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("logged_in")]
SHARE = "Private Share"  # stands for what names a place: a share, a mount, a user's folder


@pytest.fixture(scope="module")
def kodi_env(fake):
    return simkl_env(fake)


@pytest.fixture(scope="module")
def kodi_addon_settings():
    return {"debug": True}


@pytest.fixture(scope="module")
def stacked_movie(kodi, e2e_cache, tmp_path_factory):
    source = tmp_path_factory.mktemp("stack") / SHARE / "Films"
    build_stacked_movie(source, e2e_cache, STACKED_MOVIE)
    kodi.add_video_source(source, "movies")
    kodi.scan_library()
    (movie,) = [m for m in kodi.movies() if m["title"] == STACKED_MOVIE.title]
    return movie


def queue_file_bytes(kodi):
    folder = kodi.addon_data("service.scrobbler.simkl")
    return b"".join((folder / name).read_bytes() for name in ("outbox.sqlite", "outbox.sqlite-wal")
                    if (folder / name).is_file())


def test_kodi_names_a_multi_part_movie_by_a_stack_path_of_its_parts(stacked_movie):
    path = stacked_movie["file"]

    assert path.startswith("stack://") and " , " in path
    assert path.endswith("/%s/zeta-cd2.mp4" % STACKED_MOVIE.folder)


def test_a_multi_part_movie_is_sent_once_and_its_path_never_reaches_the_queue_file(kodi, fake, stacked_movie):
    assert kodi.play_to_end({"movieid": stacked_movie["movieid"]}, seek_to=99)["end"] is True

    (sent,) = wait_for_requests(fake, "/sync/history", 1, status=201, timeout=30)
    assert sent.json["movies"][0]["ids"] == {"imdb": "tt9900005", "tmdb": 990005}
    time.sleep(1)  # a second watch of the same playback would be on its way by now
    assert len(fake.requests_to("/sync/history", "POST")) == 1
    stored = queue_file_bytes(kodi)
    assert [leak for leak in (SHARE.encode(), b"Films", b"stack:", b"/tmp/") if leak in stored] == []
    assert b'"file_name": "Zeta Stacked Movie (2005)/zeta-cd1.mp4"' in stored
