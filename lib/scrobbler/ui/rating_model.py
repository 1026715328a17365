"""When a watch from playback earns a question for a rating, and about which title (no Kodi in it).

A movie played to "watched", with *Ask me to rate a movie when it ends* on; the last episode of a show in Kodi's
library (the highest episode number of the highest season above 0 among the show's library episodes), with
*Ask me to rate a show after its last episode* on: then the show is asked about, as Simkl has no episode ratings.
Only a title without a rating yet: Kodi's My rating (userrating) is 0, and the sync keeps it the same as Simkl's.
A movie not in Kodi's library has no My rating to tell: it is asked about. A library mark or the history import
is never asked about: only the worker's announcement of watches from playback reaches this.
"""
from typing import Iterable, Optional, Tuple

from ..media import Episode, Movie, Show
from ..values import FrozenValue

MOVIE, TVSHOW = "movie", "tvshow"  # what a question rates, in Kodi's library words
RATINGS = range(1, 11)  # Simkl's scale


class Question(FrozenValue):
    """What the user is asked to rate: kind MOVIE or TVSHOW, its Kodi library id (None: a movie not in Kodi's
    library) and the title as Simkl knows it (media.Movie or media.Show)."""
    FIELDS = ("kind", "dbid", "item")

    def __init__(self, kind: str, dbid: Optional[int], item):
        self._set(kind=kind, dbid=dbid, item=item)

    def key(self) -> str:
        """The same title asked about twice has the same key."""
        return "%s:%d" % (self.kind, self.dbid) if self.dbid is not None else self.item.key()

    def label(self) -> str:
        return self.item.label()


class Verdict(FrozenValue):
    """A question, or why there is none (for the log)."""
    FIELDS = ("question", "reason")

    def __init__(self, question: Optional[Question] = None, reason: str = ""):
        self._set(question=question, reason=reason)


class EpisodeFacts(FrozenValue):
    """A library episode: its show's library id, its season and its number."""
    FIELDS = ("tvshowid", "season", "number")

    def __init__(self, tvshowid: int, season: int, number: int):
        self._set(tvshowid=tvshowid, season=season, number=number)


class ShowFacts(FrozenValue):
    """A library TV show: the show (media.Show, Kodi's ids), its My rating (0: none) and the (season, number) of
    each of its library episodes."""
    FIELDS = ("show", "userrating", "episodes")

    def __init__(self, show: Show, userrating: int, episodes: Tuple[Tuple[int, int], ...]):
        self._set(show=show, userrating=userrating, episodes=tuple(episodes))


def last_episode(episodes: Iterable[Tuple[int, int]]) -> Optional[Tuple[int, int]]:
    """(season, number) of a show's last library episode: the highest number of the highest season above 0
    (season 0 holds the specials); None when it has none."""
    numbered = [(season, number) for season, number in episodes if season > 0]
    return max(numbered) if numbered else None


def decide(watch, rate_movies: bool, rate_shows: bool, library) -> Verdict:
    """The question a watch from playback (delivery.worker.PlaybackWatch: item, media_type, dbid) earns.

    library answers what Kodi's library holds now: movie_rating(dbid) -> My rating or None (not in the library),
    episode(dbid) -> EpisodeFacts or None, show(tvshowid) -> ShowFacts or None. It is asked only what the
    settings make needed."""
    if isinstance(watch.item, Movie):
        if not rate_movies:
            return Verdict(reason="asking to rate movies is off")
        dbid = watch.dbid if watch.media_type == MOVIE else None
        rating = library.movie_rating(dbid) if dbid is not None else None
        if rating:
            return Verdict(reason="rated %d in Kodi already" % rating)
        return Verdict(Question(MOVIE, dbid if rating is not None else None, watch.item))
    if isinstance(watch.item, Episode):
        if not rate_shows:
            return Verdict(reason="asking to rate shows is off")
        return _show_question(watch, library)
    return Verdict(reason="neither a movie nor an episode")


def _show_question(watch, library) -> Verdict:
    if watch.media_type != "episode" or watch.dbid is None:
        return Verdict(reason="an episode not in Kodi's library")
    episode = library.episode(watch.dbid)
    show = library.show(episode.tvshowid) if episode is not None else None
    if show is None:
        return Verdict(reason="its show is not in Kodi's library")
    if last_episode(show.episodes) != (episode.season, episode.number):
        return Verdict(reason="not the last episode of the show in Kodi's library")
    if show.userrating:
        return Verdict(reason="the show is rated %d in Kodi already" % show.userrating)
    return Verdict(Question(TVSHOW, episode.tvshowid, show.show))
