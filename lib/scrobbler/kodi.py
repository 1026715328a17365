"""The one boundary to Kodi: settings, strings, logging, dialogs, JSON-RPC, window properties."""
import json
import os
import re
import threading
import time

import xbmc
import xbmcaddon
import xbmcgui
import xbmcvfs

from . import config

HOME_WINDOW = 10000
_SECRETS = set()
_SECRET_FIELD = re.compile(
    r'(["\']?(?:access_token|refresh_token|device_code|token|Authorization)["\']?\s*[:=]\s*["\']?)'
    r'(?:Bearer )?[^"\',\s}&]+',
    re.IGNORECASE)


# Kodi reads the settings file at a fresh Addon object's first read and writes it whole at each set: a read
# while another thread of this interpreter writes finds it half written ("failed to load addon settings", seen
# in Kodi 21 while the service mirrored a login and the sync thread read its settings). They take turns.
_SETTINGS_TURNS = threading.RLock()


def addon():
    """A fresh Addon object: one created earlier may not see settings another interpreter wrote.
    Making one has Kodi read the settings file: to read several settings at once, make one and pass
    it as `settings` to the readers below."""
    return xbmcaddon.Addon(config.ADDON_ID)


def setting_bool(key, default=False, settings=None):
    with _SETTINGS_TURNS:
        try:
            return (settings or addon()).getSettingBool(key)
        except (RuntimeError, TypeError):
            return default


def setting_int(key, default=0, settings=None):
    with _SETTINGS_TURNS:
        try:
            return (settings or addon()).getSettingInt(key)
        except (RuntimeError, TypeError):
            return default


def setting_str(key, default="", settings=None):
    with _SETTINGS_TURNS:
        value = (settings or addon()).getSettingString(key)
    return default if value is None else value


def set_setting_str(key, value):
    with _SETTINGS_TURNS:
        addon().setSettingString(key, value)


def set_setting_bool(key, value):
    with _SETTINGS_TURNS:
        addon().setSettingBool(key, bool(value))


def localize(string_id, *args):
    text = addon().getLocalizedString(string_id)
    return text % args if args else text


def addon_version():
    return addon().getAddonInfo("version")


def kodi_version():
    return xbmc.getInfoLabel("System.BuildVersion").split(" ")[0] or "unknown"


def addon_path():
    """The add-on's own folder (where its skin folder is)."""
    return xbmcvfs.translatePath(addon().getAddonInfo("path"))


def format_time(timestamp, now=None):
    """A moment in local time, in the user's regional formats: the time alone today, else date and time."""
    moment = time.localtime(timestamp)
    clock = time.strftime(xbmc.getRegion("time").replace(":%S", ""), moment)
    if time.localtime(time.time() if now is None else now)[:3] == moment[:3]:
        return clock
    return "%s %s" % (time.strftime(xbmc.getRegion("dateshort"), moment), clock)


def profile_dir():
    path = xbmcvfs.translatePath(addon().getAddonInfo("profile"))
    os.makedirs(path, exist_ok=True)
    return path


def register_secret(value):
    """Remember a token so that no log line can ever print it."""
    if value and len(value) >= 6:
        _SECRETS.add(value)


def redact(message):
    message = _SECRET_FIELD.sub(r"\1<redacted>", str(message))
    for secret in _SECRETS:
        message = message.replace(secret, "<redacted>")
    return message


def log(message, level=xbmc.LOGINFO):
    xbmc.log("[%s] %s" % (config.ADDON_ID, redact(message)), level)


def debug(message):
    """Detail lines: visible in kodi.log at info level when the add-on's debug setting is on."""
    log(message, xbmc.LOGINFO if setting_bool("debug") else xbmc.LOGDEBUG)


def warn(message):
    log(message, xbmc.LOGWARNING)


def error(message):
    log(message, xbmc.LOGERROR)


def notify(message, heading=None, icon=xbmcgui.NOTIFICATION_INFO, millis=5000):
    """A notification; held back (only logged) while a video plays when the user chose silence during
    playback. Returns whether it was shown."""
    if setting_bool("notify_quiet_playback") and condition("Player.HasVideo"):
        log("not shown while a video plays: %s" % message)
        return False
    xbmcgui.Dialog().notification(heading or localize(32000), message, icon, millis, False)
    return True


def ok_dialog(message, heading=None):
    xbmcgui.Dialog().ok(heading or localize(32000), message)


def yesno_dialog(message, heading=None):
    return bool(xbmcgui.Dialog().yesno(heading or localize(32000), message))


def yesnocustom_dialog(message, heading, yes_label, no_label, custom_label):
    """Three buttons, in this order on screen: yes, no, custom. Returns 1 (yes), 0 (no), 2 (custom) or -1
    (closed with Back). No is the one focused first."""
    return xbmcgui.Dialog().yesnocustom(heading, message, custom_label, no_label, yes_label)


def select_dialog(heading, options):
    return xbmcgui.Dialog().select(heading, options)


def text_viewer(heading, text):
    xbmcgui.Dialog().textviewer(heading, text)


class ProgressBG:
    """A progress bar in the corner that never blocks Kodi (what a long sync shows, when it shows one)."""

    def __init__(self, heading, message=""):
        self._dialog = xbmcgui.DialogProgressBG()
        self._dialog.create(heading, message)

    def update(self, percent, message=""):
        self._dialog.update(max(0, min(100, int(percent))), message=message)

    def close(self):
        self._dialog.close()


def jsonrpc(method, params=None):
    """Call Kodi's JSON-RPC; returns the result, or None with a log line on an error answer."""
    request = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}}
    try:
        answer = json.loads(xbmc.executeJSONRPC(json.dumps(request)))
    except (TypeError, ValueError) as exc:
        warn("JSON-RPC %s gave no readable answer: %s" % (method, exc))
        return None
    if "error" in answer:
        debug("JSON-RPC %s failed: %s" % (method, answer["error"]))
        return None
    return answer.get("result")


def hand_over(message, data=None):
    """A script's hand-off to the service, which runs in another interpreter: Kodi announces it to every
    Monitor as method "Other." + message from the add-on (config.*_MESSAGE; service.Service.notification)."""
    params = {"sender": config.ADDON_ID, "message": message}
    if data is not None:
        params["data"] = data
    jsonrpc("JSONRPC.NotifyAll", params)


def jsonrpc_batch(calls):
    """Several JSON-RPC calls in one executeJSONRPC round trip. `calls` is a list of (method, params);
    returns one (result, error) pair per call, in order (Kodi answers a batch with a list)."""
    if not calls:
        return []
    request = [{"jsonrpc": "2.0", "id": n, "method": method, "params": params}
               for n, (method, params) in enumerate(calls)]
    try:
        answers = json.loads(xbmc.executeJSONRPC(json.dumps(request)))
    except (TypeError, ValueError) as exc:
        warn("JSON-RPC batch gave no readable answer: %s" % exc)
        return [(None, {"message": "unreadable answer"})] * len(calls)
    if not isinstance(answers, list):
        error = answers.get("error") if isinstance(answers, dict) else None
        return [(None, error or {"message": "not a batch answer"})] * len(calls)
    by_id = {answer.get("id"): answer for answer in answers if isinstance(answer, dict)}
    found = []
    for n in range(len(calls)):
        answer = by_id.get(n, {"error": {"message": "no answer"}})
        found.append((answer.get("result"), answer.get("error")))
    return found


def home_property(name):
    return xbmcgui.Window(HOME_WINDOW).getProperty(name)


def set_home_property(name, value):
    xbmcgui.Window(HOME_WINDOW).setProperty(name, value)


def clear_home_property(name):
    xbmcgui.Window(HOME_WINDOW).clearProperty(name)


def info_label(name):
    return xbmc.getInfoLabel(name)


def condition(expression):
    return xbmc.getCondVisibility(expression)


def playlist_goes_on():
    """Whether Kodi plays a music or video playlist that has items after the current one. Kodi keeps one
    current item for its playlists and resets it to -1 once a playlist is stopped or played to its end
    (xbmc/interfaces/legacy/PlayList.cpp getposition; xbmc/PlayListPlayer.cpp Reset)."""
    for which in (xbmc.PLAYLIST_VIDEO, xbmc.PLAYLIST_MUSIC):
        playlist = xbmc.PlayList(which)
        if 0 <= playlist.getposition() < playlist.size() - 1:
            return True
    return False


INFO = xbmcgui.NOTIFICATION_INFO
WARNING = xbmcgui.NOTIFICATION_WARNING
ERROR = xbmcgui.NOTIFICATION_ERROR


_script_monitor = None


def _monitor():
    global _script_monitor
    if _script_monitor is None:
        _script_monitor = xbmc.Monitor()
    return _script_monitor


def abort_requested():
    return _monitor().abortRequested()


def sleep(seconds):
    """Wait in a script (never in the service loop, which waits on its own Monitor)."""
    _monitor().waitForAbort(seconds)


def pause(seconds):
    """Wait on this thread, and meanwhile run the callbacks (a click, Back) of the windows it opened: Kodi runs
    them on the opening thread only while it waits in Kodi (xbmc/interfaces/legacy/ModuleXbmc.cpp sleep). For a
    thread of the service, which has no Monitor of its own to wait on; the caller looks for Kodi's quit itself."""
    xbmc.sleep(max(1, int(seconds * 1000)))


def open_settings():
    addon().openSettings()
