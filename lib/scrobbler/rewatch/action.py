"""The context-menu Rewatch action: checks, one yes/no question, then a rewatch entry in the outbox.

One rewatch is one notification: the service tells Simkl's answer (RewatchPolicy.answered) and a new problem
(Notices.send_problem); this script tells only that the rewatch waits, when its try meets a problem the user
was already told of (which is not told again) or no try comes in time."""
import json
import time
from typing import Dict, Optional, Tuple

from .. import kodi
from ..delivery.access import open_outbox, request_flush
from ..delivery.outbox import PENDING, UNRESOLVED
from ..media import Episode, Movie, Show, clean_ids
from ..playback.resolve import Library
from ..simkl.account import current_owner, token_store
from .sessions import MAX_REWATCHES, Sessions, describe, too_soon

LISTITEM_IDS_PROPERTY = "service.scrobbler.simkl.ids"
# How long the script waits for the service's try, as Retry now does (ui/status.py RETRY_WAIT): a request's
# connect and read timeouts and its pacing.
FIRST_TRY_WAIT = 30.0
FIRST_TRY_POLL = 0.25


def target(listitem):
    """The movie, episode or show the context menu was opened on, with its full ids."""
    if listitem is None:
        return None
    tag = listitem.getVideoInfoTag()
    kind, dbid = tag.getMediaType(), tag.getDbId()
    if dbid and dbid > 0:
        # The list item's tag carries only the default unique id: ask the library for all of them.
        library = Library(kodi.jsonrpc)
        lookup = {"movie": library.movie, "episode": library.episode, "tvshow": library.show}.get(kind)
        return lookup(dbid) if lookup else None
    try:
        ids = clean_ids(json.loads(listitem.getProperty(LISTITEM_IDS_PROPERTY) or "{}"))
    except (ValueError, AttributeError):
        ids = {}
    if not ids:
        return None
    year = tag.getYear() or None
    if kind == "episode" and tag.getTVShowTitle() and tag.getSeason() >= 0 and tag.getEpisode() > 0:
        return Episode(tag.getTVShowTitle(), tag.getSeason(), tag.getEpisode(), None, ids, tag.getTitle())
    if kind == "tvshow":
        return Show(tag.getTitle(), year, ids)
    return Movie(tag.getTitle(), year, ids)


def run(listitem, clock=time.time, try_wait=FIRST_TRY_WAIT):
    """The action on `listitem`, its times on `clock`; it waits up to `try_wait` s for the service's try."""
    if not kodi.setting_bool("track_rewatches"):
        kodi.ok_dialog(kodi.localize(32306))
        return
    login = token_store().load()
    if not login.get("access_token"):
        kodi.ok_dialog(kodi.localize(32043))
        return
    if (login.get("account_type") or "free") == "free":
        kodi.ok_dialog(kodi.localize(32309))
        return
    item = target(listitem)
    if item is None:
        kodi.ok_dialog(kodi.localize(32314))
        return
    label = describe(item)
    now = clock()
    with open_outbox(clock) as outbox:
        tag = listitem.getVideoInfoTag()
        library = (tag.getMediaType(), tag.getDbId()) if (tag.getDbId() or 0) > 0 else None
        possible_at = too_soon(outbox.last_watched(item.key(), library), now)
        if possible_at is not None:
            kodi.ok_dialog(kodi.localize(32308, label, kodi.format_time(possible_at, now)))
            return
        if outbox.rewatch_count(item.key()) >= MAX_REWATCHES:
            kodi.ok_dialog(kodi.localize(32315, label))
            return
        # A show starts a session: the user must know that the episodes they watch next count for it.
        if not kodi.yesno_dialog(kodi.localize(32860 if isinstance(item, Show) else 32307, label)):
            return
        if isinstance(item, Show):
            owner = current_owner()
            Sessions(kodi.profile_dir(), clock=clock).start(item, owner.key if owner else None)
        lasting = outbox.last_deferral()  # (problem, until) of one the user was told of, while it lasts
        entry_id = outbox.add(item, now, rewatch=True)
        kodi.log("queued a rewatch of %s" % label)
        before = outbox.waiting_states()  # before the service is woken: its try may come at once
        request_flush()
        failing = first_try(outbox, entry_id, before, timeout=try_wait)
    if failing == "" or (failing is not None and lasting is not None and failing == lasting[0]):
        kodi.log("the rewatch of %s waits: %s" % (label, failing or "no try yet"))
        kodi.notify(label, heading=kodi.localize(32769), icon=kodi.WARNING)


def first_try(outbox, entry_id: int, before: Dict[int, Tuple[str, int, Optional[str]]],
              clock=time.monotonic, wait=kodi.sleep, timeout: float = FIRST_TRY_WAIT) -> Optional[str]:
    """How the service's first try of the rewatch `entry_id` went, from the waiting entries' states `before`
    it: None when Simkl answered it (took or refused it) or Kodi quits; the problem's code when a try failed
    (the sender stops at a failure, so an older entry's ends it too); "" when no try came in time."""
    deadline = clock() + timeout
    while not kodi.abort_requested():
        now = outbox.states(before)
        if now.get(entry_id, ("gone",))[0] not in (PENDING, UNRESOLVED):
            return None
        for other, (_, attempts, error) in now.items():
            if error and attempts > before[other][1]:
                return error
        if clock() >= deadline:
            return ""
        wait(FIRST_TRY_POLL)
    return None
