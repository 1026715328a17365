"""Files played from a disk or a share, through the real service: what the queue file, the log and every
request keep of the path (never credentials, host or share), and that Simkl's file search is told enough
to tell two shows' alike file names apart."""
import json
import os

from xbmc import InfoTagVideo

SEARCH = "/search/file"
# Kodi's stack:// path of a multi-part movie: parts joined by " , ", a comma inside a name doubled
# (xbmc/filesystem/StackDirectory.cpp, CStackDirectory::ConstructStackPath).
STACK = ("stack://smb://user:pass@nas/Movies/Film (2001)/film-cd1.avi"
         " , smb://user:pass@nas/Movies/Film (2001)/film-cd2.avi")
STACK_WITH_COMMAS = ("stack://smb://DOM;alice:hunter2@nas.home.lan:445/Media-Share/Movies/Film, The (1999)/"
                     "film,, the-cd1.avi , smb://DOM;alice:hunter2@nas.home.lan:445/Media-Share/Movies/"
                     "Film,, The (1999)/film,, the-cd2.avi")
LEAKS = ("user", "pass", "nas", "Movies", "smb:", "alice", "hunter2", "home.lan", "lan:445", "Media-Share", "DOM;")
# Simkl's answer to POST /search/file (docs: ref/simkl/search-by-file).
FILM = {"type": "movie", "movie": {"title": "Film", "year": 2001, "ids": {"simkl_id": 501, "imdb": "tt0000501"}}}


def episode_of(show, simkl_id, imdb):
    # Simkl's answer to POST /search/file for an episode (docs: ref/simkl/search-by-file).
    return {"type": "episode", "show": {"title": show, "year": 2019, "ids": {"simkl": simkl_id, "imdb": imdb}},
            "episode": {"title": "Pilot", "season": 1, "episode": 1, "multipart": False,
                        "ids": {"simkl": simkl_id * 10}}}


def play_file(service, path, media_type="movie", title=""):
    """A file that is not in Kodi's library: no ids, maybe not even a title."""
    service.play(InfoTagVideo(media_type=media_type, title=title), path, total=6000)


def everything_sent(server):
    return "\n".join("%s %s %s %s" % (r.path, json.dumps(r.query), json.dumps(r.headers), json.dumps(r.json))
                     for r in server.requests)


def queue_file_bytes(service):
    path = service.service.outbox.path
    stored = b""
    for extra in ("", "-wal", "-journal"):
        if os.path.exists(path + extra):
            with open(path + extra, "rb") as handle:
                stored += handle.read()
    return stored


def test_a_multi_part_movie_from_a_share_leaves_no_credentials_host_or_share_in_queue_log_or_requests(
        service, server, kodi):
    kodi.set_setting("debug", True)
    server.search_results["Film (2001)/film-cd1.avi"] = FILM
    server.fail("/sync/history", 503, times=10, retry_after="3600")  # the found one stays queued on disk
    server.fail("/scrobble/stop", 503, times=10, retry_after="3600")

    play_file(service, STACK)  # found by the file search
    play_file(service, STACK_WITH_COMMAS)  # not found: kept for the user, with what Kodi reported
    service.idle()

    stored = queue_file_bytes(service)
    assert [leak for leak in LEAKS if leak.encode() in stored] == []
    assert [leak for leak in LEAKS if leak in kodi.log_text()] == []
    assert [leak for leak in LEAKS if leak in everything_sent(server)] == []
    assert searched(server) == ["Film (2001)/film-cd1.avi", "Film, The (1999)/film, the-cd1.avi"]
    assert service.service.outbox.counts()["unidentified"] == 1


def searched(server):
    return [r.json["file"] for r in server.requests_to(SEARCH)]


def test_two_shows_files_named_alike_are_scrobbled_as_their_own_shows(service, server):
    # What the search used to be told for both; Simkl names one show for it.
    server.search_results["Season 1/S01E01.mkv"] = episode_of("Show A", 101, "tt0000101")
    server.search_results["Show A/Season 1/S01E01.mkv"] = episode_of("Show A", 101, "tt0000101")
    server.search_results["Show B/Season 1/S01E01.mkv"] = episode_of("Show B", 202, "tt0000202")

    play_file(service, "smb://user:pass@nas/tv/Show A/Season 1/S01E01.mkv", media_type="episode")
    play_file(service, "smb://user:pass@nas/tv/Show B/Season 1/S01E01.mkv", media_type="episode")
    service.idle()

    assert searched(server) == ["Show A/Season 1/S01E01.mkv", "Show B/Season 1/S01E01.mkv"]
    assert sorted(w.key for w in server.watches) == ["show:simkl=101:S1E1", "show:simkl=202:S1E1"]


def test_the_status_view_and_log_name_an_unknown_file_by_what_the_search_is_told(service, server, kodi):
    play_file(service, "nfs://10.0.0.5/volume1/TV/Show B/Season 1/S01E01.mkv", media_type="episode")
    service.idle()

    (entry,) = service.service.outbox.attention()
    assert entry.label == "Show B/Season 1/S01E01.mkv"
    assert "10.0.0.5" not in kodi.log_text() and "volume1" not in kodi.log_text()
