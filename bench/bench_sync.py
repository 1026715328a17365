"""The first two-way sync of a large library in a real headless Kodi: time, responsiveness, memory, requests.

A Kodi profile is booted once (tests/e2e/kodi_harness.py) with the add-on built from this tree, then
stopped; its video database (MyVideos121.db, Kodi 21: MyVideos131.db) is filled directly with M movies
and S shows of E episodes each, none watched. The fake Simkl (tests/fake_simkl.py, in a child process,
as Simkl is another machine) has a share of them as watched (default 80 %) with distinct times. Each run
restores that database and the add-on's data, seeds a login (token.json and `logged_in`, as
tests/scenario.log_in does), boots Kodi, measures an idle window, then triggers the first sync with the
add-on's `sync` action and waits for its `sync: full pull, ...` log line. Afterwards a library scan
triggers the automatic sync that finds nothing moved on Simkl. Kodi and Xvfb are stopped at the end of
every run. Exits non-zero unless every watched item was marked in Kodi with Simkl's time, nothing was
refused, nothing was posted back to Simkl, and the fake saw no protocol violation.
Usage: bench_sync.py [--runs 3] [--movies 20000] [--shows 2000] [--episodes 20] [--write-batch N[,N...]]
"""
import argparse
import json
import multiprocessing
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from tests.e2e.addon_steps import ADDON_ID, SERVICE_STARTED  # noqa: E402
from tests.e2e.jsonrpc import JsonRpc, JsonRpcError  # noqa: E402
from tests.e2e.kodi_harness import Kodi, KodiError, missing_tools, script_addon  # noqa: E402
from tests.e2e.requests_module import pyqrcode_module, requests_module  # noqa: E402

WATCHED_BASE = 1_750_000_000  # Simkl's watched_at of item n is this + n minutes (UTC)
SAMPLE_INTERVAL = 0.2  # seconds between JSONRPC.Ping round trips, and between RSS samples
SYNC_AFTER_SCAN = 5.0  # lib/scrobbler/service.py: the automatic sync waits this long after a scan
LOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\.(\d{3}) ")
SYNC_END = re.compile(r"\] sync: (full|partial) pull, (\d+) marked and (\d+) unmarked in Kodi, "
                      r"(\d+) writes refused, (\d+) requests")
NOTHING_MOVED = re.compile(r"\] sync: nothing moved on Simkl")
PULL_END = re.compile(r"\] GET /sync/all-items/anime -> ")
FIRST_WRITE = re.compile(r"UpdateDetailsForMovie: Starting updates")
SCAN_END = re.compile(r"VideoInfoScanner: Finished scan")
ACTIVITIES = re.compile(r"\] GET /sync/activities -> (\d+) in (\d+) ms")
READ_LINE = re.compile(r"\] sync: read (\d+) of Kodi's library items in (\d+) calls")
ONE_CHANGE = 1_000_000  # the one-change sync's two watches are at watched_at(ONE_CHANGE) and the minute after


# -- the library ----------------------------------------------------------------------------
def movie_ids(n):
    return {"imdb": "tt%07d" % (8_000_000 + n), "tmdb": str(8_000_000 + n)}


def show_ids(s):
    return {"imdb": "tt%07d" % (7_000_000 + s), "tmdb": str(7_000_000 + s), "tvdb": str(7_000_000 + s)}


def episode_number(e, per_season=10):
    """Episode e (0-based) of a show as (season, number): seasons of 10."""
    return 1 + e // per_season, 1 + e % per_season


def is_watched(index, share):
    """Whether item `index` is watched on Simkl: spread evenly, `share` of every 100."""
    return (index * 37) % 100 < round(share * 100)


def watched_at(index):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(WATCHED_BASE + index * 60))


def kodi_time(index):
    """What the add-on writes as lastplayed: Simkl's time in this machine's local time (Kodi runs with it)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(WATCHED_BASE + index * 60))


def movie_index(m):
    return m


def episode_index(movies, s, e, episodes):
    return movies + s * episodes + e


def fill_video_db(db_path, media_root, movies, shows, episodes):
    """Write the library into Kodi's video database (Kodi stopped), rows shaped as Kodi's own scan writes them
    from .nfo files. The media folders are never created: nothing here is played or scanned."""
    added = "2026-01-01 12:00:00"
    db = sqlite3.connect(str(db_path))
    try:
        with db:
            cur = db.cursor()
            path_id = [0]

            def path(str_path, parent):
                path_id[0] += 1
                cur.execute("INSERT INTO path (idPath, strPath, strContent, strScraper, strHash, scanRecursive, "
                            "useFolderNames, strSettings, noUpdate, exclude, allAudio, dateAdded, idParentPath) "
                            "VALUES (?, ?, '', '', ?, 0, 0, '', 0, 0, 0, ?, ?)",
                            (path_id[0], str_path, "bench" if parent else "", added if parent else None, parent))
                return path_id[0]

            uid = [0]

            def uniqueids(media_id, media_type, ids, default):
                first = None
                for kind, value in ids.items():
                    uid[0] += 1
                    cur.execute("INSERT INTO uniqueid (uniqueid_id, media_id, media_type, value, type) "
                                "VALUES (?, ?, ?, ?, ?)", (uid[0], media_id, media_type, value, kind))
                    if kind == default:
                        first = uid[0]
                return first

            file_id = [0]

            def media_file(id_path, name):
                file_id[0] += 1
                cur.execute("INSERT INTO files (idFile, idPath, strFilename, playCount, lastPlayed, dateAdded) "
                            "VALUES (?, ?, ?, NULL, NULL, ?)", (file_id[0], id_path, name, added))
                return file_id[0]

            # Kodi 21 lists a movie only with a row in videoversion (its movie_view joins it): Kodi's own scan
            # writes the file as the movie's "Standard Edition" (type 40400).
            versions = bool(cur.execute("SELECT 1 FROM sqlite_master WHERE name = 'videoversion'").fetchone())
            movies_root = path(str(media_root / "Movies") + "/", None)
            tv_root = path(str(media_root / "TV") + "/", None)
            for m in range(1, movies + 1):
                title, year = "Bench Movie %05d" % m, 1950 + m % 70
                folder = "%s/Movies/%s (%d)/" % (media_root, title, year)
                id_file = media_file(path(folder, movies_root), "%s (%d).mkv" % (title, year))
                default = uniqueids(m, "movie", movie_ids(m), "imdb")
                cur.execute("INSERT INTO movie (idMovie, idFile, c00, c05, c09, c11, c13, c22, c23, premiered) "
                            "VALUES (?, ?, ?, '-1', ?, '5400', '0', ?, ?, ?)",
                            (m, id_file, title, default, folder, movies_root, str(year)))
                if versions:
                    cur.execute("INSERT INTO videoversion (idFile, idMedia, media_type, itemType, idType) "
                                "VALUES (?, ?, 'movie', 0, 40400)", (id_file, m))
            season_id = 0
            episode_id = 0
            for s in range(1, shows + 1):
                title, year = "Bench Show %04d" % s, 1980 + s % 40
                folder = "%s/TV/%s/" % (media_root, title)
                id_path = path(folder, tv_root)
                default = uniqueids(s, "tvshow", show_ids(s), "tvdb")
                cur.execute("INSERT INTO tvshow (idShow, c00, c04, c05, c12) VALUES (?, ?, '-1', ?, ?)",
                            (s, title, "%d-01-01" % year, default))
                cur.execute("INSERT INTO tvshowlinkpath (idShow, idPath) VALUES (?, ?)", (s, id_path))
                seasons = {}
                for number in [-1] + sorted({episode_number(e)[0] for e in range(episodes)}):
                    season_id += 1
                    seasons[number] = season_id
                    cur.execute("INSERT INTO seasons (idSeason, idShow, season) VALUES (?, ?, ?)",
                                (season_id, s, number))
                for e in range(episodes):
                    season, number = episode_number(e)
                    episode_id += 1
                    name = "%s S%02dE%02d.mkv" % (title, season, number)
                    id_file = media_file(id_path, name)
                    default = uniqueids(episode_id, "episode", {"tvdb": str(90_000_000 + episode_id)}, "tvdb")
                    cur.execute("INSERT INTO episode (idEpisode, idFile, c00, c03, c05, c09, c12, c13, c15, c16, "
                                "c17, c18, c19, c20, idShow, idSeason) "
                                "VALUES (?, ?, ?, '-1', '1970-01-01', '0', ?, ?, '-1', '-1', '-1', ?, ?, ?, ?, ?)",
                                (episode_id, id_file, "Episode %d" % (e + 1), str(season), str(number),
                                 folder + name, id_path, default, s, seasons[season]))
    finally:
        db.close()


def check_video_db(db_path, movies, shows, episodes, share, extra=None):
    """Problems with the library after the sync: every watched item marked with Simkl's time, nothing else.
    extra: the one-change sync's two watches, {"movies": {m: lastplayed}, "episodes": {(s, season, number): …}}."""
    extra = extra or {"movies": {}, "episodes": {}}
    db = sqlite3.connect(str(db_path))
    try:
        played = dict(db.execute("SELECT movie.idMovie, files.lastPlayed FROM movie JOIN files USING (idFile) "
                                 "WHERE files.playCount > 0"))
        played_episodes = {(row[0], int(row[1]), int(row[2])): row[3] for row in db.execute(
            "SELECT episode.idShow, episode.c12, episode.c13, files.lastPlayed FROM episode JOIN files USING (idFile) "
            "WHERE files.playCount > 0")}
    finally:
        db.close()
    found = []
    expected = {m: kodi_time(movie_index(m)) for m in range(1, movies + 1) if is_watched(movie_index(m), share)}
    expected.update(extra["movies"])
    if played != expected:
        wrong = sum(1 for m in set(played) | set(expected) if played.get(m) != expected.get(m))
        found.append("%d movies not marked as Simkl has them" % wrong)
    expected = {}
    for s in range(1, shows + 1):
        for e in range(episodes):
            index = episode_index(movies, s, e, episodes)
            if is_watched(index, share):
                expected[(s,) + episode_number(e)] = kodi_time(index)
    expected.update(extra["episodes"])
    if played_episodes != expected:
        wrong = sum(1 for k in set(played_episodes) | set(expected) if played_episodes.get(k) != expected.get(k))
        found.append("%d episodes not marked as Simkl has them" % wrong)
    return found


def expected_marks(movies, shows, episodes, share):
    return (sum(1 for m in range(1, movies + 1) if is_watched(movie_index(m), share))
            + sum(1 for s in range(1, shows + 1) for e in range(episodes)
                  if is_watched(episode_index(movies, s, e, episodes), share)))


# -- the fake Simkl, in a child process ------------------------------------------------------
def serve_fake_simkl(conn, movies, shows, episodes, share):
    """Child process: the fake Simkl with the user's library; answers 'requests' and 'violations', ends on 'stop'."""
    sys.path.insert(0, str(ROOT / "tests"))
    from fake_simkl import FakeSimkl
    # The library is filled on one whole second: Simkl's activity stamps are whole seconds, and a later delta
    # (date_from = that stamp) must hold only what changed after the fill, not the fill's last fraction.
    frozen = [float(int(time.time()) - 1)]
    with FakeSimkl(clock=lambda: frozen[0] or time.time()) as fake:
        library = fake.library
        for m in range(1, movies + 1):
            if is_watched(movie_index(m), share):
                library.watch_movie("Bench Movie %05d" % m, 1950 + m % 70, movie_ids(m), watched_at(movie_index(m)))
        for s in range(1, shows + 1):
            watched = [episode_number(e) + (watched_at(episode_index(movies, s, e, episodes)),)
                       for e in range(episodes) if is_watched(episode_index(movies, s, e, episodes), share)]
            if watched:
                library.watch_episodes("Bench Show %04d" % s, 1980 + s % 40, show_ids(s), watched)
        frozen[0] = None
        conn.send((fake.url, fake.client_id, fake.issue_token(), fake.account.name))
        while True:
            command = conn.recv()
            if command == "requests":
                with fake._lock:
                    conn.send([(r.method, r.path, r.status) for r in fake.requests])
            elif command == "violations":
                conn.send(list(fake.violations))
            elif isinstance(command, tuple) and command[0] == "watch":  # the one-change sync's two new watches
                _, m, s, e, movie_at, episode_at = command
                library.watch_movie("Bench Movie %05d" % m, 1950 + m % 70, movie_ids(m), movie_at)
                library.watch_episodes("Bench Show %04d" % s, 1980 + s % 40, show_ids(s),
                                       [episode_number(e) + (episode_at,)])
                conn.send("ok")
            elif command == "stop":
                return


class RemoteSimkl:
    def __init__(self, context, movies, shows, episodes, share):
        self._conn, theirs = context.Pipe()
        self._process = context.Process(target=serve_fake_simkl, args=(theirs, movies, shows, episodes, share),
                                        daemon=True)
        self._process.start()
        if not self._conn.poll(300):
            raise SystemExit("the fake Simkl did not start")
        self.url, self.client_id, self.token, self.user_name = self._conn.recv()

    def requests(self):
        self._conn.send("requests")
        return self._conn.recv()

    def violations(self):
        self._conn.send("violations")
        return self._conn.recv()

    def watch(self, movie, show, episode, movie_at, episode_at):
        """The user watches one more movie and one more episode on Simkl (its activities move)."""
        self._conn.send(("watch", movie, show, episode, movie_at, episode_at))
        return self._conn.recv()

    def stop(self):
        try:
            self._conn.send("stop")
        except OSError:
            pass
        self._process.join(10)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(5)


# -- measuring Kodi from outside -------------------------------------------------------------
class LogTail:
    """kodi.log read incrementally (it grows by tens of thousands of lines during a sync)."""

    def __init__(self, path):
        self.path = path
        self._offset = 0
        self._partial = b""
        self.lines = []

    def read(self):
        try:
            with open(str(self.path), "rb") as handle:
                handle.seek(self._offset)
                data = handle.read()
        except FileNotFoundError:
            return
        self._offset += len(data)
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        self.lines.extend(line.decode("utf-8", "replace") for line in lines)

    def find(self, regex, start=0):
        """(index, line, match) of the first line at or after `start` that matches, or None."""
        for index in range(start, len(self.lines)):
            match = regex.search(self.lines[index])
            if match:
                return index, self.lines[index], match
        return None

    def wait(self, regex, start, timeout, alive=lambda: True):
        """The first matching line at or after `start`, reading new lines every 0.5 s; None at the timeout."""
        deadline = time.monotonic() + timeout
        while True:
            self.read()
            found = self.find(regex, start)
            if found or time.monotonic() > deadline or not alive():
                return found
            start = max(start, len(self.lines))  # each line is looked at once
            time.sleep(0.5)


def log_time(line):
    """A kodi.log line's own timestamp (Kodi writes local time) as epoch seconds."""
    match = LOG_TIME.match(line)
    return time.mktime(time.strptime(match.group(1), "%Y-%m-%d %H:%M:%S")) + int(match.group(2)) / 1000.0


def rss_mb(pid):
    try:
        with open("/proc/%d/status" % pid, encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


class Sampler:
    """JSONRPC.Ping every SAMPLE_INTERVAL on a connection of its own (notifications off, so the round trip is
    Kodi's answer and not our parsing of the sync's 10,000s of OnUpdate notifications), and Kodi's RSS on
    another thread at the same interval. Each sample is filed under the phase set at the time."""

    def __init__(self, port, pid):
        self.phase = "boot"
        self.pings = []  # (phase, round trip s)
        self.rss = []  # (phase, MB)
        self._stop = threading.Event()
        self._rpc = JsonRpc(port)
        self._rpc.call("JSONRPC.SetConfiguration", {"notifications": {
            "Application": False, "AudioLibrary": False, "GUI": False, "Input": False, "Player": False,
            "Playlist": False, "PVR": False, "System": False, "VideoLibrary": False, "Other": False}})
        self._pid = pid
        self._threads = [threading.Thread(target=self._ping, daemon=True),
                         threading.Thread(target=self._sample_rss, daemon=True)]
        for thread in self._threads:
            thread.start()

    def _ping(self):
        while not self._stop.is_set():
            phase, start = self.phase, time.perf_counter()
            try:
                self._rpc.call("JSONRPC.Ping", timeout=120)
            except JsonRpcError:
                if self._stop.is_set():
                    return
                raise
            took = time.perf_counter() - start
            self.pings.append((phase, took))
            self._stop.wait(max(0.0, SAMPLE_INTERVAL - took))

    def _sample_rss(self):
        while not self._stop.wait(SAMPLE_INTERVAL):
            value = rss_mb(self._pid)
            if value is not None:
                self.rss.append((self.phase, value))

    def stop(self):
        self._stop.set()
        for thread in self._threads:
            thread.join(130)
        self._rpc.close()

    def ping_ms(self, phase):
        return [t * 1000.0 for p, t in self.pings if p == phase]

    def rss_of(self, phase):
        return [mb for p, mb in self.rss if p == phase]


THREAD_GROUPS = (("render (llvmpipe)", ("llvmpipe",)), ("Python (LanguageInvoker)", ("LanguageInvoker",)),
                 ("main thread", ("kodi.bin",)), ("audio (AESink, ActiveAE)", ("AESink", "ActiveAE")))
TICKS = os.sysconf("SC_CLK_TCK")


def thread_ticks(pid):
    """{thread id: (name, user + system ticks)} of every thread of the process."""
    found = {}
    for task in Path("/proc/%d/task" % pid).glob("*"):
        try:
            name = (task / "comm").read_text(encoding="utf-8").strip()
            fields = (task / "stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[task.name] = (name, int(fields[11]) + int(fields[12]))
    return found


def cpu_by_group(before, after, seconds):
    """Percent of one core each thread group used between two thread_ticks() snapshots."""
    groups = {name: 0 for name, _ in THREAD_GROUPS}
    groups["other threads"] = groups["whole process"] = 0
    for tid, (name, ticks) in after.items():
        used = ticks - before.get(tid, (name, 0))[1]
        group = next((g for g, prefixes in THREAD_GROUPS if name.startswith(prefixes)), "other threads")
        groups[group] += used
        groups["whole process"] += used
    return {name: 100.0 * ticks / TICKS / max(1e-6, seconds) for name, ticks in groups.items()}


def percentile(values, q):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q * len(ordered) + 0.5)) - 1))]


# -- Kodi's own write rate, in the same Kodi ------------------------------------------------------
RAW_PROBE_ID = "script.bench.rawwrites"
RAW_DONE = re.compile(r"RAWWRITES done")
RAW_RESULT = re.compile(r"RAWWRITES (movie|episode)( with a progress bar)?: (\d+) writes in ([\d.]+) s, "
                        r"(\d+) refused")
SERVICE_STOPPED = re.compile(r"\[%s\] service stopped" % re.escape(ADDON_ID))
# What the sync does, without the add-on: Set*Details with playcount and lastplayed, WRITE_BATCH calls per
# executeJSONRPC. For `seconds` it marks items of the plan one after the other, then unmarks the same items
# (so the library is as before); the rate counts both passes, each write a real change.
RAW_PROBE_SCRIPT = """import json, sys, time, xbmc, xbmcgui
with open(sys.argv[1], encoding="utf-8") as handle:
    plan = json.load(handle)
def rpc(payload):
    return json.loads(xbmc.executeJSONRPC(json.dumps(payload)))
def write(method, key, ids, playcount):
    calls = [{"jsonrpc": "2.0", "id": n, "method": method,
              "params": {key: dbid, "playcount": playcount, "lastplayed": "2024-01-02 10:%02d:00" % (n % 60)}}
             for n, dbid in enumerate(ids)]
    answers = rpc(calls)
    answers = answers if isinstance(answers, list) else [answers]
    return sum(1 for answer in answers if answer.get("result") != "OK")
batch = plan["batch"]
for kind, bar in plan["passes"]:
    method, key, ids = "VideoLibrary.Set%sDetails" % kind.capitalize(), kind + "id", plan[kind + "s"]
    progress = None
    if bar:  # the background progress bar the add-on shows during a first sync, updated per batch
        progress = xbmcgui.DialogProgressBG()
        progress.create("bench", "")
    done = refused = 0
    start = time.perf_counter()
    while done < len(ids) and time.perf_counter() - start < plan["seconds"]:
        refused += write(method, key, ids[done:done + batch], 1)
        done += len(ids[done:done + batch])
        if progress:
            progress.update(int(50 * done / len(ids)), message="")
    for first in range(0, done, batch):
        refused += write(method, key, ids[first:min(done, first + batch)], 0)
        if progress:
            progress.update(50 + int(50 * first / max(1, done)), message="")
    took = time.perf_counter() - start
    if progress:
        progress.close()
    xbmc.log("RAWWRITES %s%s: %d writes in %.3f s, %d refused" % (kind, " with a progress bar" if bar else "",
                                                                  2 * done, took, refused), xbmc.LOGINFO)
xbmc.log("RAWWRITES done", xbmc.LOGINFO)
xbmc.sleep(2000)  # the bench reads this thread's CPU time while it still exists
"""


def raw_probe_dir(scratch):
    return script_addon(scratch, RAW_PROBE_ID, "bench raw writes", RAW_PROBE_SCRIPT)


def raw_probe_plan(args, path, batch, avoid):
    """The items the probe writes: ones Simkl does not have as watched (the sync never writes them), never
    the one-change sync's; enough for the probe's time at a rate well above what Kodi manages here."""
    wanted = int(args.raw_seconds * 400)
    movies = [m for m in range(1, args.movies + 1)
              if not is_watched(movie_index(m), args.watched) and ("movie", m) not in avoid][:wanted]
    episodes = []
    for s in range(1, args.shows + 1):
        for e in range(args.episodes):
            if not is_watched(episode_index(args.movies, s, e, args.episodes), args.watched) \
                    and ("episode", s, e) not in avoid:
                episodes.append((s - 1) * args.episodes + e + 1)  # idEpisode as fill_video_db numbers them
    passes = [("movie", False), ("episode", False)]
    if args.raw_with_progress:  # the same once more with a progress bar shown, taking turns
        passes = [("movie", False), ("movie", True), ("episode", False), ("episode", True)]
    path.write_text(json.dumps({"batch": batch, "seconds": args.raw_seconds, "movies": movies,
                                "episodes": episodes[:wanted], "passes": passes}), encoding="utf-8")
    return path


def run_raw_probe(kodi, log, plan, timeout):
    """Kodi's own write rate with the add-on switched off (its service stopped): {"movie": writes/s,
    "episode": writes/s, "cpu": CPU % by thread group}. Leaves the add-on off."""
    log.read()
    start = len(log.lines)
    kodi.enable_addon(ADDON_ID, False)
    if log.wait(SERVICE_STOPPED, start, 30, alive=lambda: kodi.running) is None:
        raise SystemExit("the add-on's service did not stop when it was switched off\n" + kodi.log_tail(30))
    before, began = thread_ticks(kodi.process.pid), time.monotonic()
    kodi.run_addon(RAW_PROBE_ID, str(plan))
    if log.wait(RAW_DONE, start, timeout, alive=lambda: kodi.running) is None:
        raise SystemExit("the raw write probe did not finish\n" + kodi.log_tail(30))
    seconds = time.monotonic() - began
    found = {"cpu": cpu_by_group(before, thread_ticks(kodi.process.pid), seconds), "writes": 0}
    for index in range(start, len(log.lines)):
        match = RAW_RESULT.search(log.lines[index])
        if match:
            if int(match.group(5)):
                raise SystemExit("Kodi refused %s of the probe's writes" % match.group(5))
            found[match.group(1) + (" bar" if match.group(2) else "")] = \
                int(match.group(3)) / max(1e-6, float(match.group(4)))
            found["writes"] += int(match.group(3))
    found["cpu ms per write"] = cpu_ms_per_write(found["cpu"], seconds, found["writes"])
    return found


def cpu_ms_per_write(cpu, seconds, writes):
    """Kodi's CPU time per write over a window (its audio engine left out: it idles against the null sink at a
    rate of its own). Less moved by other work on the machine than a rate is."""
    busy = cpu["whole process"] - cpu["audio (AESink, ActiveAE)"]
    return busy / 100.0 * seconds * 1000.0 / max(1, writes)


def switch_addon_on(kodi, log):
    log.read()
    start = len(log.lines)
    kodi.enable_addon(ADDON_ID)
    if log.wait(re.compile(SERVICE_STARTED), start, 60, alive=lambda: kodi.running) is None:
        raise SystemExit("the add-on's service did not start again\n" + kodi.log_tail(30))


# -- the add-on and the profile ----------------------------------------------------------------
def build_addon_zip(out_dir):
    """The add-on zip from this tree (tools/build_zip.py, what `make zip` runs)."""
    build = subprocess.run([sys.executable, str(ROOT / "tools" / "build_zip.py"), "--out-dir", str(out_dir)],
                           cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if build.returncode != 0:
        raise SystemExit("tools/build_zip.py failed:\n" + build.stdout)
    return Path(build.stdout.strip().splitlines()[-1])


def installed_library_py(home):
    return Path(home) / ".kodi" / "addons" / ADDON_ID / "lib" / "scrobbler" / "sync" / "library.py"


def set_write_batch(home, value):
    """WRITE_BATCH in the add-on as installed in the Kodi profile (a copy: lib/ is never touched), Kodi
    stopped; None leaves the tree's value. Returns the value now in force."""
    path = installed_library_py(home)
    text = path.read_text(encoding="utf-8")
    if value is not None:
        text, count = re.subn(r"^WRITE_BATCH = \d+", "WRITE_BATCH = %d" % value, text, flags=re.M)
        if count != 1:
            raise SystemExit("WRITE_BATCH not found in the installed %s" % path.name)
        path.write_text(text, encoding="utf-8")
        shutil.rmtree(str(path.parent / "__pycache__"), ignore_errors=True)
    return int(re.search(r"^WRITE_BATCH = (\d+)", text, re.M).group(1))


def prepare_profile(scratch, addon_zip, movies, shows, episodes):
    """Boot a profile once (the add-on installed and enabled, not logged in), stop it, fill its library.
    Returns (home, pristine copy of the video db, pristine copy of the add-on's data)."""
    home = scratch / "kodi-home"
    kodi = Kodi(home)
    try:
        kodi.install_addon_dir(requests_module(ROOT / ".cache" / "e2e"))
        kodi.install_addon_dir(pyqrcode_module(ROOT / ".cache" / "e2e"))
        kodi.install_addon_zip(addon_zip)
        kodi.install_addon_dir(raw_probe_dir(scratch))
        kodi.set_addon_settings(ADDON_ID, {"sync_from_simkl": True, "debug": True})
        kodi.start(timeout=120)
        kodi.enable_addon(RAW_PROBE_ID)
        kodi.enable_addon(ADDON_ID)
        if not kodi.wait_for_log(SERVICE_STARTED, 60):
            raise KodiError("the add-on's service did not start\n" + kodi.log_tail())
        if not kodi.wait_until(kodi.video_db.is_file, 60):
            raise KodiError("no video database\n" + kodi.log_tail())
        code = kodi.stop(60)
        if code != 0:
            raise KodiError("Kodi exited with %s at the first boot" % code)
        video_db = kodi.video_db
        addon_data = kodi.addon_data(ADDON_ID)
    finally:
        kodi.close()
    started = time.monotonic()
    fill_video_db(video_db, scratch / "media", movies, shows, episodes)
    print("library of %d movies and %d x %d episodes written in %.1f s"
          % (movies, shows, episodes, time.monotonic() - started), file=sys.stderr)
    shutil.copy2(str(video_db), str(scratch / "pristine.db"))
    shutil.copytree(str(addon_data), str(scratch / "pristine-addon-data"))
    return home, scratch / "pristine.db", scratch / "pristine-addon-data"


def restore(kodi, pristine_db, pristine_addon_data, simkl):
    """The library unwatched and the add-on as before any sync, logged in to this fake Simkl."""
    shutil.copy2(str(pristine_db), str(kodi.video_db))
    for suffix in ("-journal", "-wal", "-shm"):
        Path(str(kodi.video_db) + suffix).unlink(missing_ok=True)
    data = kodi.addon_data(ADDON_ID)
    shutil.rmtree(str(data))
    shutil.copytree(str(pristine_addon_data), str(data))
    (data / "token.json").write_text(json.dumps({"access_token": simkl.token, "flow": "v1",
                                                 "user_name": simkl.user_name, "account_type": "pro"}),
                                     encoding="utf-8")
    kodi.set_addon_settings(ADDON_ID, {"logged_in": True, "account_type": "pro", "sync_from_simkl": True,
                                       "debug": True})


# -- one run ---------------------------------------------------------------------------------
def one_change_items(args):
    """The movie and the episode the one-change sync finds newly watched on Simkl: the first ones Simkl
    does not have yet. -> ((movie m), (show s, episode e))"""
    movie = next(m for m in range(1, args.movies + 1) if not is_watched(movie_index(m), args.watched))
    episode = next((s, e) for s in range(1, args.shows + 1) for e in range(args.episodes)
                   if not is_watched(episode_index(args.movies, s, e, args.episodes), args.watched))
    return movie, episode


def wait_sync_after_scan(kodi, log, simkl, timeout):
    """Run a library scan, whose end makes the add-on sync 5 s later. -> (start line, scan line, end line,
    requests to the fake before)"""
    log.read()
    start = len(log.lines)
    before = len(simkl.requests())
    kodi.call("VideoLibrary.Scan")
    scanned = log.wait(SCAN_END, start, timeout, alive=lambda: kodi.running)
    done = log.wait(re.compile(NOTHING_MOVED.pattern + "|" + SYNC_END.pattern), start,
                    SYNC_AFTER_SCAN + timeout, alive=lambda: kodi.running)
    if scanned is None or done is None:
        raise SystemExit("no sync after the library scan\n" + kodi.log_tail(30))
    return start, scanned, done, before


def one_run(args, context, home, pristine_db, pristine_addon_data, write_batch, scratch):
    set_write_batch(home, write_batch)
    simkl = RemoteSimkl(context, args.movies, args.shows, args.episodes, args.watched)
    kodi = Kodi(home, env={"SIMKL_API_URL": simkl.url, "SIMKL_CLIENT_ID": simkl.client_id})
    sampler = None
    (one_movie, (one_show, one_episode)) = one_change_items(args)
    avoid = {("movie", one_movie), ("episode", one_show, one_episode)}
    plan = raw_probe_plan(args, scratch / "raw-plan.json", write_batch, avoid)
    try:
        restore(kodi, pristine_db, pristine_addon_data, simkl)
        kodi.ready_log = SERVICE_STARTED
        kodi.start(timeout=180)
        # Our own connection needs none of the sync's notifications: parsing them would only load the CPU.
        kodi.call("JSONRPC.SetConfiguration", {"notifications": {"VideoLibrary": False}})
        pid = kodi.process.pid
        log = LogTail(kodi.log_path)
        sampler = Sampler(kodi.jsonrpc_port, pid)
        time.sleep(2.0)  # let the start settle before the idle window
        sampler.phase = "idle"
        idle_ticks, idle_start = thread_ticks(pid), time.monotonic()
        time.sleep(args.idle_seconds)
        idle_cpu = cpu_by_group(idle_ticks, thread_ticks(pid), time.monotonic() - idle_start)

        # Kodi's own write rate, the add-on switched off, just before the sync (and again after it, below).
        sampler.phase = "raw"
        raw = [run_raw_probe(kodi, log, plan, args.raw_seconds * 20 + 120)]
        loads = [os.getloadavg()[0]]
        switch_addon_on(kodi, log)

        log.read()
        start_line = len(log.lines)
        sampler.phase = "sync"
        sync_ticks, sync_start = thread_ticks(pid), time.monotonic()
        triggered = time.time()
        kodi.run_addon(ADDON_ID, "sync")
        writing = log.wait(re.compile(FIRST_WRITE.pattern + "|" + SYNC_END.pattern), start_line, args.sync_timeout,
                           alive=lambda: kodi.running)
        write_ticks, write_start = thread_ticks(pid), time.monotonic()
        found = log.wait(SYNC_END, writing[0] if writing else start_line, args.sync_timeout,
                         alive=lambda: kodi.running)
        sampler.phase = "after"
        end_ticks, end_time = thread_ticks(pid), time.monotonic()
        sync_cpu = cpu_by_group(sync_ticks, end_ticks, end_time - sync_start)
        write_cpu = cpu_by_group(write_ticks, end_ticks, end_time - write_start)
        loads.append(os.getloadavg()[0])
        if found is None:
            raise SystemExit("the first sync did not end within %.0f s (or Kodi died)\n%s"
                             % (args.sync_timeout, kodi.log_tail(30)))
        end_index, end_line, end = found
        ended = log_time(end_line)
        first = {"sync s": ended - triggered}
        if end.group(1) != "full":
            raise SystemExit("the first sync was not a full pull: " + end_line)
        marked, refused, requests = int(end.group(2)), int(end.group(4)), int(end.group(5))
        pulled = log.find(PULL_END, start_line)
        written = log.find(FIRST_WRITE, start_line)
        if pulled:
            first["pull s"] = log_time(pulled[1]) - triggered
        if pulled and written:
            first["read+plan s"] = log_time(written[1]) - log_time(pulled[1])
            first["write s"] = ended - log_time(written[1])
            first["updates/s (write)"] = marked / max(1e-6, first["write s"])
        first["updates/s (overall)"] = marked / max(1e-6, first["sync s"])
        first["marked"] = marked
        first["Kodi CPU ms per write (add-on)"] = cpu_ms_per_write(write_cpu, end_time - write_start, marked)
        read = log.wait(READ_LINE, start_line, 10, alive=lambda: kodi.running)
        first["Kodi items read"] = int(read[2].group(1)) if read else float("nan")
        fake_requests = simkl.requests()
        first["requests (fake)"] = sum(1 for method, path, _ in fake_requests if path.startswith("/sync/"))
        first["requests (add-on)"] = requests
        idle, busy = sampler.ping_ms("idle"), sampler.ping_ms("sync")
        for name, values in (("idle", idle), ("sync", busy)):
            first["ping %s p50 ms" % name] = percentile(values, 0.50)
            first["ping %s p95 ms" % name] = percentile(values, 0.95)
            first["ping %s max ms" % name] = max(values) if values else float("nan")
        first["pings during sync"] = len(busy)
        rss_idle, rss_sync = sampler.rss_of("idle"), sampler.rss_of("sync")
        first["Kodi RSS idle MB"] = statistics.median(rss_idle) if rss_idle else float("nan")
        first["Kodi RSS peak MB"] = max(rss_sync) if rss_sync else float("nan")
        first["RSS growth MB"] = first["Kodi RSS peak MB"] - first["Kodi RSS idle MB"]
        for name in idle_cpu:
            first["CPU %% idle: %s" % name] = idle_cpu[name]
        for name in sync_cpu:
            first["CPU %% sync: %s" % name] = sync_cpu[name]

        # The automatic sync after a library scan: nothing moved on Simkl.
        sampler.phase = "second"
        second_start, scanned, done, before = wait_sync_after_scan(kodi, log, simkl, args.sync_timeout)
        if not NOTHING_MOVED.search(done[1]):
            raise SystemExit("the sync after the scan found something to do: " + done[1])
        after = simkl.requests()
        second = {"requests": len(after) - before,
                  "ms after its timer": (log_time(done[1]) - log_time(scanned[1]) - SYNC_AFTER_SCAN) * 1000.0}
        activity = log.find(ACTIVITIES, second_start)
        second["activities request ms"] = float(activity[2].group(2)) if activity else float("nan")
        second["paths"] = [path for _, path, _ in after[before:]]

        # One movie and one episode watched on Simkl since: the next automatic sync (after a scan again).
        sampler.phase = "third"
        simkl.watch(one_movie, one_show, one_episode, watched_at(ONE_CHANGE), watched_at(ONE_CHANGE + 1))
        third_start, scanned, done, before = wait_sync_after_scan(kodi, log, simkl, args.sync_timeout)
        third_end = SYNC_END.search(done[1])
        if not third_end or third_end.group(1) != "partial" or int(third_end.group(2)) != 2:
            raise SystemExit("the one-change sync did not mark the two new watches: " + done[1])
        after = simkl.requests()
        read = log.wait(READ_LINE, third_start, 10, alive=lambda: kodi.running)
        items = args.movies + args.shows + args.shows * args.episodes
        third = {"requests": len(after) - before,
                 "s after its timer": log_time(done[1]) - log_time(scanned[1]) - SYNC_AFTER_SCAN,
                 "Kodi items read": int(read[2].group(1)) if read else float("nan"),
                 "Kodi read calls": int(read[2].group(2)) if read else float("nan")}
        third["% of a full read"] = 100.0 * third["Kodi items read"] / items
        third["paths"] = [path for _, path, _ in after[before:]]

        sampler.phase = "raw"
        raw.append(run_raw_probe(kodi, log, plan, args.raw_seconds * 20 + 120))
        loads.append(os.getloadavg()[0])
        switch_addon_on(kodi, log)
        sampler.phase = "done"
        first.update(raw_rates(raw, args))
        first["add-on / Kodi's own rate, %"] = 100.0 * first.get("updates/s (write)", float("nan")) \
            / first["raw writes/s, the sync's mix"]
        first["Kodi's own / add-on's CPU per write, %"] = 100.0 * first["Kodi CPU ms per write (raw)"] \
            / first["Kodi CPU ms per write (add-on)"]
        first["load average (1 min): raw, sync, raw"] = statistics.mean(loads)
        first["load at raw before"], first["load at sync end"], first["load at raw after"] = loads

        posted = [(method, path) for method, path, _ in after if method == "POST" and path.startswith("/sync/")]
        problems = []
        if posted:
            problems.append("%d POSTs to Simkl after the sync (Kodi's own updates sent back?): %s"
                            % (len(posted), posted[:3]))
        expected = expected_marks(args.movies, args.shows, args.episodes, args.watched)
        if marked != expected or refused:
            problems.append("the sync marked %d (expected %d) and had %d refused" % (marked, expected, refused))
        violations = simkl.violations()
        if violations:
            problems.append("the fake saw %d violations, first: %s" % (len(violations), violations[0]))
        sampler.stop()
        sampler = None
        code = kodi.stop(120)
        if code != 0:
            problems.append("Kodi exited with code %s" % code)
        if kodi.slow_stops():
            problems.append("a script was killed at quit")
        if kodi.python_errors(all_runs=False):
            problems.append("Python errors in kodi.log: " + kodi.python_errors(all_runs=False)[0][:500])
        extra = {"movies": {one_movie: kodi_time(ONE_CHANGE)},
                 "episodes": {(one_show,) + episode_number(one_episode): kodi_time(ONE_CHANGE + 1)}}
        problems += check_video_db(kodi.video_db, args.movies, args.shows, args.episodes, args.watched, extra)
        if problems:
            raise SystemExit("the run is wrong: " + "; ".join(problems))
        return first, second, third
    finally:
        if sampler is not None:
            sampler.stop()
        kodi.close()  # Kodi (if still running) and Xvfb
        simkl.stop()


def raw_rates(raw, args):
    """Kodi's own rates (the mean of the probes before and after the sync) and the add-on's share of the rate
    Kodi itself manages for the sync's mix of movies and episodes."""
    found = {}
    for kind in ("movie", "episode", "movie bar", "episode bar"):
        if kind in raw[0]:
            found["raw %s writes/s" % kind.replace(" bar", " with progress bar")] = \
                statistics.mean(probe[kind] for probe in raw)
    movies = sum(1 for m in range(1, args.movies + 1) if is_watched(movie_index(m), args.watched))
    episodes = expected_marks(args.movies, args.shows, args.episodes, args.watched) - movies
    found["raw writes/s, the sync's mix"] = (movies + episodes) / (
        movies / found["raw movie writes/s"] + episodes / found["raw episode writes/s"])
    if "movie bar" in raw[0]:
        found["raw writes/s with progress bar, the sync's mix"] = (movies + episodes) / (
            movies / found["raw movie with progress bar writes/s"]
            + episodes / found["raw episode with progress bar writes/s"])
    for name in raw[0]["cpu"]:
        found["CPU %% raw: %s" % name] = statistics.mean(probe["cpu"][name] for probe in raw)
    found["Kodi CPU ms per write (raw)"] = statistics.mean(probe["cpu ms per write"] for probe in raw)
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs (of each --write-batch value)")
    parser.add_argument("--movies", type=int, default=20000)
    parser.add_argument("--shows", type=int, default=2000)
    parser.add_argument("--episodes", type=int, default=20, help="episodes per show (seasons of 10)")
    parser.add_argument("--watched", type=float, default=0.8, help="share of the library Simkl has as watched")
    parser.add_argument("--write-batch", default=None, metavar="N[,N...]",
                        help="WRITE_BATCH values to try in the installed copy of the add-on (lib/ is not "
                             "touched); several values take turns run by run")
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--raw-seconds", type=float, default=15.0,
                        help="seconds Kodi's own write rate is measured per kind (movies, episodes), before and "
                             "after the sync (each probe then unmarks what it marked, as long again)")
    parser.add_argument("--sync-timeout", type=float, default=3600.0, help="give up on a sync after this long")
    parser.add_argument("--raw-with-progress", action="store_true",
                        help="measure Kodi's own rate also with a background progress bar shown (as the add-on "
                             "shows during a first sync), taking turns with the plain probe")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (Kodi's profile and logs)")
    args = parser.parse_args()
    batches = [int(value) for value in args.write_batch.split(",")] if args.write_batch else [None]
    missing = missing_tools()
    if missing:
        raise SystemExit("bench_sync.py needs a real Kodi: missing %s" % ", ".join(missing))

    context = multiprocessing.get_context("spawn")
    scratch = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    results = {}  # WRITE_BATCH -> [(first, second, third), ...]
    try:
        home, pristine_db, pristine_data = prepare_profile(scratch, build_addon_zip(scratch / "zip"), args.movies,
                                                           args.shows, args.episodes)
        batches = [set_write_batch(home, value) for value in batches]
        for run in range(args.runs):
            for batch in batches:
                first, second, third = one_run(args, context, home, pristine_db, pristine_data, batch, scratch)
                results.setdefault(batch, []).append((first, second, third))
                print("run %d, WRITE_BATCH %d: first sync %.1f s, %.0f %% of Kodi's own rate; one-change sync "
                      "%.2f s, %s items read (load average %s)"
                      % (run + 1, batch, first["sync s"], first["add-on / Kodi's own rate, %"],
                         third["s after its timer"], third["Kodi items read"],
                         " ".join(open("/proc/loadavg").read().split()[:3])), file=sys.stderr)
    except BaseException:
        args.keep = True  # a failed run keeps Kodi's profile and kodi.log to look at
        raise
    finally:
        if args.keep:
            print("kept %s" % scratch, file=sys.stderr)
        else:
            shutil.rmtree(str(scratch), ignore_errors=True)

    items = args.movies + args.shows * args.episodes
    print("first sync of %d movies + %d shows x %d episodes (%d items, %.0f %% watched on Simkl), %d run(s) each, "
          "%d CPUs" % (args.movies, args.shows, args.episodes, items, args.watched * 100, args.runs, os.cpu_count()))
    for batch, runs in results.items():
        print("\nWRITE_BATCH %d: first sync" % batch)
        print_table([first for first, _, _ in runs])
        print("WRITE_BATCH %d: no-change sync (the automatic one after a library scan); requests to Simkl: %s"
              % (batch, ", ".join(sorted({" + ".join(second["paths"]) or "none" for _, second, _ in runs}))))
        print_table([{k: v for k, v in second.items() if k != "paths"} for _, second, _ in runs])
        print("WRITE_BATCH %d: one-change sync (one movie and one episode newly watched on Simkl, the automatic "
              "sync after a scan); requests to Simkl: %s"
              % (batch, ", ".join(sorted({" + ".join(third["paths"]) or "none" for _, _, third in runs}))))
        print_table([{k: v for k, v in third.items() if k != "paths"} for _, _, third in runs])
    if len(results) > 1:
        print("\nmedians by WRITE_BATCH")
        rows = {batch: {name: statistics.median([first[name] for first, _, _ in runs if name in first])
                        for name in runs[0][0]} for batch, runs in results.items()}
        print_table(list(rows.values()), headers=["%d" % batch for batch in rows], median=False)
        print("\nbest run by WRITE_BATCH (the run least slowed by other work on the machine)")
        best = {batch: min((first for first, _, _ in runs), key=lambda first: first["sync s"])
                for batch, runs in results.items()}
        print_table([{name: first[name] for name in ("sync s", "write s", "updates/s (write)",
                                                     "add-on / Kodi's own rate, %", "updates/s (overall)",
                                                     "ping sync p95 ms") if name in first}
                     for first in best.values()], headers=["%d" % batch for batch in best], median=False)


def print_table(rows, headers=None, median=True):
    """One line per measure: its median over the rows (runs), then each row's value."""
    names = list(rows[0])
    width = max(len(name) for name in names) + 2
    headers = headers or ["run %d" % (i + 1) for i in range(len(rows))]
    print("%-*s" % (width, "") + ("%10s" % "median" if median else "") + "".join("%10s" % h for h in headers))
    for name in names:
        values = [row.get(name, float("nan")) for row in rows]
        print("%-*s" % (width, name) + ("%10s" % _fmt(statistics.median(values)) if median else "")
              + "".join("%10s" % _fmt(value) for value in values))


def _fmt(value):
    if value != value:
        return "-"
    if abs(value) >= 100 or float(value).is_integer():
        return "%.0f" % value
    return "%.1f" % value if abs(value) >= 10 else "%.2f" % value


if __name__ == "__main__":
    main()
