"""What one watched-state write costs Kodi itself, apart from the add-on: the floor under the sync's speed.

Boots a real headless Kodi (tests/e2e/kodi_harness.py) with the e2e test library (four movies), puts a
throwaway script add-on into the temporary profile, and has it call VideoLibrary.SetMovieDetails
(playcount and lastplayed, what the sync writes) in a loop from Kodi's own Python, as the add-on does:
one call per executeJSONRPC, and JSON-RPC batches of 10 and 50. Each size runs for --seconds and
takes turns with the others --rounds times, so load from other work spreads evenly; it prints the
median updates per second of each size and the machine's load average. No add-on of this tree is
installed: this is Kodi's cost alone.
Usage: bench_kodi_writes.py [--seconds 8] [--rounds 3]
"""
import argparse
import os
import re
import statistics
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from tests.e2e.kodi_harness import Kodi, missing_tools, script_addon  # noqa: E402
from tests.e2e.media_library import build_library  # noqa: E402

PROBE_ID = "script.bench.kodiwrites"
SIZES = (1, 10, 50)
RESULT = re.compile(r"KODIWRITES size (\d+): (\d+) updates in ([\d.]+) s, (\d+) refused")

PROBE_SCRIPT = textwrap.dedent("""\
    import json, sys, time, xbmc
    seconds, rounds = float(sys.argv[1]), int(sys.argv[2])
    sizes = [int(size) for size in sys.argv[3:]]
    def rpc(payload):
        return json.loads(xbmc.executeJSONRPC(json.dumps(payload)))
    movies = rpc({"jsonrpc": "2.0", "id": 1, "method": "VideoLibrary.GetMovies"})["result"]["movies"]
    playcount = 0
    for _ in range(rounds):
        for size in sizes:
            done = refused = 0
            start = time.perf_counter()
            while time.perf_counter() - start < seconds:
                playcount = 1 - playcount  # a real change each time, as the sync only writes changes
                calls = [{"jsonrpc": "2.0", "id": n, "method": "VideoLibrary.SetMovieDetails",
                          "params": {"movieid": movies[n % len(movies)]["movieid"], "playcount": playcount,
                                     "lastplayed": "2024-01-0%d 10:00:00" % (1 + n % 9)}} for n in range(size)]
                answers = rpc(calls if size > 1 else calls[0])
                answers = answers if isinstance(answers, list) else [answers]
                refused += sum(1 for answer in answers if answer.get("result") != "OK")
                done += size
            xbmc.log("KODIWRITES size %d: %d updates in %.3f s, %d refused"
                     % (size, done, time.perf_counter() - start, refused), xbmc.LOGINFO)
    xbmc.log("KODIWRITES done", xbmc.LOGINFO)
""")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="seconds each size writes per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    missing = missing_tools()
    if missing:
        raise SystemExit("needs %s (see tests/e2e)" % ", ".join(missing))
    with tempfile.TemporaryDirectory(prefix="bench-kodi-writes-") as scratch:
        probe = script_addon(Path(scratch), PROBE_ID, "bench probe", PROBE_SCRIPT)
        library = build_library(Path(scratch) / "media", ROOT / ".cache" / "e2e")
        kodi = Kodi(Path(scratch) / "home")
        try:
            kodi.install_addon_dir(probe)
            kodi.start()
            kodi.add_video_source(library["movies"], "movies")
            kodi.scan_library()
            kodi.enable_addon(PROBE_ID)
            kodi.wait_until(lambda: kodi.addon_enabled(PROBE_ID), 10)
            kodi.run_addon(PROBE_ID, str(args.seconds), str(args.rounds), *map(str, SIZES))
            timeout = args.seconds * args.rounds * len(SIZES) * 3 + 60
            if kodi.wait_for_log(r"KODIWRITES done", timeout=timeout) is None:
                raise SystemExit("the probe did not finish within %.0f s\n%s" % (timeout, kodi.log_tail()))
            log = kodi.log_text()
            kodi.stop()
        finally:
            kodi.close()
    rates = {size: [] for size in SIZES}
    for size, done, seconds, refused in RESULT.findall(log):
        if int(refused):
            raise SystemExit("Kodi refused %s of %s writes" % (refused, done))
        rates[int(size)].append(int(done) / float(seconds))
    if not all(rates.values()):
        raise SystemExit("kodi.log lacks the probe's figures for some sizes:\n" + "\n".join(log.splitlines()[-40:]))
    print("VideoLibrary.SetMovieDetails from Kodi's Python, %d rounds of %.0f s, load average %s"
          % (args.rounds, args.seconds, " ".join("%.2f" % value for value in os.getloadavg())))
    print("%-28s %10s %s" % ("calls per executeJSONRPC", "median", "  ".join("round %d" % (n + 1)
                                                                            for n in range(args.rounds))))
    for size in SIZES:
        print("%-28s %10.1f %s" % (size, statistics.median(rates[size]),
                                   "  ".join("%7.1f" % rate for rate in rates[size])))
    print("(updates per second; the sync writes 50 per executeJSONRPC)")


if __name__ == "__main__":
    main()
