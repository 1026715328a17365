"""A real Kodi under Xvfb with a private HOME, driven over JSON-RPC.

    kodi = Kodi(home)
    kodi.install_addon_zip(zip_path)
    kodi.start(env={"SIMKL_API_URL": fake.url})    # first boot closes the "enable add-on?" dialog
    kodi.enable_addon("service.scrobbler.simkl")
    ...
    assert kodi.stop() == 0                        # Application.Quit, wait for the exit
    kodi.close()                                   # always: kills whatever still runs

KODI=19 or KODI=21 in the environment runs Kodi 19 (Debian 11 root) or Kodi 21 (Debian 13 root) chrooted
instead of the machine's Kodi 20 (see kodi_root.py); everything else stays the same.
"""
import glob
import os
import re
import select
import shutil
import socket
import sqlite3
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

from . import kodi_profile
from .jsonrpc import JsonRpc, JsonRpcError, Notification
from .kodi_root import ROOTED, KodiRoot, requested_version

# The video database's file name by Kodi major version (the schema version is in the name).
VIDEO_DBS = {19: "MyVideos119.db", 20: "MyVideos121.db", 21: "MyVideos131.db"}
TRACEBACK_MARKERS = ("Traceback (most recent call last)", "EXCEPTION Thrown (PythonToCppException)")
SLOW_STOP_MARKER = "didn't stop in 5 seconds"
VIDEO_PLAYER = 1
VIDEO_PLAYLIST = 1
# Extension points of an add-on's addon.xml that are not its type, and the types Kodi treats as dependencies.
METADATA_POINTS = ("xbmc.addon.metadata", "kodi.addon.metadata")
DEPENDENCY_POINTS = ("xbmc.python.module", "xbmc.python.library", "xbmc.metadata.scraper.library")
ENABLE_QUESTION_WAIT = 120.0  # seconds a first boot may take to ask; only a broken boot waits that long


class KodiError(Exception):
    """Kodi did not boot, answer or quit as expected; the message carries the end of kodi.log."""


def find_kodi_bin() -> Optional[str]:
    """kodi.bin from the distribution package, under its multiarch lib folder."""
    found = sorted(glob.glob("/usr/lib/*/kodi/kodi.bin")) + sorted(glob.glob("/usr/lib*/kodi/kodi.bin"))
    return found[0] if found else None


def default_root() -> Optional[KodiRoot]:
    """The Kodi 19 or 21 root when KODI=19 or 21, else None (the machine's own Kodi)."""
    version = requested_version()
    return KodiRoot.from_env(version) if version in ROOTED else None


def missing_tools() -> List[str]:
    """What the tests need and this machine lacks for the Kodi that KODI selects. The clips are made with the
    machine's ffmpeg in both cases."""
    root = default_root()
    missing = [] if shutil.which("ffmpeg") else ["ffmpeg"]
    if root is not None:
        return missing + root.problems()
    missing += [] if shutil.which("Xvfb") else ["Xvfb"]
    if find_kodi_bin() is None:
        missing.append("kodi.bin")
    return missing


SCRIPT_ADDON_XML = """<?xml version="1.0" encoding="UTF-8"?>
<addon id="%s" name="%s" version="1.0.0" provider-name="bench">
  <requires><import addon="xbmc.python" version="3.0.0"/></requires>
  <extension point="xbmc.python.script" library="default.py"/>
  <extension point="xbmc.addon.metadata"><summary lang="en_GB">bench probe</summary>
    <platform>all</platform></extension>
</addon>
"""


def script_addon(parent: Path, addon_id: str, name: str, script: str) -> Path:
    """A minimal script add-on (a probe the benches run inside Kodi) in parent/addon_id; its folder."""
    folder = parent / addon_id
    folder.mkdir(exist_ok=True)
    (folder / "addon.xml").write_text(SCRIPT_ADDON_XML % (addon_id, name), encoding="utf-8")
    (folder / "default.py").write_text(script, encoding="utf-8")
    return folder


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop_process(process: Optional[subprocess.Popen], grace: float = 10) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


class Xvfb:
    """A virtual screen; -displayfd makes Xvfb pick a free display number and tell us. With a root, the
    root's Xvfb runs chrooted there (its socket is in the machine's /tmp/.X11-unix all the same)."""

    def __init__(self, root: Optional[KodiRoot] = None):
        argv = ["Xvfb", "-displayfd", "", "-screen", "0", "1280x720x24", "-nolisten", "tcp"]
        read_end, write_end = os.pipe()
        argv[2] = str(write_end)
        env = None
        if root is not None:
            argv, env = root.command(argv, cwd=Path("/")), root.environment({})
        try:
            self.process = subprocess.Popen(
                argv, pass_fds=(write_end,), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL)
        finally:
            os.close(write_end)
        try:
            self.display = ":" + self._read_display(read_end, timeout=20)
        except Exception:
            self.stop()
            raise
        finally:
            os.close(read_end)

    def _read_display(self, fd: int, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        data = b""
        while not data.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise KodiError("Xvfb did not report a display within %ss" % timeout)
            chunk = os.read(fd, 64)
            if not chunk:
                raise KodiError("Xvfb exited with code %s before reporting a display" % self.process.wait())
            data += chunk
        return data.decode().strip()

    def stop(self) -> None:
        _stop_process(self.process)


class Kodi:
    """One Kodi profile (a private HOME) and, while started, its Xvfb, kodi.bin and JSON-RPC connection.

    root: the Kodi 19 or 21 root to run Kodi in (default: the one KODI selects, else the machine's Kodi);
    shared: with a root, folders outside /tmp and HOME that Kodi must see (e.g. media sources)."""

    def __init__(self, home: Path, env: Optional[Dict[str, str]] = None, debug_log: bool = False,
                 root: Optional[KodiRoot] = None, shared: Sequence[Path] = ()):
        self.home = Path(home)
        self.env = dict(env or {})
        self.root = root if root is not None else default_root()
        self.shared = [self.home] + [Path(path) for path in shared]
        # The Kodi major version: what KODI asks for until start() reads Kodi's own answer (and checks it).
        self.expected_major = (int(self.root.kodi) if self.root is not None
                               else int(requested_version()) if os.environ.get("KODI") else None)
        self.major = self.expected_major
        self.version: Optional[str] = None
        self.jsonrpc_port = free_port()
        self.process: Optional[subprocess.Popen] = None
        self.rpc: Optional[JsonRpc] = None
        self._xvfb: Optional[Xvfb] = None
        self._new_addons: List[str] = []  # copied in since the last boot
        self._booted_addons: set = set()  # ids Kodi has found at an earlier boot of this profile (a fresh one)
        # A regex start() waits for in kodi.log, e.g. the add-on service's start line: quitting
        # before services have started makes Kodi kill them ("didn't stop in 5 seconds").
        self.ready_log: Optional[str] = None
        self.previous_logs: List[str] = []  # kodi.log of each earlier run of this profile
        kodi_profile.write_profile(self.home, self.jsonrpc_port, free_port(socket.SOCK_DGRAM), debug_log)

    # -- paths --------------------------------------------------------------------------------
    @property
    def userdata(self) -> Path:
        return kodi_profile.kodi_dir(self.home) / "userdata"

    @property
    def log_path(self) -> Path:
        return kodi_profile.kodi_dir(self.home) / "temp" / "kodi.log"

    @property
    def output_path(self) -> Path:
        """kodi.bin's own stdout and stderr (a crash's last words land here, not in kodi.log)."""
        return self.home / "kodi-output.log"

    @property
    def video_db(self) -> Path:
        """Kodi's video database: by version once known, else the newest one in the profile."""
        folder = self.userdata / "Database"
        if self.major in VIDEO_DBS:
            return folder / VIDEO_DBS[self.major]
        found = sorted(folder.glob("MyVideos*.db"), key=lambda path: int(re.sub(r"\D", "", path.name) or 0))
        return found[-1] if found else folder / VIDEO_DBS[20]

    def addon_data(self, addon_id: str) -> Path:
        return self.userdata / "addon_data" / addon_id

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    # -- add-ons and settings (while stopped) ------------------------------------------------
    def install_addon_zip(self, zip_path: Path) -> List[str]:
        ids = kodi_profile.install_addon_zip(self.home, zip_path)
        self._new_addons += ids
        return ids

    def install_addon_dir(self, source: Path) -> str:
        addon_id = kodi_profile.install_addon_dir(self.home, source)
        self._new_addons.append(addon_id)
        return addon_id

    def set_addon_settings(self, addon_id: str, values: Dict[str, Any]) -> None:
        """Merge values into the add-on's stored settings; Kodi only reads them at start, so it must be stopped."""
        if self.running:
            raise KodiError("stop Kodi before seeding add-on settings: it would overwrite them")
        kodi_profile.merge_settings_file(self.addon_data(addon_id) / "settings.xml", values)

    def addon_settings(self, addon_id: str, timeout: float = 2.0) -> Dict[str, str]:
        """The stored settings file as Kodi last wrote it (all values as text). Kodi rewrites the file in
        place (TinyXML's SaveFile truncates, then writes), so a read can meet it half written: read again."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return kodi_profile.read_settings_file(self.addon_data(addon_id) / "settings.xml")
            except ET.ParseError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.05)

    # -- process ------------------------------------------------------------------------------
    def start(self, env: Optional[Dict[str, str]] = None, timeout: float = 60) -> None:
        """Boot Kodi (and Xvfb on first use) and connect JSON-RPC. `env` adds to the constructor's env."""
        if self.running:
            raise KodiError("Kodi is already running")
        if env:
            self.env.update(env)
        if self._xvfb is None:
            self._xvfb = Xvfb(self.root)
        if self.log_path.is_file():
            self.previous_logs.append(self.log_text())
        kodi_bin = find_kodi_bin() if self.root is None else self.root.kodi_bin()
        if kodi_bin is None:
            raise KodiError("kodi.bin not found" + ("" if self.root is None else " in " + str(self.root.path)))
        argv, env = [kodi_bin, "--windowing=x11"], self._process_env()
        if self.root is not None:
            argv, env = self.root.command(argv, cwd=self.home, shared=self.shared), self.root.environment(env)
        with open(str(self.output_path), "ab") as output:
            self.process = subprocess.Popen(argv, cwd=str(self.home), env=env, stdin=subprocess.DEVNULL,
                                            stdout=output, stderr=subprocess.STDOUT)
        self._connect(timeout)
        self._check_version()
        if self._new_addons:
            self._close_enable_dialogs(self._enable_questions(), max(timeout, ENABLE_QUESTION_WAIT))
            self._booted_addons.update(self._new_addons)
            self._new_addons = []
        if self.ready_log and not self.wait_for_log(self.ready_log, timeout):
            raise KodiError("no line matching %r in kodi.log within %ss\n%s" % (self.ready_log, timeout,
                                                                                self.log_tail()))

    def _process_env(self) -> Dict[str, str]:
        """The machine's environment, or with a root only what Kodi needs, then ours."""
        # Nothing from the caller's shell may point the add-on at a real service.
        env = {} if self.root is not None else {
            key: value for key, value in os.environ.items()
            if not key.startswith(("SIMKL_", "KODI_", "WAYLAND_", "XDG_RUNTIME", "PYTHON"))}
        # PYTHON*: the shell's PYTHONDONTWRITEBYTECODE or PYTHONPATH would change how Kodi's Python loads the add-on.
        env.update(HOME=str(self.home), DISPLAY=self._xvfb.display, LIBGL_ALWAYS_SOFTWARE="1", KODI_AE_SINK="ALSA")
        env.update(self.env)
        return env

    def _check_version(self) -> None:
        """Kodi's own major version must be the one the tests were asked for (KODI), or they prove nothing."""
        version = self.call("Application.GetProperties", {"properties": ["version"]})["version"]
        self.version = "%s.%s" % (version["major"], version["minor"])
        if self.expected_major is not None and version["major"] != self.expected_major:
            raise KodiError("KODI=%d but Kodi %s started" % (self.expected_major, self.version))
        self.major = version["major"]

    def _connect(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if not self.running:
                raise KodiError("kodi.bin exited with code %s during start\n%s" % (self.process.returncode,
                                                                                   self.log_tail()))
            try:
                rpc = JsonRpc(self.jsonrpc_port)
            except OSError:
                rpc = None
            if rpc is not None:
                try:
                    if rpc.call("JSONRPC.Ping", timeout=5) == "pong":
                        self.rpc = rpc
                        return
                except JsonRpcError:
                    pass
                rpc.close()
            if time.monotonic() > deadline:
                raise KodiError("no JSON-RPC answer on port %d within %ss\n%s" % (self.jsonrpc_port, timeout,
                                                                                 self.log_tail()))
            time.sleep(0.25)

    def _enable_questions(self) -> int:
        """How many "Would you like to enable this add-on?" dialogs this boot brings: Kodi asks once for each
        add-on copied in since the last boot, except libraries and modules (CApplication::
        ConfigureAndEnableAddons skips CAddonType::IsDependencyType, xbmc/addons/addoninfo/AddonType.cpp)."""
        count = 0
        for addon_id in set(self._new_addons) - self._booted_addons:
            manifest = kodi_profile.kodi_dir(self.home) / "addons" / addon_id / "addon.xml"
            points = [extension.get("point") for extension in ET.parse(str(manifest)).getroot().iter("extension")]
            main = next((point for point in points if point not in METADATA_POINTS), None)
            count += main is not None and main not in DEPENDENCY_POINTS
        return count

    def _close_enable_dialogs(self, count: int, timeout: float) -> None:
        """Answer each enable question with Back (the test enables what it needs). Kodi asks only when its
        start-up window has gone (GUI_MSG_UI_READY), which under load can be long after JSON-RPC answers:
        wait for each question itself, not for a fixed time that a slow boot can outlast."""
        for asked in range(count):
            if not self.wait_until(lambda: self.window_active("yesnodialog"), timeout):
                raise KodiError("Kodi did not ask to enable add-on %d of %d (%s) within %ss\n%s"
                                % (asked + 1, count, ", ".join(self._new_addons), timeout, self.log_tail()))
            self.call("Input.Back")
            # The next question opens the same dialog again: wait until this one has gone.
            self.wait_until(lambda: not self.window_active("yesnodialog"), 5, interval=0.05)

    def stop(self, timeout: float = 30) -> int:
        """Application.Quit and wait for kodi.bin to exit; return its exit code. Xvfb stays for a restart."""
        if not self.running:
            return self.process.returncode if self.process else 0
        try:
            self.rpc.call("Application.Quit", timeout=5)
        except JsonRpcError:
            pass  # the answer can be lost while Kodi closes the connection
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            _stop_process(self.process)
            raise KodiError("Kodi did not exit within %ss of Application.Quit\n%s"
                            % (timeout, self.log_tail())) from None
        finally:
            self._close_rpc()
        return code

    def restart(self, env: Optional[Dict[str, str]] = None, settings: Optional[Dict[str, Dict[str, Any]]] = None,
                timeout: float = 60) -> int:
        """Quit, optionally seed add-on settings ({addon_id: {id: value}}), start again; return the quit's exit code."""
        code = self.stop()
        for addon_id, values in (settings or {}).items():
            self.set_addon_settings(addon_id, values)
        self.start(env=env, timeout=timeout)
        return code

    def close(self) -> None:
        """Stop everything started here, politely first; safe to call any time and more than once."""
        self._close_rpc()
        _stop_process(self.process)
        if self._xvfb is not None:
            self._xvfb.stop()
            self._xvfb = None

    def _close_rpc(self) -> None:
        if self.rpc is not None:
            self.rpc.close()
            self.rpc = None

    # -- JSON-RPC ------------------------------------------------------------------------------
    def call(self, method: str, params: Optional[dict] = None, timeout: float = 30) -> Any:
        if self.rpc is None:
            raise KodiError("Kodi is not running")
        return self.rpc.call(method, params, timeout)

    def mark(self) -> int:
        """Notification position to pass as `since` to wait_for()."""
        return self.rpc.mark()

    def wait_for(self, method: str, since: int, timeout: float = 30,
                 where: Optional[Callable[[Any], bool]] = None) -> Notification:
        """Wait for a JSON-RPC notification (e.g. "Player.OnStop") that arrived after the mark `since`."""
        return self.rpc.wait_for(method, since=since, timeout=timeout, where=where)

    @staticmethod
    def wait_until(condition: Callable[[], Any], timeout: float, interval: float = 0.2) -> Any:
        """Poll condition until it returns something true; return that, or None at the timeout."""
        deadline = time.monotonic() + timeout
        while True:
            result = condition()
            if result or time.monotonic() > deadline:
                return result
            time.sleep(interval)

    def window_active(self, window: str) -> bool:
        return bool(self.call("XBMC.GetInfoBooleans", {"booleans": ["Window.IsActive(%s)" % window]})
                    ["Window.IsActive(%s)" % window])

    def wait_for_window(self, window: str, timeout: float = 15) -> bool:
        """Wait until a window or dialog (e.g. "progressdialog", "okdialog", "yesnodialog") is active."""
        return bool(self.wait_until(lambda: self.window_active(window), timeout))

    def close_dialogs(self, timeout: float = 5) -> None:
        """Input.Back while a modal dialog is open. Never blindly: Back with no dialog leaves for Home."""
        deadline = time.monotonic() + timeout
        while self.call("XBMC.GetInfoBooleans", {"booleans": ["System.HasActiveModalDialog"]})[
                "System.HasActiveModalDialog"]:
            if time.monotonic() > deadline:
                raise KodiError("a dialog is still open after %ss of Input.Back" % timeout)
            self.call("Input.Back")
            time.sleep(0.3)

    def info_labels(self, *labels: str) -> Dict[str, str]:
        return self.call("XBMC.GetInfoLabels", {"labels": list(labels)})

    def send_input(self, *actions: str) -> None:
        """Input.<action> in order, e.g. send_input("Left", "Select") answers yes in a yes/no dialog."""
        for action in actions:
            self.call("Input." + action)

    def enable_addon(self, addon_id: str, enabled: bool = True) -> None:
        self.call("Addons.SetAddonEnabled", {"addonid": addon_id, "enabled": enabled})

    def addon_enabled(self, addon_id: str) -> bool:
        details = self.call("Addons.GetAddonDetails", {"addonid": addon_id, "properties": ["enabled"]})
        return bool(details["addon"]["enabled"])

    def run_addon(self, addon_id: str, *params: str, wait: bool = False) -> None:
        """Run the add-on's script entry with sys.argv[1:] = params (e.g. "login")."""
        self.call("Addons.ExecuteAddon", {"addonid": addon_id, "params": list(params), "wait": wait})

    # -- kodi.log ----------------------------------------------------------------------------
    def log_text(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def all_logs(self) -> str:
        """Every run of this profile, oldest first."""
        return "".join(self.previous_logs) + self.log_text()

    def log_tail(self, lines: int = 80) -> str:
        text = self.log_text().splitlines()[-lines:]
        return "---- %s (last %d lines) ----\n%s" % (self.log_path.name, len(text), "\n".join(text))

    def output_tail(self, lines: int = 20) -> str:
        try:
            text = self.output_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except FileNotFoundError:
            return ""
        return "\n".join(text[-lines:])

    def wait_for_log(self, pattern: str, timeout: float = 30) -> Optional[re.Match]:
        """The first match of the regex in the current kodi.log, waiting for it to appear; None at the timeout."""
        regex = re.compile(pattern)
        return self.wait_until(lambda: regex.search(self.log_text()), timeout, interval=0.25)

    def python_errors(self, all_runs: bool = True) -> List[str]:
        """Each Python traceback or script error report in kodi.log, with the lines that follow it."""
        lines = (self.all_logs() if all_runs else self.log_text()).splitlines()
        errors, shown_until = [], 0
        for i, line in enumerate(lines):
            if i >= shown_until and any(marker in line for marker in TRACEBACK_MARKERS):
                shown_until = i + 30
                errors.append("\n".join(lines[max(0, i - 2):shown_until]))
        return errors

    def assert_no_python_errors(self, all_runs: bool = True) -> None:
        errors = self.python_errors(all_runs)
        assert not errors, "Python errors in kodi.log:\n\n" + "\n\n".join(errors)

    def slow_stops(self) -> List[str]:
        """Log lines of scripts that did not stop in time at quit (Kodi killed them)."""
        return [line for line in self.all_logs().splitlines() if SLOW_STOP_MARKER in line]

    # -- video library -----------------------------------------------------------------------
    def add_video_source(self, folder: Path, content: str) -> None:
        """Add a folder as a library source scraped from local .nfo files; content is "movies" or "tvshows"."""
        if not self.wait_until(self.video_db.is_file, 30):
            raise KodiError("%s was not created\n%s" % (self.video_db, self.log_tail()))
        path = str(Path(folder).resolve()).rstrip("/") + "/"
        movies = content == "movies"
        with sqlite3.connect(str(self.video_db), timeout=30) as db:
            db.execute("DELETE FROM path WHERE strPath = ?", (path,))
            db.execute("INSERT INTO path (strPath, strContent, strScraper, scanRecursive, useFolderNames, "
                       "strSettings, noUpdate, exclude, allAudio) VALUES (?, ?, 'metadata.local', ?, ?, '', 0, 0, 0)",
                       (path, content, 2147483647 if movies else 0, 1 if movies else 0))
        db.close()

    def scan_library(self, timeout: float = 120) -> None:
        since = self.mark()
        self.call("VideoLibrary.Scan")
        self.wait_for("VideoLibrary.OnScanFinished", since, timeout)

    def movies(self) -> List[dict]:
        result = self.call("VideoLibrary.GetMovies",
                           {"properties": ["title", "year", "uniqueid", "playcount", "file", "resume", "lastplayed"]})
        return result.get("movies", [])

    def episodes(self) -> List[dict]:
        result = self.call("VideoLibrary.GetEpisodes",
                           {"properties": ["title", "showtitle", "season", "episode", "uniqueid", "playcount",
                                           "tvshowid", "file", "resume", "lastplayed"]})
        return result.get("episodes", [])

    def movie_id(self, title: str) -> int:
        found = [movie["movieid"] for movie in self.movies() if movie["title"] == title]
        if len(found) != 1:
            raise KodiError("%d movies titled %r in the library" % (len(found), title))
        return found[0]

    def episode_id(self, show_title: str, season: int, episode: int) -> int:
        found = [item["episodeid"] for item in self.episodes()
                 if (item["showtitle"], item["season"], item["episode"]) == (show_title, season, episode)]
        if len(found) != 1:
            raise KodiError("%d episodes %s S%02dE%02d in the library" % (len(found), show_title, season, episode))
        return found[0]

    def movie(self, movieid: int) -> dict:
        return self.call("VideoLibrary.GetMovieDetails", {
            "movieid": movieid, "properties": ["title", "playcount", "resume", "lastplayed", "uniqueid"],
        })["moviedetails"]

    def episode(self, episodeid: int) -> dict:
        return self.call("VideoLibrary.GetEpisodeDetails", {
            "episodeid": episodeid, "properties": ["title", "playcount", "resume", "lastplayed", "uniqueid",
                                                   "tvshowid"]})["episodedetails"]

    def set_playcount(self, item: Dict[str, int], playcount: int, timeout: float = 10) -> Notification:
        """Mark a library item watched (1) or unwatched (0) as a user would; item is {"movieid": n} or
        {"episodeid": n}. Returns Kodi's VideoLibrary.OnUpdate notification."""
        kind, dbid = next(iter(item.items()))
        method = {"movieid": "VideoLibrary.SetMovieDetails", "episodeid": "VideoLibrary.SetEpisodeDetails"}[kind]
        since = self.mark()
        self.call(method, {kind: dbid, "playcount": playcount})
        item_type = kind[:-2]
        return self.wait_for("VideoLibrary.OnUpdate", since, timeout,
                             where=lambda data: (data or {}).get("item", {}).get("id") == dbid
                             and data["item"].get("type") == item_type)

    # -- player -------------------------------------------------------------------------------
    def play(self, item: Dict[str, Any], timeout: float = 30) -> int:
        """Player.Open (no resume) and wait until the video really plays; return the mark taken before opening."""
        since = self.mark()
        self.call("Player.Open", {"item": item, "options": {"resume": False}})
        self.wait_for("Player.OnAVStart", since, timeout)
        return since

    def player_properties(self, *properties: str) -> Dict[str, Any]:
        return self.call("Player.GetProperties", {"playerid": VIDEO_PLAYER, "properties": list(properties)})

    def playing(self) -> bool:
        return any(player["playerid"] == VIDEO_PLAYER for player in self.call("Player.GetActivePlayers"))

    def seek(self, percentage: float) -> None:
        """Absolute seek to a percentage of the playing item."""
        self.call("Player.Seek", {"playerid": VIDEO_PLAYER, "value": {"percentage": percentage}})

    def wait_for_position(self, seconds: float, timeout: float = 60) -> float:
        """Wait until the player's own clock reaches `seconds` of the item; return the position."""
        def position():
            if not self.playing():
                raise KodiError("playback ended before %ss" % seconds)
            value = _seconds(self.player_properties("time")["time"])
            return value if value >= seconds else None
        reached = self.wait_until(position, timeout, interval=0.25)
        if reached is None:
            raise KodiError("player did not reach %ss within %ss" % (seconds, timeout))
        return reached

    def total_seconds(self) -> float:
        return _seconds(self.player_properties("totaltime")["totaltime"])

    def stop_playback(self, timeout: float = 15) -> dict:
        """Player.Stop; return the Player.OnStop data (its "end" is false for a stop)."""
        since = self.mark()
        self.call("Player.Stop", {"playerid": VIDEO_PLAYER})
        return self.wait_for("Player.OnStop", since, timeout).data

    def play_to_end(self, item: Dict[str, Any], seek_to: float = 97, watch_first: float = 2,
                    timeout: float = 90) -> dict:
        """Play, watch `watch_first` player-seconds, seek to `seek_to` %, and wait for the natural end.
        Returns the Player.OnStop data; {"end": true, ...} means it ended by itself."""
        since = self.play(item)
        self.wait_for_position(watch_first)
        self.seek(seek_to)
        return self.wait_for("Player.OnStop", since, timeout).data

    def play_playlist(self, items: List[Dict[str, Any]], timeout: float = 30) -> int:
        """Fill the video playlist with items ({"episodeid": n}, {"movieid": n}, {"file": …}) and play it from
        the first, as a user's queue would; wait until that one really plays; return the mark taken before."""
        self.call("Playlist.Clear", {"playlistid": VIDEO_PLAYLIST})
        self.call("Playlist.Add", {"playlistid": VIDEO_PLAYLIST, "item": list(items)})
        since = self.mark()
        self.call("Player.Open", {"item": {"playlistid": VIDEO_PLAYLIST, "position": 0}, "options": {"resume": False}})
        self.wait_for("Player.OnAVStart", since, timeout)
        return since

    def run_to_end(self, seek_to: float = 99, timeout: float = 60) -> dict:
        """Seek what plays to `seek_to` % and wait for its natural end; return the Player.OnStop data.
        In a playlist Kodi then moves on to the next item by itself."""
        since = self.mark()
        self.seek(seek_to)
        return self.wait_for("Player.OnStop", since, timeout).data

    def goto_next(self, timeout: float = 30) -> Notification:
        """Player.GoTo next in the playlist (what a "skip" does); return the next item's Player.OnAVStart.
        Kodi sends no Player.OnStop (and Python no onPlayBackStopped/Ended) for the item left."""
        since = self.mark()
        self.call("Player.GoTo", {"playerid": VIDEO_PLAYER, "to": "next"})
        return self.wait_for("Player.OnAVStart", since, timeout)

    def stop_at(self, percentage: float, hold: float = 3) -> dict:
        """Seek what plays to `percentage`, keep playing `hold` player-seconds past it, then stop.
        Returns the Player.OnStop data (end false)."""
        self.seek(percentage)
        self.wait_for_position(self.total_seconds() * percentage / 100 + hold)
        return self.stop_playback()

    def play_and_stop_at(self, item: Dict[str, Any], percentage: float, hold: float = 3,
                         watch_first: float = 2) -> dict:
        """Play, seek to `percentage`, keep playing `hold` player-seconds past it, then stop.
        Returns the Player.OnStop data (end false)."""
        self.play(item)
        self.wait_for_position(watch_first)
        self.seek(percentage)
        self.wait_for_position(self.total_seconds() * percentage / 100 + hold)
        return self.stop_playback()


def _seconds(value: Dict[str, int]) -> float:
    return value["hours"] * 3600 + value["minutes"] * 60 + value["seconds"] + value["milliseconds"] / 1000
