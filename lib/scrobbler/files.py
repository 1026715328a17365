"""Small files in addon_data: a JSON object read as {} when it is missing or damaged, a file replaced whole
or not at all (a crash or a full disk leaves the old one), a lock shared by Kodi's interpreters, and whether
a failed write met a full disk."""
import errno
import json
import os
import shutil
import sys
import time
from typing import Optional

LOCK_STALE = 60.0  # seconds after which a lock is taken to be left behind by a killed interpreter
ROOM = 1 << 20  # bytes: with less free space a failed sqlite write is taken to have met a full disk


def read_json(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_json(path: str, data: dict, private: bool = False) -> None:
    replace_file(path, json.dumps(data).encode("utf-8"), private)


def replace_file(path: str, content: bytes, private: bool = False) -> None:
    """Write `content` beside `path`, flush it to the disk, then rename it over `path`. `private`: only the
    user may read it (a token)."""
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o666)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    if private:
        try:
            os.chmod(path, 0o600)
        except OSError:
            pass  # some Android and Windows file systems have no modes


class FileLock:
    """A cross-process lock that works on every Kodi platform: mkdir is atomic everywhere."""

    def __init__(self, path: str, timeout: float = 30.0, clock=time.time, sleep=time.sleep):
        self.path, self.timeout, self._clock, self._sleep = path, timeout, clock, sleep

    def __enter__(self):
        deadline = self._clock() + self.timeout
        while True:
            try:
                os.mkdir(self.path)
                return self
            except FileExistsError:
                try:
                    if self._clock() - os.path.getmtime(self.path) > LOCK_STALE:
                        os.rmdir(self.path)  # left behind by a killed interpreter
                        continue
                except OSError:
                    continue
                if self._clock() > deadline:
                    raise TimeoutError("lock busy: %s" % os.path.basename(self.path)) from None
                self._sleep(0.1)

    def __exit__(self, *exc):
        try:
            os.rmdir(self.path)
        except OSError:
            pass


def disk_full(exc: BaseException, folder: Optional[str] = None, room: int = ROOM) -> bool:
    """Whether `exc` says the disk has no room: an OSError by its errno, a sqlite3 error by SQLite's result
    code (Python 3.11+). Before Python 3.11 a sqlite3 error carries no code: then an OperationalError (the
    class SQLITE_FULL raises) is one when `folder`'s disk has less than `room` bytes free."""
    if isinstance(exc, OSError):
        return exc.errno == errno.ENOSPC
    sqlite3 = sys.modules.get("sqlite3")  # a sqlite3 error means it is loaded; never load it for this
    if sqlite3 is None or not isinstance(exc, sqlite3.Error):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF == sqlite3.SQLITE_FULL  # the primary code of an extended one
    if not isinstance(exc, sqlite3.OperationalError) or folder is None:
        return False
    try:
        return shutil.disk_usage(folder).free < room
    except OSError:
        return False
