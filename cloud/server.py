"""Running the service: the management API (HTTP) and the device API (HTTPS with optional client certificates),
plus a worker thread that runs long-running operations from the database.

uvicorn and hypercorn do not pass the client certificate to the application (DESIGN.md), so the device endpoint
uses werkzeug's threaded WSGI server with the standard library's ssl: the handshake runs in the connection's own
thread (a slow client cannot stall the accept loop), the server asks for a client certificate (CERT_OPTIONAL,
since a device attests before it has one) and OpenSSL checks that the presented chain is signed up to the service
root; werkzeug hands the verified leaf to the app as SSL_CLIENT_CERT.

Validity periods are judged by the service's clock, not by OpenSSL: OpenSSL can only compare with the host's wall
clock, and a service whose clock is injected (tests, `serve --clock`) issues certificates dated by that clock.
The TLS layer therefore sets X509_V_FLAG_NO_CHECK_TIME and the application checks every certificate of the path
(device certificate, tenant CA, intermediate, root) against `Store.now()` (Store.authenticate_device).
"""
from __future__ import annotations

import datetime as _dt
import ipaddress
import logging
import os
import socket
import ssl
import threading
from pathlib import Path
from typing import Callable

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from . import db, pki, reconcile
from .api import DeviceApp, ManagementApp
from .store import Store

log = logging.getLogger("mt3620.cloud.server")
UTC = _dt.timezone.utc
HANDSHAKE_TIMEOUT = 15.0
IDLE_TIMEOUT = 60.0
POLL_INTERVAL = 0.1          # how soon serve_forever notices stop() (socketserver's default 0.5 s made every stop 1 s)
# OpenSSL's X509_V_FLAG_NO_CHECK_TIME (x509_vfy.h, OpenSSL >= 1.1.0): verify signatures and constraints but not the
# validity dates, which the service judges with its own clock. The ssl module passes verify_flags bits through.
X509_V_FLAG_NO_CHECK_TIME = 0x200000
SERVER_CERT_LIFETIME = 5 * 365 * pki.DAY
SERVER_CERT_RENEW_BEFORE = 30 * pki.DAY


def default_data_dir() -> Path:
    env = os.environ.get("MT3620_CLOUD_DATA")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "mt3620" / "cloud"


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code="-", size="-"):
        log.debug("%s %s %s", self.command, self.path, code)

    def log_error(self, format, *args):  # noqa: A002
        log.debug(format, *args)


class _Server(ThreadedWSGIServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, host: str, port: int, app, tls: ssl.SSLContext | None) -> None:
        super().__init__(host, port, app, handler=_QuietHandler)
        self.tls = tls
        self.ssl_context = tls   # werkzeug reads it for wsgi.url_scheme; we wrap sockets ourselves

    def process_request_thread(self, request, client_address):
        try:
            # Headers and body leave in separate writes: without NODELAY, Nagle plus the client's delayed ACK
            # add ~40 ms to every keep-alive response.
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            request.settimeout(HANDSHAKE_TIMEOUT)
            if self.tls is not None:
                request = self.tls.wrap_socket(request, server_side=True)
            request.settimeout(IDLE_TIMEOUT)
        except (OSError, ssl.SSLError) as exc:
            # Refused certificate (expired, self-signed, unknown CA) or a client that went away.
            log.info("TLS handshake with %s failed: %s", client_address[0], exc)
            try:
                request.close()
            except OSError:
                pass
            return
        super().process_request_thread(request, client_address)

    def handle_error(self, request, client_address):
        log.debug("connection error from %s", client_address, exc_info=True)


class Service:
    """One service process: store, management server, device server and operation worker."""

    def __init__(self, data_dir: str | os.PathLike | None = None, url: str | None = None, host: str = "127.0.0.1",
                 port: int = 0, device_port: int = 0, now: Callable[[], _dt.datetime] | None = None,
                 action_timeout: _dt.timedelta = reconcile.DEFAULT_ACTION_TIMEOUT,
                 keystore_dir: str | os.PathLike | None = None, worker: bool = True) -> None:
        self.data_dir = Path(data_dir) if data_dir else default_data_dir()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.url = url or db.sqlite_url(self.data_dir)
        from .images import make_inspector, service_keystore
        keystore = service_keystore(keystore_dir or self.data_dir / "keystore")
        self.store = Store(self.url, now=now, action_timeout=action_timeout, image_inspector=make_inspector(keystore))
        self.now = self.store.now    # the service clock: what every date the service issues or judges is relative to
        self.host, self.port, self.device_port = host, port, device_port
        self.with_worker = worker
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.mgmt_server: _Server | None = None
        self.device_server: _Server | None = None
        self.admin_token: str | None = None
        self.tls_certificate_pem: str | None = None   # the device endpoint's certificate, once started

    # ---- TLS ------------------------------------------------------------------------------------------------
    def _server_certificate(self) -> tuple[str, str]:
        """The device endpoint's TLS certificate, issued by the service root for the listen address, made once
        and shared by every process on the database; remade when the service clock finds it outside its validity
        period or within SERVER_CERT_RENEW_BEFORE of its end."""
        name = f"tls-server:{self.host}"
        now = self.store.now()
        with self.store.engine.connect() as c:
            row = c.execute(select(db.service_secrets).where(db.service_secrets.c.name == name)).first()
        stale = row is not None and not _valid_through(pki.load_pem(row.cert_pem), now, SERVER_CERT_RENEW_BEFORE)
        if row is None or stale:
            root, _ = self.store._service_cas()
            key = pki.new_key()
            sans: list[x509.GeneralName] = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            try:
                ip = ipaddress.ip_address(self.host)
                if str(ip) != "127.0.0.1":
                    sans.append(x509.IPAddress(ip))
            except ValueError:
                sans.append(x509.DNSName(self.host))
            cert = (x509.CertificateBuilder()
                    .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "MT3620 emulator device endpoint")]))
                    .issuer_name(root.cert.subject).public_key(key.public_key())
                    .serial_number(x509.random_serial_number())
                    .not_valid_before(now - pki.BACKDATE).not_valid_after(now + SERVER_CERT_LIFETIME)
                    .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                    .add_extension(x509.SubjectAlternativeName(sans), critical=False)
                    .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                    .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root.key.public_key()),
                                   critical=False)
                    .sign(root.key, hashes.SHA256()))
            made = pki.CertKey(cert, key)
            try:
                with self.store.engine.connect().execution_options(mt_write=True) as c, c.begin():
                    values = dict(cert_pem=made.cert_pem(), key_pem=made.key_pem(), created_at=now)
                    if stale:   # another process may renew at the same time: either certificate is valid
                        c.execute(update(db.service_secrets).where(db.service_secrets.c.name == name).values(**values))
                    else:
                        c.execute(insert(db.service_secrets).values(name=name, **values))
            except IntegrityError:
                pass
            with self.store.engine.connect() as c:
                row = c.execute(select(db.service_secrets).where(db.service_secrets.c.name == name)).first()
        return row.cert_pem, row.key_pem

    def _tls_context(self) -> ssl.SSLContext:
        cert_pem, key_pem = self._server_certificate()
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
        ctx.load_cert_chain(cert_file, key_file)
        cert_file.unlink()
        key_file.unlink()
        ctx.load_verify_locations(cadata=pki.pem(self.store.root_certificate()))
        ctx.verify_mode = ssl.CERT_OPTIONAL
        ctx.verify_flags |= X509_V_FLAG_NO_CHECK_TIME   # dates: Store.authenticate_device, by the service clock
        return ctx

    # ---- life cycle -----------------------------------------------------------------------------------------
    def bootstrap_admin(self) -> str | None:
        """On an empty database, make user 'admin' and write its token to <data>/admin.token (mode 0600)."""
        if self.store.user_count():
            return None
        try:
            _, token = self.store.create_user("admin")
        except Exception:  # noqa: BLE001 - another process bootstrapped concurrently
            return None
        path = self.data_dir / "admin.token"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(token + "\n")
        self.admin_token = token
        return token

    def start(self) -> "Service":
        self.store.initialise()
        self.bootstrap_admin()
        self.mgmt_server = _Server(self.host, self.port, ManagementApp(self.store, self._wake.set), None)
        self.device_server = _Server(self.host, self.device_port, DeviceApp(self.store), self._tls_context())
        for name, server in (("mgmt", self.mgmt_server), ("device", self.device_server)):
            t = threading.Thread(target=server.serve_forever, args=(POLL_INTERVAL,), name=f"mt3620-cloud-{name}",
                                 daemon=True)
            t.start()
            self._threads.append(t)
        if self.with_worker:
            t = threading.Thread(target=self._worker, name="mt3620-cloud-worker", daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def _worker(self) -> None:
        while not self._stop.is_set():
            try:
                while self.store.run_next_operation() and not self._stop.is_set():
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
        for server in (self.mgmt_server, self.device_server):
            if server is not None:
                server.shutdown()
                server.server_close()
        for t in self._threads:
            t.join(timeout=10)
        self.store.close()

    @property
    def mgmt_url(self) -> str:
        return f"http://{_fmt_host(self.host)}:{self.mgmt_server.server_port}"

    @property
    def device_url(self) -> str:
        return f"https://{_fmt_host(self.host)}:{self.device_server.server_port}"

    def __enter__(self) -> "Service":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _valid_through(cert: x509.Certificate, now: _dt.datetime, margin: _dt.timedelta) -> bool:
    """True when `cert` is valid at `now` and still `margin` later."""
    return cert.not_valid_before_utc <= now and now + margin < cert.not_valid_after_utc


def _fmt_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]
