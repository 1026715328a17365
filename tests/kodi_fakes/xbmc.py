"""Fake xbmc on top of kodistubs."""
import json
import sys

from fakekodi import load_stub, world

_stub = load_stub("xbmc")
globals().update({k: v for k, v in vars(_stub).items() if not k.startswith("__")})


class _Kodi19Lacks:
    """A fake class whose KODI19_LACKS names do not exist while world().kodi_major is 19 (hasattr is False, a
    call raises AttributeError, as in Kodi 19)."""
    KODI19_LACKS = frozenset()

    def __getattribute__(self, name):
        if name in type(self).KODI19_LACKS and world().kodi_major == 19:
            raise AttributeError("'%s' object has no attribute '%s' (Kodi 19)" % (type(self).__name__, name))
        return super().__getattribute__(name)


def log(msg, level=_stub.LOGDEBUG):
    world().log.append((level, msg))


def getInfoLabel(cLine):
    if cLine == "System.BuildVersion":
        return world().build_version
    if cLine == "Player.Filenameandpath" and cLine not in world().info_labels and world().player is not None:
        # The playing item's own path, an add-on video's plugin:// URL (seen in Kodi 20.1,
        # tests/e2e/test_addon_videos.py; Kodi 19: tests/e2e run with KODI=19).
        return world().player.source
    return world().info_labels.get(cLine, "")


def getCondVisibility(condition):
    if condition == "Player.HasVideo" and condition not in world().conditions:
        # Kodi: true while the player has a video open, paused too (xbmc/guilib/guiinfo/PlayerGUIInfo.cpp,
        # PLAYER_HAS_VIDEO -> IsPlayingVideo()).
        return world().player is not None
    return bool(world().conditions.get(condition, False))


def executeJSONRPC(jsonrpccommand):
    request = json.loads(jsonrpccommand)
    if isinstance(request, list):  # a batch: Kodi answers with a list, errors inside it
        return json.dumps([_answer(one) for one in request])
    return json.dumps(_answer(request))


def _answer(request):
    answer = world().jsonrpc(request["method"], request.get("params") or {})
    answer.update({"id": request.get("id"), "jsonrpc": "2.0"})
    return answer


# Kodi's default region for en_gb is the first one of resource.language.en_gb's langinfo.xml, "USA (12h)";
# getRegion turns its formats into strftime ones (xbmc/interfaces/legacy/ModuleXbmc.cpp getRegion).
REGION = {"dateshort": "%m/%d/%Y", "datelong": "%A, %B %d, %Y", "time": "%I:%M:%S %p", "meridiem": "AM/PM"}


def getRegion(id):
    return world().region.get(id, REGION.get(id, ""))


def sleep(timemillis):
    world().run_window_callbacks()
    world().abort.wait(timemillis / 1000.0)


class Monitor(_stub.Monitor):
    def __init__(self):
        world().monitors.append(self)

    def abortRequested(self):
        return world().abort.is_set()

    def waitForAbort(self, timeout=-1):
        world().run_window_callbacks()
        return world().abort.wait(None if timeout is None or timeout < 0 else timeout)


class Player(_Kodi19Lacks, _stub.Player):
    """Answers from the fake playback in world().player; callbacks are fired by the tests or by
    fakekodi.open_file / close_file, which call every Player created."""
    KODI19_LACKS = frozenset({"getPlayingItem"})  # kodistubs 19.0.3: xbmc.Player has no getPlayingItem

    def __init__(self):
        world().players.append(self)

    def isPlaying(self):
        return world().player is not None

    def isPlayingVideo(self):
        # Kodi: xbmc/interfaces/legacy/Player.cpp asks the app player's IsPlayingVideo(), true while paused too
        return world().player is not None

    def getTime(self):
        if world().player is None:
            raise RuntimeError("Kodi is not playing any media file")
        return float(world().player.position)

    def getTotalTime(self):
        if world().player is None:
            raise RuntimeError("Kodi is not playing any media file")
        return float(world().player.total)

    def getPlayingFile(self):
        if world().player is None:
            raise RuntimeError("Kodi is not playing any file")
        return world().player.path

    def getPlayingItem(self):
        if world().player is None:
            raise RuntimeError("Kodi is not playing any file")
        xbmcgui = sys.modules.get("xbmcgui")
        if xbmcgui is None:
            # Kodi 21.2 ends with SIGSEGV here when this interpreter has not imported xbmcgui; Kodi 20.1
            # answers (tests/e2e/test_kodi_facts.py).
            raise SystemError("getPlayingItem() before xbmcgui was imported: Kodi 21 would crash")
        # Kodi's current file item: its path stays the item's own plugin:// URL, while getPlayingFile()
        # gives the resolved stream (seen in Kodi 20.1 and 21.2, tests/e2e/test_addon_videos.py).
        item = xbmcgui.ListItem(path=world().player.source)
        for key, value in world().player.properties.items():
            item.setProperty(key, value)
        return item

    def getVideoInfoTag(self):
        if world().player is None:
            raise RuntimeError("Kodi is not playing any file")
        return world().player.tag


class PlayList(_stub.PlayList):
    """Kodi's music or video playlist, as world().playlist_sizes and playlist_position describe them."""

    def __init__(self, playList):
        if playList not in (_stub.PLAYLIST_MUSIC, _stub.PLAYLIST_VIDEO):
            raise RuntimeError("PlayList does not exist")
        self._id = playList

    def getPlayListId(self):
        return self._id

    def size(self):
        return world().playlist_sizes[self._id]

    def getposition(self):
        return world().playlist_position


class InfoTagVideo(_Kodi19Lacks, _stub.InfoTagVideo):
    """A video info tag with values (kodistubs' returns None for everything)."""
    KODI19_LACKS = frozenset({"getUniqueID"})  # kodistubs 19.0.3: xbmc.InfoTagVideo has no getUniqueID

    def __init__(self, media_type="", title="", year=0, dbid=-1, uniqueids=None, showtitle="",
                 season=-1, episode=-1, path="", duration=0, default_id=""):
        self._values = dict(media_type=media_type, title=title, year=year, dbid=dbid, uniqueids=uniqueids or {},
                            showtitle=showtitle, season=season, episode=episode, path=path, duration=duration,
                            default_id=default_id)

    def getMediaType(self):
        return self._values["media_type"]

    def getTitle(self):
        return self._values["title"]

    def getYear(self):
        return self._values["year"]

    def getDbId(self):
        return self._values["dbid"]

    def getUniqueID(self, key):
        return str(self._values["uniqueids"].get(key, ""))

    def getIMDBNumber(self):
        return self._values["default_id"]

    def getTVShowTitle(self):
        return self._values["showtitle"]

    def getSeason(self):
        return self._values["season"]

    def getEpisode(self):
        return self._values["episode"]

    def getPath(self):
        return self._values["path"]

    def getFilenameAndPath(self):
        return self._values["path"]

    def getDuration(self):
        return self._values["duration"]
