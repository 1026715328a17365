"""Sends outbox batches to Simkl's /sync/history (and /remove) and reads added / not_found."""
import random
import time
from dataclasses import replace
from typing import Callable, Dict, List, Optional, Tuple

from .api import ApiError, AuthExpired, NotConfigured, RateLimited, Rejected, Transient
from .media import Episode, Movie, Show
from .outbox import Entry, Outbox
from .rewatch import PENDING_PREFIX

BATCH_SIZE = 100
FIRST_RETRY = 20.0  # seconds; with jitter the first retry comes within 20 s
MAX_RETRY = 900.0  # 15 minutes

# Error codes kept in the outbox; the status view words them in the user's language.
ERR_NETWORK = "network"
ERR_SERVER = "server"
ERR_RATE = "rate_limited"
ERR_AUTH = "login_needed"
ERR_REJECTED = "rejected"
ERR_CONFIG = "not_configured"


def backoff(attempts: int, rng: Callable[[], float] = random.random) -> float:
    """Exponential backoff with jitter: 10-20 s, 20-40 s, … capped at 15 minutes."""
    delay = min(MAX_RETRY, FIRST_RETRY * (2 ** max(0, attempts)))
    return delay * (0.5 + 0.5 * rng())


def build_body(entries: List[Entry]) -> dict:
    """The one place that turns queued entries into a /sync/history (or /remove) body."""
    movies, shows = [], {}
    removing = entries and entries[0].kind == "remove"
    for entry in entries:
        item = entry.item
        if isinstance(item, Movie):
            movie = {"title": item.title, "year": item.year, "ids": dict(item.ids)}
            if not removing:
                movie["watched_at"] = entry.watched_at
            _rewatch_fields(movie, entry)
            movies.append(_drop_empty(movie))
        elif isinstance(item, Episode):
            show = shows.setdefault(item.show_key(), _drop_empty(
                {"title": item.show_title, "year": item.show_year, "ids": dict(item.show_ids), "seasons": []}))
            _rewatch_fields(show, entry)
            season = next((s for s in show["seasons"] if s["number"] == item.season), None)
            if season is None:
                season = {"number": item.season, "episodes": []}
                show["seasons"].append(season)
            episode = {"number": item.number}
            if not removing:
                episode["watched_at"] = entry.watched_at
            season["episodes"].append(episode)
        elif isinstance(item, Show):
            show = _drop_empty({"title": item.title, "year": item.year, "ids": dict(item.ids),
                                "watched_at": entry.watched_at})
            if entry.rewatch:
                show.update({"is_rewatch": True, "rewatch_status": "active"})
            _rewatch_fields(show, entry)
            shows[item.key() + "#%d" % entry.id] = show
    body = {}
    if movies:
        body["movies"] = movies
    if shows:
        body["shows"] = list(shows.values())
    return body


def _rewatch_fields(target: dict, entry: Entry) -> None:
    if entry.rewatch and entry.rewatch_id:
        target["rewatch_id"] = entry.rewatch_id


def _drop_empty(data: dict) -> dict:
    return {k: v for k, v in data.items() if v not in (None, "", {})}


class Flusher:
    """Drains the outbox: one request at a time, batches of up to 100, never losing an entry.

    After a 401 it stops (`auth_blocked`) until `resume()`; 429/412 and transient failures defer
    the batch (Retry-After when given, else exponential backoff) and hold every other batch for as
    long, since a block or an outage is not about one batch. `resume()` lifts a hold after a failure
    but not one Simkl asked for: a request during a 412 block makes the block grow.
    `allow_rewatch` is sent only for entries the user queued as rewatches, which travel in batches
    of their own.
    """

    def __init__(self, outbox: Outbox, client, clock: Callable[[], float] = time.time,
                 rng: Callable[[], float] = random.random, log: Callable[[str], None] = lambda m: None,
                 on_auth_expired: Callable[[], None] = lambda: None,
                 on_sent: Callable[[List[Entry]], None] = lambda entries: None,
                 on_rewatch: Callable[[Entry, dict], None] = lambda entry, response: None,
                 session_id: Callable[[str], Optional[str]] = lambda placeholder: None):
        self.outbox = outbox
        self.client = client
        self._clock = clock
        self._rng = rng
        self._log = log
        self._on_auth_expired = on_auth_expired
        self._on_sent = on_sent
        self._on_rewatch = on_rewatch
        self._session_id = session_id
        self.auth_blocked = False
        self.requests = 0
        self._hold_until = 0.0  # no request before this time
        self._hold_by_simkl = False  # the hold is a rate limit, which resume() must not lift

    def resume(self) -> None:
        self.auth_blocked = False
        if not self._hold_by_simkl:
            self._hold_until = 0.0

    def next_due(self) -> Optional[float]:
        due = None if self.auth_blocked else self.outbox.next_due()
        return None if due is None else max(due, self._hold_until)

    def flush(self, should_stop: Callable[[], bool] = lambda: False) -> int:
        """Send every due batch; returns how many entries Simkl took. Stops early on errors or abort."""
        done = 0
        while not self.auth_blocked and not should_stop() and self._clock() >= self._hold_until:
            batch = self.outbox.take_batch(BATCH_SIZE)
            if not batch:
                break
            ok, sent = self._send(batch)
            done += sent
            if not ok:
                break
        return done

    def _send(self, batch: List[Entry]) -> Tuple[bool, int]:
        ids = [entry.id for entry in batch]
        if batch[0].rewatch and (batch[0].rewatch_id or "").startswith(PENDING_PREFIX):
            rewatch_id = self._session_id(batch[0].rewatch_id)
            if rewatch_id == "":
                # The show's session has no rewatch_id yet: its start goes first (it is older).
                self.outbox.defer(ids, self._clock() + FIRST_RETRY, ERR_SERVER)
                return False, 0
            # Pinned: continue that session. Ended meanwhile: a plain watch, without allow_rewatch.
            batch = [replace(entry, rewatch=rewatch_id is not None, rewatch_id=rewatch_id) for entry in batch]
        body = build_body(batch)
        self.requests += 1
        try:
            if batch[0].kind == "remove":
                answer = self.client.remove_from_history(body)
            else:
                answer = self.client.add_to_history(body, allow_rewatch=batch[0].rewatch,
                                                    skip_auto_watching=any(isinstance(e.item, Show) for e in batch))
        except AuthExpired:
            self.auth_blocked = True
            self.outbox.defer(ids, self._clock(), ERR_AUTH)
            self._log("Simkl rejected the login: %d watches stay queued until the next login" % len(ids))
            self._on_auth_expired()
            return False, 0
        except NotConfigured:
            self.auth_blocked = True
            self.outbox.defer(ids, self._clock(), ERR_CONFIG)
            return False, 0
        except RateLimited as exc:
            wait = exc.retry_after if exc.retry_after is not None else backoff(batch[0].attempts, self._rng)
            self.outbox.defer(ids, self._hold(wait, by_simkl=True), ERR_RATE)
            self._log("Simkl asked to slow down (%s): next try in %.0f s" % (exc.status, wait))
            return False, 0
        except Rejected as exc:
            if exc.status is not None and 200 <= exc.status < 300:
                return self._retry_later(batch, ERR_SERVER, "unreadable answer")
            if self._rewatch_refused(batch, exc):
                return True, 0
            self.outbox.defer(ids, self._clock(), ERR_REJECTED)  # keeps the reason for the status view
            self.outbox.mark_not_found(ids)
            self._log("Simkl rejected %d entries (%s %s); kept as not found" % (len(ids), exc.status, exc.error))
            return True, 0
        except Transient as exc:
            return self._retry_later(batch, ERR_SERVER if exc.status else ERR_NETWORK, str(exc), exc.retry_after)
        except ApiError as exc:  # any future error type: keep the batch
            return self._retry_later(batch, ERR_SERVER, str(exc))
        if not isinstance(answer, dict) or not isinstance(answer.get("added", answer.get("deleted")), dict):
            return self._retry_later(batch, ERR_SERVER, "answer without added/deleted")
        missing = _not_found(batch, answer.get("not_found"))
        sent = [entry for entry in batch if entry.id not in missing]
        if missing:
            self.outbox.mark_not_found(sorted(missing))
            self._log("Simkl did not find %d of %d items" % (len(missing), len(batch)))
        self.outbox.mark_sent([entry.id for entry in sent])
        if batch[0].rewatch:
            for entry, response in _statuses(sent, answer):
                self._on_rewatch(entry, response)
        self._log("sent %d entries to Simkl" % len(sent))
        self._on_sent(sent)
        return True, len(sent)

    def _retry_later(self, batch, code, why, retry_after=None) -> Tuple[bool, int]:
        wait = retry_after if retry_after is not None else backoff(batch[0].attempts, self._rng)
        self.outbox.defer([entry.id for entry in batch], self._hold(wait, by_simkl=False), code)
        self._log("sending %d entries failed (%s): next try in %.0f s" % (len(batch), why, wait))
        return False, 0

    def _hold(self, wait: float, by_simkl: bool) -> float:
        self._hold_until = self._clock() + wait
        self._hold_by_simkl = by_simkl
        return self._hold_until

    def _rewatch_refused(self, batch, exc) -> bool:
        """Simkl's 'PRO required' for a rewatch: explained to the user via on_rewatch, never retried."""
        if not batch[0].rewatch or exc.error != "pro_required":
            return False
        self.outbox.mark_not_found([entry.id for entry in batch])
        for entry in batch:
            self._on_rewatch(entry, {"error": "pro_required"})
        return True


def _ids_match(sent: dict, echoed: dict) -> bool:
    echoed = {k: str(v) for k, v in (echoed or {}).items()}
    return any(echoed.get(k) == str(v) for k, v in (sent or {}).items())


def _not_found(batch: List[Entry], not_found) -> set:
    """Ids of the entries Simkl listed under not_found (matched on any shared id, else on title)."""
    if not isinstance(not_found, dict):
        return set()
    missing = set()
    for entry in batch:
        item = entry.item
        if isinstance(item, Movie):
            candidates, ids, title = not_found.get("movies") or [], item.ids, item.title
        elif isinstance(item, Episode):
            candidates, ids, title = not_found.get("shows") or [], item.show_ids, item.show_title
        else:
            candidates, ids, title = not_found.get("shows") or [], item.ids, item.title
        for echoed in candidates:
            if not isinstance(echoed, dict):
                continue
            if _ids_match(ids, echoed.get("ids")) or (not ids and echoed.get("title") == title):
                missing.add(entry.id)
                break
    return missing


def _statuses(sent: List[Entry], answer: dict) -> List[Tuple[Entry, Dict]]:
    """Pair each sent rewatch entry with its statuses[].response (which carries rewatch_id)."""
    statuses = ((answer.get("added") or {}).get("statuses") or []) if isinstance(answer, dict) else []
    pairs = []
    for entry in sent:
        item = entry.item
        ids = item.show_ids if isinstance(item, Episode) else item.ids
        response = {}
        for status in statuses:
            if isinstance(status, dict) and _ids_match(ids, (status.get("request") or {}).get("ids")):
                response = status.get("response") or {}
                break
        pairs.append((entry, response))
    return pairs
