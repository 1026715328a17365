"""Fake xbmcgui on top of kodistubs: dialogs record what they showed and answer as the test asked."""
from fakekodi import load_stub, world

_stub = load_stub("xbmcgui")
globals().update({k: v for k, v in vars(_stub).items() if not k.startswith("__")})


class Dialog(_stub.Dialog):
    def notification(self, heading, message, icon="", time=5000, sound=True):
        world().notifications.append((heading, message, icon))

    def ok(self, heading, message):
        world().dialogs.append(("ok", heading, message))
        return True

    def yesno(self, heading, message, *args, **kwargs):
        world().dialogs.append(("yesno", heading, message))
        return world().yesno_answers.pop(0) if world().yesno_answers else False

    def select(self, heading, list, *args, **kwargs):
        world().dialogs.append(("select", heading, "\n".join(str(x) for x in list)))
        return world().select_answers.pop(0) if world().select_answers else -1

    def textviewer(self, heading, text, usemono=False):
        world().dialogs.append(("textviewer", heading, text))


class DialogProgress(_stub.DialogProgress):
    def create(self, heading, message=""):
        world().dialogs.append(("progress", heading, message))
        world().progress_updates.append((0, message))

    def update(self, percent, message=""):
        world().progress_updates.append((percent, message))

    def iscanceled(self):
        limit = world().progress_cancel_after
        return limit is not None and len(world().progress_updates) > limit

    def close(self):
        world().dialogs.append(("progress-closed", "", ""))


class DialogProgressBG(_stub.DialogProgressBG):
    def create(self, heading, message=""):
        world().background_progress.append(("create", 0, heading))

    def update(self, percent=0, heading="", message=""):
        world().background_progress.append(("update", percent, message))

    def close(self):
        world().background_progress.append(("close", 100, ""))


class Window(_stub.Window):
    def __init__(self, existingWindowId=-1):
        self._id = existingWindowId

    def getProperty(self, key):
        return world().properties.get((self._id, key), "")

    def setProperty(self, key, value):
        world().properties[(self._id, key)] = value

    def clearProperty(self, key):
        world().properties.pop((self._id, key), None)


class ListItem(_stub.ListItem):
    def __init__(self, label="", label2="", path="", offscreen=False):
        self._path = path
        self._properties = {}
        self._tag = None

    def getVideoInfoTag(self):
        if self._tag is None:
            import xbmc
            self._tag = xbmc.InfoTagVideo()
        return self._tag

    def set_tag(self, tag):
        """Test helper: the info tag this item carries (Kodi fills it from the library or the add-on)."""
        self._tag = tag

    def setProperty(self, key, value):
        self._properties[key.lower()] = value

    def getProperty(self, key):
        return self._properties.get(key.lower(), "")

    def getPath(self):
        return self._path


class Action(_stub.Action):
    """An input action as Kodi hands it to a window's onAction."""

    def __init__(self, action_id=0):
        self._id = action_id

    def getId(self):
        return self._id


class WindowXMLDialog(_stub.WindowXMLDialog):
    """A window of the add-on's skin: checks its XML file exists where Kodi looks for it
    (<path>/resources/skins/<skin>/<resolution>/<file>), records show/close and its properties.
    With world().progress_cancel_after set, the user presses Back after that many property updates:
    Kodi calls the window's onAction (delivered on the script's thread, as waitForAbort runs it)."""

    def __new__(cls, xmlFilename, scriptPath, defaultSkin="Default", defaultRes="720p", isMedia=False):
        import os
        path = os.path.join(scriptPath, "resources", "skins", defaultSkin, defaultRes, xmlFilename)
        if not os.path.isfile(path):
            raise RuntimeError("XML File for Window is missing: %s" % path)
        window = super().__new__(cls)
        window._xml = xmlFilename
        window._properties = {}
        return window

    def show(self):
        world().dialogs.append(("window", self._xml, ""))
        world().windows.append(self)
        world().windows_shown.append(self)

    def close(self):
        world().dialogs.append(("window-closed", self._xml, ""))
        if self in world().windows:
            world().windows.remove(self)

    def setProperty(self, key, value):
        self._properties[key.lower()] = value
        if value and key.lower() == "qr":  # an image path: what Kodi would load and show
            with open(value, "rb") as handle:
                world().textures[value] = handle.read()
        world().progress_updates.append((key, value))
        limit = world().progress_cancel_after
        if limit is not None and len(world().progress_updates) > limit and self in world().windows:
            self.onAction(Action(_stub.ACTION_NAV_BACK))

    def getProperty(self, key):
        return self._properties.get(key.lower(), "")
