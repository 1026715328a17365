"""The stand-in a show rewatch session's episodes carry as their rewatch_id in the queue until Simkl has
answered the session's start (kept apart from outbox.py so that the service can read it at start
without importing sqlite3)."""

PENDING_PREFIX = "session:"  # stands for a show session's rewatch_id until Simkl has answered


def pending_id(show_key: str) -> str:
    return PENDING_PREFIX + show_key
