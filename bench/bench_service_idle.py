"""CPU time and wake-ups per hour of the real service, idle and while a movie plays.

The real `Service` runs on the Kodi fakes for a window of real time, on the real wall clock and
the real 2 s sample interval. Wake-ups are counted from the outside: returns of the main loop's
waitForAbort, the worker's looks at what is due next (once per wake of its loop), and calls of
the sampler's `sample`. CPU is
process-wide (`time.process_time()`, every thread); the fake Simkl server runs in a child process,
since in Kodi Simkl is another machine, so this process holds only the service and the bench.
Nothing is subtracted. Usage: bench_service_idle.py [--runs 3] [--idle-seconds 10] [--play-seconds 20]
"""
import argparse
import multiprocessing
import os
import resource
import shutil
import statistics
import sys
import tempfile
import threading
import time
import types

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "tests", "kodi_fakes"))

import fakekodi  # noqa: E402
from fake_simkl import FakeSimkl  # noqa: E402
from lib.scrobbler.playback import player as player_module  # noqa: E402
from lib.scrobbler.service import Service  # noqa: E402
from scenario import MOVIE, install_library, log_in, movie_tag, wait_for  # noqa: E402

MOVIE_SECONDS = 1800.0  # long enough for the watch rules (5 min), so the final check scrobbles it
COLUMNS = ("window s", "wake-ups", "wake-ups/h", "CPU ms", "CPU ms/h", "ctx sw/h")


def serve_fake_simkl(conn):
    """Child process: the fake Simkl server; 'history' answers how many history POSTs it took, 'stop' ends."""
    with FakeSimkl() as fake:
        conn.send((fake.url, fake.client_id, fake.issue_token(), fake.account.name))
        while True:
            command = conn.recv()
            if command == "history":
                # A watch reaches Simkl by /sync/history, or by the live /scrobble/stop; each run plays the same
                # movie, so a later run's stop is answered 409 (Simkl has it from the hour before).
                taken = [r for r in fake.requests_to("/sync/history", "POST") if r.status == 201]
                taken += [r for r in fake.requests_to("/scrobble/stop", "POST") if r.status in (201, 409)]
                conn.send((len(taken), list(fake.violations)))
            elif command == "stop":
                return


class RemoteSimkl:
    """The parts of FakeSimkl that scenario.log_in uses, for the server in the child process."""

    def __init__(self, conn):
        self.conn = conn
        self.url, self.client_id, self._token, name = conn.recv()
        self.account = types.SimpleNamespace(name=name, type="pro")

    def issue_token(self):
        return self._token

    def history(self):
        """(watches Simkl took, protocol violations seen) so far."""
        self.conn.send("history")
        return self.conn.recv()


class PlayingNow(fakekodi.PlayingFile):
    """A file that plays on by itself: its position follows the wall clock, so no bench thread wakes."""

    @property
    def position(self):
        return self._start + (time.monotonic() - self._since)

    @position.setter
    def position(self, value):
        self._start, self._since = float(value), time.monotonic()


class Counter:
    def __init__(self):
        self.count = 0
        self._lock = threading.Lock()

    def wrap(self, function):
        def counted(*args, **kwargs):
            try:
                return function(*args, **kwargs)
            finally:
                with self._lock:
                    self.count += 1
        return counted


def context_switches():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_nvcsw + usage.ru_nivcsw


def start_service(profile, simkl):
    """A fresh fake Kodi with a library and a login, and the real service loop in a thread."""
    os.makedirs(profile)
    world = fakekodi.reset(profile)
    install_library(world)
    log_in(world, simkl)
    service = Service()  # Kodi's own: the wall clock, real sleeps
    counters = {"main": Counter(), "worker": Counter(), "sampler": Counter()}
    service.monitor.waitForAbort = counters["main"].wrap(service.monitor.waitForAbort)
    service.worker.next_due = counters["worker"].wrap(service.worker.next_due)  # once per wake of its loop
    service.player.sample = counters["sampler"].wrap(service.player.sample)
    thread = threading.Thread(target=service.run, name="kodi-service", daemon=True)
    thread.start()
    if not wait_for(lambda: counters["worker"].count > 0 and not service.busy(), 10):
        raise SystemExit("the service did not settle after start")
    return world, service, thread, counters


def stop_service(world, thread):
    world.abort.set()
    thread.join(5)
    if thread.is_alive():
        raise SystemExit("the service did not leave its loop")


def measure(seconds, counters):
    """Counts and CPU over `seconds` of real time in which the bench itself only sleeps."""
    woken = sum(c.count for c in counters.values())
    switches = context_switches()
    cpu = time.process_time()
    time.sleep(seconds)
    cpu = time.process_time() - cpu
    switches = context_switches() - switches
    woken = sum(c.count for c in counters.values()) - woken
    hours = seconds / 3600.0
    return (seconds, woken, woken / hours, cpu * 1000.0, cpu * 1000.0 / hours, switches / hours)


def run_idle(profile, simkl, seconds):
    world, _, thread, counters = start_service(profile, simkl)
    try:
        time.sleep(0.2)  # let the start-up flush's answers and log lines settle
        return measure(seconds, counters)
    finally:
        stop_service(world, thread)


def run_play(profile, simkl, seconds, expected_posts):
    world, service, thread, counters = start_service(profile, simkl)
    try:
        world.player = PlayingNow(movie_tag(), MOVIE["file"], MOVIE_SECONDS, 0.0)
        service.player.onAVStarted()
        if not service.player.is_following():
            raise SystemExit("the player did not follow the movie")
        time.sleep(0.2)
        row = measure(seconds, counters)
        if counters["sampler"].count == 0:
            raise SystemExit("the sampler never sampled")
        # After the window: the movie ends and must reach Simkl, proof the service was really working.
        world.player.position = MOVIE_SECONDS  # it plays to its end (an early end is not a watch)
        service.player.sample()
        world.player = None
        service.player.onPlayBackEnded()
        if not wait_for(lambda: simkl.history()[0] == expected_posts, 30):  # a live stop may wait for Simkl's 20 s lock
            raise SystemExit("the played movie did not reach the fake Simkl: %r\n%s" % (simkl.history(),
                                                                                   world.log_text()[-3000:]))
        return row
    finally:
        stop_service(world, thread)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--play-seconds", type=float, default=20.0)
    args = parser.parse_args()

    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    server = context.Process(target=serve_fake_simkl, args=(theirs,), daemon=True)
    server.start()
    simkl = RemoteSimkl(ours)
    os.environ["SIMKL_API_URL"] = simkl.url
    os.environ["SIMKL_CLIENT_ID"] = simkl.client_id
    os.environ.pop("SIMKL_AUTH", None)

    rows = {"idle": [], "playing": []}
    scratch = tempfile.mkdtemp(prefix="bench-service-")
    try:
        for run in range(args.runs):
            rows["idle"].append(run_idle(os.path.join(scratch, "idle%d" % run), simkl, args.idle_seconds))
            rows["playing"].append(run_play(os.path.join(scratch, "play%d" % run), simkl, args.play_seconds,
                                            expected_posts=run + 1))
        _, violations = simkl.history()
        if violations:
            raise SystemExit("the fake Simkl saw protocol violations: %s" % violations)
    finally:
        ours.send("stop")
        server.join(5)
        shutil.rmtree(scratch, ignore_errors=True)

    print("service wake-ups and CPU, median of %d runs (sample interval %.0f s; python %s; %d CPUs)"
          % (args.runs, player_module.SAMPLE_INTERVAL, sys.version.split()[0], os.cpu_count()))
    print("%-9s" % "scenario" + "".join("%12s" % c for c in COLUMNS))
    for name, runs in rows.items():
        medians = [statistics.median(column) for column in zip(*runs)]
        print("%-9s" % name + "".join("%12.0f" % value if i != 3 else "%12.1f" % value
                                      for i, value in enumerate(medians)))


if __name__ == "__main__":
    main()
