"""Scenario 1: a fresh install from the release zip: the service starts, now and at the next boot, and says once
that the user has to log in (ui/notices.py; its words are checked in tests/test_notifications.py)."""
import pytest

from .addon_steps import ADDON_ID, SERVICE_STARTED, quit_cleanly

pytestmark = pytest.mark.e2e
TOLD_LOG_IN = r"\[service\.scrobbler\.simkl\] told once for good: log_in"


def test_fresh_install_enables_starts_the_service_and_quits_cleanly(make_kodi):
    kodi = make_kodi(enable=False, library=False)
    assert not kodi.addon_enabled(ADDON_ID)

    kodi.enable_addon(ADDON_ID)

    assert kodi.addon_enabled(ADDON_ID)
    assert kodi.addon_enabled("script.module.requests")
    assert kodi.wait_for_log(SERVICE_STARTED, 30), "no service start line in kodi.log"
    kodi.assert_no_python_errors()
    quit_cleanly(kodi)


def test_service_starts_by_itself_at_the_next_boot(make_kodi):
    kodi = make_kodi(library=False)

    kodi.restart()

    assert kodi.addon_enabled(ADDON_ID)
    assert kodi.wait_for_log(SERVICE_STARTED, 30), "the service did not start at the second boot"
    quit_cleanly(kodi)


def test_a_fresh_install_says_once_that_the_user_has_to_log_in(make_kodi):
    kodi = make_kodi(enable=False, library=False)
    kodi.enable_addon(ADDON_ID)

    assert kodi.wait_for_log(TOLD_LOG_IN, 30), kodi.log_tail()
    assert kodi.wait_until(lambda: kodi.window_active("notification"), 10), "no notification shown"

    kodi.restart()
    assert kodi.wait_for_log(SERVICE_STARTED, 30), "the service did not start at the second boot"
    assert not kodi.wait_until(lambda: kodi.window_active("notification"), 8), "told again at the next boot"
    assert not kodi.wait_for_log(TOLD_LOG_IN, 0)
    quit_cleanly(kodi)
