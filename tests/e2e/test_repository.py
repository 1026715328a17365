"""The repository and its automatic updates, the way a user gets them (README, Install): the repository built by
tools/build_repo.py is served on 127.0.0.1; Kodi installs the repository add-on from its zip (Add-ons > Install
from zip file > the source holding the repository's address), then the add-on from the repository. The released
0.6.0 (built from the repository's history with its own tools/build_zip.py; on Kodi 19, which 0.6.0 does not
support, this tree under its own version) queues a watch while Simkl is down;
a newer version (this tree) is published, Kodi's automatic updates are on, and Kodi updates the add-on by itself:
the service starts again on the new version, and the watch reaches Simkl once when Simkl is back.

Kodi updates an add-on installed from a third-party repository from that repository whatever "Updates" origin
setting (addons.updatemode) says (CAddonRepos::DoAddonUpdateCheck, xbmc/addons/AddonRepos.cpp): the test keeps
that setting's default, as a user has it.
"""
import importlib.util
import re
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from .addon_steps import ADDON_ID, focused_label, login, pick, quit_cleanly, simkl_env, wait_for_requests
from .jsonrpc import JsonRpcError
from .kodi_harness import Kodi, KodiError, script_addon
from .kodi_profile import kodi_dir, merge_settings_file
from .kodi_root import requested_version
from .media_library import MOVIE_ONE
from .repo_server import RepoServer

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]


def _load_build_repo():
    spec = importlib.util.spec_from_file_location("build_repo", str(REPO / "tools" / "build_repo.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_repo = _load_build_repo()

RELEASE_0_6_0 = "d7c1180"  # the commit 0.6.0 was released from
REPOSITORY_ID = build_repo.REPOSITORY_ID
SOURCE_NAME = "Simkl repository"  # the file source a user adds with the repository's address
BUILTIN_PROBE = "script.e2e.builtin"  # runs one Kodi built-in command (JSON-RPC has none)
HISTORY = "/sync/history"
STARTED = r"\[service\.scrobbler\.simkl\] service service\.scrobbler\.simkl %s started"


@pytest.fixture(scope="module")
def released_zip(tmp_path_factory) -> Path:
    """The version installed first: 0.6.0's zip, built from that commit's tree by that tree's own
    tools/build_zip.py, with the PIN login. Kodi 19 lacks the xbmc.python 3.0.1 that 0.6.0 asks for, so
    there it is this tree's zip (under its own version)."""
    folder = tmp_path_factory.mktemp("release")
    if requested_version() == "19":
        return build_repo.build_zip.build(REPO, folder / "dist", auth="v1")
    archive = folder / "tree.tar"
    done = subprocess.run(["git", "-C", str(REPO), "archive", "-o", str(archive), RELEASE_0_6_0],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        pytest.skip("0.6.0 is not in this copy's history: %s" % done.stdout.decode(errors="replace").strip())
    tree = folder / "tree"
    with tarfile.open(str(archive)) as tar:
        tar.extractall(str(tree))
    build = subprocess.run([sys.executable, str(tree / "tools" / "build_zip.py"), "--root", str(tree),
                            "--out-dir", str(folder / "dist"), "--auth", "v1"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert build.returncode == 0, build.stdout
    return Path(build.stdout.strip().splitlines()[-1])


def version_of(zip_path: Path) -> str:
    return build_repo._manifest(zip_path)[1]


@pytest.fixture(scope="module")
def newer_zip(tmp_path_factory, released_zip) -> Path:
    """This tree's zip (PIN login pinned), under its own version; or, while that is not above the version
    installed first (before a release's bump, or on Kodi 19), under that version with its last number raised."""
    folder = tmp_path_factory.mktemp("newer")
    built = build_repo.build_zip.build(REPO, folder / "built", auth="v1")
    released, version = version_of(released_zip), version_of(built)
    if build_repo.version_key(version) > build_repo.version_key(released):
        return built
    unpacked = build_repo.build_zip.unpack(built, folder / "unpacked", REPO)
    manifest = (unpacked / "addon.xml").read_text(encoding="utf-8")
    numbers = released.split("+")[0].split("~")[0].split(".")
    raised = ".".join(numbers[:-1] + [str(int(numbers[-1]) + 1)])
    manifest = re.sub(r'(<addon id="%s"[^>]*?\bversion=")[^"]+"' % re.escape(ADDON_ID), r'\g<1>%s"' % raised,
                      manifest, count=1)
    (unpacked / "addon.xml").write_text(manifest, encoding="utf-8")
    return build_repo.zip_folder(unpacked, folder)


@pytest.fixture
def host(tmp_path):
    with RepoServer(tmp_path / "repo") as server:
        yield server


@pytest.fixture
def kodi(tmp_path_factory, requests_addon, media_library, fake):
    """A Kodi with only what Kodi's official repository would have given it (requests, pyqrcode: the test
    machine is offline), unknown sources allowed, and a file source for the repository's address."""
    kodi = Kodi(tmp_path_factory.mktemp("kodi-home"), env=dict(simkl_env(fake), SIMKL_AUTH="v1"),
                shared=list(media_library.values()))
    try:
        yield kodi
    finally:
        kodi.close()


def add_file_source(kodi: Kodi, name: str, url: str) -> None:
    """What File manager > Add source writes (userdata/sources.xml), while Kodi is stopped."""
    sources = ET.Element("sources")
    files = ET.SubElement(sources, "files")
    ET.SubElement(files, "default", pathversion="1")
    source = ET.SubElement(files, "source")
    ET.SubElement(source, "name").text = name
    ET.SubElement(source, "path", pathversion="1").text = url
    ET.SubElement(source, "allowsharing").text = "true"
    ET.ElementTree(sources).write(str(kodi.userdata / "sources.xml"), encoding="utf-8", xml_declaration=True)


def run_builtin(kodi: Kodi, command: str) -> None:
    kodi.run_addon(BUILTIN_PROBE, command)


def answer_yes(kodi: Kodi, timeout: float = 15) -> None:
    if not kodi.wait_for_window("yesnodialog", timeout):
        raise KodiError("no question to answer\n" + kodi.log_tail())
    kodi.send_input("Left", "Select")
    kodi.wait_until(lambda: not kodi.window_active("yesnodialog"), 5, interval=0.05)


def install_from_zip_file(kodi: Kodi, source: str, zip_name: str, timeout: float = 30) -> None:
    """Add-ons > Install from zip file > `source` > `zip_name`, as a user does it with a remote."""
    kodi.call("GUI.ActivateWindow", {"window": "addonbrowser", "parameters": ["addons://"]})
    if not kodi.wait_until(lambda: kodi.info_labels("Container.FolderPath")["Container.FolderPath"] == "addons://",
                           timeout):
        raise KodiError("the add-on browser did not open\n" + kodi.log_tail())
    pick(kodi, "Install from zip file")
    # Kodi 20 and later warn first that such add-ons are not updated from a repository of their own.
    opened = kodi.wait_until(lambda: "filebrowser" if kodi.window_active("filebrowser") else
                             "yesno" if kodi.window_active("yesnodialog") else None, timeout)
    if opened == "yesno":
        answer_yes(kodi)
    if not kodi.wait_for_window("filebrowser", timeout):
        raise KodiError("the file browser did not open\n" + kodi.log_tail())
    pick(kodi, "[%s]" % source)  # the file browser shows folders in brackets
    # The source's listing comes over HTTP: wait until it replaced the list of sources.
    if not kodi.wait_until(lambda: focused_label(kodi) not in ("", "[%s]" % source), timeout):
        raise KodiError("the source %s did not open\n%s" % (source, kodi.log_tail()))
    pick(kodi, zip_name)


def installed(kodi: Kodi, addon_id: str):
    try:
        details = kodi.call("Addons.GetAddonDetails", {"addonid": addon_id, "properties": ["version", "enabled"]})
    except JsonRpcError:
        return None  # not installed
    return details["addon"]


def available_from_repositories(kodi: Kodi, addon_id: str) -> bool:
    found = kodi.call("Addons.GetAddons", {"installed": False, "properties": ["version"]}).get("addons", [])
    return any(addon["addonid"] == addon_id for addon in found)


def fetched(host: RepoServer, path: str) -> bool:
    return any(method == "GET" and status in (200, 206) for method, _, status in host.requests_to(path))


def posts_of(fake, title, status=None):
    return [r for r in fake.requests_to(HISTORY, "POST")
            if any(m.get("title") == title for m in (r.json or {}).get("movies", []))
            and (status is None or r.status == status)]


def test_installed_from_the_repository_the_add_on_updates_itself_and_keeps_the_queued_watch(
        kodi, host, fake, released_zip, newer_zip, requests_addon, media_library, tmp_path):
    old, new = version_of(released_zip), version_of(newer_zip)
    repository_zip = build_repo.build(REPO, host.folder, host.url, addon_zip=released_zip)
    for module in requests_addon:
        kodi.install_addon_dir(module)
    kodi.install_addon_dir(script_addon(tmp_path, BUILTIN_PROBE, "builtin probe",
                                        "import sys, xbmc\nxbmc.executebuiltin(sys.argv[1])\n"))
    # Kodi's own defaults for a user: automatic updates on (the harness turns them off), and here unknown
    # sources allowed, which Install from zip file asks for.
    merge_settings_file(kodi.userdata / "guisettings.xml", {"addons.unknownsources": True, "general.addonupdates": 0})
    add_file_source(kodi, SOURCE_NAME, host.url)
    kodi.set_addon_settings(ADDON_ID, {"sync_from_simkl": False, "live_scrobble": False})
    kodi.start()
    for addon_id in ["script.module.requests", "script.module.pyqrcode", BUILTIN_PROBE]:
        kodi.enable_addon(addon_id)
    for content, folder in media_library.items():
        kodi.add_video_source(folder, content)
    kodi.scan_library()

    # The repository from its zip, through Kodi's own installer (not copied into the profile).
    install_from_zip_file(kodi, SOURCE_NAME, repository_zip.name)
    assert kodi.wait_until(lambda: (installed(kodi, REPOSITORY_ID) or {}).get("enabled"), 30), kodi.log_tail()
    assert not (kodi_dir(kodi.home) / "addons" / ADDON_ID).exists()
    # Kodi reads a repository when its timer says (at start, then daily) or on Add-ons > Check for updates;
    # the Debian build ships no repository of Kodi's, so nothing is scheduled yet: check, as a user would.
    run_builtin(kodi, "UpdateAddonRepos")
    assert kodi.wait_until(lambda: available_from_repositories(kodi, ADDON_ID), 30), \
        "%s\n%s" % (host.requests[-20:], kodi.call("Addons.GetAddons", {"installed": False}))

    # The add-on from the repository, with Kodi's question answered.
    run_builtin(kodi, "InstallAddon(%s)" % ADDON_ID)
    answer_yes(kodi)
    assert kodi.wait_for_log(STARTED % re.escape(old), 60), kodi.log_tail()
    assert (installed(kodi, ADDON_ID) or {}).get("version") == old
    assert fetched(host, "/%s/%s-%s.zip" % (ADDON_ID, ADDON_ID, old))

    # 0.6.0 logged in queues a watch while Simkl answers 503.
    login(kodi, fake)
    wait_for_requests(fake, "/users/settings", 1, status=200)
    fake.fail(HISTORY, 503, times=1000, retry_after="3")
    assert kodi.play_to_end({"movieid": kodi.movie_id(MOVIE_ONE.title)}, seek_to=99)["end"] is True
    wait_for_requests(fake, HISTORY, 1, status=503)

    # A newer version is published; Kodi looks at its repositories (as it does by itself once a day).
    build_repo.build(REPO, host.folder, host.url, addon_zip=newer_zip)
    assert kodi.call("Settings.GetSettingValue", {"setting": "general.addonupdates"})["value"] == 0
    run_builtin(kodi, "UpdateAddonRepos")

    assert kodi.wait_for_log(STARTED % re.escape(new), 90), kodi.log_tail()
    assert (installed(kodi, ADDON_ID) or {}).get("version") == new
    assert fetched(host, "/%s/%s-%s.zip" % (ADDON_ID, ADDON_ID, new))
    assert fake.watches == [], "the watch reached Simkl before the update: %s" % fake.log_text()

    fake.clear_faults()  # Simkl is back
    wait_for_requests(fake, HISTORY, 1, status=201, timeout=60)
    assert not kodi.wait_until(lambda: len(posts_of(fake, MOVIE_ONE.title, 201)) > 1, 3)
    assert len(posts_of(fake, MOVIE_ONE.title, 201)) == 1, fake.log_text()
    assert len([w for w in fake.watches if w.key == "movie:imdb=" + MOVIE_ONE.ids["imdb"]]) == 1
    quit_cleanly(kodi)
    assert fake.violations == []
