"""Test set-up: the repository root and the Kodi fakes on sys.path, a fresh fake Kodi per test."""
import os
import sqlite3
import sys
import threading
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(HERE, "kodi_fakes"))

from virtual_time import VirtualClock  # noqa: E402

import fakekodi  # noqa: E402
from fake_simkl import FakeSimkl  # noqa: E402
from scenario import RunningService, install_library, log_in  # noqa: E402


def pytest_report_header(config):
    """Which kodistubs the Kodi fakes build on (make unit22 puts 22 in front of the venv's 21)."""
    return "kodistubs %s (%s)" % (fakekodi.stubs_version(), fakekodi.stubs_folder())


@pytest.fixture
def kodi(tmp_path):
    """A fresh fake Kodi: its settings from the real settings.xml, its profile in tmp_path."""
    profile = tmp_path / "addon_data"
    profile.mkdir()
    world = fakekodi.reset(str(profile))
    # The sync asks Simkl on its own timers, and live scrobbling posts on every playback: the tests of
    # each switch it back on (tests/test_sync.py, tests/test_live.py).
    world.set_setting("sync_from_simkl", False)
    world.set_setting("live_scrobble", False)
    threads = set(threading.enumerate())
    yield world
    world.abort.set()
    # A service thread this test started may be in the middle of something as Kodi aborts: let it end here,
    # or what it does last (a notification) lands in the next test's Kodi, since the fake modules serve
    # whichever Kodi is current. (The fake Simkl's own threads end with its fixture.)
    ends = time.monotonic() + 10
    for thread in set(threading.enumerate()) - threads:
        if not any(name in thread.name for name in ("process_request_thread", "serve_forever")):
            thread.join(max(0.0, ends - time.monotonic()))


@pytest.fixture
def simkl(monkeypatch):
    """The fake Simkl server, with the add-on pointed at it through the environment."""
    with FakeSimkl() as fake:
        monkeypatch.setenv("SIMKL_API_URL", fake.url)
        monkeypatch.setenv("SIMKL_CLIENT_ID", fake.client_id)
        monkeypatch.delenv("SIMKL_AUTH", raising=False)
        yield fake


@pytest.fixture
def clock():
    """Virtual time: nothing under test really waits."""
    return VirtualClock()


@pytest.fixture
def server(monkeypatch, clock):
    """The fake Simkl server on the test's virtual clock (its 1-POST-per-second check uses it too)."""
    with FakeSimkl(clock=clock) as fake:
        monkeypatch.setenv("SIMKL_API_URL", fake.url)
        monkeypatch.setenv("SIMKL_CLIENT_ID", fake.client_id)
        monkeypatch.delenv("SIMKL_AUTH", raising=False)
        yield fake


@pytest.fixture
def library(kodi):
    """Kodi's video library: one movie, one show and its episode (a test file may set up its own)."""
    install_library(kodi)


@pytest.fixture
def service(kodi, server, clock, library):
    """The real service, logged in to the fake Simkl, on the fake Kodi and the virtual clock."""
    log_in(kodi, server)
    running = RunningService(kodi, clock).start()
    yield running
    server.release()  # a test may have left an answer held: let the service's last request end
    if running.thread.is_alive():
        running.stop()


@pytest.fixture
def start(kodi, server, clock, library):
    """start(**settings): the real service with these add-on settings, logged in to the fake Simkl, on the
    module's `library`; every service started is stopped at the end."""
    log_in(kodi, server)
    started = []

    def start_service(**settings):
        for key, value in settings.items():
            kodi.set_setting(key, value)
        started.append(RunningService(kodi, clock).start())
        return started[-1]

    yield start_service
    server.release()  # a test may have left an answer held: let the service's last request end
    for running in started:
        if running.thread.is_alive():
            running.stop()


@pytest.fixture
def sqlite_999(monkeypatch):
    """Every sqlite connection opened meanwhile binds at most 999 parameters in one statement, as SQLite
    before 3.32 (which some Kodi platforms embed). Python 3.11 and later only: older ones cannot lower it."""
    if not hasattr(sqlite3, "SQLITE_LIMIT_VARIABLE_NUMBER"):
        pytest.skip("lowering SQLite's parameter limit needs Connection.setlimit (Python 3.11+)")
    connect = sqlite3.connect

    def limited(*args, **kwargs):
        conn = connect(*args, **kwargs)
        conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
        return conn
    monkeypatch.setattr(sqlite3, "connect", limited)
