"""Kodi reads an add-on's settings file whenever a fresh Addon object is asked for a setting, and writes it
whole on every set: a read while another thread of the same interpreter writes it finds a half-written file
("failed to load addon settings", seen in a real Kodi 21 while the service mirrored a login and its sync
thread read its settings). Within the interpreter, reads and writes of the settings take turns."""
import threading

from lib.scrobbler import kodi


class HeldWrite:
    """An Addon whose write holds until released, and which notes a read that comes meanwhile."""

    def __init__(self, writing, release, overlaps):
        self._writing, self._release, self._overlaps = writing, release, overlaps

    def setSettingBool(self, key, value):
        self._writing.set()
        self._release.wait(5)

    def getSettingBool(self, key):
        if self._writing.is_set() and not self._release.is_set():
            self._overlaps.append(key)
        return True


def test_a_setting_read_never_overlaps_a_write_of_the_settings_by_another_thread(monkeypatch):
    writing, release, overlaps = threading.Event(), threading.Event(), []
    monkeypatch.setattr(kodi.xbmcaddon, "Addon", lambda *args: HeldWrite(writing, release, overlaps))
    writer = threading.Thread(target=kodi.set_setting_bool, args=("logged_in", True))
    writer.start()
    assert writing.wait(5)
    reader = threading.Thread(target=kodi.setting_bool, args=("sync_ratings",))
    reader.start()
    reader.join(0.3)  # bounded: a read that does not wait for the write is done at once
    release.set()
    writer.join(5)
    reader.join(5)
    assert overlaps == []
