"""Anime from Kodi's library lands on the right episode: the shapes of Simkl's anime guide ("Path A").

Kodi's scrapers number episodes the TVDB way, so every show write for a library episode carries the
show's TVDB/TMDB ids with those numbers and "use_tvdb_anime_seasons": true (simkl-api §6.1, §12);
ids of one anime season (AniDB, MAL, AniList, Kitsu) are never combined with season and episode.
"""
import pytest
from xbmc import InfoTagVideo

from lib.scrobbler.delivery.flush import build_body
from lib.scrobbler.delivery.outbox import Entry
from lib.scrobbler.media import Episode, Movie, from_dict, movie_reference, show_reference
from scenario import install_library, iso

# A split-cour anime as Kodi's TVDB scraper files it, with an anime scraper's per-season ids beside them.
FRIEREN = {"tvshowid": 30, "title": "Frieren: Beyond Journey's End", "year": 2023,
           "uniqueid": {"tvdb": "424536", "tmdb": "209867", "anidb": "17617", "mal": "52991"}}
FRIEREN_E19 = {"episodeid": 301, "tvshowid": 30, "title": "Well-Laid Plans", "season": 1, "episode": 19,
               "uniqueid": {"tvdb": "10062421"}, "file": "/media/anime/Frieren/Season 1/S01E19.mkv"}
# A show only an anime scraper knows: nothing but the id of one AniDB entry.
ANIDB_ONLY = {"tvshowid": 31, "title": "Sousou no Frieren", "year": 2023, "uniqueid": {"anidb": "17617"}}
ANIDB_E2 = {"episodeid": 311, "tvshowid": 31, "title": "It Didn't Have to Be Magic...", "season": 1, "episode": 2,
            "uniqueid": {"anidb": "263000"}, "file": "/media/anime/Sousou no Frieren/S01E02.mkv"}


def anime_tag(episode, show):
    return InfoTagVideo(media_type="episode", title=episode["title"], dbid=episode["episodeid"],
                        uniqueids=dict(episode["uniqueid"]), showtitle=show["title"], season=episode["season"],
                        episode=episode["episode"], path=episode["file"])


@pytest.fixture
def library(kodi):
    install_library(kodi, movies=(), shows=(FRIEREN, ANIDB_ONLY), episodes=(FRIEREN_E19, ANIDB_E2))


def test_a_library_anime_episode_goes_to_history_with_tvdb_numbers_and_the_flag_never_with_anidb(service, server,
                                                                                                  clock):
    service.play(anime_tag(FRIEREN_E19, FRIEREN), FRIEREN_E19["file"], total=1440)
    finished = clock.time()
    service.idle()

    assert [r.json for r in server.requests_to("/sync/history")] == [{"shows": [{
        "title": "Frieren: Beyond Journey's End", "year": 2023, "ids": {"tvdb": 424536, "tmdb": 209867},
        "use_tvdb_anime_seasons": True,
        "seasons": [{"number": 1, "episodes": [{"number": 19, "watched_at": iso(finished)}]}]}]}]
    assert server.violations == []


def test_a_show_known_only_by_a_per_season_anime_id_is_never_sent_with_that_id_and_numbers(service, server):
    service.play(anime_tag(ANIDB_E2, ANIDB_ONLY), ANIDB_E2["file"], total=1440)
    service.idle()

    (request,) = server.requests_to("/sync/history")
    (show,) = request.json["shows"]
    assert "ids" not in show and "use_tvdb_anime_seasons" not in show  # by title and year, as any id-less title
    assert (show["title"], show["year"], show["seasons"][0]["episodes"][0]["number"]) == ("Sousou no Frieren", 2023, 2)


def test_the_flag_rides_only_on_tvdb_style_numbers_with_a_tvdb_or_tmdb_id():
    library = Episode("Frieren", 1, 19, 2023, {"tvdb": 424536, "anidb": 17617}, tvdb_numbering=True)
    handed_over = Episode("Frieren", 1, 19, 2023, {"tvdb": 424536})  # an add-on's numbers: unknown style
    imdb_only = Episode("Frieren", 1, 19, 2023, {"imdb": "tt22248376"}, tvdb_numbering=True)

    assert show_reference(library) == {"title": "Frieren", "year": 2023, "ids": {"tvdb": 424536},
                                       "use_tvdb_anime_seasons": True}
    assert show_reference(handed_over) == {"title": "Frieren", "year": 2023, "ids": {"tvdb": 424536}}
    assert show_reference(imdb_only) == {"title": "Frieren", "year": 2023, "ids": {"imdb": "tt22248376"}}


def test_a_removal_of_a_library_anime_episode_has_the_same_shape():
    episode = Episode("Frieren", 1, 19, 2023, {"tvdb": 424536, "tmdb": 209867, "mal": 52991}, tvdb_numbering=True)
    body = build_body([Entry(1, "remove", episode, "2026-05-28T20:00:00Z", False, None, 0)])
    assert body == {"shows": [{"title": "Frieren", "year": 2023, "ids": {"tvdb": 424536, "tmdb": 209867},
                               "use_tvdb_anime_seasons": True,
                               "seasons": [{"number": 1, "episodes": [{"number": 19}]}]}]}


def test_an_anime_movie_keeps_its_anime_ids_it_names_no_season():
    movie = Movie("Suzume", 2022, {"tmdb": 916224, "anidb": 16967, "mal": 50594, "anilist": 142770, "kitsu": 46474})
    assert movie_reference(movie)["ids"] == {"tmdb": 916224, "anidb": 16967, "mal": 50594, "anilist": 142770,
                                             "kitsu": 46474}


def test_the_numbering_survives_the_outbox_and_older_rows_read_as_before():
    episode = Episode("Frieren", 1, 19, 2023, {"tvdb": 424536}, tvdb_numbering=True)
    assert from_dict(episode.to_dict()) == episode
    older = {k: v for k, v in episode.to_dict().items() if k != "tvdb_numbering"}
    assert from_dict(older).tvdb_numbering is False


def test_the_fake_simkl_flags_per_season_anime_ids_sent_with_numbers(server):
    import requests
    body = {"shows": [{"title": "Frieren", "ids": {"tvdb": 424536, "anidb": 17617},
                       "seasons": [{"number": 1, "episodes": [{"number": 19}]}]}]}
    token = server.issue_token()
    requests.post(server.url + "/sync/history", json=body, headers={"Authorization": "Bearer " + token,
                                                                     "User-Agent": "kodi-simkl/1"},
                  params={"client_id": server.client_id, "app-name": "kodi-simkl", "app-version": "1"}, timeout=5)
    assert server.violations == ["POST /sync/history: per-season anime ids anidb with season and episode numbers"]
