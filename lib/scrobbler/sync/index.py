"""Where each title sits in Kodi's library: the Kodi ids (movieid, tvshowid) under each imdb/tmdb/tvdb id,
kept in addon_data, so that a sync which pulled only what moved on Simkl reads only those items from Kodi
instead of the whole library.

- Built from the whole-library read a sync makes anyway (the first sync, Sync now, or whenever the index
  cannot be trusted); a read cut short (Kodi quit) leaves no index, so the next sync reads everything.
- Kept current from Kodi's library notifications, on Kodi's thread and without a single read there:
  `VideoLibrary.OnRemove` of a movie or show drops it; `VideoLibrary.OnUpdate` of one without a
  `playcount` (added by a scan, refreshed) has its ids read again at the next sync, one item each. An
  update with a playcount (a watched mark, and each of the sync's own writes) never changes ids and
  costs nothing.
- Only a hint: every item it names is read from Kodi and its own ids decide (plan.py), so a stale entry
  never marks a wrong item. It is not trusted (the sync reads the whole library and builds it again) when
  the file is missing or of another version, when too many items changed since, or when Kodi's counts of
  movies and shows differ from its own (the library changed while the add-on was not listening). A title
  it misses anyway (ids edited with no notification) is caught by the next full sync.
"""
import os
import threading
from typing import Dict, Iterable, List, Optional, Set, Tuple

from ..files import read_json, write_json
from ..media import clean_ids

INDEX_FILE = "library_index.json"
VERSION = 1
KINDS = ("movie", "tvshow")
MATCH_KEYS = ("imdb", "tmdb", "tvdb")  # the ids plan.py matches on
RECHECK_LIMIT = 500  # more changed items than this since the last sync: the whole library is read instead


def match_keys(ids) -> List[str]:
    """The ids an item is found by, as "imdb=tt0000001", normalised as plan.py compares them."""
    ids = clean_ids(ids if isinstance(ids, dict) else {})
    return ["%s=%s" % (name, ids[name]) for name in MATCH_KEYS if name in ids]


class Entries:
    """The index itself: per kind, each Kodi id with its match keys, and each key with its Kodi ids."""

    def __init__(self, items: Optional[Dict[str, Dict[int, List[str]]]] = None):
        self.items: Dict[str, Dict[int, List[str]]] = {kind: {} for kind in KINDS}
        self._by_key: Dict[str, Dict[str, Set[int]]] = {kind: {} for kind in KINDS}
        for kind, found in (items or {}).items():
            for dbid, keys in found.items():
                self.put(kind, dbid, keys)

    def put(self, kind: str, dbid: int, keys: Iterable[str]) -> None:
        self.drop(kind, dbid)
        keys = list(keys)
        self.items[kind][dbid] = keys
        for key in keys:
            self._by_key[kind].setdefault(key, set()).add(dbid)

    def drop(self, kind: str, dbid: int) -> None:
        for key in self.items[kind].pop(dbid, ()):
            found = self._by_key[kind].get(key)
            if found is not None:
                found.discard(dbid)
                if not found:
                    del self._by_key[kind][key]

    def find(self, kind: str, keys: Iterable[str]) -> Set[int]:
        found: Set[int] = set()
        for key in keys:
            found |= self._by_key[kind].get(key, set())
        return found

    def count(self, kind: str) -> int:
        return len(self.items[kind])


class LibraryIndex:
    """The index file and the library changes Kodi announced since it was saved. The service feeds
    `notification` on Kodi's thread; the sync thread loads, reads, rebuilds and saves."""

    def __init__(self, folder: str):
        self.path = os.path.join(folder, INDEX_FILE)
        self._lock = threading.Lock()  # the changes: held for a moment, so Kodi's thread never waits long
        self._changes: Dict[Tuple[str, int], bool] = {}  # (kind, Kodi id) -> True: read it again, False: gone
        self._file_lock = threading.Lock()
        self._closed = False  # Kodi quits: the file is no longer written

    # -- Kodi's thread: no I/O -------------------------------------------------------------------
    def notification(self, method: str, data) -> None:
        """VideoLibrary.OnUpdate / OnRemove, their data already parsed (a dict)."""
        if not isinstance(data, dict):
            return
        if method == "VideoLibrary.OnUpdate":
            if "playcount" in data:
                return  # a watched mark: ids unchanged (the sync's own writes come this way, by the thousand)
            item, again = data.get("item"), True
        elif method == "VideoLibrary.OnRemove":
            item, again = data, False
        else:
            return
        if not isinstance(item, dict) or item.get("type") not in KINDS:
            return
        try:
            key = (item["type"], int(item["id"]))
        except (KeyError, TypeError, ValueError):
            return
        with self._lock:
            self._changes[key] = again

    def quitting(self) -> None:
        """Kodi quits: changes heard but not applied yet would be lost with this interpreter, so the file
        goes too (the next sync reads the whole library); a sync still running saves nothing after this."""
        with self._file_lock:
            self._closed = True
            with self._lock:
                pending = bool(self._changes)
            if pending:
                self._remove()

    # -- the sync thread -------------------------------------------------------------------------
    def take_changes(self) -> Dict[Tuple[str, int], bool]:
        with self._lock:
            changes, self._changes = self._changes, {}
        return changes

    def load(self) -> Optional[Entries]:
        data = read_json(self.path)
        if data.get("version") != VERSION or not all(isinstance(data.get(kind), dict) for kind in KINDS):
            return None
        try:
            return Entries({kind: {int(dbid): [str(key) for key in keys] for dbid, keys in data[kind].items()}
                            for kind in KINDS})
        except (TypeError, ValueError):
            return None

    def save(self, entries: Entries) -> None:
        data = {"version": VERSION}
        data.update({kind: {str(dbid): keys for dbid, keys in entries.items[kind].items()} for kind in KINDS})
        with self._file_lock:
            if not self._closed:
                write_json(self.path, data)

    def reading_all(self) -> None:
        """A read of the whole library starts: it sees every change announced so far. Until it is saved
        whole there is no index (a read cut short must not leave an old one that misses those changes)."""
        self.take_changes()
        self.discard()

    def discard(self) -> None:
        with self._file_lock:
            self._remove()

    def _remove(self) -> None:
        try:
            os.remove(self.path)
        except OSError:
            pass

