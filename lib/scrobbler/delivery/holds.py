"""The watches the sender must leave alone for now (kept apart from outbox.py so that the service can
make its holds at start without importing sqlite3)."""
import threading
from contextlib import contextmanager
from typing import Iterator


class Holds:
    """Entries the sender must leave alone for now, in memory: those whose live /scrobble/stop is still
    undecided (live.py). The service commits a watch and holds it under the lock, and the sender takes a
    batch under it, so no batch can take a watch between its commit and its hold. A hold ends with the
    process: after a restart the entry is sent like any other (live.py says why that is exactly once)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids: set = set()

    @contextmanager
    def guard(self) -> Iterator[set]:
        """The held ids, locked: add to them (committing) or exclude them (taking a batch)."""
        with self._lock:
            yield self._ids

    def snapshot(self) -> frozenset:
        with self._lock:
            return frozenset(self._ids)

    def release(self, entry_id: int) -> None:
        with self._lock:
            self._ids.discard(entry_id)
