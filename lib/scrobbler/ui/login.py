"""Log in and log out from a script (the Account page's buttons, the status view's Log in).

A script never writes the add-on's settings (the service is their only writer): after a login or a
logout it hands over to the service (account.tell_service) and waits until the service has mirrored
token.json into the settings. `from_settings` (the Account page's buttons, which close the settings
dialog): the settings are opened again once that is done. After a login, the user is asked what to do
with the watches another account left waiting (handover.py).
"""
from .. import config, kodi
from ..simkl import auth
from ..simkl.account import account_line, make_client, tell_service, token_store
from .problems import LOGIN_FAILURES


def login(from_settings=False):
    store = token_store()
    client = make_client(store)
    from .login_dialog import DialogLoginUI
    # after Simkl refused a PIN (V1) login, the dialog's heading says why the user logs in once more
    heading = kodi.localize(32973) if auth.ended_by_login_change(store.load()) else None
    result = auth.login(client, store, DialogLoginUI(heading), config.auth_flow(), pin_url=config.PIN_URL,
                        log=kodi.log)
    if result.outcome == "ok":
        tell_service()
        kodi.notify(account_line(result.user_name, result.account_type))
        from .handover import after_login
        after_login()
    elif result.outcome != "cancelled":
        kodi.ok_dialog(kodi.localize(LOGIN_FAILURES[result.outcome]), kodi.localize(32030))
    if from_settings:
        kodi.open_settings()


def logout(from_settings=False):
    store = token_store()
    if kodi.yesno_dialog(kodi.localize(32714, store.load().get("user_name") or "?")):
        auth.logout(make_client(store), store, log=kodi.log)
        tell_service()
        kodi.notify(kodi.localize(32040))
    if from_settings:
        kodi.open_settings()
