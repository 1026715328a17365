"""The memo: for each library movie and TV show ("movie:12", "tvshow:3"), the rating Kodi and Simkl agree
on as far as the add-on knows (absent: none).

Kodi compared with the memo tells a user's change from the add-on's own write: whatever the add-on
writes to Kodi (a rating pulled from Simkl, the prompt's choice) it writes to the memo too, so it is
never taken for the user's and sent back. The memo is one account's: another login starts it over
(its first check only seeds it from Kodi, so Kodi's ratings are never sent to an account by surprise).
"""
import os
from typing import Dict, Optional

from ..files import read_json, write_json

KNOWN_FILE = "ratings_known.json"


def library_key(kind: str, dbid: int) -> str:
    """The memo's key of a library item: "movie:12", "tvshow:3"."""
    return "%s:%d" % (kind, dbid)


def split_key(key: str) -> Optional[tuple]:
    """(kind, dbid) of a memo key; None for one that is not a library movie or TV show."""
    kind, _, number = key.partition(":")
    if kind not in ("movie", "tvshow") or not number.isdigit():
        return None
    return kind, int(number)


def valid_rating(value) -> int:
    """A rating as the memo keeps it: 1-10, or 0 for none (anything else is none)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0
    value = int(value)
    return value if 1 <= value <= 10 else 0


class Known:
    """The memo of one account, read from addon_data; save() writes it back."""

    def __init__(self, folder: str, account: str):
        self.path = os.path.join(folder, KNOWN_FILE)
        self.account = account
        data = read_json(self.path)
        if data.get("account") != account:
            data = {}
        # False until the first check for this account read Kodi's ratings: then nothing is known yet
        self.seeded: bool = bool(data.get("seeded"))
        items = data.get("items")
        self._items: Dict[str, int] = {}
        for key, value in (items.items() if isinstance(items, dict) else ()):
            if split_key(key) is not None and valid_rating(value):
                self._items[key] = valid_rating(value)

    def get(self, key: str) -> int:
        return self._items.get(key, 0)

    def set(self, key: str, rating: int) -> None:
        """What Kodi and Simkl now agree on for this item (0: no rating)."""
        rating = valid_rating(rating)
        if rating:
            self._items[key] = rating
        else:
            self._items.pop(key, None)

    def seed(self, items: Dict[str, int]) -> None:
        """The first look at Kodi for this account: what Kodi has is taken as agreed, nothing is sent."""
        self._items = {}
        for key, rating in items.items():
            self.set(key, rating)
        self.seeded = True

    def items(self) -> Dict[str, int]:
        return dict(self._items)

    def save(self) -> None:
        write_json(self.path, {"account": self.account, "seeded": self.seeded, "items": self._items})
