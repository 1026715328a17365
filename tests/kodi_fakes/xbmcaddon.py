"""Fake xbmcaddon on top of kodistubs: settings from the real settings.xml, strings from strings.po."""
import fakekodi
from fakekodi import load_stub, world

_stub = load_stub("xbmcaddon")
globals().update({k: v for k, v in vars(_stub).items() if not k.startswith("__")})


class Addon(_stub.Addon):
    def __init__(self, id=None):
        if id not in (None, fakekodi.ADDON_ID):
            raise RuntimeError("unknown add-on id %r" % id)

    def getAddonInfo(self, id):
        info = {"id": fakekodi.ADDON_ID, "name": fakekodi.ADDON_XML.get("name"),
                "version": fakekodi.ADDON_XML.get("version"), "path": fakekodi.ROOT,
                "profile": "special://profile/addon_data/%s/" % fakekodi.ADDON_ID}
        return info[id]

    def getLocalizedString(self, id):
        return world().string(id)

    def getSetting(self, id):
        return world().setting(id)

    def getSettingString(self, id):
        return world().setting(id)

    def getSettingBool(self, id):
        self._expect(id, "boolean")
        return world().setting(id) == "true"

    def getSettingInt(self, id):
        self._expect(id, "integer")
        return int(world().setting(id) or 0)

    def setSetting(self, id, value):
        world().set_setting(id, value)
        world().settings_saved()

    def setSettingString(self, id, value):
        world().set_setting(id, value)
        world().settings_saved()

    def setSettingBool(self, id, value):
        self._expect(id, "boolean")
        world().set_setting(id, bool(value))
        world().settings_saved()

    def setSettingInt(self, id, value):
        self._expect(id, "integer")
        world().set_setting(id, int(value))
        world().settings_saved()

    def openSettings(self):
        world().dialogs.append(("settings", "", ""))

    @staticmethod
    def _expect(key, kind):
        actual = world().definitions.get(key, (None,))[0]
        if actual != kind:
            raise TypeError("setting %r is %s in settings.xml, not %s" % (key, actual, kind))
