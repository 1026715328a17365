"""A local HTTP server that streams generated clips to Kodi, as a video add-on's host would.

    with StreamServer(cache_dir) as streams:
        url = streams.clip_url("x.mp4", 400, user="user", password="secret", query="token=abc")
        ...                                  # Kodi plays url (e.g. resolved by plugin.video.simkltest)
        streams.requests_to("/stream/x.mp4") # what Kodi asked for: path, query, headers, status

Clips are made by media_library.make_clip (cached). Range requests are answered 206 (Kodi reads
and seeks with ranges); HEAD is answered too. `require_auth=(user, password)` answers requests
without that Basic Authorization with 401 and a Basic challenge, as a protected host would.
Binds 127.0.0.1 on a free port.
"""
import base64
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, List, Optional, Tuple
from urllib.parse import parse_qsl, quote, urlsplit

from .media_library import make_clip

STREAM_PREFIX = "/stream/"
CHUNK = 64 * 1024
RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@dataclass
class StreamRequest:
    method: str
    path: str
    query: Dict[str, str]
    raw_query: str
    headers: Dict[str, str]
    time: float
    status: int = 0


class StreamServer:
    def __init__(self, cache_dir: Path, require_auth: Optional[Tuple[str, str]] = None):
        self.cache_dir = Path(cache_dir)
        self.require_auth = require_auth
        self.requests: List[StreamRequest] = []
        self._files: Dict[str, Path] = {}  # name under /stream/ -> clip
        self._lock = threading.Lock()
        self._server: Optional[ThreadingHTTPServer] = None
        self.port = 0

    # -- life cycle ---------------------------------------------------------------------------
    def start(self) -> "StreamServer":
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_GET(self):
                server._handle(self, body=True)

            def do_HEAD(self):
                server._handle(self, body=False)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True  # Kodi keeps connections open; never wait for them
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "StreamServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- content ------------------------------------------------------------------------------
    @property
    def host_port(self) -> str:
        return "127.0.0.1:%d" % self.port

    def add_clip(self, name: str, seconds: int) -> str:
        """Serve a generated clip of that length at /stream/<name>; return the path."""
        clip = make_clip(self.cache_dir, seconds)
        with self._lock:
            self._files[name] = clip
        return STREAM_PREFIX + name

    def clip_url(self, name: str, seconds: int, user: Optional[str] = None, password: Optional[str] = None,
                 query: str = "") -> str:
        """add_clip, and the http URL of it, with user:password@ and ?query if given."""
        path = self.add_clip(name, seconds)
        credentials = ""
        if user is not None:
            credentials = quote(user, safe="") + (":" + quote(password, safe="") if password is not None else "") + "@"
        return "http://%s%s%s%s" % (credentials, self.host_port, path, "?" + query if query else "")

    # -- request log --------------------------------------------------------------------------
    def requests_to(self, path: str) -> List[StreamRequest]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def log_text(self) -> str:
        with self._lock:
            return "\n".join("%s %s%s -> %s Range=%s Authorization=%s" % (
                r.method, r.path, "?" + r.raw_query if r.raw_query else "", r.status, r.headers.get("Range", "-"),
                "yes" if "Authorization" in r.headers else "no") for r in self.requests)

    # -- serving ------------------------------------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler, body: bool) -> None:
        parts = urlsplit(handler.path)
        record = StreamRequest(handler.command, parts.path, dict(parse_qsl(parts.query)), parts.query,
                               dict(handler.headers.items()), time.time())
        with self._lock:
            self.requests.append(record)
            clip = self._files.get(parts.path[len(STREAM_PREFIX):]) if parts.path.startswith(STREAM_PREFIX) else None
        if self.require_auth and handler.headers.get("Authorization") != _basic(*self.require_auth):
            return self._empty(handler, record, 401, {"WWW-Authenticate": 'Basic realm="streams"'})
        if clip is None:
            return self._empty(handler, record, 404)
        size = clip.stat().st_size
        start, end = 0, size - 1
        status = 200
        wanted = handler.headers.get("Range")
        if wanted:
            match = RANGE.match(wanted.strip())
            if not match or not (match.group(1) or match.group(2)):
                return self._empty(handler, record, 416, {"Content-Range": "bytes */%d" % size})
            if match.group(1):
                start = int(match.group(1))
                end = min(int(match.group(2)), size - 1) if match.group(2) else size - 1
            else:  # bytes=-N: the last N bytes
                start = max(0, size - int(match.group(2)))
            if start >= size or start > end:
                return self._empty(handler, record, 416, {"Content-Range": "bytes */%d" % size})
            status = 206
        record.status = status
        handler.send_response(status)
        handler.send_header("Content-Type", "video/mp4")
        handler.send_header("Accept-Ranges", "bytes")
        handler.send_header("Content-Length", str(end - start + 1))
        if status == 206:
            handler.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, size))
        handler.end_headers()
        if not body:
            return
        try:
            with clip.open("rb") as source:
                source.seek(start)
                left = end - start + 1
                while left > 0:
                    data = source.read(min(CHUNK, left))
                    if not data:
                        break
                    handler.wfile.write(data)
                    left -= len(data)
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True  # Kodi seeks by dropping a connection and opening another

    @staticmethod
    def _empty(handler: BaseHTTPRequestHandler, record: StreamRequest, status: int,
               headers: Optional[Dict[str, str]] = None) -> None:
        record.status = status
        handler.send_response(status)
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", "0")
        handler.end_headers()


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode("utf-8")).decode("ascii")
