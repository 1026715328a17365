"""Small files in addon_data (lib/scrobbler/files.py): read safely, replaced whole, locked across interpreters."""
import os
import stat

import pytest

from lib.scrobbler.files import LOCK_STALE, FileLock, read_json, write_json


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
