"""Scenario: the sync on the shapes Simkl really sends, in a real Kodi. An anime that Kodi numbers the TVDB way
(one season of four) is two cours on Simkl, each numbering its episodes from 1; a show the user completed on
Simkl comes without its episodes unless asked for all of them, and its times carry milliseconds and an offset.
After the login Kodi shows exactly the episodes Simkl has watched, at their TVDB places, with Simkl's times in
Kodi's own time zone; Kodi's announcements of those writes never travel back to Simkl."""
import re
from datetime import datetime, timedelta, timezone

import pytest
from fake_simkl_library import cour, tvdb_run

from .addon_steps import ADDON_ID, login, quit_cleanly, simkl_env, wait_for_requests
from .media_library import ANIME, COMPLETED_SHOW

pytestmark = pytest.mark.e2e

# Kodi runs in India's zone (UTC+05:30, no daylight saving time), Simkl writes its times at UTC-04:00, and the
# machine is usually on UTC: a time read in the wrong zone lands hours away, often on another day.
KODI_ZONE, KODI_OFFSET = "Asia/Kolkata", timedelta(hours=5, minutes=30)
SIMKL_TIME_STYLE = (3, "-04:00")  # 2026-02-28T19:30:00.000-04:00 (apiary "Dates": 3 digits; offsets)
# The anime: cour 1 is TVDB S01E01-E02 as its episodes 1-2, cour 2 is TVDB S01E03-E04 as its episodes 1-2.
COUR_ONE_IDS = {"mal": "990211", "anidb": "990221"}
COUR_TWO_IDS = {"mal": "990212", "anidb": "990222"}
COUR_ONE_E1_AT = "2026-02-28T23:30:00Z"  # Kodi S01E01
COUR_TWO_E1_AT = "2026-03-07T19:45:00Z"  # Kodi S01E03
# The completed show: episodes 1 and 2 recorded with their times; episode 3 listed by include_all_episodes=yes
# with the show's last watch (where clients differ on that time, the fake's choice: fake_simkl_library.py).
SHOW_E1_AT = "2026-01-10T20:00:00Z"
SHOW_E2_AT = "2026-01-11T21:10:00Z"
SYNC_TIMEOUT = 30  # the sync starts 5 s after the login
SYNC_DONE = r"\] sync: (full|partial) pull, "


@pytest.fixture(scope="module")
def kodi_env(fake):
    # No TZ here: Kodi's zone is its locale.timezone setting (by default the machine's), set over JSON-RPC
    # below. Seen in Kodi 20.1: with TZ=Asia/Kolkata in its environment the add-on still wrote UTC times.
    return simkl_env(fake)


@pytest.fixture(scope="module")
def kodi_addon_settings():
    return {"debug": True, "sync_from_simkl": True}


def kodi_local(watched_at):
    """Simkl's UTC time as Kodi's lastplayed in KODI_ZONE."""
    moment = datetime.strptime(watched_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    return (moment + KODI_OFFSET).strftime("%Y-%m-%d %H:%M:%S")


def log_count(kodi, pattern):
    return len(re.findall(pattern, kodi.log_text()))


def episode_state(kodi):
    """{(show title, season, number): (playcount, lastplayed)} of the two shows of this scenario."""
    return {(e["showtitle"], e["season"], e["episode"]): (e["playcount"], e["lastplayed"]) for e in kodi.episodes()
            if e["showtitle"] in (ANIME.title, COMPLETED_SHOW.title)}


def test_after_the_login_kodi_shows_the_anime_cours_and_the_completed_show_with_simkls_times(kodi, fake):
    kodi.call("Settings.SetSettingValue", {"setting": "locale.timezone", "value": KODI_ZONE})
    fake.library.time_style = SIMKL_TIME_STYLE
    fake.library.anime_series(ANIME.title, ANIME.year, dict(ANIME.ids), [
        cour(ANIME.title, COUR_ONE_IDS, tvdb_run(1, 1, 2)),
        cour(ANIME.title + " Part 2", COUR_TWO_IDS, tvdb_run(1, 3, 2)),
    ])
    fake.library.watch_episodes(ANIME.title, ANIME.year, dict(COUR_ONE_IDS), [(1, 1, COUR_ONE_E1_AT)])
    fake.library.watch_episodes(ANIME.title + " Part 2", ANIME.year, dict(COUR_TWO_IDS), [(1, 1, COUR_TWO_E1_AT)])
    fake.library.watch_episodes(COMPLETED_SHOW.title, COMPLETED_SHOW.year, dict(COMPLETED_SHOW.ids),
                                [(1, 1, SHOW_E1_AT), (1, 2, SHOW_E2_AT)], completed=True,
                                aired={1: len(COMPLETED_SHOW.episodes)})
    assert log_count(kodi, SYNC_DONE) == 0

    login(kodi, fake)
    wait_for_requests(fake, "/users/settings", 1, status=200)

    assert kodi.wait_until(lambda: log_count(kodi, SYNC_DONE), SYNC_TIMEOUT, interval=0.25), \
        "the sync did not log its end\n" + kodi.log_tail()
    watched = {
        (ANIME.title, 1, 1): (1, kodi_local(COUR_ONE_E1_AT)),
        (ANIME.title, 1, 3): (1, kodi_local(COUR_TWO_E1_AT)),
        (COMPLETED_SHOW.title, 1, 1): (1, kodi_local(SHOW_E1_AT)),
        (COMPLETED_SHOW.title, 1, 2): (1, kodi_local(SHOW_E2_AT)),
        (COMPLETED_SHOW.title, 1, 3): (1, kodi_local(SHOW_E2_AT)),
    }
    unwatched = {(ANIME.title, 1, 2): (0, ""), (ANIME.title, 1, 4): (0, "")}
    assert episode_state(kodi) == {**watched, **unwatched}
    assert "sync: full pull, 5 marked and 0 unmarked in Kodi, 0 writes refused, 5 requests" in kodi.log_text()
    assert [r.path for r in fake.requests if r.path.startswith("/sync/")] == [
        "/sync/activities", "/sync/all-items/movies", "/sync/all-items/shows", "/sync/all-items/anime",
        "/sync/playback"]
    (shows,), (anime,) = fake.requests_to("/sync/all-items/shows"), fake.requests_to("/sync/all-items/anime")
    assert (shows.query.get("extended"), shows.query.get("include_all_episodes")) == ("full", "yes")
    assert (anime.query.get("extended"), anime.query.get("include_all_episodes")) == ("full_anime_seasons", "yes")
    assert shows.query.get("episode_watched_at") == anime.query.get("episode_watched_at") == "yes"
    # What the fake answered is the shape the test means: both cours, numbered from 1, and times with an offset.
    assert [[(e["number"], e["tvdb"]) for s in entry["seasons"] for e in s["episodes"]]
            for entry in anime.answer["anime"]] == [[(1, {"season": 1, "episode": 1})],
                                                    [(1, {"season": 1, "episode": 3})]]
    assert shows.answer["shows"][0]["last_watched_at"] == "2026-01-11T17:10:00.000-04:00"


def test_sync_now_marks_nothing_new(kodi, fake):
    # A full sync again, whatever the activities say: the cours land on the same Kodi episodes.
    done = log_count(kodi, SYNC_DONE)

    kodi.run_addon(ADDON_ID, "sync")

    assert kodi.wait_until(lambda: log_count(kodi, SYNC_DONE) > done, SYNC_TIMEOUT, interval=0.25), \
        "Sync now did not run\n" + kodi.log_tail()
    assert "sync: full pull, 0 marked and 0 unmarked in Kodi, 0 writes refused, 5 requests" in kodi.log_text()
    assert fake.requests_to("/sync/history") == [] and fake.requests_to("/sync/history/remove") == []


def test_a_users_mark_after_the_sync_is_the_only_one_sent_and_lands_on_its_cour(kodi, fake):
    # Had Kodi's announcements of the sync's writes been taken for marks, they were queued before this one
    # and would travel first or with it.
    kodi.set_playcount({"episodeid": kodi.episode_id(ANIME.title, 1, 2)}, 1)

    (sent,) = wait_for_requests(fake, "/sync/history", 1, status=201)

    assert [show["title"] for show in sent.json.get("shows") or []] == [ANIME.title], sent.json
    (show,) = sent.json["shows"]
    assert {key: str(value) for key, value in show["ids"].items()} == ANIME.ids
    assert show.get("use_tvdb_anime_seasons") is True
    assert [(s["number"], [e["number"] for e in s["episodes"]]) for s in show["seasons"]] == [(1, [2])]
    assert not sent.json.get("movies") and not sent.json.get("episodes")
    assert sent.answer["added"]["episodes"] == 1
    # The fake put TVDB S01E02 on cour 1 as its own episode 2 (use_tvdb_anime_seasons, apiary add-to-history).
    (cour_one,) = [e for e in fake.library.entries.values() if e.ids.get("mal") == COUR_ONE_IDS["mal"]]
    assert sorted(cour_one.episodes) == [(1, 1), (1, 2)]


def test_kodi_quits_cleanly_and_nothing_else_was_posted(kodi, fake):
    quit_cleanly(kodi)

    assert fake.violations == []
    assert len(fake.requests_to("/sync/history")) == 1
    assert fake.requests_to("/sync/history/remove") == []
    assert [r.path for r in fake.requests if r.method == "POST" and r.path.startswith("/sync/")] == ["/sync/history"]
