"""What the user is told while watches are delivered: what Simkl took, and why sending fails.

The service wires it: it subscribes to the delivery worker's announcement of what Simkl took, and
hears the sender's problems and the disk's. Each problem is told once while it lasts."""
from .. import kodi
from ..files import disk_full


class Notices:
    def __init__(self):
        self._told_disk_full = False  # until the disk takes what waited in memory again
        self._told_send = set()  # failures to send told since the last successful send

    def delivered(self, items):
        """One notification for what one flush (or one live stop) delivered (a whole marked season is one)."""
        if not items or not kodi.setting_bool("notify_watched", True):
            return
        message = items[0].label() if len(items) == 1 else kodi.localize(32201, len(items))
        kodi.notify(message, heading=kodi.localize(32550))

    def sent(self, entries):
        """Simkl took a batch: the next failure to send is a new problem again."""
        if entries:
            self._told_send.clear()

    def send_problem(self, code):
        """Sending failed: tell the user once per problem, not at every retry (a notification held
        back during playback is told at the next failure)."""
        from .problems import PROBLEMS, told_text  # in the words of the status view; not at start (sqlite3)
        if code in PROBLEMS and code not in self._told_send:
            if kodi.notify(told_text(code, kodi.localize), heading=kodi.localize(32563), icon=kodi.WARNING):
                self._told_send.add(code)

    def storage(self, exc):
        """The disk failed (exc), or took again what waited in memory (None)."""
        if exc is None:
            self._told_disk_full = False
        elif not self._told_disk_full and disk_full(exc, kodi.profile_dir()):  # where the outbox lives
            self._told_disk_full = True
            kodi.notify(kodi.localize(32230), icon=kodi.WARNING)
