"""The service's rewatch decisions: which watch continues its show's rewatch session, which title must
not go live, what a queued session episode carries when it is sent, what Simkl's answer to a rewatch
means for the user, and the context menu following Track rewatches.

With Track rewatches off no watch joins a session, nothing is kept from going live, a queued session
episode goes as an ordinary watch, and follow_setting ends every session.
"""
from typing import Callable, Optional

from .. import config, kodi
from ..delivery.session_ids import PENDING_PREFIX, SessionWatch, pending_id
from ..media import Media, Show
from .sessions import Sessions, session_for

REWATCH_PROPERTY = config.ADDON_ID + ".rewatch"  # the context menu's visibility condition reads it


class RewatchPolicy:
    """`outbox` gives the queue (made at its first use), read for the sessions' starts and pins;
    `tracking` reads Track rewatches."""

    def __init__(self, sessions: Sessions, outbox: Callable[[], object], tracking: Callable[[], bool]):
        self._sessions = sessions
        self._outbox = outbox
        self._tracking = tracking

    def session_watch(self, entry, item: Media) -> Optional[SessionWatch]:
        """Whether the resolved watch `entry` (of `item`) continues its show's rewatch session, and how;
        None for an ordinary watch."""
        session = None
        if entry.kind == "add" and self._tracking():
            session = session_for(item, self._sessions)
            if session and not self._sessions.of(item.show_key(), entry.account):
                session = None  # another account's session, or a watch made logged out (it is nobody's)
            start = self._outbox().session_start_id(item.show_key()) if session else None
            if start is not None and entry.id < start:
                session = None  # committed before the user started the session: an ordinary watch
        if session is None:
            return None
        # The user started this show's rewatch session: its episodes continue it (pinned rewatch_id).
        show_key = item.show_key()
        names = (pending_id(show_key), (self._sessions.get(show_key) or {}).get("rewatch_id") or "")
        return SessionWatch(session, names)

    def in_session(self, item: Media) -> bool:
        """A title of a rewatch session must not go live: its watch carries the session's id, which only
        /sync/history can."""
        return bool(self._tracking() and session_for(item, self._sessions))

    def session_id(self, placeholder: str) -> Optional[str]:
        """For a queued session episode: the pinned rewatch_id, "" while its start is on its way, None
        once the session ended (or its start will never come: refused or discarded)."""
        if not self._tracking():
            return None
        show_key = placeholder[len(PENDING_PREFIX):]
        session = self._sessions.get(show_key)
        if session is None:
            return None
        if session.get("rewatch_id"):
            return session["rewatch_id"]
        outbox = self._outbox()
        pinned = outbox.session_pins().get(show_key)
        if pinned:  # Simkl answered, and the pin was recorded with it, but the session file missed it
            self._sessions.pin(show_key, pinned)
            return pinned
        if outbox.waiting(show_key):
            return ""
        kodi.log("the rewatch session of %s never started on Simkl: its episodes go as ordinary watches"
                 % self._sessions.label(show_key))
        self._sessions.end(show_key)
        return None

    def answered(self, entry, response: dict) -> None:
        """Simkl answered a rewatch entry (or refused it): tell the user, and pin or end a show's session."""
        label = entry.item.label()
        rewatch_id = response.get("rewatch_id")
        if response.get("error") == "pro_required":
            kodi.log("Simkl refused a rewatch: PRO or VIP required")
            kodi.notify(kodi.localize(32310), heading=kodi.localize(32766), icon=kodi.WARNING)
        elif response.get("error"):
            kodi.log("Simkl refused the rewatch of %s (%s)" % (label, response["error"]))
            kodi.notify(label, heading=kodi.localize(32766), icon=kodi.WARNING)
        elif not rewatch_id:
            kodi.log("Simkl answered a rewatch of %s without a rewatch_id; not retried" % label)
            kodi.notify(label, heading=kodi.localize(32766), icon=kodi.WARNING)
        elif isinstance(entry.item, Show):
            self._sessions.pin(entry.item.key(), rewatch_id)
            kodi.notify(label, heading=kodi.localize(32767))
            return
        else:
            kodi.notify(label, heading=kodi.localize(32768))
            return
        if isinstance(entry.item, Show):
            self._sessions.end(entry.item.key())

    def follow_setting(self) -> None:
        """Keep the context menu's visibility in step with Track rewatches; off ends every session."""
        if self._tracking():
            kodi.set_home_property(REWATCH_PROPERTY, "true")
        else:
            kodi.clear_home_property(REWATCH_PROPERTY)
            if self._sessions.all():
                self._sessions.end_all()
                kodi.log("Track rewatches is off: rewatch sessions ended")

    def follow_account(self, account: Optional[str]) -> None:
        """The login changed (`account` is the key of the one logged in now, None: logged out): the sessions of
        any other account end, all of them at a logout."""
        ended = self._sessions.end_others(account)
        if ended:
            kodi.log("%d rewatch session(s) ended: %s" % (ended, "logged out" if account is None
                                                            else "another account logged in"))

    @staticmethod
    def hide_action() -> None:
        """The service stops: the context menu no longer offers Rewatch on Simkl."""
        kodi.clear_home_property(REWATCH_PROPERTY)
