"""Requests and time to flush N queued watches from a real sqlite outbox to the fake Simkl.

Each run is a fresh child process holding only the add-on's side: the real Outbox (sqlite in a temp
dir), Flusher and api.Client. The fake Simkl server runs in this process on 127.0.0.1, so the
child's peak RSS is the add-on's own. Both sides share a virtual clock, so the client's 1 POST/s
pacing (and the fake's check of it) costs virtual seconds, not real ones; the real wall time of the
flush is then processing alone. Exits non-zero unless every watch reached Simkl exactly once.
Usage: bench_flush.py [--runs 3] [-n 10000]
"""
import argparse
import math
import multiprocessing
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

from fake_simkl import FakeSimkl  # noqa: E402
from lib.scrobbler import config  # noqa: E402
from lib.scrobbler.delivery.flush import BATCH_SIZE, Flusher  # noqa: E402
from lib.scrobbler.delivery.outbox import Outbox  # noqa: E402
from lib.scrobbler.media import Episode, Movie  # noqa: E402
from lib.scrobbler.simkl import api, auth  # noqa: E402

START = 1_780_000_000.0  # the virtual clock's start, as tests/scenario.py
SHOWS = 50
MOVIE_SHARE = 0.7
COLUMNS = ("requests", "floor", "paced s", "flush s", "insert s", "start RSS MB", "peak RSS MB")


class SharedClock:
    """tests/scenario.py's Clock on a number both processes see: the client sleeps, the fake reads."""

    def __init__(self, value):
        self._value = value

    def time(self):
        return self._value.value

    def sleep(self, seconds):
        with self._value.get_lock():
            self._value.value += max(0.0, seconds)


def watches(n):
    """n distinct watches, shuffled: 70% movies, 30% episodes spread over 50 shows (10 per season).

    Made one at a time, so the bench's own list does not count in the child's peak RSS.
    """
    movies = round(n * MOVIE_SHARE)
    order = list(range(n))
    random.Random(n).shuffle(order)
    for i in order:
        if i < movies:
            yield Movie("Movie %d" % i, 1950 + i % 75, {"imdb": "tt%07d" % (1000000 + i), "tmdb": 100000 + i})
            continue
        j = i - movies
        show, k = j % SHOWS, j // SHOWS
        yield Episode("Show %d" % show, k // 10 + 1, k % 10 + 1, 2000 + show,
                      {"imdb": "tt%07d" % (9000000 + show), "tvdb": 300000 + show},
                      "Episode %d" % k, {"tvdb": 5000000 + j})


def simkl_key(item):
    """The key the fake Simkl files a watch under (its first id of simkl, imdb, tmdb, tvdb)."""
    if isinstance(item, Movie):
        return "movie:imdb=%s" % item.ids["imdb"]
    return "show:imdb=%s:S%sE%s" % (item.show_ids["imdb"], item.season, item.number)


def peak_rss_mb():
    """This process's peak RSS: VmHWM, since a spawned child's ru_maxrss starts at its parent's RSS."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux reports KiB


def flush_run(conn, n, url, client_id, token, shared):
    """Child process: queue n watches in a fresh outbox, then flush them all; sends back the numbers."""
    clock = SharedClock(shared)
    folder = tempfile.mkdtemp(prefix="bench-flush-")
    try:
        start_rss = peak_rss_mb()
        outbox = Outbox(os.path.join(folder, config.OUTBOX_FILE), clock=clock.time)
        began = time.perf_counter()
        for index, item in enumerate(watches(n)):
            outbox.add(item, START - (n - index) * 60)
        insert = time.perf_counter() - began

        store = auth.TokenStore(folder)
        store.save({"access_token": token, "flow": "v1"})
        version = ET.parse(os.path.join(ROOT, "addon.xml")).getroot().get("version")
        client = api.Client(url, client_id, config.APP_NAME, version, "21.0", tokens=auth.TokenProvider(store),
                            clock=clock.time, sleep=clock.sleep)
        flusher = Flusher(outbox, client, clock=clock.time)
        virtual, began = clock.time(), time.perf_counter()
        sent = flusher.flush()
        flush = time.perf_counter() - began
        paced = clock.time() - virtual
        conn.send({"requests": flusher.requests, "sent": sent, "counts": outbox.counts(), "paced": paced,
                   "flush": flush, "insert": insert, "start_rss": start_rss, "peak_rss": peak_rss_mb()})
        outbox.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def problems(n, result, fake):
    """Why this run does not count: every watch must reach Simkl once, and the outbox must be drained."""
    found = []
    posted = {}
    for request in fake.requests_to("/sync/history", "POST"):
        body = request.json or {}
        for movie in body.get("movies") or []:
            key = "movie:imdb=%s" % movie["ids"]["imdb"]
            posted[key] = posted.get(key, 0) + 1
        for show in body.get("shows") or []:
            for season in show.get("seasons") or []:
                for episode in season.get("episodes") or []:
                    key = "show:imdb=%s:S%sE%s" % (show["ids"]["imdb"], season["number"], episode["number"])
                    posted[key] = posted.get(key, 0) + 1
    expected = {simkl_key(item) for item in watches(n)}
    arrived = [watch.key for watch in fake.watches]
    if len(arrived) != n or set(arrived) != expected:
        found.append("%d watches arrived for %d queued (%d distinct, %d expected missing)"
                     % (len(arrived), n, len(set(arrived)), len(expected - set(arrived))))
    repeated = sum(1 for count in posted.values() if count > 1)
    if repeated:
        found.append("%d watches were posted more than once" % repeated)
    if fake.violations:
        found.append("fake Simkl saw %d violations, first: %s" % (len(fake.violations), fake.violations[0]))
    if result["counts"] != {"pending": 0, "sent": n, "not_found": 0} or result["sent"] != n:
        found.append("outbox after the flush: %s, flusher sent %d" % (result["counts"], result["sent"]))
    if result["requests"] != len(fake.requests_to("/sync/history", "POST")):
        found.append("flusher counted %d requests, the fake saw %d"
                     % (result["requests"], len(fake.requests_to("/sync/history", "POST"))))
    return found


def one_run(context, n):
    shared = context.Value("d", START)
    clock = SharedClock(shared)
    with FakeSimkl(clock=clock.time) as fake:
        token = fake.issue_token()
        ours, theirs = context.Pipe()
        child = context.Process(target=flush_run, args=(theirs, n, fake.url, fake.client_id, token, shared))
        child.start()
        result = ours.recv() if ours.poll(600) else None
        child.join(10)
        if result is None or child.exitcode != 0:
            raise SystemExit("the flush run failed (exit code %s)" % child.exitcode)
        found = problems(n, result, fake)
    if found:
        raise SystemExit("flush run is wrong: " + "; ".join(found))
    return (result["requests"], math.ceil(n / BATCH_SIZE), result["paced"], result["flush"], result["insert"],
            result["start_rss"], result["peak_rss"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("-n", type=int, default=10000, help="watches to queue and flush")
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    rows = [one_run(context, args.n) for _ in range(args.runs)]
    print("flush of %d queued watches (%d%% movies, %d shows), median of %d runs (python %s; %d CPUs)"
          % (args.n, MOVIE_SHARE * 100, SHOWS, args.runs, sys.version.split()[0], os.cpu_count()))
    print("".join("%13s" % c for c in COLUMNS))
    medians = [statistics.median(column) for column in zip(*rows)]
    print("%13d%13d%13.0f%13.2f%13.2f%13.1f%13.1f" % tuple(medians))


if __name__ == "__main__":
    main()
