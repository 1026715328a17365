"""Kodi Player subclass: turns Kodi's playback callbacks into events for watch.Playback."""
import threading
import time
from typing import Callable, Optional

import xbmc

from . import kodi
from .resolve import ID_PROPERTIES, PlayingItem
from .watch import Playback, Rules, exclusion_reason

SAMPLE_INTERVAL = 2.0  # seconds between position samples, only while something plays
OPT_OUT_PROPERTY = "service.scrobbler.simkl.skip"
LISTITEM_IDS_PROPERTY = "service.scrobbler.simkl.ids"


class Tracked:
    """One item being followed: what Kodi said about it and how far it got."""

    def __init__(self, item: PlayingItem, playback: Playback):
        self.item = item
        self.playback = playback


class Player(xbmc.Player):
    """Follows playback. `on_finished(tracked)` is called once per tracked item, when it ends or stops."""

    def __init__(self, on_finished: Callable[[Tracked], None], rules: Callable[[], Rules],
                 clock: Callable[[], float] = time.time, interval: float = SAMPLE_INTERVAL):
        super().__init__()
        self._on_finished = on_finished
        self._rules = rules
        self._clock = clock
        self._interval = interval
        self._lock = threading.RLock()
        self._current: Optional[Tracked] = None
        self._sampler: Optional[threading.Event] = None
        self.last_finished = None  # (media type, dbid, time) of the last item that finished

    # -- Kodi callbacks -------------------------------------------------------------------------
    def onAVStarted(self):
        self._finish(natural=False)  # a playlist advance or Up Next: the previous item stopped where it was
        try:
            item, total, position, is_live, opted_out = self._read_playing()
        except RuntimeError:
            return  # stopped again before we could read it
        reason = exclusion_reason(item.path, item.media_type, is_live, opted_out, self._rules())
        if reason:
            kodi.debug("not following %s: %s" % (item.media_type or "item", reason))
            return
        with self._lock:
            self._current = Tracked(item, Playback(total, position, clock=self._clock))
            self._start_sampler()
        kodi.debug("following %s %r, %.0f s long" % (item.media_type, item.title, total))

    def onPlayBackSeek(self, time_ms, seek_offset):
        with self._lock:
            if self._current is not None:
                self._current.playback.seek(time_ms / 1000.0)
        self.sample()

    def onPlayBackSeekChapter(self, chapter):
        self.sample()

    def onPlayBackEnded(self):
        self._finish(natural=True)

    def onPlayBackStopped(self):
        self._finish(natural=False)

    def onPlayBackError(self):
        self._finish(natural=False)

    # -- sampling -------------------------------------------------------------------------------
    def sample(self):
        with self._lock:
            current = self._current
        if current is None:
            return
        try:
            position, total = self.getTime(), self.getTotalTime()
        except RuntimeError:
            return  # playback ended between the check and the read
        with self._lock:
            if self._current is current:
                current.playback.sample(position, total)

    def _start_sampler(self):
        stop = threading.Event()
        self._sampler = stop

        def loop():
            while not stop.wait(self._interval):
                self.sample()

        threading.Thread(target=loop, name="simkl-sampler", daemon=True).start()

    def stop_sampling(self):
        with self._lock:
            if self._sampler is not None:
                self._sampler.set()
                self._sampler = None

    def is_following(self) -> bool:
        with self._lock:
            return self._current is not None

    def _finish(self, natural):
        with self._lock:
            current, self._current = self._current, None
            if current is None:
                return
            if self._sampler is not None:
                self._sampler.set()
                self._sampler = None
            if natural:
                current.playback.ended()
            else:
                current.playback.stopped()
            self.last_finished = (current.item.media_type, current.item.dbid, self._clock())
        self._on_finished(current)

    # -- what is playing ------------------------------------------------------------------------
    def _read_playing(self):
        tag = self.getVideoInfoTag()
        path = self.getPlayingFile()
        total, position = self.getTotalTime(), self.getTime()
        listitem_props = {}
        opted_out = False
        try:
            playing = self.getPlayingItem()
            opted_out = playing.getProperty(OPT_OUT_PROPERTY).lower() == "true"
            listitem_props[LISTITEM_IDS_PROPERTY] = playing.getProperty(LISTITEM_IDS_PROPERTY)
        except (RuntimeError, AttributeError):
            pass  # Kodi before 20 has no getPlayingItem
        properties = {name: kodi.home_property(name) for name in ID_PROPERTIES}
        if not properties.get(LISTITEM_IDS_PROPERTY):
            properties[LISTITEM_IDS_PROPERTY] = listitem_props.get(LISTITEM_IDS_PROPERTY, "")
        uniqueids = {key: tag.getUniqueID(key) or kodi.info_label("VideoPlayer.UniqueID(%s)" % key)
                     for key in ("imdb", "tmdb", "tvdb")}
        season, episode = tag.getSeason(), tag.getEpisode()
        media_type = tag.getMediaType()
        if media_type not in ("movie", "episode") and any(properties.values()):
            media_type = _guess_type(tag)  # an add-on handed over ids: it plays a title, not a clip
        item = PlayingItem(
            media_type=media_type, dbid=tag.getDbId(), path=path,
            title=tag.getTitle(), year=tag.getYear() or None, show_title=tag.getTVShowTitle(),
            season=season if season is not None and season >= 0 else None,
            episode=episode if episode is not None and episode > 0 else None,
            uniqueids={k: v for k, v in uniqueids.items() if v}, property_ids=properties)
        is_live = kodi.condition("PVR.IsPlayingTV") or kodi.condition("PVR.IsPlayingRadio")
        return item, total, position, is_live, opted_out


def _guess_type(tag) -> str:
    """Add-ons often leave the media type empty: a show title with season and episode is an episode."""
    if tag.getTVShowTitle() and (tag.getSeason() or 0) >= 0 and (tag.getEpisode() or 0) > 0:
        return "episode"
    return "movie"
