"""The settings as Kodi shows them: the excluded-folder slots appear one more as each is filled, and
a slot's folder browser offers the user's video sources and this device's drives, never the network
locations (Kodi always adds the device's own drives to a path setting's browser:
GUIControlSettings.cpp, CGUIControlButtonSetting::GetPath)."""
import re
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from .addon_steps import ADDON_ID, SERVICE_STARTED, focused_label, menu_labels
from .kodi_harness import KodiError

pytestmark = pytest.mark.e2e
SOURCE_NAME = "Family Films"


def write_video_source(kodi, name, folder):
    """userdata/sources.xml with one video source, as Kodi's Add videos... dialog saves it."""
    (kodi.userdata / "sources.xml").write_text(
        "<sources>\n    <video>\n        <default pathversion=\"1\"></default>\n        <source>\n"
        "            <name>%s</name>\n            <path pathversion=\"1\">%s/</path>\n"
        "            <allowsharing>true</allowsharing>\n        </source>\n    </video>\n</sources>\n"
        % (escape(name), escape(str(Path(folder).resolve()))), encoding="utf-8")


@pytest.fixture
def settings_kodi(make_kodi, media_library):
    """A Kodi with one video source whose add-on has its first exclusion slot filled."""
    kodi = make_kodi(settings={"exclude_folder1": str(media_library["movies"]) + "/"}, start=False, library=False)
    write_video_source(kodi, SOURCE_NAME, media_library["movies"])
    kodi.start()
    kodi.enable_addon(ADDON_ID)
    if not kodi.wait_for_log(SERVICE_STARTED, 30):
        raise KodiError("the service did not start\n" + kodi.log_tail())
    kodi.ready_log = SERVICE_STARTED
    return kodi


def plain(label):
    """A row's label without the state Kodi shows after a toggle's name (" ( )", " (*)")."""
    return re.sub(r" \((?: |\*)\)$", "", label)


def open_category(kodi, label):
    kodi.run_addon(ADDON_ID, "settings")
    assert kodi.wait_for_window("addonsettings", 15), "the settings did not open\n" + kodi.log_tail()
    assert kodi.wait_until(lambda: focused_label(kodi), 5)
    kodi.send_input("Left")  # the list of categories
    for _ in range(10):
        if kodi.wait_until(lambda: focused_label(kodi) == label, 0.6, interval=0.1):
            break
        kodi.send_input("Down")
    assert focused_label(kodi) == label
    kodi.send_input("Right")  # into its settings
    assert kodi.wait_until(lambda: focused_label(kodi) != label, 5)


def test_one_more_folder_slot_shows_once_the_one_before_is_filled(settings_kodi):
    kodi = settings_kodi
    try:
        open_category(kodi, "Exclusions")
        rows = [plain(row) for row in menu_labels(kodi)]
    finally:
        kodi.close_dialogs()
    assert rows == ["Leave out web streams (http, https)", "Leave out videos from other add-ons",
                    "Excluded folder 1", "Excluded folder 2"]


def test_the_folder_browser_offers_the_video_sources_and_no_network_location(settings_kodi):
    kodi = settings_kodi
    try:
        open_category(kodi, "Exclusions")
        for _ in range(6):
            if focused_label(kodi) == "Excluded folder 2":
                break
            kodi.send_input("Down")
            kodi.wait_until(lambda: focused_label(kodi) == "Excluded folder 2", 0.6, interval=0.1)
        kodi.send_input("Select")
        assert kodi.wait_for_window("filebrowser", 10), "no folder browser\n" + kodi.log_tail()
        listed = menu_labels(kodi)
    finally:
        kodi.close_dialogs()
    assert "[%s]" % SOURCE_NAME in listed, listed
    for network in ("NFS", "SMB", "Zeroconf", "UPnP", "network"):
        assert not any(network.lower() in entry.lower() for entry in listed), listed
