"""Small files in addon_data (lib/scrobbler/files.py): read safely, replaced whole, locked across interpreters."""
import errno
import os
import shutil
import sqlite3
import stat
import sys

import pytest

from lib.scrobbler.files import LOCK_STALE, FileLock, disk_full, read_json, write_json
from scenario import sqlite_error_saying_full, sqlite_full_error

SQLITE_CODES = pytest.mark.skipif(sys.version_info < (3, 11), reason="sqlite3 errors carry SQLite's code from 3.11")


@pytest.mark.parametrize("content", [None, b"", b"{\"half\": ", b"[1, 2]", b"\xff\xfe"])
def test_a_missing_damaged_or_foreign_file_reads_as_an_empty_object(tmp_path, content):
    path = tmp_path / "state.json"
    if content is not None:
        path.write_bytes(content)

    assert read_json(str(path)) == {}


def test_a_written_file_reads_back_and_leaves_nothing_beside_it(tmp_path):
    path = str(tmp_path / "state.json")
    write_json(path, {"a": 1})
    write_json(path, {"b": [2, "é"]})

    assert read_json(path) == {"b": [2, "é"]}
    assert os.listdir(str(tmp_path)) == ["state.json"]


def test_a_private_file_is_the_owners_alone(tmp_path):
    path = str(tmp_path / "token.json")
    write_json(path, {"access_token": "x"}, private=True)

    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_a_write_that_cannot_finish_leaves_the_old_file(tmp_path):
    path = str(tmp_path / "state.json")
    write_json(path, {"old": True})
    os.mkdir(path + ".tmp")  # the new content cannot be written beside it

    with pytest.raises(OSError):
        write_json(path, {"new": True})
    assert read_json(path) == {"old": True}


def test_the_lock_waits_for_its_holder_and_takes_over_one_left_behind(tmp_path):
    now = [1000.0]
    path = str(tmp_path / "x.lock")
    waits = []
    with FileLock(path, clock=lambda: now[0]):
        with pytest.raises(TimeoutError):
            with FileLock(path, timeout=0.3, clock=lambda: now[0], sleep=lambda s: (waits.append(s),
                                                                                      now.__setitem__(0, now[0] + s))):
                pass
    assert waits and not os.path.exists(path)

    os.mkdir(path)  # a killed interpreter's lock
    os.utime(path, (0, 0))
    with FileLock(path, clock=lambda: LOCK_STALE + 1.0, sleep=lambda s: pytest.fail("waited for a stale lock")):
        assert os.path.isdir(path)
    assert not os.path.exists(path)


# --- a full disk, known by its code ----------------------------------------------------------------------

@SQLITE_CODES
def test_a_sqlite_file_that_cannot_grow_is_a_full_disk_by_sqlites_code(tmp_path):
    exc = sqlite_full_error(str(tmp_path))
    assert exc.sqlite_errorcode == sqlite3.SQLITE_FULL
    assert disk_full(exc, str(tmp_path))


@SQLITE_CODES
def test_a_sqlite_error_whose_words_say_full_is_not_a_full_disk(tmp_path):
    exc = sqlite_error_saying_full(str(tmp_path))
    assert "full" in str(exc)
    assert not disk_full(exc, str(tmp_path))


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
def test_a_write_to_a_full_device_is_a_full_disk_by_its_errno():
    with pytest.raises(OSError) as caught:
        with open("/dev/full", "wb") as handle:
            handle.write(b"x")
    assert caught.value.errno == errno.ENOSPC
    assert disk_full(caught.value)


def test_another_os_error_is_not_a_full_disk(tmp_path):
    with pytest.raises(OSError) as caught:
        open(str(tmp_path / "missing" / "state.json"), encoding="utf-8")
    assert not disk_full(caught.value, str(tmp_path))


def test_before_python_3_11_the_room_left_on_the_disk_decides(tmp_path):
    """Python 3.8-3.10 raise sqlite3 errors without SQLite's code: then the free space where the file lives
    decides, never the words."""
    exc = sqlite3.OperationalError("database or disk is full")  # as Python 3.8 raises it: no sqlite_errorcode
    assert getattr(exc, "sqlite_errorcode", None) is None
    free = shutil.disk_usage(str(tmp_path)).free

    assert not disk_full(exc, str(tmp_path))  # this disk has room
    assert disk_full(exc, str(tmp_path), room=free + 2 ** 30)  # less free than a write needs
    assert not disk_full(exc, str(tmp_path / "gone"), room=free + 2 ** 30)  # nothing to measure: not told
    assert not disk_full(sqlite3.IntegrityError("UNIQUE constraint failed"), str(tmp_path), room=free + 2 ** 30)
