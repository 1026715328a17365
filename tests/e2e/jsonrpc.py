"""Kodi JSON-RPC over TCP: calls with answers, and every notification kept so tests can wait for one."""
import codecs
import itertools
import json
import socket
import threading
import time
from typing import Any, Callable, Dict, List, Optional


class JsonRpcError(Exception):
    """Kodi answered a call with an error object, or the connection broke."""


class Notification:
    def __init__(self, method: str, data: Any, received: float):
        self.method = method
        self.data = data
        self.received = received

    def __repr__(self):
        return "Notification(%s, %r)" % (self.method, self.data)


class JsonRpc:
    """One TCP connection to Kodi. Kodi sends bare JSON objects one after another, no framing."""

    def __init__(self, port: int, host: str = "127.0.0.1", connect_timeout: float = 5):
        self._sock = socket.create_connection((host, port), timeout=connect_timeout)
        self._sock.settimeout(None)
        self._ids = itertools.count(1)
        self._cond = threading.Condition()
        self._answers: Dict[int, dict] = {}
        self._closed: Optional[str] = None
        self.notifications: List[Notification] = []
        self._reader = threading.Thread(target=self._read_loop, name="kodi-jsonrpc", daemon=True)
        self._reader.start()

    def close(self) -> None:
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()
        self._reader.join(5)

    @property
    def closed(self) -> bool:
        return self._closed is not None

    def call(self, method: str, params: Optional[dict] = None, timeout: float = 30) -> Any:
        """Send one request and return its result; raise JsonRpcError on an error answer."""
        request_id = next(self._ids)
        message = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        try:
            self._sock.sendall(json.dumps(message).encode("utf-8"))
        except OSError as exc:
            raise JsonRpcError("%s: cannot send: %s" % (method, exc)) from exc
        with self._cond:
            if not self._cond.wait_for(lambda: request_id in self._answers or self.closed, timeout):
                raise JsonRpcError("%s: no answer within %ss" % (method, timeout))
            if request_id not in self._answers:
                raise JsonRpcError("%s: connection closed (%s)" % (method, self._closed))
            answer = self._answers.pop(request_id)
        if "error" in answer:
            raise JsonRpcError("%s %s: %s" % (method, json.dumps(params), json.dumps(answer["error"])))
        return answer.get("result")

    def mark(self) -> int:
        """A position in the notification list; pass it as `since` to ignore what came before."""
        with self._cond:
            return len(self.notifications)

    def wait_for(self, method: str, since: int = 0, timeout: float = 30,
                 where: Optional[Callable[[Any], bool]] = None) -> Notification:
        """The first notification `method` at or after position `since` whose data passes `where`, waiting
        for it; raise TimeoutError naming the notifications that did arrive."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for item in self.notifications[since:]:
                    if item.method == method and (where is None or where(item.data)):
                        return item
                since = len(self.notifications)
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    seen = ", ".join(n.method for n in self.notifications[-15:])
                    reason = "connection closed" if self.closed else "timed out after %ss" % timeout
                    raise TimeoutError("no %s notification: %s; last seen: %s" % (method, reason, seen))
                self._cond.wait(left)

    def _read_loop(self) -> None:
        decoder = json.JSONDecoder()
        text = codecs.getincrementaldecoder("utf-8")(errors="replace")
        buffer = ""
        reason = "closed by Kodi"
        try:
            while True:
                chunk = self._sock.recv(65536)
                if not chunk:
                    break
                buffer += text.decode(chunk)
                while True:
                    buffer = buffer.lstrip()
                    if not buffer:
                        break
                    try:
                        message, end = decoder.raw_decode(buffer)
                    except ValueError:
                        break  # incomplete object: wait for more bytes
                    buffer = buffer[end:]
                    self._dispatch(message)
        except OSError as exc:
            reason = str(exc)
        with self._cond:
            self._closed = reason
            self._cond.notify_all()

    def _dispatch(self, message: dict) -> None:
        with self._cond:
            if "id" in message and ("result" in message or "error" in message):
                self._answers[message["id"]] = message
            elif "method" in message:
                params = message.get("params") or {}
                self.notifications.append(Notification(message["method"], params.get("data"), time.monotonic()))
            self._cond.notify_all()
