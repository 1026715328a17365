"""The rating question: a window of the add-on's own skin (resources/skins/default/1080i/script-simkl-rating.xml)
with the title, ten buttons 1 to 10 with their words, and Skip (focused: an OK pressed for something else rates
nothing). Back is Skip too. It closes by itself after a minute, counted on the steady clock, and says how long
is left.

Shown with show(), not doModal(): the thread that asks counts the minute down meanwhile and closes the window
within half a second of Kodi's quit. Kodi runs the window's callbacks (a click, Back) on that thread while it
waits in `pause` (kodi.pause)."""
import math
from typing import Callable, Optional

import xbmcgui

from .. import kodi
from .rating_model import MOVIE, RATINGS

WINDOW_XML = "script-simkl-rating.xml"
SKIP_BUTTON = 20
RATING_BUTTONS = {100 + rating: rating for rating in RATINGS}  # control id -> the rating it chooses
# The word of each rating, 1 to 10.
WORDS = (32940, 32941, 32942, 32943, 32944, 32945, 32946, 32947, 32948, 32949)
HEADINGS = {MOVIE: 32930}  # a show: 32931
OPEN_FOR = 60.0  # seconds until the window closes by itself
LOOK = 0.5  # seconds between looks at the user's choice, the time left and Kodi's quit
# Back, Escape and the parent-folder key close it (Kodi's ACTION_PREVIOUS_MENU, ACTION_NAV_BACK, ACTION_PARENT_DIR).
CLOSE_ACTIONS = (xbmcgui.ACTION_PREVIOUS_MENU, xbmcgui.ACTION_NAV_BACK, xbmcgui.ACTION_PARENT_DIR)


class RatingWindow(xbmcgui.WindowXMLDialog):
    """Records the user's answer: `choice` (1-10, None: skipped) once `answered`."""

    def __init__(self, *args, **kwargs):
        self.choice: Optional[int] = None
        self.answered = False

    def onClick(self, controlId):
        if controlId in RATING_BUTTONS:
            self.choice = RATING_BUTTONS[controlId]
            self.answered = True
        elif controlId == SKIP_BUTTON:
            self.answered = True

    def onAction(self, action):
        if action.getId() in CLOSE_ACTIONS:
            self.answered = True


def button_label(rating: int) -> str:
    return "%d · %s" % (rating, kodi.localize(WORDS[rating - 1]))


def time_left(seconds: float) -> str:
    """"Closes in 0:42", the seconds rounded up: it never reads 0:00 while the window shows."""
    minutes, secs = divmod(max(0, math.ceil(seconds - 1e-6)), 60)
    return kodi.localize(32934, "%d:%02d" % (minutes, secs))


class RatingDialog:
    """ask(question) opens the window on the calling thread and returns the rating chosen (1-10) or None."""

    def __init__(self, steady: Callable[[], float], stopping: Callable[[], bool],
                 pause: Callable[[float], None] = kodi.pause):
        """steady: the clock the minute is counted on; stopping(): Kodi quits; pause(seconds): wait, running the
        window's callbacks."""
        self._steady = steady
        self._stopping = stopping
        self._pause = pause

    def ask(self, question) -> Optional[int]:
        window = RatingWindow(WINDOW_XML, kodi.addon_path(), "default", "1080i")
        window.setProperty("heading", kodi.localize(HEADINGS.get(question.kind, 32931)))
        window.setProperty("title", question.label())
        window.setProperty("hint", kodi.localize(32935 if question.dbid is None else 32932))
        for rating in RATINGS:
            window.setProperty("rating%d" % rating, button_label(rating))
        window.setProperty("skip", kodi.localize(32933))
        window.setProperty("time_left", time_left(OPEN_FOR))
        closes_at = self._steady() + OPEN_FOR
        window.show()
        try:
            while True:
                left = closes_at - self._steady()
                window.setProperty("time_left", time_left(left))
                if window.answered or left <= 0 or self._stopping():
                    break
                self._pause(min(LOOK, left))
        finally:
            window.close()
        return window.choice if window.answered else None
