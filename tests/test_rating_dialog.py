"""The rating question's window (ui/rating_dialog.py) on the fake Kodi, which builds it from the real skin file
and strings.po; and the skin file itself: what Estuary will render."""
import glob
import os
import re
import threading
import xml.etree.ElementTree as ET

import pytest

from lib.scrobbler.media import Movie, Show
from lib.scrobbler.ui import rating_dialog
from lib.scrobbler.ui.rating_dialog import RatingDialog
from lib.scrobbler.ui.rating_model import MOVIE, TVSHOW, Question

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SKIN_XML = os.path.join(ROOT, "resources", "skins", "default", "1080i", rating_dialog.WINDOW_XML)
ESTUARY_FONTS = sorted(glob.glob("/usr/share/kodi/addons/skin.estuary/xml/Font.xml"))
INCEPTION = Question(MOVIE, 12, Movie("Inception", 2010, {"imdb": "tt1375666"}))
BUTTONS = ["1 · Awful", "2 · Terrible", "3 · Bad", "4 · Poor", "5 · Mediocre", "6 · Fair", "7 · Good", "8 · Great",
           "9 · Superb", "10 · Masterpiece", "Skip"]


class Rig:
    """The dialog on a virtual steady clock: each pause moves it on and runs the window's callbacks, as Kodi's
    sleep does on the thread that opened the window."""

    def __init__(self, kodi, clock):
        self.kodi = kodi
        self.clock = clock
        self.quitting = threading.Event()
        self.pauses = []
        self.dialog = RatingDialog(steady=clock, stopping=self.quitting.is_set, pause=self.pause)

    def pause(self, seconds):
        self.pauses.append(seconds)
        self.kodi.run_window_callbacks()
        self.clock.advance(seconds)

    def window(self):
        (window,) = self.kodi.windows_shown
        return window


@pytest.fixture
def rig(kodi, clock):
    return Rig(kodi, clock)


def test_the_window_shows_the_title_ten_ratings_with_their_words_and_skip_focused(rig, kodi):
    seen = []
    kodi.window_steps.append(lambda window: seen.append((window.screen(), window.focused_label())))

    assert rig.dialog.ask(INCEPTION) is None  # Back once nothing is left to do

    (screen, focused), = seen
    assert screen["info"] == ["Rate this movie", "Closes in 1:00", "Inception (2010)",
                              "Your rating goes to Simkl and becomes My rating in Kodi."]
    assert screen["actions"] == BUTTONS
    assert focused == "Skip"  # OK pressed for something else rates nothing
    assert kodi.windows == []


def test_a_show_is_asked_about_as_a_show_and_a_movie_not_in_the_library_only_for_simkl(rig, kodi):
    shows = []
    kodi.window_steps.append(lambda window: shows.append(window.screen()["info"][:3:2]))
    rig.dialog.ask(Question(TVSHOW, 3, Show("The Last of Us", 2023, {"tvdb": 392256})))
    assert shows == [["Rate this show", "The Last of Us (2023)"]]

    hints = []
    kodi.window_steps.append(lambda window: hints.append(window.screen()["info"][-1]))
    rig.dialog.ask(Question(MOVIE, None, INCEPTION.item))
    assert hints == ["Your rating goes to Simkl."]


def test_a_click_on_a_rating_is_the_choice_and_closes_the_window(rig, kodi):
    kodi.window_steps.append("8 · Great")

    assert rig.dialog.ask(INCEPTION) == 8

    assert kodi.windows == []
    assert ("window-closed", rating_dialog.WINDOW_XML, "") in kodi.dialogs


@pytest.mark.parametrize("step", ["Skip", "back", "select"])
def test_skip_back_and_ok_on_the_focused_skip_rate_nothing(rig, kodi, step):
    kodi.window_steps.append(step)

    assert rig.dialog.ask(INCEPTION) is None
    assert kodi.windows == []


def test_after_a_minute_on_the_steady_clock_it_closes_by_itself_saying_how_long_is_left(rig, kodi, clock):
    opened = clock()
    shown = []

    def look(window):  # the user does nothing: the step stays for every wait
        shown.append(window.getProperty("time_left"))
        return False
    kodi.window_steps.append(look)

    assert rig.dialog.ask(INCEPTION) is None

    assert clock() - opened == pytest.approx(rating_dialog.OPEN_FOR)
    assert max(rig.pauses) <= 0.5  # it looks at the user's choice twice a second
    assert shown[0] == "Closes in 1:00" and shown[-1] == "Closes in 0:01"
    assert "Closes in 0:30" in shown
    assert kodi.windows == []
    kodi.window_steps.clear()


def test_kodi_quitting_closes_the_window_at_its_next_look(rig, kodi):
    looks = []

    def kodi_quits(window):
        looks.append(window.getProperty("time_left"))
        rig.quitting.set()
        return False
    kodi.window_steps.append(kodi_quits)

    assert rig.dialog.ask(INCEPTION) is None

    assert len(looks) == 1 and kodi.windows == []
    kodi.window_steps.clear()


# -- the skin file --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def skin():
    return ET.parse(SKIN_XML).getroot()


def control(skin, control_id):
    [found] = [c for c in skin.iter("control") if c.get("id") == str(control_id)]
    return found


def test_every_rating_button_moves_the_focus_to_a_button_of_the_window(skin):
    ids = {c.get("id") for c in skin.iter("control") if c.get("type") == "button"}
    assert ids == {str(i) for i in list(rating_dialog.RATING_BUTTONS) + [rating_dialog.SKIP_BUTTON]}
    for button in skin.iter("control"):
        if button.get("type") == "button":
            moves = [button.findtext(way) for way in ("onleft", "onright", "onup", "ondown")]
            assert set(moves) <= ids, (button.get("id"), moves)
    assert skin.findtext("defaultcontrol") == str(rating_dialog.SKIP_BUTTON)
    assert control(skin, rating_dialog.SKIP_BUTTON).findtext("onup") == "108"  # Up from Skip: 8


def test_no_two_buttons_overlap_and_all_lie_inside_the_panel(skin):
    boxes = []
    for button in skin.iter("control"):
        if button.get("type") == "button":
            left, top = int(button.findtext("left")), int(button.findtext("top"))
            boxes.append((left, top, left + int(button.findtext("width")), top + int(button.findtext("height"))))
    panel = [c for c in skin.iter("control") if c.get("type") == "group"][0]
    width, height = int(panel.findtext("width")), int(panel.findtext("height"))
    assert all(0 <= a[0] and a[2] <= width and 0 <= a[1] and a[3] <= height for a in boxes)
    for n, a in enumerate(boxes):
        for b in boxes[n + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)


@pytest.mark.skipif(not ESTUARY_FONTS, reason="Kodi's Estuary skin is not installed")
def test_every_font_is_estuarys_and_the_choices_read_from_the_sofa(skin):
    fontset = ET.parse(ESTUARY_FONTS[0]).getroot().find("fontset")
    sizes = {font.findtext("name"): int(font.findtext("size")) for font in fontset.iter("font")}
    used = {c.findtext("font") for c in skin.iter("control") if c.findtext("font")}
    assert used <= set(sizes), used - set(sizes)
    for button in skin.iter("control"):
        if button.get("type") == "button":
            assert sizes[button.findtext("font")] >= 37  # a third larger than Estuary's list text (font27)
    assert sizes[control(skin, 2).findtext("font")] >= 45  # the title


def test_the_textures_it_names_are_shipped():
    media = os.path.join(ROOT, "resources", "skins", "default", "media")
    names = set(re.findall(r">([\w-]+\.png)<", open(SKIN_XML, encoding="utf-8").read()))
    assert names and all(os.path.isfile(os.path.join(media, name)) for name in names)


@pytest.mark.skipif(not ESTUARY_FONTS, reason="Kodi's Estuary skin is not installed")
def test_every_buttons_words_fit_it_whole_in_estuarys_font(skin, kodi):
    from PIL import ImageFont
    fontset = ET.parse(ESTUARY_FONTS[0]).getroot().find("fontset")
    fonts = {font.findtext("name"): font for font in fontset.iter("font")}
    folder = os.path.join(os.path.dirname(os.path.dirname(ESTUARY_FONTS[0])), "fonts")
    for control_id, rating in list(rating_dialog.RATING_BUTTONS.items()) + [(rating_dialog.SKIP_BUTTON, None)]:
        button = control(skin, control_id)
        font = fonts[button.findtext("font")]
        face = ImageFont.truetype(os.path.join(folder, font.findtext("filename")), int(font.findtext("size")))
        label = rating_dialog.button_label(rating) if rating else kodi.string(32933)
        assert face.getlength(label) <= int(button.findtext("width")) - 2 * 10, label
