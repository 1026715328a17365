"""The wait that groups library marks: marking a season or a show in Kodi sends one update per
episode, a few milliseconds apart, and they go to Simkl together once no new mark came for a while."""
import threading
from typing import Callable, Optional

MARKS_SETTLE = 2.0  # seconds without a new mark before the marks queued so far are sent


class MarksSettle:
    """Opened (or moved on) by each mark on Kodi's thread, ended by the worker once it ran out.

    A mark that comes as the wait ends opens a new one, which the worker's send does not cancel: the
    lock keeps the two apart. Times are read from `clock` (the service's steady clock)."""

    def __init__(self, clock: Callable[[], float], settle: float = MARKS_SETTLE) -> None:
        self._clock = clock
        self._settle = settle
        self._until: Optional[float] = None  # when the marks queued so far may go, if no new one comes
        self._lock = threading.Lock()

    def mark_came(self) -> None:
        """A library mark came: more may follow, so what is queued waits for them."""
        with self._lock:
            self._until = self._clock() + self._settle

    def waiting(self) -> bool:
        """Marks came less than `settle` seconds ago."""
        with self._lock:
            return self._waiting()

    def settled(self) -> bool:
        """No mark came for `settle` seconds: the wait ends (True), or it still runs (False)."""
        with self._lock:
            if self._waiting():
                return False
            self._until = None
            return True

    def until(self) -> Optional[float]:
        """When the running wait ends (None when none runs): the worker wakes then to send."""
        return self._until

    def _waiting(self) -> bool:
        return self._until is not None and self._clock() < self._until
