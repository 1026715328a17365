"""A day's requests (tests/day.py, the small version of bench/bench_day.py's day): the real service with the
default settings, a library movie with a pause and a seek, a file-name episode, a Kodi restart, a library
scan and a change on simkl.com, over 24 virtual hours. A Kodi developer reports a daily request cap per
client id (simkl-api §13), so a change that costs requests fails here."""
from collections import Counter

import pytest
from day import Day, by_endpoint, endpoint, small_day

# What the small day costs today (see the test's table): one /sync/activities per sync, the live events, the
# file search once, and the lists that moved. A change that adds requests must raise this knowingly.
SMALL_DAY_REQUESTS = 40


@pytest.fixture
def day(kodi, server, clock):
    # the kodi fixture switches live scrobbling and the sync off for other tests: this day runs on the defaults
    for key in ("live_scrobble", "sync_from_simkl"):
        kodi.set_setting(key, kodi.definitions[key][1])
    made = Day(kodi, server, clock)
    made.before()
    return made


def test_a_small_day_costs_at_most_its_bound_in_requests_and_every_watch_arrives_once(day, server):
    events = small_day()
    day.run(events)

    counts = by_endpoint(day.requests())
    assert day.problems(events) == []
    assert sum(counts.values()) <= SMALL_DAY_REQUESTS, counts
    assert counts["GET /sync/activities"] == day.syncs  # one gate per sync, no other poll
    assert len(day.watches()) == 2


def test_every_request_of_the_day_is_named_without_its_ids():
    class Record:
        def __init__(self, method, path):
            self.method, self.path = method, path

    assert Counter(endpoint(Record(*r)) for r in [("GET", "/sync/all-items/shows/watching"),
                                                   ("GET", "/oauth/pin/ABCDE"), ("DELETE", "/sync/playback/5001"),
                                                   ("POST", "/scrobble/start")]) == Counter(
        ["GET /sync/all-items/shows/watching", "GET /oauth/pin/{id}", "DELETE /sync/playback/{id}",
         "POST /scrobble/start"])
