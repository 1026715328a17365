"""The service's start-up in a real headless Kodi, and whether it delays Kodi's own start.

One Kodi profile (tests/e2e/kodi_harness.py, debug log on) gets the add-on built from this tree, with
Kodi's script.module.requests and script.module.pyqrcode built from PyPI as in the e2e tests, and is
booted once to enable it (Python writes its bytecode caches then, as in a user's Kodi: the bench
lets kodi.bin write them even when PYTHONDONTWRITEBYTECODE is set in the calling shell). Then,
--runs times each, Kodi is started with the add-on enabled and with it disabled.

For each start with the add-on, the service's start-up is read from kodi.log:
- from Kodi's "CPythonInvoker(..., service.py): start processing" (the interpreter is being made)
  to the add-on's ready line "... started (Kodi ...) in N ms (M ms CPU)";
- from the add-on's first line "service starting" (logged before any of its modules is imported) to
  the ready line, and the CPU time the service's thread used meanwhile (M), which does not grow
  when other programs load the machine.
Kodi's start is the time from launching kodi.bin until its JSON-RPC answers, with and without the
add-on. Prints the medians and the machine's load average; exits non-zero if a line is missing or
kodi.log has a Python error.
--tree measures another checkout of the add-on (its tools/build_zip.py builds the zip); its service
must log the same two lines.
Usage: bench_startup.py [--runs 5] [--tree PATH]
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from tests.e2e.addon_steps import ADDON_ID, SERVICE_STARTED  # noqa: E402
from tests.e2e.kodi_harness import Kodi, KodiError, missing_tools  # noqa: E402
from tests.e2e.requests_module import pyqrcode_module, requests_module  # noqa: E402

STAMP = r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) "
INVOKER = re.compile(STAMP + r".*CPythonInvoker\(\d+, [^)]*/%s/service\.py\): start processing$" % re.escape(ADDON_ID),
                     re.M)
STARTING = re.compile(STAMP + r".*\[%s\] service starting$" % re.escape(ADDON_ID), re.M)
READY = re.compile(STAMP + r".*\[%s\] service %s \S+ started \(Kodi [^)]*\) in (\d+) ms \((\d+) ms CPU\)$"
                   % (re.escape(ADDON_ID), re.escape(ADDON_ID)), re.M)


def log_time(stamp):
    return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f").timestamp()


def build_zip(out_dir, tree=ROOT):
    done = subprocess.run([sys.executable, str(Path(tree) / "tools" / "build_zip.py"), "--out-dir", str(out_dir)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=True, cwd=str(tree))
    return Path(done.stdout.strip().splitlines()[-1])


def timed_start(kodi):
    began = time.monotonic()
    kodi.start(timeout=120)
    return time.monotonic() - began


def one_start_up(kodi):
    """Start Kodi with the add-on enabled: (Kodi's start in s, interpreter-to-ready ms, starting-to-ready ms,
    CPU ms)."""
    kodi.ready_log = None
    boot = timed_start(kodi)
    if not kodi.wait_for_log(SERVICE_STARTED, 60):
        raise KodiError("no ready line\n" + kodi.log_tail())
    text = kodi.log_text()
    invoker, starting, ready = INVOKER.search(text), STARTING.search(text), READY.search(text)
    if not (invoker and starting and ready):
        raise KodiError("a start-up line is missing (%r, %r, %r)\n%s" % (bool(invoker), bool(starting), bool(ready),
                                                                        kodi.log_tail()))
    end = log_time(ready.group(1))
    return (boot, (end - log_time(invoker.group(1))) * 1000, (end - log_time(starting.group(1))) * 1000,
            int(ready.group(3)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tree", default=str(ROOT), help="the add-on's source tree (default: this one)")
    args = parser.parse_args()
    missing = missing_tools()
    if missing:
        raise SystemExit("needs %s" % ", ".join(missing))
    loads = []
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as scratch:
        scratch = Path(scratch)
        kodi = Kodi(scratch / "kodi-home", env={"PYTHONDONTWRITEBYTECODE": ""}, debug_log=True)
        try:
            kodi.install_addon_dir(requests_module(ROOT / ".cache" / "e2e"))
            kodi.install_addon_dir(pyqrcode_module(ROOT / ".cache" / "e2e"))
            kodi.install_addon_zip(build_zip(scratch, args.tree))
            kodi.set_addon_settings(ADDON_ID, {"sync_from_simkl": False})
            kodi.start(timeout=120)
            kodi.enable_addon(ADDON_ID)
            if not kodi.wait_for_log(SERVICE_STARTED, 60):
                raise KodiError("the service did not start\n" + kodi.log_tail())
            kodi.stop(60)
            runs = []
            without = []
            for _ in range(args.runs):
                loads.append(os.getloadavg()[0])
                runs.append(one_start_up(kodi))
                kodi.enable_addon(ADDON_ID, False)
                kodi.stop(60)
                without.append(timed_start(kodi))
                kodi.enable_addon(ADDON_ID, True)
                kodi.wait_for_log(SERVICE_STARTED, 60)
                kodi.stop(60)
            errors = kodi.python_errors()
            if errors:
                raise KodiError("Python errors in kodi.log:\n" + "\n\n".join(errors))
        finally:
            kodi.close()
    boots, from_invoker, from_starting, cpu = zip(*runs)
    print("| runs | Kodi's start-processing line to ready line | service starting to ready line | CPU of the "
          "service's thread | Kodi start to JSON-RPC with the add-on | without it | load average |")
    print("|---|---|---|---|---|---|---|")
    print("| %d | %.0f ms | %.0f ms | %.0f ms | %.2f s | %.2f s | %.1f |" % (
        args.runs, statistics.median(from_invoker), statistics.median(from_starting), statistics.median(cpu),
        statistics.median(boots), statistics.median(without), statistics.median(loads)))
    print("each run (Kodi line to ready, starting to ready, CPU): " + ", ".join(
        "%.0f/%.0f/%d" % run[1:] for run in runs))


if __name__ == "__main__":
    main()
