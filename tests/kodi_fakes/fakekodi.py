"""State of the fake Kodi the tests run the add-on in.

The fake xbmc* modules beside this file build on kodistubs (so every name and signature Kodi has
exists) and read the add-on's real addon.xml, resources/settings.xml and strings.po: an unknown
setting id or string id raises, so a missing one fails a test instead of showing an empty label.
"""
import importlib.metadata
import importlib.util
import json
import os
import re
import sys
import threading
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ADDON_XML = ET.parse(os.path.join(ROOT, "addon.xml")).getroot()
ADDON_ID = ADDON_XML.get("id")


def stub_file(name):
    """The kodistubs module `name` first on sys.path: kodistubs 21 and older as a file (xbmc.py), 22 as a
    package (xbmc/__init__.py); ours, which shadows it, is passed over."""
    here = os.path.dirname(os.path.abspath(__file__))
    for folder in sys.path:
        for path in (os.path.join(folder or ".", name + ".py"), os.path.join(folder or ".", name, "__init__.py")):
            if os.path.isfile(path) and os.path.dirname(os.path.abspath(path)) != here:
                return path
    raise ImportError("kodistubs is not installed: pip install -r requirements-dev.txt")


def load_stub(name):
    """Import kodistubs' module `name` under another name, since ours shadows it on sys.path."""
    spec = importlib.util.spec_from_file_location("kodistubs_" + name, stub_file(name))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stubs_folder():
    """The folder kodistubs' modules are in (a site-packages, or where make unit22 installed 22)."""
    path = stub_file("xbmc")
    return os.path.dirname(path if path.endswith("xbmc.py") else os.path.dirname(path))


def stubs_version():
    """The version of the kodistubs the fakes build on (the distribution beside its xbmc module), or None."""
    for found in importlib.metadata.distributions(path=[stubs_folder()]):
        if (found.metadata["Name"] or "").lower() == "kodistubs":
            return found.version
    return None


def read_settings_definitions():
    """{id: (type, default string)} from the real resources/settings.xml."""
    tree = ET.parse(os.path.join(ROOT, "resources", "settings.xml"))
    found = {}
    for setting in tree.iter("setting"):
        default = setting.findtext("default")
        found[setting.get("id")] = (setting.get("type"), default or "")
    return found


SETTINGS_XML = os.path.join(ROOT, "resources", "settings.xml")


def _condition_holds(settings, element):
    """One <condition>/<dependency> of settings.xml version 1: `setting` compared with the element's text;
    operator "is" (the default) or "!is" (negated), as Kodi's CSettingDependencyCondition compares a
    setting's value as text (xbmc/settings/lib/SettingDependency.cpp)."""
    value = (element.text or "").strip()
    negated = (element.get("operator") or "is").startswith("!")
    return (settings[element.get("setting")] == value) != negated


def _holds(settings, element):
    if element.tag in ("and", "or"):
        results = [_holds(settings, child) for child in element]
        return all(results) if element.tag == "and" else any(results)
    if element.get("setting") is not None:
        return _condition_holds(settings, element)
    return all(_holds(settings, child) for child in element)  # a <dependency> holding <and>/<or>


def read_strings():
    path = os.path.join(ROOT, "resources", "language", "resource.language.en_gb", "strings.po")
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    return {int(num): msgid for num, msgid in
            re.findall(r'msgctxt "#(\d+)"\s*\nmsgid "((?:[^"\\]|\\.)*)"', text)}


# Kodi 19's build version (Debian 11's package), answered as System.BuildVersion once a test calls be_kodi(19).
KODI19_BUILD = "19.1 (19.1.0) Git:20210509-nogit"


class World:
    """Everything a test may set up or inspect about the running Kodi."""

    def __init__(self, profile_dir):
        self.profile_dir = profile_dir
        self.definitions = read_settings_definitions()
        self.strings = read_strings()
        self.settings = {key: default for key, (_, default) in self.definitions.items()}
        self.properties = {}  # Home window properties
        self.log = []  # (level, message)
        self.notifications = []  # (heading, message, icon)
        self.dialogs = []  # (kind, heading, message)
        # What the next yesno / select dialogs answer (empty: False / -1); a callable runs while the dialog
        # is open and returns the answer.
        self.yesno_answers = []
        self.yesnocustom_answers = []  # 1 yes, 0 no, 2 the custom button, -1 Back (empty: -1)
        self.yesnocustom_buttons = []  # (yes, no, custom) labels of each yes/no/custom dialog shown
        self.select_answers = []
        self.progress_updates = []
        self.background_progress = []  # (event, percent, text) of DialogProgressBG
        self.progress_cancel_after = None  # cancel the progress dialog (or login window) after N updates
        self.windows = []  # the add-on's own windows (WindowXMLDialog) now shown
        self.windows_shown = []  # every one shown so far
        self.textures = {}  # image path -> the bytes a window loaded from it
        self.abort = threading.Event()
        self.jsonrpc_handlers = {}  # method -> callable(params) -> result
        self.jsonrpc_calls = []
        self.info_labels = {}
        self.conditions = {}
        self.player = None  # the PlayingFile now playing, if any
        # Kodi's playlists (xbmc.PLAYLIST_MUSIC 0, PLAYLIST_VIDEO 1): their sizes, and the playlist player's
        # current item, one for both (xbmc/interfaces/legacy/PlayList.cpp getposition: GetCurrentSong()),
        # -1 once a playlist is stopped or has played its last item (PlayListPlayer.cpp: Reset()).
        self.playlist_sizes = {0: 0, 1: 0}
        self.playlist_position = -1
        self.players = []  # every xbmc.Player created: Kodi calls back them all
        self.playcounts = {}  # (type, dbid) -> the library playcount Kodi keeps
        self.build_version = "20.1 (20.1.0) Git:20230311-nogit"
        self.kodi_major = 20  # be_kodi(19): the fakes then lack what Kodi 19's Python API lacks (xbmc.py)
        self.monitors = []  # every xbmc.Monitor created: Kodi delivers notifications to them all
        self.region = {}  # xbmc.getRegion answers other than Kodi's default region
        # What the user does in the next XML windows (xbmcgui.WindowXMLDialog): a button's label or a
        # control id is a click, "select" the Select key (OK on a remote), "back" the Back key, a
        # callable(window) runs while the window shows. Once none is left, Back (a window opened with
        # show(), which the script does not wait on, just stays open; see WindowXMLDialog.run_callbacks).
        self.window_steps = []

    def be_kodi(self, major):
        """Play Kodi `major` (19 or 20): its build version, and on 19 the Python API of xbmc.python 3.0.0."""
        self.kodi_major = major
        self.build_version = KODI19_BUILD if major == 19 else "20.1 (20.1.0) Git:20230311-nogit"

    def run_window_callbacks(self):
        """A script waits (xbmc.sleep, Monitor.waitForAbort): Kodi runs the callbacks of its open windows."""
        for window in list(self.windows):
            window.run_callbacks()

    # settings, as Kodi stores them: strings underneath
    def visible(self, key):
        """Whether Kodi's settings dialog shows the setting now: <visible> and every visible dependency."""
        [element] = [s for s in ET.parse(SETTINGS_XML).iter("setting") if s.get("id") == key]
        if element.findtext("visible") == "false":
            return False
        return all(_holds(self.settings, dependency) for dependency in element.findall("dependencies/dependency")
                   if dependency.get("type") == "visible")

    def press_defaults(self, category):
        """The settings dialog's Defaults button on a category page, then OK: Kodi resets the settings that
        have a control on that page (CGUIDialogSettingsBase::OnResetSettings resets m_settingControls; a
        level-4 setting never gets a control), saves, and tells the add-on's monitors."""
        [element] = [c for c in ET.parse(SETTINGS_XML).iter("category") if c.get("id") == category]
        for setting in element.iter("setting"):
            if int(setting.findtext("level") or 0) < 4 and setting.get("type") != "action":
                self.settings[setting.get("id")] = setting.findtext("default") or ""
        self.settings_saved()

    def setting(self, key):
        if key not in self.definitions:
            raise KeyError("setting %r is not in resources/settings.xml" % key)
        return self.settings[key]

    def set_setting(self, key, value):
        if key not in self.definitions:
            raise KeyError("setting %r is not in resources/settings.xml" % key)
        if isinstance(value, bool):
            value = "true" if value else "false"
        self.settings[key] = str(value)

    def settings_saved(self):
        """An add-on script saved settings: Kodi tells every monitor of the add-on."""
        for monitor in list(self.monitors):
            monitor.onSettingsChanged()

    def notify(self, method, data, sender="xbmc"):
        """A JSON-RPC notification, as Kodi announces it to every Monitor."""
        for monitor in list(self.monitors):
            monitor.onNotification(sender, method, json.dumps(data))

    def string(self, number):
        if number not in self.strings:
            raise KeyError("string id %d is not in strings.po" % number)
        return self.strings[number]

    def log_text(self):
        return "\n".join(message for _, message in self.log)

    def jsonrpc(self, method, params):
        self.jsonrpc_calls.append((method, params))
        if method == "JSONRPC.NotifyAll":
            for monitor in list(self.monitors):
                monitor.onNotification(params.get("sender", ""), "Other." + params.get("message", ""),
                                       json.dumps(params.get("data")))
            return {"result": "OK"}
        handler = self.jsonrpc_handlers.get(method)
        if handler is None:
            return {"error": {"code": -32601, "message": "Method not found."}}
        try:
            return {"result": handler(params)}
        except JsonRpcError as exc:
            return {"error": {"code": -32602, "message": str(exc)}}


class JsonRpcError(Exception):
    """A handler's way to answer with a JSON-RPC error, as Kodi does for invalid params."""


_world = None


def world():
    if _world is None:
        raise RuntimeError("no fake Kodi: use the `kodi` fixture")
    return _world


def reset(profile_dir):
    global _world
    _world = World(profile_dir)
    return _world


class PlayingFile:
    """What the fake player plays: set `world().player = PlayingFile(...)`, then fire Player callbacks,
    or let `open_file` / `close_file` below do both in Kodi's order.

    path: what Player.getPlayingFile() returns, the item's dynamic path: for an add-on video the URL
        the add-on resolved it to (xbmc/interfaces/legacy/Player.cpp: CurrentFileItem().GetDynPath()).
    source: the item's own path, e.g. its plugin:// URL (getPlayingItem().getPath()); defaults to path.
    """

    def __init__(self, tag, path, total, position=0.0, properties=None, source=None):
        self.tag = tag
        self.path = path
        self.source = source or path
        self.total = total
        self.position = position
        self.properties = dict(properties or {})  # the playing ListItem's properties

    def library_key(self):
        dbid = self.tag.getDbId()
        media_type = self.tag.getMediaType()
        return (media_type, dbid) if dbid and dbid > 0 and media_type in ("movie", "episode") else None

    def announced_item(self):
        """The "item" of Kodi's Player.* notifications: the library type and id, else a type and title."""
        key = self.library_key()
        if key:
            return {"type": key[0], "id": key[1]}
        return {"type": self.tag.getMediaType() or "unknown", "title": self.tag.getTitle()}


# Kodi raises a library item's playcount once playback got this far (advancedsettings
# video/playcountminimumpercent, 90 by default), whatever any add-on thinks of the playback.
PLAYCOUNT_MINIMUM = 0.9


def open_file(playing):
    """Kodi opens a file (Player.Open, a playlist advance, Up Next): from this moment the player answers
    for it, and only then Python hears onPlayBackStarted and onAVStarted (seen in Kodi 20.1: the next
    file answers about 0.4 s before its onAVStarted, tests/e2e/test_playlists.py)."""
    world_ = world()
    world_.player = playing
    player = {"playerid": 1, "speed": 1}
    world_.notify("Player.OnPlay", {"item": playing.announced_item(), "player": player})
    for callback in list(world_.players):
        callback.onPlayBackStarted()
    world_.notify("Player.OnAVStart", {"item": playing.announced_item(), "player": player})
    for callback in list(world_.players):
        callback.onAVStarted()


def _save_state(playing, natural):
    """Kodi saves the state of the file it leaves: a library item that got past PLAYCOUNT_MINIMUM gets
    its playcount raised, with VideoLibrary.OnUpdate just before Player.OnStop, also at a stop past
    90 % (seen in Kodi 20.1 and 21.2, tests/e2e/test_exclusions.py)."""
    world_ = world()
    key = playing.library_key()
    if key and (natural or playing.total and playing.position >= PLAYCOUNT_MINIMUM * playing.total):
        world_.playcounts[key] = world_.playcounts.get(key, 0) + 1
        world_.notify("VideoLibrary.OnUpdate", {"item": {"type": key[0], "id": key[1]},
                                                "playcount": world_.playcounts[key]})


def close_file(natural, next_file=None, meanwhile=None):
    """The playing file ends by itself (natural) or is stopped. With next_file (a playlist moving on
    at a natural end), Kodi has already opened the next file when Python hears of the end; `meanwhile()`
    runs in that moment (e.g. a sampler tick). Seen in Kodi 20.1 and 21.2 (tests/e2e/test_playlists.py)."""
    world_ = world()
    playing = world_.player
    _save_state(playing, natural)
    world_.player = next_file
    if meanwhile is not None:
        meanwhile()
    world_.notify("Player.OnStop", {"item": playing.announced_item(), "end": bool(natural)})
    for callback in list(world_.players):
        if natural:
            callback.onPlayBackEnded()
        else:
            callback.onPlayBackStopped()
    if next_file is not None:
        open_file(next_file)


def skip_to(next_file, meanwhile=None):
    """Player.GoTo next in a playlist (Up Next does the same): Kodi leaves the playing file with no
    Player.OnStop and no onPlayBackStopped/onPlayBackEnded for it, and opens the next one; Python
    hears only the next item's onPlayBackStarted and onAVStarted (seen in Kodi 20.1 and 21.2,
    tests/e2e/test_playlists.py)."""
    world_ = world()
    _save_state(world_.player, natural=False)
    world_.player = next_file
    if meanwhile is not None:
        meanwhile()
    open_file(next_file)


def pause():
    """The user pauses: Kodi announces Player.OnPause and calls onPlayBackPaused, and the position stays
    (seen in Kodi 20.1 with Player.PlayPause, tests/e2e/test_live_scrobble.py)."""
    world_ = world()
    world_.notify("Player.OnPause", {"item": world_.player.announced_item(), "player": {"playerid": 1, "speed": 0}})
    for callback in list(world_.players):
        callback.onPlayBackPaused()


def resume():
    """Player.OnResume and onPlayBackResumed (seen in Kodi 20.1, tests/e2e/test_live_scrobble.py)."""
    world_ = world()
    world_.notify("Player.OnResume", {"item": world_.player.announced_item(), "player": {"playerid": 1, "speed": 1}})
    for callback in list(world_.players):
        callback.onPlayBackResumed()


def seek(position):
    """The user seeks to `position` seconds: the player is there at once, then Player.OnSeek and
    onPlayBackSeek(time, seekOffset), both in milliseconds (xbmc/interfaces/legacy/Player.h)."""
    world_ = world()
    offset = position - world_.player.position
    world_.player.position = position
    world_.notify("Player.OnSeek", {"item": world_.player.announced_item(),
                                    "player": {"playerid": 1, "speed": 1, "seekoffset": int(offset * 1000)}})
    for callback in list(world_.players):
        callback.onPlayBackSeek(int(position * 1000), int(offset * 1000))
