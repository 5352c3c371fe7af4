"""Device nodes: how the OS layer (sphere_os) puts device files in a process's /dev.

The API (docs/a7.md has a worked example):

    class MyFile(DeviceFile):                      # one instance per open()
        def read(self, count):  ...                 # bytes, or raise WouldBlock (no data yet) / LinuxError(errno)
        def write(self, data):  ...                 # bytes accepted, or raise WouldBlock / LinuxError
        def ioctl(self, request, arg, memory): ...  # int result; memory.read/write follow guest pointers (EFAULT)
        def poll(self): ...                         # POLLIN | POLLOUT | POLLERR | POLLHUP as they stand now
        def release(self): ...                      # the last descriptor was closed

    kernel.devices.register("/dev/thing", lambda ctx: MyFile(ctx), mode=0o600)

`ctx` is an OpenContext: the process that opens (its `app` attribute carries what the OS layer attached: the
app's manifest), the open flags and the path. Refuse an open by raising LinuxError(EACCES) (a manifest that does
not grant the device) or another errno.

Blocking: a read or write that raises WouldBlock returns EAGAIN to an O_NONBLOCK descriptor; otherwise the thread
sleeps until the file calls `self.changed()` (its poll state may have changed: data arrived, room freed, an
error), then the call is tried again. poll/select/epoll on the descriptor use `poll()` and wake on the same
`changed()`. A model event (an IRQ line, a UART byte, a mailbox message) that makes data available calls
`changed()` from the machine's event loop; nothing runs on wall time or in a host thread.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Callable

from .abi import EACCES, EEXIST, ENODEV, ENOENT, POLLIN, POLLOUT, S_IFCHR, S_IFDIR
from .errors import LinuxError
from .vfs import DirectoryFile, FileSystem, Node, OpenFile, Stat


@dataclass
class OpenContext:
    process: object            # engine.linux.kernel.Process (its .app is set by the OS layer)
    flags: int
    path: str


class DeviceFile(OpenFile):
    """Base class of a device file: a character device with no data, always writable, until a subclass says
    otherwise. `self.context` is the OpenContext of the open that created it."""

    def __init__(self, context: OpenContext | None = None) -> None:
        super().__init__(context.flags if context else 0, context.path if context else "")
        self.context = context
        self.node: DeviceNode | None = None

    def read(self, count: int) -> bytes:
        return b""

    def write(self, data: bytes) -> int:
        return len(data)

    def poll(self) -> int:
        return POLLIN | POLLOUT

    def stat(self) -> Stat:
        return self.node.stat() if self.node is not None else Stat(S_IFCHR | 0o600)


Opener = Callable[[OpenContext], DeviceFile]


class DeviceNode(Node):
    """A character device in /dev: `opener(context)` gives a fresh DeviceFile per open."""

    read_only = True

    def __init__(self, opener: Opener, mode: int, rdev: int, fs: "DevFs") -> None:
        self.opener = opener
        self._mode = S_IFCHR | (mode & 0o7777)
        self.rdev = rdev
        self.fs = fs
        self.ino = fs.new_ino()

    def stat(self) -> Stat:
        return Stat(self._mode, 0, self.ino, self.fs.dev, 1, rdev=self.rdev)

    def open(self, flags: int, path: str, context) -> OpenFile:
        ctx = OpenContext(context, flags, path)
        f = self.opener(ctx)
        if not isinstance(f, OpenFile):
            raise LinuxError(ENODEV, f"{path}: device opener returned {type(f).__name__}")
        f.flags = flags
        f.path = path
        if isinstance(f, DeviceFile):
            f.node = self
            f.context = ctx
        return f


class DevDir(Node):
    read_only = True

    def __init__(self, fs: "DevFs") -> None:
        self.fs = fs
        self.children: dict[str, Node] = {}
        self.ino = fs.new_ino()

    def stat(self) -> Stat:
        return Stat(S_IFDIR | 0o755, 0, self.ino, self.fs.dev, 2)

    def lookup(self, name: str) -> Node | None:
        return self.children.get(name)

    def list(self):
        return sorted(self.children.items())

    def open(self, flags: int, path: str, context) -> OpenFile:
        return DirectoryFile(self, flags, path, None)

    def create(self, name: str, mode: int) -> Node:
        raise LinuxError(EACCES)


class DevFs(FileSystem):
    """The /dev file system: a registry of device nodes (nested folders allowed: /dev/azure-sphere/log)."""

    def __init__(self) -> None:
        self.root = DevDir(self)
        self._next_minor = 1

    def register(self, path: str, opener: Opener, mode: int = 0o666, rdev: int | None = None) -> DeviceNode:
        parts = [p for p in path.split("/") if p]
        if parts and parts[0] == "dev":
            parts = parts[1:]
        if not parts:
            raise ValueError(f"device path {path!r} names no file")
        folder = self.root
        for part in parts[:-1]:
            child = folder.children.get(part)
            if child is None:
                child = folder.children[part] = DevDir(self)
            if not isinstance(child, DevDir):
                raise ValueError(f"{path}: {part} is a device, not a folder")
            folder = child
        if parts[-1] in folder.children:
            raise LinuxError(EEXIST, f"{path} is already registered")
        if rdev is None:
            rdev = (10 << 8) | self._next_minor      # misc major 10 (emulator-defined minors)
            self._next_minor += 1
        node = DeviceNode(opener, mode, rdev, self)
        folder.children[parts[-1]] = node
        return node

    def unregister(self, path: str) -> None:
        parts = [p for p in path.split("/") if p]
        if parts and parts[0] == "dev":
            parts = parts[1:]
        folder = self.root
        for part in parts[:-1]:
            folder = folder.children.get(part)
            if not isinstance(folder, DevDir):
                raise LinuxError(ENOENT)
        if folder.children.pop(parts[-1], None) is None:
            raise LinuxError(ENOENT)


# ---- the standard nodes -------------------------------------------------------------------------------------------
class NullFile(DeviceFile):
    def read(self, count: int) -> bytes:
        return b""


class ZeroFile(DeviceFile):
    def read(self, count: int) -> bytes:
        return bytes(max(0, count))


class RandomFile(DeviceFile):
    def __init__(self, context: OpenContext, source: "DeterministicRandom") -> None:
        super().__init__(context)
        self.source = source

    def read(self, count: int) -> bytes:
        return self.source.bytes(max(0, count))


class SinkFile(DeviceFile):
    """A write-only device whose bytes go to a callback (the OS's log streams)."""

    def __init__(self, context: OpenContext, sink: Callable[[bytes], None]) -> None:
        super().__init__(context)
        self.sink = sink

    def read(self, count: int) -> bytes:
        raise LinuxError(22)  # EINVAL

    def write(self, data: bytes) -> int:
        self.sink(bytes(data))
        return len(data)

    def poll(self) -> int:
        return POLLOUT


@dataclass
class DeterministicRandom:
    """getrandom(), /dev/urandom, AT_RANDOM: SHA-256 in counter mode over a seed (emulator-defined), so the
    same seed gives the same bytes on every run."""
    seed: bytes
    counter: int = 0
    _pool: bytearray = field(default_factory=bytearray)

    def bytes(self, n: int) -> bytes:
        while len(self._pool) < n:
            self._pool += hashlib.sha256(self.seed + self.counter.to_bytes(8, "little")).digest()
            self.counter += 1
        out = bytes(self._pool[:n])
        del self._pool[:n]
        return out


def standard_devices(devfs: DevFs, random: DeterministicRandom) -> None:
    """/dev/null, /dev/zero, /dev/random, /dev/urandom (major 1 as on Linux)."""
    devfs.register("/dev/null", NullFile, 0o666, rdev=(1 << 8) | 3)
    devfs.register("/dev/zero", ZeroFile, 0o666, rdev=(1 << 8) | 5)
    devfs.register("/dev/random", lambda ctx: RandomFile(ctx, random), 0o666, rdev=(1 << 8) | 8)
    devfs.register("/dev/urandom", lambda ctx: RandomFile(ctx, random), 0o666, rdev=(1 << 8) | 9)

