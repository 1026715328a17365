"""Simkl -> Kodi for ratings: the user's ratings on Simkl become Kodi's "My rating" of library movies and
TV shows; pure decisions, fed with Simkl's answer, Kodi's items, the memo and the queue's waiting ratings.

Asked only when `/sync/activities` says a block's `rated_at` moved (from the saved server time, as
`date_from`), or on a full sync for every block that was ever rated (an idle bucket is null: simkl-api §7.1).
The shape (api.simkl.org get-user-ratings, simkl-api §7.3, §13): `{"movies"|"shows"|"anime": [{"user_rating",
"user_rated_at", "movie"|"show": {"title", "year", "ids"}}]}`; an anime film carries `anime_type: "movie"`
and is a film. One item that cannot be read is skipped and told; it never stops the others.
Kodi is left alone where the user's own choice is newer: a rating entry still waiting in the queue, or a
"My rating" that differs from the memo (changed in Kodi and not checked yet: the check sends it).
A rating removed on Simkl does not show in a delta: Kodi keeps it.
"""
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Set, Tuple

from ..media import clean_ids
from ..times import read_time
from .library import WRITE_BATCH, KodiLibrary, RatingWrite

RATED_TYPES = {"movies": "movies", "tv_shows": "shows", "anime": "anime"}  # activities block -> ratings type
RATED_BUCKETS = {block: ("rated_at",) for block in RATED_TYPES}  # the activities buckets the ratings follow
ALL_RATINGS = "1,2,3,4,5,6,7,8,9,10"  # every rating: the answer holds only what the user rated
MATCH_KEYS = ("imdb", "tmdb", "tvdb")

Key = Tuple[str, str]


@dataclass
class SimklRatings:
    """The user's ratings on Simkl by the ids they match on, for films and for shows apart (a TMDB movie id
    and a TMDB TV id are different things): (id name, value) -> (rating, rated_at)."""
    movies: Dict[Key, Tuple[int, float]] = field(default_factory=dict)
    shows: Dict[Key, Tuple[int, float]] = field(default_factory=dict)
    skipped: List[str] = field(default_factory=list)
    titles: int = 0  # the entries read (a title counts once, whatever its ids)

    def count(self) -> int:
        return self.titles

    def merge(self, other: "SimklRatings") -> None:
        for mine, theirs in ((self.movies, other.movies), (self.shows, other.shows)):
            for key, value in theirs.items():
                _keep_newest(mine, key, value)
        self.skipped.extend(other.skipped)
        self.titles += other.titles


def parse_ratings(answer) -> SimklRatings:
    """Simkl's ratings answer read (null, {} and missing keys are empty)."""
    rated = SimklRatings()
    if not isinstance(answer, dict):
        return rated
    for group in ("movies", "shows", "anime"):
        entries = answer.get(group)
        for entry in entries if isinstance(entries, list) else []:
            film = group == "movies" or (isinstance(entry, dict) and entry.get("anime_type") == "movie")
            rated.titles += _entry(rated.movies if film else rated.shows, rated.skipped, entry,
                                   "movie" if group == "movies" else "show")
    return rated


def _entry(into: Dict[Key, Tuple[int, float]], skipped: List[str], entry, block_name: str) -> bool:
    """One entry read into `into` (True), or skipped and told (False)."""
    block = entry.get(block_name) if isinstance(entry, dict) else None
    ids = clean_ids(block.get("ids")) if isinstance(block, dict) and isinstance(block.get("ids"), dict) else {}
    keys = [(name, str(ids[name])) for name in MATCH_KEYS if name in ids]
    name = "%s=%s" % keys[0] if keys else "an entry"
    if not keys:
        skipped.append("an entry without ids Kodi has")
        return False
    rating = entry.get("user_rating")
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 10:
        skipped.append("%s: rating %r" % (name, rating))
        return False
    rated_at = read_time(entry.get("user_rated_at")) if entry.get("user_rated_at") else 0.0
    if rated_at is None:
        skipped.append("%s: unreadable time %r" % (name, entry.get("user_rated_at")))
        return False
    for key in keys:
        _keep_newest(into, key, (rating, rated_at))
    return True


def _keep_newest(into: Dict[Key, Tuple[int, float]], key: Key, value: Tuple[int, float]) -> None:
    """Several Simkl entries (an anime's cours) may share an id: the newest rating counts."""
    if key not in into or into[key][1] <= value[1]:
        into[key] = value


def plan_ratings(rated: SimklRatings, kind: str, items, known, waiting: Set[str]) -> List[RatingWrite]:
    """The "My rating" writes for Kodi's movies or TV shows (kind 'movie' / 'tvshow', items with their
    uniqueid and userrating) that Simkl rates otherwise; `known`: the memo (get, seeded); `waiting`: the
    library keys of rating entries still queued. An item Simkl agrees with is noted in the memo."""
    table = rated.movies if kind == "movie" else rated.shows
    writes = []
    for item in items:
        dbid = item.get(kind + "id")
        if not isinstance(dbid, int):
            continue
        found = [table[key] for key in _match_keys(item.get("uniqueid")) if key in table]
        if not found:
            continue
        rating = max(found, key=lambda value: value[1])[0]
        key = "%s:%d" % (kind, dbid)
        in_kodi = _rating(item.get("userrating"))
        if key in waiting or (known.seeded and in_kodi != known.get(key)):
            continue  # the user's own newer choice: queued, or not checked yet
        if rating != in_kodi:
            writes.append(RatingWrite(kind, dbid, rating))
        else:
            known.set(key, rating)
    return writes


@dataclass
class Applied:
    """What the pull did in Kodi: ratings written, writes Kodi refused; stopped: Kodi quits (nothing saved)."""
    written: int = 0
    refused: int = 0
    stopped: bool = False


def apply_ratings(rated: SimklRatings, library: KodiLibrary, link, wait_idle: Callable[[], bool],
                  log: Callable[[str], None] = lambda message: None) -> Applied:
    """Simkl's ratings written as Kodi's "My rating" in batches, each once nothing plays; `link` gives the memo
    (memo(): a context with the memo of the account logged in, or None) and the library keys of rating entries
    still queued (waiting()). Each batch is decided again and written under the memo's lock, so a choice the
    user makes meanwhile (the prompt) is never overwritten, and the memo takes each write at once."""
    applied = Applied()
    if not rated.count():
        return applied
    with link.memo() as known:
        if known is None:
            return applied
        waiting = link.waiting()
        writes = [write for kind, table in (("movie", rated.movies), ("tvshow", rated.shows)) if table
                  for write in plan_ratings(rated, kind, library.rating_items(kind), known, waiting)]
    for start in range(0, len(writes), WRITE_BATCH):
        if not wait_idle():
            applied.stopped = True
            return applied
        with link.memo() as known:
            batch = _still_due(writes[start:start + WRITE_BATCH], library, link, known)
            refused = library.write(batch)
            for write, error in refused:
                log("sync: Kodi refused the rating of %s %d: %s" % (write.kind, write.dbid, error))
            for write in batch:
                if all(write is not bad for bad, _ in refused):
                    known.set("%s:%d" % (write.kind, write.dbid), write.rating)
                    applied.written += 1
            applied.refused += len(refused)
    return applied


def _still_due(writes: List[RatingWrite], library: KodiLibrary, link, known) -> List[RatingWrite]:
    """Of a batch decided before a wait (a video may have played meanwhile), the writes still to do now: not
    for an item whose rating the user queued or changed in Kodi since (read again), nor one gone."""
    if known is None:
        return []
    waiting = link.waiting()
    now: Dict[str, int] = {}
    for kind in ("movie", "tvshow"):
        dbids = [write.dbid for write in writes if write.kind == kind]
        for item in library.rating_details(kind, dbids):
            now["%s:%d" % (kind, item[kind + "id"])] = _rating(item.get("userrating"))
    due = []
    for write in writes:
        key = "%s:%d" % (write.kind, write.dbid)
        if key in now and key not in waiting and not (known.seeded and now[key] != known.get(key)):
            due.append(write)
    return due


def _rating(value) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 10 else 0


def _match_keys(uniqueid) -> List[Key]:
    ids = clean_ids(uniqueid if isinstance(uniqueid, dict) else {})
    return [(name, str(ids[name])) for name in MATCH_KEYS if name in ids]
