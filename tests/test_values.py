"""lib/scrobbler/values.py: the value classes behave as the dataclasses they replace did."""
import pytest

from lib.scrobbler.media import Episode, Movie, Show
from lib.scrobbler.playback.resolve import PlayingItem, playing_item
from lib.scrobbler.playback.watch import Rules, Verdict


def test_equal_by_fields_and_never_equal_to_another_kind():
    assert Movie("Dune", 2021, {"imdb": "tt1160419"}) == Movie("Dune", 2021, {"imdb": "tt1160419"})
    assert Movie("Dune", 2021) != Movie("Dune", 2022)
    assert Movie("Dune", 2021) != Show("Dune", 2021)
    assert Episode("Show", 1, 2) == Episode("Show", 1, 2, None, {}, "", {})


def test_each_gets_its_own_empty_ids():
    first, second = Movie("A"), Movie("B")
    first.ids["imdb"] = "tt1"
    assert second.ids == {}


def test_a_mutable_value_is_unhashable_a_frozen_one_is_hashable_and_cannot_change():
    with pytest.raises(TypeError):
        hash(Movie("Dune"))
    assert hash(Rules()) == hash(Rules())
    with pytest.raises(AttributeError):
        Rules().threshold = 0.5
    with pytest.raises(AttributeError):
        Verdict(True, "ended").watched = False
    with pytest.raises(ValueError):
        Rules(threshold=80)


def test_asdict_copies_and_playing_item_comes_back_from_it():
    item = PlayingItem(media_type="movie", dbid=3, title="Dune", uniqueids={"imdb": "tt1160419"})
    stored = item.asdict()
    stored["uniqueids"]["imdb"] = "changed"
    assert item.uniqueids == {"imdb": "tt1160419"}
    assert playing_item(dict(item.asdict(), label="Dune (2021)")) == item


def test_repr_names_the_fields():
    assert repr(Verdict(False, "below threshold 30%")) == "Verdict(watched=False, reason='below threshold 30%')"
