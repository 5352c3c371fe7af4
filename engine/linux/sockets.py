"""Sockets: the generic part of socket(2) and friends; address families are plugged in by the OS layer.

    kernel.socket_families[AF_NUMBER] = factory          # factory(ctx: OpenContext, type, protocol) -> SocketFile

A SocketFile is an OpenFile (so read/write/poll/select/epoll and blocking work as for any file) with the socket
operations below; each raises LinuxError(errno) or WouldBlock (the syscall layer turns WouldBlock into EAGAIN for
O_NONBLOCK descriptors or MSG_DONTWAIT, or sleeps the thread until `changed()`, bounded by SO_RCVTIMEO /
SO_SNDTIMEO). A family the OS did not register gives EAFNOSUPPORT, as Linux does.
"""
from __future__ import annotations

import struct

from .abi import EINVAL, ENOPROTOOPT, ENOTCONN, EOPNOTSUPP, POLLIN, POLLOUT, S_IFSOCK
from .errors import LinuxError
from .vfs import OpenFile, Stat

SOL_SOCKET = 1
SO_TYPE, SO_ERROR, SO_SNDBUF, SO_RCVBUF = 3, 4, 7, 8
SO_RCVTIMEO_OLD, SO_SNDTIMEO_OLD = 20, 21          # struct timeval {long, long}
SO_RCVTIMEO_NEW, SO_SNDTIMEO_NEW = 66, 67          # struct __kernel_sock_timeval {s64, s64} (time64 ABIs)
SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET = 1, 2, 3, 5
SOCK_TYPE_MASK = 0xF
SOCK_NONBLOCK = 0o4000
SOCK_CLOEXEC = 0o2000000
MSG_PEEK, MSG_TRUNC, MSG_DONTWAIT, MSG_NOSIGNAL = 0x2, 0x20, 0x40, 0x4000


class SocketFile(OpenFile):
    """Base of a socket: SOL_SOCKET options and time-outs are handled here, the rest by the family's subclass."""

    def __init__(self, ctx, family: int, sock_type: int, protocol: int) -> None:
        super().__init__(2, f"socket:[{family}]")      # O_RDWR
        self.context = ctx
        self.family, self.sock_type, self.protocol = family, sock_type, protocol
        self.recv_timeout_ns: int | None = None
        self.send_timeout_ns: int | None = None

    # ---- what a family overrides ---------------------------------------------------------------------------------
    def connect(self, address: bytes) -> int:
        raise LinuxError(EOPNOTSUPP)

    def bind(self, address: bytes) -> int:
        raise LinuxError(EOPNOTSUPP)

    def listen(self, backlog: int) -> int:
        raise LinuxError(EOPNOTSUPP)

    def sendto(self, data: bytes, flags: int, address: bytes | None) -> int:
        raise LinuxError(EOPNOTSUPP)

    def recvfrom(self, count: int, flags: int) -> tuple[bytes, bytes | None]:
        """(data, source address or None); data may be longer than `count` for MSG_TRUNC accounting."""
        raise LinuxError(EOPNOTSUPP)

    def shutdown(self, how: int) -> int:
        raise LinuxError(ENOTCONN)

    def sockname(self) -> bytes:
        return struct.pack("<H", self.family)

    def peername(self) -> bytes:
        raise LinuxError(ENOTCONN)

    def family_setsockopt(self, level: int, name: int, value: bytes) -> int:
        raise LinuxError(ENOPROTOOPT)

    def family_getsockopt(self, level: int, name: int) -> bytes:
        raise LinuxError(ENOPROTOOPT)

    def take_error(self) -> int:
        """SO_ERROR: the pending error, cleared by reading it (a family with asynchronous errors overrides)."""
        return 0

    # ---- generic ----------------------------------------------------------------------------------------------------
    def read(self, count: int) -> bytes:
        data, _ = self.recvfrom(count, 0)
        return data[:count]

    def write(self, data: bytes) -> int:
        return self.sendto(data, 0, None)

    def poll(self) -> int:
        return POLLIN | POLLOUT

    def stat(self) -> Stat:
        return Stat(S_IFSOCK | 0o777)

    def setsockopt(self, level: int, name: int, value: bytes) -> int:
        if level == SOL_SOCKET and name in (SO_RCVTIMEO_OLD, SO_SNDTIMEO_OLD, SO_RCVTIMEO_NEW, SO_SNDTIMEO_NEW):
            wide = name in (SO_RCVTIMEO_NEW, SO_SNDTIMEO_NEW)
            size = 16 if wide else 8
            if len(value) < size:
                raise LinuxError(EINVAL)
            sec, usec = struct.unpack_from("<qq" if wide else "<ii", value)
            if sec < 0 or not 0 <= usec < 1_000_000:
                raise LinuxError(EINVAL if usec >= 1_000_000 or usec < 0 else 33)   # EDOM for a negative time
            ns = (sec * 1_000_000 + usec) * 1000 or None                          # 0 = wait forever
            if name in (SO_RCVTIMEO_OLD, SO_RCVTIMEO_NEW):
                self.recv_timeout_ns = ns
            else:
                self.send_timeout_ns = ns
            return 0
        if level == SOL_SOCKET and name in (SO_SNDBUF, SO_RCVBUF):
            return 0
        return self.family_setsockopt(level, name, value)

    def getsockopt(self, level: int, name: int) -> bytes:
        if level == SOL_SOCKET:
            if name == SO_TYPE:
                return struct.pack("<i", self.sock_type)
            if name == SO_ERROR:
                return struct.pack("<i", self.take_error())
            if name in (SO_RCVTIMEO_OLD, SO_SNDTIMEO_OLD, SO_RCVTIMEO_NEW, SO_SNDTIMEO_NEW):
                ns = self.recv_timeout_ns if name in (SO_RCVTIMEO_OLD, SO_RCVTIMEO_NEW) else self.send_timeout_ns
                sec, usec = divmod((ns or 0) // 1000, 1_000_000)
                return struct.pack("<qq" if name >= SO_RCVTIMEO_NEW else "<ii", sec, usec)
        return self.family_getsockopt(level, name)
