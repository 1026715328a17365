"""Scenario 7: marking an episode watched, then unwatched, in Kodi's library is mirrored on Simkl; so is a
whole season marked in a row, in one request each way."""
import time

import pytest

from .addon_steps import quit_cleanly, simkl_env, wait_for_requests
from .media_library import EPISODE_ONE, EPISODE_TWO, SHOW

MARK_GAP = 0.5  # seconds between marks: less than the add-on waits for more (README, "Library marks")

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("logged_in")]


@pytest.fixture(scope="module")
def kodi_env(fake):
    return simkl_env(fake)


def episodes_sent(show):
    return [(season["number"], [{k: v for k, v in episode.items() if k != "watched_at"}
                                for episode in season["episodes"]]) for season in show["seasons"]]


def test_marking_an_episode_watched_then_unwatched_adds_then_removes_it(kodi, fake):
    episodeid = kodi.episode_id(SHOW.title, EPISODE_TWO.season, EPISODE_TWO.number)
    show_ids = {key: str(value) for key, value in SHOW.ids.items()}

    kodi.set_playcount({"episodeid": episodeid}, 1)

    (added,) = wait_for_requests(fake, "/sync/history", 1, status=201)
    (show,) = added.json["shows"]
    assert {key: str(value) for key, value in show["ids"].items()} == show_ids
    assert episodes_sent(show) == [(EPISODE_TWO.season, [{"number": EPISODE_TWO.number}])]
    assert show["seasons"][0]["episodes"][0]["watched_at"]

    kodi.set_playcount({"episodeid": episodeid}, 0)

    (removed,) = wait_for_requests(fake, "/sync/history/remove", 1, status=201)
    assert removed.method == "POST"
    (show,) = removed.json["shows"]
    assert {key: str(value) for key, value in show["ids"].items()} == show_ids
    assert show["seasons"] == [{"number": EPISODE_TWO.season, "episodes": [{"number": EPISODE_TWO.number}]}]
    assert fake.removed == ["show:imdb=%s:S%dE%d" % (SHOW.ids["imdb"], EPISODE_TWO.season, EPISODE_TWO.number)]
    assert len(fake.requests_to("/sync/history")) == 1


def mark_in_a_row(kodi, episodes, playcount):
    """One after the other, as on a slow box marking a season, or a user going down a list."""
    for episodeid in episodes:
        kodi.set_playcount({"episodeid": episodeid}, playcount)
        time.sleep(MARK_GAP)


def numbers_sent(request):
    (show,) = request.json["shows"]
    return sorted((season["number"], episode["number"]) for season in show["seasons"]
                  for episode in season["episodes"])


def test_a_season_marked_in_a_row_goes_in_one_request_each_way(kodi, fake):
    episodes = [kodi.episode_id(SHOW.title, e.season, e.number) for e in (EPISODE_ONE, EPISODE_TWO)]
    numbers = sorted((e.season, e.number) for e in (EPISODE_ONE, EPISODE_TWO))

    mark_in_a_row(kodi, episodes, 1)
    (added,) = wait_for_requests(fake, "/sync/history", 2, status=201)[1:]
    assert numbers_sent(added) == numbers

    mark_in_a_row(kodi, episodes, 0)
    (removed,) = wait_for_requests(fake, "/sync/history/remove", 2, status=201)[1:]
    assert numbers_sent(removed) == numbers


def test_kodi_quits_cleanly_and_every_request_kept_simkl_rules(kodi, fake):
    quit_cleanly(kodi)

    assert fake.violations == []
    assert len(fake.requests_to("/sync/history")) == 2
    assert len(fake.requests_to("/sync/history/remove")) == 2
