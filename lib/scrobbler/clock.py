"""The clock waits are measured on: wall time at start plus monotonic time since.

watched_at is the wall-clock moment of a watch. Holds, backoffs and next tries follow this clock
instead, so a wall-clock jump of a day, back or forth, neither stretches a wait nor ends it early;
it still reads like wall time, so a wait written before a restart means the same after it.
"""
import time
from typing import Callable


class SteadyClock:
    def __init__(self, wall: Callable[[], float] = time.time, monotonic: Callable[[], float] = time.monotonic):
        self._monotonic = monotonic
        self._offset = wall() - monotonic()

    def __call__(self) -> float:
        return self._offset + self._monotonic()
