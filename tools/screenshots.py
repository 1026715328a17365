#!/usr/bin/env python3
"""Take the add-on's screenshots in a real headless Kodi: its settings, the login dialog and the status view.

    python tools/screenshots.py [--out resources/media]        (what `make screenshots` runs)

Boots Kodi under Xvfb with the harness of the real-Kodi suite (tests/e2e/kodi_harness.py) and the fake
Simkl server (tests/fake_simkl.py), so nothing leaves the machine: the login is approved on the fake
server, and a few watches are queued while Simkl "is down" so the status view has something to show.
Kodi takes each picture itself (the TakeScreenshot builtin, run by a throwaway helper script add-on in
the temporary Kodi profile); the pictures are written as JPEG, 1280x720, to
<out>/screenshot-01.jpg (settings), -02 (login) and -03 (status view).
Needs what the e2e suite needs: kodi, xvfb and the development requirements (Pillow).
"""
import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from PIL import Image  # noqa: E402

from fake_simkl import FakeSimkl  # noqa: E402
from lib.scrobbler import config  # noqa: E402
from lib.scrobbler.delivery.outbox import Outbox  # noqa: E402
from lib.scrobbler.media import Episode, Movie  # noqa: E402
from tests.e2e.addon_steps import ADDON_ID, LOGIN_WINDOW, SERVICE_STARTED, open_status_view, simkl_env  # noqa: E402
from tests.e2e.kodi_harness import Kodi, KodiError, missing_tools  # noqa: E402
from tests.e2e.requests_module import pyqrcode_module, requests_module  # noqa: E402

HELPER_ID = "script.screenshots.helper"
HELPER_XML = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<addon id="%s" name="screenshot helper" version="1.0.0" provider-name="tools/screenshots.py">
    <requires><import addon="xbmc.python" version="3.0.0"/></requires>
    <extension point="xbmc.python.script" library="default.py"/>
    <extension point="xbmc.addon.metadata"><platform>all</platform></extension>
</addon>
""" % HELPER_ID
# Runs the Kodi builtin given as its argument (JSON-RPC has no way to run one); with "wait", until it is done.
HELPER_PY = "import sys\nimport xbmc\nxbmc.executebuiltin(sys.argv[1], sys.argv[2:] == ['wait'])\n"

NAMES = ("screenshot-01.jpg", "screenshot-02.jpg", "screenshot-03.jpg")  # settings, login, status view
JPEG_QUALITY = 88
SETTLED = 1.5  # seconds for a dialog's opening animation and its first frames


def queue_watches(kodi: Kodi) -> None:
    """What a user might have waiting: a few watches, queued by the add-on's own outbox while Kodi is stopped."""
    now = time.time()
    path = kodi.addon_data(ADDON_ID) / config.OUTBOX_FILE
    with Outbox(str(path)) as outbox:
        outbox.add(Movie("Inception", 2010, {"imdb": "tt1375666", "tmdb": 27205}), now - 3 * 3600)
        outbox.add(Episode("The Last of Us", 1, 3, 2023, {"tvdb": 392256, "imdb": "tt3581920"}, "Long, Long Time",
                           {"tvdb": 8444132}), now - 2 * 3600)
        outbox.add(Movie("Dune", 2021, {"imdb": "tt1160419", "tmdb": 438631}), now - 40 * 60)


def write_helper(folder: Path) -> Path:
    helper = folder / HELPER_ID
    helper.mkdir(parents=True)
    (helper / "addon.xml").write_text(HELPER_XML, encoding="utf-8")
    (helper / "default.py").write_text(HELPER_PY, encoding="utf-8")
    return helper


def builtin(kodi: Kodi, command: str, wait: bool = False) -> None:
    kodi.call("Addons.ExecuteAddon", {"addonid": HELPER_ID, "params": [command] + (["wait"] if wait else []),
                                      "wait": wait})


def screenshot(kodi: Kodi, target: Path, work: Path) -> Path:
    """Kodi's own picture of what it renders (PNG), saved as JPEG at `target`; no notification over it."""
    Kodi.wait_until(lambda: not kodi.window_active("notification"), 15)
    time.sleep(SETTLED)
    png = work / (target.stem + ".png")
    builtin(kodi, "TakeScreenshot(%s,true)" % png, wait=True)
    if not Kodi.wait_until(lambda: png.is_file() and png.stat().st_size > 0, 15):
        raise KodiError("Kodi wrote no screenshot %s\n%s" % (png, kodi.log_tail()))
    time.sleep(0.5)  # the file is complete once Kodi closed it
    with Image.open(png) as image:
        image.convert("RGB").save(target, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return target


def login_dialog(kodi: Kodi, fake: FakeSimkl, target: Path, work: Path) -> Path:
    kodi.run_addon(ADDON_ID, "login")
    if not kodi.wait_for_window(LOGIN_WINDOW, 20) or not Kodi.wait_until(lambda: fake.devices or fake.pins, 10):
        raise KodiError("the login dialog did not open\n" + kodi.log_tail())
    shot = screenshot(kodi, target, work)
    fake.approve_pin()
    if not Kodi.wait_until(lambda: not kodi.window_active(LOGIN_WINDOW), 20):
        raise KodiError("the login dialog stayed open after the code was approved\n" + kodi.log_tail())
    return shot


def settings(kodi: Kodi, fake: FakeSimkl, target: Path, work: Path) -> Path:
    if not Kodi.wait_until(lambda: kodi.addon_settings(ADDON_ID).get("logged_in") == "true", 15):
        raise KodiError("the login was not saved\n" + kodi.log_tail())
    # The queued watches fail once logged in, and the add-on says so once: let that toast come first.
    Kodi.wait_until(lambda: fake.requests_to("/sync/history"), 30)
    Kodi.wait_until(lambda: kodi.window_active("notification"), 5)
    builtin(kodi, "Addon.OpenSettings(%s)" % ADDON_ID)
    if not kodi.wait_for_window("addonsettings", 15):
        raise KodiError("the add-on settings did not open\n" + kodi.log_tail())
    shot = screenshot(kodi, target, work)
    kodi.close_dialogs()
    return shot


def status_view(kodi: Kodi, fake: FakeSimkl, target: Path, work: Path) -> Path:
    if not Kodi.wait_until(lambda: fake.requests_to("/sync/history"), 30):  # the queued watches were tried
        raise KodiError("the service sent none of the queued watches\n" + kodi.log_tail())
    open_status_view(kodi)
    shot = screenshot(kodi, target, work)
    kodi.close_dialogs()
    return shot


def build_zip(work: Path) -> Path:
    """The add-on's zip, built from a copy of the tree in which the screenshots addon.xml declares exist
    (a first run has none yet: blank stand-ins, never seen, fill their place in that copy only)."""
    tree = work / "tree"
    tree.mkdir()
    for name in ("addon.xml", "default.py", "service.py", "LICENSE.txt"):
        shutil.copy2(str(ROOT / name), str(tree / name))
    for folder in ("lib", "resources"):
        shutil.copytree(str(ROOT / folder), str(tree / folder), ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in NAMES:
        stand_in = tree / "resources" / "media" / name
        if not stand_in.is_file():
            stand_in.parent.mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (1280, 720)).save(stand_in, "JPEG")
    build = subprocess.run([sys.executable, str(ROOT / "tools" / "build_zip.py"), "--root", str(tree),
                            "--out-dir", str(work)], check=True, stdout=subprocess.PIPE, text=True)
    return Path(build.stdout.strip().splitlines()[-1])


def take(out_dir: Path) -> list:
    missing = missing_tools()
    if missing:
        raise SystemExit("tools/screenshots.py needs %s (apt-get install kodi xvfb ffmpeg libgl1-mesa-dri)"
                         % ", ".join(missing))
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="simkl-screenshots-") as temp, FakeSimkl() as fake:
        work = Path(temp)
        addon_zip = build_zip(work)
        kodi = Kodi(work / "home", env=simkl_env(fake))
        try:
            kodi.install_addon_dir(requests_module(ROOT / ".cache" / "e2e"))
            kodi.install_addon_dir(pyqrcode_module(ROOT / ".cache" / "e2e"))
            kodi.install_addon_zip(addon_zip)
            kodi.install_addon_dir(write_helper(work))
            kodi.set_addon_settings(ADDON_ID, {"sync_from_simkl": False})
            queue_watches(kodi)
            fake.fail("/sync/history", 503, times=1000, retry_after="600")  # Simkl "is down": they wait
            kodi.start()
            kodi.enable_addon(HELPER_ID)
            kodi.enable_addon(ADDON_ID)
            if not kodi.wait_for_log(SERVICE_STARTED, 30):
                raise KodiError("the add-on's service did not start\n" + kodi.log_tail())
            shots = [None, None, None]
            shots[1] = login_dialog(kodi, fake, out_dir / NAMES[1], work)
            shots[0] = settings(kodi, fake, out_dir / NAMES[0], work)
            shots[2] = status_view(kodi, fake, out_dir / NAMES[2], work)
            kodi.stop()
        finally:
            kodi.close()
    return shots


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "resources" / "media",
                        help="folder for screenshot-01.jpg … -03.jpg (default: resources/media)")
    args = parser.parse_args(argv)
    for path in take(args.out.resolve()):
        with Image.open(path) as image:
            print("%s  %dx%d  %d KB" % (path, image.size[0], image.size[1], path.stat().st_size // 1024))
    return 0


if __name__ == "__main__":
    sys.exit(main())
