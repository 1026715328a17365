"""The Resolver: Kodi's library over the real JSON-RPC boundary, ids handed over by add-ons, Simkl's file search.

Library lookups go through `kodi.jsonrpc` into the fake Kodi's JSON-RPC handlers; file searches go
through the real api.Client to the fake Simkl server.
"""
import json

import hypothesis.strategies as st
import pytest
from hypothesis import given

from lib.scrobbler import kodi as boundary
from lib.scrobbler.media import Episode, Movie
from lib.scrobbler.playback.resolve import (
    Library,
    Lookup,
    PlayingItem,
    Resolver,
    SearchUnavailable,
    playing_item,
    search_name,
)
from lib.scrobbler.simkl import api, auth

SEARCH = "/search/file"
INCEPTION = {"title": "Inception", "year": 2010, "uniqueid": {"imdb": "tt1375666", "tmdb": "27205"}}
GOT = {"title": "Game of Thrones", "year": 2011, "uniqueid": {"imdb": "tt0944947", "tvdb": "121361", "tmdb": "1399"}}
# An episode's own ids: its default id is a tvdb id, the trap getIMDBNumber() falls into.
GOT_S01E03 = {"title": "Lord Snow", "season": 1, "episode": 3, "tvshowid": 7,
              "uniqueid": {"tvdb": "3436461", "imdb": "tt1480055"}}
FOUND_MOVIE = {"type": "movie", "movie": {"title": "Inception", "year": 2010,
                                          "ids": {"simkl_id": 17, "imdb": "tt1375666", "tmdb": "27205"}}}
FOUND_EPISODE = {"type": "episode",
                 "show": {"title": "Stranger Things", "year": 2016,
                          "ids": {"simkl": 548312, "imdb": "tt4574334", "tvdb": "305288"}},
                 "episode": {"title": "Chapter Three: Holly, Jolly", "season": 1, "episode": 3, "multipart": False,
                             "ids": {"simkl": 1865356}}}


@pytest.fixture
def client(server, clock, tmp_path):
    store = auth.TokenStore(str(tmp_path / "token"))
    store.save({"access_token": server.issue_token(), "flow": "v1"})
    tokens = auth.TokenProvider(store, clock=clock)
    client = api.Client(server.url, server.client_id, "kodi-simkl", "0.1.0", "20.1", tokens=tokens, clock=clock,
                        sleep=clock.sleep)
    tokens.client = client
    return client


@pytest.fixture
def library(kodi):
    kodi.jsonrpc_handlers.update({
        "VideoLibrary.GetMovieDetails": lambda params: {"moviedetails": dict(INCEPTION, movieid=params["movieid"])},
        "VideoLibrary.GetEpisodeDetails": lambda params: {"episodedetails": dict(GOT_S01E03,
                                                                                 episodeid=params["episodeid"])},
        "VideoLibrary.GetTVShowDetails": lambda params: {"tvshowdetails": dict(GOT, tvshowid=params["tvshowid"])},
    })
    return Library(boundary.jsonrpc)


@pytest.fixture
def resolver(library, client):
    return Resolver(library, search_file=client.search_file)


def plugin_movie(**fields):
    values = dict(media_type="movie", path="plugin://plugin.video.example/play/42", title="Inception", year=2010)
    values.update(fields)
    return PlayingItem(**values)


def plugin_episode(**fields):
    values = dict(media_type="episode", path="plugin://plugin.video.example/play/43", title="Lord Snow",
                  show_title="Game of Thrones", season=1, episode=3)
    values.update(fields)
    return PlayingItem(**values)


def searched(server):
    return [r.json["file"] for r in server.requests_to(SEARCH)]


# --- the library ---------------------------------------------------------------------------------

def test_library_movie_gets_its_imdb_and_tmdb_ids_over_json_rpc(resolver, kodi, server):
    found = resolver.resolve(PlayingItem(media_type="movie", dbid=12, path="/media/Inception.mkv"))

    assert found == Movie("Inception", 2010, {"imdb": "tt1375666", "tmdb": 27205})
    assert kodi.jsonrpc_calls == [("VideoLibrary.GetMovieDetails",
                                   {"movieid": 12, "properties": ["title", "year", "uniqueid"]})]
    assert searched(server) == []


def test_library_episode_carries_the_shows_ids_never_the_episodes_default_id(resolver, kodi, server):
    item = PlayingItem(media_type="episode", dbid=55, path="/media/GoT/S01E03.mkv", title="Lord Snow",
                       show_title="Game of Thrones", season=1, episode=3, uniqueids={"tvdb": "3436461"})

    found = resolver.resolve(item)

    assert isinstance(found, Episode)
    assert found.show_ids == {"imdb": "tt0944947", "tvdb": 121361, "tmdb": 1399}
    assert (found.show_title, found.show_year, found.season, found.number) == ("Game of Thrones", 2011, 1, 3)
    assert found.ids == {"imdb": "tt1480055", "tvdb": 3436461}  # the episode's own, kept apart
    assert [method for method, _ in kodi.jsonrpc_calls] == ["VideoLibrary.GetEpisodeDetails",
                                                            "VideoLibrary.GetTVShowDetails"]
    assert kodi.jsonrpc_calls[1][1]["tvshowid"] == 7
    assert "uniqueid" in kodi.jsonrpc_calls[1][1]["properties"]
    assert searched(server) == []


def test_a_numeric_imdb_uniqueid_is_dropped(resolver, kodi):
    kodi.jsonrpc_handlers["VideoLibrary.GetMovieDetails"] = lambda params: {
        "moviedetails": {"title": "Inception", "year": 2010, "uniqueid": {"imdb": "27205", "tmdb": "27205"}}}

    found = resolver.resolve(PlayingItem(media_type="movie", dbid=12))

    assert found.ids == {"tmdb": 27205}


def test_library_item_without_ids_is_never_searched(resolver, kodi, server):
    kodi.jsonrpc_handlers["VideoLibrary.GetMovieDetails"] = lambda params: {
        "moviedetails": {"title": "Home Video", "year": 0, "uniqueid": {}}}
    server.search_results["Videos/home.mkv"] = FOUND_MOVIE

    assert resolver.lookup(PlayingItem(media_type="movie", dbid=3, path="/media/Videos/home.mkv")) == Lookup(
        None, "library item without ids")
    assert searched(server) == []


def test_library_item_without_ids_but_with_title_and_year_is_kept_for_simkl_to_match(resolver, kodi):
    kodi.jsonrpc_handlers["VideoLibrary.GetMovieDetails"] = lambda params: {
        "moviedetails": {"title": "Heat", "year": 1995, "uniqueid": {}}}

    assert resolver.resolve(PlayingItem(media_type="movie", dbid=3)) == Movie("Heat", 1995, {})


def test_library_item_json_rpc_does_not_know_is_not_resolved(resolver, kodi, server):
    del kodi.jsonrpc_handlers["VideoLibrary.GetMovieDetails"]  # Kodi answers with an error

    assert resolver.resolve(PlayingItem(media_type="movie", dbid=3, path="/media/a/b.mkv")) is None
    assert searched(server) == []


# --- ids handed over by the playing add-on --------------------------------------------------------

def test_plugin_movie_takes_the_ids_from_the_trakt_property(resolver, server):
    item = plugin_movie(property_ids={"script.trakt.ids": json.dumps({"imdb": "tt1375666", "tmdb": 27205})})

    assert resolver.resolve(item) == Movie("Inception", 2010, {"imdb": "tt1375666", "tmdb": 27205})
    assert searched(server) == []


def test_our_own_ids_property_wins_over_the_trakt_one(resolver):
    item = plugin_movie(property_ids={"script.trakt.ids": json.dumps({"imdb": "tt0000001"}),
                                      "service.scrobbler.simkl.ids": json.dumps({"simkl": 17, "tmdb": "27205"})})

    assert resolver.resolve(item).ids == {"simkl": 17, "tmdb": 27205}


def test_ids_on_the_playing_listitem_outrank_every_window_property(resolver):
    item = plugin_movie(property_ids={"listitem": json.dumps({"tmdb": 27205}),
                                      "service.scrobbler.simkl.ids": json.dumps({"imdb": "tt0000002"}),
                                      "script.trakt.ids": json.dumps({"imdb": "tt0000001"})})

    assert resolver.resolve(item).ids == {"tmdb": 27205}


def test_malformed_json_in_our_property_is_ignored_and_the_trakt_one_used(resolver):
    item = plugin_movie(property_ids={"service.scrobbler.simkl.ids": "{imdb: tt1375666",
                                      "script.trakt.ids": '{"imdb": "tt1375666"}'})

    assert resolver.resolve(item).ids == {"imdb": "tt1375666"}


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", '"tt1375666"', "null", '{"imdb": 1375666}'])
def test_a_property_without_usable_ids_is_ignored(resolver, raw):
    item = plugin_movie(property_ids={"script.trakt.ids": raw})

    found = resolver.lookup(item)
    assert found.found is None and found.reason


def test_plugin_episode_takes_the_property_ids_as_the_shows(resolver):
    item = plugin_episode(property_ids={"script.trakt.ids": json.dumps({"tvdb": 121361})},
                          uniqueids={"tvdb": "3436461"})

    found = resolver.resolve(item)

    assert found == Episode("Game of Thrones", 1, 3, None, {"tvdb": 121361}, "Lord Snow", {"tvdb": 3436461})


def test_movie_ids_from_the_players_unique_id_labels(resolver, server):
    found = resolver.resolve(plugin_movie(uniqueids={"imdb": "tt1375666", "tmdb": "27205", "tvdb": ""}))

    assert found == Movie("Inception", 2010, {"imdb": "tt1375666", "tmdb": 27205})
    assert searched(server) == []


def test_an_episodes_own_unique_ids_are_never_taken_as_the_shows(resolver, server):
    item = plugin_episode(path="/media/Game of Thrones/Season 1/GoT.S01E03.mkv",
                          uniqueids={"tvdb": "3436461", "imdb": "tt1480055"})
    server.search_results["Game of Thrones/Season 1/GoT.S01E03.mkv"] = FOUND_EPISODE

    found = resolver.resolve(item)

    assert found.show_ids == {"simkl": 548312, "imdb": "tt4574334", "tvdb": 305288}
    assert searched(server) == ["Game of Thrones/Season 1/GoT.S01E03.mkv"]


def test_plugin_episode_with_only_its_own_ids_and_nothing_to_search_is_not_resolved(resolver):
    found = resolver.lookup(plugin_episode(uniqueids={"tvdb": "3436461"}))
    assert found.found is None and found.reason


def test_episode_ids_without_season_and_number_are_not_resolved(resolver):
    item = plugin_episode(episode=None, property_ids={"script.trakt.ids": '{"tvdb": 121361}'})

    assert resolver.lookup(item) == Lookup(None, "episode ids without show title, season and number")


# --- Simkl's file search -------------------------------------------------------------------------

def test_item_without_ids_is_found_by_file_search_with_simkl_id(resolver, server):
    server.search_results["Inception (2010)/Inception.mkv"] = FOUND_MOVIE

    found = resolver.resolve(PlayingItem(path="/media/Inception (2010)/Inception.mkv"))

    assert found == Movie("Inception", 2010, {"imdb": "tt1375666", "tmdb": 27205, "simkl": 17})
    (request,) = server.requests_to(SEARCH)
    assert request.json == {"file": "Inception (2010)/Inception.mkv"}
    assert request.headers["Authorization"].startswith("Bearer ")


def test_file_search_finds_an_episode_with_the_shows_ids(resolver, server):
    server.search_results["Stranger Things/ST.S01E03.mkv"] = FOUND_EPISODE

    found = resolver.resolve(PlayingItem(media_type="episode", path="/media/Stranger Things/ST.S01E03.mkv"))

    assert found == Episode("Stranger Things", 1, 3, 2016, {"simkl": 548312, "imdb": "tt4574334", "tvdb": 305288},
                            "Chapter Three: Holly, Jolly", {"simkl": 1865356})


def test_the_same_file_is_searched_only_once(resolver, server, clock):
    server.search_results["Inception (2010)/Inception.mkv"] = FOUND_MOVIE
    item = PlayingItem(path="/media/Inception (2010)/Inception.mkv")

    first = resolver.resolve(item)
    clock.now += 3600
    second = resolver.resolve(item)

    assert first == second == Movie("Inception", 2010, {"imdb": "tt1375666", "tmdb": 27205, "simkl": 17})
    assert len(server.requests_to(SEARCH)) == 1


@pytest.mark.parametrize("answer", [None, [], {"type": "show", "show": {"title": "x", "ids": {"simkl": 1}}},
                                    {"type": "movie", "movie": {"title": "No ids", "ids": {}}}])
def test_file_search_without_a_match_gives_none_with_a_reason(resolver, server, answer):
    server.search_results["Holiday/clip.mkv"] = answer

    found = resolver.lookup(PlayingItem(path="/media/Holiday/clip.mkv"))
    assert found.found is None and "Holiday/clip.mkv" in found.reason and not found.unavailable


def test_a_repeated_file_without_a_match_is_not_searched_again_and_still_says_why(resolver, server):
    server.search_results["Inception (2010)/Inception.mkv"] = FOUND_MOVIE
    unknown = PlayingItem(path="/media/Holiday/clip.mkv")

    assert resolver.resolve(unknown) is None
    assert resolver.resolve(PlayingItem(path="/media/Inception (2010)/Inception.mkv")) is not None
    found = resolver.lookup(unknown)

    assert found.found is None and "Holiday/clip.mkv" in found.reason
    assert searched(server) == ["Holiday/clip.mkv", "Inception (2010)/Inception.mkv"]


def test_a_resolved_item_has_no_reason(resolver, server):
    assert resolver.lookup(PlayingItem(path="/media/Holiday/clip.mkv")).reason
    found = resolver.lookup(plugin_movie(uniqueids={"imdb": "tt1375666"}))
    assert found.found is not None and found.reason == "" and not found.unavailable


def test_plugin_item_without_ids_is_not_searched(resolver, server):
    assert resolver.resolve(plugin_movie()) is None
    assert searched(server) == []


# What the file search is told: the file's name and its folder, and above a season folder the show's
# folder too; never a host, share, drive, account folder, credentials or Kodi's options.
EPISODE_LAYOUTS = [
    ("/media/TV/Show/Season 1/S01E01.mkv", "Show/Season 1/S01E01.mkv"),
    ("/media/TV/Show/S01E01.mkv", "Show/S01E01.mkv"),
    ("/media/TV/Show (2019)/Season 01/Show - S01E01 - Title.mkv", "Show (2019)/Season 01/Show - S01E01 - Title.mkv"),
    ("/media/TV/Show/Specials/Show - S00E01 - Pilot.mkv", "Show/Specials/Show - S00E01 - Pilot.mkv"),
    ("/media/TV/Show/S02/Show.S02E01.mkv", "Show/S02/Show.S02E01.mkv"),
    ("/media/TV/Show/Season.3/Show.S03E01.mkv", "Show/Season.3/Show.S03E01.mkv"),
    ("/media/TV/Show/Staffel 2 (2021)/Show.S02E01.mkv", "Show/Staffel 2 (2021)/Show.S02E01.mkv"),
    ("smb://user:pass@host/share/Show/Season 1/S01E01.mkv", "Show/Season 1/S01E01.mkv"),
    ("smb://DOMAIN;user:pass@host:445/share/TV/Show/S01E01.mkv", "Show/S01E01.mkv"),
    ("smb://user:pass@host/share/S01E01.mkv", "S01E01.mkv"),
    ("smb://host/share/Season 1/S01E01.mkv", "Season 1/S01E01.mkv"),
    ("smb://user:pass@host/homes/alice/Show/S01E01.mkv", "Show/S01E01.mkv"),
    ("nfs://host/volume1/homes/alice/S01E01.mkv", "S01E01.mkv"),
    ("nfs://192.168.1.5/export/Show/Season 1/Show.S01E02.mkv", "Show/Season 1/Show.S01E02.mkv"),
    ("nfs://[fe80::1]/volume1/S01E02.mkv", "S01E02.mkv"),
    ("sftp://user:pass@host:22/home/alice/TV/Show/Season 1/S01E01.mkv", "Show/Season 1/S01E01.mkv"),
    ("ftp://me:pw@ftp.example.org/tv/Show #1/Season 1/S01E01.mkv?passive=1|User-Agent=Kodi",
     "Show #1/Season 1/S01E01.mkv"),
    ("davs://me:pw@cloud.example.org:8443/remote.php/TV/Show%20A/Season%201/S01E01%3F.mkv#x",
     "Show A/Season 1/S01E01?.mkv"),
    ("C:\\TV\\Show\\Season 1\\S01E01.mkv", "Show/Season 1/S01E01.mkv"),
    ("C:\\Users\\alice\\S01E01.mkv", "S01E01.mkv"),
    ("\\\\NAS\\share\\Show\\S01E02.mkv", "Show/S01E02.mkv"),
    ("\\\\NAS\\share\\S01E02.mkv", "S01E02.mkv"),
    ("/home/alice/S01E01.mkv", "S01E01.mkv"),
    ("/run/media/alice/DISK/Show/Season 1/S01E01.mkv", "Show/Season 1/S01E01.mkv"),
    ("smb://user:secret@nas/tv/What If?/What.If.S01E01.mkv", "What If?/What.If.S01E01.mkv"),
    ("/media/TV/Marvel's Agents of S.H.I.E.L.D. [2013]/Season 1/S01E01 – 100% Pilot, Part ½ & more.mkv",
     "Marvel's Agents of S.H.I.E.L.D. [2013]/Season 1/S01E01 – 100% Pilot, Part ½ & more.mkv"),
    ("file:///storage/TV/進撃の巨人/Season 1/S01E01.mkv", "進撃の巨人/Season 1/S01E01.mkv"),
    ("/media/TV/Show/Season 1/S01E01.mkv|User-Agent=Kodi", "Show/Season 1/S01E01.mkv"),
]
MOVIE_LAYOUTS = [
    ("/media/Movies/Film (2001)/Film.mkv", "Film (2001)/Film.mkv"),
    ("/media/Movies/Film.mkv", "Movies/Film.mkv"),
    ("smb://nas/media/Movies/Inception (2010)/Inception.2010.1080p.mkv", "Inception (2010)/Inception.2010.1080p.mkv"),
    ("smb://user:secret@nas/Movies/Inception.mkv", "Inception.mkv"),
    ("smb://user:secret@nas/Inception.mkv", "Inception.mkv"),
    ("stack:///media/Heat (1995)/Heat-cd1.avi , /media/Heat (1995)/Heat-cd2.avi", "Heat (1995)/Heat-cd1.avi"),
    ("stack://smb://user:pass@nas/Movies/Film (2001)/film-cd1.avi"
     " , smb://user:pass@nas/Movies/Film (2001)/film-cd2.avi", "Film (2001)/film-cd1.avi"),
    ("stack://smb://u:p@nas/share/Heat, The (1995)/heat,, the-cd1.avi , smb://u:p@nas/share/Heat,, The (1995)/heat,, "
     "the-cd2.avi", "Heat, The (1995)/heat, the-cd1.avi"),
    ("C:\\Users\\me\\Videos\\Amélie (2001)\\Amélie.mkv", "Amélie (2001)/Amélie.mkv"),
    ("D:\\Amélie.mkv", "Amélie.mkv"),
    ("\\\\NAS\\share\\Movies\\Heat.mkv", "Movies/Heat.mkv"),
    ("file:///storage/videos/千と千尋の神隠し (2001)/千と千尋の神隠し.mkv",
     "千と千尋の神隠し (2001)/千と千尋の神隠し.mkv"),
    ("ftp://me:pw@ftp.example.org/films/Heat.mkv|User-Agent=Kodi", "Heat.mkv"),
    ("/Heat.mkv", "Heat.mkv"),
    ("/home/alice/Heat.mkv", "Heat.mkv"),
    ("/media/alice/Heat (1995)/Heat.mkv", "Heat (1995)/Heat.mkv"),
]


@pytest.mark.parametrize("path, name", MOVIE_LAYOUTS)
def test_a_movie_file_is_searched_by_its_name_and_its_folders(resolver, server, path, name):
    server.search_results[name] = FOUND_MOVIE

    found = resolver.resolve(PlayingItem(media_type="movie", path=path))

    assert searched(server) == [name]
    assert found is not None


@pytest.mark.parametrize("path, name", EPISODE_LAYOUTS)
def test_an_episode_file_is_searched_by_its_name_and_the_folders_naming_its_show(resolver, server, path, name):
    server.search_results[name] = FOUND_EPISODE

    found = resolver.resolve(PlayingItem(media_type="episode", path=path))

    assert searched(server) == [name]
    assert found is not None


@pytest.mark.parametrize("path, source", [
    ("https://cdn.example.com/vod/Show/Show.S02E03.mp4?token=a/b&exp=1", ""),
    ("http://user:secret@127.0.0.1:8080/stream/film.mp4", ""),
    ("http://127.0.0.1:8080/stream/film.mp4", "plugin://plugin.video.example/play?id=42"),
    ("/tmp/cache/film.mkv", "plugin://plugin.video.example/play?id=42"),
    ("upnp://0b1e-uuid/1/2/", ""),
    ("ftp://host/share/?.mkv", ""),
    ("smb://host/share/", ""),
])
def test_streams_and_add_on_videos_are_never_file_searched(resolver, server, path, source):
    found = resolver.lookup(PlayingItem(media_type="movie", path=path, source=source))
    assert searched(server) == []
    assert found.found is None and found.reason


def test_two_shows_with_the_same_file_name_do_not_share_a_search_answer(resolver, server):
    server.search_results["Show A/S01E01.mkv"] = FOUND_EPISODE

    first = resolver.resolve(PlayingItem(media_type="episode", path="/tv/Show A/S01E01.mkv"))
    second = resolver.resolve(PlayingItem(media_type="episode", path="/tv/Show B/S01E01.mkv"))

    assert first is not None and second is None
    assert searched(server) == ["Show A/S01E01.mkv", "Show B/S01E01.mkv"]


def test_two_shows_season_folders_named_alike_are_told_apart(resolver, server):
    # Simkl names one show for the season folder and file alone: what the search used to be told.
    server.search_results["Season 1/S01E01.mkv"] = FOUND_EPISODE
    server.search_results["Show A/Season 1/S01E01.mkv"] = FOUND_EPISODE
    show_b = json.loads(json.dumps(FOUND_EPISODE))
    show_b["show"].update(title="Show B", ids={"simkl": 7001})

    server.search_results["Show B/Season 1/S01E01.mkv"] = show_b
    first = resolver.resolve(PlayingItem(media_type="episode", path="smb://u:p@nas/tv/Show A/Season 1/S01E01.mkv"))
    second = resolver.resolve(PlayingItem(media_type="episode", path="smb://u:p@nas/tv/Show B/Season 1/S01E01.mkv"))
    again = resolver.resolve(PlayingItem(media_type="episode", path="smb://u:p@nas/tv/Show A/Season 1/S01E01.mkv"))

    assert (first.show_title, second.show_title, again.show_title) == ("Stranger Things", "Show B", "Stranger Things")
    assert searched(server) == ["Show A/Season 1/S01E01.mkv", "Show B/Season 1/S01E01.mkv"]


def test_the_answer_is_remembered_by_what_the_search_was_told_not_by_where_the_file_lies(resolver, server):
    server.search_results["Show A/Season 1/S01E01.mkv"] = FOUND_EPISODE
    live = PlayingItem(media_type="episode", path="smb://u:p@nas/tv/Show A/Season 1/S01E01.mkv")
    stored = playing_item(live.stored())  # the same watch, read back from the queue

    assert resolver.resolve(live) == resolver.resolve(stored) is not None
    assert searched(server) == ["Show A/Season 1/S01E01.mkv"]


def test_the_same_movie_file_name_in_two_folders_is_searched_for_each(resolver, server):
    server.search_results["Heat (1995)/movie.mkv"] = FOUND_MOVIE

    heat = resolver.resolve(PlayingItem(media_type="movie", path="/media/Heat (1995)/movie.mkv"))
    alien = resolver.resolve(PlayingItem(media_type="movie", path="/media/Alien (1979)/movie.mkv"))

    assert heat is not None and alien is None
    assert searched(server) == ["Heat (1995)/movie.mkv", "Alien (1979)/movie.mkv"]


# --- what the outbox keeps of a played file ----------------------------------------------------------

# Upper-case markers never met in the lower-case folder names below, so finding one means it leaked.
SECRETS = ("USR", "PWD", "HOST", "SHARE", "DOMAIN", "HOME", "OPTION")
FOLDER = st.text(st.characters(whitelist_categories=("Ll", "Nd", "Zs", "Lo"), whitelist_characters="-_.()[]&'!,#?"),
                 min_size=1, max_size=12).filter(lambda name: name.strip() and " , " not in name)


@st.composite
def network_paths(draw):
    """A file on a share as Kodi names it, with credentials, a port, Kodi's | options, maybe stacked."""
    scheme = draw(st.sampled_from(["smb", "nfs", "ftp", "ftps", "sftp", "afp", "dav", "davs", "SMB"]))
    login = draw(st.sampled_from(["", "USR@", "USR:PWD@"] + (["DOMAIN;USR:PWD@"] if scheme == "smb" else [])))
    port = draw(st.sampled_from(["", ":445"]))
    homes = draw(st.sampled_from([[], ["homes", "HOME"]]))
    folders = draw(st.lists(FOLDER, max_size=3))
    file = draw(FOLDER) + draw(st.sampled_from([".mkv", "-cd1.avi", ".mp4"]))
    options = draw(st.sampled_from(["", "|User-Agent=OPTION", "|auth=OPTION&x=OPTION"]))
    path = "%s://%sHOST%s/%s" % (scheme, login, port, "/".join(["SHARE"] + homes + folders + [file])) + options
    if draw(st.booleans()):
        path = "stack://%s , %s" % (path.replace(",", ",,"), path.replace("cd1", "cd2").replace(",", ",,"))
    return path


@st.composite
def local_paths(draw):
    """A file on this device's disks: in an account's own folder, on a Windows drive or a UNC share."""
    folders = draw(st.lists(FOLDER, max_size=3))
    file = draw(FOLDER) + ".mkv"
    root = draw(st.sampled_from(["/home/HOME", "file:///home/HOME", "C:\\Users\\HOME", "\\\\HOST\\SHARE",
                                 "\\\\HOST\\SHARE\\Users\\HOME", "/Users/HOME"]))
    separator = "\\" if "\\" in root else "/"
    return separator.join([root] + folders + [file]) + draw(st.sampled_from(["", "|OPTION"]))


@given(st.one_of(network_paths(), local_paths()))
def test_nothing_of_a_shares_credentials_host_name_or_options_is_sent_or_kept(path):
    item = PlayingItem(media_type="movie", path=path)
    kept = json.dumps(dict(item.stored(), label=item.name()))

    assert [secret for secret in SECRETS if secret in search_name(path)] == []
    assert [secret for secret in SECRETS if secret in kept] == []
    assert playing_item(json.loads(kept)).file_name == item.file_name


def test_the_outbox_keeps_of_an_add_on_video_only_the_add_on():
    item = PlayingItem(media_type="movie", path="http://me:pw@cdn.example.net/v.mp4?token=T",
                       source="plugin://plugin.video.example?token=T&user=me")

    assert item.stored()["path"] == ""
    assert item.stored()["source"] == "plugin://plugin.video.example/"
    assert item.stored()["file_name"] == ""
    assert item.name() == "plugin.video.example"


def test_a_watch_queued_by_an_earlier_version_is_still_searched_by_its_kept_path(resolver, server):
    server.search_results["Show B/Season 1/S01E01.mkv"] = FOUND_EPISODE
    report = {"media_type": "episode", "dbid": -1, "path": "smb://nas/tv/Show B/Season 1/S01E01.mkv",
              "source": "smb://nas/tv/Show B/Season 1/S01E01.mkv", "label": "S01E01.mkv"}

    assert resolver.resolve(playing_item(report)) is not None
    assert searched(server) == ["Show B/Season 1/S01E01.mkv"]


def test_a_search_that_cannot_be_asked_says_so_and_is_asked_again_next_time(library):
    asked = []

    def offline(name):
        asked.append(name)
        raise SearchUnavailable("ConnectionError")
    resolver = Resolver(library, search_file=offline)
    clip = PlayingItem(path="/media/Holiday/clip.mkv")

    assert resolver.lookup(clip) == Lookup(None, "file search unavailable (ConnectionError)", unavailable=True)
    assert resolver.lookup(clip).unavailable
    assert asked == ["Holiday/clip.mkv", "Holiday/clip.mkv"]
