"""socket, connect, bind, send/sendto/sendmsg, recv/recvfrom/recvmsg, setsockopt/getsockopt, shutdown,
getsockname/getpeername: the generic socket calls over the families the OS layer registers
(engine/linux/sockets.py). Numbers and argument orders as Linux's arch/arm syscall table gives them."""
from __future__ import annotations

import struct

from ..abi import EAFNOSUPPORT, EAGAIN, EFAULT, EINVAL, ENOTSOCK, EPIPE, ESOCKTNOSUPPORT, O_NONBLOCK, SIGPIPE
from ..devices import OpenContext
from ..errors import LinuxError
from ..sockets import MSG_DONTWAIT, MSG_NOSIGNAL, MSG_TRUNC, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_TYPE_MASK, SocketFile
from ..waiting import attempt
from . import s32, syscall

MAX_ADDRESS = 128
MAX_OPTION = 256
MAX_IO = 1 << 20


def _socket(t, fd: int) -> SocketFile:
    f = t.process.file(fd)
    if not isinstance(f, SocketFile):
        raise LinuxError(ENOTSOCK)
    return f


def _address(t, address: int, length: int) -> bytes:
    length = s32(length)
    if length < 0 or length > MAX_ADDRESS:
        raise LinuxError(EINVAL)
    if not address:
        raise LinuxError(EFAULT)
    return t.process.memory.read(address, length)


def _put_address(t, address: int, length_ptr: int, data: bytes) -> None:
    """Copy a socket address out as Linux does: truncated to the caller's buffer, the full length reported."""
    if not address or not length_ptr:
        return
    mem = t.process.memory
    room = s32(mem.read_u32(length_ptr))
    if room < 0:
        raise LinuxError(EINVAL)
    mem.write(address, data[:room])
    mem.write_u32(length_ptr, len(data))


def _wait(k, t, sock: SocketFile, op, flags: int, timeout_ns: int | None, what: str):
    """Run `op()`; if it would block: EAGAIN when non-blocking, else sleep until the socket changes, up to the
    socket's time-out (then EAGAIN, as SO_RCVTIMEO/SO_SNDTIMEO give on Linux)."""
    deadline = None if timeout_ns is None else k.now_ps() + timeout_ns * 1000
    return attempt(op, sock, nonblocking=bool(sock.flags & O_NONBLOCK or flags & MSG_DONTWAIT), deadline=deadline,
                   on_timeout=lambda: -EAGAIN, what=what)


@syscall("socket")
def socket(k, t, a):
    family, kind, protocol = a[0], a[1], s32(a[2])
    factory = k.socket_families.get(family)
    if factory is None:
        raise LinuxError(EAFNOSUPPORT)
    if kind & ~(SOCK_TYPE_MASK | SOCK_NONBLOCK | SOCK_CLOEXEC):
        raise LinuxError(EINVAL)
    ctx = OpenContext(t.process, 2, f"socket:[{family}]")
    sock = factory(ctx, kind & SOCK_TYPE_MASK, protocol)
    if not isinstance(sock, SocketFile):
        raise LinuxError(ESOCKTNOSUPPORT)
    sock.flags = 2 | (O_NONBLOCK if kind & SOCK_NONBLOCK else 0)
    return t.process.install(sock, cloexec=bool(kind & SOCK_CLOEXEC))


@syscall("connect")
def connect(k, t, a):
    sock = _socket(t, s32(a[0]))
    address = _address(t, a[1], a[2])
    result = sock.connect(address)
    return result


@syscall("bind")
def bind(k, t, a):
    sock = _socket(t, s32(a[0]))
    return sock.bind(_address(t, a[1], a[2]))


@syscall("listen")
def listen(k, t, a):
    return _socket(t, s32(a[0])).listen(s32(a[1]))


@syscall("shutdown")
def shutdown(k, t, a):
    return _socket(t, s32(a[0])).shutdown(s32(a[1]))


@syscall("getsockname")
def getsockname(k, t, a):
    sock = _socket(t, s32(a[0]))
    _put_address(t, a[1], a[2], sock.sockname())
    return 0


@syscall("getpeername")
def getpeername(k, t, a):
    sock = _socket(t, s32(a[0]))
    _put_address(t, a[1], a[2], sock.peername())
    return 0


@syscall("setsockopt")
def setsockopt(k, t, a):
    sock = _socket(t, s32(a[0]))
    length = s32(a[4])
    if length < 0 or length > MAX_OPTION:
        raise LinuxError(EINVAL)
    value = t.process.memory.read(a[3], length) if length else b""
    return sock.setsockopt(s32(a[1]), s32(a[2]), value)


@syscall("getsockopt")
def getsockopt(k, t, a):
    sock = _socket(t, s32(a[0]))
    value = sock.getsockopt(s32(a[1]), s32(a[2]))
    _put_address(t, a[3], a[4], value)
    return 0


def _send(k, t, fd: int, data_address: int, length: int, flags: int, address: bytes | None):
    sock = _socket(t, fd)
    length = min(length, MAX_IO)
    data = t.process.memory.read(data_address, length) if length else b""

    def op():
        try:
            return sock.sendto(data, flags, address)
        except LinuxError as exc:
            if exc.errno == EPIPE and not flags & MSG_NOSIGNAL:
                k.send_signal(SIGPIPE, thread=t)
            raise
    return _wait(k, t, sock, op, flags, sock.send_timeout_ns, f"send fd {fd}")


@syscall("send")
def send(k, t, a):
    return _send(k, t, s32(a[0]), a[1], a[2], a[3], None)


@syscall("sendto")
def sendto(k, t, a):
    address = _address(t, a[4], a[5]) if a[4] else None
    return _send(k, t, s32(a[0]), a[1], a[2], a[3], address)


def _recv(k, t, fd: int, buffer: int, length: int, flags: int, address_ptr: int, length_ptr: int):
    sock = _socket(t, fd)
    length = min(length, MAX_IO)

    def op():
        data, source = sock.recvfrom(length, flags)
        if data:
            t.process.memory.write(buffer, data[:length])
        if source is not None:
            _put_address(t, address_ptr, length_ptr, source)
        return len(data) if flags & MSG_TRUNC else min(len(data), length)
    return _wait(k, t, sock, op, flags, sock.recv_timeout_ns, f"recv fd {fd}")


@syscall("recv")
def recv(k, t, a):
    return _recv(k, t, s32(a[0]), a[1], a[2], a[3], 0, 0)


@syscall("recvfrom")
def recvfrom(k, t, a):
    return _recv(k, t, s32(a[0]), a[1], a[2], a[3], a[4], a[5])


def _msghdr(t, address: int) -> tuple[int, int, list[tuple[int, int]]]:
    """struct msghdr (ARM EABI): name, namelen, iov, iovlen, control, controllen, flags."""
    mem = t.process.memory
    name, namelen, iov, iovlen, _control, _controllen, _flags = struct.unpack("<7I", mem.read(address, 28))
    if iovlen > 1024:
        raise LinuxError(EINVAL)
    vecs = [struct.unpack("<II", mem.read(iov + 8 * i, 8)) for i in range(iovlen)]
    return name, namelen, vecs


@syscall("sendmsg")
def sendmsg(k, t, a):
    name, namelen, vecs = _msghdr(t, a[1])
    mem = t.process.memory
    data = b"".join(mem.read(base, min(size, MAX_IO)) for base, size in vecs if size)
    sock = _socket(t, s32(a[0]))
    address = _address(t, name, namelen) if name else None
    return _wait(k, t, sock, lambda: sock.sendto(data, a[2], address), a[2], sock.send_timeout_ns,
                 f"sendmsg fd {s32(a[0])}")


@syscall("recvmsg")
def recvmsg(k, t, a):
    fd = s32(a[0])
    sock = _socket(t, fd)
    name, namelen, vecs = _msghdr(t, a[1])
    total = sum(size for _, size in vecs)
    mem = t.process.memory

    def op():
        data, source = sock.recvfrom(total, a[2])
        rest = data[:total]
        for base, size in vecs:
            if not rest:
                break
            mem.write(base, rest[:size])
            rest = rest[size:]
        if name and source is not None:
            mem.write(name, source[:namelen])
            mem.write_u32(a[1] + 4, len(source))
        flags_out = MSG_TRUNC if len(data) > total else 0
        mem.write_u32(a[1] + 24, flags_out)
        return len(data) if a[2] & MSG_TRUNC else min(len(data), total)
    return _wait(k, t, sock, op, a[2], sock.recv_timeout_ns, f"recvmsg fd {fd}")



def _accept(k, t, fd: int, address: int, length_ptr: int, flags: int):
    from ..sockets import SOCK_CLOEXEC, SOCK_NONBLOCK
    if flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC):
        raise LinuxError(EINVAL)
    sock = _socket(t, fd)
    take = getattr(sock, "accept", None)
    if take is None:
        raise LinuxError(95)                       # EOPNOTSUPP: the family has no listening sockets
    if address:
        if not length_ptr:
            raise LinuxError(EFAULT)
        t.process.memory.read_u32(length_ptr)      # EFAULT before anything is taken

    def op():
        child = take()
        child.flags = 2 | (O_NONBLOCK if flags & SOCK_NONBLOCK else 0)
        new_fd = t.process.install(child, cloexec=bool(flags & SOCK_CLOEXEC))
        _put_address(t, address, length_ptr, child.peername())
        return new_fd
    return _wait(k, t, sock, op, 0, sock.recv_timeout_ns, f"accept fd {fd}")


@syscall("accept")
def accept(k, t, a):
    return _accept(k, t, s32(a[0]), a[1], a[2], 0)


@syscall("accept4")
def accept4(k, t, a):
    return _accept(k, t, s32(a[0]), a[1], a[2], a[3])


@syscall("socketpair")
def socketpair(k, t, a):
    """AF_UNIX pairs (engine/linux/unixpair.py); other families cannot make pairs (EOPNOTSUPP)."""
    from ..unixpair import AF_UNIX, make_pair
    family, kind, protocol, sv = a[0], a[1], s32(a[2]), a[3]
    base = kind & SOCK_TYPE_MASK
    if family != AF_UNIX:
        raise LinuxError(95 if family == 2 else EAFNOSUPPORT)
    if kind & ~(SOCK_TYPE_MASK | SOCK_NONBLOCK | SOCK_CLOEXEC) or base not in (1, 2, 5):
        raise LinuxError(EINVAL)
    if protocol != 0:
        raise LinuxError(93)                       # EPROTONOSUPPORT
    mem = t.process.memory
    mem.read(sv, 8)
    ctx = OpenContext(t.process, 2, "socket:[1]")
    one, two = make_pair(ctx, 1 if base == 5 else base)
    for end in (one, two):
        end.flags = 2 | (O_NONBLOCK if kind & SOCK_NONBLOCK else 0)
    cloexec = bool(kind & SOCK_CLOEXEC)
    fd1 = t.process.install(one, cloexec)
    fd2 = t.process.install(two, cloexec)
    mem.write(sv, struct.pack("<ii", fd1, fd2))
    return 0
