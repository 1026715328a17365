"""Add-on videos: items of a video add-on (plugin.video.simkltest) that resolve to an http stream with
credentials and a token in its URL (stream_server.py).

Seen in Kodi 20.1: while such an item plays, getPlayingFile() gives the resolved http URL (credentials
and query included); getPlayingItem().getPath() and Player.Filenameandpath give the plugin:// URL,
Player.FolderPath plugin://<add-on id>/<path>; the info tag's getFilenameAndPath() is empty. Kodi sends
the URL's credentials only after the server's 401 challenge.
"""
import json
import time
from urllib.parse import quote

import pytest

from .addon_steps import ADDON_ID, quit_cleanly, simkl_env, wait_for_requests
from .stream_server import StreamServer
from .video_addon import PLUGIN_DIR, plugin_url

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("logged_in")]

USER, PASSWORD, TOKEN = "e2e-viewer", "e2e-s3cret", "token=abc"
WITH_IDS = ("Zeta Addon Movie", 2015, {"imdb": "tt9900201", "tmdb": "990201"}, "zeta-stream.mp4")
STOPPED_EARLY = ("Eta Addon Movie", 2016, {"imdb": "tt9900202", "tmdb": "990202"}, "eta-stream.mp4")
WITHOUT_IDS = ("Theta Addon Movie", 2017, None, "theta-stream.mp4")
EXCLUDED = ("Iota Addon Movie", 2018, {"imdb": "tt9900204", "tmdb": "990204"}, "iota-stream.mp4")
CLIP_SECONDS = 400  # over the 5 minute minimum


@pytest.fixture(scope="module")
def streams(e2e_cache):
    with StreamServer(e2e_cache, require_auth=(USER, PASSWORD)) as server:
        yield server


@pytest.fixture(scope="module")
def kodi_env(fake):
    return simkl_env(fake)


@pytest.fixture(scope="module")
def kodi_addon_settings():
    return {"debug": True}  # "not watched: …" lines in kodi.log say when a playback was judged


@pytest.fixture(scope="module")
def kodi_extra_addons():
    return [PLUGIN_DIR]


def history_posts(fake):
    return fake.requests_to("/sync/history", "POST")


def addon_item(streams, movie):
    """The plugin:// URL of one of the movies above, and the path its stream is served at."""
    title, year, ids, name = movie
    stream = streams.clip_url(name, CLIP_SECONDS, user=USER, password=PASSWORD, query=TOKEN)
    return plugin_url(stream, title, year, ids=ids), "/stream/" + name


def judged(kodi, fake, title, history_before, timeout=20):
    """Wait until the add-on judged the playback of `title`: a "not watched" or "could not tell" line, or
    a new history POST (a wrong one, in these scenarios)."""
    def done():
        log = kodi.log_text()
        return (len(history_posts(fake)) > history_before or "not watched: '%s'" % title in log
                or "watched '%s' but could not tell" % title in log)
    assert kodi.wait_until(done, timeout), "the add-on never judged %r\n%s" % (title, kodi.log_tail())


def test_an_addon_movie_with_ids_played_to_its_end_is_sent_once_with_those_ids(kodi, fake, streams):
    title, year, ids, _ = WITH_IDS
    url, path = addon_item(streams, WITH_IDS)

    assert kodi.play_to_end({"file": url}, seek_to=99)["end"] is True

    assert any(r.status in (200, 206) for r in streams.requests_to(path)), streams.log_text()
    (request,) = wait_for_requests(fake, "/sync/history", 1)
    assert list(request.json) == ["movies"], request.json
    (movie,) = request.json["movies"]
    assert {key: str(value) for key, value in movie["ids"].items()} == ids
    assert movie.get("title", title) == title and movie.get("year", year) == year
    time.sleep(1)
    assert len(history_posts(fake)) == 1, fake.log_text()


def test_an_addon_movie_without_ids_is_never_sent_under_an_earlier_items_ids(kodi, fake, streams):
    # An item stopped early leaves its ids in script.trakt.ids (the test add-on, like many, never clears
    # it), ids that were never sent; the next item, with no ids of its own, must not take them over.
    before = len(history_posts(fake))
    early_url, _ = addon_item(streams, STOPPED_EARLY)
    kodi.play({"file": early_url})
    kodi.wait_for_position(2)
    assert kodi.stop_at(20)["end"] is False
    judged(kodi, fake, STOPPED_EARLY[0], before)
    url, path = addon_item(streams, WITHOUT_IDS)

    assert kodi.play_to_end({"file": url}, seek_to=99)["end"] is True

    assert any(r.status in (200, 206) for r in streams.requests_to(path)), streams.log_text()
    judged(kodi, fake, WITHOUT_IDS[0], before)
    time.sleep(1)
    assert history_posts(fake)[before:] == [], fake.log_text()


def test_no_request_to_simkl_carries_any_part_of_a_stream_url(kodi, fake, streams):
    needles = {streams.host_port, "/stream/", USER, PASSWORD, TOKEN}
    for _, _, _, name in (WITH_IDS, STOPPED_EARLY, WITHOUT_IDS, EXCLUDED):
        needles.update({name, name.rsplit(".", 1)[0]})
    needles |= {quote(needle, safe="") for needle in needles}  # URL-encoded, e.g. inside a plugin:// URL
    assert fake.requests, "no requests recorded"
    for request in fake.requests:
        texts = [request.path, json.dumps(request.query), json.dumps(request.json), json.dumps(request.headers)]
        leaked = sorted(needle for needle in needles if any(needle in text for text in texts))
        assert not leaked, "%s %s carries %r" % (request.method, request.path, leaked)


def test_with_exclude_plugin_on_an_addon_movie_with_ids_is_not_sent(kodi, fake, streams):
    assert kodi.restart(settings={ADDON_ID: {"exclude_plugin": True}}) == 0
    before = len(history_posts(fake))
    url, _ = addon_item(streams, EXCLUDED)

    assert kodi.play_to_end({"file": url}, seek_to=99)["end"] is True

    def excluded_or_sent():
        return len(history_posts(fake)) > before or "plugin source" in kodi.log_text()
    assert kodi.wait_until(excluded_or_sent, 20), "the add-on never said it excluded %r\n%s" % (EXCLUDED[0],
                                                                                               kodi.log_tail())
    time.sleep(1)
    assert history_posts(fake)[before:] == [], fake.log_text()


def test_kodi_quits_cleanly_and_every_request_kept_simkl_rules(kodi, fake):
    quit_cleanly(kodi)

    assert fake.violations == []
    assert len(history_posts(fake)) == 1, fake.log_text()
