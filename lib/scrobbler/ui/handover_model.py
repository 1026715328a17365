"""What the user is asked when an account logs in while another account's watches wait, and what each answer
does and says. No Kodi here: texts come through `text(string_id, *args)` (kodi.localize).

The question is Kodi's yes/no/custom dialog, its buttons in this order on screen: Send (yes), Later (no),
Discard (the custom button). Back, or Later, keeps the watches for the account they were made for.
"""
from dataclasses import dataclass
from typing import Callable, Sequence

from ..counts import DISCARDED, KEPT_QUESTION, SENDING_TO, count
from ..delivery.outbox import Kept

SEND, LATER, DISCARD = "send", "later", "discard"
BUTTONS = {1: SEND, 0: LATER, 2: DISCARD}  # what Dialog.yesnocustom returns for each button (-1: Back)

Text = Callable[..., str]


def question(kept: Kept, new_name: str, text: Text) -> str:
    return count(kept.count, KEPT_QUESTION, text, kept.name, new_name, kept.name)


def buttons(text: Text) -> dict:
    """The dialog's labels: yes, no and custom."""
    return {"yes": text(32703), "no": text(32704), "custom": text(32705)}


def choice(button: int) -> str:
    """The answer a pressed button means; Back (-1) keeps the watches, as Later does."""
    return BUTTONS.get(button, LATER)


def done_text(answer: str, number: int, new_name: str, text: Text) -> str:
    """The notification after the answer ("" after Later: nothing changed)."""
    if answer == SEND:
        return count(number, SENDING_TO, text, new_name)
    if answer == DISCARD:
        return count(number, DISCARDED, text)
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
    return Notice(text(32713, kept.name), text(32715))
