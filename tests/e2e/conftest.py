"""Fixtures for end-to-end tests in a real headless Kodi (see kodi_harness.py).

    kodi                 module-scoped: booted once per test module, the add-on enabled and its service
                         started, the media library scanned. Quits cleanly at the end of the module
                         (exit code 0, no script killed at quit, no Python error in kodi.log) or errors.
    kodi_env             module-scoped, override in a test module: extra environment for kodi.bin,
                         e.g. {"SIMKL_API_URL": fake.url, "SIMKL_CLIENT_ID": fake.client_id}
    kodi_addon_settings  module-scoped, override: settings seeded into the add-on before the first boot
    kodi_addon_files     module-scoped, override: {name: text} written into the add-on's addon_data before the
                         first boot, e.g. the token.json of a login an earlier version made
    kodi_extra_addons    module-scoped, override: unpacked add-on folders installed beside it and enabled,
                         e.g. [video_addon.PLUGIN_DIR] (the test video add-on)
    make_kodi            function-scoped factory for a Kodi of the test's own, closed after the test:
                         make_kodi(env=None, settings=None, enable=True, library=True, start=True, addons=(),
                         files=None)
    media_library        the generated media folders, {"movies": Path, "tvshows": Path}

A failing test gets the end of kodi.log of each Kodi it used, and the request log of any fake
Simkl server fixture it used, printed under its failure. Shared steps: addon_steps.py.

Without kodi.bin, Xvfb or ffmpeg the tests skip, except under CI=true where they fail.
KODI=19 or KODI=21 runs them on Kodi 19 in a Debian 11 root or Kodi 21 in a Debian 13 root (kodi_root.py):
as root, a missing root is built first with tools/kodi_root.py (about 2 min, once); when it cannot be
built they skip, or fail under CI=true.
The add-on under test is built from the tree with tools/build_zip.py (what `make zip` runs) into a
temporary folder, so a stale dist/ never gets tested; E2E_ADDON_ZIP=<zip> tests that zip instead.
"""
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import pytest

from fake_simkl import FakeSimkl

from .addon_steps import ADDON_ID, SERVICE_STARTED, login, quit_cleanly, wait_for_requests
from .kodi_harness import Kodi, KodiError, default_root, missing_tools
from .media_library import build_library
from .requests_module import pyqrcode_module, requests_module

REPO = Path(__file__).resolve().parents[2]


def pytest_configure(config):
    config.addinivalue_line("markers", "e2e: end-to-end test in a real headless Kodi (needs kodi, xvfb, ffmpeg)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for title, text in _diagnostics(item):
            report.sections.append((title, text))


def _diagnostics(item):
    """The end of kodi.log of every Kodi the test used, and the request log of a fake Simkl server."""
    for name, value in getattr(item, "funcargs", {}).items():
        kodis = value.instances if isinstance(value, KodiFactory) else [value] if isinstance(value, Kodi) else []
        for kodi in kodis:
            yield "%s: kodi.log" % name, kodi.log_tail(120)
            if kodi.process is not None and kodi.process.returncode not in (None, 0):
                yield "%s: kodi.bin output (exit code %s)" % (name, kodi.process.returncode), kodi.output_tail()
        if hasattr(value, "requests_to") and hasattr(value, "log_text"):
            yield "%s: requests received" % name, value.log_text() or "(none)"


@pytest.fixture(scope="session")
def e2e_tools():
    root = default_root()
    build = root is not None and root.version is None and os.geteuid() == 0
    build_output = _build_kodi_root(root.kodi) if build else ""
    missing = missing_tools()
    if missing:
        if root is None:
            reason = "end-to-end tests need %s (apt-get install kodi xvfb ffmpeg libgl1-mesa-dri)" % ", ".join(missing)
        else:
            reason = "end-to-end tests on Kodi %s (KODI=%s) need %s%s" % (root.kodi, root.kodi, ", ".join(missing),
                                                                          build_output)
        if os.environ.get("CI") == "true":
            pytest.fail(reason + "; CI must run them, not skip them", pytrace=False)
        pytest.skip(reason)


def _build_kodi_root(kodi: str) -> str:
    """Run tools/kodi_root.py build --kodi N; return its output, to explain a failure."""
    build = subprocess.run([sys.executable, str(REPO / "tools" / "kodi_root.py"), "build", "--kodi", kodi],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return "" if build.returncode == 0 else "\n" + build.stdout.strip()


@pytest.fixture(scope="session")
def e2e_cache(e2e_tools) -> Path:
    """Generated clips and the requests add-on, kept between runs (the folder is gitignored)."""
    path = REPO / ".cache" / "e2e"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def requests_addon(e2e_cache) -> List[Path]:
    """The Python modules the add-on imports from Kodi's repository: requests and pyqrcode."""
    return [requests_module(e2e_cache), pyqrcode_module(e2e_cache)]


@pytest.fixture(scope="session")
def addon_zip(e2e_tools, tmp_path_factory) -> Path:
    if os.environ.get("E2E_ADDON_ZIP"):
        return Path(os.environ["E2E_ADDON_ZIP"]).resolve()
    out_dir = tmp_path_factory.mktemp("addon-zip")
    build = subprocess.run([sys.executable, str(REPO / "tools" / "build_zip.py"), "--out-dir", str(out_dir)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if build.returncode != 0:
        pytest.fail("tools/build_zip.py failed:\n" + build.stdout)
    return Path(build.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def media_library(e2e_cache, tmp_path_factory) -> Dict[str, Path]:
    return build_library(tmp_path_factory.mktemp("media"), e2e_cache)


class KodiFactory:
    """Boots Kodis with the add-on under test installed; remembers them for clean-up and failure reports."""

    def __init__(self, tmp_path_factory, requests_addon: List[Path], addon_zip: Path,
                 media_library: Dict[str, Path]):
        self._tmp = tmp_path_factory
        self._requests_addon = requests_addon
        self._addon_zip = addon_zip
        self._media = media_library
        self.instances: List[Kodi] = []

    def __call__(self, env: Optional[Dict[str, str]] = None, settings: Optional[Dict[str, Any]] = None,
                 enable: bool = True, library: bool = True, start: bool = True, debug_log: bool = False,
                 addons: Sequence[Path] = (), files: Optional[Dict[str, str]] = None) -> Kodi:
        """A new profile with requests and the add-on installed. settings are seeded into the add-on first, and
        files ({name: text}) written into its addon_data folder (e.g. a login an earlier version stored);
        start boots Kodi; enable turns the add-on on and waits for its service to log that it started;
        library adds the media folders and scans them. addons: more unpacked add-on folders, installed
        beside it and enabled with it."""
        kodi = Kodi(self._tmp.mktemp("kodi-home"), env=env, debug_log=debug_log, shared=list(self._media.values()))
        self.instances.append(kodi)
        for module in self._requests_addon:
            kodi.install_addon_dir(module)
        kodi.install_addon_zip(self._addon_zip)
        extra_ids = [kodi.install_addon_dir(folder) for folder in addons]
        # The sync asks the fake Simkl on its own timers, and live scrobbling posts on every playback: the
        # modules that test them switch them back on (test_sync.py, test_live_scrobble.py).
        kodi.set_addon_settings(ADDON_ID, dict({"sync_from_simkl": False, "live_scrobble": False},
                                               **(settings or {})))
        for name, text in (files or {}).items():
            (kodi.addon_data(ADDON_ID) / name).write_text(text, encoding="utf-8")
        if not start:
            return kodi
        kodi.start()
        for addon_id in extra_ids:
            kodi.enable_addon(addon_id)
        if enable:
            kodi.enable_addon(ADDON_ID)
            if not kodi.wait_for_log(SERVICE_STARTED, 30):
                raise KodiError("the add-on's service did not log that it started\n" + kodi.log_tail())
            kodi.ready_log = SERVICE_STARTED
        if library:
            for content, folder in self._media.items():
                kodi.add_video_source(folder, content)
            kodi.scan_library()
        return kodi

    def close_all(self) -> None:
        for kodi in self.instances:
            kodi.close()


@pytest.fixture
def make_kodi(tmp_path_factory, requests_addon, addon_zip, media_library):
    factory = KodiFactory(tmp_path_factory, requests_addon, addon_zip, media_library)
    yield factory
    factory.close_all()


@pytest.fixture(scope="module")
def kodi_env() -> Dict[str, str]:
    return {}


@pytest.fixture(scope="module")
def kodi_addon_settings() -> Dict[str, Any]:
    return {}


@pytest.fixture(scope="module")
def kodi_extra_addons() -> List[Path]:
    return []


@pytest.fixture(scope="module")
def kodi_addon_files() -> Dict[str, str]:
    return {}


@pytest.fixture(scope="module")
def kodi(tmp_path_factory, requests_addon, addon_zip, media_library, kodi_env, kodi_addon_settings,
         kodi_extra_addons, kodi_addon_files):
    factory = KodiFactory(tmp_path_factory, requests_addon, addon_zip, media_library)
    try:
        kodi = factory(env=kodi_env, settings=kodi_addon_settings, addons=kodi_extra_addons, files=kodi_addon_files)
        yield kodi
        quit_cleanly(kodi)
    finally:
        factory.close_all()


@pytest.fixture(scope="module")
def fake():
    """The fake Simkl server a test module's Kodi talks to (pass `simkl_env(fake)` as its kodi_env)."""
    with FakeSimkl() as server:  # the account is PRO
        yield server


@pytest.fixture(scope="module")
def logged_in(kodi, fake):
    """The add-on logged in through its real login dialog (the build's flow), approved on the fake server."""
    login(kodi, fake)
    wait_for_requests(fake, "/users/settings", 1, status=200)
