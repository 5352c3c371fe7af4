"""AF_INET sockets of the Linux personality (IPv4 TCP and UDP), as a family of the generic socket layer
(sockets.py: kernel.socket_families[AF_INET]), and the network stack they reach.

An `InetSocket` has Linux's observable behaviour: states (unconnected, connecting, connected, listening), a receive
buffer with a size limit (flow control back to the sender), a pending error (SO_ERROR), shutdown in either
direction, options, readiness for poll/select/epoll and blocking through WouldBlock and `changed()` like every
other file (waiting.py). What lies beyond it is an `Endpoint` (the far end of a stream) or the stack's datagram
path, given by the network stack the kernel holds in `kernel.net`:

    class NetStack:                                       # the interface (LoopbackStack is the default)
        def connect(sock, address) -> None                # start; finish with sock.established(...) / sock.failed(errno)
        def bind(sock, address) -> (ip, port)             # the local address (ephemeral port when 0)
        def listen(sock, backlog) -> None
        def send_datagram(sock, data, address) -> int
        def local_address_for(sock, address) -> ip        # source address toward `address`
        def interfaces() -> list[Interface]               # SIOCGIFCONF and friends
        def closed(sock) -> None                          # the socket is released (ports freed)

`LoopbackStack` serves 127.0.0.0/8 between sockets of the running process and answers ENETUNREACH for anything
else: a Linux with no network but `lo`. The emulated OS installs its virtual network instead (`install(kernel,
stack)`; sphere_os/network/), keeping this package free of anything Azure-Sphere-specific. AF_INET6 is not
registered (EAFNOSUPPORT): Azure Sphere is IPv4 only.

Addresses are (IPv4 dotted string, port). Everything runs on the machine's clock; nothing here touches the host.
"""
from __future__ import annotations

import ipaddress
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

import struct

from .abi import (EAFNOSUPPORT, EAGAIN, EALREADY, ECONNREFUSED, EINPROGRESS, EINVAL, EISCONN, ENETUNREACH,
                  ENOPROTOOPT, ENOTCONN, EOPNOTSUPP, EPERM, EPIPE, EPROTONOSUPPORT, O_NONBLOCK, POLLERR, POLLHUP,
                  POLLIN, POLLOUT, POLLRDHUP, S_IFSOCK)
from .errors import LinuxError
from .sockets import MSG_DONTWAIT, MSG_PEEK, SocketFile
from .vfs import Stat
from .waiting import BLOCKED, Block, WouldBlock

AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, AF_PACKET = 1, 2, 10, 16, 17
SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET = 1, 2, 3, 5
SOCK_NONBLOCK, SOCK_CLOEXEC = 0o4000, 0o2000000
IPPROTO_IP, IPPROTO_TCP, IPPROTO_UDP = 0, 6, 17
DEFAULT_RCVBUF = 131072
DEFAULT_SNDBUF = 16384
EPHEMERAL_FIRST, EPHEMERAL_LAST = 32768, 60999          # Linux's default ip_local_port_range
LOOPBACK_NET = ipaddress.ip_network("127.0.0.0/8")

Address = tuple[str, int]


class Endpoint(Protocol):
    """The far end of a connected stream socket."""

    def send(self, data: bytes) -> int: ...          # bytes accepted (WouldBlock when none fit)
    def shutdown_write(self) -> None: ...            # our FIN
    def close(self) -> None: ...                     # the socket is released


@dataclass
class Interface:
    name: str
    index: int
    address: str | None            # dotted IPv4, None without an address
    netmask: str | None
    up: bool
    running: bool
    loopback: bool = False
    hwaddr: bytes = bytes(6)
    mtu: int = 1500


MSG_OOB, MSG_WAITALL = 0x1, 0x100
SOL_SOCKET = 1
SO_REUSEADDR, SO_BROADCAST, SO_SNDBUF, SO_RCVBUF, SO_KEEPALIVE, SO_LINGER = 2, 6, 7, 8, 9, 13
SO_BINDTODEVICE, SO_ACCEPTCONN, SO_PROTOCOL, SO_DOMAIN = 25, 30, 38, 39
TCP_NODELAY = 1
INT_OPTIONS = {   # (level, name) -> default; stored and read back
    (SOL_SOCKET, SO_REUSEADDR): 0, (SOL_SOCKET, 5): 0, (SOL_SOCKET, SO_BROADCAST): 0, (SOL_SOCKET, SO_KEEPALIVE): 0,
    (SOL_SOCKET, 10): 0, (SOL_SOCKET, 15): 0, (SOL_SOCKET, 18): 1, (SOL_SOCKET, 19): 1,
    (IPPROTO_TCP, TCP_NODELAY): 0, (IPPROTO_TCP, 2): 1448, (IPPROTO_TCP, 4): 7200, (IPPROTO_TCP, 5): 75,
    (IPPROTO_TCP, 6): 9, (IPPROTO_IP, 1): 0, (IPPROTO_IP, 2): 64, (IPPROTO_IP, 33): 1, (IPPROTO_IP, 34): 1,
}
SOCKADDR_IN = 16


def parse_sockaddr(raw: bytes) -> Address | None:
    """struct sockaddr_in {u16 family; u16 port (big-endian); u32 address; u8 zero[8]} -> (ip, port); AF_UNSPEC
    gives None."""
    if len(raw) < 2:
        raise LinuxError(EINVAL)
    family = struct.unpack_from("<H", raw)[0]
    if family == 0:
        return None
    if family != AF_INET:
        raise LinuxError(EAFNOSUPPORT)
    if len(raw) < SOCKADDR_IN:
        raise LinuxError(EINVAL)
    return str(ipaddress.IPv4Address(raw[4:8])), struct.unpack_from(">H", raw, 2)[0]


def pack_sockaddr(address: Address | None) -> bytes:
    ip, port = address or ("0.0.0.0", 0)
    return struct.pack("<H", AF_INET) + struct.pack(">H", port) + ipaddress.IPv4Address(ip).packed + bytes(8)


class InetSocket(SocketFile):
    UNCONNECTED, CONNECTING, CONNECTED, LISTENING, CLOSED = "unconnected", "connecting", "connected", "listening", \
        "closed"

    def __init__(self, stack: "NetStack", ctx, type_: int, protocol: int, flags: int = 0) -> None:
        super().__init__(ctx, AF_INET, type_, protocol)
        self.flags |= flags
        self.stack = stack
        self.type = type_
        self.owner = getattr(ctx, "process", None)
        self.state = InetSocket.UNCONNECTED
        self.local: Address | None = None
        self.peer: Address | None = None
        self.endpoint: Endpoint | None = None
        self.rx = bytearray()
        self.datagrams: deque[tuple[bytes, Address]] = deque()
        self.rx_eof = False                  # the peer shut its sending side (FIN)
        self.tx_shut = False                 # we shut our sending side
        self.rx_shut = False                 # we shut our receiving side
        self.error = 0                       # pending SO_ERROR
        self.reset = False                   # the connection was reset or aborted
        self.backlog: deque[InetSocket] = deque()
        self.backlog_limit = 0
        self.options: dict[tuple[int, int], object] = {}
        self.rcvbuf = DEFAULT_RCVBUF
        self.sndbuf = DEFAULT_SNDBUF
        self.note = ""                       # how the stack routed it (for logs and tests)

    def __repr__(self) -> str:
        kind = {SOCK_STREAM: "stream", SOCK_DGRAM: "dgram"}.get(self.type, str(self.type))
        return f"<socket {kind} {self.state} {self.local}->{self.peer}>"

    # ---- what the stack calls ---------------------------------------------------------------------------------
    def established(self, endpoint: Endpoint, local: Address, peer: Address) -> None:
        self.endpoint, self.local, self.peer = endpoint, local, peer
        self.state = InetSocket.CONNECTED
        self.changed()

    def failed(self, errno: int) -> None:
        """A connection attempt failed, or an established connection broke (reset, timed out)."""
        was_connected = self.state == InetSocket.CONNECTED
        self.error = errno
        if was_connected:
            self.reset = True
            self.rx_eof = True
        self.state = InetSocket.CLOSED if was_connected else InetSocket.UNCONNECTED
        self.endpoint = None
        self.changed()

    def receive(self, data: bytes) -> int:
        """Bytes from the peer of a stream: takes what fits in the receive buffer; returns how many."""
        if self.rx_shut or self.state != InetSocket.CONNECTED:
            return len(data)             # discarded (Linux would reset; the sender must not block forever)
        room = max(0, self.rcvbuf - len(self.rx))
        taken = data[:room]
        if taken:
            self.rx += taken
            self.changed()
        return len(taken)

    def room(self) -> int:
        return max(0, self.rcvbuf - len(self.rx))

    def receive_eof(self) -> None:
        if not self.rx_eof:
            self.rx_eof = True
            self.changed()

    def receive_datagram(self, data: bytes, source: Address) -> bool:
        if self.rx_shut or sum(len(d) for d, _ in self.datagrams) + len(data) > self.rcvbuf:
            return False                  # dropped, as a full UDP receive queue drops
        if self.peer is not None and source != self.peer:
            return False                  # a connected datagram socket takes only its peer's
        self.datagrams.append((bytes(data), source))
        self.changed()
        return True

    def incoming(self, child: "InetSocket") -> bool:
        """A connection for this listening socket (False: the backlog is full, the connection is refused)."""
        if self.state != InetSocket.LISTENING or len(self.backlog) >= max(1, self.backlog_limit):
            return False
        self.backlog.append(child)
        self.changed()
        return True

    # ---- what the syscalls call -------------------------------------------------------------------------------
    def recv(self, count: int, peek: bool = False) -> bytes:
        if self.type == SOCK_DGRAM:
            data, _ = self.recv_datagram(count, peek)
            return data
        if self.rx:
            out = bytes(self.rx[:count])
            if not peek:
                del self.rx[:count]
                if self.endpoint is not None and hasattr(self.endpoint, "window_opened"):
                    self.endpoint.window_opened()
            return out
        if self.error and self.reset:
            raise LinuxError(self._take_error())
        if self.rx_eof or self.rx_shut:
            return b""
        if self.state == InetSocket.CONNECTING:
            raise WouldBlock()
        if self.state != InetSocket.CONNECTED:
            if self.error:
                raise LinuxError(self._take_error())
            raise LinuxError(ENOTCONN)
        raise WouldBlock()

    def recv_datagram(self, count: int, peek: bool = False) -> tuple[bytes, Address]:
        if not self.datagrams:
            if self.error:
                raise LinuxError(self._take_error())
            if self.rx_shut:
                return b"", ("0.0.0.0", 0)
            raise WouldBlock()
        data, source = self.datagrams[0] if peek else self.datagrams.popleft()
        if not peek:
            self.changed()
        self.last_datagram_length = len(data)
        return data[:count], source

    def send(self, data: bytes) -> int:
        if self.type == SOCK_DGRAM:
            if self.peer is None:
                raise LinuxError(89)      # EDESTADDRREQ
            return self.stack.send_datagram(self, data, self.peer)
        if self.error and (self.reset or self.state != InetSocket.CONNECTED):
            raise LinuxError(self._take_error())
        if self.state == InetSocket.CONNECTING:
            raise WouldBlock()
        if self.state != InetSocket.CONNECTED or self.endpoint is None:
            raise LinuxError(EPIPE if self.state == InetSocket.CLOSED else ENOTCONN)
        if self.tx_shut:
            raise LinuxError(EPIPE)
        if not data:
            return 0
        n = self.endpoint.send(data)
        if n <= 0:
            raise WouldBlock()
        return n

    def shutdown(self, how: int) -> int:
        if how not in (0, 1, 2):
            raise LinuxError(EINVAL)
        if self.type == SOCK_STREAM and self.state not in (InetSocket.CONNECTED, InetSocket.CONNECTING):
            raise LinuxError(ENOTCONN)
        if how in (0, 2):
            self.rx_shut = True
        if how in (1, 2) and not self.tx_shut:
            self.tx_shut = True
            if self.endpoint is not None:
                self.endpoint.shutdown_write()
        self.changed()
        return 0

    def _take_error(self) -> int:
        error, self.error = self.error, 0
        return error

    def take_error(self) -> int:
        return self._take_error()

    # ---- the socket calls (sockets.py's SocketFile interface) --------------------------------------------------
    def connect(self, address: bytes):
        target = parse_sockaddr(address)
        if self.type == SOCK_DGRAM:
            if target is None:                    # AF_UNSPEC dissolves the association
                self.peer = None
                return 0
            if self.local is None:
                self.local = self.stack.bind(self, ("0.0.0.0", 0))
            self.stack.local_address_for(self, target)
            self.peer = target
            return 0
        if target is None:
            raise LinuxError(EAFNOSUPPORT)
        if self.state == InetSocket.CONNECTED:
            raise LinuxError(EISCONN)
        if self.state == InetSocket.CONNECTING:
            raise LinuxError(EALREADY)
        if self.state in (InetSocket.LISTENING, InetSocket.CLOSED):
            raise LinuxError(EINVAL)
        self.error = 0
        self.stack.connect(self, target)
        if self.state == InetSocket.CONNECTED:
            return 0
        if self.state != InetSocket.CONNECTING:
            raise LinuxError(self.take_error() or ECONNREFUSED)
        if self.flags & O_NONBLOCK:
            raise LinuxError(EINPROGRESS)

        def retry():
            if self.state == InetSocket.CONNECTING:
                return BLOCKED
            if self.state == InetSocket.CONNECTED:
                return 0
            return -(self.take_error() or ECONNREFUSED)
        clock = getattr(self.stack, "clock", None)
        deadline = None if self.send_timeout_ns is None or clock is None else \
            clock.now + self.send_timeout_ns * 1000
        return Block(retry, [self], deadline, on_timeout=lambda: -EINPROGRESS, restartable=False,
                     what="connect")

    def bind(self, address: bytes) -> int:
        target = parse_sockaddr(address)
        if target is None:
            raise LinuxError(EAFNOSUPPORT)
        if self.local is not None:
            raise LinuxError(EINVAL)
        self.local = self.stack.bind(self, target)
        return 0

    def listen(self, backlog: int) -> int:
        if self.type != SOCK_STREAM:
            raise LinuxError(EOPNOTSUPP)
        if self.state not in (InetSocket.UNCONNECTED, InetSocket.LISTENING):
            raise LinuxError(EINVAL)
        if self.local is None:
            self.local = self.stack.bind(self, ("0.0.0.0", 0))
        self.stack.listen(self, backlog)
        self.state = InetSocket.LISTENING
        self.backlog_limit = min(max(backlog, 0), 4096) + 1
        self.changed()
        return 0

    def accept(self) -> "InetSocket":
        """The next connection of a listening socket (WouldBlock when none waits)."""
        if self.state != InetSocket.LISTENING:
            raise LinuxError(EINVAL)
        if not self.backlog:
            raise WouldBlock()
        child = self.backlog.popleft()
        self.changed()
        return child

    def sendto(self, data: bytes, flags: int, address: bytes | None) -> int:
        if flags & MSG_OOB:
            raise LinuxError(EOPNOTSUPP)
        if self.type == SOCK_DGRAM:
            target = parse_sockaddr(address) if address else self.peer
            if target is None:
                raise LinuxError(89)              # EDESTADDRREQ
            if self.local is None:
                self.local = self.stack.bind(self, ("0.0.0.0", 0))
            return self.stack.send_datagram(self, data, target)
        return self.send(data)

    def recvfrom(self, count: int, flags: int) -> tuple[bytes, bytes | None]:
        if flags & MSG_OOB:
            raise LinuxError(EINVAL)
        peek = bool(flags & MSG_PEEK)
        if self.type == SOCK_DGRAM:
            if not self.datagrams:
                if self.error:
                    raise LinuxError(self._take_error())
                if self.rx_shut:
                    return b"", None
                raise WouldBlock()
            data, source = self.datagrams[0] if peek else self.datagrams.popleft()
            if not peek:
                self.changed()
            return data, pack_sockaddr(source)       # the whole datagram: the caller truncates (MSG_TRUNC)
        if flags & MSG_WAITALL and not peek and len(self.rx) < count and not (self.rx_eof or self.reset or
                                                                             self.rx_shut or self.error):
            if self.state in (InetSocket.CONNECTED, InetSocket.CONNECTING):
                raise WouldBlock()
        return self.recv(count, peek), None

    def sockname(self) -> bytes:
        local = self.local or ("0.0.0.0", 0)
        if local[0] == "0.0.0.0" and self.state == InetSocket.CONNECTED and self.peer:
            local = (self.stack.local_address_for(self, self.peer), local[1])
        return pack_sockaddr(local)

    def peername(self) -> bytes:
        if self.peer is None or (self.type == SOCK_STREAM and self.state != InetSocket.CONNECTED):
            raise LinuxError(ENOTCONN)
        return pack_sockaddr(self.peer)

    def family_setsockopt(self, level: int, name: int, value: bytes) -> int:
        key = (level, name)
        if key == (SOL_SOCKET, SO_LINGER):
            if len(value) < 8:
                raise LinuxError(EINVAL)
            self.options[key] = struct.unpack("<ii", value[:8])
            return 0
        if key == (SOL_SOCKET, SO_BINDTODEVICE):
            name_text = value.split(b"\0")[0].decode("latin-1")
            if name_text and name_text not in {i.name for i in self.stack.interfaces()}:
                raise LinuxError(19)              # ENODEV
            self.options[key] = name_text
            return 0
        if key in INT_OPTIONS:
            if level == IPPROTO_TCP and self.type != SOCK_STREAM:
                raise LinuxError(EOPNOTSUPP)
            if len(value) < 4 and not (value and level == IPPROTO_IP):
                raise LinuxError(EINVAL)
            self.options[key] = int.from_bytes(value[:4].ljust(4, b"\0"), "little", signed=True)
            return 0
        raise LinuxError(ENOPROTOOPT)

    def family_getsockopt(self, level: int, name: int) -> bytes:
        key = (level, name)
        if key == (SOL_SOCKET, SO_RCVBUF):
            return struct.pack("<i", self.rcvbuf)
        if key == (SOL_SOCKET, SO_SNDBUF):
            return struct.pack("<i", self.sndbuf)
        if key == (SOL_SOCKET, SO_ACCEPTCONN):
            return struct.pack("<i", int(self.state == InetSocket.LISTENING))
        if key == (SOL_SOCKET, SO_PROTOCOL):
            return struct.pack("<i", self.protocol)
        if key == (SOL_SOCKET, SO_DOMAIN):
            return struct.pack("<i", AF_INET)
        if key == (SOL_SOCKET, SO_LINGER):
            return struct.pack("<ii", *self.options.get(key, (0, 0)))
        if key == (SOL_SOCKET, SO_BINDTODEVICE):
            return str(self.options.get(key, "")).encode() + b"\0"
        if key in INT_OPTIONS:
            if level == IPPROTO_TCP and self.type != SOCK_STREAM:
                raise LinuxError(EOPNOTSUPP)
            return struct.pack("<i", int(self.options.get(key, INT_OPTIONS[key])))
        raise LinuxError(ENOPROTOOPT)

    # ---- OpenFile -------------------------------------------------------------------------------------------------
    def read(self, count: int) -> bytes:
        return self.recv(count)

    def write(self, data: bytes) -> int:
        return self.send(data)

    def poll(self) -> int:
        mask = 0
        if self.state == InetSocket.LISTENING:
            return POLLIN if self.backlog else 0
        if self.type == SOCK_DGRAM:
            mask = POLLOUT
            if self.datagrams or self.rx_shut:
                mask |= POLLIN
            if self.error:
                mask |= POLLERR
            return mask
        if self.rx or self.rx_eof or self.rx_shut:
            mask |= POLLIN
        if self.rx_eof:
            mask |= POLLRDHUP
        if self.state == InetSocket.CONNECTED and not self.tx_shut:
            writable = getattr(self.endpoint, "writable", None)
            if writable is None or writable():
                mask |= POLLOUT
        if self.error:
            mask |= POLLERR
        if self.reset or (self.rx_eof and self.tx_shut) or self.state == InetSocket.CLOSED:
            mask |= POLLHUP | POLLIN
        if self.state == InetSocket.UNCONNECTED and self.type == SOCK_STREAM:
            mask |= POLLOUT | POLLHUP       # Linux: an unconnected TCP socket reports POLLOUT|POLLHUP
        return mask

    def ioctl(self, request: int, arg: int, memory) -> int:
        if request == 0x541B:            # FIONREAD / SIOCINQ
            size = len(self.datagrams[0][0]) if self.type == SOCK_DGRAM and self.datagrams else len(self.rx)
            memory.write_u32(arg, size)
            return 0
        if request == 0x5411:            # TIOCOUTQ / SIOCOUTQ: nothing waits in our send queue
            memory.write_u32(arg, 0)
            return 0
        return interface_ioctl(self.stack, request, arg, memory)

    def stat(self) -> Stat:
        return Stat(S_IFSOCK | 0o777)

    def release(self) -> None:
        if self.endpoint is not None:
            endpoint, self.endpoint = self.endpoint, None
            endpoint.close()
        for child in list(self.backlog):
            child.release()
        self.backlog.clear()
        self.state = InetSocket.CLOSED
        self.stack.closed(self)


# ---- interface ioctls (SIOCGIF*) --------------------------------------------------------------------------------------
SIOCGIFNAME, SIOCGIFCONF, SIOCGIFFLAGS, SIOCGIFADDR, SIOCGIFNETMASK = 0x8910, 0x8912, 0x8913, 0x8915, 0x891B
SIOCGIFMTU, SIOCGIFHWADDR, SIOCGIFINDEX = 0x8921, 0x8927, 0x8933
IFF_UP, IFF_BROADCAST, IFF_LOOPBACK, IFF_RUNNING, IFF_MULTICAST = 0x1, 0x2, 0x8, 0x40, 0x1000
IFREQ_SIZE = 32


def _sockaddr_in(address: str | None) -> bytes:
    raw = ipaddress.IPv4Address(address).packed if address else bytes(4)
    return AF_INET.to_bytes(2, "little") + bytes(2) + raw + bytes(8)


def interface_ioctl(stack, request: int, arg: int, memory) -> int:
    interfaces = stack.interfaces()
    if request == SIOCGIFCONF:
        length, buf = memory.read_u32(arg), memory.read_u32(arg + 4)
        records = [i.name.encode()[:15].ljust(16, b"\0") + _sockaddr_in(i.address)
                   for i in interfaces if i.address]
        if buf == 0:
            memory.write_u32(arg, len(records) * IFREQ_SIZE)
            return 0
        fit = records[:length // IFREQ_SIZE]
        if fit:
            memory.write(buf, b"".join(fit))
        memory.write_u32(arg, len(fit) * IFREQ_SIZE)
        return 0
    if request in (SIOCGIFFLAGS, SIOCGIFADDR, SIOCGIFNETMASK, SIOCGIFMTU, SIOCGIFHWADDR, SIOCGIFINDEX, SIOCGIFNAME):
        raw = memory.read(arg, IFREQ_SIZE)
        if request == SIOCGIFNAME:
            index = int.from_bytes(raw[16:20], "little", signed=True)
            iface = next((i for i in interfaces if i.index == index), None)
            if iface is None:
                raise LinuxError(19)     # ENODEV
            memory.write(arg, iface.name.encode()[:15].ljust(16, b"\0"))
            return 0
        name = raw[:16].split(b"\0")[0].decode("latin-1")
        iface = next((i for i in interfaces if i.name == name), None)
        if iface is None:
            raise LinuxError(19)         # ENODEV
        if request == SIOCGIFFLAGS:
            flags = (IFF_UP if iface.up else 0) | (IFF_RUNNING if iface.running else 0) | \
                (IFF_LOOPBACK if iface.loopback else IFF_BROADCAST | IFF_MULTICAST)
            memory.write(arg + 16, flags.to_bytes(2, "little"))
        elif request in (SIOCGIFADDR, SIOCGIFNETMASK):
            value = iface.address if request == SIOCGIFADDR else iface.netmask
            if not value:
                raise LinuxError(99)     # EADDRNOTAVAIL
            memory.write(arg + 16, _sockaddr_in(value))
        elif request == SIOCGIFMTU:
            memory.write(arg + 16, iface.mtu.to_bytes(4, "little"))
        elif request == SIOCGIFHWADDR:
            memory.write(arg + 16, (772 if iface.loopback else 1).to_bytes(2, "little") + iface.hwaddr + bytes(8))
        elif request == SIOCGIFINDEX:
            memory.write(arg + 16, iface.index.to_bytes(4, "little"))
        return 0
    raise LinuxError(25)                 # ENOTTY


# ---- the stack interface and the loopback-only stack ---------------------------------------------------------------
class NetStack(Protocol):
    def socket_created(self, sock: InetSocket) -> None: ...
    def connect(self, sock: InetSocket, address: Address) -> None: ...
    def bind(self, sock: InetSocket, address: Address) -> Address: ...
    def listen(self, sock: InetSocket, backlog: int) -> None: ...
    def send_datagram(self, sock: InetSocket, data: bytes, address: Address) -> int: ...
    def local_address_for(self, sock: InetSocket, address: Address) -> str: ...
    def interfaces(self) -> list[Interface]: ...
    def closed(self, sock: InetSocket) -> None: ...


class SocketLink:
    """The far end of a stream when both ends are sockets of this kernel (loopback): bytes go straight into the
    peer's receive buffer; a full buffer makes the sender wait (WouldBlock) until the reader takes some."""

    def __init__(self, own: InetSocket, peer: InetSocket) -> None:
        self.own, self.peer = own, peer

    def send(self, data: bytes) -> int:
        if self.peer.state == InetSocket.CLOSED or self.peer.rx_shut and not self.peer.rx:
            self.own.failed(104)         # ECONNRESET: writing to a closed peer
            raise LinuxError(EPIPE)
        n = self.peer.receive(data)
        if n == 0:
            raise WouldBlock()
        return n

    def writable(self) -> bool:
        return self.peer.room() > 0 or self.peer.state == InetSocket.CLOSED

    def window_opened(self) -> None:
        peer_link = self.peer.endpoint
        if isinstance(peer_link, SocketLink):
            peer_link.own.changed()       # the writer on the other side may have room now

    def shutdown_write(self) -> None:
        self.peer.receive_eof()

    def close(self) -> None:
        self.peer.receive_eof()
        self.window_opened()


class PortTable:
    """Bound ports per (protocol, address); ephemeral ports count up deterministically from 32768."""

    def __init__(self) -> None:
        self.bound: dict[tuple[int, int], list[InetSocket]] = {}
        self.next_ephemeral = EPHEMERAL_FIRST

    def take(self, sock: InetSocket, address: Address) -> Address:
        ip, port = address
        key_type = sock.type
        if port == 0:
            for _ in range(EPHEMERAL_LAST - EPHEMERAL_FIRST + 1):
                candidate = self.next_ephemeral
                self.next_ephemeral = candidate + 1 if candidate < EPHEMERAL_LAST else EPHEMERAL_FIRST
                if (key_type, candidate) not in self.bound:
                    port = candidate
                    break
            else:
                raise LinuxError(98)     # EADDRINUSE
        else:
            holders = [s for s in self.bound.get((key_type, port), []) if s.state != InetSocket.CLOSED]
            clash = [s for s in holders if s.local and (s.local[0] == ip or "0.0.0.0" in (s.local[0], ip))]
            reuse = sock.options.get((1, 2)) and all(s.options.get((1, 2)) and s.state != InetSocket.LISTENING
                                                     for s in clash)
            if clash and not reuse:
                raise LinuxError(98)     # EADDRINUSE
        self.bound.setdefault((key_type, port), []).append(sock)
        return ip, port

    def release(self, sock: InetSocket) -> None:
        if sock.local is None:
            return
        key = (sock.type, sock.local[1])
        holders = self.bound.get(key)
        if holders and sock in holders:
            holders.remove(sock)
            if not holders:
                del self.bound[key]

    def find(self, type_: int, address: Address, state: str | None = None) -> InetSocket | None:
        ip, port = address
        for sock in self.bound.get((type_, port), []):
            if state is not None and sock.state != state:
                continue
            if sock.local and sock.local[0] in (ip, "0.0.0.0"):
                return sock
        return None


class LoopbackStack:
    """127.0.0.0/8 inside the process; everything else is unreachable. Subclasses (the OS's virtual network) route
    other destinations and may keep this behaviour for loopback by calling super()."""

    def __init__(self) -> None:
        self.ports = PortTable()

    # ---- life of a socket -------------------------------------------------------------------------------------
    def socket_created(self, sock: InetSocket) -> None:
        pass

    def closed(self, sock: InetSocket) -> None:
        self.ports.release(sock)

    def interfaces(self) -> list[Interface]:
        return [Interface("lo", 1, "127.0.0.1", "255.0.0.0", True, True, loopback=True, mtu=65536)]

    def is_loopback(self, ip: str) -> bool:
        return ipaddress.IPv4Address(ip) in LOOPBACK_NET

    def local_address_for(self, sock: InetSocket, address: Address) -> str:
        if self.is_loopback(address[0]):
            return "127.0.0.1"
        raise LinuxError(ENETUNREACH)

    def bind(self, sock: InetSocket, address: Address) -> Address:
        ip = address[0]
        if ip != "0.0.0.0" and not self.is_loopback(ip) and ip not in {i.address for i in self.interfaces()}:
            raise LinuxError(99)         # EADDRNOTAVAIL
        return self.ports.take(sock, address)

    def listen(self, sock: InetSocket, backlog: int) -> None:
        pass

    def ensure_bound(self, sock: InetSocket, toward: Address) -> None:
        if sock.local is None:
            local_ip = self.local_address_for(sock, toward)
            sock.local = self.ports.take(sock, (local_ip if sock.type == SOCK_STREAM else "0.0.0.0", 0))
            if sock.type == SOCK_DGRAM:
                sock.local = ("0.0.0.0", sock.local[1])

    # ---- streams --------------------------------------------------------------------------------------------------
    def connect(self, sock: InetSocket, address: Address) -> None:
        if not self.is_loopback(address[0]):
            raise LinuxError(ENETUNREACH)
        self.connect_loopback(sock, address)

    def connect_loopback(self, sock: InetSocket, address: Address) -> None:
        self.ensure_bound(sock, address)
        listener = self.ports.find(SOCK_STREAM, address, InetSocket.LISTENING)
        if listener is None:
            raise LinuxError(ECONNREFUSED)
        child = InetSocket(self, sock.context, sock.type, sock.protocol)
        child.owner = sock.owner
        child.local = (address[0], address[1])
        local = (sock.local[0] if sock.local[0] != "0.0.0.0" else "127.0.0.1", sock.local[1])
        child.state = InetSocket.CONNECTED
        child.peer = local
        child.endpoint = SocketLink(child, sock)
        if not listener.incoming(child):
            raise LinuxError(ECONNREFUSED)
        sock.established(SocketLink(sock, child), local, (address[0], address[1]))

    # ---- datagrams ------------------------------------------------------------------------------------------------
    def send_datagram(self, sock: InetSocket, data: bytes, address: Address) -> int:
        if not self.is_loopback(address[0]):
            raise LinuxError(ENETUNREACH)
        return self.send_loopback_datagram(sock, data, address)

    def send_loopback_datagram(self, sock: InetSocket, data: bytes, address: Address) -> int:
        if len(data) > 65507:
            raise LinuxError(90)         # EMSGSIZE
        self.ensure_bound(sock, address)
        target = self.ports.find(SOCK_DGRAM, address)
        if target is not None:
            target.receive_datagram(data, ("127.0.0.1", sock.local[1]))
        return len(data)


Socket = InetSocket        # the name the stacks use


def create(stack: "NetStack", ctx, type_: int, protocol: int) -> InetSocket:
    """socket(AF_INET, type, protocol): TCP for streams, UDP for datagrams; raw sockets need CAP_NET_RAW (EPERM)."""
    if type_ == SOCK_RAW:
        raise LinuxError(EPERM)
    if type_ == SOCK_STREAM:
        if protocol not in (0, IPPROTO_TCP):
            raise LinuxError(EPROTONOSUPPORT)
    elif type_ == SOCK_DGRAM:
        if protocol not in (0, IPPROTO_UDP):
            raise LinuxError(EPROTONOSUPPORT)
    else:
        raise LinuxError(94)             # ESOCKTNOSUPPORT
    sock = InetSocket(stack, ctx, type_, protocol or (IPPROTO_TCP if type_ == SOCK_STREAM else IPPROTO_UDP))
    stack.socket_created(sock)
    return sock


def install(kernel, stack: "NetStack") -> None:
    """Make `stack` the kernel's IPv4 network: AF_INET sockets are created on it."""
    kernel.net = stack
    kernel.socket_families[AF_INET] = lambda ctx, type_, protocol: create(stack, ctx, type_, protocol)


_ = (EAGAIN, EINVAL, EISCONN, EOPNOTSUPP, field)
