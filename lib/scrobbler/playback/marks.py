"""Which of Kodi's library playcount changes are the user's own marks.

When a library item plays to its end (or past Kodi's "ignore at end" percentage), Kodi raises its
playcount itself and sends `VideoLibrary.OnUpdate` with it, around the item's `Player.OnStop`,
whatever the add-on made of that playback (followed, excluded, too short, switched off). That is
not the user's "Mark as watched". Kodi's player notifications (`Player.OnPlay`, `OnAVStart`,
`OnStop`) name the library item that plays, in the same order as its library notifications, so
a playcount raise for the item playing now, or for one that stopped a moment ago, is Kodi's own.
"""
import json
import threading
import time
from typing import Callable, Dict, Optional, Tuple

# Kodi saves the played item's state in a background job: its update can trail Player.OnStop.
PLAYBACK_UPDATE_WINDOW = 15.0

Key = Tuple[str, int]


def notification_data(data):
    """A notification's data as Kodi sends it (JSON text) read once; None when unreadable."""
    try:
        return json.loads(data) if isinstance(data, str) else data
    except ValueError:
        return None


def playcount_of(data) -> Optional[int]:
    """The playcount a library update carries, or None (an update of resume points, artwork, …)."""
    try:
        return int((json.loads(data) if isinstance(data, str) else data)["playcount"])
    except (ValueError, KeyError, TypeError):
        return None


def library_item(data) -> Optional[Key]:
    """(type, id) of the library item a notification's data names, or None."""
    try:
        item = (json.loads(data) if isinstance(data, str) else data)["item"]
        return item["type"], int(item["id"])
    except (ValueError, KeyError, TypeError):
        return None


class PlaybackMarks:
    """Fed with Kodi's notifications; tells whether a playcount raise came from playback."""

    def __init__(self, clock: Callable[[], float] = time.time):
        self._clock = clock
        self._playing: Optional[Key] = None
        self._stopped: Dict[Key, float] = {}  # item -> when it stopped playing

    def notification(self, method: str, data) -> None:
        if method in ("Player.OnPlay", "Player.OnAVStart"):
            self._stop_playing()
            self._playing = library_item(data)
        elif method == "Player.OnStop":
            self._stop_playing()
            stopped = library_item(data)
            if stopped is not None:
                self._stopped[stopped] = self._clock()

    def caused_by_playback(self, key: Key, playcount: int) -> bool:
        """A playcount raise for the item playing now or one that stopped within the window."""
        if playcount <= 0:
            return False  # Kodi's playback never lowers a playcount: that is always the user
        if key == self._playing:
            return True
        now = self._clock()
        self._stopped = {k: t for k, t in self._stopped.items() if 0 <= now - t < PLAYBACK_UPDATE_WINDOW}
        return key in self._stopped

    def _stop_playing(self) -> None:
        if self._playing is not None:
            self._stopped[self._playing] = self._clock()
            self._playing = None


class OwnWrites:
    """Library changes the add-on makes itself (the sync): Kodi announces each with
    VideoLibrary.OnUpdate like a user's mark, and it must not bounce back to Simkl."""

    LIFETIME = 120.0  # an expected update that never came is forgotten after this long

    def __init__(self, clock: Callable[[], float] = time.time):
        self._clock = clock
        self._expected: Dict[Key, Tuple[int, float]] = {}
        self._lock = threading.Lock()

    def expect(self, key: Key, playcount: int) -> None:
        with self._lock:
            self._expected[key] = (playcount, self._clock())

    def consume(self, key: Key, playcount: Optional[int]) -> bool:
        """Is this update one of ours? Then it is taken off the list."""
        with self._lock:
            now = self._clock()
            self._expected = {k: v for k, v in self._expected.items() if now - v[1] < self.LIFETIME}
            expected = self._expected.get(key)
            if expected is None or playcount is None or (expected[0] > 0) != (playcount > 0):
                return False
            del self._expected[key]
            return True
