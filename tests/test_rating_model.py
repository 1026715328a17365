"""When a watch from playback earns a question for a rating (ui/rating_model.py): no Kodi, no thread."""
from hypothesis import given
from hypothesis import strategies as st

from lib.scrobbler.delivery.worker import PlaybackWatch
from lib.scrobbler.media import Episode, Movie, Show
from lib.scrobbler.ui.rating_model import MOVIE, TVSHOW, EpisodeFacts, Question, ShowFacts, decide, last_episode

INCEPTION = Movie("Inception", 2010, {"imdb": "tt1375666"})
SHOW = Show("The Last of Us", 2023, {"tvdb": 392256})


def episode(season, number):
    return Episode("The Last of Us", season, number, 2023, {"tvdb": 392256})


class Library:
    """What Kodi's library holds, and what the model asked of it."""

    def __init__(self, movies=None, episodes=None, shows=None):
        self.movies = movies or {}  # movieid -> userrating
        self.episodes = episodes or {}  # episodeid -> EpisodeFacts
        self.shows = shows or {}  # tvshowid -> ShowFacts
        self.asked = []

    def movie_rating(self, dbid):
        self.asked.append(("movie", dbid))
        return self.movies.get(dbid)

    def episode(self, dbid):
        self.asked.append(("episode", dbid))
        return self.episodes.get(dbid)

    def show(self, tvshowid):
        self.asked.append(("tvshow", tvshowid))
        return self.shows.get(tvshowid)


def a_show(userrating=0, episodes=((1, 1), (1, 2), (2, 1), (2, 2))):
    """Show 3 with its library episodes: episode ids 100 * season + number."""
    return Library(episodes={100 * s + n: EpisodeFacts(3, s, n) for s, n in episodes},
                   shows={3: ShowFacts(SHOW, userrating, episodes)})


def test_a_library_movie_without_a_rating_is_asked_about():
    verdict = decide(PlaybackWatch(INCEPTION, "movie", 12), True, False, Library(movies={12: 0}))

    assert verdict.question == Question(MOVIE, 12, INCEPTION)
    assert verdict.question.label() == "Inception (2010)"


def test_a_library_movie_rated_already_is_not_asked_about():
    verdict = decide(PlaybackWatch(INCEPTION, "movie", 12), True, True, Library(movies={12: 7}))

    assert verdict.question is None
    assert verdict.reason == "rated 7 in Kodi already"


def test_a_movie_not_in_the_library_is_asked_about_without_a_library_id():
    library = Library()

    assert decide(PlaybackWatch(INCEPTION, "movie", None), True, False, library).question == \
        Question(MOVIE, None, INCEPTION)
    assert library.asked == []  # nothing to look up
    # one that left the library since it was played: nothing of Kodi's to write
    assert decide(PlaybackWatch(INCEPTION, "movie", 12), True, False, library).question == \
        Question(MOVIE, None, INCEPTION)


def test_with_rate_movies_off_no_movie_is_asked_about_and_nothing_is_looked_up():
    library = Library(movies={12: 0})

    verdict = decide(PlaybackWatch(INCEPTION, "movie", 12), False, True, library)

    assert verdict.question is None and verdict.reason == "asking to rate movies is off"
    assert library.asked == []


def test_the_last_episode_of_a_library_show_asks_about_the_show():
    verdict = decide(PlaybackWatch(episode(2, 2), "episode", 202), False, True, a_show())

    assert verdict.question == Question(TVSHOW, 3, SHOW)  # Simkl has no episode ratings


def test_an_episode_before_the_last_asks_nothing():
    for season, number in ((1, 1), (1, 2), (2, 1)):
        verdict = decide(PlaybackWatch(episode(season, number), "episode", 100 * season + number), True, True,
                         a_show())
        assert verdict.question is None
        assert verdict.reason == "not the last episode of the show in Kodi's library"


def test_the_last_episode_of_a_show_rated_already_asks_nothing():
    verdict = decide(PlaybackWatch(episode(2, 2), "episode", 202), True, True, a_show(userrating=9))

    assert verdict.question is None and verdict.reason == "the show is rated 9 in Kodi already"


def test_with_rate_shows_off_no_show_is_asked_about_and_nothing_is_looked_up():
    library = a_show()

    verdict = decide(PlaybackWatch(episode(2, 2), "episode", 202), True, False, library)

    assert verdict.question is None and library.asked == []


def test_an_episode_not_in_the_library_or_whose_show_is_gone_asks_nothing():
    assert decide(PlaybackWatch(episode(2, 2), "episode", None), True, True, a_show()).question is None
    gone = a_show()
    gone.shows.clear()
    assert decide(PlaybackWatch(episode(2, 2), "episode", 202), True, True, gone).question is None
    assert decide(PlaybackWatch(episode(2, 2), "episode", 999), True, True, a_show()).question is None


def test_specials_are_never_the_last_episode():
    library = a_show(episodes=((1, 1), (1, 2), (0, 5)))

    assert decide(PlaybackWatch(episode(0, 5), "episode", 5), True, True, library).question is None
    assert decide(PlaybackWatch(episode(1, 2), "episode", 102), True, True, library).question == \
        Question(TVSHOW, 3, SHOW)
    assert last_episode([(0, 1), (0, 2)]) is None
    assert last_episode([]) is None


@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 300)), min_size=1))
def test_the_last_episode_is_in_the_list_and_no_numbered_episode_comes_after_it(episodes):
    last = last_episode(episodes)
    numbered = [e for e in episodes if e[0] > 0]
    assert (last is None) == (not numbered)
    if last is not None:
        assert last in numbered
        assert all((s, n) <= last for s, n in numbered)
        assert all(s <= last[0] for s, _ in numbered)


def test_a_questions_key_names_the_library_item_else_the_title():
    assert Question(MOVIE, 12, INCEPTION).key() == "movie:12"
    assert Question(TVSHOW, 3, SHOW).key() == "tvshow:3"
    assert Question(MOVIE, None, INCEPTION).key() == "movie:imdb=tt1375666"
