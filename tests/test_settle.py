"""The wait that groups library marks (delivery/settle.py), on the virtual clock."""
import hypothesis.strategies as st
from hypothesis import given
from virtual_time import VirtualClock

from lib.scrobbler.delivery.settle import MARKS_SETTLE, MarksSettle


def test_with_no_mark_nothing_waits():
    settle = MarksSettle(VirtualClock())

    assert not settle.waiting() and settle.until() is None
    assert settle.settled()


def test_a_mark_makes_what_is_queued_wait_for_the_settle_time():
    clock = VirtualClock()
    settle = MarksSettle(clock)

    settle.mark_came()

    assert settle.waiting() and settle.until() == clock() + MARKS_SETTLE
    clock.advance(MARKS_SETTLE - 0.01)
    assert not settle.settled() and settle.waiting()
    clock.advance(0.01)
    assert not settle.waiting()
    assert settle.settled() and settle.until() is None


def test_each_new_mark_moves_the_wait_on():
    clock = VirtualClock()
    settle = MarksSettle(clock, settle=2.0)
    for _ in range(5):
        settle.mark_came()
        clock.advance(1.5)  # a season's marks, each within the wait of the one before

    assert settle.waiting() and settle.until() == clock() + 0.5
    clock.advance(0.5)
    assert settle.settled()


def test_an_ended_wait_still_tells_when_it_ended_until_the_worker_settles_it():
    clock = VirtualClock()
    settle = MarksSettle(clock)
    settle.mark_came()
    ends = clock() + MARKS_SETTLE
    clock.advance(10)

    assert settle.until() == ends and not settle.waiting()  # the worker wakes at once for it
    settle.settled()
    assert settle.until() is None


@given(st.lists(st.floats(min_value=0, max_value=5, allow_nan=False), min_size=1, max_size=30),
       st.floats(min_value=0, max_value=10, allow_nan=False))
def test_it_waits_exactly_while_the_last_mark_is_younger_than_the_settle_time(gaps, after):
    """Whatever the marks' spacing: waiting() is true just when the last mark came less than the settle
    time ago, and settled() ends the wait only then."""
    clock = VirtualClock()
    settle = MarksSettle(clock)
    for gap in gaps:
        clock.advance(gap)
        settle.mark_came()
    last = clock()
    clock.advance(after)

    expected_waiting = clock() < last + MARKS_SETTLE
    assert settle.waiting() == expected_waiting
    assert settle.settled() == (not expected_waiting)
    assert (settle.until() is None) == (not expected_waiting)
