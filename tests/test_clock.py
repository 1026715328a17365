"""The steady clock: reads like wall time, moves like the monotonic clock."""
import time

from lib.scrobbler.clock import SteadyClock


class Ticking:
    """A settable clock reading."""

    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def test_the_steady_clock_starts_at_the_wall_time_and_moves_with_the_monotonic_clock():
    wall, monotonic = Ticking(1_780_000_000.0), Ticking(52.0)
    steady = SteadyClock(wall=wall, monotonic=monotonic)

    assert steady() == 1_780_000_000.0
    monotonic.now += 30.0
    assert steady() == 1_780_000_030.0


def test_a_wall_clock_jump_after_start_neither_stretches_nor_shortens_a_wait():
    wall, monotonic = Ticking(1_780_000_000.0), Ticking(52.0)
    steady = SteadyClock(wall=wall, monotonic=monotonic)
    due = steady() + 60.0

    wall.now -= 86400.0  # the user sets the clock a day back
    monotonic.now += 59.0
    assert steady() < due
    wall.now += 2 * 86400.0  # and a day ahead of real time
    monotonic.now += 1.0
    assert steady() == due


def test_the_default_steady_clock_reads_the_current_wall_time():
    assert abs(SteadyClock()() - time.time()) < 60.0
