"""Running the service: the management API and the device API (HTTPS, client certificates optional), served by
aiohttp on one event loop, plus a worker thread that runs long-running operations from the database.

Why aiohttp (docs/cloud.md "Running it in production"): uvicorn and hypercorn do not pass the client certificate
to the application; aiohttp's transport exposes the TLS object, so each request carries the DER of the client
certificate OpenSSL verified. Connections are asyncio transports, not threads: keep-alive is cheap, the number of
open connections is capped (MAX_CONNECTIONS; more are closed at accept), TLS handshakes and idle connections time
out, and the (synchronous) handlers run in a bounded thread pool (HANDLER_THREADS), so 800 slow sockets cost 800
small objects and no threads.

The device server asks for a client certificate (CERT_OPTIONAL, since a device attests before it has one) and
OpenSSL checks that a presented chain is signed up to the service root. Validity periods are judged by the
service's clock, not by OpenSSL's (which can only read the host's): the TLS layer sets X509_V_FLAG_NO_CHECK_TIME and
the application checks every certificate of the path against the service clock (CertificateService).
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as _dt
import ipaddress
import logging
import os
import socket
import ssl
import threading
from pathlib import Path
from typing import Callable

from aiohttp import web

from mt3620.clock import Now

from . import db, pki, reconcile
from .api.device import DeviceApi
from .api.management import ManagementApi
from .api.routing import Call, Reply, error_reply
from .domain import MANUFACTURING
from .services import Services
from .services.images import service_keystore
from .services.users import DEFAULT_TOKEN_LIFETIME

log = logging.getLogger("mt3620.cloud.server")
HANDSHAKE_TIMEOUT = 15.0
KEEPALIVE_TIMEOUT = 75.0        # an idle keep-alive connection is closed after this
MAX_CONNECTIONS = 1024          # per listener; further connections are closed at accept
HANDLER_THREADS = 16            # handlers run here; requests beyond wait in the event loop, not in threads
MAX_BODY = 64 * 1024 * 1024 + 1024
# OpenSSL's X509_V_FLAG_NO_CHECK_TIME (x509_vfy.h, OpenSSL >= 1.1.0): verify signatures and constraints but not the
# validity dates, which the service judges with its own clock. The ssl module passes verify_flags bits through.
X509_V_FLAG_NO_CHECK_TIME = 0x200000


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def management_over_tls(host: str, tls: bool | None, insecure_http: bool) -> bool:
    """Whether the management API is served over TLS: on loopback plain HTTP is the default; beyond loopback tokens
    would cross the network in clear, so TLS is the default and plain HTTP needs the explicit `insecure_http`."""
    if tls is None:
        tls = not is_loopback(host) and not insecure_http
    if not tls and not is_loopback(host) and not insecure_http:
        raise ValueError(f"refusing to serve the management API over plain HTTP on {host} (not loopback): serve it "
                         "over TLS (the default), or pass --insecure-http to accept tokens in clear")
    return tls


def default_data_dir() -> Path:
    env = os.environ.get("MT3620_CLOUD_DATA")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "mt3620" / "cloud"


def _new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's event loop when installed (the cloud extra installs it: its transports and TLS cost about half of
    asyncio's per request), else asyncio's."""
    if os.environ.get("MT3620_CLOUD_ASYNCIO") != "1":
        try:
            import uvloop
        except ImportError:
            pass
        else:
            return uvloop.new_event_loop()
    return asyncio.new_event_loop()


class _Refuse(asyncio.Protocol):
    """What a connection beyond MAX_CONNECTIONS gets: closed at once."""

    def connection_made(self, transport) -> None:
        transport.abort()


class Listener:
    """One aiohttp server on the shared loop: requests become `Call`s, run by `app` in the handler pool."""

    def __init__(self, app: Callable[[Call], Reply], host: str, port: int, tls: ssl.SSLContext | None,
                 pool: concurrent.futures.Executor, reuse_port: bool = False) -> None:
        self.app, self.host, self.port, self.tls, self.pool = app, host, port, tls, pool
        self.reuse_port = reuse_port
        self.server: asyncio.AbstractServer | None = None
        self.http: web.Server | None = None
        self.scheme = "https" if tls else "http"

    async def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self.http = web.Server(self._handle, loop=loop, keepalive_timeout=KEEPALIVE_TIMEOUT, access_log=None)

        def protocol():
            if len(self.http.connections) >= MAX_CONNECTIONS:
                return _Refuse()
            return self.http()
        self.server = await loop.create_server(protocol, self.host, self.port, ssl=self.tls, backlog=512,
                                               ssl_handshake_timeout=HANDSHAKE_TIMEOUT if self.tls else None,
                                               reuse_port=self.reuse_port or None)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.http.shutdown(2.0)
            await self.server.wait_closed()

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        try:
            body = await self._body(request)
        except _TooLarge:
            reply = error_reply(413, "PayloadTooLarge", "request body too large")
            return web.Response(status=413, body=reply.body, content_type="application/json")
        peer = None
        if self.tls is not None:
            sslobj = request.transport.get_extra_info("ssl_object") if request.transport else None
            peer = sslobj.getpeercert(binary_form=True) if sslobj is not None else None
        content_type = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        call = Call(request.method, request.path, dict(request.query), request.headers, body, content_type,
                    f"{self.scheme}://{request.host}", peer)
        reply = await asyncio.get_running_loop().run_in_executor(self.pool, self.app, call)
        response = web.Response(status=reply.status, body=reply.body, headers=reply.headers)
        if reply.content_type:
            response.content_type = reply.content_type
        return response

    @staticmethod
    async def _body(request: web.BaseRequest) -> bytes:
        if request.content_length is not None and request.content_length > MAX_BODY:
            raise _TooLarge()
        chunks, size = [], 0
        while True:
            chunk = await request.content.read(1 << 16)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > MAX_BODY:
                raise _TooLarge()
            chunks.append(chunk)


class _TooLarge(Exception):
    pass


class Service:
    """One service process: domain services, management and device listeners, operation worker."""

    def __init__(self, data_dir: str | os.PathLike | None = None, url: str | None = None, host: str = "127.0.0.1",
                 port: int = 0, device_port: int = 0, now: Now | None = None,
                 action_timeout: _dt.timedelta = reconcile.DEFAULT_ACTION_TIMEOUT,
                 keystore_dir: str | os.PathLike | None = None, worker: bool = True,
                 token_lifetime: _dt.timedelta = DEFAULT_TOKEN_LIFETIME,
                 kek_file: str | os.PathLike | None = None, management_tls: bool | None = None,
                 insecure_http: bool = False, reuse_port: bool = False) -> None:
        """`reuse_port`: several processes listen on the same ports (SO_REUSEPORT; the kernel spreads connections),
        as `mt3620 cloud serve --processes N` runs them."""
        self.data_dir = Path(data_dir) if data_dir else default_data_dir()
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)    # keys, tokens, the database: nobody else's business
        self.url = url or db.sqlite_url(self.data_dir)
        keystore = service_keystore(keystore_dir or self.data_dir / "keystore")
        self.services = Services(self.url, now=now, action_timeout=action_timeout,
                                 keystore=keystore, token_lifetime=token_lifetime,
                                 kek_file=kek_file)
        self.now = self.services.now    # the service clock: what every date the service issues or judges is relative to
        self.host, self.port, self.device_port = host, port, device_port
        self.reuse_port = reuse_port
        self.management_tls = management_over_tls(host, management_tls, insecure_http)
        self.with_worker = worker
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self.mgmt: Listener | None = None
        self.device: Listener | None = None
        self.admin_token: str | None = None
        self.tls_certificate_pem: str | None = None   # the device endpoint's certificate, once started

    def _tls_context(self, client_certificates: bool = True) -> ssl.SSLContext:
        """The device endpoint's context (client certificates optional), or with `client_certificates` False the
        management API's (server authentication only)."""
        cert_pem, key_pem = self.services.certificates.server_certificate(self.host)
        self.tls_certificate_pem = cert_pem
        tls_dir = self.data_dir / "tls"
        tls_dir.mkdir(mode=0o700, exist_ok=True)
        cert_file, key_file = tls_dir / f"server-{os.getpid()}.pem", tls_dir / f"server-{os.getpid()}.key"
        cert_file.write_text(cert_pem)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key_pem)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            ctx.load_cert_chain(cert_file, key_file)
        finally:
            cert_file.unlink()
            key_file.unlink()
        if not client_certificates:
            return ctx
        ctx.load_verify_locations(cadata=pki.pem(self.services.certificates.root()))
        ctx.verify_mode = ssl.CERT_OPTIONAL
        ctx.verify_flags |= X509_V_FLAG_NO_CHECK_TIME   # dates: CertificateService, by the service clock
        return ctx

    # ---- life cycle -----------------------------------------------------------------------------------------
    def bootstrap_admin(self) -> str | None:
        """On an empty database, make user 'admin' (with the Manufacturing service role, so a fresh service can
        enrol its first devices) and write its token to <data>/admin.token (mode 0600)."""
        if self.services.users.count():
            return None
        try:
            _, token = self.services.users.create("admin", roles=(MANUFACTURING,))
        except Exception:  # noqa: BLE001 - another process bootstrapped concurrently
            return None
        path = self.data_dir / "admin.token"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(token + "\n")
        self.admin_token = token
        return token

    def start(self) -> "Service":
        self.services.initialise()
        self.bootstrap_admin()
        # The service root, public: what management clients (login --ca-file) and devices (--root-ca) trust.
        fd = os.open(self.data_dir / "rootca.pem", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(pki.pem(self.services.certificates.root()))
        self._pool = concurrent.futures.ThreadPoolExecutor(HANDLER_THREADS, thread_name_prefix="mt3620-cloud-handler")
        self.mgmt = Listener(ManagementApi(self.services, self._wake.set), self.host, self.port,
                             self._tls_context(client_certificates=False) if self.management_tls else None, self._pool,
                             self.reuse_port)
        self.device = Listener(DeviceApi(self.services), self.host, self.device_port, self._tls_context(), self._pool,
                               self.reuse_port)
        self._loop = _new_event_loop()
        started = concurrent.futures.Future()
        t = threading.Thread(target=self._serve, args=(started,), name="mt3620-cloud-loop", daemon=True)
        t.start()
        self._threads.append(t)
        started.result(timeout=30)   # raises what the listeners raised (e.g. the port is taken)
        if self.with_worker:
            t = threading.Thread(target=self._worker, name="mt3620-cloud-worker", daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def _serve(self, started: concurrent.futures.Future) -> None:
        loop = self._loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self.mgmt.start(loop))
            loop.run_until_complete(self.device.start(loop))
        except BaseException as exc:  # noqa: BLE001 - handed to start()
            started.set_exception(exc)
            loop.close()
            return
        started.set_result(True)
        try:
            loop.run_forever()
            loop.run_until_complete(self.mgmt.stop())
            loop.run_until_complete(self.device.stop())
        finally:
            loop.close()

    def _worker(self) -> None:
        while not self._stop.is_set():
            try:
                self.services.devices.flush_touches()
                while self.services.operations.run_next() and not self._stop.is_set():
                    pass
            except Exception:  # noqa: BLE001 - the worker must survive a database hiccup
                log.exception("operation worker error")
            self._wake.wait(1.0)   # woken at once by a new local operation; polls for other processes' ones
            self._wake.clear()

    def stop(self) -> None:
        if self._stop.is_set():
            return   # already stopped
        self._stop.set()
        self._wake.set()
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._loop.stop)
        for t in self._threads:
            t.join(timeout=10)
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        try:
            self.services.devices.flush_touches()
        except Exception:  # noqa: BLE001 - stopping goes on; last-seen times are bookkeeping
            log.exception("last-seen times not written at stop")
        self.services.close()

    @property
    def mgmt_url(self) -> str:
        return f"{self.mgmt.scheme}://{_fmt_host(self.host)}:{self.mgmt.port}"

    @property
    def device_url(self) -> str:
        return f"https://{_fmt_host(self.host)}:{self.device.port}"

    def __enter__(self) -> "Service":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _fmt_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]
