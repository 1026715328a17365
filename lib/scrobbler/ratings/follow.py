"""Kodi -> Simkl: a "My rating" the user sets or clears in Kodi is queued for Simkl once.

The check reads Kodi's rated movies and TV shows and compares them with the memo (known.py): a new or
changed rating is queued (outbox.add_rating), a rating the memo has and Kodi no longer has is queued as
a removal (rating 0), and the memo takes each at once; a title that left the library only leaves the
memo (never a removal on Simkl). The first check for an account only seeds the memo: ratings set in Kodi
before are not sent. The check runs on the sync's thread (never beside its writes); the prompt's choice
(user_rated) and the sync's pull (memo) take the same lock, so none of the three sees the others half done.
"""
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Dict, Iterator, List, Optional, Tuple

from ..media import Movie, Show, clean_ids, clean_year
from ..sync.library import KodiLibrary, RatingWrite
from .known import Known, library_key, split_key, valid_rating

KINDS = ("movie", "tvshow")


@dataclass
class Checked:
    """What one check did: ratings queued, removals queued, titles dropped from the memo; seeded: the
    first check for the account, which only took Kodi's ratings as known."""
    rated: int = 0
    removed: int = 0
    dropped: int = 0
    seeded: bool = False


class Ratings:
    def __init__(self, profile: str, call, batch, outbox: Callable[[], object], account: Callable[[], Optional[str]],
                 log: Callable[[str], None] = lambda message: None):
        """call / batch: Kodi's JSON-RPC (kodi.jsonrpc, kodi.jsonrpc_batch); outbox(): the queue; account():
        the key of the account logged in (None: nobody)."""
        self._profile = profile
        self._call = call
        self._batch = batch
        self._outbox = outbox
        self._account = account
        self._log = log
        self._lock = threading.RLock()

    @contextmanager
    def memo(self) -> Iterator[Optional[Known]]:
        """The memo of the account logged in (None: nobody is), held against the check and the prompt's
        choice, and saved when the block ends."""
        with self._lock:
            account = self._account()
            known = Known(self._profile, account) if account else None
            yield known
            if known is not None:
                known.save()

    def waiting(self) -> set:
        """The library keys ("movie:12") of rating entries still queued for Simkl: the user's newer choice."""
        return self._outbox().ratings_waiting()

    def check(self) -> Optional[Checked]:
        """Compare Kodi's ratings with the memo and queue what the user changed; None when nobody is logged in."""
        with self.memo() as known:
            if known is None:
                return None
            library = KodiLibrary(self._call, self._batch)
            rated = {library_key(kind, item[kind + "id"]): (valid_rating(item.get("userrating")), _item(kind, item))
                     for kind in KINDS for item in library.rating_items(kind, rated_only=True)
                     if isinstance(item.get(kind + "id"), int) and valid_rating(item.get("userrating"))}
            if library.failed_reads:  # unknown is not "none rated": nothing is queued, nor taken as known
                self._log("ratings: Kodi did not list its rated movies and shows; looked at again later")
                return Checked()
            if not known.seeded:
                known.seed({key: rating for key, (rating, _) in rated.items()})
                self._log("ratings: %d of Kodi's ratings taken as known; only later changes are sent to Simkl"
                          % len(rated))
                return Checked(seeded=True)
            checked = Checked()
            missing = [key for key in known.items() if key not in rated]
            changes = [(key, item, rating) for key, (rating, item) in rated.items() if known.get(key) != rating]
            changes += self._cleared(library, known, missing, checked)
            for key, item, rating in changes:
                self._outbox().add_rating(item, rating, library=key)
                known.set(key, rating)
                checked.rated += rating > 0
                checked.removed += rating == 0
            if changes or checked.dropped:
                self._log("ratings: %d ratings and %d removals from Kodi queued for Simkl; %d titles gone from the "
                          "library forgotten" % (checked.rated, checked.removed, checked.dropped))
            return checked

    def _cleared(self, library: KodiLibrary, known: Known, keys: List[str],
                 checked: Checked) -> List[Tuple[str, object, int]]:
        """Of the memo's items Kodi did not list as rated: those still in the library, cleared (a removal to
        queue) or rated meanwhile; those gone, dropped from the memo."""
        found: Dict[str, dict] = {}
        for kind in KINDS:
            dbids = [split_key(key)[1] for key in keys if split_key(key)[0] == kind]
            for item in library.rating_details(kind, dbids):
                found[library_key(kind, item[kind + "id"])] = item
        changes = []
        for key in keys:
            item = found.get(key)
            if item is None:
                known.set(key, 0)  # gone from the library: never a removal on Simkl
                checked.dropped += 1
                continue
            rating = valid_rating(item.get("userrating"))
            if rating != known.get(key):
                changes.append((key, _item(split_key(key)[0], item), rating))
        return changes

    def user_rated(self, kind: str, dbid: int, item, rating: int) -> None:
        """The user's choice in the rating prompt: queued for Simkl, written as Kodi's "My rating", and taken
        as known, so the check never sends it again and the sync never overwrites it with an older one."""
        key = library_key(kind, dbid)
        rating = valid_rating(rating)
        with self.memo() as known:
            self._outbox().add_rating(item, rating, library=key)
            refused = KodiLibrary(self._call, self._batch).write([RatingWrite(kind, dbid, rating)])
            if refused:
                self._log("ratings: Kodi refused the rating of %s: %s" % (key, refused[0][1]))
            elif known is not None and known.seeded:
                known.set(key, rating)


def _item(kind: str, details: dict):
    """Kodi's movie or show as the rating entry names it: title, year and Kodi's ids."""
    title = details.get("title") or details.get("label") or ""
    make = Movie if kind == "movie" else Show
    return make(title, clean_year(details.get("year")), clean_ids(details.get("uniqueid")))
