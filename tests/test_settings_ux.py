"""The settings as a user meets them: plain labels, a help text for every option, nothing dead,
exclusion slots limited to video sources and shown one more as each is filled."""
import os
import re
import xml.etree.ElementTree as ET

import pytest

from lib.scrobbler.playback import rules

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FOLDER_SLOTS = 12
JARGON = re.compile(r"scrobbl|library marks|^watched at$|debug|http\(s\)", re.IGNORECASE)


@pytest.fixture(scope="module")
def settings():
    return ET.parse(os.path.join(ROOT, "resources", "settings.xml")).getroot()


def setting(settings, key):
    [found] = [s for s in settings.iter("setting") if s.get("id") == key]
    return found


def lib_source():
    text = []
    for folder, _, files in os.walk(os.path.join(ROOT, "lib")):
        for name in files:
            if name.endswith(".py"):
                with open(os.path.join(folder, name), encoding="utf-8") as handle:
                    text.append(handle.read())
    return "\n".join(text)


def test_every_setting_and_category_has_a_help_text(settings):
    missing = [s.get("id") for s in settings.iter() if s.tag in ("setting", "category") and not s.get("help")]
    assert missing == []


def test_labels_are_plain_words(kodi, settings):
    labels = {s.get("id"): kodi.string(int(s.get("label"))) for s in settings.iter() if s.tag in ("setting",
                                                                                                   "category")}
    assert [(key, label) for key, label in labels.items() if JARGON.search(label)] == []
    assert labels["scrobble_movies"] == "Mark movies as watched"
    assert labels["scrobble_episodes"] == "Mark episodes as watched"
    assert labels["sync_library_marks"] == "Send Kodi's watched/unwatched marks to Simkl"
    assert labels["threshold"] == "Watched after (% of length)"


def test_no_setting_is_dead(settings):
    """Each setting the user can change is read by the code; the rest are buttons or read-only lines."""
    code = lib_source()
    dead = []
    for item in settings.iter("setting"):
        key = item.get("id")
        if item.get("type") == "action" or item.findtext("enable") == "false":
            continue
        if not re.search(r'["\']%s["\']' % re.escape(key), code) and not key.startswith("exclude_folder"):
            dead.append(key)
    assert dead == []
    assert '"exclude_folder%d"' in code


def test_there_are_twelve_folder_slots_each_browsing_video_sources_and_no_network(settings):
    """Kodi's folder browser for a path setting lists the sources named, then always this device's own
    drives; "local" leaves out the network locations (NFS, SMB, Zeroconf, UPnP): GUIControlSettings.cpp,
    CGUIControlButtonSetting::GetPath. tests/e2e/test_settings_page.py shows what Kodi lists."""
    slots = [s for s in settings.iter("setting") if s.get("id", "").startswith("exclude_folder")]
    assert [s.get("id") for s in slots] == ["exclude_folder%d" % n for n in range(1, FOLDER_SLOTS + 1)]
    for slot in slots:
        assert slot.get("type") == "path"
        assert [source.text for source in slot.findall("constraints/sources/source")] == ["videos", "local"]
        assert slot.findtext("constraints/writable") == "false"


def test_each_folder_slot_shows_once_the_one_before_is_filled_and_stays_while_it_is_filled(settings):
    assert setting(settings, "exclude_folder1").find("dependencies") is None
    for n in range(2, FOLDER_SLOTS + 1):
        [dependency] = setting(settings, "exclude_folder%d" % n).findall("dependencies/dependency")
        assert dependency.get("type") == "visible"
        conditions = dependency.findall("or/condition")
        assert sorted((c.get("setting"), c.get("operator"), c.text or "") for c in conditions) == \
            sorted([("exclude_folder%d" % (n - 1), "!is", ""), ("exclude_folder%d" % n, "!is", "")])


def test_every_filled_slot_is_an_exclusion_even_after_a_gap(kodi):
    kodi.set_setting("exclude_folder1", "/media/kids/")
    kodi.set_setting("exclude_folder7", "/media/home videos/")
    kodi.set_setting("exclude_folder12", "smb://nas/private/")
    assert rules.read_rules().excluded_folders == ("/media/kids/", "/media/home videos/", "smb://nas/private/")
