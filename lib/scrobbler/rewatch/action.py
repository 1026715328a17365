"""The context-menu Rewatch action: checks, one yes/no question, then a rewatch entry in the outbox."""
import json
import time

from .. import kodi
from ..delivery.access import open_outbox, request_flush
from ..media import Episode, Movie, Show, clean_ids
from ..playback.resolve import Library
from ..simkl.account import current_owner, token_store
from .sessions import MAX_REWATCHES, Sessions, describe, too_soon

LISTITEM_IDS_PROPERTY = "service.scrobbler.simkl.ids"


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


def run(listitem, clock=time.time):
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
        outbox.add(item, now, rewatch=True)
    kodi.log("queued a rewatch of %s" % label)
    request_flush()
    kodi.notify(label, heading=kodi.localize(32769))
