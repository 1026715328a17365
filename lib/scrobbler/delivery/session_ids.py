"""How a show rewatch session's episodes are queued: the stand-in they carry as their rewatch_id until
Simkl has answered the session's start, and the ids that name the session's adds (kept apart from
outbox.py so that the service can read it at start without importing sqlite3)."""
from typing import Tuple

from ..values import FrozenValue

PENDING_PREFIX = "session:"  # stands for a show session's rewatch_id until Simkl has answered


def pending_id(show_key: str) -> str:
    return PENDING_PREFIX + show_key


class SessionWatch(FrozenValue):
    """A watch that continues its show's rewatch session: the rewatch_id it is queued with (the pinned one,
    or the stand-in until Simkl has answered the start), and the ids naming that session's adds (the
    stand-in and the pinned id, "" while there is none) for the 48-hour repeat check."""

    FIELDS = ("rewatch_id", "session_ids")

    def __init__(self, rewatch_id: str, session_ids: Tuple[str, str]):
        self._set(rewatch_id=rewatch_id, session_ids=session_ids)
