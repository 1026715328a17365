"""Virtual time for tests: it moves only when code sleeps on it or the test advances it."""
import threading

START = 1_780_000_000.0  # 2026-05-28T20:26:40Z


class VirtualClock:
    """Callable like time.time; shared by the add-on's parts under test and the fake Simkl server."""

    def __init__(self, now=START):
        self.now = now
        self.wall_offset = 0.0  # how far the wall clock was set away from real time (jump())
        self.sleeps = []
        self._lock = threading.Lock()

    def __call__(self):
        with self._lock:
            return self.now

    time = __call__

    def wall(self):
        """The wall clock: real time plus whatever the user or NTP set it to."""
        with self._lock:
            return self.now + self.wall_offset

    def jump(self, seconds):
        """Set the wall clock `seconds` ahead (or back): real time, and waits measured on it, go on."""
        with self._lock:
            self.wall_offset += seconds

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.advance(seconds)

    def advance(self, seconds):
        with self._lock:
            self.now += max(0.0, seconds)
