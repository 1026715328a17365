"""Sends outbox batches to Simkl's /sync/history (and /remove), ratings to /sync/ratings (and /remove), and
reads added / deleted / not_found."""
import json
import random
import time
from dataclasses import replace
from typing import Callable, Dict, List, Optional, Tuple

from ..media import Episode, Movie, Show, drop_empty, movie_reference, show_reference
from ..simkl.api import ApiError, AuthExpired, NotConfigured, RateLimited, Rejected, Transient
from .holds import Holds
from .outbox import NOT_FOUND, RATING_KINDS, REFUSED, SENT, UNRATE, Entry, Outbox
from .session_ids import PENDING_PREFIX

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
ERR_UNEXPECTED = "unexpected_answer"
ERR_SESSION = "waiting_for_session"

SPLIT_AFTER = 3  # failed tries of a whole batch after which it is sent in halves (a part: after each)
CONTENT_REFUSALS = (400, 404, 409, 422)  # with Simkl's JSON error: about what the request said


def backoff(attempts: int, rng: Callable[[], float] = random.random) -> float:
    """Exponential backoff with jitter: 10-20 s, 20-40 s, … capped at 15 minutes."""
    delay = min(MAX_RETRY, FIRST_RETRY * (2 ** max(0, attempts)))
    return delay * (0.5 + 0.5 * rng())


def build_body(entries: List[Entry]) -> dict:
    """The one place that turns queued entries into a /sync/history (or /remove) body, or a /sync/ratings
    (or /remove) one."""
    if entries and entries[0].kind in RATING_KINDS:
        return _ratings_body(entries)
    movies, shows = [], {}
    removing = entries and entries[0].kind == "remove"
    for entry in entries:
        item = entry.item
        if isinstance(item, Movie):
            movie = movie_reference(item)
            if not removing:
                movie["watched_at"] = entry.watched_at
            _rewatch_fields(movie, entry)
            movies.append(movie)
        elif isinstance(item, Episode):
            # Episodes share a show object only with the same reference: a library episode (TVDB numbers,
            # use_tvdb_anime_seasons) and an add-on's episode of the same show each keep their own.
            reference = show_reference(item)
            show = shows.setdefault(json.dumps(reference, sort_keys=True), dict(reference, seasons=[]))
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
            show = drop_empty({"title": item.title, "year": item.year, "ids": dict(item.ids),
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


def _ratings_body(entries: List[Entry]) -> dict:
    """{"movies": [...], "shows": [...]}: each title with its rating and rated_at, the moment of the user's
    choice (api-reference add-ratings); a removal names the title only (remove-ratings). A library show goes
    under shows, anime too: Simkl matches anime there by its ids (remove-ratings: "Simkl resolves anime
    titles correctly under either shows[] or anime[]")."""
    body: Dict[str, list] = {}
    for entry in entries:
        item = entry.item
        rated = drop_empty({"title": item.title, "year": item.year, "ids": dict(item.ids)})
        if entry.kind != UNRATE:
            rated.update(rating=entry.rating, rated_at=entry.watched_at)
        body.setdefault("movies" if isinstance(item, Movie) else "shows", []).append(rated)
    return body


def _rewatch_fields(target: dict, entry: Entry) -> None:
    if entry.rewatch and entry.rewatch_id:
        target["rewatch_id"] = entry.rewatch_id


class Flusher:
    """Drains the outbox: one request at a time, batches of up to 100, never losing an entry.

    After a 401 it stops (`auth_blocked`) until `resume()`; 429/412 and transient failures defer
    the batch (Retry-After when given, else exponential backoff) and hold every other batch for as
    long, since a block or an outage is not about one batch. `resume()` lifts a hold after a failure
    but not one Simkl asked for: a request during a 412 block makes the block grow.
    A batch Simkl refuses for its content (400/422 with Simkl's error code) is halved until the
    entries it refuses stand alone; only those are kept as refused. A batch that keeps failing
    with 5xx is sent in halves after its third try, and a part that fails again is halved again, down
    to single entries, so one entry that breaks the server holds up no other for long.
    Answers that say nothing about the content (a redirect, 403, 405, 408, an HTML page, a 2xx
    without the expected JSON) keep the batch for a later try.
    `allow_rewatch` is sent only for entries the user queued as rewatches, which travel in batches
    of their own.
    """

    def __init__(self, outbox: Outbox, client, clock: Callable[[], float] = time.time,
                 rng: Callable[[], float] = random.random, log: Callable[[str], None] = lambda m: None,
                 on_auth_expired: Callable[[], None] = lambda: None,
                 on_sent: Callable[[List[Entry]], None] = lambda entries: None,
                 on_rewatch: Callable[[Entry, dict], None] = lambda entry, response: None,
                 session_id: Callable[[str], Optional[str]] = lambda placeholder: None,
                 before_batch: Callable[[], bool] = lambda: True, holds: Optional[Holds] = None,
                 on_problem: Callable[[str], None] = lambda code: None,
                 on_attention: Callable[[List[Entry]], None] = lambda entries: None):
        """before_batch(): called before each batch is taken, to turn what was committed meanwhile into
        pending entries first (an older unmark must go before a newer rewatch of the same title); False
        ends the flush there (what waits goes with entries still coming, e.g. the rest of a season).
        holds: entries never taken while held (a live stop that may deliver them is undecided).
        on_problem(code): a batch could not be sent and waits for a later try, for the reason `code`.
        on_attention(entries): Simkl refused these entries or does not know them; they wait under Needs attention
        (a rewatch refusal that on_rewatch explains is not among them)."""
        self.outbox = outbox
        self._holds = holds or Holds()
        self._before_batch = before_batch
        self._on_problem = on_problem
        self._on_attention = on_attention
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
        # Simkl's answers the outbox could not record yet (disk full, locked): entry id -> state,
        # detail, rewatch_id. Never sent again; recorded before anything else is sent.
        self._unrecorded: Dict[int, Tuple[str, Optional[str], Optional[str]]] = {}
        self._should_stop: Callable[[], bool] = lambda: False

    def resume(self) -> None:
        self.auth_blocked = False
        if not self._hold_by_simkl:
            self._hold_until = 0.0

    def next_due(self) -> Optional[float]:
        if self._unrecorded:
            return self._clock()
        due = None if self.auth_blocked else self.outbox.next_due(exclude=self._holds.snapshot())
        return None if due is None else max(due, self._hold_until)

    def flush(self, should_stop: Callable[[], bool] = lambda: False) -> int:
        """Send every due batch; returns how many entries Simkl took. Stops early on errors or abort."""
        self._should_stop = should_stop
        self._record_answers()
        done = 0
        while not self.auth_blocked and not should_stop() and self._clock() >= self._hold_until:
            if not self._before_batch():
                break
            with self._holds.guard() as held:
                batch = self.outbox.take_batch(BATCH_SIZE, exclude=set(self._unrecorded) | held)
            if not batch:
                break
            ok, sent = self._send(batch)
            done += sent
            if not ok:
                break
        return done

    def _send(self, batch: List[Entry]) -> Tuple[bool, int]:
        batch = self._in_session(batch)
        if batch is None:
            return False, 0
        body = build_body(batch)
        self.requests += 1
        try:
            answer = self._post(batch, body)
        except ApiError as exc:
            if self._should_stop():
                return False, 0  # Kodi is quitting and cut the request: the batch goes again after the next start
            return self._failed(batch, exc)
        if not isinstance(answer, dict) or not isinstance(answer.get("added", answer.get("deleted")), dict):
            return self._retry_later(batch, ERR_UNEXPECTED, "answer without added/deleted")
        missing = _not_found(batch, answer.get("not_found"))
        sent = [entry for entry in batch if entry.id not in missing]
        if missing:
            self._log("Simkl did not find %d of %d items" % (len(missing), len(batch)))
        statuses = _statuses(sent, answer) if batch[0].rewatch else []
        self._unrecorded.update(self._answers(missing, sent, statuses))
        try:
            self._record_answers()
        finally:  # Simkl has them either way: tell the user and pin the sessions
            for entry, response in statuses:
                self._on_rewatch(entry, response)
            self._log("sent %d entries to Simkl" % len(sent))
            self._on_sent(sent)
            if missing:
                self._on_attention([entry for entry in batch if entry.id in missing])
        return True, len(sent)

    def _in_session(self, batch: List[Entry]) -> Optional[List[Entry]]:
        """A rewatch batch of a show's session with the session's rewatch_id filled in; None (and the batch
        deferred) while the session has none yet."""
        if batch[0].rewatch and (batch[0].rewatch_id or "").startswith(PENDING_PREFIX):
            rewatch_id = self._session_id(batch[0].rewatch_id)
            if rewatch_id == "":
                # The show's session has no rewatch_id yet: its start goes first (it is older).
                self.outbox.defer([entry.id for entry in batch], self._clock() + FIRST_RETRY, ERR_SESSION,
                                  attempt=False)
                return None
            # Pinned: continue that session. Ended meanwhile: a plain watch, without allow_rewatch.
            batch = [replace(entry, rewatch=rewatch_id is not None, rewatch_id=rewatch_id) for entry in batch]
        return batch

    def _post(self, batch: List[Entry], body: dict):
        """The one request for the batch: to /sync/history/remove, /sync/history, /sync/ratings or its remove."""
        if batch[0].kind in RATING_KINDS:
            return self.client.remove_ratings(body) if batch[0].kind == UNRATE else self.client.add_ratings(body)
        if batch[0].kind == "remove":
            return self.client.remove_from_history(body)
        return self.client.add_to_history(body, allow_rewatch=batch[0].rewatch,
                                          skip_auto_watching=any(isinstance(e.item, Show) for e in batch))

    @staticmethod
    def _answers(missing: set, sent: List[Entry], statuses: List[Tuple[Entry, Dict]]) -> Dict[int, tuple]:
        """What to record of Simkl's answer, by entry id: not found, or sent (a show's rewatch with the
        rewatch_id Simkl gave its session)."""
        pinned = {}
        for entry, response in statuses:
            if isinstance(entry.item, Show) and response.get("rewatch_id"):
                pinned[entry.id] = str(response["rewatch_id"])
        answers = {entry_id: (NOT_FOUND, None, None) for entry_id in missing}
        answers.update({entry.id: (SENT, None, pinned.get(entry.id)) for entry in sent})
        return answers

    def _failed(self, batch: List[Entry], exc: ApiError) -> Tuple[bool, int]:
        ids = [entry.id for entry in batch]
        if isinstance(exc, AuthExpired):
            self.auth_blocked = True
            self.outbox.defer(ids, self._clock(), ERR_AUTH)
            self._log("Simkl rejected the login: %d watches stay queued until the next login" % len(ids))
            self._on_auth_expired()
            return False, 0
        if isinstance(exc, NotConfigured):
            self.auth_blocked = True
            self.outbox.defer(ids, self._clock(), ERR_CONFIG)
            self._on_problem(ERR_CONFIG)
            return False, 0
        if isinstance(exc, RateLimited):
            wait = exc.retry_after if exc.retry_after is not None else backoff(batch[0].attempts, self._rng)
            self.outbox.defer(ids, self._hold(wait, by_simkl=True), ERR_RATE)
            self._log("Simkl asked to slow down (%s): next try in %.0f s" % (exc.status, wait))
            self._on_problem(ERR_RATE)
            return False, 0
        if isinstance(exc, Transient):
            return self._retry_later(batch, ERR_SERVER if exc.status else ERR_NETWORK, str(exc), exc.retry_after)
        if isinstance(exc, Rejected) and batch[0].rewatch and exc.error == "pro_required":
            self._refuse(batch, exc)  # no rewatch at all for this account: every one of them
            return True, 0
        starts_session = isinstance(exc, Rejected) and isinstance(batch[0].item, Show) and batch[0].rewatch \
            and 400 <= (exc.status or 0) < 500
        if isinstance(exc, Rejected) and (_about_the_content(exc) or starts_session):
            if len(batch) > 1:
                return self._narrow(batch)
            self._refuse(batch, exc)
            self._log("Simkl refused %s (%s %s); kept for the user to retry or discard"
                      % (batch[0].item.label(), exc.status, exc.error))
            return True, 0
        # A redirect, 403, 405, 408, an HTML error page, a 2xx that is not JSON: nothing about the content.
        return self._retry_later(batch, ERR_UNEXPECTED, "unexpected answer %s" % exc.status)

    def _narrow(self, batch: List[Entry]) -> Tuple[bool, int]:
        """Simkl refused the batch for its content: send each half on its own, down to single entries."""
        half = len(batch) // 2
        done = 0
        for part in (batch[:half], batch[half:]):
            if self._should_stop():
                return False, done
            ok, sent = self._send(part)
            done += sent
            if not ok:
                return False, done
        return True, done

    def _record_answers(self) -> None:
        """Write Simkl's answers into the outbox; what cannot be written now stays in memory and is
        never sent again meanwhile (a resend loop would post it over and over)."""
        if not self._unrecorded:
            return
        answers = dict(self._unrecorded)
        by_state: Dict[Tuple[str, Optional[str]], List[int]] = {}
        rewatch_ids = {}
        for entry_id, (state, detail, rewatch_id) in answers.items():
            by_state.setdefault((state, detail), []).append(entry_id)
            if rewatch_id:
                rewatch_ids[entry_id] = rewatch_id
        self.outbox.record(by_state, rewatch_ids)
        for entry_id in answers:
            self._unrecorded.pop(entry_id, None)

    def _retry_later(self, batch, code, why, retry_after=None) -> Tuple[bool, int]:
        wait = retry_after if retry_after is not None else backoff(batch[0].attempts, self._rng)
        # Failing again and again: maybe for one entry in it. After its third try the batch goes in halves
        # of its own size, and a part that fails again in halves again, so the others get through.
        split = batch[0].part_size is not None or batch[0].tries_at_size + 1 >= SPLIT_AFTER
        halves = (len(batch) + 1) // 2 if split and len(batch) > 1 else None
        self.outbox.defer([entry.id for entry in batch], self._hold(wait, by_simkl=False), code, part_size=halves)
        self._log("sending %d entries failed (%s): next try in %.0f s" % (len(batch), why, wait))
        self._on_problem(code)
        return False, 0

    def _hold(self, wait: float, by_simkl: bool) -> float:
        self._hold_until = self._clock() + wait
        self._hold_by_simkl = by_simkl
        return self._hold_until

    def _refuse(self, batch: List[Entry], exc: ApiError) -> None:
        """Keep entries Simkl refused for the user, with Simkl's reason. "PRO required", and a refused
        session start, are explained via on_rewatch, which ends the show's session (its episodes then
        go as ordinary watches); any other refused entry waits under Needs attention."""
        for entry in batch:
            self._unrecorded[entry.id] = (REFUSED, _reason(exc), None)
        self._record_answers()
        explained = {entry.id for entry in batch
                     if entry.rewatch and (exc.error == "pro_required" or isinstance(entry.item, Show))}
        for entry in batch:
            if entry.id in explained:
                self._on_rewatch(entry, {"error": exc.error or "refused"})
        unexplained = [entry for entry in batch if entry.id not in explained]
        if unexplained:
            self._on_attention(unexplained)


def _about_the_content(exc: Rejected) -> bool:
    """Simkl's own JSON refusal of what was sent (wrong_parameter, id_err, ...), not a proxy's page."""
    return exc.status in CONTENT_REFUSALS and bool(exc.error) and exc.error != "malformed"


def _reason(exc: ApiError) -> str:
    return "%s %s" % (exc.status, exc.error) if exc.error else str(exc.status)


def _ids_match(sent: dict, echoed: dict) -> bool:
    echoed = {k: str(v) for k, v in (echoed or {}).items()}
    return any(echoed.get(k) == str(v) for k, v in (sent or {}).items())


def _not_found(batch: List[Entry], not_found) -> set:
    """Ids of the entries Simkl listed under not_found: `movies`, `shows` and `anime` (matched on any
    shared id, else on the title; a show echoed with seasons names only those episodes) and
    `episodes` (an episode's own ids, or its show with season and number)."""
    if not isinstance(not_found, dict):
        return set()
    shows = _dicts(not_found.get("shows")) + _dicts(not_found.get("anime"))
    episodes = _dicts(not_found.get("episodes"))
    missing = set()
    for entry in batch:
        item = entry.item
        if isinstance(item, Movie):
            if any(_same_title(item.ids, item.title, echoed) for echoed in _dicts(not_found.get("movies"))):
                missing.add(entry.id)
        elif isinstance(item, Show):
            if any(_same_title(item.ids, item.title, echoed) for echoed in shows):
                missing.add(entry.id)
        elif isinstance(item, Episode):
            if any(_names_episode(echoed, item) for echoed in shows) or \
                    any(_is_episode(echoed, item) for echoed in episodes):
                missing.add(entry.id)
    return missing


def _dicts(value) -> list:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _same_title(ids: dict, title: str, echoed: dict) -> bool:
    return _ids_match(ids, echoed.get("ids")) or (not ids and echoed.get("title") == title)


def _names_episode(echoed_show: dict, item: Episode) -> bool:
    """A not-found show entry covers the episode: the whole show, or its season and number listed."""
    if not _same_title(item.show_ids, item.show_title, echoed_show):
        return False
    seasons = _dicts(echoed_show.get("seasons"))
    if not seasons:
        return True
    return any(_number(season.get("number")) == item.season and
               any(_number(e.get("number")) == item.number for e in _dicts(season.get("episodes")))
               for season in seasons)


def _is_episode(echoed: dict, item: Episode) -> bool:
    if item.ids and _ids_match(item.ids, echoed.get("ids")):
        return True
    show = echoed.get("show") if isinstance(echoed.get("show"), dict) else {}
    number = _number(echoed.get("number", echoed.get("episode")))
    return (bool(show) and _same_title(item.show_ids, item.show_title, show)
            and _number(echoed.get("season")) == item.season and number == item.number)


def _number(value) -> Optional[int]:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


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
