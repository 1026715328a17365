"""The real service loop, with the Kodi fakes and the fake Simkl server: what reaches /sync/history."""
import json
import os

from xbmc import InfoTagVideo

from scenario import EPISODE, MOVIE, RunningService, episode_tag, install_library, iso, log_in, movie_tag

PLUGIN_PATH = "plugin://plugin.video.example/play/?id=42"


def history_bodies(server):
    return [r.json for r in server.requests_to("/sync/history") if r.status == 201]


def test_library_movie_played_to_the_end_is_sent_once_with_its_ids(service, server, clock):
    service.play(movie_tag(), MOVIE["file"], total=7200)
    finished = clock.time()
    service.idle()
    assert history_bodies(server) == [{"movies": [{"title": "Inception", "year": 2010,
                                                   "ids": {"imdb": "tt1375666", "tmdb": 27205},
                                                   "watched_at": iso(finished)}]}]
    assert "allow_rewatch" not in server.requests_to("/sync/history")[0].query
    assert server.violations == []


def test_library_episode_is_sent_with_the_shows_ids_season_and_number(service, server, clock):
    service.play(episode_tag(), EPISODE["file"], total=3000)
    finished = clock.time()
    service.idle()
    assert history_bodies(server) == [{"shows": [{
        "title": "The Last of Us", "year": 2023, "ids": {"imdb": "tt3581920", "tmdb": 100088, "tvdb": 392256},
        "use_tvdb_anime_seasons": True,
        "seasons": [{"number": 1, "episodes": [{"number": 3, "watched_at": iso(finished)}]}]}]}]


def test_plugin_stream_with_window_property_ids_is_sent(service, server, clock, kodi):
    kodi.properties[(10000, "script.trakt.ids")] = json.dumps({"imdb": "tt15398776", "tmdb": 872585})
    tag = InfoTagVideo(media_type="", title="Oppenheimer", year=2023, path=PLUGIN_PATH)
    service.play(tag, PLUGIN_PATH, total=10800)
    finished = clock.time()
    service.idle()
    assert history_bodies(server) == [{"movies": [{"title": "Oppenheimer", "year": 2023,
                                                   "ids": {"imdb": "tt15398776", "tmdb": 872585},
                                                   "watched_at": iso(finished)}]}]


def test_clip_live_tv_and_a_movie_stopped_at_40_percent_send_nothing(service, server, kodi):
    clip = InfoTagVideo(media_type="movie", title="Trailer", year=2024, dbid=9, path="/media/trailer.mkv")
    service.play(clip, "/media/trailer.mkv", total=120)
    kodi.conditions["PVR.IsPlayingTV"] = True
    channel = InfoTagVideo(media_type="", title="News", path="pvr://channels/tv/1.pvr")
    service.play(channel, "pvr://channels/tv/1.pvr", total=3600)
    kodi.conditions["PVR.IsPlayingTV"] = False
    service.play(movie_tag(), MOVIE["file"], total=7200, stop_at=2880, ended=False)
    service.idle()
    assert server.requests_to("/sync/history") == []


def test_the_same_movie_finished_twice_within_48_hours_is_queued_once(service, server, clock):
    service.play(movie_tag(), MOVIE["file"], total=7200)
    clock.advance(3600)
    service.play(movie_tag(), MOVIE["file"], total=7200)
    service.idle()
    assert len(history_bodies(server)) == 1


def test_kodis_own_playcount_update_after_playback_is_not_a_second_watch(service, server, clock):
    service.play(movie_tag(), MOVIE["file"], total=7200)
    service.service.notification("xbmc", "VideoLibrary.OnUpdate",
                                 json.dumps({"item": {"id": 1, "type": "movie"}, "playcount": 1}))
    service.idle()
    assert len(server.requests_to("/sync/history")) == 1
    assert server.requests_to("/sync/history/remove") == []


def test_user_marks_in_the_library_become_a_history_add_then_a_remove(service, server, clock):
    clock.advance(3600)
    service.service.notification("xbmc", "VideoLibrary.OnUpdate",
                                 json.dumps({"item": {"id": 7, "type": "episode"}, "playcount": 1}))
    service.settle_marks()
    clock.advance(60)
    service.service.notification("xbmc", "VideoLibrary.OnUpdate",
                                 json.dumps({"item": {"id": 7, "type": "episode"}, "playcount": 0}))
    service.settle_marks()
    assert [r.path for r in server.requests if r.method == "POST"] == ["/sync/history", "/sync/history/remove"]
    assert server.requests_to("/sync/history/remove")[0].json == {"shows": [{
        "title": "The Last of Us", "year": 2023, "ids": {"imdb": "tt3581920", "tmdb": 100088, "tvdb": 392256},
        "use_tvdb_anime_seasons": True, "seasons": [{"number": 1, "episodes": [{"number": 3}]}]}]}


def test_watches_made_while_simkl_fails_arrive_once_after_it_recovers_across_a_restart(kodi, server, clock):
    install_library(kodi)
    log_in(kodi, server)
    server.fail("/sync/history", 503, times=2)
    server.fail("/sync/history", 0, times=1)  # then a dropped connection
    first = RunningService(kodi, clock).start()
    first.play(movie_tag(), MOVIE["file"], total=7200)
    first.idle()
    clock.advance(60)
    first.retry_now()
    first.idle()
    assert [r.status for r in server.requests_to("/sync/history")] == [503, 503]
    first.play(episode_tag(), EPISODE["file"], total=3000)
    first.idle()
    first.stop()  # Kodi quits with both watches still queued

    second = RunningService(kodi, clock).start()
    second.idle()
    clock.advance(3600)
    second.retry_now()
    second.idle()
    second.stop()
    assert sorted(w.key for w in server.watches) == ["movie:imdb=tt1375666", "show:imdb=tt3581920:S1E3"]
    assert [r.status for r in server.requests_to("/sync/history")][-1] == 201
    assert not any("allow_rewatch" in r.query for r in server.requests)


def test_a_revoked_token_stops_sending_keeps_the_watch_and_tells_the_user_once(service, server, kodi, clock):
    from lib.scrobbler.simkl import account
    server.revoke_all()
    service.play(movie_tag(), MOVIE["file"], total=7200)
    service.idle()
    clock.advance(3600)
    service.retry_now()
    service.idle()
    assert len(server.requests_to("/sync/history")) == 1
    warnings = [n for n in kodi.notifications if n[2] == "warning"]
    # the fixture's login is a PIN (V1) login: told that Simkl changed its login (tests/test_notifications.py)
    assert [n[0] for n in warnings] == ["Simkl's login changed"]
    assert kodi.settings["logged_in"] == "false"
    assert account.current_login() == {}
    log_in(kodi, server)
    service.service.settings_changed()
    service.idle()
    assert [w.key for w in server.watches] == ["movie:imdb=tt1375666"]


def test_the_service_leaves_its_loop_within_a_second_of_abort(service):
    service.stop(within=1.0)


def test_sent_watch_is_announced_in_the_users_language(service, kodi):
    service.play(movie_tag(), MOVIE["file"], total=7200)
    service.idle()
    assert ("Watched on Simkl", "Inception (2010)", "info") in kodi.notifications


def test_a_corrupt_queue_file_is_moved_aside_and_the_service_keeps_scrobbling(kodi, server, clock):
    install_library(kodi)
    log_in(kodi, server)
    with open(os.path.join(kodi.profile_dir, "outbox.sqlite"), "wb") as handle:
        handle.write(b"this is not a database" * 100)
    running = RunningService(kodi, clock).start()
    running.play(movie_tag(), MOVIE["file"], total=7200)
    running.idle()
    running.stop()
    assert [w.key for w in server.watches] == ["movie:imdb=tt1375666"]
    assert any(name.startswith("outbox.sqlite.corrupt-") for name in os.listdir(kodi.profile_dir))
    assert sum("corrupt" in line.lower() for line in kodi.log_text().splitlines()) == 1


def test_a_401_for_an_old_token_does_not_wipe_a_login_made_meanwhile(kodi, server):
    from lib.scrobbler.simkl import account
    new_token = log_in(kodi, server)
    assert account.logged_out(rejected_token="token-that-was-rejected") is False
    assert kodi.settings["logged_in"] == "true"
    with open(os.path.join(kodi.profile_dir, "token.json"), encoding="utf-8") as handle:
        assert json.load(handle)["access_token"] == new_token
    assert kodi.notifications == []


def test_only_our_own_scripts_hand_offs_are_heeded_and_an_unknown_one_is_ignored(service, kodi):
    """Any add-on may send a NotifyAll: one that borrows our message names is not us, and a message of
    ours the service does not know (a newer script's) changes nothing and breaks nothing."""
    from lib.scrobbler import config
    acknowledged = (10000, config.ACCOUNT_ACK_PROPERTY)
    service.idle()
    service.service.notification("plugin.video.other", "Other." + config.ACCOUNT_MESSAGE, '{"id": "other"}')
    service.service.notification(config.ADDON_ID, "Other.no_such_message", '{"id": "unknown"}')
    assert kodi.properties.get(acknowledged, "") == ""

    service.service.notification(config.ADDON_ID, "Other." + config.ACCOUNT_MESSAGE, '{"id": "ours"}')
    assert kodi.properties[acknowledged] == "ours"
    service.idle()
