"""The background service: the monitor loop and its wiring."""
import xbmc

from . import config, kodi


class Monitor(xbmc.Monitor):
    """Kodi's signals to the service: settings changed, abort."""

    def __init__(self, service):
        super().__init__()
        self._service = service

    def onSettingsChanged(self):
        self._service.settings_changed()


class Service:
    def __init__(self):
        self.monitor = Monitor(self)

    def settings_changed(self):
        kodi.debug("settings changed")

    def run(self):
        kodi.log("service %s %s started (Kodi %s)" % (config.ADDON_ID, kodi.addon_version(), kodi.kodi_version()))
        while not self.monitor.waitForAbort(3600):
            pass
        kodi.log("service stopped")


def run():
    Service().run()
