"""Times as Simkl writes them: ISO 8601 with 0 to 9 fractional digits, `Z` or an offset, read the same on every
Python Kodi embeds (3.8-3.10's datetime.fromisoformat takes only 3 or 6 digits and no `Z`)."""
import calendar
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib.scrobbler.times import iso_utc, parse_time, read_time

BASE = calendar.timegm((2026, 5, 14, 6, 50, 38))


@pytest.mark.parametrize("text, expected", [
    ("2026-05-14T06:50:38Z", BASE),
    ("2026-05-14T06:50:38.000Z", BASE),
    ("2026-05-14T06:50:38.5Z", BASE + 0.5),
    ("2026-05-14T06:50:38.25Z", BASE + 0.25),
    ("2026-05-14T06:50:38.123456Z", BASE + 0.123456),
    ("2026-05-14T06:50:38.1234Z", BASE + 0.1234),
    ("2026-05-14T06:50:38.123456789Z", BASE + 0.123456789),
    ("2026-05-14T06:50:38z", BASE),
    ("2026-05-14T06:50:38", BASE),  # no offset: UTC
    ("2026-05-14T15:50:38+09:00", BASE),
    ("2026-05-14T01:50:38-05:00", BASE),
    ("2026-05-14T15:50:38.000+0900", BASE),
    ("2026-05-14T15:50:38+09", BASE),
    ("2026-05-14 06:50:38", BASE),
    ("2026-05-14T06:50Z", BASE - 38),
    ("2026-05-14", calendar.timegm((2026, 5, 14, 0, 0, 0))),
    (" 2026-05-14T06:50:38Z ", BASE),
])
def test_simkls_time_formats_all_read_as_the_same_moment(text, expected):
    assert parse_time(text) == pytest.approx(expected, abs=1e-6)
    assert read_time(text) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("text", ["", "yesterday", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
                                  "2026-05-14T25:00:00Z", "2026-05-14T06:50:38+25:00", "2026-05-14T06:50:38.Z",
                                  "1e9", "2026-05-14T06:50:38ZZ", None, [], {}, True])
def test_what_is_not_a_time_is_none_or_a_value_error_never_another_exception(text):
    assert read_time(text) is None
    with pytest.raises(ValueError):
        parse_time(text)


def test_numbers_are_unix_times():
    assert parse_time(BASE) == BASE and parse_time(1.5) == 1.5


@given(st.integers(min_value=0, max_value=4102444800), st.sampled_from(["", ".0", ".000", ".000000"]),
       st.integers(min_value=-12, max_value=14))
def test_any_moment_written_with_any_offset_reads_back(seconds, fraction, hours):
    iso = iso_utc(seconds)
    assert parse_time(iso) == seconds
    shifted = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds + hours * 3600)) + fraction + \
        ("%s%02d:00" % ("+" if hours >= 0 else "-", abs(hours)))
    assert parse_time(shifted) == seconds
