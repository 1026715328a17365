"""Fake xbmcgui on top of kodistubs: dialogs record what they showed and answer as the test asked."""
import re
import threading

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
        return _answer(world().yesno_answers, False)

    def yesnocustom(self, heading, message, customlabel, nolabel="", yeslabel="", *args, **kwargs):
        """Kodi 19+: 1 yes, 0 no, 2 the custom button, -1 closed with Back (the default answer here)."""
        world().dialogs.append(("yesnocustom", heading, message))
        world().yesnocustom_buttons.append((yeslabel, nolabel, customlabel))
        return _answer(world().yesnocustom_answers, -1)

    def select(self, heading, list, *args, **kwargs):
        world().dialogs.append(("select", heading, "\n".join(str(x) for x in list)))
        return _answer(world().select_answers, -1)

    def textviewer(self, heading, text, usemono=False):
        world().dialogs.append(("textviewer", heading, text))


def _answer(answers, default):
    """The next answer the test gave; a callable runs while the dialog is open (what happens meanwhile)
    and returns the answer."""
    answer = answers.pop(0) if answers else default
    return answer() if callable(answer) else answer


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


# -- XML windows: what the add-on's skin folder defines, shown and clicked as in Kodi ---------------------

ACTION_PREVIOUS_MENU = 10
ACTION_NAV_BACK = 92
ACTION_SELECT_ITEM = 7  # Select: OK on a remote, Enter on a keyboard


class Action(_stub.Action):
    """An input action as Kodi hands it to a window's onAction."""

    def __init__(self, action_id=0):
        self._id = action_id

    def getId(self):
        return self._id


class _FakeControl:
    """What the tests read of a control: its label or text and whether it shows."""

    def _setup(self, control_id, kind, window=None, condition=""):
        self._id = control_id
        self.kind = kind
        self.text = ""
        self._window = window
        self._condition = condition  # its <visible> condition in the skin file, if any
        self._hidden = False

    @property
    def visible(self):
        # Kodi shows a control when its <visible> condition holds and setVisible(False) has not hidden it
        # (xbmc/guilib/GUIControl.cpp SetVisible: m_forceHidden beside the condition's m_visible).
        return not self._hidden and (self._window is None or self._window.condition_holds(self._condition))

    def getId(self):
        return self._id

    def setVisible(self, visible):
        self._hidden = not visible

    def setLabel(self, label="", *args, **kwargs):
        self.text = label

    def getLabel(self):
        return self.text


class ControlLabel(_FakeControl, _stub.ControlLabel):
    pass


class ControlButton(_FakeControl, _stub.ControlButton):
    pass


class ControlTextBox(_FakeControl, _stub.ControlTextBox):
    def setLabel(self, *args, **kwargs):
        # Kodi's ControlTextBox has setText/getText and no setLabel (xbmc/interfaces/legacy/Control.h)
        raise AttributeError("'xbmcgui.ControlTextBox' object has no attribute 'setLabel'")

    def setText(self, text):
        self.text = text

    def getText(self):
        return self.text


class ControlImage(_FakeControl, _stub.ControlImage):
    pass


class ControlGroup(_FakeControl, _stub.ControlGroup):
    pass


_CONTROL_CLASSES = {"label": ControlLabel, "button": ControlButton, "textbox": ControlTextBox,
                    "image": ControlImage, "group": ControlGroup, "grouplist": ControlGroup}
# Controls a user can move the focus to and click (in Kodi, CanFocus() of labels, text boxes and images
# is false; shown for the status view in tests/e2e/test_status_view.py).
_FOCUSABLE = ("button",)
# The <visible> conditions the fake can evaluate: a window property tested with String.IsEmpty or
# String.IsEqual (Kodi compares without regard to case); any other condition fails the test loudly.
_PROPERTY_CONDITION = re.compile(
    r"^(!?)String\.(IsEmpty|IsEqual)\(Window\.Property\(([\w.]+)\)(?:,([^()]*))?\)$")
_PROPERTY_INFO = re.compile(r"\$INFO\[Window\.Property\(([\w.]+)\)\]")


class WindowXMLDialog(_stub.WindowXMLDialog):
    """An XML window from the add-on's skin folder, driven by world().window_steps."""

    def __new__(cls, xmlFilename, scriptPath, defaultSkin="Default", defaultRes="720p", isMedia=False):
        # Kodi takes the window's arguments in __new__: a subclass's __init__ need not pass them on.
        import os
        import xml.etree.ElementTree as ET
        # Kodi looks in the current skin, then in <scriptPath>/resources/skins/<defaultSkin>/<defaultRes>/,
        # else raises (xbmc/interfaces/legacy/WindowXML.cpp: "XML File for Window is missing").
        path = os.path.join(scriptPath, "resources", "skins", defaultSkin, defaultRes, xmlFilename)
        if not os.path.isfile(path):
            raise RuntimeError("XML File for Window is missing: %s" % path)
        window = super().__new__(cls)
        window.xml_path = path
        window._xml = xmlFilename
        window._tree = ET.parse(path).getroot()
        window._controls = {}
        window._properties = {}
        window._open = False
        window._focus = None
        window._thread = None  # the script thread that opened it with show(): its callbacks run there
        window.screens = []  # what the window showed after opening and after each step
        return window

    def __init__(self, *args, **kwargs):
        pass

    def _load(self):
        """Kodi builds the controls when the window opens, before onInit, and focuses <defaultcontrol>."""
        self._controls = {}
        for element in self._tree.iter("control"):
            if element.get("id"):
                kind = element.get("type")
                control = _CONTROL_CLASSES[kind].__new__(_CONTROL_CLASSES[kind])
                control._setup(int(element.get("id")), kind, self, (element.findtext("visible") or "").strip())
                control.text = element.findtext("label") or ""
                self._controls[control.getId()] = control
        # A group named as the default control focuses a control of its own in Kodi: the fake leaves that
        # to the window's setFocusId (the status view sets it), and focuses a named button itself.
        default = self._controls.get(int(self._tree.findtext("defaultcontrol") or 0))
        self._focus = None
        if default is not None and default.kind in _FOCUSABLE and default.visible:
            self._focus = default.getId()

    def condition_holds(self, condition):
        """A control's <visible> condition, evaluated with this window's properties as Kodi would."""
        if not condition:
            return True
        found = _PROPERTY_CONDITION.match(condition.replace(" ", ""))
        if found is None:
            raise AssertionError("the fake Kodi cannot evaluate <visible>%s</visible>" % condition)
        negated, test, name, value = found.groups()
        prop = self.getProperty(name)
        holds = prop == "" if test == "IsEmpty" else prop.lower() == (value or "").lower()
        return holds != bool(negated)

    def getControl(self, iControlId):
        if iControlId not in self._controls:
            # xbmc/interfaces/legacy/Window.cpp Window::getControl
            raise RuntimeError("Non-Existent Control %d" % iControlId)
        return self._controls[iControlId]

    def setFocusId(self, iControlId):
        control = self.getControl(iControlId)
        # Kodi moves the focus only to a control that can take it (GUIControl.cpp: GUI_MSG_SETFOCUS, CanFocus)
        if control.kind in _FOCUSABLE and control.visible:
            self._focus = iControlId

    def getFocusId(self):
        if self._focus is None:
            raise RuntimeError("No control in this window has focus")
        return self._focus

    def doModal(self):
        """Kodi opens the window, calls onInit, and returns once close() was called."""
        world().windows.append(self)
        world().windows_shown.append(self)
        self._load()
        self._open = True
        self.onInit()
        self.screens.append(self.screen())
        while self._open:
            step = world().window_steps.pop(0) if world().window_steps else "back"
            if step == "back":
                self.onAction(Action(ACTION_NAV_BACK))
                if self._open and not world().window_steps:
                    raise AssertionError("the window stays open after Back")
            else:
                self._take(step)
            self.screens.append(self.screen())

    def _take(self, step):
        """One step of the user: "select", "back", a button's label or a control id (a click), a callable."""
        if step == "select":
            self.select()
        elif step == "back":
            self.onAction(Action(ACTION_NAV_BACK))
        elif callable(step):
            return step(self)
        elif isinstance(step, str):
            self.click(self.button_id(step))
        else:
            self.click(step)
        return None

    def show(self):
        """Modeless: Kodi opens the window and returns at once (the script goes on meanwhile)."""
        world().dialogs.append(("window", self._xml, ""))
        world().windows.append(self)
        world().windows_shown.append(self)
        self._thread = threading.get_ident()
        self._load()
        self._open = True
        self.onInit()
        self.screens.append(self.screen())

    def run_callbacks(self):
        """What the user did meanwhile, delivered while the script that opened this window (with show())
        waits in xbmc.sleep or Monitor.waitForAbort: Kodi queues a window's callbacks and runs them on
        its script's thread there (xbmc/interfaces/python/PythonCallbackHandler.cpp isStateOk,
        xbmc/interfaces/legacy/ModuleXbmc.cpp sleep). One step of world().window_steps at each wait; a
        callable step that returns False stays for the next wait (the user waits for something)."""
        if not self._open or self._thread != threading.get_ident() or not world().window_steps:
            return
        step = world().window_steps[0]
        if self._take(step) is not False:
            world().window_steps.remove(step)
            self.screens.append(self.screen())

    def select(self):
        """Select (OK on a remote): Kodi clicks the focused button, which calls onClick, then hands the
        action to onAction (xbmc/interfaces/legacy/WindowXML.cpp OnAction: the window first, then Python)."""
        focused = self._controls.get(self._focus)
        if focused is not None and focused.kind in _FOCUSABLE and focused.visible:
            self.onClick(focused.getId())
        self.onAction(Action(ACTION_SELECT_ITEM))

    def focused_label(self):
        """What Kodi's System.CurrentControl reads: the focused control's label ("" with none)."""
        focused = self._controls.get(self._focus)
        return self._shown_text(focused) if focused is not None else ""

    def close(self):
        if self._open or self in world().windows:
            world().dialogs.append(("window-closed", self._xml, ""))
        self._open = False
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
            # Back, delivered to onAction on the script's thread (as waitForAbort runs it)
            self.onAction(Action(ACTION_NAV_BACK))

    def getProperty(self, key):
        return self._properties.get(key.lower(), "")

    def click(self, control_id):
        """What a user can click: a visible, focusable control."""
        control = self.getControl(control_id)
        if control.kind not in _FOCUSABLE or not control.visible:
            raise AssertionError("control %d (%s, %s) cannot be clicked" % (
                control_id, control.kind, "visible" if control.visible else "hidden"))
        self._focus = control_id
        self.onClick(control_id)

    def _shown_text(self, control):
        """A control's text as Kodi shows it: $INFO[Window.Property(name)] is the window's property."""
        return _PROPERTY_INFO.sub(lambda found: self.getProperty(found.group(1)), control.text)

    def screen(self):
        """{"info": texts of the visible labels and text boxes, "actions": labels of the visible buttons}."""
        shown = [(c, self._shown_text(c)) for c in self._controls.values() if c.visible]
        return {"info": [text for c, text in shown if text and c.kind not in _FOCUSABLE],
                "actions": [text for c, text in shown if text and c.kind in _FOCUSABLE]}

    def button_id(self, label):
        """The id of the visible button that reads `label` (what a user would pick)."""
        found = [c.getId() for c in self._controls.values()
                 if c.kind in _FOCUSABLE and c.visible and self._shown_text(c) == label]
        if len(found) != 1:
            raise AssertionError("no single visible button %r; shown: %r" % (label, self.screen()["actions"]))
        return found[0]
