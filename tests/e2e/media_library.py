"""A small video library made of generated clips, with .nfo files so Kodi needs no internet to scan it.

Clips are tiny (64x36 at 5 fps) so they take well under a second each to make; they are cached by
their parameters. They have no audio track on purpose: with the null ALSA sink (the only sink
without a sound card) Kodi 20.1 plays audio untimed, logs thousands of "large audio sync error"
lines, stalls the stream every few seconds, and sometimes aborts (pthread EDEADLK assertion) when
playback is stopped during such a stall. A video-only file plays cleanly at real-time speed.
"""
import hashlib
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List
from xml.sax.saxutils import escape

WIDTH, HEIGHT, FPS = 64, 36, 5  # Kodi takes under 5 fps as invalid and forces 25


@dataclass(frozen=True)
class LibraryMovie:
    title: str
    year: int
    seconds: int
    ids: Dict[str, str] = field(default_factory=dict)

    @property
    def folder(self) -> str:
        return "%s (%d)" % (self.title, self.year)


@dataclass(frozen=True)
class LibraryEpisode:
    season: int
    number: int
    title: str
    seconds: int
    ids: Dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LibraryShow:
    title: str
    year: int
    ids: Dict[str, str]
    episodes: List[LibraryEpisode]


# Made-up ids, distinct from real titles so a leak to a real service would be obvious.
MOVIE_ONE = LibraryMovie("Alpha Test Movie", 2001, 400, {"imdb": "tt9900001", "tmdb": "990001"})
MOVIE_TWO = LibraryMovie("Beta Test Movie", 2002, 400, {"imdb": "tt9900002", "tmdb": "990002"})
SHORT_CLIP = LibraryMovie("Gamma Short Clip", 2003, 90, {"imdb": "tt9900003", "tmdb": "990003"})
# In a folder of its own that test_exclusions.py puts in exclude_folder1 (see movie_folder()).
EXCLUDED_MOVIE = LibraryMovie("Epsilon Excluded Movie", 2004, 400, {"imdb": "tt9900004", "tmdb": "990004"})
MOVIES = (MOVIE_ONE, MOVIE_TWO, SHORT_CLIP, EXCLUDED_MOVIE)
# A two-part movie (-cd1, -cd2) that test_played_files.py lays out with build_stacked_movie in a source of its own.
STACKED_MOVIE = LibraryMovie("Zeta Stacked Movie", 2005, 200, {"imdb": "tt9900005", "tmdb": "990005"})
SHOW = LibraryShow("Delta Test Show", 2010, {"tvdb": "990100", "imdb": "tt9900100", "tmdb": "990100"}, [
    LibraryEpisode(1, 1, "Pilot", 360, {"tvdb": "990101", "imdb": "tt9900101", "tmdb": "990101"}),
    LibraryEpisode(1, 2, "Second Step", 360, {"tvdb": "990102", "imdb": "tt9900102", "tmdb": "990102"}),
])
EPISODE_ONE, EPISODE_TWO = SHOW.episodes
# Only test_sync_shapes.py's Simkl knows these two (what Simkl sends for anime and completed shows); the
# other scenarios leave them unwatched. An anime numbered the TVDB way, as Kodi's scrapers number it:
# one season of four; Simkl files it as two cours of two episodes each (see test_sync_shapes.py).
ANIME = LibraryShow("Zeta Test Anime", 2021, {"tvdb": "990200", "tmdb": "990200"}, [
    LibraryEpisode(1, number, "Zeta Part %d" % number, 60, {"tvdb": "99020%d" % number}) for number in range(1, 5)
])
COMPLETED_SHOW = LibraryShow("Eta Completed Show", 2015, {"tvdb": "990300", "imdb": "tt9900300", "tmdb": "990300"}, [
    LibraryEpisode(1, number, "Eta Part %d" % number, 60, {"tvdb": "99030%d" % number}) for number in range(1, 4)
])
SHOWS = (SHOW, ANIME, COMPLETED_SHOW)


def make_clip(cache_dir: Path, seconds: int) -> Path:
    """A cached video-only clip of that length."""
    key = hashlib.sha1(("%d-%d-%d-%d-v2" % (WIDTH, HEIGHT, FPS, seconds)).encode()).hexdigest()[:10]
    clip = Path(cache_dir) / ("clip-%ds-%s.mp4" % (seconds, key))
    if clip.is_file():
        return clip
    clip.parent.mkdir(parents=True, exist_ok=True)
    partial = clip.with_name(clip.stem + ".partial.mp4")
    subprocess.run([
        "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", "testsrc=size=%dx%d:rate=%d:duration=%d" % (WIDTH, HEIGHT, FPS, seconds),
        "-c:v", "libx264", "-preset", "ultrafast", "-g", str(FPS * 2), "-pix_fmt", "yuv420p",
        "-movflags", "+faststart", str(partial),
    ], check=True)
    partial.replace(clip)
    return clip


def build_library(root: Path, cache_dir: Path) -> Dict[str, Path]:
    """Lay out Movies/ and TV/ under root; return the two source folders by Kodi content type."""
    movies, tv = Path(root) / "Movies", Path(root) / "TV"
    for movie in MOVIES:
        folder = movies / movie.folder
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(str(make_clip(cache_dir, movie.seconds)), str(folder / (movie.folder + ".mp4")))
        nfo = _movie_nfo(movie)
        (folder / "movie.nfo").write_text(nfo, encoding="utf-8")
    for show in SHOWS:
        show_dir = tv / show.title
        show_dir.mkdir(parents=True, exist_ok=True)
        (show_dir / "tvshow.nfo").write_text(_show_nfo(show), encoding="utf-8")
        for episode in show.episodes:
            name = "%s S%02dE%02d" % (show.title, episode.season, episode.number)
            shutil.copyfile(str(make_clip(cache_dir, episode.seconds)), str(show_dir / (name + ".mp4")))
            (show_dir / (name + ".nfo")).write_text(_episode_nfo(episode), encoding="utf-8")
    return {"movies": movies, "tvshows": tv}


def add_movie(library: Dict[str, Path], movie: LibraryMovie, cache_dir: Path) -> Path:
    """One more movie in a library made by build_library (found by the next scan)."""
    folder = library["movies"] / movie.folder
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(str(make_clip(cache_dir, movie.seconds)), str(folder / (movie.folder + ".mp4")))
    (folder / "movie.nfo").write_text(_movie_nfo(movie), encoding="utf-8")
    return folder


def build_stacked_movie(source: Path, cache_dir: Path, movie: LibraryMovie) -> Path:
    """The movie in two parts (<folder>/zeta-cd1.mp4, -cd2.mp4) with its .nfo under a source folder; Kodi
    stacks the parts into one movie. Returns the movie's folder."""
    folder = Path(source) / movie.folder
    folder.mkdir(parents=True, exist_ok=True)
    stem = movie.title.split()[0].lower()
    for part in (1, 2):
        shutil.copyfile(str(make_clip(cache_dir, movie.seconds)), str(folder / ("%s-cd%d.mp4" % (stem, part))))
    (folder / "movie.nfo").write_text(_movie_nfo(movie), encoding="utf-8")
    return folder


def movie_folder(library: Dict[str, Path], movie: LibraryMovie) -> Path:
    """The folder of one movie of a library made by build_library (each movie has its own)."""
    return library["movies"] / movie.folder


def _uniqueids(ids: Dict[str, str], default: str) -> str:
    return "".join('  <uniqueid type="%s"%s>%s</uniqueid>\n' % (kind, ' default="true"' if kind == default else "",
                                                                  escape(value)) for kind, value in ids.items())


def _movie_nfo(movie: LibraryMovie) -> str:
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<movie>\n'
            "  <title>%s</title>\n  <year>%d</year>\n%s</movie>\n"
            % (escape(movie.title), movie.year, _uniqueids(movie.ids, "imdb")))


def _show_nfo(show: LibraryShow) -> str:
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<tvshow>\n'
            "  <title>%s</title>\n  <year>%d</year>\n  <premiered>%d-01-01</premiered>\n%s</tvshow>\n"
            % (escape(show.title), show.year, show.year, _uniqueids(show.ids, "tvdb")))


def _episode_nfo(episode: LibraryEpisode) -> str:
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<episodedetails>\n'
            "  <title>%s</title>\n  <season>%d</season>\n  <episode>%d</episode>\n%s</episodedetails>\n"
            % (escape(episode.title), episode.season, episode.number, _uniqueids(episode.ids, "tvdb")))
