"""The status view's window: resources/skins/default/1080i/script-simkl-status.xml showing a status_model.View.

Information (labels, text boxes) cannot take the focus; actions are buttons, shown only when they apply.
"""
import xbmcgui

from . import status_model as model

XML_FILE = "script-simkl-status.xml"
HEADING = 1
LABELS = {"account": 10, "last_sync": 17, "counts": 11, "next_try": 12, "why": 13, "waiting_heading": 14}
TEXT_BOXES = {"waiting": 15, "problem": 16}
BUTTONS = {model.RETRY: 21, model.LOGIN: 22, model.NEEDS_ATTENTION: 23, model.HANDOVER: 26, model.SYNC: 24,
           model.END_SESSION: 25, model.CLOSE: 29}
ACTIONS_BY_BUTTON = {control_id: action for action, control_id in BUTTONS.items()}
CLOSE_ACTIONS = (10, 92)  # ACTION_PREVIOUS_MENU, ACTION_NAV_BACK


class StatusWindow(xbmcgui.WindowXMLDialog):
    """Set `controller` (status.Controller: view(), act(action, window)) before doModal()."""

    controller = None
    is_open = False

    def onInit(self):
        self.is_open = True
        self.controller.refresh(self)

    def show(self, view):
        self.getControl(HEADING).setLabel(view.heading)
        for name, control_id in LABELS.items():
            self._fill(self.getControl(control_id).setLabel, control_id, getattr(view, name))
        for name, control_id in TEXT_BOXES.items():
            self._fill(self.getControl(control_id).setText, control_id, getattr(view, name))
        offered = dict(view.actions)
        for action, control_id in BUTTONS.items():
            button = self.getControl(control_id)
            if action in offered:
                button.setLabel(offered[action])
            button.setVisible(action in offered)
        try:
            focused = self.getFocusId()
        except RuntimeError:  # nothing focused yet
            focused = None
        if ACTIONS_BY_BUTTON.get(focused) not in offered:
            self.setFocusId(BUTTONS[view.actions[0][0]])

    def _fill(self, setter, control_id, text):
        setter(text)
        self.getControl(control_id).setVisible(bool(text))

    def onClick(self, controlId):
        action = ACTIONS_BY_BUTTON.get(controlId)
        if action == model.CLOSE:
            self.close()
        elif action is not None:
            self.controller.act(action, self)

    def onAction(self, action):
        if action.getId() in CLOSE_ACTIONS:
            self.close()

    def close(self):
        self.is_open = False
        super().close()
