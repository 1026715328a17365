"""A static web host on 127.0.0.1 for a Kodi repository folder (what GitHub Pages is for the real one).

    with RepoServer(folder) as host:
        host.url                     # http://127.0.0.1:PORT/
        host.requests_to("/addons.xml")  # [(method, path, status), ...] as Kodi asked

GET and HEAD of the folder's files, with byte ranges (Kodi reads a zip's directory from its end with a
range, as it does from any web host); a folder's index.html for the folder itself; 404 otherwise.
"""
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import List, Optional, Tuple
from urllib.parse import unquote, urlsplit

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
TYPES = {".xml": "text/xml", ".md5": "text/plain", ".sha256": "text/plain", ".zip": "application/zip",
         ".html": "text/html; charset=utf-8", ".png": "image/png", ".jpg": "image/jpeg", ".txt": "text/plain"}


class RepoServer:
    def __init__(self, folder: Path):
        self.folder = Path(folder).resolve()
        self.requests: List[Tuple[str, str, int]] = []
        self._lock = threading.Lock()
        self._server: Optional[ThreadingHTTPServer] = None
        self.port = 0

    @property
    def url(self) -> str:
        return "http://127.0.0.1:%d/" % self.port

    def __enter__(self) -> "RepoServer":
        host = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                host._answer(self, body=True)

            def do_HEAD(self):
                host._answer(self, body=False)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, name="repo-server", daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def requests_to(self, path: str) -> List[Tuple[str, str, int]]:
        with self._lock:
            return [request for request in self.requests if request[1] == path]

    def _answer(self, handler: BaseHTTPRequestHandler, body: bool) -> None:
        path = unquote(urlsplit(handler.path).path)
        target = (self.folder / path.lstrip("/")).resolve()
        if target.is_dir():
            target = target / "index.html"
        if self.folder not in target.parents or not target.is_file():
            self._record(handler, path, 404)
            handler.send_response(404)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        data = target.read_bytes()
        status, start, end = 200, 0, len(data) - 1
        match = RANGE.match(handler.headers.get("Range", ""))
        if match and data and (match.group(1) or match.group(2)):
            if match.group(1):
                start = int(match.group(1))
                end = min(int(match.group(2)), end) if match.group(2) else end
            else:
                start = max(0, len(data) - int(match.group(2)))
            status = 206
        self._record(handler, path, status)
        handler.send_response(status)
        handler.send_header("Content-Type", TYPES.get(target.suffix, "application/octet-stream"))
        handler.send_header("Accept-Ranges", "bytes")
        handler.send_header("Content-Length", str(end - start + 1))
        if status == 206:
            handler.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, len(data)))
        handler.end_headers()
        if body:
            handler.wfile.write(data[start:end + 1])

    def _record(self, handler: BaseHTTPRequestHandler, path: str, status: int) -> None:
        with self._lock:
            self.requests.append((handler.command, path, status))
