"""Simkl HTTP client: required params and headers, timeouts, pacing, and typed errors decided once."""
import json
import threading
import time
import weakref
from typing import Any, Callable, Optional

# Kodi waits for every thread of a script at quit and kills it after 5 s: a connection attempt
# must give up before that.
CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 20.0
POST_INTERVAL = 1.0  # Simkl allows 1 POST per second per token
BLOCKED_WAIT = 60.0  # 412 is a growing temporary block: a minute unless Retry-After says more
SCROBBLE_LOCK_WAIT = 20.0  # 400 RATE_LIMIT: the per-user 20-second lock

# Simkl counts POSTs per client id and token, not per Client object: every client on the same clock
# shares one pace (a login's last POST and the service's first flush are made by different clients).
_POST_LOCK = threading.Lock()
_LAST_POST = {}  # clock -> its time when the last POST's answer came
# Simkl allows 10 GETs per second: a sync asks a few lists, paused playbacks and ratings in a row, and two
# syncs a moment apart (Sync now twice) would pass it. A GET waits only when GET_BURST went out within a second.
GET_BURST = 8
_GET_LOCK = threading.Lock()
_LAST_GETS = {}  # clock -> the times of the last GET_BURST GETs


class ApiError(Exception):
    """Base of every error this client raises; `error` is Simkl's machine-readable code, if any."""

    def __init__(self, message, status=None, error=None):
        super().__init__(message)
        self.status = status
        self.error = error


class NotConfigured(ApiError):
    """This build has no client id: nothing is sent."""


class AuthExpired(ApiError):
    """401: the token was revoked or expired; the user must log in again."""


class RateLimited(ApiError):
    """429, or 412 (client blocked): wait `retry_after` seconds before the next request."""

    def __init__(self, message, status=None, error=None, retry_after=None):
        super().__init__(message, status, error)
        self.retry_after = retry_after


class Transient(ApiError):
    """5xx, connection failure or timeout: worth retrying later."""

    def __init__(self, message, status=None, error=None, retry_after=None):
        super().__init__(message, status, error)
        self.retry_after = retry_after


class Rejected(ApiError):
    """Any other 4xx, or an answer that is not the JSON expected: retrying the same request will not help."""


_ADAPTER_CLASS = None


def _adapter_class():
    """The HTTPAdapter subclass, built on first use: importing requests costs more than half of the
    service's start-up, and nothing is sent while the queue is empty."""
    global _ADAPTER_CLASS
    if _ADAPTER_CLASS is not None:
        return _ADAPTER_CLASS
    import socket

    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class _CuttableAdapter(HTTPAdapter):
        """An HTTPAdapter whose open connections `cut()` can shut down from another thread: a request in
        flight then fails at once (Kodi is quitting), instead of holding the service up to its read timeout."""

        def __init__(self):
            self._connections = weakref.WeakSet()
            self._lock = threading.Lock()
            self.cut_off = False
            super().__init__()

        def init_poolmanager(self, *args, **kwargs):
            super().init_poolmanager(*args, **kwargs)
            adapter = self

            def tracked(base):
                class Connection(base):
                    def connect(self):
                        with adapter._lock:
                            if adapter.cut_off:
                                raise OSError("the add-on is stopping")
                            adapter._connections.add(self)
                        super().connect()
                return Connection

            class Pool(HTTPConnectionPool):
                ConnectionCls = tracked(HTTPConnection)

            class TlsPool(HTTPSConnectionPool):
                ConnectionCls = tracked(HTTPSConnection)

            self.poolmanager.pool_classes_by_scheme = {"http": Pool, "https": TlsPool}

        def cut(self):
            with self._lock:
                self.cut_off = True
                connections = list(self._connections)
            for connection in connections:
                sock = getattr(connection, "sock", None)
                if sock is not None:
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass  # already closed

    _ADAPTER_CLASS = _CuttableAdapter
    return _ADAPTER_CLASS


class Client:
    """One Simkl client; `tokens` supplies the Bearer token for user endpoints (see auth.TokenProvider)."""

    def __init__(self, base_url: str, client_id: str, app_name: str, app_version: str, kodi_version: str,
                 tokens=None, log: Callable[[str], None] = lambda m: None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], Any] = time.sleep,
                 session=None, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT)):
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self.app_name = app_name
        self.app_version = app_version
        self.user_agent = "%s/%s (Kodi %s)" % (app_name, app_version, kodi_version)
        self.tokens = tokens
        self._log = log
        self._clock = clock
        self._sleep = sleep
        self._session = session  # a requests.Session, made with its adapter at the first request
        self._adapter = None
        self._cut_off = False
        self._http_lock = threading.Lock()
        self._timeout = timeout  # (connect, read) seconds
        self._one_at_a_time = threading.RLock()  # Simkl wants requests in sequence, also across threads

    def abort(self):
        """Kodi is quitting: cut the request in flight and refuse new ones. What it was sending is
        still in the outbox and goes again after the next start."""
        with self._http_lock:
            self._cut_off = True
            adapter = self._adapter
        if adapter is not None:
            adapter.cut()

    # -- endpoints ---------------------------------------------------------------------------
    def hold_posts(self):
        """Count from now for POST pacing: another interpreter (the login script) has just POSTed."""
        with _POST_LOCK:
            _LAST_POST[self._clock] = self._clock()

    def pin_start(self):
        return self.request("GET", "/oauth/pin")

    def pin_check(self, user_code):
        from urllib.parse import quote
        return self.request("GET", "/oauth/pin/%s" % quote(user_code, safe=""))

    def device_start(self):
        return self.request("POST", "/oauth2/device", body={"client_id": self.client_id,
                                                            "scope": "media:read media:write"})

    def device_token(self, device_code):
        return self.request("POST", "/oauth2/token", body={
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "client_id": self.client_id, "device_code": device_code})

    def refresh_token(self, refresh_token):
        return self.request("POST", "/oauth2/token", body={
            "grant_type": "refresh_token", "client_id": self.client_id, "refresh_token": refresh_token})

    def revoke(self, token):
        return self.request("POST", "/oauth2/revoke", body={"client_id": self.client_id, "token": token})

    def user_settings(self):
        return self.request("POST", "/users/settings", body={}, auth=True)

    def add_to_history(self, body, allow_rewatch=False, skip_auto_watching=False):
        params = {}
        if allow_rewatch:
            params["allow_rewatch"] = "yes"
        if skip_auto_watching:
            params["skip_auto_watching"] = "yes"  # a show without episodes must not fill in every episode
        return self.request("POST", "/sync/history", body=body, params=params or None, auth=True)

    def scrobble(self, action, body):
        """POST /scrobble/start|pause|stop: "Watching now" and resumable playback; never allow_rewatch."""
        if action not in ("start", "pause", "stop"):
            raise ValueError("unknown scrobble action: %r" % (action,))
        return self.request("POST", "/scrobble/" + action, body=body, auth=True)

    def remove_from_history(self, body):
        return self.request("POST", "/sync/history/remove", body=body, auth=True)

    def add_ratings(self, body):
        """POST /sync/ratings: {"movies"|"shows": [{title, year, ids, rating 1-10, rated_at}]} (api.simkl.org
        api-reference add-ratings) -> {"added": {...}, "not_found": {"movies", "shows"}}."""
        return self.request("POST", "/sync/ratings", body=body, auth=True)

    def remove_ratings(self, body):
        """POST /sync/ratings/remove: the titles' ids (api-reference remove-ratings) -> {"deleted", "not_found"}."""
        return self.request("POST", "/sync/ratings/remove", body=body, auth=True)

    def search_file(self, file_name):
        return self.request("POST", "/search/file", body={"file": file_name}, auth=True)

    def activities(self):
        """GET /sync/activities: when each of the user's lists last changed (the gate before any pull)."""
        try:
            return self.request("GET", "/sync/activities", auth=True)
        except Rejected as exc:
            if exc.status != 405:
                raise
            return self.request("POST", "/sync/activities", body={}, auth=True)  # the older API's verb

    def all_items(self, kind=None, status=None, date_from=None, extended="full", all_episodes=False):
        """GET /sync/all-items[/kind[/status]]: the user's lists, with watched episodes and their times;
        all_episodes: also the episodes of completed and dropped shows, which come without them otherwise."""
        path = "/sync/all-items" + ("/" + kind if kind else "") + ("/" + status if kind and status else "")
        params = {"extended": extended, "episode_watched_at": "yes"}
        if all_episodes:
            params["include_all_episodes"] = "yes"
        if date_from:
            params["date_from"] = date_from
        return self.request("GET", path, params=params, auth=True)

    def playback(self, date_from=None):
        """GET /sync/playback: the user's paused playbacks (movies and episodes), paused at or after date_from
        when given (simkl-api §5.3; api.simkl.org api-reference/simkl/get-playback-sessions)."""
        return self.request("GET", "/sync/playback", params={"date_from": date_from} if date_from else None,
                            auth=True)

    def ratings(self, kind, date_from=None, values="1,2,3,4,5,6,7,8,9,10"):
        """GET /sync/ratings/{movies|shows|anime}/{values}: the user's own ratings (every value asked: only
        what was rated comes back), changed since date_from when given; on 405 POST (simkl-api §7.1, §7.3)."""
        path = "/sync/ratings/%s/%s" % (kind, values)
        params = {"date_from": date_from} if date_from else None
        try:
            return self.request("GET", path, params=params, auth=True)
        except Rejected as exc:
            if exc.status != 405:
                raise
            return self.request("POST", path, body={}, params=params, auth=True)

    # -- transport ---------------------------------------------------------------------------
    def request(self, method: str, path: str, body=None, params=None, auth=False):
        """Send one request and return its parsed JSON (None for an empty body), or raise an ApiError."""
        if not self.client_id:
            raise NotConfigured("no Simkl client id in this build")
        if self._cut_off:
            raise Transient("the add-on is stopping")
        try:
            return self._send(method, path, body, params, auth)
        except AuthExpired:
            if auth and self.tokens is not None and self.tokens.on_unauthorized():
                return self._send(method, path, body, params, auth)
            raise

    def _send(self, method, path, body, params, auth):
        query = {"client_id": self.client_id, "app-name": self.app_name, "app-version": self.app_version}
        query.update(params or {})
        headers = {"User-Agent": self.user_agent, "Accept": "application/json"}
        if auth:
            token = self.tokens.access_token() if self.tokens is not None else None
            if not token:
                raise AuthExpired("not logged in", status=None, error="no_token")
            headers["Authorization"] = "Bearer " + token
        if method != "POST":
            if auth:  # the user's GETs (a sync's); a login's polls follow the interval Simkl gives
                self._pace_get()
            return self._exchange(method, path, query, headers, None)
        with _POST_LOCK:  # one POST at a time, at least POST_INTERVAL after the previous one's answer
            last = _LAST_POST.get(self._clock)
            wait = POST_INTERVAL - (self._clock() - last) if last is not None else 0
            if wait > 0:
                self._sleep(wait)
            try:
                return self._exchange(method, path, query, headers, body)
            finally:
                _LAST_POST[self._clock] = self._clock()  # from the answer: Simkl counted the POST before then

    def _pace_get(self):
        """Wait, if need be, so that no more than GET_BURST GETs go out within one second (on this clock)."""
        with _GET_LOCK:
            recent = _LAST_GETS.setdefault(self._clock, [])
            if len(recent) >= GET_BURST:
                wait = 1.0 - (self._clock() - recent[-GET_BURST])
                if wait > 0:
                    self._sleep(wait)
            recent.append(self._clock())
            del recent[:-GET_BURST]

    def _exchange(self, method, path, query, headers, body):
        with self._one_at_a_time:
            return self._exchange_now(method, path, query, headers, body)

    def _http(self):
        """The requests session, made at the first request (requests is imported only then)."""
        with self._http_lock:
            if self._adapter is None:
                import requests
                session = self._session or requests.Session()
                adapter = _adapter_class()()
                adapter.cut_off = self._cut_off
                session.mount("http://", adapter)
                session.mount("https://", adapter)
                self._session, self._adapter = session, adapter
            return self._session

    def _exchange_now(self, method, path, query, headers, body):
        import requests
        session = self._http()
        started = self._clock()
        try:
            response = session.request(method, self.base_url + path, params=query, headers=headers,
                                             json=body, timeout=self._timeout, verify=True, allow_redirects=False)
        except requests.Timeout:
            self._log("%s %s timed out" % (method, path))
            raise Transient("timed out") from None
        except requests.RequestException as exc:
            self._log("%s %s failed: %s" % (method, path, type(exc).__name__))
            raise Transient("connection failed: %s" % type(exc).__name__) from None
        self._log("%s %s -> %s in %.0f ms" % (method, path, response.status_code, (self._clock() - started) * 1000))
        return _decode(response)


def _retry_after(response) -> Optional[float]:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: rare enough to fall back to our own backoff


def _decode(response):
    status = response.status_code
    try:
        data = response.json() if response.content.strip() else None
        decoded = True
    except ValueError:
        data, decoded = None, False
    error = data.get("error") if isinstance(data, dict) else None
    if error is not None and not isinstance(error, str):
        error = json.dumps(error)
    if 200 <= status < 300:
        if not decoded:
            raise Rejected("answer is not JSON", status=status, error="malformed")
        return data
    if status == 401:
        raise AuthExpired("token rejected", status=status, error=error)
    if status == 429:
        raise RateLimited("rate limited", status=status, error=error, retry_after=_retry_after(response))
    if status == 412:
        raise RateLimited("client blocked", status=status, error=error,
                          retry_after=_retry_after(response) or BLOCKED_WAIT)
    if status == 400 and error == "RATE_LIMIT":
        raise RateLimited("per-user lock", status=status, error=error, retry_after=SCROBBLE_LOCK_WAIT)
    if status >= 500:
        raise Transient("server error %d" % status, status=status, error=error, retry_after=_retry_after(response))
    raise Rejected("rejected with %d" % status, status=status, error=error)
