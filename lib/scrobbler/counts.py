"""Count phrases, written once: "1 movie", "3 movies", "2 movies and 1 episode", with zero parts left out.

Kodi has no plural forms, so each counted text has a string for one and a string for more (FORMS), and every
"N things" text goes through `count` (tests/test_words.py checks that strings.po has no other "%d …s" text).
No Kodi here: texts come through `text(string_id, *args)` (kodi.localize).
"""
from typing import Callable, Sequence, Tuple

Text = Callable[..., str]
Forms = Tuple[int, int]  # (the string for one, the string for more, with %d)

MOVIES = (32422, 32423)  # "1 movie", "%d movies"
EPISODES = (32424, 32425)  # "1 episode", "%d episodes"
WATCHES_QUEUED = (32757, 32404)  # "1 watch queued for Simkl", "%d watches queued for Simkl"
DISCARD_ENTRIES = (32244, 32243)  # "Discard this entry? …", "Discard these %d entries? …"
# Another account's waiting watches (ui/handover_model.py); the names follow the count.
KEPT_QUESTION = (32701, 32702)  # "1 watch made for %s is not on Simkl yet. …", "%d watches made for %s are …"
SENDING_TO = (32706, 32707)  # "Sending 1 watch to %s", "Sending %d watches to %s"
DISCARDED = (32708, 32709)  # "1 watch discarded", "%d watches discarded"
# The same for ratings: all of them ratings, or ratings among watches ("watches and ratings", "entries"; the
# one-entry string of a mix is the watch's: a mix has two at least).
KEPT_QUESTION_RATINGS = (32905, 32906)  # "1 rating made for %s is not on Simkl yet. …", "%d ratings made for %s …"
KEPT_QUESTION_MIXED = (32701, 32907)  # "%d watches and ratings made for %s are not on Simkl yet. …"
SENDING_RATINGS_TO = (32908, 32909)  # "Sending 1 rating to %s", "Sending %d ratings to %s"
SENDING_MIXED_TO = (32706, 32910)  # "Sending %d entries to %s"
RATINGS_DISCARDED = (32911, 32912)  # "1 rating discarded", "%d ratings discarded"
MIXED_DISCARDED = (32708, 32913)  # "%d entries discarded"
NEEDS_ATTENTION = (32801, 32802)  # "1 watch: open the add-on", "%d watches: open the add-on"
NEEDS_ATTENTION_TITLES = (32903, 32904)  # the same with ratings among them: "1 title: …", "%d titles: …"
FORMS = (MOVIES, EPISODES, WATCHES_QUEUED, DISCARD_ENTRIES, KEPT_QUESTION, SENDING_TO, DISCARDED, NEEDS_ATTENTION,
         NEEDS_ATTENTION_TITLES, KEPT_QUESTION_RATINGS, KEPT_QUESTION_MIXED, SENDING_RATINGS_TO, SENDING_MIXED_TO,
         RATINGS_DISCARDED, MIXED_DISCARDED)
AND = 32426  # "%s and %s"


def count(number: int, forms: Forms, text: Text, *args: object) -> str:
    """The phrase for `number`; `args` fill what follows the count in both strings (a name)."""
    one, many = forms
    return text(one, *args) if number == 1 else text(many, number, *args)


def listing(parts: Sequence[Tuple[int, Forms]], text: Text) -> str:
    """The counts that are not zero, joined: "2 movies and 1 episode"; empty when all are zero."""
    phrases = [count(number, forms, text) for number, forms in parts if number]
    if not phrases:
        return ""
    joined = phrases[-1]
    for phrase in reversed(phrases[:-1]):
        joined = text(AND, phrase, joined)
    return joined


def movies_and_episodes(movies: int, episodes: int, text: Text) -> str:
    return listing([(movies, MOVIES), (episodes, EPISODES)], text)
