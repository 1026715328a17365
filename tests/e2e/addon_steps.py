"""Steps on the add-on under test that scenarios share: its id, its start line, login, a clean quit."""
from .kodi_harness import Kodi, KodiError

ADDON_ID = "service.scrobbler.simkl"
SERVICE_STARTED = r"service\.scrobbler\.simkl.*\bstarted\b"


def login(kodi: Kodi, fake, timeout: float = 20) -> None:
    """Run the add-on's login action and approve its PIN on the fake Simkl; returns once the dialog closed."""
    kodi.run_addon(ADDON_ID, "login")
    if not kodi.wait_for_window("progressdialog", timeout):
        raise KodiError("the login dialog did not open\n" + kodi.log_tail())
    fake.approve_pin()
    if not kodi.wait_until(lambda: not kodi.window_active("progressdialog"), timeout):
        raise KodiError("the login dialog did not close after the PIN was approved\n" + kodi.log_tail())


def quit_cleanly(kodi: Kodi, timeout: float = 20) -> None:
    """Application.Quit, then assert what a user would notice: an exit with code 0 within `timeout` seconds,
    no script killed at quit ("didn't stop in 5 seconds"), no Python error in kodi.log of any run."""
    code = kodi.stop(timeout)
    assert code == 0, "Kodi exited with code %s\n%s" % (code, kodi.log_tail())
    assert not kodi.slow_stops(), "a script had to be killed at quit:\n" + "\n".join(kodi.slow_stops())
    kodi.assert_no_python_errors()
