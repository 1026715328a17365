"""Add-on videos through the real service: Kodi plays the URL an add-on resolved, the item comes from
its plugin:// path; ids the add-on hands over belong to its item only; nothing about the stream leaks."""
import json

from xbmc import InfoTagVideo

ADDON = "plugin://plugin.video.example/play?id=%d"
STREAM = "http://viewer:s3cret@cdn.example.net:8443/vod/abc123/movie-%d.mp4?token=TOKEN42&exp=99|Referer=https://portal.example.org"
LEAKS = ("viewer", "s3cret", "cdn.example.net", "8443", "/vod/", "abc123", "movie-", "TOKEN42", "portal.example.org")


def play_addon_video(service, kodi, number, title, ids=None, listitem_ids=None, total=6000, **kwargs):
    """The add-on sets its ids window property (if any) just before playback, then Kodi plays the
    URL it resolved the item to."""
    if ids is not None:
        kodi.properties[(10000, "script.trakt.ids")] = json.dumps(ids)
    properties = {"service.scrobbler.simkl.ids": json.dumps(listitem_ids)} if listitem_ids else None
    tag = InfoTagVideo(media_type="movie", title=title, year=2020)
    service.play(tag, STREAM % number, total=total, source=ADDON % number, properties=properties, **kwargs)


def history(server):
    return [r for r in server.requests_to("/sync/history") if r.status == 201]


def everything_sent(server):
    return "\n".join("%s %s %s %s" % (r.path, json.dumps(r.query), json.dumps(r.headers), json.dumps(r.json))
                     for r in server.requests)


def test_an_add_on_movie_with_window_ids_is_sent_under_them_and_the_next_without_ids_is_not(service, server,
                                                                                              kodi, clock):
    play_addon_video(service, kodi, 1, "First Film", ids={"imdb": "tt0000101", "tmdb": 101})
    service.idle()
    clock.advance(7 * 86400)  # long after, so the 48-hour repeat check cannot hide a wrong attribution
    play_addon_video(service, kodi, 2, "Second Film")  # its add-on hands over nothing
    service.idle()

    (request,) = history(server)
    assert request.json["movies"][0]["ids"] == {"imdb": "tt0000101", "tmdb": 101}
    assert request.json["movies"][0]["title"] == "First Film"
    assert [w.key for w in server.watches] == ["movie:imdb=tt0000101"]
    assert server.requests_to("/search/file") == []  # an add-on video is never file-searched


def test_the_listitem_ids_outrank_a_stale_window_property(service, server, kodi):
    kodi.properties[(10000, "service.scrobbler.simkl.ids")] = json.dumps({"imdb": "tt0000999"})

    play_addon_video(service, kodi, 3, "Third Film", listitem_ids={"tmdb": 303})
    service.idle()

    (request,) = history(server)
    assert request.json["movies"][0]["ids"] == {"tmdb": 303}


def test_nothing_about_the_stream_reaches_simkl(service, server, kodi):
    play_addon_video(service, kodi, 5, "")  # no ids, no title: the worst case
    play_addon_video(service, kodi, 4, "Fourth Film", ids={"imdb": "tt0000104"})
    service.idle()

    assert len(history(server)) == 1

    sent = everything_sent(server)
    assert [leak for leak in LEAKS if leak in sent] == []
    assert "plugin.video.example" not in sent


def test_exclude_add_on_videos_sends_nothing_for_an_item_resolved_to_a_stream(service, server, kodi):
    kodi.set_setting("exclude_plugin", True)
    service.service.settings_changed()

    play_addon_video(service, kodi, 6, "Sixth Film", ids={"imdb": "tt0000106"})
    service.idle()

    assert server.requests_to("/sync/history") == []


def test_an_unidentified_add_on_video_is_listed_by_its_add_on_not_its_stream(service, server, kodi):
    play_addon_video(service, kodi, 7, "")
    service.idle()

    assert "plugin.video.example" in kodi.log_text()
    assert not any(leak in kodi.log_text() for leak in ("s3cret", "TOKEN42", "cdn.example.net"))


def test_the_outbox_keeps_nothing_of_the_stream_or_a_shares_password(service, server, kodi):
    server.fail("/sync/history", 503, retry_after="3600")  # the watches stay queued on disk
    play_addon_video(service, kodi, 8, "Eighth Film", ids={"imdb": "tt0000108"})
    tag = InfoTagVideo(media_type="movie", title="Shared", year=2001)
    service.play(tag, "smb://viewer:s3cret@nas/films/Shared (2001)/shared.mkv", total=6000)
    service.idle()

    with open(service.service.outbox.path, "rb") as handle:
        stored = handle.read() + open(service.service.outbox.path + "-wal", "rb").read()
    assert [leak for leak in LEAKS if leak.encode() in stored] == []
    assert [leak for leak in (b"smb", b"nas", b"films/") if leak in stored] == []
    assert b'"file_name": "Shared (2001)/shared.mkv"' in stored  # what finding its title needs
