"""Durable queue of watches (an sqlite file in addon_data): add, take a batch, ack, retry later.

A watch is committed here before anything is sent, so a crash, a restart or a dead network
never loses it. The service and a RunScript run in separate interpreters and may open the same
file at once: WAL, a busy timeout and BEGIN IMMEDIATE keep them from stepping on each other.
"""
import json
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Iterable, Iterator, List, Optional, Union

from . import media

SCHEMA_VERSION = 1
DEDUPE_SECONDS = 48 * 3600
BUSY_TIMEOUT_SECONDS = 15.0
KINDS = ("add", "remove")
ISO_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

_COLUMNS = ("id", "kind", "item", "item_key", "watched_at", "rewatch", "rewatch_id", "state",
            "attempts", "next_try", "last_error", "created", "updated")
_SCHEMA = """
CREATE TABLE entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    item TEXT NOT NULL,
    item_key TEXT NOT NULL,
    watched_at TEXT NOT NULL,
    rewatch INTEGER NOT NULL DEFAULT 0,
    rewatch_id TEXT,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_try REAL NOT NULL,
    last_error TEXT,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE INDEX entries_due ON entries (state, next_try);
CREATE INDEX entries_key ON entries (item_key, kind);
"""


@dataclass
class Entry:
    id: int
    kind: str
    item: media.Media
    watched_at: str
    rewatch: bool
    rewatch_id: Optional[str]
    attempts: int


class _Unusable(Exception):
    """The file opens but is not our queue (failed integrity check or another schema)."""


def iso_utc(timestamp: float) -> str:
    return time.strftime(ISO_FORMAT, time.gmtime(int(timestamp)))


def parse_time(value: Union[float, int, str]) -> float:
    """Unix time from a number or an ISO-8601 string; a string without an offset is taken as UTC."""
    if isinstance(value, (int, float)):
        return float(value)
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


class Outbox:
    def __init__(self, path: Union[str, "os.PathLike[str]"], clock: Callable[[], float] = time.time,
                 log: Callable[[str], None] = lambda message: None) -> None:
        self.path = os.fspath(path)
        self._clock = clock
        self._log = log
        # One connection shared by the threads of this process, serialised by the lock.
        self._lock = threading.Lock()
        self._conn = self._open()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> "Outbox":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- writing -------------------------------------------------------------------------

    def add(self, item: media.Media, watched_at: Union[float, str, None] = None, kind: str = "add",
            rewatch: bool = False, rewatch_id: Optional[str] = None) -> Optional[int]:
        """Queue a history add or remove; None when it repeats an add of the last 48 hours."""
        if kind not in KINDS:
            raise ValueError("unknown outbox entry kind: %r" % (kind,))
        now = self._clock()
        stamp = iso_utc(now if watched_at is None else parse_time(watched_at))
        key = item.key()
        with self._write() as conn:
            if kind == "add" and not rewatch and self._is_repeat(conn, key, stamp):
                return None
            cursor = conn.execute(
                "INSERT INTO entries (kind, item, item_key, watched_at, rewatch, rewatch_id, next_try, created,"
                " updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (kind, json.dumps(item.to_dict(), sort_keys=True), key, stamp, int(bool(rewatch)), rewatch_id,
                 now, now, now))
            return cursor.lastrowid

    def mark_sent(self, ids: Iterable[int]) -> None:
        self._set_state(ids, "sent")

    def mark_not_found(self, ids: Iterable[int]) -> None:
        self._set_state(ids, "not_found")

    def defer(self, ids: Iterable[int], until: float, error: str) -> None:
        """Leave the entries pending but not due before `until`, remembering why."""
        now = self._clock()
        with self._write() as conn:
            conn.executemany(
                "UPDATE entries SET attempts = attempts + 1, next_try = ?, last_error = ?, updated = ?"
                " WHERE id = ? AND state = 'pending'",
                [(until, error, now, entry_id) for entry_id in ids])

    def retry_now(self) -> None:
        now = self._clock()
        with self._write() as conn:
            conn.execute("UPDATE entries SET next_try = ? WHERE state = 'pending' AND next_try > ?", (now, now))

    def discard_not_found(self) -> int:
        with self._write() as conn:
            return conn.execute("DELETE FROM entries WHERE state = 'not_found'").rowcount

    def prune(self, older_than_days: float = 30) -> int:
        """Delete entries sent more than `older_than_days` ago, except items added in the last 48 hours."""
        now = self._clock()
        with self._write() as conn:
            return conn.execute(
                "DELETE FROM entries WHERE state = 'sent' AND updated < ? AND item_key NOT IN"
                " (SELECT item_key FROM entries WHERE kind = 'add' AND watched_at >= ?)",
                (now - older_than_days * 86400, iso_utc(now - DEDUPE_SECONDS))).rowcount

    # --- reading -------------------------------------------------------------------------

    def take_batch(self, limit: int = 100) -> List[Entry]:
        """Due pending entries of the oldest due entry's group, oldest first.

        A group is (kind, rewatch, rewatch_id): one request body never mixes adds with removes
        or a rewatch session with ordinary watches. An entry waits when an older entry of another
        group concerns the same title, so an add, a remove and an add again reach Simkl in order.
        """
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, kind, item, watched_at, rewatch, rewatch_id, attempts, item_key FROM entries"
                " WHERE state = 'pending' AND next_try <= ? ORDER BY id", (self._clock(),)).fetchall()
        batch, held_back = [], set()
        for row in rows:
            if (row[1], row[4], row[5]) != (rows[0][1], rows[0][4], rows[0][5]):
                held_back.add(row[7])
            elif row[7] not in held_back:
                batch.append(row)
                if len(batch) == limit:
                    break
        rows = batch
        return [Entry(row[0], row[1], media.from_dict(json.loads(row[2])), row[3], bool(row[4]), row[5], row[6])
                for row in rows]

    def last_watched(self, key: str) -> Optional[float]:
        """Unix time of the newest add of this item, in any state."""
        row = self._read_one("SELECT MAX(watched_at) FROM entries WHERE item_key = ? AND kind = 'add'", (key,))
        return parse_time(row[0]) if row[0] else None

    def rewatch_count(self, key: str) -> int:
        """How many rewatches of this item were queued here (Simkl keeps at most 50 per item)."""
        row = self._read_one("SELECT COUNT(*) FROM entries WHERE item_key = ? AND kind = 'add' AND rewatch = 1",
                             (key,))
        return int(row[0]) if row else 0

    def counts(self) -> dict:
        found = {"pending": 0, "sent": 0, "not_found": 0}
        with self._lock:
            for state, count in self._conn.execute("SELECT state, COUNT(*) FROM entries GROUP BY state"):
                found[state] = count
        return found

    def next_due(self) -> Optional[float]:
        return self._read_one("SELECT MIN(next_try) FROM entries WHERE state = 'pending'")[0]

    def not_found_items(self, limit: int = 50) -> List[str]:
        """Labels of the entries Simkl did not recognise, newest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT item FROM entries WHERE state = 'not_found' ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [media.from_dict(json.loads(row[0])).label() for row in rows]

    def last_error(self) -> Optional[str]:
        """Why the most recently deferred entry that is still pending could not be sent."""
        row = self._read_one("SELECT last_error FROM entries WHERE state = 'pending' AND last_error IS NOT NULL"
                             " ORDER BY updated DESC, id DESC LIMIT 1")
        return row[0] if row else None

    # --- internals -----------------------------------------------------------------------

    @staticmethod
    def _is_repeat(conn: sqlite3.Connection, key: str, stamp: str) -> bool:
        """An add within 48 hours of an earlier add of the same item, with no remove queued since."""
        moment = parse_time(stamp)
        previous = conn.execute(
            "SELECT MAX(id) FROM entries WHERE item_key = ? AND kind = 'add' AND watched_at > ? AND watched_at < ?",
            (key, iso_utc(moment - DEDUPE_SECONDS), iso_utc(moment + DEDUPE_SECONDS))).fetchone()[0]
        if previous is None:
            return False
        removed = conn.execute("SELECT 1 FROM entries WHERE item_key = ? AND kind = 'remove' AND id > ? LIMIT 1",
                               (key, previous)).fetchone()
        return removed is None

    def _set_state(self, ids: Iterable[int], state: str) -> None:
        now = self._clock()
        with self._write() as conn:
            conn.executemany("UPDATE entries SET state = ?, updated = ? WHERE id = ?",
                             [(state, now, entry_id) for entry_id in ids])

    def _read_one(self, sql: str, params: tuple = ()) -> Optional[tuple]:
        with self._lock:
            return self._conn.execute(sql, params).fetchone()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One transaction holding the file's write lock from its first read, committed on exit."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise

    def _open(self) -> sqlite3.Connection:
        folder = os.path.dirname(self.path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        conn = self._connect()
        try:
            self._prepare(conn)
            return conn
        except sqlite3.OperationalError:
            # Locked, no permission, disk full: the file may be fine, so never move it aside for this.
            conn.close()
            raise
        except (sqlite3.DatabaseError, _Unusable) as exc:
            conn.close()
            aside = self._move_aside()
            self._log("Outbox file %s is unreadable (%s); moved it to %s and started an empty queue"
                      % (self.path, exc, aside))
        conn = self._connect()
        self._prepare(conn)
        return conn

    def _connect(self) -> sqlite3.Connection:
        # Autocommit mode: transactions are explicit (BEGIN IMMEDIATE in _write).
        return sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None,
                               check_same_thread=False)

    @staticmethod
    def _prepare(conn: sqlite3.Connection) -> None:
        # Checks come before any pragma that writes, so a file that is not ours is moved aside untouched.
        problems = [row[0] for row in conn.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise _Unusable("integrity check: %s" % "; ".join(problems[:3]))
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            if version == 0 and not tables:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute("PRAGMA user_version = %d" % SCHEMA_VERSION)
            elif version != SCHEMA_VERSION:
                raise _Unusable("schema version %d, expected %d" % (version, SCHEMA_VERSION))
            else:
                columns = tuple(row[1] for row in conn.execute("PRAGMA table_info(entries)"))
                if columns != _COLUMNS:
                    raise _Unusable("unexpected entries table")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode = WAL")
        # FULL: a committed watch survives a power cut, not only a crash.
        conn.execute("PRAGMA synchronous = FULL")

    def _move_aside(self) -> str:
        aside = "%s.corrupt-%d" % (self.path, int(self._clock()))
        suffix = 1
        while os.path.exists(aside):
            aside = "%s.corrupt-%d-%d" % (self.path, int(self._clock()), suffix)
            suffix += 1
        # The journal files go with it, or SQLite would replay a stale WAL into the fresh file.
        for extra in ("", "-wal", "-shm", "-journal"):
            if os.path.exists(self.path + extra):
                os.replace(self.path + extra, aside + extra)
        return aside
