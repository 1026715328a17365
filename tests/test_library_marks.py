"""Library marks through the real service: Kodi's own playcount raise after playback is never a mark;
a user's mark is, also while another video plays; a marked season goes out together."""
import json
import sqlite3

import pytest
from xbmc import InfoTagVideo

from lib.scrobbler.delivery.settle import MARKS_SETTLE
from scenario import EPISODE, MOVIE, SHOW, RunningService, episode_tag, install_library, log_in, movie_tag

OTHER_MOVIE = {"movieid": 2, "title": "Heat", "year": 1995, "uniqueid": {"imdb": "tt0113277", "tmdb": "949"},
               "file": "/media/movies/Heat (1995)/Heat.mkv"}
PRIVATE_MOVIE = {"movieid": 4, "title": "Home Video", "year": 2020, "uniqueid": {"imdb": "tt9999991"},
                 "file": "/media/private/Home Video (2020)/home.mkv"}
CLIP = {"movieid": 5, "title": "Teaser", "year": 2024, "uniqueid": {"imdb": "tt9999992"},
        "file": "/media/movies/Teaser (2024)/teaser.mkv"}
SEASON = [dict(EPISODE, episodeid=100 + n, episode=n, title="Episode %d" % n, uniqueid={"tvdb": str(9000 + n)},
               file="/media/tv/The Last of Us/Season 1/S01E%02d.mkv" % n) for n in range(1, 10)]


@pytest.fixture
def library(kodi):
    install_library(kodi, movies=(MOVIE, OTHER_MOVIE, PRIVATE_MOVIE, CLIP), episodes=[EPISODE] + SEASON)


def mark(service, item, playcount):
    kind, dbid = ("movie", item["movieid"]) if "movieid" in item else ("episode", item["episodeid"])
    service.service.notification("xbmc", "VideoLibrary.OnUpdate",
                                 json.dumps({"item": {"id": dbid, "type": kind}, "playcount": playcount}))


def history(server):
    return [r for r in server.requests_to("/sync/history") if r.status == 201]


def test_a_movie_in_an_excluded_folder_played_to_its_end_is_not_sent_through_kodis_playcount(start, server, kodi):
    service = start(exclude_folder1="/media/private")

    service.play(movie_tag(PRIVATE_MOVIE), PRIVATE_MOVIE["file"], total=7200)
    service.settle_marks()

    assert kodi.playcounts[("movie", 4)] == 1  # Kodi marked it watched in its library
    assert server.requests_to("/sync/history") == []


def test_a_movie_played_while_scrobble_movies_is_off_is_not_sent_as_a_mark(start, server, kodi):
    service = start(scrobble_movies=False)

    service.play(movie_tag(), MOVIE["file"], total=7200)
    service.settle_marks()

    assert kodi.playcounts[("movie", 1)] == 1
    assert server.requests_to("/sync/history") == []


def test_a_clip_under_the_minimum_length_played_to_its_end_is_not_sent_as_a_mark(start, server, kodi):
    service = start()

    service.play(movie_tag(CLIP), CLIP["file"], total=90)
    service.settle_marks()

    assert kodi.playcounts[("movie", 5)] == 1
    assert server.requests_to("/sync/history") == []


def test_a_playback_the_decision_rejected_is_not_sent_when_kodi_marks_it(start, server, kodi):
    service = start(threshold=95)

    service.play(movie_tag(), MOVIE["file"], total=7200, stop_at=0.92 * 7200, ended=False)
    service.settle_marks()

    assert kodi.playcounts[("movie", 1)] == 1  # past Kodi's 90 %, short of the user's 95 %
    assert server.requests_to("/sync/history") == []


def test_kodis_update_arriving_just_after_the_stop_is_not_a_mark_either(start, server, clock):
    service = start(exclude_folder1="/media/private")
    service.play(movie_tag(PRIVATE_MOVIE), PRIVATE_MOVIE["file"], total=7200)
    clock.advance(5)

    mark(service, PRIVATE_MOVIE, 2)
    service.settle_marks()

    assert server.requests_to("/sync/history") == []


def test_a_users_mark_of_another_movie_while_a_video_plays_is_sent(start, server, kodi):
    service = start()
    playing = InfoTagVideo(media_type="movie", title="Inception", year=2010, dbid=1,
                           uniqueids={"imdb": "tt1375666"}, path=MOVIE["file"])
    import fakekodi
    fakekodi.open_file(fakekodi.PlayingFile(playing, MOVIE["file"], 7200))

    mark(service, OTHER_MOVIE, 1)
    service.settle_marks()

    (request,) = history(server)
    assert [m["title"] for m in request.json["movies"]] == ["Heat"]


def test_a_users_mark_of_the_movie_a_minute_after_its_playback_is_sent(start, server, clock):
    service = start(exclude_folder1="/media/private")
    service.play(movie_tag(PRIVATE_MOVIE), PRIVATE_MOVIE["file"], total=7200, stop_at=600, ended=False)
    clock.advance(60)

    mark(service, PRIVATE_MOVIE, 1)
    service.settle_marks()

    (request,) = history(server)
    assert [m["title"] for m in request.json["movies"]] == ["Home Video"]


def test_marking_a_whole_season_sends_one_request_and_one_notification(start, server, kodi):
    service = start()
    service.idle()  # past its start-up flush

    for episode in SEASON:
        mark(service, episode, 1)
    service.idle()
    assert server.requests_to("/sync/history") == []  # still waiting for more marks
    service.settle_marks()

    (request,) = history(server)
    (show,) = request.json["shows"]
    assert [e["number"] for e in show["seasons"][0]["episodes"]] == list(range(1, 10))
    assert kodi.notifications == [("Watched on Simkl", "9 episodes", "info")]


def test_unmarking_a_season_sends_one_remove_request(start, server):
    service = start()

    for episode in SEASON:
        mark(service, episode, 0)
    service.settle_marks()

    (request,) = server.requests_to("/sync/history/remove")
    assert len(request.json["shows"][0]["seasons"][0]["episodes"]) == 9


def test_an_episode_played_to_its_end_is_sent_once_despite_kodis_own_mark(start, server):
    service = start()

    service.play(episode_tag(), EPISODE["file"], total=3000)
    service.settle_marks()

    (request,) = history(server)
    assert request.json["shows"][0]["title"] == SHOW["title"]


def test_a_season_stays_one_request_when_the_worker_wakes_between_a_mark_and_its_job(start, server):
    """The worker wakes on its own when it sees an unresolved entry (its "due" job). When that happens
    after a mark is committed and before the mark's job is queued, the mark must still wait for the rest
    of the season (CI once sent the first episode alone)."""
    service = start()
    outbox = service.service.outbox
    add = outbox.add_unresolved

    def worker_wakes_first(*args):
        entry_id = add(*args)
        service.service.kick()  # the worker wakes for the unresolved entry before the mark's job
        service.idle()
        return entry_id

    outbox.add_unresolved = worker_wakes_first
    for episode in SEASON:
        mark(service, episode, 1)
    service.settle_marks()

    (request,) = server.requests_to("/sync/history")
    assert len(request.json["shows"][0]["seasons"][0]["episodes"]) == 9


def test_marks_that_come_before_the_worker_starts_wait_for_the_rest_of_the_season(kodi, server, clock, library):
    """Kodi may call the service's monitor before the worker's first job, which looks for what an earlier
    run left: the marks it finds then are still marks, and wait for the rest of theirs (CI once sent the
    first two episodes of a season alone)."""
    log_in(kodi, server)
    service = RunningService(kodi, clock)
    try:
        for episode in SEASON[:4]:
            mark(service, episode, 1)
        service.start().idle()
        for episode in SEASON[4:]:
            mark(service, episode, 1)
        service.settle_marks()
    finally:
        service.stop()

    (request,) = server.requests_to("/sync/history")
    assert len(request.json["shows"][0]["seasons"][0]["episodes"]) == 9


def test_a_mark_that_comes_as_the_worker_starts_to_send_still_waits_for_the_rest_of_the_season(start, server):
    """Kodi's thread may commit a mark between the worker's decision to send and the send itself, and the
    worker may then wake for the mark before its job: the mark's wait must survive that send."""
    service = start()
    outbox, flusher = service.service.outbox, service.service.flusher
    add, flush = outbox.add_unresolved, flusher.flush
    season = iter(SEASON)

    def worker_wakes_first(*args):
        entry_id = add(*args)
        service.service.kick()  # the worker wakes for the unresolved entry before the mark's job
        return entry_id

    def kodi_marks_meanwhile(**kwargs):
        episode = next(season, None)
        if episode is not None:
            mark(service, episode, 1)  # as if on Kodi's thread, after the worker decided to send
        return flush(**kwargs)

    outbox.add_unresolved, flusher.flush = worker_wakes_first, kodi_marks_meanwhile
    service.retry_now()  # the worker decides to send: nothing waits yet
    service.idle()
    for episode in season:
        mark(service, episode, 1)
    service.settle_marks()

    (request,) = server.requests_to("/sync/history")
    assert len(request.json["shows"][0]["seasons"][0]["episodes"]) == 9


def test_while_a_failed_step_waits_for_its_retry_a_mark_does_not_wake_the_worker_again_and_again(start, server,
                                                                                                  clock):
    """A mark's wait that ends during the worker's wait for a retry must not make the worker loop without
    pause until the retry (its jobs do nothing before then): it wakes for the retry, then sends the mark."""
    service = start()
    service.idle()
    outbox = service.service.outbox
    failures = [sqlite3.OperationalError("disk I/O error")]

    def unresolved(*args, **kwargs):
        if failures:
            raise failures.pop()
        return type(outbox).unresolved(outbox, *args, **kwargs)
    outbox.unresolved = unresolved

    mark(service, SEASON[0], 1)  # the worker fails to look it up: it tries again later
    service.idle()
    retry_at = service.service.worker.next_due()
    assert retry_at is not None and retry_at > clock() + MARKS_SETTLE
    clock.advance(MARKS_SETTLE + 0.5)  # the mark's wait is over, the retry's is not
    assert service.service.worker.next_due() == retry_at

    clock.advance(retry_at - clock())
    service.retry_now()
    service.idle()
    (request,) = server.requests_to("/sync/history")
    assert len(request.json["shows"][0]["seasons"][0]["episodes"]) == 1
