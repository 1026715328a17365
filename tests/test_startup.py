"""The service's start-up stays short: until the ready line only what Kodi's callbacks need is imported
(not even the dataclasses module, with the inspect module it pulls in);
requests (the biggest import), the sqlite queue, the sender and the sync come after it."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFERRED = ("requests", "urllib3", "sqlite3", "socket", "dataclasses", "inspect", "lib.scrobbler.delivery.outbox",
            "lib.scrobbler.delivery.flush", "lib.scrobbler.sync.runner", "lib.scrobbler.sync.engine",
            "lib.scrobbler.ui.login_dialog", "lib.scrobbler.ui.status", "lib.scrobbler.ui.rating_dialog")

PROBE = r"""
import sys, tempfile
sys.path[:0] = [%(root)r, %(fakes)r]
import fakekodi
fakekodi.reset(tempfile.mkdtemp())
import xbmc, xbmcaddon, xbmcgui, xbmcvfs
before = set(sys.modules)
from lib.scrobbler.service import Service
service = Service()
service.start_up()
print(" ".join(sorted(set(sys.modules) - before)))
service.outbox  # the worker's first step
print(" ".join(sorted(set(sys.modules) - before)))
"""


def imported_at_start():
    probe = PROBE % {"root": ROOT, "fakes": os.path.join(ROOT, "tests", "kodi_fakes")}
    done = subprocess.run([sys.executable, "-c", probe], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          env=dict(os.environ, SIMKL_CLIENT_ID="test"))
    assert done.returncode == 0, done.stdout
    at_start, after_first_step = done.stdout.splitlines()[-2:]
    return set(at_start.split()), set(after_first_step.split())


def test_nothing_heavy_is_imported_before_the_ready_line_and_the_queue_comes_right_after():
    at_start, after_first_step = imported_at_start()
    assert "lib.scrobbler.playback.player" in at_start and "lib.scrobbler.simkl.account" in at_start
    assert sorted(at_start & set(DEFERRED)) == []
    assert {"sqlite3", "lib.scrobbler.delivery.outbox"} <= after_first_step
    assert "requests" not in after_first_step  # only when something is sent
