"""How a queued rating is named where the user reads it (the status view's lists, the notifications): the title
and the rating chosen, or that the rating was removed. No Kodi here: texts come through `text(string_id, *args)`."""
from typing import Callable, Optional

Text = Callable[..., str]


def rated_label(label: str, rating: Optional[int], text: Text) -> str:
    """The title of a queued entry as the lists name it: as it is for a watch (rating None), with the rating
    chosen for a rating, or with "rating removed" for the removal of one (rating 0)."""
    if rating is None:
        return label
    return text(32900, label, rating) if rating else text(32901, label)
