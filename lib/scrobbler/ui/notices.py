"""What the user is told while watches are delivered: what Simkl took, what it did not accept, and why sending
fails; and, once for good, that a new user has to log in.

The service wires it: it subscribes to the delivery worker's announcements of what Simkl took and of what went
to Needs attention, and hears the sender's problems and the disk's. Each problem is told once while it lasts."""
import os
import threading
from typing import Optional

from .. import kodi
from ..counts import NEEDS_ATTENTION, NEEDS_ATTENTION_TITLES, count, movies_and_episodes
from ..files import disk_full, read_json, write_json
from ..media import Episode
from .rating_words import rated_label

TOLD_FILE = "told.json"  # in addon_data: what the user was told once for good
LOG_IN, KEPT_LOGGED_OUT = "log_in", "kept_logged_out"
# After a stop, Kodi 19.1 and 20.1 can still say a video plays (Player.HasVideo at Player.OnStop): what is held back
# is looked at again every LOOK_AGAIN s for LOOK_FOR s; a video still playing then is the next one, whose stop tells.
LOOK_AGAIN, LOOK_FOR = 0.5, 10.0


class Notices:
    def __init__(self, profile: str = "", stopping: Optional[threading.Event] = None):
        """profile: the add-on's data folder, where what was told once for good is kept; stopping: set when
        Kodi quits (a look after a stop ends then)."""
        self._told_disk_full = False  # until the disk takes what waited in memory again
        self._told_send = set()  # failures to send told since the last successful send
        self._told_path = os.path.join(profile, TOLD_FILE) if profile else None
        self._once_lock = threading.Lock()  # Kodi's thread and the worker's may tell at once
        self._untold = {}  # what went to Needs attention and was not told yet: title -> Simkl's doing
        self._untold_ratings = set()  # the titles of those that are ratings (not counted as watches)
        self._attention_lock = threading.Lock()  # the worker tells them, and Kodi's thread when playback ends
        self._stopping = stopping or threading.Event()
        self._looking = False  # a thread looks again after a stop

    def not_logged_in(self):
        """The service started and no login is stored: after an install, say once how to log in."""
        self._once(LOG_IN, kodi.localize(32754), kodi.localize(32030))

    def kept_logged_out(self):
        """A watch was queued while logged out: say once that it is kept, and that a login sends it."""
        self._once(KEPT_LOGGED_OUT, kodi.localize(32756), kodi.localize(32755))

    def _once(self, key, message, heading):
        """A notification told once for good; one held back while a video plays is told the next time."""
        if self._told_path is None:
            return
        with self._once_lock:
            told = read_json(self._told_path)
            if told.get(key) or not kodi.notify(message, heading=heading):
                return
            kodi.log("told once for good: %s" % key)
            told[key] = True
            try:
                write_json(self._told_path, told)
            except OSError as exc:
                kodi.warn("could not remember a notification as told: %s" % exc)

    def delivered(self, items):
        """One notification for what one flush (or one live stop) delivered (a whole marked season is one)."""
        if not items or not kodi.setting_bool("notify_watched", True):
            return
        if len(items) == 1:
            message = items[0].label()
        else:
            episodes = sum(1 for item in items if isinstance(item, Episode))
            message = movies_and_episodes(len(items) - episodes, episodes, kodi.localize)
        kodi.notify(message, heading=kodi.localize(32550))

    def needs_attention(self, items):
        """One notification for what one pass of the worker put under Needs attention (worker.NeedsAttention),
        naming the title when there is one (a title queued twice is one). Held back while a video plays, it is
        told with the next pass's or once playback ends (playback_ended), once."""
        with self._attention_lock:
            for item in items:
                label = rated_label(item.label, item.rating, kodi.localize)
                self._untold[label] = self._untold.get(label, False) or item.by_simkl
                if item.rating is not None:
                    self._untold_ratings.add(label)
            self._tell_attention()

    def playback_ended(self):
        """Kodi's player stopped: what was held back while the video played is told now, or, while Kodi still
        says a video plays, as soon as it no longer does (within LOOK_FOR s; after that the next stop tells)."""
        with self._attention_lock:
            self._tell_attention()
            if not self._untold or self._looking:
                return
            self._looking = True
        threading.Thread(target=self._look_after_stop, name="simkl-notices", daemon=True).start()

    def _look_after_stop(self):
        try:
            for _ in range(int(LOOK_FOR / LOOK_AGAIN)):
                if self._stopping.wait(LOOK_AGAIN):
                    return
                with self._attention_lock:
                    if not self._untold:
                        return
                    if not kodi.condition("Player.HasVideo"):  # asked first: no "not shown" line at each look
                        self._tell_attention()
                        return
        finally:
            with self._attention_lock:
                self._looking = False

    def account_changed(self):
        """Another account (or none) logged in: what the last one's queue met is not the new one's to hear."""
        with self._attention_lock:
            self._untold.clear()
            self._untold_ratings.clear()

    def _tell_attention(self):
        if not self._untold:
            return
        titles = list(self._untold)
        forms = NEEDS_ATTENTION_TITLES if self._untold_ratings else NEEDS_ATTENTION  # a rating is no watch
        message = titles[0] if len(titles) == 1 else count(len(titles), forms, kodi.localize)
        heading = kodi.localize(32800 if any(self._untold.values()) else 32803)  # Simkl's doing, or no title found
        if kodi.notify(message, heading=heading, icon=kodi.WARNING):
            kodi.log("told: %s: %s" % (heading, message))
            self._untold.clear()
            self._untold_ratings.clear()

    def sent(self, entries):
        """Simkl took a batch: the next failure to send is a new problem again."""
        if entries:
            self._told_send.clear()

    def send_problem(self, code):
        """Sending failed: tell the user once per problem, not at every retry (a notification held
        back during playback is told at the next failure)."""
        from .problems import PROBLEMS, short_text  # in the words of the status view; not at start (sqlite3)
        if code in PROBLEMS and PROBLEMS[code].short is not None and code not in self._told_send:
            if kodi.notify(short_text(code, kodi.localize), heading=kodi.localize(32563), icon=kodi.WARNING):
                self._told_send.add(code)

    def storage(self, exc):
        """The disk failed (exc), or took again what waited in memory (None)."""
        if exc is None:
            self._told_disk_full = False
        elif not self._told_disk_full and disk_full(exc, kodi.profile_dir()):  # where the outbox lives
            self._told_disk_full = True
            kodi.notify(kodi.localize(32230), heading=kodi.localize(32765), icon=kodi.WARNING)
