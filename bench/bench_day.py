"""The requests a heavy day of Kodi use costs on Simkl, by endpoint.

A Kodi developer reports a daily request cap on his Simkl client id (Simkl's pages state only per-second
limits), so a day's requests are counted: tests/day.py plays the day through the real service on the Kodi
fakes (the real settings.xml's defaults: live scrobbling, Mark in Kodi, resume points and ratings on),
against the fake Simkl server on 127.0.0.1, with real sqlite files, on virtual time. The day (24 h):
ten titles (six of Kodi's library, four files found by Simkl's file search), five hours of playback with
pauses and seeks, a sync 60 s after each start of Kodi and every hour, two Kodi restarts, a library scan
that adds two episodes, and three titles marked on another device. The first full sync of the login, the
evening before, is not counted. Exits non-zero unless every watch reached Simkl exactly once, the rest
not at all, and the fake saw no breach of Simkl's rules (1 POST/s, 10 GET/s, the required parameters).
Usage: bench_day.py [--hours 24] [--small] [--log]
"""
import argparse
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "tests", "kodi_fakes"))

from day import Day, by_endpoint, endpoint, heavy_day, profile_folder, small_day  # noqa: E402
from virtual_time import VirtualClock  # noqa: E402

import fakekodi  # noqa: E402
from fake_simkl import FakeSimkl  # noqa: E402

GOAL = 150


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=24.0, help="length of the day (default 24)")
    parser.add_argument("--small", action="store_true", help="the unit suite's small day instead")
    parser.add_argument("--log", action="store_true", help="print every request of the day")
    args = parser.parse_args()
    events = small_day() if args.small else heavy_day()
    clock = VirtualClock()
    started = time.monotonic()
    # the stopped service's worker may still close its queue file (its -wal and -shm go) as the folder goes
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as root, FakeSimkl(clock=clock) as simkl:
        os.environ.update(SIMKL_API_URL=simkl.url, SIMKL_CLIENT_ID=simkl.client_id)
        os.environ.pop("SIMKL_AUTH", None)
        world = fakekodi.reset(profile_folder(root))
        day = Day(world, simkl, clock)
        day.before()
        before = len(simkl.requests)
        day.run(events, hours=args.hours)
        requests = day.requests()
        problems = day.problems(events)
        world.abort.set()
    counts = by_endpoint(requests)
    width = max(len(name) for name in counts) if counts else 10
    plays = [event.play for event in events if event.kind == "play"]
    print("a day of %.0f h: %d titles, %.0f min of playback, %d Kodi starts, %d syncs"
          % (args.hours, sum(p.titles() for p in plays), sum(p.minutes() for p in plays),
             1 + sum(event.kind == "restart" for event in events), day.syncs))
    if args.log:
        for line in day.log:
            print("  " + line)
        for record in requests:
            print("  %5.2f h  %-36s %s" % ((record.time - day.day_start) / 3600, endpoint(record), record.status))
    print("%-*s  %s" % (width, "endpoint", "requests"))
    for name, number in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        print("%-*s  %8d" % (width, name, number))
    total = sum(counts.values())
    print("%-*s  %8d  (goal: at most %d; %s)" % (width, "total", total, GOAL,
                                                  "met" if total <= GOAL else "NOT met"))
    print("before the day (login's first full sync, not counted): %d requests" % before)
    print("watches Simkl took: %d; real time %.1f s" % (len(day.watches()), time.monotonic() - started))
    for problem in problems:
        print("PROBLEM: " + problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
