"""The login dialog's skin file: what Kodi's Estuary will render (fonts and sizes from Estuary's own
Font.xml, installed with Kodi), and that it shows what the Python side sets."""
import glob
import os
import re
import xml.etree.ElementTree as ET

import pytest

from lib.scrobbler.ui import login_dialog

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SKIN_XML = os.path.join(ROOT, "resources", "skins", "default", "1080i", login_dialog.WINDOW_XML)
ESTUARY_FONTS = sorted(glob.glob("/usr/share/kodi/addons/skin.estuary/xml/Font.xml"))


@pytest.fixture(scope="module")
def window():
    return ET.parse(SKIN_XML).getroot()


def control(window, control_id):
    [found] = [c for c in window.iter("control") if c.get("id") == str(control_id)]
    return found


def estuary_font_sizes():
    """{font name: size} of Estuary's default font set (the first <fontset>)."""
    fontset = ET.parse(ESTUARY_FONTS[0]).getroot().find("fontset")
    return {font.findtext("name"): int(font.findtext("size")) for font in fontset.iter("font")}


def test_the_window_shows_each_property_the_login_sets(window):
    labels = {c.get("id"): (c.findtext("label") or c.findtext("texture") or "") for c in window.iter("control")}
    for control_id, prop in (("1", "heading"), ("2", "intro"), ("3", "code"), ("4", "time_left"), ("5", "qr"),
                             ("6", "hint"), ("7", "message"), (str(login_dialog.NEW_CODE_BUTTON), "new_code")):
        assert labels[control_id] == "$INFO[Window.Property(%s)]" % prop
    assert control(window, login_dialog.CANCEL_BUTTON).findtext("label") == "222"  # Kodi's own "Cancel"


def test_ok_on_a_remote_lands_on_nothing_that_cancels(window):
    """Kodi focuses <defaultcontrol> when the window opens: OK there must keep the login waiting."""
    default = control(window, int(window.findtext("defaultcontrol")))
    assert default.get("id") != str(login_dialog.CANCEL_BUTTON)
    assert default.get("type") == "button"  # something focusable, so OK does not wander to Cancel
    assert default.get("id") != str(login_dialog.NEW_CODE_BUTTON)
    assert not default.findtext("label")  # nothing to read or do
    # and nothing to see: Estuary gives a button without textures of its own a coloured box (seen in Kodi 20.1)
    for texture in ("texturefocus", "texturenofocus"):
        assert default.find(texture).get("colordiffuse", "").startswith("00"), texture  # fully transparent


def test_get_a_new_code_shows_only_for_an_expired_code(window):
    button = control(window, login_dialog.NEW_CODE_BUTTON)
    assert button.get("type") == "button"
    assert button.findtext("visible") == "String.IsEqual(Window.Property(state),%s)" % login_dialog.EXPIRED


def test_the_time_left_reads_like_the_rest_of_the_text(window):
    time_left, intro = control(window, 4), control(window, 2)
    assert (time_left.findtext("font"), time_left.findtext("textcolor")) == \
        (intro.findtext("font"), intro.findtext("textcolor"))


def test_the_qr_code_stands_beside_the_code_not_over_it(window):
    code, qr = control(window, 3), control(window, 5)
    code_right = int(code.findtext("left")) + int(code.findtext("width"))
    assert int(qr.findtext("left")) >= code_right
    assert int(qr.findtext("width")) == int(qr.findtext("height")) >= 400  # about a third of the screen height


@pytest.mark.skipif(not ESTUARY_FONTS, reason="Kodi's Estuary skin is not installed")
def test_the_code_is_in_the_largest_letters_estuary_has_and_every_font_exists(window):
    sizes = estuary_font_sizes()
    used = {c.findtext("font") for c in window.iter("control") if c.findtext("font")}
    assert used <= set(sizes), used - set(sizes)
    code_font = control(window, 3).findtext("font")
    assert sizes[code_font] == max(sizes.values()) >= 60
    assert sizes[code_font] >= 2 * sizes[control(window, 2).findtext("font")] - 20  # far above the text


def test_the_textures_it_names_are_shipped(window):
    media = os.path.join(ROOT, "resources", "skins", "default", "media")
    names = set(re.findall(r">([\w-]+\.png)<", open(SKIN_XML, encoding="utf-8").read()))
    assert names and all(os.path.isfile(os.path.join(media, name)) for name in names)
