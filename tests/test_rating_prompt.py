"""The rating prompt's thread (ui/rating_prompt.py) on the fake Kodi: the real Player on a virtual steady clock, Kodi's
library answering JSON-RPC (tests/kodi_fakes/videolibrary.py), the question recorded instead of shown (the window
has its own tests, tests/test_rating_dialog.py; the whole path is tests/test_rating_service.py)."""
import threading

import pytest
from videolibrary import VideoLibrary
from xbmc import InfoTagVideo

from fakekodi import PlayingFile, close_file, open_file
from lib.scrobbler import kodi as kodi_module
from lib.scrobbler.delivery.worker import PlaybackWatch
from lib.scrobbler.media import Episode, Movie, Show
from lib.scrobbler.playback.player import Player
from lib.scrobbler.playback.watch import Rules
from lib.scrobbler.ui.rating_model import MOVIE, TVSHOW, EpisodeFacts, Question, ShowFacts
from lib.scrobbler.ui.rating_prompt import QUIET_AFTER, LibraryFacts, RatingPrompt
from scenario import wait_for

INCEPTION = Movie("Inception", 2010, {"imdb": "tt1375666"})
HEAT = Movie("Heat", 1995, {"imdb": "tt0113277"})
SHOW = Show("The Last of Us", 2023, {"tvdb": 392256, "imdb": "tt3581920"})
MOVIES = [{"movieid": 12, "title": "Inception", "year": 2010, "uniqueid": {"imdb": "tt1375666"}, "userrating": 0},
          {"movieid": 13, "title": "Heat", "year": 1995, "uniqueid": {"imdb": "tt0113277"}, "userrating": 0}]
SHOWS = [{"tvshowid": 3, "title": "The Last of Us", "year": 2023, "uniqueid": {"tvdb": "392256", "imdb": "tt3581920"},
          "userrating": 0}]
EPISODES = [{"episodeid": 100 * s + n, "tvshowid": 3, "title": "Episode %d" % n, "season": s, "episode": n}
            for s, n in ((0, 1), (1, 1), (1, 2), (2, 1), (2, 2))]


def episode(season, number):
    return Episode("The Last of Us", season, number, 2023, {"tvdb": 392256})


class Rig:
    def __init__(self, kodi, clock):
        self.kodi = kodi
        self.clock = clock
        self.library = VideoLibrary(kodi, movies=MOVIES, shows=SHOWS, episodes=EPISODES)
        self.player = Player(on_finished=lambda tracked: None, rules=lambda: Rules(0.8, 300, ()), clock=clock,
                             interval=3600.0, steady=clock)
        self.stopping = threading.Event()
        self.asked = []  # (question, whether a video played then)
        self.answers = []  # what the next questions answer (empty: skipped)
        self.choices = []
        self.open = 0  # questions on screen now
        self.most_open = 0
        self.prompt = RatingPrompt(LibraryFacts(kodi_module.jsonrpc), self.ask, self.chose, self.player,
                                   self.stopping)
        kodi.set_setting("rate_movies", True)
        kodi.set_setting("rate_shows", True)

    def ask(self, question):
        self.open += 1
        self.most_open = max(self.most_open, self.open)
        self.asked.append((question, self.kodi.player is not None))
        answer = self.answers.pop(0) if self.answers else None
        answer = answer() if callable(answer) else answer
        self.open -= 1
        return answer

    def chose(self, kind, dbid, item, rating):
        self.choices.append((kind, dbid, item, rating))

    def play(self):
        tag = InfoTagVideo(media_type="movie", title="Heat", year=1995, dbid=13, path="/media/Heat.mkv")
        open_file(PlayingFile(tag, "/media/Heat.mkv", 7200.0))

    def quiet_now(self):
        """Playback (if any) ended a while ago: the prompt looks again at once."""
        if self.kodi.player is not None:
            close_file(natural=True)
        self.clock.advance(QUIET_AFTER)
        self.prompt.wake()

    def questions(self):
        return [question for question, _ in self.asked]


@pytest.fixture
def rig(kodi, clock):
    made = Rig(kodi, clock)
    made.prompt.start()
    yield made
    made.stopping.set()
    made.prompt.stop()
    made.player.stop_sampling()


def test_a_movie_is_asked_about_only_once_playback_ended_and_the_choice_goes_on(rig):
    rig.play()
    rig.answers.append(8)

    rig.prompt.watched([PlaybackWatch(INCEPTION, "movie", 12)])

    assert not wait_for(lambda: rig.asked, 1.0), "asked over a playing video"
    close_file(natural=True)
    rig.prompt.wake()
    assert not wait_for(lambda: rig.asked, 0.5), "asked the moment the video ended (Up Next may open the next)"
    rig.clock.advance(QUIET_AFTER)
    rig.prompt.wake()
    assert wait_for(lambda: rig.choices)
    assert rig.asked == [(Question(MOVIE, 12, INCEPTION), False)]
    assert rig.choices == [(MOVIE, 12, INCEPTION, 8)]


def test_it_waits_while_a_playlist_goes_on_and_while_another_dialog_is_open(rig, kodi):
    rig.clock.advance(QUIET_AFTER)
    kodi.playlist_sizes[1], kodi.playlist_position = 3, 1  # between two items of a playlist
    kodi.conditions["System.HasActiveModalDialog"] = True  # e.g. the sync's question, or the information dialog

    rig.prompt.watched([PlaybackWatch(INCEPTION, "movie", 12)])
    assert not wait_for(lambda: rig.asked, 1.0), "asked between two items of a playlist"
    kodi.playlist_position = -1  # the playlist was stopped
    rig.prompt.wake()
    assert not wait_for(lambda: rig.asked, 1.0), "asked over another dialog"
    kodi.conditions["System.HasActiveModalDialog"] = False
    rig.prompt.wake()

    assert wait_for(lambda: rig.asked)


def test_a_question_waiting_for_its_moment_looks_again_by_itself(rig):
    rig.play()
    rig.prompt.watched([PlaybackWatch(INCEPTION, "movie", 12)])
    close_file(natural=True)
    rig.clock.advance(QUIET_AFTER)

    assert wait_for(lambda: rig.asked, 3.0)  # no wake: it looks again within a second


def test_questions_come_one_at_a_time_and_one_per_title_while_they_wait(rig):
    rig.play()
    rig.prompt.watched([PlaybackWatch(INCEPTION, "movie", 12), PlaybackWatch(episode(2, 2), "episode", 202)])
    rig.prompt.watched([PlaybackWatch(INCEPTION, "movie", 12)])  # its live stop, then a second play of it
    rig.prompt.watched([PlaybackWatch(HEAT, "movie", 13)])
    wait_for(lambda: False, 0.3)
    rig.quiet_now()

    assert wait_for(lambda: len(rig.asked) == 3)
    assert rig.questions() == [Question(MOVIE, 12, INCEPTION), Question(TVSHOW, 3, SHOW), Question(MOVIE, 13, HEAT)]
    assert rig.most_open == 1
    assert not wait_for(lambda: len(rig.asked) > 3, 0.5)


def test_a_title_rated_meanwhile_or_a_setting_switched_off_meanwhile_is_not_asked_about(rig, kodi):
    rig.play()
    rig.prompt.watched([PlaybackWatch(INCEPTION, "movie", 12), PlaybackWatch(episode(2, 2), "episode", 202),
                        PlaybackWatch(HEAT, "movie", 13)])
    wait_for(lambda: "asking about Heat" in kodi.log_text())
    rig.library.movies[12]["userrating"] = 7  # the sync took Simkl's rating, or the user rated it in Kodi
    kodi.set_setting("rate_shows", False)
    rig.quiet_now()

    assert wait_for(lambda: rig.asked)
    assert not wait_for(lambda: len(rig.asked) > 1, 1.0)
    assert rig.questions() == [Question(MOVIE, 13, HEAT)]
    assert "rating: not asking about Inception (2010) any more: rated 7 in Kodi already" in kodi.log_text()


def test_skip_or_the_window_closing_by_itself_chooses_nothing(rig, kodi):
    rig.prompt.watched([PlaybackWatch(INCEPTION, "movie", 12)])
    rig.quiet_now()

    assert wait_for(lambda: "rating: Inception (2010) skipped" in kodi.log_text())
    assert rig.choices == []


def test_nothing_is_asked_with_both_settings_off(rig, kodi):
    kodi.set_setting("rate_movies", False)
    kodi.set_setting("rate_shows", False)
    rig.quiet_now()

    rig.prompt.watched([PlaybackWatch(INCEPTION, "movie", 12), PlaybackWatch(episode(2, 2), "episode", 202)])

    assert not wait_for(lambda: rig.asked, 1.0)


def test_a_question_that_fails_is_logged_once_and_the_next_is_asked(rig, kodi):
    def broken():
        raise RuntimeError("Kodi could not open the window")
    rig.answers.extend([broken, 9])
    rig.prompt.watched([PlaybackWatch(INCEPTION, "movie", 12), PlaybackWatch(HEAT, "movie", 13)])
    rig.quiet_now()

    assert wait_for(lambda: rig.choices)
    assert rig.choices == [(MOVIE, 13, HEAT, 9)]
    assert kodi.log_text().count("rating: asking about Inception (2010) failed: RuntimeError: Kodi could not open"
                                 " the window") == 1


def test_kodi_quitting_ends_the_thread_within_a_second_while_a_question_waits(rig):
    rig.play()
    rig.prompt.watched([PlaybackWatch(INCEPTION, "movie", 12)])
    wait_for(lambda: False, 0.2)

    rig.stopping.set()
    rig.prompt.stop(wait=1.0)

    assert not rig.prompt.is_alive()
    assert rig.asked == []


def test_kodi_quitting_closes_a_question_on_screen_and_ends_the_thread_within_a_second(kodi, clock):
    from lib.scrobbler.ui.rating_dialog import RatingDialog
    rig = Rig(kodi, clock)
    dialog = RatingDialog(steady=clock, stopping=rig.stopping.is_set)  # Kodi's own sleep between looks
    on_screen = threading.Event()
    kodi.window_steps.append(lambda window: on_screen.set() and False)  # the user does nothing
    prompt = RatingPrompt(LibraryFacts(kodi_module.jsonrpc), dialog.ask, rig.chose, rig.player, rig.stopping)
    prompt.start()
    prompt.watched([PlaybackWatch(INCEPTION, "movie", 12)])
    assert on_screen.wait(5), "the question never showed"

    rig.stopping.set()
    prompt.stop(wait=1.0)

    assert not prompt.is_alive()
    assert kodi.windows == [] and rig.choices == []
    kodi.window_steps.clear()


# -- what Kodi's library says --------------------------------------------------------------------------

def test_the_library_facts_read_kodis_my_rating_an_episodes_show_and_its_episodes(kodi):
    library = VideoLibrary(kodi, movies=MOVIES, shows=SHOWS, episodes=EPISODES)
    library.movies[13]["userrating"] = 6
    facts = LibraryFacts(kodi_module.jsonrpc)

    assert (facts.movie_rating(12), facts.movie_rating(13), facts.movie_rating(99)) == (0, 6, None)
    assert facts.episode(202) == EpisodeFacts(3, 2, 2)
    assert facts.episode(999) is None
    assert facts.show(3) == ShowFacts(SHOW, 0, [(0, 1), (1, 1), (1, 2), (2, 1), (2, 2)])
    assert facts.show(4) is None
