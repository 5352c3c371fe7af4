"""socketpair(AF_UNIX, ...): two connected sockets of one process, stream (or seqpacket, kept as a stream) or
datagram, over the generic socket layer (sockets.py). Bytes written to one end are read at the other; closing an
end gives the other end of a stream end-of-file, and EPIPE (with SIGPIPE) to its writes."""
from __future__ import annotations

import struct
from collections import deque

from .abi import EINVAL, EISCONN, EOPNOTSUPP, EPIPE, POLLHUP, POLLIN, POLLOUT
from .errors import LinuxError
from .sockets import MSG_PEEK, SOCK_DGRAM, SocketFile
from .waiting import WouldBlock

AF_UNIX = 1
CAPACITY = 212992                 # Linux's default socket buffer for a local pair


class UnixPairSocket(SocketFile):
    def __init__(self, ctx, sock_type: int) -> None:
        super().__init__(ctx, AF_UNIX, sock_type, 0)
        self.other: UnixPairSocket | None = None
        self.stream = bytearray()
        self.datagrams: deque[bytes] = deque()
        self.peer_closed = False
        self.write_shut = False
        self.read_shut = False

    def _queued(self) -> int:
        return len(self.stream) if self.sock_type != SOCK_DGRAM else sum(map(len, self.datagrams))

    def sendto(self, data: bytes, flags: int, address: bytes | None) -> int:
        other = self.other
        if self.write_shut or other is None or other.closed or other.read_shut:
            raise LinuxError(EPIPE)
        room = CAPACITY - other._queued()
        if self.sock_type == SOCK_DGRAM:
            if len(data) > room:
                raise WouldBlock()
            other.datagrams.append(bytes(data))
            n = len(data)
        else:
            if room <= 0:
                raise WouldBlock()
            n = min(room, len(data))
            other.stream += data[:n]
        other.changed()
        return n

    def recvfrom(self, count: int, flags: int) -> tuple[bytes, bytes | None]:
        peek = bool(flags & MSG_PEEK)
        if self.sock_type == SOCK_DGRAM:
            if not self.datagrams:
                if self.peer_closed or self.read_shut:
                    return b"", None
                raise WouldBlock()
            data = self.datagrams[0] if peek else self.datagrams.popleft()
        else:
            if not self.stream:
                if self.peer_closed or self.read_shut:
                    return b"", None
                raise WouldBlock()
            data = bytes(self.stream[:count])
            if not peek:
                del self.stream[:count]
        if not peek and self.other is not None:
            self.other.changed()           # room for the writer
        return data, None

    def shutdown(self, how: int) -> int:
        if how not in (0, 1, 2):
            raise LinuxError(EINVAL)
        if how in (0, 2):
            self.read_shut = True
        if how in (1, 2):
            self.write_shut = True
            if self.other is not None:
                self.other.peer_closed = True
                self.other.changed()
        self.changed()
        return 0

    def connect(self, address: bytes) -> int:
        raise LinuxError(EISCONN)

    def bind(self, address: bytes) -> int:
        raise LinuxError(EINVAL)

    def listen(self, backlog: int) -> int:
        raise LinuxError(EOPNOTSUPP)

    def sockname(self) -> bytes:
        return struct.pack("<H", AF_UNIX)

    def peername(self) -> bytes:
        return struct.pack("<H", AF_UNIX)

    def poll(self) -> int:
        mask = 0
        if self._queued() or self.peer_closed or self.read_shut:
            mask |= POLLIN
        other = self.other
        if other is not None and not other.closed and not self.write_shut and other._queued() < CAPACITY:
            mask |= POLLOUT
        if self.peer_closed and (other is None or other.closed):
            mask |= POLLHUP
        return mask

    def release(self) -> None:
        other, self.other = self.other, None
        if other is not None:
            other.peer_closed = True
            other.changed()


def make_pair(ctx, sock_type: int) -> tuple[UnixPairSocket, UnixPairSocket]:
    one, two = UnixPairSocket(ctx, sock_type), UnixPairSocket(ctx, sock_type)
    one.other, two.other = two, one
    return one, two
