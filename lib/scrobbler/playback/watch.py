"""Does this playback count as watched? Pure decisions, fed with player events and a clock.

Two questions, asked at two moments by the player:
- `exclusion_reason` when an item starts: should it be tracked at all (Live TV, streams,
  plugin sources, excluded folders, add-on opt-out, media type switched off)?
- `decide` when it finishes: did the tracked `Playback` get far enough?
Pause and resume are not events here: they change neither the furthest position nor the end.
"""
# Kodi can embed Python 3.8: typing.Optional/Tuple, not the 3.10 forms FA100 leads to.
# ruff: noqa: FA100
import time
from typing import Callable, Optional, Tuple

from ..values import FrozenValue
from .resolve import stacked_files

WATCHABLE_TYPES = ("movie", "episode")
# Seconds of media a natural end may be ahead of what was last seen: the player samples every 2 s,
# and a callback can arrive a moment late.
NATURAL_END_SLACK = 5.0


class Rules(FrozenValue):
    """The user's settings for what counts.

    threshold: fraction of the total (0 < threshold <= 1) the furthest position must reach.
    min_length: items shorter than this many seconds (trailers, clips) never count.
    excluded_folders: path prefixes (the settings offer twelve); empty entries are ignored.
    """

    FIELDS = ("threshold", "min_length", "movies", "episodes", "exclude_http", "exclude_plugin", "excluded_folders")

    def __init__(self, threshold: float = 0.8, min_length: float = 300, movies: bool = True, episodes: bool = True,
                 exclude_http: bool = False, exclude_plugin: bool = False, excluded_folders: Tuple[str, ...] = ()):
        # A percentage (80) passed by mistake would silently make nothing count.
        if not 0 < threshold <= 1:
            raise ValueError(f"threshold must be a fraction in (0, 1], got {threshold!r}")
        self._set(threshold=threshold, min_length=min_length, movies=movies, episodes=episodes,
                  exclude_http=exclude_http, exclude_plugin=exclude_plugin, excluded_folders=excluded_folders)


def exclusion_reason(path: str, media_type: str, is_live: bool, opted_out: bool,
                     rules: Rules, source: Optional[str] = None) -> Optional[str]:
    """Why this item must not be scrobbled, or None when it may be.

    path: what Kodi plays (file, smb://, http(s)://, pvr://, stack://); for an add-on video the
        URL the add-on resolved it to.
    source: where the item came from, when that differs from path (an add-on's plugin:// path).
    media_type: Kodi's media type of the item ('movie', 'episode', ...).
    is_live: Kodi says it plays Live TV / PVR.
    opted_out: the playing add-on set its opt-out property on the ListItem.
    """
    lowered = (path or "").lower()
    origin = (source or path or "").lower()
    if is_live or lowered.startswith("pvr://") or origin.startswith("pvr://"):
        return "live tv"
    reason = _media_type_reason((media_type or "").lower(), rules)
    if reason is not None:
        return reason
    if opted_out:
        return "opted out by add-on"
    return _source_reason(lowered, origin, {path, source}, rules)


def _media_type_reason(media_type: str, rules: Rules) -> Optional[str]:
    """Why an item of this (lower-case) media type is not scrobbled, or None when it may be."""
    if media_type not in WATCHABLE_TYPES:
        return "not a movie or episode"
    if media_type == "movie" and not rules.movies:
        return "movies switched off"
    if media_type == "episode" and not rules.episodes:
        return "episodes switched off"
    return None


def _source_reason(lowered: str, origin: str, places: set, rules: Rules) -> Optional[str]:
    """Why an item is not scrobbled for where it plays from (lowered: the path, origin: where it came from,
    both in lower case; places: both as given), or None when it may be."""
    if rules.exclude_http and lowered.startswith(("http://", "https://")):
        return "http stream"
    if rules.exclude_plugin and (origin.startswith("plugin://") or lowered.startswith("plugin://")):
        return "plugin source"
    if any(_under(where, folder) for folder in rules.excluded_folders for where in places if where):
        return "excluded folder"
    return None


def _normalise(path: str) -> str:
    return path.strip().replace("\\", "/").rstrip("/").lower()


def _under(path: str, folder: str) -> bool:
    """Is path the folder itself or inside it? '/media/movies' does not hold '/media/movies-other'."""
    if not folder or not folder.strip():
        return False
    path = stacked_files(path)[0]  # a stacked movie (cd1, cd2) lives where its first part lives
    prefix = _normalise(folder)
    target = _normalise(path)
    return target == prefix or target.startswith(prefix + "/")


class Playback:
    """One playing item, fed with the player's events until it finishes.

    position: the current position (s), from the last sample or seek.
    furthest: the furthest position (s) that samples showed playback really reached.
    furthest_known: the furthest of samples and seek targets: what a natural end is measured by.
    total: the length (s); 0 while unknown. A sample may bring it when a stream learns it late.
    ended_naturally: playback reached the end by itself (onPlayBackEnded).
    finished: ended or stopped; later events are ignored.
    finished_at: clock() when it finished (with the default wall clock, the watched_at time).
    """

    def __init__(self, total: float, position: float = 0.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.total = max(float(total or 0), 0.0)
        self.position = max(float(position), 0.0)
        self.furthest = self.position
        self.furthest_known = self.position
        self.ended_naturally = False
        self.finished = False
        self.finished_at: Optional[float] = None
        self._clock = clock

    def sample(self, position: float, total: Optional[float] = None) -> None:
        """A position read while playing, with the total when it is (now) known."""
        if self.finished:
            return
        if total and total > 0:
            self.total = float(total)
        self.position = max(float(position), 0.0)
        self.furthest = max(self.furthest, self.position)
        self.furthest_known = max(self.furthest_known, self.position)

    def seek(self, position: float) -> None:
        """The user seeked to position.

        The target moves the current position but not `furthest`: onPlayBackSeek reports where
        the user asked to go, and a stop right after can come before playback got there.
        The next sample shows what was reached; a natural end right after it counts the target.
        """
        if not self.finished:
            self.position = max(float(position), 0.0)
            self.furthest_known = max(self.furthest_known, self.position)

    def ended(self) -> None:
        """Kodi reported a natural end. A stream that breaks off reports one too, so `decide` checks
        that samples or seek targets came near enough to the end for it to be real."""
        if self.finished:
            return
        self.ended_naturally = True
        self._finish()

    def stopped(self) -> None:
        """User stop, error, or a move to the next item (playlist, Up Next): kept at `furthest`."""
        if not self.finished:
            self._finish()

    def _finish(self) -> None:
        self.finished = True
        self.finished_at = self._clock()


class Verdict(FrozenValue):
    """watched, and a short English reason for the log."""

    FIELDS = ("watched", "reason")

    def __init__(self, watched: bool, reason: str):
        self._set(watched=watched, reason=reason)


def decide(playback: Playback, rules: Rules) -> Verdict:
    """Is the playback watched so far? Exclusions are `exclusion_reason`'s job, asked at start."""
    total = playback.total
    if total <= 0:
        return Verdict(False, "unknown duration")
    if total < rules.min_length:
        return Verdict(False, "shorter than minimum")
    if playback.ended_naturally:
        # A sample lags the real position by up to the sampling interval, so the end may hide that much.
        if playback.furthest_known + NATURAL_END_SLACK >= rules.threshold * total:
            return Verdict(True, "ended")
        return Verdict(False, f"ended early at {int(playback.furthest_known / total * 100)}%")
    reached = playback.furthest / total
    if reached >= rules.threshold:
        return Verdict(True, "threshold reached")
    # Rounded down so 79.9 % does not read as the 80 % it missed.
    return Verdict(False, f"below threshold {int(reached * 100)}%")
