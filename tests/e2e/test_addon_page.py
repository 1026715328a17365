"""The add-on's information page (Add-ons → My add-ons → Program add-ons → Simkl Scrobbler): its Open/Run
button is enabled and opens the status view, and the service still starts by itself.

Kodi enables that button only for an add-on whose main type (its first extension point in addon.xml) can
be run: a script or a plugin (xbmc/addons/gui/GUIDialogAddonInfo.cpp, CanRun/CanOpen; CONTROL_BTN_SELECT
is control 12). With the service listed first the button was greyed out ("Run" disabled, seen in Kodi 20.1).
Listed first, the script also decides where My add-ons lists it: under Program add-ons, no longer Services
(seen in Kodi 20.1: addons://user/xbmc.service/ is then empty).
"""
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from .addon_steps import ADDON_ID, SERVICE_STARTED, STATUS_WINDOW, close_status_view, focused_label
from .kodi_harness import KodiError

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]

ADDON_NAME = "Simkl Scrobbler"
ADDON_INFO = "addoninformation"
SELECT_BUTTON = 12  # Open / Run on the information page
PROGRAM_ADDONS = "addons://user/xbmc.python.script/"  # My add-ons → Program add-ons


def open_addon_page(kodi, timeout=15):
    """My add-ons → Program add-ons (where a script-first add-on is listed), our add-on selected: its
    information page opens."""
    kodi.close_dialogs()
    kodi.call("GUI.ActivateWindow", {"window": "addonbrowser", "parameters": [PROGRAM_ADDONS]})

    def listed():
        labels = kodi.info_labels("Container.FolderPath", "Container.NumItems")
        return labels["Container.FolderPath"].rstrip("/") == PROGRAM_ADDONS.rstrip("/") and \
            labels["Container.NumItems"] not in ("", "0")

    if not kodi.wait_until(listed, timeout):
        raise KodiError("the add-on list did not open: %r\n%s" % (
            kodi.info_labels("Container.FolderPath"), kodi.log_tail()))
    count = int(kodi.info_labels("Container.NumItems")["Container.NumItems"])
    seen = []
    for _ in range(count + 1):
        seen.append(kodi.info_labels("ListItem.Label")["ListItem.Label"])
        if seen[-1] == ADDON_NAME:
            break
        kodi.send_input("Down")
        kodi.wait_until(lambda: kodi.info_labels("ListItem.Label")["ListItem.Label"] != seen[-1], 1, interval=0.05)
    else:
        raise KodiError("no %r in My add-ons → Program add-ons: %r" % (ADDON_NAME, seen))
    kodi.send_input("Select")
    if not kodi.wait_for_window(ADDON_INFO, timeout):
        raise KodiError("the add-on's information page did not open\n" + kodi.log_tail())


def select_button(kodi):
    """(enabled, label) of the information page's Open/Run button."""
    condition = "Control.IsEnabled(%d)" % SELECT_BUTTON
    enabled = kodi.call("XBMC.GetInfoBooleans", {"booleans": [condition]})[condition]
    return enabled, kodi.info_labels("Control.GetLabel(%d)" % SELECT_BUTTON)["Control.GetLabel(%d)" % SELECT_BUTTON]


def focused_control(kodi):
    return kodi.info_labels("System.CurrentControlId")["System.CurrentControlId"]


def test_the_information_page_offers_open_and_it_opens_the_status_view(kodi):
    open_addon_page(kodi)
    try:
        enabled, label = select_button(kodi)
        assert enabled, "the information page's %r button is greyed out" % label

        for _ in range(10):  # the page's buttons are a row, Open/Run the first of them
            if focused_control(kodi) == str(SELECT_BUTTON):
                break
            kodi.send_input("Left")
            kodi.wait_until(lambda: focused_control(kodi) == str(SELECT_BUTTON), 0.5, interval=0.1)
        assert focused_control(kodi) == str(SELECT_BUTTON), "the focus is on %r" % focused_label(kodi)
        kodi.send_input("Select")
        assert kodi.wait_for_window(STATUS_WINDOW, 20), "Open did not open the status view\n" + kodi.log_tail()
        close_status_view(kodi)
    finally:
        kodi.close_dialogs()


def test_the_information_page_shows_the_description_and_the_news_line_by_line(kodi):
    metadata = ET.parse(REPO / "addon.xml").getroot().find("extension[@point='xbmc.addon.metadata']")
    open_addon_page(kodi)
    try:
        shown = kodi.info_labels("ListItem.AddonDescription", "ListItem.AddonNews")
    finally:
        kodi.close_dialogs()

    assert shown["ListItem.AddonDescription"] == metadata.findtext("description")
    # The changelog keeps addon.xml's lines: a version, then one short line per change (tests/test_resources.py).
    assert shown["ListItem.AddonNews"].splitlines() == metadata.findtext("news").splitlines()


def test_the_service_still_starts_by_itself_at_the_next_boot(kodi):
    assert kodi.addon_enabled(ADDON_ID)
    assert kodi.wait_for_log(SERVICE_STARTED, 5), "the service did not start"

    kodi.restart()

    assert kodi.wait_for_log(SERVICE_STARTED, 30), "the service did not start at the next boot\n" + kodi.log_tail()
