"""Kodi Player subclass: turns Kodi's playback callbacks into events for watch.Playback.

Kodi opens the next file of a playlist (or the one Up Next starts) before Python hears about it,
and from that moment getTime(), getTotalTime() and getPlayingFile() answer for the new file. So a
sample counts only while Kodi still plays the file the tracked item started with, and an item is
decided from its own samples alone.
"""
import threading
import time
from typing import Callable, Dict, Optional

import xbmc
import xbmcgui  # noqa: F401  Kodi 21.2 crashes on getPlayingItem() unless this interpreter imported xbmcgui

from .. import kodi
from .resolve import LISTITEM_IDS, WINDOW_ID_PROPERTIES, PlayingItem
from .watch import Playback, Rules, exclusion_reason

SAMPLE_INTERVAL = 2.0  # seconds between position samples, only while something plays
OPT_OUT_PROPERTY = "service.scrobbler.simkl.skip"
LISTITEM_IDS_PROPERTY = "service.scrobbler.simkl.ids"


class Tracked:
    """One item being followed: what Kodi said about it, the file it plays, and how far it got."""

    def __init__(self, item: PlayingItem, playback: Playback, playing_file: str):
        self.item = item
        self.playback = playback
        self.playing_file = playing_file


class Player(xbmc.Player):
    """Follows playback. `on_finished(tracked)` is called once per tracked item, when it ends or stops;
    `on_event(kind, tracked)` for "started", "paused", "resumed" and "seeked" of the tracked item (Kodi's
    own callbacks, on Kodi's thread: it must only take note)."""

    def __init__(self, on_finished: Callable[[Tracked], None], rules: Callable[[], Rules],
                 clock: Callable[[], float] = time.time, interval: float = SAMPLE_INTERVAL,
                 on_event: Callable[[str, Tracked], None] = lambda kind, tracked: None,
                 steady: Callable[[], float] = time.monotonic):
        """steady: the clock `quiet_for` is measured on (never set back, unlike the wall clock)."""
        super().__init__()
        self._on_finished = on_finished
        self._on_event = on_event
        self._rules = rules
        self._clock = clock
        self._interval = interval
        self._lock = threading.RLock()
        self._current: Optional[Tracked] = None
        self._sampler: Optional[threading.Event] = None
        # The Home window ids properties as this item's start found them (see _take_window_ids).
        self._window_ids: Optional[Dict[str, str]] = None
        self._opening = False  # onPlayBackStarted came; onAVStarted for the same file has not yet
        self._steady = steady
        self._last_change: Optional[float] = None  # when a file last opened or closed, on the steady clock

    # -- Kodi callbacks -------------------------------------------------------------------------
    def onPlayBackStarted(self):
        self._next_file()

    def onAVStarted(self):
        if not self._opening:
            self._next_file()  # Kodi sent no onPlayBackStarted for this file
        self._opening = False
        try:
            item, total, position, is_live, opted_out, playing_file = self._read_playing()
        except RuntimeError:
            return  # stopped again before we could read it
        reason = exclusion_reason(item.path, item.media_type, is_live, opted_out, self._rules(), source=item.source)
        if reason:
            kodi.debug("not following %s: %s" % (item.media_type or "item", reason))
            return
        with self._lock:
            tracked = self._current = Tracked(item, Playback(total, position, clock=self._clock), playing_file)
            self._start_sampler()
        kodi.debug("following %s %r, %.0f s long" % (item.media_type, item.title, total))
        self._on_event("started", tracked)

    def onPlayBackPaused(self):
        self.sample()  # where it paused: the position a live pause carries
        self._tell("paused")

    def onPlayBackResumed(self):
        self._tell("resumed")

    def onPlayBackSeek(self, time_ms, seek_offset):
        with self._lock:
            if self._current is not None:
                self._current.playback.seek(time_ms / 1000.0)
        self.sample()
        self._tell("seeked")

    def onPlayBackSeekChapter(self, chapter):
        self.sample()
        self._tell("seeked")

    def onPlayBackEnded(self):
        self._file_closed(natural=True)

    def onPlayBackStopped(self):
        self._file_closed(natural=False)

    def onPlayBackError(self):
        self._file_closed(natural=False)

    def _tell(self, kind):
        with self._lock:
            current = self._current
        if current is not None:
            self._on_event(kind, current)

    # -- sampling -------------------------------------------------------------------------------
    def sample(self):
        """Read the position into the tracked item, if Kodi still plays that item's file."""
        with self._lock:
            current = self._current
        if current is None or not self.isPlayingVideo():
            return  # asking Kodi for the file now would make it log an EXCEPTION line, even when caught
        try:
            before = self.getPlayingFile()
            position, total = self.getTime(), self.getTotalTime()
            after = self.getPlayingFile()
        except RuntimeError:
            return  # playback ended between the check and the read
        if before != current.playing_file or after != before:
            return  # the next item is already open: these numbers are not this item's
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

    def quiet_for(self) -> Optional[float]:
        """Seconds since a file last opened or closed; None when none did since the service started."""
        changed = self._last_change
        return None if changed is None else self._steady() - changed

    def quiet(self, after: float) -> bool:
        """Nothing plays, no playlist goes on to a next item, and no file opened or closed for `after` seconds:
        a moment to ask the user something (never over a video, nor between two items of a playlist)."""
        if self.isPlaying() or kodi.playlist_goes_on():
            return False
        quiet = self.quiet_for()
        return quiet is None or quiet >= after

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
        self._on_finished(current)

    def _file_closed(self, natural):
        self._last_change = self._steady()
        self._finish(natural)
        self._release_window_ids()
        self._opening = False

    def _next_file(self):
        """A new file is opening: a followed item that got no end or stop was skipped (playlist, Up
        Next) and is decided where its own samples left it; the ids properties now belong to the new one."""
        self._last_change = self._steady()
        self._finish(natural=False)
        self._release_window_ids()
        self._take_window_ids()
        self._opening = True

    # -- ids a playing add-on hands over --------------------------------------------------------
    def _take_window_ids(self):
        """Read the Home window ids properties for the item that is starting, and only for it."""
        self._window_ids = {name: kodi.home_property(name) for name in WINDOW_ID_PROPERTIES}

    def _release_window_ids(self):
        """Clear the properties once their item ended, as script.trakt does, so the next item never
        inherits them; one the next item's add-on has set meanwhile is left alone."""
        taken, self._window_ids = self._window_ids, None
        for name, value in (taken or {}).items():
            if value and kodi.home_property(name) == value:
                kodi.clear_home_property(name)

    # -- what is playing ------------------------------------------------------------------------
    def _read_playing(self):
        tag = self.getVideoInfoTag()
        playing_file = self.getPlayingFile()  # for an add-on video, the URL it resolved to
        total, position = self.getTotalTime(), self.getTime()
        source, opted_out, listitem_ids = "", False, ""
        if hasattr(self, "getPlayingItem"):  # Kodi 20 and later
            try:
                playing = self.getPlayingItem()
                source = playing.getPath()  # where the item came from: an add-on's plugin:// path
                opted_out = playing.getProperty(OPT_OUT_PROPERTY).lower() == "true"
                listitem_ids = playing.getProperty(LISTITEM_IDS_PROPERTY)
            except (RuntimeError, AttributeError):
                pass
        else:  # Kodi 19 tells the item's own path only as an info label, and none of its properties
            source = kodi.info_label("Player.Filenameandpath")
        property_ids = dict(self._window_ids or {})
        property_ids[LISTITEM_IDS] = listitem_ids
        tag_id = tag.getUniqueID if hasattr(tag, "getUniqueID") else lambda key: ""  # Kodi 19's tag has none
        uniqueids = {key: tag_id(key) or kodi.info_label("VideoPlayer.UniqueID(%s)" % key)
                     for key in ("imdb", "tmdb", "tvdb")}
        season, episode = tag.getSeason(), tag.getEpisode()
        media_type = tag.getMediaType()
        if media_type not in ("movie", "episode") and any(property_ids.values()):
            media_type = _guess_type(tag)  # an add-on handed over ids: it plays a title, not a clip
        item = PlayingItem(
            media_type=media_type, dbid=tag.getDbId(), path=playing_file, source=source or playing_file,
            title=tag.getTitle(), year=tag.getYear() or None, show_title=tag.getTVShowTitle(),
            season=season if season is not None and season >= 0 else None,
            episode=episode if episode is not None and episode > 0 else None,
            uniqueids={k: v for k, v in uniqueids.items() if v}, property_ids=property_ids)
        is_live = kodi.condition("PVR.IsPlayingTV") or kodi.condition("PVR.IsPlayingRadio")
        return item, total, position, is_live, opted_out, playing_file


def _guess_type(tag) -> str:
    """Add-ons often leave the media type empty: a show title with season and episode is an episode."""
    if tag.getTVShowTitle() and (tag.getSeason() or 0) >= 0 and (tag.getEpisode() or 0) > 0:
        return "episode"
    return "movie"
