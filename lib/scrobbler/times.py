"""Times as Simkl writes them and as the queue stores them: ISO 8601, read the same on every Python
Kodi embeds. datetime.fromisoformat on Python 3.8-3.10 takes neither `Z` nor fractions other than 3
or 6 digits, and Simkl's answers carry 0, 3 or 6 digits, `Z` or an offset (simkl-api §8.3, §13)."""
import calendar
import re
import time
from typing import Optional, Union

ISO_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
UNKNOWN_TIME = "1970-01-01T00:00:01Z"  # Simkl's "watched, date unknown": may be sent, never shown

_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})"
                  r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
                  r"(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?")


def iso_utc(timestamp: float) -> str:
    """Unix time as ISO 8601 UTC, whole seconds: 2026-05-14T06:50:38Z."""
    return time.strftime(ISO_FORMAT, time.gmtime(int(timestamp)))


def parse_time(value: Union[float, int, str]) -> float:
    """Unix time from a number or an ISO 8601 string (no offset: UTC); ValueError when it is neither."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    moment = read_time(value)
    if moment is None:
        raise ValueError("not an ISO 8601 time: %r" % (value,))
    return moment


def read_time(value) -> Optional[float]:
    """Unix time from an ISO 8601 string; None for anything else (a malformed time, null, a number)."""
    if not isinstance(value, str):
        return None
    found = _ISO.fullmatch(value.strip())
    if found is None:
        return None
    year, month, day, hour, minute, second, fraction, _, sign, off_hours, off_minutes = found.groups()
    hour, minute, second = int(hour or 0), int(minute or 0), int(second or 0)
    month, day = int(month), int(day)
    if not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(int(year), month)[1]
            and hour < 24 and minute < 60 and second < 61):
        return None
    offset = 0
    if sign:
        off_hours, off_minutes = int(off_hours), int(off_minutes or 0)
        if off_hours > 23 or off_minutes > 59:
            return None
        offset = (off_hours * 3600 + off_minutes * 60) * (1 if sign == "+" else -1)
    seconds = calendar.timegm((int(year), month, day, hour, minute, second, 0, 0, 0))
    return seconds - offset + (int(fraction) / 10 ** len(fraction) if fraction else 0.0)
