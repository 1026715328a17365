"""Durable queue of watches (an sqlite file in addon_data): add, take a batch, ack, retry later.

A watch is committed here the moment playback is judged watched, before anything that can block
(ids are resolved afterwards), so a crash, a quit, a restart or a dead network never loses it.
The service and a RunScript run in separate interpreters and may open the same file at once:
WAL, a busy timeout and BEGIN IMMEDIATE keep them from stepping on each other.

An entry's life: unresolved (what Kodi reported; ids not known yet) -> pending (due at next_try)
-> sent. Or it needs the user's attention: unidentified (no title could be found), not_found
(Simkl does not know the title) or refused (Simkl refused the entry, with its reason); from there
only the user's Retry or Discard moves it. Nothing leaves without Simkl's acknowledgement or the
user's decision. A pending entry whose batch failed again and again may travel in a smaller part
(the parts table; the sender decides its size).

Every entry belongs to the Simkl account it was made for (the owners table), or to nobody yet when it was
made while logged out: the `account` the outbox is given names the login of the moment. The outbox shows
and sends only that account's entries and nobody's (which the next login claims); another account's wait
until that account logs in again, or until the user sends them to the account logged in (hand_over) or
discards them (discard_for).

A rating (add_rating) is owned the same way, but its owners row names the account with a prefix ("rating:id:12345",
"rating:" while logged out), so that the add-on's earlier versions, which know no ratings and would send any entry
as a watch, take it for another account's entry and never send it (a trigger keeps their hand-over from making it
theirs); this version reads the prefix away.

Times: watched_at is the wall-clock moment of the watch; created, updated and next_try follow the
clock the outbox is given, which the service makes steady (wall time at start plus monotonic time
since), so a wall-clock jump neither stretches nor shortens a wait.
"""
import json
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Dict, Iterable, Iterator, List, Optional, Set, Tuple, Union

from .. import media
from ..times import iso_utc, parse_time

if TYPE_CHECKING:
    from ..simkl.auth import Owner

SCHEMA_VERSION = 2
DEDUPE_SECONDS = 48 * 3600
BUSY_TIMEOUT_SECONDS = 15.0
KINDS = ("add", "remove")  # a watch or its removal (add, add_unresolved)
RATE, UNRATE = "rate", "unrate"  # a rating 1-10 of a movie or a show, or its removal (add_rating)
RATING_KINDS = (RATE, UNRATE)
RATING_KEY_PREFIX = "rating:"  # a rating's item_key: a title's ratings keep their order, apart from its watches
# A wait further ahead than this was written before the wall clock went back: due now instead.
LONGEST_WAIT = 24 * 3600

UNRESOLVED, PENDING, SENT = "unresolved", "pending", "sent"
UNIDENTIFIED, NOT_FOUND, REFUSED = "unidentified", "not_found", "refused"
ATTENTION = (UNIDENTIFIED, NOT_FOUND, REFUSED)  # kept until the user retries or discards them
UNRESOLVED_KEY = "unresolved"  # the item_key of an entry whose title is not known yet
# next_try of an entry that is due at once. Not "now": a script (another interpreter) reads the wall
# clock, the service a steady one, and a new entry must not wait for the two to agree.
DUE_NOW = 0.0
STUCK_AFTER = 3  # failed tries after which a pending entry is shown to the user as stuck
_NEEDS_USER = "(state IN (?, ?, ?) OR (state = ? AND attempts >= ?))"
_NEEDS_USER_PARAMS = ATTENTION + (PENDING, STUCK_AFTER)
# Ids bound in one statement: SQLite before 3.32 (which some Kodi platforms embed) allows 999 parameters.
ID_CHUNK = 500

_COLUMNS = ("id", "kind", "item", "item_key", "watched_at", "rewatch", "rewatch_id", "state",
            "attempts", "next_try", "last_error", "created", "updated", "detail")
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
    updated REAL NOT NULL,
    detail TEXT
);
CREATE INDEX entries_due ON entries (state, next_try);
CREATE INDEX entries_key ON entries (item_key, kind);
"""
# A pending entry whose batch failed again and again travels in a smaller part: at most `size` entries,
# since it had `since` failed tries (a Retry in Needs attention, which counts from 0 again, ends that).
# A table of its own, beside the entries: the add-on's earlier versions still open the file.
_PARTS = "CREATE TABLE IF NOT EXISTS parts (id INTEGER PRIMARY KEY, size INTEGER NOT NULL, since INTEGER NOT NULL)"
_PART_OF = "LEFT JOIN parts ON parts.id = entries.id AND parts.since <= entries.attempts"
# Whose an entry is: a row per entry made while an account was logged in (none: made while logged out, or by
# a version before accounts were told apart). A table of its own too, for the same reason as parts.
_OWNERS = ("CREATE TABLE IF NOT EXISTS owners (id INTEGER PRIMARY KEY, account TEXT NOT NULL, name TEXT NOT NULL)",
           "CREATE INDEX IF NOT EXISTS owners_account ON owners (account)")
# A rating's owner: RATING_OWNER + the account's key ("" while logged out). An earlier version sees another
# account's entry; its hand-over of that account's entries to the one logged in leaves a rating's row alone.
RATING_OWNER = "rating:"
_RATING_OWNED = "substr(account, 1, %d) = '%s'" % (len(RATING_OWNER), RATING_OWNER)
_RATINGS_STAY_RATINGS = ("CREATE TRIGGER IF NOT EXISTS ratings_stay_ratings BEFORE UPDATE OF account ON owners"
                         " WHEN substr(OLD.account, 1, %d) = '%s' AND substr(NEW.account, 1, %d) != '%s'"
                         " BEGIN SELECT RAISE(IGNORE); END" % ((len(RATING_OWNER), RATING_OWNER) * 2))
# The account an owners row names, a rating's prefix read away ("" for a rating made logged out).
_ACCOUNT_OF = "(CASE WHEN %s THEN substr(account, %d) ELSE account END)" % (_RATING_OWNED, len(RATING_OWNER) + 1)
# The rating (0: removed) of a rate or unrate entry, and the Kodi library item it came from ("movie:12", or NULL).
# A table of its own too, for the same reason as parts.
_RATINGS = "CREATE TABLE IF NOT EXISTS ratings (id INTEGER PRIMARY KEY, rating INTEGER NOT NULL, library TEXT)"
_NOT_SENT = (PENDING, UNRESOLVED) + ATTENTION  # entries not on Simkl yet: what an account leaves waiting


@dataclass
class Entry:
    id: int
    kind: str
    item: media.Media
    watched_at: str
    rewatch: bool
    rewatch_id: Optional[str]
    attempts: int
    part_size: Optional[int] = None  # the most entries it travels with now (see defer); None: a whole batch
    part_tries: Optional[int] = None  # failed tries in parts of that size; None: `attempts`
    rating: Optional[int] = None  # a rate or unrate entry's rating (0 for unrate); None for a watch

    @property
    def tries_at_size(self) -> int:
        return self.attempts if self.part_tries is None else self.part_tries


@dataclass
class Unresolved:
    """A watch (or a library mark) whose title is not known yet: `report` is what Kodi said."""
    id: int
    kind: str
    report: dict
    watched_at: str
    attempts: int
    account: Optional[str] = None  # the key of the account it was made for; None: made while logged out


@dataclass
class Waiting:
    """A watch (or mark) on its way: pending, or its title still being looked up; or a rating on its way
    (`rating` 1-10, 0 for its removal; `watched_at` the moment of the choice)."""
    id: int
    state: str
    label: str
    watched_at: str
    rating: Optional[int] = None  # a rating entry's rating; None for a watch


@dataclass
class Kept:
    """Entries not sent yet of an account other than the one logged in: they wait for it."""
    account: str
    name: str
    count: int
    ratings: int = 0  # how many of them are ratings (or their removals), the rest watches and marks


@dataclass
class Attention:
    """An entry waiting for the user's Retry or Discard."""
    id: int
    state: str
    label: str
    watched_at: str
    reason: str
    rating: Optional[int] = None  # a rating entry's rating (0: its removal); None for a watch


class _Unusable(Exception):
    """The file opens but is not our queue (failed integrity check or another schema)."""


def _label(state: str, data: dict) -> str:
    """What the user sees for an entry: the title, or what Kodi reported while it is not known."""
    if state in (UNRESOLVED, UNIDENTIFIED):
        return data.get("title") or data.get("label") or "?"
    return media.from_dict(data).label()


def _chunks(ids: Iterable[int]) -> Iterator[Tuple[int, ...]]:
    """The ids in tuples of at most ID_CHUNK: one statement never binds more than SQLite allows."""
    ids = tuple(int(i) for i in ids)
    for start in range(0, len(ids), ID_CHUNK):
        yield ids[start:start + ID_CHUNK]


def _marks(chunk: Tuple[int, ...]) -> str:
    return ",".join("?" * len(chunk))


def _key_of(owner: Optional["Owner"]) -> Optional[str]:
    return None if owner is None else owner.key


def _own(conn: sqlite3.Connection, ids: List[int], owner: Optional["Owner"]) -> None:
    """The entries just made belong to `owner` (None: to nobody yet)."""
    if owner is not None:
        conn.executemany("INSERT INTO owners (id, account, name) VALUES (?, ?, ?)",
                         [(entry_id, owner.key, owner.name) for entry_id in ids])


def _own_rating(conn: sqlite3.Connection, entry_id: int, owner: Optional["Owner"]) -> None:
    """The rating just made belongs to `owner` (None: to nobody yet), under its prefix (see RATING_OWNER)."""
    conn.execute("INSERT INTO owners (id, account, name) VALUES (?, ?, ?)",
                 (entry_id, RATING_OWNER + (owner.key if owner else ""), owner.name if owner else ""))


def _owner_key(conn: sqlite3.Connection, entry_id: int) -> Optional[str]:
    row = conn.execute("SELECT " + _ACCOUNT_OF + " FROM owners WHERE id = ?", (entry_id,)).fetchone()
    return row[0] or None if row else None


def _mine(account: Optional[str], table: str = "entries") -> Tuple[str, tuple]:
    """SQL on `table` (entries or an alias of it) for the entries `account` may see and send: its own and
    nobody's, never another account's; with no account (logged out), nobody's only."""
    if account is None:
        return "%s.id NOT IN (SELECT id FROM owners WHERE account != ?)" % table, (RATING_OWNER,)
    return ("%s.id NOT IN (SELECT id FROM owners WHERE account NOT IN (?, ?, ?))" % table,
            (account, RATING_OWNER + account, RATING_OWNER))


class Outbox:
    def __init__(self, path: Union[str, "os.PathLike[str]"], clock: Callable[[], float] = time.time,
                 log: Callable[[str], None] = lambda message: None,
                 account: Callable[[], Optional["Owner"]] = lambda: None) -> None:
        """account(): the account logged in now (None: logged out), read at each step: a new entry is
        its, and what the outbox lists, counts and hands the sender is its and nobody's."""
        self.path = os.fspath(path)
        self._clock = clock
        self._log = log
        self._account = account
        # One connection shared by the threads of this process, serialised by the lock.
        self._lock = threading.Lock()
        self._conn = self._open()
        now = self._clock()
        with self._write() as conn:
            conn.execute("UPDATE entries SET next_try = ? WHERE next_try > ?", (now, now + LONGEST_WAIT))

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
        key, owner = item.key(), self._account()
        with self._write() as conn:
            if kind == "add" and not rewatch and self._is_repeat(conn, key, stamp, _key_of(owner)):
                return None
            cursor = conn.execute(
                "INSERT INTO entries (kind, item, item_key, watched_at, rewatch, rewatch_id, next_try, created,"
                " updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (kind, json.dumps(item.to_dict(), sort_keys=True), key, stamp, int(bool(rewatch)), rewatch_id,
                 DUE_NOW, now, now))
            _own(conn, [cursor.lastrowid], owner)
            return cursor.lastrowid

    def add_many(self, items: Iterable[Tuple[media.Media, Union[float, str]]]) -> int:
        """Queue many history adds in one transaction (an import); repeats of the last 48 hours are
        left out. Returns how many were queued."""
        now, owner = self._clock(), self._account()
        queued = []
        with self._write() as conn:
            for item, watched_at in items:
                key, stamp = item.key(), iso_utc(parse_time(watched_at))
                if self._is_repeat(conn, key, stamp, _key_of(owner)):
                    continue
                queued.append(conn.execute(
                    "INSERT INTO entries (kind, item, item_key, watched_at, next_try, created, updated)"
                    " VALUES ('add', ?, ?, ?, ?, ?, ?)",
                    (json.dumps(item.to_dict(), sort_keys=True), key, stamp, DUE_NOW, now, now)).lastrowid)
            _own(conn, queued, owner)
        return len(queued)

    def add_rating(self, item: media.Media, rating: int, rated_at: Union[float, str, None] = None,
                   library: Optional[str] = None) -> int:
        """Queue the user's rating of a movie or a show (1-10), or its removal (0), committed at once: sent
        after the title's earlier ratings, as the watches are. rated_at: the moment of the choice (default
        now); library: the Kodi library item it came from ("movie:12", "tvshow:3"), see ratings_waiting."""
        if isinstance(rating, bool) or not isinstance(rating, int) or not 0 <= rating <= 10:
            raise ValueError("a rating is 1-10, or 0 to remove it: %r" % (rating,))
        if not isinstance(item, (media.Movie, media.Show)):
            raise ValueError("Simkl rates movies and shows only: %r" % (item,))
        now, owner = self._clock(), self._account()
        stamp = iso_utc(now if rated_at is None else parse_time(rated_at))
        with self._write() as conn:
            entry_id = conn.execute(
                "INSERT INTO entries (kind, item, item_key, watched_at, next_try, created, updated)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (RATE if rating else UNRATE, json.dumps(item.to_dict(), sort_keys=True),
                 RATING_KEY_PREFIX + item.key(), stamp, DUE_NOW, now, now)).lastrowid
            conn.execute("INSERT INTO ratings (id, rating, library) VALUES (?, ?, ?)", (entry_id, rating, library))
            _own_rating(conn, entry_id, owner)
            return entry_id

    def ratings_waiting(self) -> Set[str]:
        """The library items ("movie:12") whose rating (or its removal), queued by this account or while
        logged out, is not on Simkl yet: waiting, or under Needs attention."""
        mine, params = self._mine()
        with self._lock:
            rows = self._conn.execute(
                "SELECT DISTINCT ratings.library FROM entries JOIN ratings ON ratings.id = entries.id"
                " WHERE ratings.library IS NOT NULL AND state IN (%s) AND " % _marks(_NOT_SENT) + mine,
                _NOT_SENT + params).fetchall()
        return {row[0] for row in rows}

    def add_unresolved(self, report: dict, watched_at: Union[float, str], kind: str = "add") -> int:
        """Queue a finished watch (or a library mark) as Kodi reported it; its title is found later
        (see `resolved`)."""
        if kind not in KINDS:
            raise ValueError("unknown outbox entry kind: %r" % (kind,))
        now, owner = self._clock(), self._account()
        with self._write() as conn:
            entry_id = conn.execute(
                "INSERT INTO entries (kind, item, item_key, watched_at, state, next_try, created, updated)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (kind, json.dumps(report, sort_keys=True), UNRESOLVED_KEY, iso_utc(parse_time(watched_at)),
                 UNRESOLVED, DUE_NOW, now, now)).lastrowid
            _own(conn, [entry_id], owner)
            return entry_id

    def unresolved(self, limit: int = 50) -> List[Unresolved]:
        """Due unresolved entries, oldest first, whoever's they are: titles are found in the order the watches
        were made, so that of two watches of a title within 48 hours the first is kept, and an unmark made
        between them counts, also when one waited for its account to log in again (sending stays the
        account's: take_batch)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT entries.id, kind, item, watched_at, attempts, owners.account FROM entries"
                " LEFT JOIN owners ON owners.id = entries.id WHERE state = ? AND next_try <= ?"
                " ORDER BY entries.id LIMIT ?", (UNRESOLVED, self._clock(), limit)).fetchall()
        return [Unresolved(row[0], row[1], json.loads(row[2]), row[3], row[4], row[5]) for row in rows]

    def resolved(self, entry_id: int, item: media.Media, rewatch: bool = False,
                 rewatch_id: Optional[str] = None, session_ids: Tuple[str, ...] = ()) -> bool:
        """The unresolved watch is `item`: pending now. False (and the entry gone) when it repeats an
        add of the last 48 hours; an episode of a rewatch session (rewatch_id) is checked against the
        adds of that session, which `session_ids` name (its pinned id and its stand-in)."""
        key = item.key()
        with self._write() as conn:
            row = conn.execute("SELECT watched_at, kind FROM entries WHERE id = ? AND state = ?",
                               (entry_id, UNRESOLVED)).fetchone()
            if row is None:
                return False
            owner = _owner_key(conn, entry_id)
            if row[1] == "add" and self._is_repeat(conn, key, row[0], owner, session_ids if rewatch else None):
                conn.execute("DELETE FROM entries WHERE id = ?", (entry_id,))
                return False
            now = self._clock()
            conn.execute("UPDATE entries SET item = ?, item_key = ?, rewatch = ?, rewatch_id = ?, state = ?,"
                         " attempts = 0, next_try = ?, last_error = NULL, detail = NULL, updated = ? WHERE id = ?",
                         (json.dumps(item.to_dict(), sort_keys=True), key, int(bool(rewatch)), rewatch_id, PENDING,
                          DUE_NOW, now, entry_id))
            return True

    def unidentified(self, entry_id: int, reason: str) -> None:
        """No title could be found for the unresolved watch: kept for the user to see."""
        self._set_state([entry_id], UNIDENTIFIED, reason)

    def mark_sent(self, ids: Iterable[int]) -> None:
        self._set_state(ids, SENT)

    def scrobbled(self, entry_id: int, item: media.Media) -> bool:
        """Simkl wrote this watch into its history itself (it took the live stop): the entry is sent and
        is never posted. One still unresolved gets its title now, under the same 48-hour repeat rule as
        `resolved` (a repeat is dropped). False when nothing was recorded: the entry is gone, or it is a
        rewatch, which only /sync/history can carry."""
        key = item.key()
        with self._write() as conn:
            row = conn.execute("SELECT state, kind, watched_at, rewatch FROM entries WHERE id = ?",
                               (entry_id,)).fetchone()
            if row is None or row[1] != "add" or row[3] or row[0] not in (UNRESOLVED, PENDING):
                return False
            now = self._clock()
            if row[0] == UNRESOLVED:
                if self._is_repeat(conn, key, row[2], _owner_key(conn, entry_id)):
                    conn.execute("DELETE FROM entries WHERE id = ?", (entry_id,))
                    return False
                conn.execute("UPDATE entries SET item = ?, item_key = ?, state = ?, last_error = NULL, updated = ?"
                             " WHERE id = ?", (json.dumps(item.to_dict(), sort_keys=True), key, SENT, now, entry_id))
            else:
                conn.execute("UPDATE entries SET state = ?, updated = ? WHERE id = ?", (SENT, now, entry_id))
            return True

    def record(self, states: Dict[Tuple[str, Optional[str]], List[int]],
               rewatch_ids: Optional[Dict[int, str]] = None) -> None:
        """Simkl's answer to one request, in one transaction: {(state, detail): ids}, and the
        rewatch_id Simkl gave each session start (kept with it, so a crash cannot lose the pin)."""
        now = self._clock()
        with self._write() as conn:
            for (state, detail), ids in states.items():
                conn.executemany("UPDATE entries SET state = ?, detail = COALESCE(?, detail), updated = ? WHERE id = ?",
                                 [(state, detail, now, entry_id) for entry_id in ids])
            conn.executemany("UPDATE entries SET rewatch_id = ? WHERE id = ?",
                             [(rewatch_id, entry_id) for entry_id, rewatch_id in (rewatch_ids or {}).items()])

    def waiting_before(self, entry_id: int, key: str) -> bool:
        """Is anything committed before this entry possibly still on its way for the same title: a
        pending entry of it, or an entry whose title is not known yet?"""
        mine, params = self._mine()
        return self._read_one("SELECT 1 FROM entries WHERE id < ? AND ((item_key = ? AND state = ?) OR state = ?)"
                              " AND " + mine + " LIMIT 1", (entry_id, key, PENDING, UNRESOLVED) + params) is not None

    def waiting(self, key: str) -> bool:
        """Is an entry of this title still on its way (pending or being looked up)?"""
        mine, params = self._mine()
        return self._read_one("SELECT 1 FROM entries WHERE item_key = ? AND state = ? AND " + mine + " LIMIT 1",
                              (key, PENDING) + params) is not None

    def session_start_id(self, show_key: str) -> Optional[int]:
        """The entry that started the show's latest rewatch session: what was committed before it is
        not part of that session (entry ids follow the order of commits, whatever the clocks say)."""
        mine, params = self._mine()
        return self._read_one("SELECT MAX(id) FROM entries WHERE item_key = ? AND kind = 'add' AND rewatch = 1"
                              " AND " + mine, (show_key,) + params)[0]

    def session_pins(self) -> Dict[str, str]:
        """{show key: rewatch_id} of the rewatch sessions Simkl started for a sent show entry."""
        mine, params = self._mine()
        with self._lock:
            rows = self._conn.execute(
                "SELECT item_key, rewatch_id FROM entries WHERE state = ? AND rewatch = 1 AND item_key LIKE 'show:%'"
                " AND rewatch_id IS NOT NULL AND " + mine + " ORDER BY id", (SENT,) + params).fetchall()
        return {key: rewatch_id for key, rewatch_id in rows}

    def mark_not_found(self, ids: Iterable[int]) -> None:
        self._set_state(ids, NOT_FOUND)

    def refuse(self, ids: Iterable[int], reason: str) -> None:
        """Simkl refused these entries for what they say: kept, with Simkl's reason, for the user."""
        self._set_state(ids, REFUSED, reason)

    def attention(self, limit: int = 50) -> List[Attention]:
        """Entries the user may retry or discard, newest first: those that need the user, and pending
        ones that failed STUCK_AFTER times or more (their reason is the last error's code)."""
        mine, params = self._mine()
        with self._lock:
            rows = self._conn.execute(
                "SELECT entries.id, state, item, watched_at, detail, last_error, ratings.rating FROM entries"
                " LEFT JOIN ratings ON ratings.id = entries.id WHERE " + _NEEDS_USER + " AND " + mine
                + " ORDER BY entries.id DESC LIMIT ?", _NEEDS_USER_PARAMS + params + (limit,)).fetchall()
        found = []
        for entry_id, state, item, watched_at, detail, last_error, rating in rows:
            label = _label(state, json.loads(item))
            reason = (last_error if state == PENDING else detail) or ""
            found.append(Attention(entry_id, state, label, watched_at, reason, rating))
        return found

    def attention_count(self) -> int:
        """How many entries `attention` would list without a limit."""
        mine, params = self._mine()
        return int(self._read_one("SELECT COUNT(*) FROM entries WHERE " + _NEEDS_USER + " AND " + mine,
                                  _NEEDS_USER_PARAMS + params)[0])

    def retry_attention(self, ids: Iterable[int]) -> int:
        """The user's Retry of these entries (those the user was shown; one that no longer needs the user
        is left alone): unidentified watches are looked up again, the others sent again. An entry that a
        newer, delivered change of the same title undid (an unmark after a refused watch, a watch after a
        refused unmark, any newer rating or removal after a refused rating) is dropped instead: sent now, it
        would undo what the user did last."""
        now = self._clock()
        retried = 0
        newer_mine, newer_params = _mine(_key_of(self._account()), "newer")
        with self._write() as conn:
            for chunk in _chunks(ids):
                where, params = _NEEDS_USER + " AND id IN (%s)" % _marks(chunk), _NEEDS_USER_PARAMS + chunk
                conn.execute("DELETE FROM entries WHERE " + where + " AND EXISTS (SELECT 1 FROM entries AS newer"
                             " WHERE newer.item_key = entries.item_key AND newer.id > entries.id"
                             " AND (newer.kind != entries.kind OR entries.kind IN (?, ?)) AND newer.state = ? AND "
                             + newer_mine + ")", params + RATING_KINDS + (SENT,) + newer_params)
                retried += conn.execute(
                    "UPDATE entries SET state = CASE state WHEN ? THEN ? ELSE ? END, attempts = 0, next_try = ?,"
                    " last_error = NULL, updated = ? WHERE " + where,
                    (UNIDENTIFIED, UNRESOLVED, PENDING, DUE_NOW, now) + params).rowcount
                conn.execute("DELETE FROM parts WHERE id IN (%s)" % _marks(chunk), chunk)  # whole batches again
        return retried

    def discard_attention(self, ids: Iterable[int]) -> int:
        """The user's Discard: these entries (those the user confirmed) are dropped for good, if they still
        need the user."""
        discarded = 0
        with self._write() as conn:
            for chunk in _chunks(ids):
                discarded += conn.execute("DELETE FROM entries WHERE " + _NEEDS_USER + " AND id IN (%s)"
                                          % _marks(chunk), _NEEDS_USER_PARAMS + chunk).rowcount
        return discarded

    def defer(self, ids: Iterable[int], until: float, error: str, attempt: bool = True,
              part_size: Optional[int] = None) -> None:
        """Leave the entries pending but not due before `until`, remembering why; `attempt` counts it as
        a failed try (waiting for something else, e.g. a rewatch session's start, is none). `part_size`:
        from now on they travel in parts of at most that many entries (take_batch), and their tries at
        that size count from here."""
        ids = [int(entry_id) for entry_id in ids]
        now = self._clock()
        with self._write() as conn:
            conn.executemany(
                "UPDATE entries SET attempts = attempts + ?, next_try = ?, last_error = ?, updated = ?"
                " WHERE id = ? AND state = 'pending'",
                [(int(bool(attempt)), until, error, now, entry_id) for entry_id in ids])
            if part_size is not None:
                conn.executemany("INSERT OR REPLACE INTO parts (id, size, since) SELECT id, ?, attempts FROM entries"
                                 " WHERE id = ? AND state = 'pending'",
                                 [(max(1, int(part_size)), entry_id) for entry_id in ids])

    def retry_now(self) -> None:
        mine, params = self._mine()
        with self._write() as conn:
            conn.execute("UPDATE entries SET next_try = ? WHERE state IN (?, ?) AND next_try > ? AND " + mine,
                         (DUE_NOW, PENDING, UNRESOLVED, DUE_NOW) + params)

    def prune(self, older_than_days: float = 30) -> int:
        """Delete entries sent more than `older_than_days` ago, except items added in the last 48 hours."""
        now = self._clock()
        with self._write() as conn:
            conn.execute("DELETE FROM parts WHERE id NOT IN (SELECT id FROM entries WHERE state = 'pending')")
            conn.execute("DELETE FROM owners WHERE id NOT IN (SELECT id FROM entries)")
            conn.execute("DELETE FROM ratings WHERE id NOT IN (SELECT id FROM entries)")
            return conn.execute(
                "DELETE FROM entries WHERE state = 'sent' AND updated < ? AND item_key NOT IN"
                " (SELECT item_key FROM entries WHERE kind = 'add' AND watched_at >= ?)",
                (now - older_than_days * 86400, iso_utc(now - DEDUPE_SECONDS))).rowcount

    # --- accounts ------------------------------------------------------------------------

    def claim(self, owner: "Owner") -> int:
        """`owner` logged in: what was made while nobody was logged in (or by a version that did not tell
        accounts apart) is its now, and so is what it made while its login was known by its name only.
        Returns how many entries became its."""
        with self._write() as conn:
            legacy = "name:" + owner.name
            if owner.key != legacy:
                conn.execute("UPDATE owners SET account = ? WHERE account = ?", (owner.key, legacy))
                conn.execute("UPDATE owners SET account = ? WHERE account = ?",
                             (RATING_OWNER + owner.key, RATING_OWNER + legacy))
            ratings = conn.execute("UPDATE owners SET account = ?, name = ? WHERE account = ?",
                                   (RATING_OWNER + owner.key, owner.name, RATING_OWNER)).rowcount
            return ratings + conn.execute("INSERT INTO owners (id, account, name) SELECT id, ?, ? FROM entries"
                                          " WHERE id NOT IN (SELECT id FROM owners)",
                                          (owner.key, owner.name)).rowcount

    def kept_for_others(self) -> List[Kept]:
        """Entries not sent yet of every account but the one logged in, an account at a time (the one with
        the oldest entry first)."""
        account = _key_of(self._account())
        with self._lock:
            rows = self._conn.execute(
                "SELECT " + _ACCOUNT_OF + " AS whose, MAX(owners.name), COUNT(*),"
                " SUM(entries.kind IN (?, ?)) FROM entries JOIN owners ON owners.id = entries.id"
                " WHERE whose != '' AND whose IS NOT ? AND state IN (%s) GROUP BY whose ORDER BY MIN(entries.id)"
                % _marks(_NOT_SENT), RATING_KINDS + (account,) + _NOT_SENT).fetchall()
        return [Kept(key, name, count, ratings) for key, name, count, ratings in rows]

    def hand_over(self, account: str, owner: "Owner") -> int:
        """The user's choice: `account`'s entries not sent yet are `owner`'s now, due at once (their failed tries
        with the other account forgotten). A rewatch is a
        choice of the account that asked for it: its movies and episodes go as ordinary watches, and the start
        of a show's rewatch session is dropped. Returns how many entries changed hands."""
        now = self._clock()
        theirs = "id IN (SELECT id FROM owners WHERE account IN (?, ?)) AND state IN (%s)" % _marks(_NOT_SENT)
        params = (account, RATING_OWNER + account) + _NOT_SENT
        with self._write() as conn:
            conn.execute("DELETE FROM entries WHERE " + theirs + " AND rewatch = 1 AND item_key LIKE 'show:%'",
                         params)
            conn.execute("UPDATE entries SET rewatch = 0, rewatch_id = NULL, updated = ? WHERE " + theirs
                         + " AND rewatch = 1", (now,) + params)
            # a fresh start with the new account: due now, in whole batches, no failures counted
            conn.execute("DELETE FROM parts WHERE id IN (SELECT id FROM entries WHERE " + theirs + ")", params)
            conn.execute("UPDATE entries SET next_try = ?, attempts = 0, last_error = NULL WHERE " + theirs
                         + " AND state IN (?, ?)", (DUE_NOW,) + params + (PENDING, UNRESOLVED))
            return conn.execute("UPDATE owners SET account = CASE WHEN " + _RATING_OWNED + " THEN ? ELSE ? END,"
                                " name = ? WHERE account IN (?, ?) AND id IN (SELECT id FROM entries WHERE state IN"
                                " (%s))" % _marks(_NOT_SENT), (RATING_OWNER + owner.key, owner.key, owner.name)
                                + params[:2] + _NOT_SENT).rowcount

    def discard_for(self, account: str) -> int:
        """The user's choice: `account`'s entries not sent yet are dropped for good. Returns how many."""
        with self._write() as conn:
            return conn.execute("DELETE FROM entries WHERE id IN (SELECT id FROM owners WHERE account IN (?, ?))"
                                " AND state IN (%s)" % _marks(_NOT_SENT),
                                (account, RATING_OWNER + account) + _NOT_SENT).rowcount

    # --- reading -------------------------------------------------------------------------

    def take_batch(self, limit: int = 100, exclude: Iterable[int] = ()) -> List[Entry]:
        """Due pending entries of one group, one retry count and one part, oldest first.

        A group is (kind, rewatch, rewatch_id): one request body never mixes adds with removes
        or a rewatch session with ordinary watches. The batch is led by the due entry tried the
        fewest times, so new watches never wait behind a batch that keeps failing; it holds no more
        entries than the leader's part size (see defer). An entry waits while an older pending entry
        of the same title is not in this batch (waiting for a retry, or of another group), so an add,
        a remove and an add again reach Simkl in the order they were made, whatever their retries.
        `exclude`: ids that must not be sent now (Simkl took them; recording that is still to do).
        """
        excluded = set(exclude)
        mine, params = self._mine()
        with self._lock:
            rows = self._conn.execute(
                "SELECT entries.id, kind, rewatch, rewatch_id, item_key, next_try, attempts, parts.size, parts.since"
                " FROM entries " + _PART_OF + " WHERE state = ? AND " + mine + " ORDER BY entries.id",
                (PENDING,) + params).fetchall()
        now = self._clock()
        leader = self._leader(rows, now, excluded)
        if leader is None:
            return []
        chosen = self._followers(rows, leader, min(limit, leader[7] or limit), now, excluded)
        if not chosen:
            return []
        return self._entries(chosen)

    @staticmethod
    def _leader(rows: List[tuple], now: float, excluded: set) -> Optional[tuple]:
        """The batch's leader among take_batch's rows: of each title's oldest pending entry, the due one
        tried the fewest times (the oldest of those); None when none is due."""
        oldest_of_title, leader = set(), None
        for row in rows:
            entry_id, key, next_try, attempts = row[0], row[4], row[5], row[6]
            if key in oldest_of_title:
                continue
            oldest_of_title.add(key)
            if next_try <= now and entry_id not in excluded and (leader is None or attempts < leader[6]):
                leader = row
        return leader

    @staticmethod
    def _followers(rows: List[tuple], leader: tuple, limit: int, now: float, excluded: set) -> List[int]:
        """Ids of the due rows of the leader's group, retry count and part, oldest first, up to `limit`; a
        title left out once (not due, or another group) keeps its later entries out too. A title's second
        rating waits for the next batch: one body never rates a title twice."""
        chosen, waiting = [], set()
        for row in rows:
            entry_id, key, next_try = row[0], row[4], row[5]
            if (next_try <= now and entry_id not in excluded and key not in waiting
                    and row[1:4] + row[6:] == leader[1:4] + leader[6:]):
                chosen.append(entry_id)
                if row[1] in RATING_KINDS:
                    waiting.add(key)
                if len(chosen) == limit:
                    break
            else:
                waiting.add(key)
        return chosen

    def _entries(self, ids: List[int]) -> List[Entry]:
        """The entries with these ids, in that order (one gone meanwhile left out)."""
        found = {}
        with self._lock:
            for chunk in _chunks(ids):
                found.update((row[0], row) for row in self._conn.execute(
                    "SELECT entries.id, kind, item, watched_at, rewatch, rewatch_id, attempts, parts.size,"
                    " attempts - parts.since, ratings.rating FROM entries " + _PART_OF
                    + " LEFT JOIN ratings ON ratings.id = entries.id WHERE entries.id IN (%s)"
                    % _marks(chunk), chunk))
        return [Entry(row[0], row[1], media.from_dict(json.loads(row[2])), row[3], bool(row[4]), row[5], row[6],
                      row[7], row[8], row[9])
                for row in (found[entry_id] for entry_id in ids if entry_id in found)]

    def last_watched(self, key: str, library: Optional[Tuple[str, int]] = None) -> Optional[float]:
        """Unix time of the newest add of this item, in any state; with `library` = (media type, library
        id), also a watch of that library item whose title is not looked up yet."""
        mine, params = self._mine()
        times = [self._read_one("SELECT MAX(watched_at) FROM entries WHERE item_key = ? AND kind = 'add' AND " + mine,
                                (key,) + params)[0]]
        if library is not None:
            with self._lock:
                rows = self._conn.execute("SELECT item, watched_at FROM entries WHERE state = ? AND kind = 'add'"
                                          " AND " + mine, (UNRESOLVED,) + params).fetchall()
            for report, watched_at in rows:
                report = json.loads(report)
                if (report.get("media_type"), report.get("dbid")) == tuple(library):
                    times.append(watched_at)
        times = [stamp for stamp in times if stamp]
        return parse_time(max(times)) if times else None

    def rewatch_count(self, key: str) -> int:
        """How many rewatches of this item were queued here (Simkl keeps at most 50 per item)."""
        mine, params = self._mine()
        row = self._read_one("SELECT COUNT(*) FROM entries WHERE item_key = ? AND kind = 'add' AND rewatch = 1"
                             " AND " + mine, (key,) + params)
        return int(row[0]) if row else 0

    def counts(self) -> dict:
        found = {state: 0 for state in (UNRESOLVED, PENDING, SENT) + ATTENTION}
        mine, params = self._mine()
        with self._lock:
            for state, count in self._conn.execute("SELECT state, COUNT(*) FROM entries WHERE " + mine
                                                   + " GROUP BY state", params):
                found[state] = count
        return found

    def next_due(self, exclude: Iterable[int] = ()) -> Optional[float]:
        """When the next pending entry is due, leaving out `exclude` (held entries)."""
        excluded = set(int(i) for i in exclude)
        mine, params = self._mine()
        # The earliest len(excluded) + 1 entries hold one that is not excluded, if there is one.
        with self._lock:
            rows = self._conn.execute("SELECT id, next_try FROM entries WHERE state = ? AND " + mine
                                      + " ORDER BY next_try LIMIT ?", (PENDING,) + params + (len(excluded) + 1,)
                                      ).fetchall()
        return next((next_try for entry_id, next_try in rows if entry_id not in excluded), None)

    def next_unresolved_due(self) -> Optional[float]:
        mine, params = self._mine()
        return self._read_one("SELECT MIN(next_try) FROM entries WHERE state = ? AND " + mine,
                              (UNRESOLVED,) + params)[0]

    def defer_unresolved(self, entry_id: int, until: float, error: str) -> None:
        """Look the watch up again at `until` (the file search could not be asked now)."""
        now = self._clock()
        with self._write() as conn:
            conn.execute("UPDATE entries SET attempts = attempts + 1, next_try = ?, last_error = ?, updated = ?"
                         " WHERE id = ? AND state = ?", (until, error, now, entry_id, UNRESOLVED))

    def last_error(self) -> Optional[str]:
        """Why the most recently deferred entry that is still pending could not be sent."""
        deferral = self.last_deferral()
        return deferral[0] if deferral else None

    def last_deferral(self) -> Optional[Tuple[str, float]]:
        """(why, until when) of the most recently deferred entry that is still pending: after a failure
        the sender holds every batch until then."""
        mine, params = self._mine()
        row = self._read_one("SELECT last_error, next_try FROM entries WHERE state = 'pending'"
                             " AND last_error IS NOT NULL AND " + mine + " ORDER BY updated DESC, id DESC LIMIT 1",
                             params)
        return (row[0], row[1]) if row else None

    def waiting_entries(self, limit: int = 5) -> List[Waiting]:
        """The first `limit` entries on their way (pending, or their title being looked up), oldest first."""
        mine, params = self._mine()
        with self._lock:
            rows = self._conn.execute(
                "SELECT entries.id, state, item, watched_at, ratings.rating FROM entries"
                " LEFT JOIN ratings ON ratings.id = entries.id WHERE state IN (?, ?) AND " + mine
                + " ORDER BY entries.id LIMIT ?", (PENDING, UNRESOLVED) + params + (limit,)).fetchall()
        return [Waiting(entry_id, state, _label(state, json.loads(item)), watched_at, rating)
                for entry_id, state, item, watched_at, rating in rows]

    def states(self, ids: Iterable[int]) -> Dict[int, Tuple[str, int, Optional[str]]]:
        """{id: (state, attempts, last error)} of these entries; an id no longer queued is left out."""
        found = {}
        with self._lock:
            for chunk in _chunks(ids):
                found.update((row[0], (row[1], row[2], row[3])) for row in self._conn.execute(
                    "SELECT id, state, attempts, last_error FROM entries WHERE id IN (%s)" % _marks(chunk), chunk))
        return found

    def labels(self, ids: Iterable[int]) -> Dict[int, str]:
        """{id: the title as the lists show it} of these entries; an id no longer queued is left out."""
        found = {}
        with self._lock:
            for chunk in _chunks(ids):
                rows = self._conn.execute("SELECT id, state, item FROM entries WHERE id IN (%s)" % _marks(chunk), chunk)
                found.update((entry_id, _label(state, json.loads(item))) for entry_id, state, item in rows)
        return found

    def ratings_of(self, ids: Iterable[int]) -> Dict[int, int]:
        """{id: rating (0: its removal)} of the rating entries among these ids; watches are left out."""
        found = {}
        with self._lock:
            for chunk in _chunks(ids):
                found.update(self._conn.execute("SELECT id, rating FROM ratings WHERE id IN (%s)" % _marks(chunk),
                                                chunk).fetchall())
        return found

    def data_version(self) -> int:
        """A number that changes whenever another connection (the service, another script) committed a change
        to the file: a cheap look whether anything changed (SQLite's PRAGMA data_version)."""
        return int(self._read_one("PRAGMA data_version")[0])

    def waiting_states(self) -> Dict[int, Tuple[str, int, Optional[str]]]:
        """{id: (state, attempts, last error)} of every entry on its way (pending, or its title being looked up)."""
        mine, params = self._mine()
        with self._lock:
            rows = self._conn.execute("SELECT id, state, attempts, last_error FROM entries WHERE state IN (?, ?)"
                                      " AND " + mine, (PENDING, UNRESOLVED) + params).fetchall()
        return {row[0]: (row[1], row[2], row[3]) for row in rows}

    # --- internals -----------------------------------------------------------------------

    @staticmethod
    def _is_repeat(conn: sqlite3.Connection, key: str, stamp: str, account: Optional[str],
                   session_ids: Optional[Tuple[str, ...]] = None) -> bool:
        """An add within 48 hours of an earlier add of the same item by the same account (or nobody; for a
        watch made logged out, by anyone), with no remove queued since. With session_ids, only adds inside
        that rewatch session count."""
        moment = parse_time(stamp)
        # Whoever logs in next gets a watch made logged out: every account's adds count for it, as before.
        mine, mine_params = _mine(account) if account is not None else ("1", ())
        sql = ("SELECT MAX(id) FROM entries WHERE item_key = ? AND kind = 'add' AND watched_at > ? AND watched_at < ?"
               " AND " + mine)
        params = (key, iso_utc(moment - DEDUPE_SECONDS), iso_utc(moment + DEDUPE_SECONDS)) + mine_params
        if session_ids is None:
            # a rewatch the user asked for makes no ordinary watch a repeat
            previous = conn.execute(sql + " AND rewatch = 0", params).fetchone()[0]
        else:
            sql += " AND rewatch = 1 AND rewatch_id = ?"
            found = [conn.execute(sql, params + (session_id,)).fetchone()[0] for session_id in session_ids]
            previous = max((entry_id for entry_id in found if entry_id is not None), default=None)
        if previous is None:
            return False
        removed = conn.execute("SELECT 1 FROM entries WHERE item_key = ? AND kind = 'remove' AND id > ? AND " + mine
                               + " LIMIT 1", (key, previous) + mine_params).fetchone()
        return removed is None

    def _mine(self) -> Tuple[str, tuple]:
        return _mine(_key_of(self._account()))

    def _set_state(self, ids: Iterable[int], state: str, detail: Optional[str] = None) -> None:
        now = self._clock()
        with self._write() as conn:
            conn.executemany("UPDATE entries SET state = ?, detail = COALESCE(?, detail), updated = ? WHERE id = ?",
                             [(state, detail, now, entry_id) for entry_id in ids])

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
            else:
                columns = tuple(row[1] for row in conn.execute("PRAGMA table_info(entries)"))
                if version == 1 and columns == _COLUMNS[:-1]:
                    conn.execute("ALTER TABLE entries ADD COLUMN detail TEXT")  # 0.1's queue, kept whole
                    conn.execute("PRAGMA user_version = %d" % SCHEMA_VERSION)
                elif version != SCHEMA_VERSION:
                    raise _Unusable("schema version %d, expected %d" % (version, SCHEMA_VERSION))
                elif columns != _COLUMNS:
                    raise _Unusable("unexpected entries table")
            conn.execute(_PARTS)
            for statement in _OWNERS:
                conn.execute(statement)
            conn.execute(_RATINGS)
            conn.execute(_RATINGS_STAY_RATINGS)
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
