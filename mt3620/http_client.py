"""One HTTP client for every client of the security service: the azsphere-shaped CLI (management API, bearer
token) and the device side (device API, mutual TLS). JSON in and out, one keep-alive connection per client,
errors as `HttpError` with the status and the service's `{Code, Message}` (or `{Result, Reason, Message}`) body.

A connection the server closed while it sat idle (keep-alive time-out) is replaced once, transparently, when the
request fails before any answer arrived on that reused connection; a fresh connection that fails raises.
`on_connect(connection)` runs right after each TLS handshake, before any request (the device judges the server
certificate's dates there by its own clock).
"""
from __future__ import annotations

import http.client
import json as _json
import socket
import ssl
import urllib.parse
from dataclasses import dataclass
from typing import Any, Callable


class HttpError(Exception):
    """The service answered with an error status. `reason` is the body's Reason (device attestation) or Code."""

    def __init__(self, status: int, body: dict, method: str = "", path: str = "") -> None:
        self.status, self.body, self.method, self.path = status, body, method, path
        self.reason = body.get("Reason") or body.get("Code")
        super().__init__(f"HTTP {status}: {self.reason}: {body.get('Message')}")


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

    def json(self) -> Any:
        return _json.loads(self.body) if self.body else None


_STALE = (http.client.RemoteDisconnected, http.client.BadStatusLine, ConnectionResetError, BrokenPipeError,
          ConnectionAbortedError)


class HttpClient:
    def __init__(self, base_url: str, *, headers: dict[str, str] | None = None, tls: ssl.SSLContext | None = None,
                 timeout: float = 30.0, on_connect: Callable[[http.client.HTTPConnection], None] | None = None) -> None:
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.scheme, self.host = parts.scheme, parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.prefix = parts.path.rstrip("/")
        self.headers = dict(headers or {})
        self.tls = tls if parts.scheme == "https" else None
        if parts.scheme == "https" and self.tls is None:
            self.tls = ssl.create_default_context()
        self.timeout = timeout
        self.on_connect = on_connect
        self._conn: http.client.HTTPConnection | None = None

    def _connect(self) -> http.client.HTTPConnection:
        if self.tls is not None:
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout,
                                                                            context=self.tls)
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        conn.connect()
        # Headers and body leave in separate writes: without NODELAY, Nagle and the peer's delayed ACK add ~40 ms.
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.on_connect is not None:
            try:
                self.on_connect(conn)
            except BaseException:
                conn.close()
                raise
        return conn

    def request(self, method: str, path: str, *, json: Any = None, data: bytes | None = None,
                content_type: str | None = None, query: dict | None = None,
                headers: dict[str, str] | None = None) -> Answer:
        """One request; any status comes back as an Answer (see `call` for errors as exceptions)."""
        target = self.prefix + path
        if query:
            target += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        hdrs = dict(self.headers, **(headers or {}))
        body = None
        if json is not None:
            body, hdrs["Content-Type"] = _json.dumps(json).encode(), "application/json"
        elif data is not None:
            body, hdrs["Content-Type"] = data, content_type or "application/octet-stream"
        for attempt in (0, 1):
            reused = self._conn is not None
            if self._conn is None:
                self._conn = self._connect()
            conn = self._conn
            try:
                conn.request(method, target, body=body, headers=hdrs)
                resp = conn.getresponse()
                payload = resp.read()
            except _STALE:
                self.close()
                if reused and attempt == 0:
                    continue   # the server closed the idle connection before reading this request: send it anew
                raise
            except (http.client.HTTPException, OSError):
                self.close()
                raise
            if resp.will_close:
                self.close()
            return Answer(resp.status, resp.headers, payload)
        raise AssertionError("unreachable")  # pragma: no cover

    def call(self, method: str, path: str, **kw) -> Any:
        """JSON answers parsed, other answers as bytes; an error status raises HttpError."""
        answer = self.request(method, path, **kw)
        is_json = answer.content_type.startswith("application/json")
        if answer.status >= 400:
            body: dict = {}
            if is_json:
                try:
                    parsed = answer.json()
                    body = parsed if isinstance(parsed, dict) else {"Message": str(parsed)}
                except ValueError:
                    pass
            if not body:
                body = {"Message": answer.body[:200].decode(errors="replace")}
            raise HttpError(answer.status, body, method, path)
        if is_json:
            return answer.json()
        return answer.body

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
