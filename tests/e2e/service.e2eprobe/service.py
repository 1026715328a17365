"""Probe service for tests/e2e/test_kodi_facts.py: logs what xbmc.Player().getPlayingItem() gives when a
video starts, what isPlayingVideo() says while paused and once stopped, and the video playlist's position
each time it changes. It imports xbmcgui first only
when Kodi's environment has E2E_PROBE_IMPORT_XBMCGUI=1, because Kodi 21.2 crashes on getPlayingItem() in an
interpreter that has not imported xbmcgui."""
import os

import xbmc

if os.environ.get("E2E_PROBE_IMPORT_XBMCGUI") == "1":
    import xbmcgui  # noqa: F401


class Probe(xbmc.Player):
    def onAVStarted(self):
        xbmc.log("e2eprobe: onAVStarted", xbmc.LOGINFO)
        if not hasattr(self, "getPlayingItem"):  # Kodi 19 has none (it came with Kodi 20)
            xbmc.log("e2eprobe: no getPlayingItem", xbmc.LOGINFO)
            return
        xbmc.log("e2eprobe: playing item %s" % self.getPlayingItem().getPath(), xbmc.LOGINFO)

    def onPlayBackPaused(self):
        xbmc.log("e2eprobe: paused, isPlayingVideo %s" % self.isPlayingVideo(), xbmc.LOGINFO)

    def onPlayBackStopped(self):
        xbmc.log("e2eprobe: stopped, isPlayingVideo %s" % self.isPlayingVideo(), xbmc.LOGINFO)


def playlist_state():
    playlist = xbmc.PlayList(xbmc.PLAYLIST_VIDEO)
    return "playlist position %d of %d, playing %s" % (playlist.getposition(), playlist.size(), player.isPlaying())


monitor = xbmc.Monitor()
player = Probe()
xbmc.log("e2eprobe: started", xbmc.LOGINFO)
xbmc.log("e2eprobe: api Player.getPlayingItem %s, InfoTagVideo.getUniqueID %s"
         % (hasattr(xbmc.Player, "getPlayingItem"), hasattr(xbmc.InfoTagVideo, "getUniqueID")), xbmc.LOGINFO)
seen = None
while not monitor.waitForAbort(0.2):
    state = playlist_state()
    if state != seen:
        xbmc.log("e2eprobe: " + state, xbmc.LOGINFO)
        seen = state
