"""Every font the add-on's windows name exists in Estuary's default font set of each Kodi the tests have here:
the machine's Kodi 20, and Kodi 19 and 21 in their roots (tools/kodi_root.py; KODI19_ROOT / KODI21_ROOT).
A name Estuary lacks is drawn in another size than the window was laid out for (Kodi 19's Estuary has no
font32, for one)."""
import glob
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SKIN_FILES = sorted((REPO / "resources" / "skins" / "default" / "1080i").glob("*.xml"))
FONT_XML = "usr/share/kodi/addons/skin.estuary/xml/Font.xml"


def _kodi_folders():
    yield "machine", Path("/")
    for kodi in ("19", "21"):
        root = os.environ.get("KODI%s_ROOT" % kodi) or REPO / ".cache" / ("kodi%s-root" % kodi)
        yield "kodi%s-root" % kodi, Path(root)


@pytest.mark.parametrize("name, folder", list(_kodi_folders()))
def test_every_font_of_the_windows_exists_in_estuary(name, folder):
    font_xml = folder / FONT_XML
    if not font_xml.is_file():
        pytest.skip("no Estuary in %s (%s)" % (folder, name))
    fontset = ET.parse(str(font_xml)).getroot().find("fontset")
    fonts = {font.findtext("name") for font in fontset.iter("font")}
    assert SKIN_FILES and glob.glob(str(SKIN_FILES[0]))
    for skin in SKIN_FILES:
        used = {element.text for element in ET.parse(str(skin)).getroot().iter("font")}
        assert sorted(used - fonts) == [], "%s names fonts %s's Estuary lacks" % (skin.name, name)
