"""Login (V1 PIN and V2 device flows), the token store in addon_data, and V2 refresh."""
import os
import time
from typing import Callable, Optional

from ..files import FileLock, read_json, write_json
from ..values import FrozenValue, Value
from .api import ApiError, AuthExpired, NotConfigured, RateLimited, Rejected, Transient

TOKEN_FILE = "token.json"
# What token.json holds once Simkl refused a PIN (V1) login, until the next login: {"ended": LOGIN_CHANGED}.
LOGIN_CHANGED = "login_changed"
REFRESH_MARGIN = 24 * 3600  # refresh a V2 token when less than a day is left
MAX_POLL_INTERVAL = 30


class TokenStore:
    """The login, as a JSON file readable by its owner only, in the add-on's profile folder."""

    def __init__(self, folder: str):
        self.folder = folder
        self.path = os.path.join(folder, TOKEN_FILE)

    def load(self) -> dict:
        return read_json(self.path)

    def save(self, data: dict) -> None:
        os.makedirs(self.folder, exist_ok=True)
        write_json(self.path, data, private=True)

    def update(self, **fields) -> dict:
        data = self.load()
        data.update(fields)
        self.save(data)
        return data

    def clear(self) -> None:
        try:
            os.remove(self.path)
        except FileNotFoundError:
            pass

    def forget(self, ended: Optional[str] = None) -> None:
        """Forget the login; with `ended`, keep why it ended (no token: logged out all the same)."""
        if ended:
            self.save({"ended": ended})
        else:
            self.clear()

    def lock(self) -> "FileLock":
        return FileLock(self.path + ".lock")


def from_pin_login(login: dict) -> bool:
    """Whether a stored login came from the PIN flow (V1): so marked, or saved unmarked without the refresh token
    that only the device login (V2) hands out."""
    return login.get("flow") == "v1" or (login.get("flow") is None and not login.get("refresh_token"))


def ended_by_login_change(login: dict) -> bool:
    """Whether the stored data is what a PIN (V1) login Simkl refused left: logged out until the user logs in again
    (V1 tokens cannot be refreshed nor exchanged, simkl-api.md 13)."""
    return not login.get("access_token") and login.get("ended") == LOGIN_CHANGED


class Owner(FrozenValue):
    """The Simkl account a queued entry belongs to: `key` tells accounts apart, `name` is what the user reads."""

    FIELDS = ("key", "name")

    def __init__(self, key: str, name: str):
        self._set(key=key, name=name)


def owner_of(login: dict) -> Optional[Owner]:
    """The account of a stored login; None when logged out, or before Simkl has named the account."""
    if not login.get("access_token"):
        return None
    name = str(login.get("user_name") or "")
    # The stable id is POST /users/settings' account.id (api.simkl.org ref/simkl/get-user-settings); a
    # login saved before it was kept is known by its user name (see Outbox.claim).
    if login.get("account_id") not in (None, ""):
        return Owner("id:%s" % login["account_id"], name)
    return Owner("name:" + name, name) if name else None


class TokenProvider:
    """Gives the api.Client a valid access token; refreshes V2 tokens before expiry and once after a 401."""

    def __init__(self, store: TokenStore, clock: Callable[[], float] = time.time, log=lambda m: None):
        self.store = store
        self.last_token = None  # the token last handed out: what a 401 rejected
        self.client = None  # set by the owner of the api.Client (the client needs us, we need it to refresh)
        self._clock = clock
        self._log = log

    def access_token(self) -> Optional[str]:
        data = self.store.load()
        if data.get("refresh_token") and data.get("expires_at") and \
                data["expires_at"] - self._clock() < REFRESH_MARGIN:
            data = self._refresh(data.get("access_token")) or data
        self.last_token = data.get("access_token")
        return self.last_token

    def on_unauthorized(self) -> bool:
        """After a 401: refresh once if we can (V2); True means retry the request."""
        data = self.store.load()
        if not data.get("refresh_token"):
            return False
        return self._refresh(data.get("access_token"), forced=True) is not None

    def _refresh(self, stale_token, forced=False) -> Optional[dict]:
        try:
            with self.store.lock():
                data = self.store.load()
                if data.get("access_token") != stale_token:
                    return data  # another interpreter refreshed while we waited for the lock
                if not forced and data.get("expires_at", 0) - self._clock() >= REFRESH_MARGIN:
                    return data
                answer = self.client.refresh_token(data["refresh_token"])
                if not isinstance(answer, dict) or not answer.get("access_token"):
                    raise Rejected("refresh answer has no access_token", error="malformed")
                data.update(_token_fields(answer, self._clock(), data.get("refresh_token")))
                self.store.save(data)
                self._log("refreshed the Simkl access token")
                return data
        except AuthExpired:
            self._log("refresh token rejected: login needed")
            return None
        except (ApiError, TimeoutError) as exc:
            self._log("token refresh failed: %s" % type(exc).__name__)
            return None


def _token_fields(answer: dict, now: float, old_refresh: Optional[str] = None) -> dict:
    fields = {"access_token": answer["access_token"],
              "refresh_token": answer.get("refresh_token") or old_refresh}
    expires_in = answer.get("expires_in")
    fields["expires_at"] = now + float(expires_in) if fields["refresh_token"] and expires_in else None
    return fields


# -- login ------------------------------------------------------------------------------------
class LoginUI:
    """What a login flow needs from the screen; ui/script.py implements it with a Kodi progress dialog."""

    def show_code(self, user_code: str, url: str, link: Optional[str] = None) -> None:
        """Show `user_code` to be entered at `url`; `link`, when Simkl gave one, opens that page with the code
        filled in (V2's verification_uri_complete)."""
        raise NotImplementedError

    def wait(self, seconds: float, seconds_left: float, total: float) -> bool:
        """Wait up to `seconds` while showing the time left; False when the user cancelled."""
        raise NotImplementedError

    def offer_new_code(self, reason: str) -> bool:
        """The code shown can no longer be used (`reason`: expired | code_gone): say so and let the user
        choose; True asks Simkl for a new code (shown with show_code), False ends the login as cancelled."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


UNUSABLE = ("expired", "code_gone")  # outcomes of a code nobody can use any more: a new one may follow


class LoginResult(Value):
    """outcome: ok | cancelled | expired | code_gone | denied | network | busy | malformed | not_configured |
    bad_client."""
    FIELDS = ("outcome", "user_name", "account_type")

    def __init__(self, outcome: str, user_name: str = "", account_type: str = ""):
        self.outcome = outcome
        self.user_name = user_name
        self.account_type = account_type


def login(client, store: TokenStore, ui: LoginUI, flow: str, clock: Callable[[], float] = time.time,
          pin_url: str = "https://simkl.com/pin", log=lambda m: None) -> LoginResult:
    """Run one login flow to its end: show the code, poll, keep the token, fetch the user's name.

    A code that expires (or that Simkl forgot) is followed by a new one when the user asks for it: one
    request at a time, each only after the user's choice."""
    try:
        while True:
            if flow == "v2":
                outcome, fields = _device_flow(client, ui, clock, pin_url, log)
            else:
                outcome, fields = _pin_flow(client, ui, clock, pin_url, log)
            if outcome not in UNUSABLE:
                break
            if not ui.offer_new_code(outcome):
                log("login: the code could no longer be used (%s); the user did not ask for a new one" % outcome)
                outcome = "cancelled"
                break
            log("login: the code could no longer be used (%s); asking Simkl for a new one" % outcome)
    except NotConfigured:
        return LoginResult("not_configured")
    except ApiError as exc:
        return LoginResult(_outcome_of(exc))
    finally:
        ui.close()
    if outcome != "ok":
        log("login ended: %s" % outcome)
        return LoginResult(outcome)
    fields["flow"] = flow
    previous = store.load()
    store.save(fields)
    try:
        user = client.user_settings()
    except ApiError as exc:
        if previous:
            store.save(previous)  # the settings still show the earlier login: keep it working
        else:
            store.clear()
        log("login: user settings failed: %s" % type(exc).__name__)
        return LoginResult(_outcome_of(exc))
    name, account_type, account_id = _account_of(user)
    store.update(user_name=name, account_type=account_type, account_id=account_id)
    log("logged in (%s account)" % account_type)
    return LoginResult("ok", name, account_type)


def _account_of(user) -> tuple:
    """(user name, account type, account id or None) from POST /users/settings' answer."""
    user = user if isinstance(user, dict) else {}
    name = ((user.get("user") or {}).get("name") or "").strip() or "?"
    account = user.get("account") if isinstance(user.get("account"), dict) else {}
    account_type = (account.get("type") or "free").strip().lower()
    account_id = account.get("id")
    if isinstance(account_id, bool) or not isinstance(account_id, (int, str)) or str(account_id).strip() == "":
        account_id = None
    return name, account_type if account_type in ("free", "pro", "vip") else "free", account_id


def _outcome_of(exc: ApiError) -> str:
    if isinstance(exc, Transient):
        return "network"
    if isinstance(exc, RateLimited):
        return "busy"
    if isinstance(exc, AuthExpired):
        return "bad_client"
    return "denied" if exc.error not in (None, "malformed") else "malformed"


def _positive(value, default):
    try:
        value = float(value)
        return value if value > 0 else default
    except (TypeError, ValueError):
        return default


PENDING = "pending"  # a poll's answer: not yet, keep polling


def _poll_until_done(ui, clock, start, code, url, poll, log, link=None):
    """Show the code, then poll at Simkl's interval until an outcome, the user's cancel, or expiry.

    `poll(interval)` returns (outcome, token fields, next interval); outcome PENDING polls on.
    """
    interval = _positive(start.get("interval"), 5)
    expires_in = _positive(start.get("expires_in"), 900)
    deadline = clock() + expires_in
    ui.show_code(code, url, link)
    while True:
        left = deadline - clock()
        if left <= 0:
            return "expired", None
        if not ui.wait(min(interval, left), left, expires_in):
            return "cancelled", None
        if deadline - clock() <= 0:
            return "expired", None
        try:
            outcome, fields, interval = poll(interval)
        except (Transient, RateLimited) as exc:
            log("login poll: %s, polling on" % type(exc).__name__)
            outcome, fields, interval = PENDING, None, min(interval * 2, MAX_POLL_INTERVAL)
        if outcome != PENDING:
            return outcome, fields


def _pin_flow(client, ui, clock, pin_url, log):
    start = client.pin_start()
    if not isinstance(start, dict) or not start.get("user_code"):
        raise Rejected("PIN answer has no user_code", error="malformed")
    code = str(start["user_code"])

    def poll(interval):
        answer = client.pin_check(code)
        if not isinstance(answer, dict):
            raise Rejected("PIN poll answer is not an object", error="malformed")
        if answer.get("result") == "OK" and answer.get("access_token"):
            return "ok", {"access_token": answer["access_token"]}, interval
        if "device_code" in answer or "user_code" in answer:
            return "code_gone", None, interval  # Simkl answers an unknown or used code with a fresh start body
        if "slow" in str(answer.get("message", "")).lower():
            interval = min(interval * 2, MAX_POLL_INTERVAL)
        return PENDING, None, interval

    url = start.get("verification_url") or start.get("verification_uri") or pin_url
    return _poll_until_done(ui, clock, start, code, url, poll, log)


def _device_flow(client, ui, clock, pin_url, log):
    start = client.device_start()
    if not isinstance(start, dict) or not start.get("user_code") or not start.get("device_code"):
        raise Rejected("device answer has no codes", error="malformed")

    def poll(interval):
        try:
            answer = client.device_token(start["device_code"])
        except Rejected as exc:
            if exc.error == "authorization_pending":
                return PENDING, None, interval
            if exc.error == "slow_down":
                return PENDING, None, interval + 5
            if exc.error == "expired_token":
                return "expired", None, interval
            if exc.error == "access_denied":
                return "denied", None, interval
            raise
        if not isinstance(answer, dict) or not answer.get("access_token"):
            raise Rejected("token answer has no access_token", error="malformed")
        scope = answer.get("scope")
        if scope is not None and "media:write" not in str(scope):
            log("device login: token lacks media:write")
            return "denied", None, interval
        return "ok", _token_fields(answer, clock()), interval

    url = start.get("verification_uri") or pin_url
    link = start.get("verification_uri_complete")
    link = link if isinstance(link, str) and link.startswith(("https://", "http://")) else None
    return _poll_until_done(ui, clock, start, str(start["user_code"]), url, poll, log, link)


def logout(client, store: TokenStore, log=lambda m: None) -> None:
    """Forget the login; on V2 also revoke the refresh token (best effort). The outbox is untouched."""
    data = store.load()
    store.clear()
    token = data.get("refresh_token")
    if token:
        try:
            client.revoke(token)
        except ApiError as exc:
            log("revoke failed (%s); the token is forgotten here anyway" % type(exc).__name__)
