"""The add-on's static files: addon.xml, settings.xml, strings.po, artwork and entry files agree with each other."""
import importlib.util
import os
import re
import xml.etree.ElementTree as ET

import pytest
from PIL import Image

from lib.scrobbler.ui import script

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ADDON_ID = "service.scrobbler.simkl"
STRINGS_PO = os.path.join(ROOT, "resources", "language", "resource.language.en_gb", "strings.po")
ADDON_STRING_IDS = range(30000, 34000)  # where Kodi lets an add-on number its own strings


def read(*parts):
    with open(os.path.join(ROOT, *parts), encoding="utf-8") as handle:
        return handle.read()


@pytest.fixture(scope="module")
def addon():
    return ET.parse(os.path.join(ROOT, "addon.xml")).getroot()


@pytest.fixture(scope="module")
def settings():
    return ET.parse(os.path.join(ROOT, "resources", "settings.xml")).getroot()


@pytest.fixture(scope="module")
def string_ids():
    return [int(number) for number in re.findall(r'^msgctxt "#(\d+)"$', read(STRINGS_PO), re.MULTILINE)]


def extension(addon, point):
    found = addon.findall("extension[@point='%s']" % point)
    assert len(found) == 1, "addon.xml needs exactly one %s extension" % point
    return found[0]


# -- addon.xml ----------------------------------------------------------------------------------

def test_addon_id_and_version(addon):
    assert addon.get("id") == ADDON_ID
    assert re.fullmatch(r"\d+\.\d+\.\d+", addon.get("version"))
    assert addon.get("name") and addon.get("provider-name")
    assert ADDON_ID not in addon.get("provider-name") and "developers" not in addon.get("provider-name")


def test_addon_requires_kodi_19s_python_api_and_requests(addon):
    imports = {i.get("addon"): i.get("version") for i in addon.findall("requires/import")}
    # 3.0.0 is Kodi 19's xbmc.python; Kodi 20 (3.0.1), 21 and 22 still load add-ons asking for it.
    assert imports["xbmc.python"] == "3.0.0"
    assert "script.module.requests" in imports


def test_addon_has_a_service_and_a_script_entry_point_whose_files_exist(addon):
    service = extension(addon, "xbmc.service")
    runner = extension(addon, "xbmc.python.script")
    assert service.get("library") == "service.py"
    assert runner.get("library") == "default.py"
    for name in ("service.py", "default.py"):
        assert os.path.isfile(os.path.join(ROOT, name))


def test_the_script_entry_is_listed_first_so_the_addon_page_can_open_it(addon):
    # Kodi takes the first extension point for the add-on's main type and enables the information page's
    # Open/Run button only for a script or a plugin (GUIDialogAddonInfo.cpp CanRun; tests/e2e/test_addon_page.py).
    points = [element.get("point") for element in addon.findall("extension")]
    assert points[0] == "xbmc.python.script", points


def test_addon_metadata_is_complete(addon):
    meta = extension(addon, "xbmc.addon.metadata")
    for tag in ("summary", "description", "disclaimer"):
        element = meta.find("%s[@lang='en_GB']" % tag)
        assert element is not None and element.text and element.text.strip(), tag
    assert meta.findtext("license") == "GPL-3.0-or-later"
    assert meta.findtext("platform") == "all"
    assert meta.findtext("source", "").startswith("https://")
    assert meta.findtext("website", "").startswith("https://")
    assert addon.get("version") in meta.findtext("news", "")
    assert len(meta.findtext("news", "")) <= 1500  # kodi-addon-checker's metadata xsd caps it


def po_string(number):
    match = re.search(r'^msgctxt "#%d"\nmsgid "(.*)"$' % number, read(STRINGS_PO), re.MULTILINE)
    assert match, number
    return match.group(1)


def test_the_description_says_the_sync_marks_kodis_library_by_default_and_where_to_turn_it_off(addon, settings):
    description = extension(addon, "xbmc.addon.metadata").findtext("description[@lang='en_GB']")
    assert settings.find(".//setting[@id='sync_from_simkl']").findtext("default") == "true"
    category = settings.find(".//category[@id='sync']").get("label")
    label = settings.find(".//setting[@id='sync_from_simkl']").get("label")
    assert "by default" in description.lower()
    # Named as the settings page shows them, so the user can find them (no arrow: Kodi 20.1 drew one as a box).
    assert '"%s" under %s' % (po_string(int(label)), po_string(int(category))) in description


# The add-on page's changelog (Kodi shows <news> as it is): each version's changes as short lines a user reads,
# in the words of the interface, not the words of the code.
NEWS_LINE_MAX = 100
DEVELOPER_WORDS = re.compile(r"\b(request|requests|batch|batches|sqlite|json|api|http|rewatch_id|backoff|"
                             r"\d{3}|outbox|queue entry|fake|test|tests|refactor)\b|_", re.IGNORECASE)


def test_the_news_tells_each_versions_changes_for_users_in_short_plain_lines(addon):
    news = extension(addon, "xbmc.addon.metadata").findtext("news", "")
    lines = news.strip().splitlines()
    assert lines[0] == "v%s" % addon.get("version")
    for line in lines:
        assert re.fullmatch(r"v\d+\.\d+\.\d+|- \S.*", line), line  # a version, or one change under it
    assert [line for line in lines if len(line) > NEWS_LINE_MAX] == []
    assert [line for line in lines if DEVELOPER_WORDS.search(line)] == []
    assert [c for c in news if ord(c) > 126 and c not in "…—·"] == []  # what Estuary's fonts draw (test_words)


@pytest.mark.parametrize("asset, kind, size", [("icon", "PNG", (512, 512)), ("fanart", "JPEG", (1920, 1080))])
def test_artwork_exists_in_the_sizes_kodi_wants(addon, asset, kind, size):
    path = extension(addon, "xbmc.addon.metadata").findtext("assets/" + asset)
    assert path, "no %s in addon.xml assets" % asset
    with Image.open(os.path.join(ROOT, path)) as image:
        assert (image.format, image.size) == (kind, size)


def test_three_screenshots_are_declared_and_are_pictures_the_addon_checker_accepts(addon):
    paths = [element.text for element in extension(addon, "xbmc.addon.metadata").findall("assets/screenshot")]
    assert len(paths) == 3  # settings, login dialog, status view: tools/screenshots.py
    for path in paths:
        assert os.path.getsize(os.path.join(ROOT, path)) < 750 * 1024
        with Image.open(os.path.join(ROOT, path)) as image:
            assert image.format in ("JPEG", "PNG") and image.size in ((1280, 720), (1920, 1080)), path


def test_every_label_in_addon_xml_is_in_strings_po(addon, string_ids):
    labels = [element.text for element in addon.iter("label")]
    missing = [label for label in labels if not label.isdigit() or int(label) not in string_ids]
    assert missing == []


# -- settings.xml -------------------------------------------------------------------------------

def test_settings_are_version_1_with_one_section_named_after_the_addon(settings):
    assert settings.tag == "settings" and settings.get("version") == "1"
    assert [section.get("id") for section in settings.findall("section")] == [ADDON_ID]


def test_every_setting_id_is_unique(settings):
    ids = [setting.get("id") for setting in settings.iter("setting")]
    assert len(ids) == len(set(ids))


def test_every_label_help_and_heading_in_settings_xml_is_in_strings_po(settings, string_ids):
    used = []
    for element in settings.iter():
        used += [element.get(key) for key in ("label", "help") if element.get(key) is not None]
        if element.tag == "heading":
            used.append(element.text)
    assert len(used) > 10
    missing = [value for value in used if not value.isdigit() or int(value) not in string_ids]
    assert missing == []


def test_every_action_button_runs_an_action_the_script_knows(settings):
    actions = [s for s in settings.iter("setting") if s.get("type") == "action"]
    assert actions
    for setting in actions:
        data = setting.findtext("data")
        if not data and setting.findtext("enable") == "false":
            continue  # a greyed-out note, not a button
        match = re.fullmatch(r"RunScript\(%s,(\w+)(?:,settings)?\)" % re.escape(ADDON_ID), data or "")
        assert match, "%s runs %r" % (setting.get("id"), data)
        assert match.group(1) in script.ACTIONS, "%s: unknown action %r" % (setting.get("id"), match.group(1))


def test_every_context_menu_item_runs_an_action_the_script_knows(addon):
    for item in addon.findall("extension[@point='kodi.context.item']//item"):
        assert item.get("library") == "default.py"
        assert item.get("args") in script.ACTIONS


# -- strings.po ---------------------------------------------------------------------------------

def test_no_string_id_is_defined_twice(string_ids):
    duplicates = sorted({number for number in string_ids if string_ids.count(number) > 1})
    assert duplicates == []


def test_every_string_has_an_id_in_the_addon_range_and_an_english_text(string_ids):
    text = read(STRINGS_PO)
    entries = re.findall(r'^msgctxt "#(\d+)"\nmsgid "(.*)"\nmsgstr ""$', text, re.MULTILINE)
    assert len(entries) == len(string_ids)
    assert all(int(number) in ADDON_STRING_IDS and msgid for number, msgid in entries)


def string_ids_in_source():
    """Every integer in the add-on string range in lib/: localize() arguments and the tables that feed it
    (the scan of tools/check_strings.py, which `make check` runs)."""
    spec = importlib.util.spec_from_file_location("check_strings", os.path.join(ROOT, "tools", "check_strings.py"))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool.ids_in_code(ROOT)


def test_every_string_id_used_in_the_code_is_in_strings_po(string_ids):
    used = string_ids_in_source()
    assert 32041 in used and 32039 in used  # the scan sees plain calls and message tables
    missing = {number: where for number, where in used.items() if number not in string_ids}
    assert missing == {}


# -- entry files --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["default.py", "service.py"])
def test_entry_files_only_call_into_lib(name):
    lines = [line for line in read(name).splitlines() if line.strip()]
    assert len(read(name).splitlines()) <= 3
    assert lines[0].startswith("from lib.scrobbler.")
