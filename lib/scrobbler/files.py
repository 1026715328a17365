"""Small files in addon_data: a JSON object read as {} when it is missing or damaged, a file replaced whole
or not at all (a crash or a full disk leaves the old one), and a lock shared by Kodi's interpreters."""
import json
import os
import time

LOCK_STALE = 60.0  # seconds after which a lock is taken to be left behind by a killed interpreter


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
