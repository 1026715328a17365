"""A fake Simkl API: a real HTTP server on 127.0.0.1 that answers in the shapes of the Simkl docs.

Tests (and the real-Kodi e2e suite) point the add-on at it with SIMKL_API_URL. It checks what
every request must carry (client_id, app-name, app-version, User-Agent, Bearer on user endpoints),
keeps a log of every request, and can be told to fail: status codes with Retry-After, dropped
connections, slow answers, a revoked token, Simkl's 1-POST-per-second and 10-GET-per-second limits.
It keeps the user's library (`fake.library`, fake_simkl_library.py) for /sync/activities and
/sync/all-items, and what the add-on posts to /sync/history[/remove] lands there too: an anime
series the library splits into entries takes `use_tvdb_anime_seasons` posts on the entry that holds
the TVDB position, and answers the positions no entry holds in not_found.episodes. The shapes of the
library's answers, and the source of each, are in fake_simkl_library.py.
POST /sync/ratings and /sync/ratings/remove keep the user's ratings (`fake.ratings`, by Simkl id, which
GET /sync/ratings reads) and log each accepted change in `fake.rating_changes`.
"""
import itertools
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional
from urllib.parse import parse_qsl, urlsplit

from fake_simkl_library import Library

USER_ENDPOINTS = ("/sync/", "/users/settings", "/search/file", "/scrobble/")
ID_KEYS = ("simkl", "imdb", "tmdb", "tvdb")
SCROBBLE_PATHS = ("/scrobble/start", "/scrobble/pause", "/scrobble/stop")
SCROBBLE_LOCK = 20.0  # a user's scrobbles within 20 s of the last one answer 400 RATE_LIMIT (simkl-api §5.1)
SCROBBLE_GUARD = 3600.0  # a stop (or a pause) at >= 80 % within the hour of a scrobble of the item: 409
WATCHED_PROGRESS = 80.0  # a stop at or above it writes the history entry itself ("action": "scrobble")
# Ids of one anime season: with season and episode numbers Simkl marks the wrong entry (simkl-api §12).
PER_SEASON_ANIME_IDS = ("anidb", "mal", "anilist", "kitsu")


@dataclass
class Recorded:
    method: str
    path: str
    query: Dict[str, str]
    headers: Dict[str, str]
    json: Any
    time: float
    status: int = 0
    answer: Any = field(default=None, repr=False)  # the JSON body the fake answered


@dataclass
class Fault:
    status: int = 0  # 0: drop the connection without an answer
    times: int = 1
    retry_after: Optional[str] = None
    body: Any = None
    delay: float = 0.0
    hold: bool = False  # answer only once release() is called (or the server stops)


@dataclass
class Account:
    """A Simkl user: what POST /users/settings answers about the owner of a token."""
    name: str = "jane_doe"
    type: str = "pro"
    id: int = 12345


@dataclass
class PinState:
    code: str
    created: float
    expires_in: float  # what the start answer announced: the code is unknown after that
    polls: int = 0
    approved: bool = False

    def expired(self, now: float) -> bool:
        return now - self.created > self.expires_in


@dataclass
class Watch:
    kind: str  # movie | episode
    key: str
    watched_at: str
    rewatch: bool = False
    rewatch_id: Optional[str] = None
    body: Any = field(default=None, repr=False)
    via: str = "history"  # or "scrobble": a /scrobble/stop at >= 80 % wrote it
    account: str = ""  # the name of the user whose token wrote it


@dataclass
class RatingChange:
    """A rating Simkl took (rating 0: a removal of the title's rating)."""
    key: str  # movie:imdb=... | show:tvdb=...
    rating: int
    rated_at: str
    account: str = ""  # the name of the user whose token made it


class FakeSimkl:
    def __init__(self, client_id="test-client-id", v2_client_ids=("test-client-id",), clock=time.time):
        self.client_id = client_id
        self.v2_client_ids = set(v2_client_ids)
        self.clock = clock
        # The user a token issued from now on belongs to: set another Account before a login to log in as
        # someone else; each token keeps the user it was issued to (token_accounts).
        self.account = Account()
        self.token_accounts: Dict[str, Account] = {}
        self.requests: List[Recorded] = []
        self.violations: List[str] = []
        self.tokens = set()  # valid access tokens
        self.refresh_tokens = {}  # refresh -> access
        self.watches: List[Watch] = []
        self.removed: List[str] = []
        self.watched_keys = set()  # what the history holds now
        self.unknown_ids = set()  # ids Simkl answers with not_found, e.g. "imdb=tt0000000"
        self.unknown_episodes = set()  # (show ids key, season, number) answered in not_found.episodes
        self.anime_ids = set()  # show ids Simkl files as anime (scrobbles need its TVDB mapping for them)
        self.refused_ids = set()  # ids that make Simkl refuse the whole request: 400 wrong_parameter
        self.breaking_ids = set()  # ids that make the server fail the whole request with 500
        self.search_results: Dict[str, Any] = {}  # file name -> /search/file answer
        self.scrobbles: List[tuple] = []  # (path's last part, item key, progress, answered action) accepted
        self.now_playing: Dict[str, tuple] = {}  # item key -> ("watching" | "paused", progress): "Watching now"
        self.scrobble_lock = SCROBBLE_LOCK
        self._scrobble_locks: Dict[str, float] = {}  # token -> clock time of its last accepted scrobble
        self._scrobbled_at: Dict[str, float] = {}  # item key -> clock time of its last scrobble (the 1 h guard)
        self._playback_ids = itertools.count(124)
        self.pins: Dict[str, PinState] = {}
        self.devices: Dict[str, PinState] = {}
        self.pin_interval = 0.05
        self.pin_expires_in = 60  # the expires_in of the codes handed out from now on (Simkl's is 900)
        self.approve_after_polls: Optional[int] = None  # approve a PIN at its Nth poll
        self.slow_down_polls = set()  # poll numbers answered "Slow down"
        self.forget_codes = False  # answer polls as if the code is gone (V2: expired_token)
        self.deny_device = False
        # POST /oauth2/device answers verification_uri_complete; clients read it "only if present" (simkl-api.md 3.4)
        self.device_complete_uri = True
        self.rewatch_mode = "ok"  # ok | pro_required | no_rewatch_id
        self.enforce_post_rate = True
        self.post_interval = 1.0  # Simkl's 1 POST per second; tests that shrink the client's pacing shrink this too
        self.enforce_get_rate = True
        self.get_rate_limit = 10  # Simkl's 10 GETs per second: one more within a second of the clock is a 429
        self.secrets_issued: List[str] = []  # every access token, refresh token and device code handed out
        self._faults: Dict[str, List[Fault]] = {}
        self._codes = itertools.count(1)
        self._rewatch_ids = itertools.count(9001)
        self._last_post: Optional[float] = None
        self._gets: List[float] = []  # clock times of the GETs within the last second
        self._lock = threading.RLock()
        self.library = Library(clock, self._lock)  # the user's lists and activities (test controls there)
        self.rating_changes: List[RatingChange] = []  # every rating (and removal) Simkl took, in order
        self._released = threading.Event()
        self._server = None
        self._thread = None
        self.url = ""

    # -- life cycle ---------------------------------------------------------------------------
    def start(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out apart: Nagle would add 40 ms per answer

            def do_GET(self):
                fake._handle(self, "GET")

            def do_POST(self):
                fake._handle(self, "POST")

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self._server.server_address[1]
        # a short poll interval: shutdown() waits up to one interval, and every test stops a server
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- test controls ------------------------------------------------------------------------
    @property
    def ratings(self):
        """The user's ratings by Simkl id: {"rating", "rated_at", "kind" (movie|show|anime), "item"}."""
        return self.library.ratings

    @property
    def null_when_empty(self):
        """An empty /sync/all-items answer is null (True, the Docs) or {} (False)."""
        return self.library.null_when_empty

    @null_when_empty.setter
    def null_when_empty(self, value):
        self.library.null_when_empty = value

    @property
    def watching_delta_quirk(self):
        """A shows|anime/watching delta filters by when the show entered the list (§12)."""
        return self.library.watching_delta_quirk

    @watching_delta_quirk.setter
    def watching_delta_quirk(self, value):
        self.library.watching_delta_quirk = value

    def fail(self, path, status, times=1, retry_after=None, body=None):
        """The next `times` requests to `path` answer `status` (0 = drop the connection)."""
        with self._lock:
            self._faults.setdefault(path, []).append(Fault(status, times, retry_after, body))

    def slow(self, path, delay, times=1):
        with self._lock:
            self._faults.setdefault(path, []).append(Fault(200, times, delay=delay))

    def hold(self, path, times=1):
        """The next `times` requests to `path` get no answer until release(): a request in flight."""
        with self._lock:
            self._released.clear()
            self._faults.setdefault(path, []).append(Fault(200, times, hold=True))

    def release(self):
        self._released.set()

    def clear_faults(self):
        with self._lock:
            self._faults.clear()

    def issue_token(self, token="token-%d", refresh=None, account=None):
        """A valid access token of `account` (default: the current `self.account`)."""
        token = token % next(self._codes) if "%d" in token else token
        with self._lock:
            self.tokens.add(token)
            self.token_accounts[token] = account or self.account
            self.secrets_issued.append(token)
            if refresh:
                self.refresh_tokens[refresh] = token
                self.secrets_issued.append(refresh)
        return token

    def revoke_all(self):
        with self._lock:
            self.tokens.clear()
            self.refresh_tokens.clear()

    def refuse_v1_tokens(self):
        """Simkl ends the PIN login (V1): every access token without a refresh token, which only V1 hands out,
        is refused from now on, and cannot be exchanged (simkl-api.md 13); V2's go on working."""
        with self._lock:
            # answered as a revoked token: 401 user_token_failed (simkl-api.md 3.3, see _route)
            self.tokens -= self.tokens - set(self.refresh_tokens.values())

    def account_of(self, record):
        """The user whose token a recorded request carried (None: no valid token)."""
        auth = record.headers.get("Authorization", "")
        return self.token_accounts.get(auth[7:]) if auth.startswith("Bearer ") else None

    def requests_to(self, path, method=None):
        with self._lock:
            return [r for r in self.requests if r.path == path and (method is None or r.method == method)]

    def log_text(self):
        with self._lock:
            return "\n".join("%s %s?%s -> %s %s" % (r.method, r.path, "&".join("%s=%s" % kv for kv in r.query.items()
                                                                              if kv[0] != "client_id"),
                                                    r.status, json.dumps(r.json)[:300])
                             for r in self.requests)

    # -- dispatch -----------------------------------------------------------------------------
    def _handle(self, handler, method):
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = {"<unparsable>": raw.decode("utf-8", "replace")}
        record = Recorded(method, parts.path, dict(parse_qsl(parts.query)), dict(handler.headers.items()), body,
                          self.clock())
        with self._lock:
            self.requests.append(record)
            fault = self._take_fault(parts.path)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.hold:
            self._released.wait(60)
            if self._server is None:
                return  # stopped meanwhile
        if fault is not None and fault.status == 0:
            handler.close_connection = True
            try:
                handler.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            record.status = 0
            return
        if fault is not None and (fault.status != 200 or fault.body is not None):
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            payload = fault.body if fault.body is not None else {"error": _error_code(fault.status),
                                                                  "code": fault.status}
            return self._reply(handler, record, fault.status, payload, headers)
        with self._lock:
            written, rated = len(self.watches), len(self.rating_changes)
            status, payload = self._route(record)
            user = self.account_of(record)
            for change in self.watches[written:] + self.rating_changes[rated:]:
                change.account = user.name if user else ""
        return self._reply(handler, record, status, payload)

    def _take_fault(self, path):
        queue = self._faults.get(path)
        if not queue:
            return None
        fault = queue[0]
        fault.times -= 1
        if fault.times <= 0:
            queue.pop(0)
        return fault

    def _reply(self, handler, record, status, payload, headers=None):
        record.status = status
        record.answer = payload
        if isinstance(payload, bytes):
            data = payload  # a raw body, e.g. a malformed answer
        else:
            data = b"" if payload is None and status == 204 else json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(data)

    def _route(self, r):
        q = r.query
        for key in ("client_id", "app-name", "app-version"):
            if not q.get(key):
                self.violations.append("%s %s without %s" % (r.method, r.path, key))
        if not r.headers.get("User-Agent", "").startswith(q.get("app-name", "?") + "/"):
            self.violations.append("%s %s with User-Agent %r" % (r.method, r.path, r.headers.get("User-Agent")))
        if q.get("client_id") != self.client_id:
            return 412, {"error": "client_id_failed", "code": 412, "message": "Invalid client_id"}
        if r.method == "POST":
            if r.headers.get("Content-Type", "").split(";")[0] != "application/json":
                self.violations.append("POST %s without a JSON content type" % r.path)
            now = self.clock()
            if self._last_post is not None and now - self._last_post < self.post_interval - 1e-6 \
                    and self.enforce_post_rate:
                self.violations.append("POST %s %.3f s after the previous POST" % (r.path, now - self._last_post))
                self._last_post = now
                return 412, {"error": "client_id_failed", "code": 412, "message": "Too many POST requests"}
            self._last_post = now
        if r.method == "GET" and self.enforce_get_rate and not r.path.startswith("/oauth/"):
            # PIN polls are left out: they follow the server's own `interval`, which tests shrink far below 0.1 s
            now = self.clock()
            self._gets = [t for t in self._gets if t > now - 1.0 + 1e-6] + [now]
            if len(self._gets) > self.get_rate_limit:
                self.violations.append("GET %s: %d GETs within one second" % (r.path, len(self._gets)))
                return 429, {"error": "rate_limit", "code": 429, "message": "Too many GET requests"}
        if r.path.startswith(USER_ENDPOINTS):
            auth = r.headers.get("Authorization", "")
            if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
                # a revoked or unknown token (simkl-api.md 3.3: 401 user_token_failed; conventions/errors)
                return 401, {"error": "user_token_failed", "code": 401, "message": "Invalid token"}
        if r.method == "GET" and r.path == "/oauth/pin":
            return 200, self._new_pin()
        if r.method == "GET" and r.path.startswith("/oauth/pin/"):
            return 200, self._poll_pin(r.path[len("/oauth/pin/"):])
        if r.method == "POST" and r.path == "/oauth2/device":
            return self._new_device(r)
        if r.method == "POST" and r.path == "/oauth2/token":
            return self._token(r.json or {})
        if r.method == "POST" and r.path == "/oauth2/revoke":
            token = (r.json or {}).get("token")
            access = self.refresh_tokens.pop(token, None)
            self.tokens.discard(access)
            return 200, {}
        if r.method == "POST" and r.path == "/users/settings":
            # the shape of api.simkl.org ref/simkl/get-user-settings (simkl-api.md 7.4): account.id is the
            # account's own number, user.name its user name; the answer is about the token's owner
            user = self.account_of(r) or self.account
            return 200, {"user": {"name": user.name, "joined_at": "2018-06-12T14:23:08.000Z"},
                         "account": {"id": user.id, "timezone": "Europe/Lisbon", "type": user.type},
                         "connections": {"facebook": False}}
        if r.method == "POST" and r.path in ("/sync/history", "/sync/history/remove", "/sync/ratings",
                                             "/sync/ratings/remove"):
            self._check_anime_ids(r, [show for show in (r.json or {}).get("shows") or [] if show.get("seasons")])
            sent = _all_ids(r.json or {})
            if sent & self.breaking_ids:
                return 500, {"error": "internal", "code": 500}
            if sent & self.refused_ids:
                # Simkl's error body and its 400 code (docs: api.simkl.org conventions/errors; simkl-api §8.2)
                return 400, {"error": "wrong_parameter", "code": 400, "message": "Bad item"}
        if r.method == "POST" and r.path == "/sync/history":
            return self._history(r.json or {}, q.get("allow_rewatch") == "yes")
        if r.method == "POST" and r.path == "/sync/history/remove":
            return self._remove(r.json or {})
        if r.method == "POST" and r.path == "/sync/ratings":
            return self._rate(r.json if isinstance(r.json, dict) else {})
        if r.method == "POST" and r.path == "/sync/ratings/remove":
            return self._unrate(r.json if isinstance(r.json, dict) else {})
        if r.method == "POST" and r.path in SCROBBLE_PATHS:
            return self._scrobble(r)
        if r.method == "GET" and r.path == "/sync/activities":
            return 200, self.library.activities()
        if r.method == "GET" and (r.path == "/sync/all-items" or r.path.startswith("/sync/all-items/")):
            return self.library.all_items(r.path, q)
        if r.method == "GET" and r.path.startswith("/sync/ratings/"):
            return self.library.rated(r.path, q)
        if r.method == "GET" and r.path == "/sync/playback":
            return self.library.playbacks(q)  # api.simkl.org api-reference/simkl/get-playback-sessions
        if r.method == "POST" and r.path == "/search/file":
            name = (r.json or {}).get("file", "")
            return 200, self.search_results.get(name)
        return 404, {"error": "url_failed", "code": 404}

    # -- login --------------------------------------------------------------------------------
    def _code(self):
        return "C%04d" % next(self._codes)

    def _new_pin(self):
        # GET /oauth/pin: api.simkl.org ref/simkl/get-pin (the answer's shape as its example shows it)
        code = self._code()
        self.pins[code] = PinState(code, self.clock(), self.pin_expires_in)
        return {"result": "OK", "device_code": "DEVICE_CODE", "user_code": code,
                "verification_uri": "https://simkl.com/pin", "verification_url": "https://simkl.com/pin",
                "expires_in": self.pin_expires_in, "interval": self.pin_interval}

    def approve_pin(self):
        """Approve every code shown so far, as if the user typed it at simkl.com/pin."""
        with self._lock:
            for state in list(self.pins.values()) + list(self.devices.values()):
                state.approved = True

    def _poll_pin(self, code):
        # GET /oauth/pin/{user_code}: api.simkl.org ref/simkl/check-pin; a code used, expired or unknown
        # is answered with a new start body (ref/pin: "expired = unknown"; see docs simkl-api.md 3.1)
        state = self.pins.get(code)
        if state is None or self.forget_codes or state.expired(self.clock()):
            self.pins.pop(code, None)
            return self._new_pin()
        state.polls += 1
        if self.approve_after_polls is not None and state.polls >= self.approve_after_polls:
            state.approved = True
        if state.approved:
            del self.pins[code]
            return {"result": "OK", "access_token": self.issue_token("pin-token-%d")}
        if state.polls in self.slow_down_polls:
            return {"result": "KO", "message": "Slow down"}
        return {"result": "KO", "message": "Authorization pending"}

    def _new_device(self, r):
        # POST /oauth2/device: ref/oauth2-device, as the clients citing it saw it (docs simkl-api.md 3.4)
        if (r.json or {}).get("client_id") not in self.v2_client_ids:
            return 401, {"error": "invalid_client"}
        device_code = "dev-%d" % next(self._codes)
        self.secrets_issued.append(device_code)
        user_code = "ABCD-%04d" % next(self._codes)
        self.devices[device_code] = PinState(user_code, self.clock(), self.pin_expires_in)
        answer = {"device_code": device_code, "user_code": user_code, "verification_uri": "https://simkl.com/pin",
                  "verification_uri_complete": "https://simkl.com/pin?user_code=" + user_code,
                  "expires_in": self.pin_expires_in, "interval": self.pin_interval}
        if not self.device_complete_uri:
            del answer["verification_uri_complete"]
        return 200, answer

    def _token(self, body):
        if body.get("client_id") not in self.v2_client_ids:
            return 401, {"error": "invalid_client"}
        grant = body.get("grant_type")
        if grant == "refresh_token":
            old = self.refresh_tokens.pop(body.get("refresh_token"), None)
            if old is None:
                return 400, {"error": "invalid_grant"}
            self.tokens.discard(old)  # the old access token dies at once
            refresh = body["refresh_token"]
            return 200, {"access_token": self.issue_token("v2-token-%d", refresh=refresh,
                                                          account=self.token_accounts.get(old)),
                         "refresh_token": refresh, "expires_in": 604800, "token_type": "Bearer",
                         "scope": "media:read media:write"}
        # the device-code grant: ref/oauth2-tokens; past its expires_in a code answers expired_token
        state = self.devices.get(body.get("device_code"))
        if state is None or self.forget_codes or state.expired(self.clock()):
            return 400, {"error": "expired_token"}
        if self.deny_device:
            return 400, {"error": "access_denied"}
        state.polls += 1
        if self.approve_after_polls is not None and state.polls >= self.approve_after_polls:
            state.approved = True
        if state.polls in self.slow_down_polls:
            return 400, {"error": "slow_down"}
        if not state.approved:
            return 400, {"error": "authorization_pending"}
        del self.devices[body["device_code"]]
        refresh = "refresh-%d" % next(self._codes)
        return 200, {"access_token": self.issue_token("v2-token-%d", refresh=refresh), "refresh_token": refresh,
                     "expires_in": 604800, "token_type": "Bearer", "scope": "media:read media:write"}

    # -- history ------------------------------------------------------------------------------
    def _known(self, ids):
        return not any("%s=%s" % (k, v) in self.unknown_ids for k, v in (ids or {}).items())

    def _history(self, body, allow_rewatch):
        added = {"movies": 0, "shows": 0, "episodes": 0, "statuses": []}
        not_found = {"movies": [], "shows": [], "episodes": []}
        rewatch = allow_rewatch and self.account.type in ("pro", "vip")
        if allow_rewatch and self.rewatch_mode == "pro_required":
            return 403, {"error": "pro_required", "code": 403}
        for movie in body.get("movies") or []:
            if not self._known(movie.get("ids")):
                not_found["movies"].append(movie)
                continue
            key = "movie:" + _ids_key(movie.get("ids"))
            response = {"status": "completed", "simkl_type": "movie", "anime_type": None}
            if not rewatch and self._watched(key):
                continue  # re-posting a watched item is a no-op
            if rewatch:
                response.update(self._rewatch(movie))
            self.watches.append(Watch("movie", key, movie.get("watched_at", ""), rewatch,
                                      response.get("rewatch_id"), movie))
            self.watched_keys.add(key)
            self.library.history_movie(movie)
            added["movies"] += 1
            added["statuses"].append({"request": dict(movie, type="movie"), "response": response})
        for show in body.get("shows") or []:
            if not self._known(show.get("ids")):
                # anime too: "there is no separate not_found.anime bucket" (docs add-to-history)
                not_found["shows"].append(show)
                continue
            key = "show:" + _ids_key(show.get("ids"))
            response = {"status": "watching", "simkl_type": "tv", "anime_type": None}
            split = self.library.split_series(show.get("ids")) is not None
            mapped = split and show.get("use_tvdb_anime_seasons") is True
            if split or self._is_anime(show.get("ids")):
                response.update(simkl_type="anime", anime_type="tv")  # apiary add-to-history example
            if rewatch:
                response.update(self._rewatch(show))
            accepted = []  # (season, number, watched_at) that reach the library
            for season in show.get("seasons") or []:
                for episode in season.get("episodes") or []:
                    episode_key = "%s:S%sE%s" % (key, season.get("number"), episode.get("number"))
                    unmapped = mapped and _whole(season.get("number"), episode.get("number")) and \
                        self.library.map_tvdb(show.get("ids"), season["number"], episode["number"]) is None
                    if unmapped or (_ids_key(show.get("ids")), season.get("number"), episode.get("number")) \
                            in self.unknown_episodes:
                        not_found["episodes"].append({"show": {"title": show.get("title"), "ids": show.get("ids")},
                                                      "season": season.get("number"),
                                                      "number": episode.get("number")})
                        continue
                    if not rewatch and self._watched(episode_key):
                        continue  # re-posting a watched episode is a no-op
                    self.watches.append(Watch("episode", episode_key, episode.get("watched_at", ""), rewatch,
                                              response.get("rewatch_id"), show))
                    self.watched_keys.add(episode_key)
                    accepted.append((season.get("number"), episode.get("number"),
                                     episode.get("watched_at") or show.get("watched_at")))
                    added["episodes"] += 1
            if not show.get("seasons"):
                self.watches.append(Watch("show", key, show.get("watched_at", ""), rewatch,
                                          response.get("rewatch_id"), show))
            # a split anime series posted whole with the flag marks each of its entries (apiary: added.shows 7)
            added["shows"] += self.library.history_show(show, accepted, self._is_anime(show.get("ids")))
            added["statuses"].append({"request": dict(show, type="show"), "response": response})
        return 201, {"added": added, "not_found": not_found}

    def _check_anime_ids(self, r, shows_with_numbers):
        for show in shows_with_numbers:
            mixed = sorted(set(show.get("ids") or {}) & set(PER_SEASON_ANIME_IDS))
            if mixed:
                self.violations.append("%s %s: per-season anime ids %s with season and episode numbers"
                                       % (r.method, r.path, ", ".join(mixed)))

    # -- scrobble -----------------------------------------------------------------------------
    def _scrobble(self, r):
        """POST /scrobble/start|pause|stop in the documented shapes (simkl-api §5.1, §12)."""
        action = r.path.rsplit("/", 1)[1]
        body = r.json if isinstance(r.json, dict) else {}
        if "allow_rewatch" in r.query:
            self.violations.append("POST %s with allow_rewatch" % r.path)
        kinds = [kind for kind in ("movie", "show", "anime") if kind in body]
        if len(kinds) != 1 or (kinds[0] == "movie") == isinstance(body.get("episode"), dict):
            self.violations.append("POST %s: not exactly one movie, show+episode or anime+episode" % r.path)
            return 400, {"error": "empty_field", "code": 400, "message": "One item expected"}
        progress = body.get("progress")
        if isinstance(progress, bool) or not isinstance(progress, (int, float)) or not 0 <= progress <= 100 \
                or round(progress, 2) != progress:
            self.violations.append("POST %s with progress %r" % (r.path, progress))
            return 400, {"error": "wrong_parameter", "code": 400, "message": "Bad progress"}
        item = body[kinds[0]] if isinstance(body[kinds[0]], dict) else {}
        ids = item.get("ids") if isinstance(item.get("ids"), dict) else {}
        episode = body.get("episode") or {}
        if kinds[0] != "movie":
            self._check_anime_ids(r, [item])
        token = r.headers.get("Authorization", "")[7:]
        now = self.clock()
        last = self._scrobble_locks.get(token)
        if last is not None and now - last < self.scrobble_lock - 1e-6:
            return 400, {"error": "RATE_LIMIT", "code": 400, "message": "Please wait 20 seconds"}
        anime_without_mapping = kinds[0] != "movie" and self._is_anime(ids) and not (
            item.get("use_tvdb_anime_seasons") is True and ("tvdb" in ids or "tmdb" in ids))
        if not ids or not self._known(ids) or anime_without_mapping:
            # A split-cour anime sent with TMDB/TVDB numbers but without the flag is not found (§12).
            return 404, {"error": "id_err", "code": 404, "message": "Item not found"}
        self._scrobble_locks[token] = now
        if kinds[0] == "movie":
            key = "movie:" + _ids_key(ids)
        else:
            key = "show:%s:S%sE%s" % (_ids_key(ids), episode.get("season"), episode.get("number"))
        watched = progress >= WATCHED_PROGRESS and action in ("stop", "pause")
        since = self._scrobbled_at.get(key)
        if watched and since is not None and now - since < SCROBBLE_GUARD:
            return 409, {"watched_at": _iso(since), "expires_at": _iso(since + SCROBBLE_GUARD)}
        answered = {"start": "start", "pause": "pause"}.get(action, "scrobble" if watched else "pause")
        echo = dict(item, ids=dict(ids, simkl=_simkl_id(key)))
        answer = {"id": 0 if action == "start" else next(self._playback_ids), "action": answered,
                  "progress": int(progress) if progress == int(progress) else progress, kinds[0]: echo}
        if kinds[0] != "movie":
            answer["episode"] = dict(episode)
        if answered == "scrobble":
            self._scrobbled_at[key] = now
            self.now_playing.pop(key, None)
            self._scrobble_history(kinds[0], key, item, episode, _iso(now))
        else:
            self.now_playing[key] = ("watching" if answered == "start" else "paused", progress)
        self.scrobbles.append((action, key, progress, answered))
        return 201, answer

    def _scrobble_history(self, kind, key, item, episode, watched_at):
        """A stop at >= 80 % writes the history entry itself, "same as POST /sync/history" (§12): a
        re-add of a watched item is a no-op there too."""
        if self._watched(key):
            return
        self.watched_keys.add(key)
        if kind == "movie":
            self.watches.append(Watch("movie", key, watched_at, body=item, via="scrobble"))
            self.library.history_movie(dict(item, watched_at=watched_at))
        else:
            self.watches.append(Watch("episode", key, watched_at, body=item, via="scrobble"))
            self.library.history_show(item, [(episode.get("season"), episode.get("number"), watched_at)],
                                      kind == "anime" or self._is_anime(item.get("ids")))

    def history_entries(self, key):
        """How many history entries Simkl holds for this item key, whichever endpoint wrote them."""
        with self._lock:
            return len([w for w in self.watches if w.key == key])

    def _is_anime(self, ids):
        """Simkl files these show ids as anime (`anime_ids` names any of them, or they name a series of
        the library's anime catalogue)."""
        return isinstance(ids, dict) and (any("%s=%s" % kv in self.anime_ids for kv in ids.items())
                                          or self.library.split_series(ids) is not None)

    def _watched(self, key):
        """Watched and not removed since (history re-adds are no-ops on Simkl)."""
        return key in self.watched_keys

    def _rewatch(self, item):
        if self.rewatch_mode == "no_rewatch_id":
            return {}
        rewatch_id = item.get("rewatch_id") or str(next(self._rewatch_ids))
        return {"rewatch_id": rewatch_id, "rewatch_status": "active"}

    def _remove(self, body):
        deleted = {"movies": 0, "shows": 0, "episodes": 0}
        for movie in body.get("movies") or []:
            self.removed.append("movie:" + _ids_key(movie.get("ids")))
            self.watched_keys.discard(self.removed[-1])
            deleted["movies"] += 1
        for show in body.get("shows") or []:
            key = "show:" + _ids_key(show.get("ids"))
            for season in show.get("seasons") or []:
                for episode in season.get("episodes") or []:
                    self.removed.append("%s:S%sE%s" % (key, season.get("number"), episode.get("number")))
                    self.watched_keys.discard(self.removed[-1])
                    deleted["episodes"] += 1
        self.library.history_remove(body)
        return 201, {"deleted": deleted, "not_found": {"movies": [], "shows": []}}

    # -- ratings ------------------------------------------------------------------------------
    def _rated_items(self, body):
        """(kind, family, item) of a ratings body: movies[], shows[] and anime[] (anime is counted and
        answered under shows: api-reference add-ratings, "added.anime does NOT exist")."""
        for group, family in (("movies", "movies"), ("shows", "shows"), ("anime", "shows")):
            for item in body.get(group) or []:
                if isinstance(item, dict):
                    yield group, family, item

    def _rate(self, body):
        """POST /sync/ratings as api.simkl.org api-reference add-ratings documents it (simkl-api §7.3, §13)."""
        added = {"movies": 0, "shows": 0, "statuses": []}  # add-ratings: no added.anime
        not_found = {"movies": [], "shows": []}
        for group, family, item in self._rated_items(body):
            rating = item.get("rating")
            if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 10:
                continue  # add-ratings: "Out-of-range values (0, 11, negatives) are silently ignored"
            if not item.get("ids") or not self._known(item.get("ids")):
                not_found[family].append(item)
                continue
            kind = "movie" if group == "movies" else \
                "anime" if group == "anime" or self._is_anime(item.get("ids")) else "show"
            rated_at = item.get("rated_at") or _iso(self.clock())  # add-ratings: rated_at "Defaults to now"
            status = self.library.rate(kind, item, rating, rated_at)
            self.rating_changes.append(RatingChange(_rating_key(kind, item), rating, rated_at))
            added[family] += 1
            # add-ratings example: the request echoed, the response the title's list status
            added["statuses"].append({"request": item, "response": {"status": status}})
        return 201, {"added": added, "not_found": not_found}

    def _unrate(self, body):
        """POST /sync/ratings/remove as api.simkl.org api-reference remove-ratings documents it: `deleted`
        counts every matched title, rated or not; idempotent; the title stays listed."""
        deleted = {"movies": 0, "shows": 0}  # remove-ratings: no anime key, anime folded under shows
        not_found = {"movies": [], "shows": []}
        for group, family, item in self._rated_items(body):
            if not item.get("ids") or not self._known(item.get("ids")):
                not_found[family].append(item)
                continue
            kind = "movie" if group == "movies" else "show"
            if self.library.unrate(kind, item.get("ids")):
                self.rating_changes.append(RatingChange(_rating_key(kind, item), 0, _iso(self.clock())))
            deleted[family] += 1
        return 201, {"deleted": deleted, "not_found": not_found}


def _rating_key(kind, item):
    return ("movie:" if kind == "movie" else "show:") + _ids_key(item.get("ids"))


def _all_ids(body):
    """Every "key=value" id named anywhere in a history body."""
    found = set()
    for group in ("movies", "shows", "anime", "episodes"):
        for item in body.get(group) or []:
            found.update("%s=%s" % kv for kv in (item.get("ids") or {}).items())
    return found


def _whole(*values):
    """Every value a whole number (an int, or a float without a fraction; not a bool)."""
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) and int(v) == v for v in values)


def _ids_key(ids):
    for key in ID_KEYS:
        if (ids or {}).get(key):
            return "%s=%s" % (key, ids[key])
    return "?"


def _iso(timestamp):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(timestamp)))


def _simkl_id(key):
    """A stable made-up Simkl id for an item key (the answers echo one)."""
    return 100000 + sum(ord(c) for c in key) % 900000


def _error_code(status):
    return {400: "wrong_parameter", 401: "user_token_failed", 403: "forbidden", 404: "id_err",
            409: "already_watched", 412: "client_id_failed", 429: "rate_limit"}.get(status, "internal")
