"""Rewatches: the explicit Rewatch action's rules and the per-show session whose rewatch_id is pinned.

Simkl's rule is strict: `allow_rewatch=yes` only on explicit user intent, never on automatic
retries or scrobbles, and every later write of a session carries the session's `rewatch_id`, or
Simkl forks a new phantom session. The only automatic writes with the flag are episodes of a show
whose session the user started from the context menu, while Track rewatches stays on.
"""
import os
import time
from typing import Callable, Dict, Optional

from ..delivery.session_ids import pending_id
from ..files import FileLock, read_json, write_json
from ..media import Episode, Media, Movie, Show, from_dict

SESSIONS_FILE = "rewatch_sessions.json"
MIN_GAP = 48 * 3600  # Simkl merges events on one item less than 48 h apart into one session
MAX_REWATCHES = 50  # Simkl keeps at most 50 rewatch sessions per item


class Sessions:
    """Active show rewatch sessions, shared by the service and the context-menu script via a file. Each is
    the session of the account that started it (its `account`, an Owner's key; none in a file written before
    accounts were told apart)."""

    def __init__(self, folder: str, clock: Callable[[], float] = time.time):
        self.path = os.path.join(folder, SESSIONS_FILE)
        self._clock = clock

    def all(self) -> Dict[str, dict]:
        return read_json(self.path)

    def get(self, show_key: str) -> Optional[dict]:
        return self.all().get(show_key)

    def start(self, show: Show, account: Optional[str] = None) -> None:
        self._change(lambda data: data.__setitem__(show.key(), {"show": show.to_dict(), "rewatch_id": None,
                                                               "started": int(self._clock()), "account": account}))

    def of(self, show_key: str, account: Optional[str]) -> Optional[dict]:
        """The show's session if it is `account`'s (one without an account is the logged-in account's)."""
        session = self.get(show_key)
        if session is None or account is None or session.get("account") not in (None, account):
            return None
        return session

    def end_others(self, account: Optional[str]) -> int:
        """End every session that is not `account`'s (with None, every session): a logout, another login.
        Returns how many ended."""
        ended = []

        def change(data):
            for key in list(data):
                if account is None or data[key].get("account") not in (None, account):
                    ended.append(data.pop(key))
        if self.all():
            self._change(change)
        return len(ended)

    def pin(self, show_key: str, rewatch_id: str) -> None:
        def change(data):
            if show_key in data and not data[show_key].get("rewatch_id"):
                data[show_key]["rewatch_id"] = str(rewatch_id)
        self._change(change)

    def end(self, show_key: str) -> None:
        self._change(lambda data: data.pop(show_key, None))

    def end_all(self) -> None:
        self._change(lambda data: data.clear())

    def label(self, show_key: str) -> str:
        session = self.get(show_key)
        return from_dict(session["show"]).label() if session else show_key

    def _change(self, change) -> None:
        with FileLock(self.path + ".lock"):
            data = self.all()
            change(data)
            write_json(self.path, data)


def session_for(item: Media, sessions: Sessions) -> Optional[str]:
    """The rewatch_id (or its stand-in) an automatic scrobble of `item` must carry, if any."""
    if not isinstance(item, Episode):
        return None
    session = sessions.get(item.show_key())
    if session is None:
        return None
    return session.get("rewatch_id") or pending_id(item.show_key())


def too_soon(last_watched: Optional[float], now: float) -> Optional[float]:
    """When a rewatch becomes possible, if it is not yet (the 48 h rule); None when it is."""
    if last_watched is None or now - last_watched >= MIN_GAP:
        return None
    return last_watched + MIN_GAP


def describe(item: Media) -> str:
    if isinstance(item, (Movie, Show)):
        return item.label()
    return "%s, %s" % (item.label(), item.title) if item.title else item.label()
