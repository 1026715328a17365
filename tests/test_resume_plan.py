"""The resume points' pure part: Simkl's paused playbacks read in every shape the sources report, and which
Kodi item gets which resume point (Simkl's share of Kodi's own runtime; newest wins)."""
import time

from hypothesis import given
from hypothesis import strategies as st

from lib.scrobbler.sync.library import ResumeWrite
from lib.scrobbler.sync.resume import Paused, ResumePlanner, as_watched, parse, runtime_of

# The example of api.simkl.org api-reference/simkl/get-playback-sessions (its first two entries)
DOCS_EXAMPLE = [
    {"id": 123, "progress": 45.5, "paused_at": "2024-01-15T10:30:00.000Z", "type": "episode",
     "episode": {"season": 1, "episode": 5, "title": "Episode 5", "tvdb_season": 1, "tvdb_number": 5},
     "show": {"title": "Breaking Bad", "year": 2008,
              "ids": {"simkl": 12345, "slug": "breaking-bad", "tmdb": 1429, "imdb": "tt0903747"}}},
    {"id": 124, "progress": 75, "paused_at": "2024-01-15T11:15:00.000Z", "type": "movie",
     "movie": {"title": "Inception", "year": 2010,
               "ids": {"simkl": 67890, "slug": "inception", "tmdb": 27205, "imdb": "tt1375666"}}},
]
# The same page's third example: the episode as "number"
NUMBER_EXAMPLE = {"id": 12345, "progress": 42.2, "paused_at": "2024-04-30T22:13:00Z", "type": "episode",
                  "episode": {"season": 1, "number": 3, "title": "Chapter Three: Holly Jolly",
                              "tvdb_season": 1, "tvdb_number": 3},
                  "show": {"title": "Stranger Things", "year": 2016,
                           "ids": {"simkl": 39687, "imdb": "tt4574334", "tvdb": 305288}}}
JAN_15 = 1705314600.0  # 2024-01-15T10:30:00Z


def movie(progress=50.0, paused_at=JAN_15, ids=None):
    return Paused("movie", ids or {"imdb": "tt1375666", "tmdb": "27205"}, None, progress, paused_at, "movie")


def kodi_movie(**fields):
    return dict({"movieid": 7, "uniqueid": {"tmdb": "27205"}, "runtime": 8880, "lastplayed": "",
                 "resume": {"position": 0.0, "total": 0.0}}, **fields)


def local(seconds):
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds))


def test_the_documented_answer_reads_as_one_episode_and_one_movie():
    found, skipped = parse(DOCS_EXAMPLE)

    assert skipped == []
    episode, film = found
    assert (episode.kind, episode.place, episode.progress, episode.paused_at) == ("episode", (1, 5), 45.5, JAN_15)
    assert {name: str(value) for name, value in episode.ids.items()} == {"imdb": "tt0903747", "tmdb": "1429"}
    assert (film.kind, film.place, film.progress) == ("movie", None, 75.0)


def test_an_episode_given_as_number_reads_the_same():
    [found], _ = parse([NUMBER_EXAMPLE])

    assert found.place == (1, 3)
    assert parse([dict(NUMBER_EXAMPLE, episode={"season": 1, "number": 3})])[0][0].place == (1, 3)
    assert parse([dict(NUMBER_EXAMPLE, episode={"season": 1, "episode": 3})])[0][0].place == (1, 3)


def test_an_anime_episode_is_placed_where_tvdb_and_so_kodi_number_it():
    anime = dict(NUMBER_EXAMPLE, episode={"season": 1, "number": 2, "tvdb_season": 3, "tvdb_number": 14})

    assert parse([anime])[0][0].place == (3, 14)


def test_times_with_no_three_or_six_fraction_digits_or_an_offset_are_the_same_moment():
    shapes = ["2024-01-15T10:30:00Z", "2024-01-15T10:30:00.000Z", "2024-01-15T10:30:00.000000Z",
              "2024-01-15T11:30:00+01:00"]

    assert {parse([dict(DOCS_EXAMPLE[1], paused_at=shape)])[0][0].paused_at for shape in shapes} == {JAN_15}


def test_a_progress_at_the_start_or_the_end_is_nothing_to_resume_and_no_complaint():
    for progress in (0, -3, 100, 100.5):
        assert parse([dict(DOCS_EXAMPLE[1], progress=progress)]) == ([], [])


def test_an_unreadable_entry_is_one_line_and_the_others_are_kept():
    bad = [dict(DOCS_EXAMPLE[1], progress="lots"), dict(DOCS_EXAMPLE[1], paused_at="yesterday"),
           dict(DOCS_EXAMPLE[1], progress=None), dict(DOCS_EXAMPLE[1], movie={"title": "No ids", "ids": {}}),
           dict(NUMBER_EXAMPLE, episode={"season": None, "number": 3}), "junk"]

    found, skipped = parse(bad + [DOCS_EXAMPLE[0]])

    assert [item.place for item in found] == [(1, 5)]
    assert len(skipped) == len(bad)
    assert "unreadable progress 'lots'" in skipped[0] and "unreadable paused_at 'yesterday'" in skipped[1]


def test_empty_answers_are_no_playbacks_and_another_shape_is_said():
    assert parse(None) == parse({}) == parse([]) == ([], [])
    assert parse("garbage") == ([], ["an answer that is not a list"])


def test_a_library_movie_gets_simkls_share_of_kodis_own_runtime():
    assert ResumePlanner([movie(45.5)]).movie(kodi_movie()) == ResumeWrite("movie", 7, 4040, 8880, JAN_15)


def test_a_pause_at_the_very_start_of_a_short_file_never_clears_kodis_resume_point():
    planner = ResumePlanner([movie(0.1)])

    assert planner.movie(kodi_movie(runtime=300, resume={"position": 120.0, "total": 300.0})) is None


def test_the_movie_matches_on_any_shared_id():
    planner = ResumePlanner([movie(ids={"imdb": "tt1375666"})])

    assert planner.movie(kodi_movie(uniqueid={"imdb": "tt1375666", "tmdb": "1"})) is not None
    assert planner.movie(kodi_movie(uniqueid={"tmdb": "27205"})) is None
    assert planner.movie(kodi_movie(uniqueid={})) is None


def test_kodis_own_length_is_the_resume_total_then_the_runtime_then_the_video_streams_duration():
    stream = {"video": [{"duration": 5000}]}

    assert runtime_of({"resume": {"position": 10, "total": 7000}, "runtime": 6000, "streamdetails": stream}) == 7000
    assert runtime_of({"resume": {"position": 0, "total": 0}, "runtime": 6000, "streamdetails": stream}) == 6000
    assert runtime_of({"runtime": 0, "streamdetails": stream}) == 5000
    assert runtime_of({"runtime": 0, "streamdetails": {"video": []}}) is None
    assert runtime_of({}) is None


def test_a_movie_without_a_runtime_is_asked_for_its_stream_details_and_without_any_length_left_with_a_note():
    planner = ResumePlanner([movie(50.0)])

    assert planner.movie(kodi_movie(runtime=0)) is None
    assert (planner.need_streams, planner.notes) == ([("movie", 7, None)], [])
    assert planner.movie(kodi_movie(runtime=0, streamdetails={"video": [{"duration": 6000}]})).position == 3000
    assert planner.movie(kodi_movie(runtime=0, streamdetails={})) is None
    assert len(planner.notes) == 1 and "movie 7" in planner.notes[0]


def test_newest_wins_against_kodis_own_last_play():
    planner = ResumePlanner([movie(paused_at=JAN_15)])

    assert planner.movie(kodi_movie(lastplayed=local(JAN_15 + 60))) is None  # played (or watched) since
    assert planner.movie(kodi_movie(lastplayed=local(JAN_15))) is None  # at the same moment: Kodi's stands
    assert planner.movie(kodi_movie(lastplayed=local(JAN_15 - 60))) is not None
    assert planner.movie(kodi_movie(lastplayed="not a time")) is not None


def test_a_resume_point_kodi_already_has_is_not_written_again():
    planner = ResumePlanner([movie(50.0)])

    assert planner.movie(kodi_movie(resume={"position": 4437.0, "total": 8880.0})) is None
    assert planner.movie(kodi_movie(resume={"position": 4000.0, "total": 8880.0})).position == 4440


def test_an_episode_matches_on_its_shows_ids_and_its_place():
    [episode], _ = parse([NUMBER_EXAMPLE])
    planner = ResumePlanner([episode])
    show = {"tvshowid": 2, "uniqueid": {"tvdb": "305288"}}
    kodi = {"episodeid": 30, "tvshowid": 2, "season": 1, "episode": 3, "runtime": 3000, "lastplayed": ""}

    assert planner.episode(kodi, show) == ResumeWrite("episode", 30, 1266, 3000, episode.paused_at)
    assert planner.episode(dict(kodi, episode=4), show) is None
    assert planner.episode(kodi, {"tvshowid": 2, "uniqueid": {"tvdb": "1"}}) is None
    assert planner.episode(kodi, None) is None


def test_the_playbacks_name_their_items_for_the_librarys_index():
    [episode], _ = parse([NUMBER_EXAMPLE])

    named = as_watched([episode, movie()])

    assert [ids for ids, _ in named.movies.values()] == [{"imdb": "tt1375666", "tmdb": "27205"}]
    [show] = named.shows.values()
    assert (show.ids, set(show.episodes)) == ({"imdb": "tt4574334", "tvdb": 305288}, {(1, 3)})


@given(st.lists(st.tuples(st.floats(0.5, 99.5), st.integers(0, 10 ** 6)), min_size=1, max_size=6,
                unique_by=lambda pause: pause[1]),
       st.integers(600, 6 * 3600), st.randoms())
def test_of_several_playbacks_of_one_item_the_newest_wins_in_any_order(pauses, runtime, rnd):
    items = [movie(progress, JAN_15 + offset) for progress, offset in pauses]
    newest = max(items, key=lambda item: item.paused_at)
    rnd.shuffle(items)

    write = ResumePlanner(items, tolerance=0).movie(kodi_movie(runtime=runtime))

    assert write is not None and write.paused_at == newest.paused_at
    assert 0 <= write.position <= runtime and write.total == runtime
    assert abs(write.position - runtime * newest.progress / 100) <= 0.5


@given(st.one_of(st.none(), st.booleans(), st.text(max_size=5), st.floats(allow_nan=True), st.integers(),
                 st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)))
def test_no_progress_value_breaks_the_reading(progress):
    found, skipped = parse([dict(DOCS_EXAMPLE[1], progress=progress)])

    assert len(found) + len(skipped) <= 1
    assert all(0 < item.progress < 100 for item in found)
