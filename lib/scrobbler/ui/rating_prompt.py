"""The rating prompt: after a watch from playback that Simkl took, ask for a rating of the movie, or of the show
after its last library episode (rating_model.py decides which), never over a video: once nothing plays, no
playlist goes on to a next item, nothing opened or closed for QUIET_AFTER seconds and no other dialog is open.
One question at a time, one per title while it waits, on a thread of its own (never Kodi's nor the worker's),
which leaves within a second of Kodi's quit.

The service wires it: it subscribes to the delivery worker's announcement of the watches from playback
(DeliveryWorker.subscribe_played) and hands the user's choice to on_choice(kind, dbid, item, rating).
"""
import queue
import threading
from typing import Callable, List, Optional

from .. import kodi
from ..media import Show, clean_ids, clean_year
from .rating_model import EpisodeFacts, ShowFacts, decide

QUIET_AFTER = 10.0  # seconds with nothing opened or closed before a question (Up Next, the next episode)
LOOK_AGAIN = 1.0  # seconds between looks at the player while a question waits
STOP = None  # the job that ends the thread


class LibraryFacts:
    """What rating_model.decide asks of Kodi's library; call(method, params) is Kodi's JSON-RPC (the result, or
    None on an error, e.g. an item no longer in the library)."""

    def __init__(self, call: Callable[[str, dict], Optional[dict]]):
        self._call = call

    def movie_rating(self, dbid: int) -> Optional[int]:
        details = (self._call("VideoLibrary.GetMovieDetails", {"movieid": dbid, "properties": ["userrating"]})
                   or {}).get("moviedetails")
        return _rating(details.get("userrating")) if details else None

    def episode(self, dbid: int) -> Optional[EpisodeFacts]:
        details = (self._call("VideoLibrary.GetEpisodeDetails",
                              {"episodeid": dbid, "properties": ["tvshowid", "season", "episode"]})
                   or {}).get("episodedetails")
        if not details or not isinstance(details.get("tvshowid"), int) or details["tvshowid"] < 0:
            return None
        return EpisodeFacts(details["tvshowid"], _number(details.get("season")), _number(details.get("episode")))

    def show(self, tvshowid: int) -> Optional[ShowFacts]:
        details = (self._call("VideoLibrary.GetTVShowDetails",
                              {"tvshowid": tvshowid, "properties": ["title", "year", "uniqueid", "userrating"]})
                   or {}).get("tvshowdetails")
        if not details:
            return None
        listed = (self._call("VideoLibrary.GetEpisodes", {"tvshowid": tvshowid, "properties": ["season", "episode"]})
                  or {}).get("episodes") or []
        show = Show(details.get("title") or details.get("label") or "", clean_year(details.get("year")),
                    clean_ids(details.get("uniqueid")))
        return ShowFacts(show, _rating(details.get("userrating")),
                         [(_number(e.get("season")), _number(e.get("episode"))) for e in listed])


def _rating(value) -> int:
    """Kodi's userrating: 0 (none) to 10; anything else reads as none."""
    return value if isinstance(value, int) and 0 <= value <= 10 else 0


def _number(value) -> int:
    return value if isinstance(value, int) else -1


class Waiting:
    """A watch whose question waits for a quiet moment, and the key of that question (one per title)."""

    def __init__(self, watch, key: str):
        self.watch = watch
        self.key = key


class RatingPrompt:
    """The prompt's thread. watched(watches) is the worker's subscriber; stop() ends the thread."""

    def __init__(self, library, ask: Callable, on_choice: Callable, player, stopping: threading.Event,
                 log: Callable[[str], None] = kodi.log, debug: Callable[[str], None] = kodi.debug):
        """library: LibraryFacts; ask(question) -> 1-10 or None (rating_dialog.RatingDialog.ask, on this thread);
        on_choice(kind, dbid, item, rating): the user chose; player: quiet(seconds) says nothing plays;
        stopping: set when Kodi quits."""
        self._library = library
        self._ask = ask
        self._on_choice = on_choice
        self._player = player
        self._stopping = stopping
        self._log, self._debug = log, debug
        self._jobs: queue.Queue = queue.Queue()
        self._waiting: List[Waiting] = []  # only the thread touches it
        self._thread = threading.Thread(target=self._loop, name="simkl-rating", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, wait: float = 1.0) -> None:
        """Kodi quits (the caller set `stopping`): a question on screen closes at the window's next look."""
        self._jobs.put(STOP)
        if self._thread.is_alive():
            self._thread.join(wait)

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def watched(self, watches) -> None:
        """The worker's announcement (any thread): watches from playback Simkl took (worker.PlaybackWatch)."""
        self._jobs.put(list(watches))

    def wake(self) -> None:
        """Look at the player again now (playback ended, a dialog closed)."""
        self._jobs.put([])

    # -- the thread ---------------------------------------------------------------------------------
    def _loop(self):
        while True:
            try:
                job = self._jobs.get(timeout=LOOK_AGAIN if self._waiting else None)
            except queue.Empty:
                job = []
            if job is STOP or self._stopping.is_set():
                return
            for watch in job:
                self._guarded("considering", watch, self._consider)
            if self._waiting and self._may_ask():
                waiting = self._waiting.pop(0)
                self._guarded("asking about", waiting.watch, self._question)

    def _guarded(self, doing, watch, step):
        try:
            step(watch)
        except Exception as exc:  # noqa: BLE001 - one title's trouble never ends the prompt
            kodi.error("rating: %s %s failed: %s: %s" % (doing, watch.item.label(), type(exc).__name__, exc))

    def _verdict(self, watch):
        return decide(watch, kodi.setting_bool("rate_movies"), kodi.setting_bool("rate_shows"), self._library)

    def _consider(self, watch):
        verdict = self._verdict(watch)
        if verdict.question is None:
            self._debug("rating: not asking about %s: %s" % (watch.item.label(), verdict.reason))
            return
        key = verdict.question.key()
        if any(waiting.key == key for waiting in self._waiting):
            return  # one question per title
        self._waiting.append(Waiting(watch, key))
        self._log("rating: asking about %s once nothing plays" % verdict.question.label())

    def _may_ask(self) -> bool:
        """Nothing plays, no playlist goes on, nothing opened for a while, and no dialog of Kodi's is open."""
        return self._player.quiet(QUIET_AFTER) and not kodi.condition("System.HasActiveModalDialog")

    def _question(self, watch):
        verdict = self._verdict(watch)  # again: rated or switched off meanwhile
        question = verdict.question
        if question is None:
            self._log("rating: not asking about %s any more: %s" % (watch.item.label(), verdict.reason))
            return
        rating = self._ask(question)
        if rating is None:
            self._log("rating: %s %s" % (question.label(), "not rated: Kodi quits" if self._stopping.is_set()
                                         else "skipped"))
            return
        self._log("rating: %s rated %d" % (question.label(), rating))
        self._on_choice(question.kind, question.dbid, question.item, rating)

