"""The logged-in Simkl account as the rest of the add-on sees it: client factory, token store, status line.

token.json (auth.TokenStore) is the one source of the login. The settings logged_in, account_type and
account_status only mirror it for the Account page; the service alone writes them (mirror()), so that
no two interpreters ever write the settings file at once.
"""
import random
import threading
import time

from .. import config, kodi
from . import api, auth

ACCOUNT_TYPE_STRINGS = {"free": 32022, "pro": 32023, "vip": 32024}
_MIRROR_LOCK = threading.RLock()  # the service mirrors from Kodi's callbacks and from its worker (a 401)


def token_store():
    return auth.TokenStore(kodi.profile_dir())


def make_client(store=None, clock=None, sleep=None):
    """The one way the add-on builds its Simkl client: every request then carries the required params.

    `clock` and `sleep` pace POSTs; the service passes its own so that tests can run on virtual time.
    """
    store = store or token_store()
    login = store.load()
    for key in ("access_token", "refresh_token"):  # not the user name: it may be any everyday word
        kodi.register_secret(login.get(key) if isinstance(login.get(key), str) else None)
    tokens = auth.TokenProvider(store, log=kodi.log)
    client = api.Client(config.api_url(), config.client_id(), config.APP_NAME, kodi.addon_version(),
                        kodi.kodi_version(), tokens=tokens, log=kodi.debug,
                        **{k: v for k, v in (("clock", clock), ("sleep", sleep)) if v is not None})
    tokens.client = client
    return client


def account_line(name, account_type):
    kind = kodi.localize(ACCOUNT_TYPE_STRINGS.get(account_type, 32022))
    return "%s (%s)" % (kodi.localize(32021, name), kind)


def current_login(store=None) -> dict:
    """The stored login ({} when logged out)."""
    login = (store or token_store()).load()
    return login if login.get("access_token") else {}


def current_owner(store=None):
    """The account logged in now, whose the watches queued now are (auth.Owner); None when logged out."""
    return auth.owner_of(current_login(store))


def mirror():
    """Make the settings show the stored login; writes only what differs. Only the service calls this."""
    with _MIRROR_LOCK:
        return _mirror()


def _mirror():
    login = current_login()
    account_type = (login.get("account_type") or "free") if login else ""
    wanted = {"account_type": account_type,
              "account_status": account_line(login.get("user_name") or "?", account_type) if login else ""}
    changed = False
    settings = kodi.addon()  # one read of the settings file
    if kodi.setting_bool("logged_in", settings=settings) != bool(login):
        kodi.set_setting_bool("logged_in", bool(login))
        changed = True
    for key, value in wanted.items():
        if kodi.setting_str(key, settings=settings) != value:
            kodi.set_setting_str(key, value)
            changed = True
    if changed:
        kodi.log("the Account settings now show: %s" % ("logged in" if login else "not logged in"))
    return changed


def tell_service(wait=5.0):
    """A script logged in or out: ask the service to mirror the login into the settings, and wait (at
    most `wait` seconds) until it has, so that nothing reads the settings file while it is written."""
    nonce = "%x" % random.getrandbits(48)
    kodi.hand_over(config.ACCOUNT_MESSAGE, {"id": nonce})
    deadline = time.monotonic() + wait
    while kodi.home_property(config.ACCOUNT_ACK_PROPERTY) != nonce:
        if time.monotonic() > deadline or kodi.abort_requested():
            kodi.log("the service did not confirm the login change (is it running?)")
            return False
        kodi.sleep(0.05)
    return True


def logged_out(notify=True, rejected_token=None):
    """A 401 that refresh could not mend: forget the token, keep every queued watch, tell the user once.

    A PIN (V1) login is one Simkl ends (its tokens cannot be refreshed nor exchanged, simkl-api.md 13): the user
    is told that Simkl changed its login, and token.json keeps that (auth.LOGIN_CHANGED) for the status view and
    the login dialog until the next login. Returns True when there was a login to forget. Every later call (each
    queued watch meets the same 401) finds none and stays silent. With `rejected_token`, a newer login saved
    meanwhile (the user logged in again while a request with the old token was under way) is left alone.
    """
    store = token_store()
    login = store.load()
    if rejected_token is not None and login.get("access_token") not in (None, rejected_token):
        return False
    had_login = bool(login.get("access_token"))
    changed = had_login and auth.from_pin_login(login)
    if had_login or not auth.ended_by_login_change(login):
        store.forget(auth.LOGIN_CHANGED if changed else None)
    mirror()
    if not had_login:
        return False
    if changed:
        kodi.warn("Simkl refused the PIN (V1) login: Simkl changed its login; queued watches are kept until the "
                  "user logs in again")
        heading, message = kodi.localize(32970), kodi.localize(32971)
    else:
        kodi.warn("Simkl rejected the login; queued watches are kept until the user logs in again")
        heading, message = kodi.localize(32763), kodi.localize(32764)
    if notify and kodi.notify(message, heading=heading, icon=kodi.WARNING):
        kodi.log("told: %s: %s" % (heading, message))
    return True
