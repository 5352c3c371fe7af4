"""Real servers on the host's loopback for the network tests: a TCP line echo (optionally TLS), a UDP echo.
Each runs in a host thread with bounded waits and stops when the test ends (the emulator itself never uses
threads; the servers are the outside world)."""
from __future__ import annotations

import socket
import ssl
import threading


class TcpEcho:
    """Echoes whatever arrives (byte for byte) on each accepted connection; `tls` wraps it in TLS; a `silent` one
    takes the bytes and never answers."""

    def __init__(self, tls: ssl.SSLContext | None = None, prefix: bytes = b"", silent: bool = False) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.tls, self.prefix, self.silent = tls, prefix, silent
        self.stop = threading.Event()
        self.connections = 0
        self.received = bytearray()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except (socket.timeout, OSError):
                continue
            self.connections += 1
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    def _echo(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            while not self.stop.is_set():
                data = conn.recv(65536)
                if not data:
                    break
                self.received += data
                if self.silent:
                    continue
                conn.sendall(self.prefix + data if self.prefix and data.endswith(b"\n") else data)
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.listener.close()
        self.thread.join(timeout=2)


class UdpEcho:
    def __init__(self, prefix: bytes = b"echo: ") -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.prefix = prefix
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                data, peer = self.sock.recvfrom(65536)
            except (socket.timeout, OSError):
                continue
            self.sock.sendto(self.prefix + data, peer)

    def close(self) -> None:
        self.stop.set()
        self.sock.close()
        self.thread.join(timeout=2)


def unused_port() -> int:
    """A loopback port nothing listens on (bound and released: connections to it are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
