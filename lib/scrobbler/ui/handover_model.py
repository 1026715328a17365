"""What the user is asked when an account logs in while another account's watches wait, and what each answer
does and says; ratings among them are called ratings, never watches. No Kodi here: texts come through
`text(string_id, *args)` (kodi.localize).

The question is Kodi's yes/no/custom dialog, its buttons in this order on screen: Send (yes), Later (no),
Discard (the custom button). Back, or Later, keeps the watches for the account they were made for.
"""
from dataclasses import dataclass
from typing import Callable, Optional, Sequence, TypeVar

from .. import counts
from ..counts import DISCARDED, KEPT_QUESTION, SENDING_TO, count
from ..delivery.outbox import Kept

SEND, LATER, DISCARD = "send", "later", "discard"
BUTTONS = {1: SEND, 0: LATER, 2: DISCARD}  # what Dialog.yesnocustom returns for each button (-1: Back)

Text = Callable[..., str]
Words = TypeVar("Words")


def _by_kind(kept: Optional[Kept], watches: Words, ratings: Words, mixed: Words) -> Words:
    """The words for what waits: watches (and marks) only, ratings only, or both."""
    if kept is None or not kept.ratings:
        return watches
    return ratings if kept.ratings >= kept.count else mixed


def question(kept: Kept, new_name: str, text: Text) -> str:
    forms = _by_kind(kept, KEPT_QUESTION, counts.KEPT_QUESTION_RATINGS, counts.KEPT_QUESTION_MIXED)
    return count(kept.count, forms, text, kept.name, new_name, kept.name)


def heading(kept: Kept, text: Text) -> str:
    """The question's heading."""
    return text(_by_kind(kept, 32700, 32914, 32915))


def buttons(text: Text) -> dict:
    """The dialog's labels: yes, no and custom."""
    return {"yes": text(32703), "no": text(32704), "custom": text(32705)}


def choice(button: int) -> str:
    """The answer a pressed button means; Back (-1) keeps the watches, as Later does."""
    return BUTTONS.get(button, LATER)


def done_text(answer: str, number: int, new_name: str, text: Text, kept: Optional[Kept] = None) -> str:
    """The notification after the answer about `kept` ("" after Later: nothing changed)."""
    if answer == SEND:
        return count(number, _by_kind(kept, SENDING_TO, counts.SENDING_RATINGS_TO, counts.SENDING_MIXED_TO), text,
                     new_name)
    if answer == DISCARD:
        return count(number, _by_kind(kept, DISCARDED, counts.RATINGS_DISCARDED, counts.MIXED_DISCARDED), text)
    return ""


def kept_count(kept: Sequence[Kept]) -> int:
    return sum(account.count for account in kept)


def action_label(kept: Sequence[Kept], text: Text) -> str:
    """The status view's button that asks again: the watches of every other account counted together (a name
    would not fit the button; the question names the account)."""
    return text(32712, kept_count(kept))


@dataclass(frozen=True)
class Notice:
    heading: str
    message: str


def not_now(kept: Kept, text: Text) -> Notice:
    """The notification instead of the question while a video plays: whose watches wait, and where to decide."""
    return Notice(text(_by_kind(kept, 32713, 32916, 32917), kept.name), text(32715))
