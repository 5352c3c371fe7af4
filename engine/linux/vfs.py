"""The virtual file system a process sees: mount points holding file systems, path resolution with symlinks, and
open file descriptions.

File systems here:
- `AsxipfsFs`: an application package's read-only ASXipFS (mt3620/imagepackage/asxipfs.py);
- `HostDirFs`: a host folder (the sysroot, read-only; or a persisted writable tree such as /mnt/config/<id>),
  confined to that folder: paths are walked one component at a time and host symlinks are never followed;
- `MemFs`: a writable in-memory tree (/tmp, the root skeleton);
- `DevFs` (devices.py) and `ProcFs` (procfs.py).

A file system is a tree of `Node`s; opening one gives an `OpenFile` (an open file description: offset, status
flags), which the fd table references. `OpenFile` is also the base of pipes, eventfd, timerfd, epoll and device
files: every one of them is a `Waitable` whose `poll()` gives its readiness.
"""
from __future__ import annotations

import errno as host_errno
import os
import stat as host_stat
from dataclasses import dataclass
from typing import Callable, Iterable

from .abi import (DT_BLK, DT_CHR, DT_DIR, DT_FIFO, DT_LNK, DT_REG, DT_SOCK, DT_UNKNOWN, EACCES, EBADF, EEXIST,
                  EINVAL, EISDIR, ELOOP, ENAMETOOLONG, ENOENT, ENOSPC, ENOTDIR, ENOTEMPTY, ENOTTY, EPERM, EROFS,
                  ESPIPE, EXDEV, O_ACCMODE, O_APPEND, O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_PATH, O_RDONLY,
                  O_TRUNC, O_WRONLY, POLLIN, POLLOUT, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT,
                  S_IFREG, S_IFSOCK, SEEK_CUR, SEEK_END, SEEK_SET)
from .errors import LinuxError
from .waiting import Waitable

MAX_SYMLINKS = 40
# A writable file system without a quota of its own (/tmp, the root skeleton) holds at most this many file bytes:
# a guest's ftruncate(fd, 1 << 40) or pwrite at a huge offset gets ENOSPC instead of making the host allocate the
# bytes (emulator-defined, docs/EMULATOR-DEFINED.md; Linux's tmpfs defaults to half the RAM, and the A7's apps
# have far less than this).
DEFAULT_CAPACITY_BYTES = 64 << 20


def _check_space(fs, extra: int) -> None:
    """ENOSPC when `extra` more bytes would pass the file system's quota (or DEFAULT_CAPACITY_BYTES)."""
    limit = fs.quota_bytes if fs.quota_bytes is not None else DEFAULT_CAPACITY_BYTES
    if extra > 0 and (extra > limit or fs.used_bytes() + extra > limit):
        raise LinuxError(ENOSPC)


class FileSystem:
    """Numbering shared by every file system: inode numbers count up per file system as nodes are made, and the
    device number is given by the VFS in mount order, so two identical runs see identical st_dev/st_ino."""

    dev = 0

    def new_ino(self) -> int:
        self._next_ino = getattr(self, "_next_ino", 1) + 1
        return self._next_ino


@dataclass
class Stat:
    mode: int
    size: int = 0
    ino: int = 0
    dev: int = 0
    nlink: int = 1
    uid: int = 0
    gid: int = 0
    rdev: int = 0
    mtime_ns: int = 0
    blksize: int = 4096

    @property
    def blocks(self) -> int:
        return (self.size + 511) // 512


def dirent_type(mode: int) -> int:
    return {S_IFREG: DT_REG, S_IFDIR: DT_DIR, S_IFLNK: DT_LNK, S_IFCHR: DT_CHR, S_IFBLK: DT_BLK, S_IFIFO: DT_FIFO,
            S_IFSOCK: DT_SOCK}.get(mode & S_IFMT, DT_UNKNOWN)


# ---- open file descriptions -----------------------------------------------------------------------------------------
class OpenFile(Waitable):
    """An open file description. Subclasses implement what their kind of file supports; the defaults give the
    errno Linux gives for an operation the file does not have."""

    seekable = False

    def __init__(self, flags: int = O_RDONLY, path: str = "") -> None:
        super().__init__()
        self.flags = flags
        self.path = path
        self.offset = 0
        self.closed = False

    # readiness: POLLIN / POLLOUT / POLLERR / POLLHUP bits
    def poll(self) -> int:
        return POLLIN | POLLOUT

    def readable(self) -> bool:
        return (self.flags & O_ACCMODE) != O_WRONLY and not self.flags & O_PATH

    def writable(self) -> bool:
        return (self.flags & O_ACCMODE) != O_RDONLY and not self.flags & O_PATH

    def read(self, count: int) -> bytes:
        raise LinuxError(EINVAL, "not readable")

    def write(self, data: bytes) -> int:
        raise LinuxError(EINVAL, "not writable")

    def pread(self, count: int, offset: int) -> bytes:
        raise LinuxError(ESPIPE)

    def pwrite(self, data: bytes, offset: int) -> int:
        raise LinuxError(ESPIPE)

    def seek(self, offset: int, whence: int) -> int:
        raise LinuxError(ESPIPE)

    def ioctl(self, request: int, arg: int, memory) -> int:
        raise LinuxError(ENOTTY)

    def stat(self) -> Stat:
        return Stat(S_IFIFO | 0o600)

    def getdents(self) -> list[tuple[str, int, int]]:
        raise LinuxError(ENOTDIR)

    def truncate(self, length: int) -> None:
        raise LinuxError(EINVAL)

    def mmap_bytes(self, offset: int, length: int) -> bytes:
        raise LinuxError(19, "this file cannot be mapped")  # ENODEV

    def release(self) -> None:
        """The last descriptor referring to this open file was closed."""


class SeekableFile(OpenFile):
    """Common offset handling for files with a size."""

    seekable = True

    def size(self) -> int:
        return 0

    def seek(self, offset: int, whence: int) -> int:
        base = {SEEK_SET: 0, SEEK_CUR: self.offset, SEEK_END: self.size()}.get(whence)
        if base is None or base + offset < 0:
            raise LinuxError(EINVAL)
        self.offset = base + offset
        return self.offset

    def read(self, count: int) -> bytes:
        data = self.pread(count, self.offset)
        self.offset += len(data)
        return data

    def write(self, data: bytes) -> int:
        if self.flags & O_APPEND:
            self.offset = self.size()
        n = self.pwrite(data, self.offset)
        self.offset += n
        return n

    def mmap_bytes(self, offset: int, length: int) -> bytes:
        return self.pread(length, offset)


class BytesFile(SeekableFile):
    """A read-only regular file whose bytes are known (ASXipFS, host files)."""

    def __init__(self, node: "Node", content: bytes, flags: int, path: str) -> None:
        super().__init__(flags, path)
        self.node = node
        self.content = content

    def size(self) -> int:
        return len(self.content)

    def pread(self, count: int, offset: int) -> bytes:
        return self.content[offset:offset + max(0, count)]

    def pwrite(self, data: bytes, offset: int) -> int:
        raise LinuxError(EBADF)

    def stat(self) -> Stat:
        return self.node.stat()


class DirectoryFile(OpenFile):
    """An open directory: getdents64 walks its entries once."""

    def __init__(self, node: "Node", flags: int, path: str, parent: "Node | None") -> None:
        super().__init__(flags, path)
        self.node = node
        self.parent = parent or node
        self._entries: list[tuple[str, int, int]] | None = None

    def entries(self) -> list[tuple[str, int, int]]:
        if self._entries is None:
            own = self.node.stat()
            up = self.parent.stat()
            self._entries = [(".", own.ino, DT_DIR), ("..", up.ino, DT_DIR)]
            for name, child in self.node.list():
                st = child.stat()
                self._entries.append((name, st.ino, dirent_type(st.mode)))
        return self._entries

    def getdents(self) -> list[tuple[str, int, int]]:
        return self.entries()

    def seek(self, offset: int, whence: int) -> int:
        if whence != SEEK_SET or offset < 0:
            raise LinuxError(EINVAL)
        self.offset = offset
        if offset == 0:
            self._entries = None
        return offset

    def read(self, count: int) -> bytes:
        raise LinuxError(EISDIR)

    def stat(self) -> Stat:
        return self.node.stat()


# ---- nodes --------------------------------------------------------------------------------------------------------
class Node:
    """One file, directory, symlink or device in some file system."""

    read_only = True

    def stat(self) -> Stat:
        raise NotImplementedError

    @property
    def mode(self) -> int:
        known = getattr(self, "_mode", None)
        return known if known is not None else self.stat().mode

    def is_dir(self) -> bool:
        return self.mode & S_IFMT == S_IFDIR

    def is_symlink(self) -> bool:
        return self.mode & S_IFMT == S_IFLNK

    # directories
    def lookup(self, name: str) -> "Node | None":
        raise LinuxError(ENOTDIR)

    def list(self) -> Iterable[tuple[str, "Node"]]:
        raise LinuxError(ENOTDIR)

    def create(self, name: str, mode: int) -> "Node":
        raise LinuxError(EROFS if self.read_only else EPERM)

    def mkdir(self, name: str, mode: int) -> "Node":
        raise LinuxError(EROFS if self.read_only else EPERM)

    def unlink(self, name: str, directory: bool) -> None:
        raise LinuxError(EROFS if self.read_only else EPERM)

    def rename(self, name: str, new_dir: "Node", new_name: str) -> None:
        raise LinuxError(EROFS if self.read_only else EXDEV)

    # symlinks
    def readlink(self) -> str:
        raise LinuxError(EINVAL)

    # files
    def open(self, flags: int, path: str, context) -> OpenFile:
        raise LinuxError(EACCES)


class MemNode(Node):
    """A writable in-memory node (directory, regular file or symlink)."""

    read_only = False

    def __init__(self, mode: int, fs: "MemFs", target: str = "") -> None:
        self.fs = fs
        self._mode = mode
        self.ino = fs.new_ino()
        self.children: dict[str, Node] = {}
        self.data = bytearray()
        self.target = target
        self.mtime_ns = 0

    def stat(self) -> Stat:
        size = len(self.data) if self._mode & S_IFMT == S_IFREG else (len(self.target) if self.target else 0)
        return Stat(self._mode, size, self.ino, self.fs.dev, 1 if not self.is_dir() else 2 + len(self.children),
                    mtime_ns=self.mtime_ns)

    def lookup(self, name: str) -> Node | None:
        if not self.is_dir():
            raise LinuxError(ENOTDIR)
        return self.children.get(name)

    def list(self):
        if not self.is_dir():
            raise LinuxError(ENOTDIR)
        return sorted(self.children.items())

    def _check_space(self, extra: int) -> None:
        _check_space(self.fs, extra)

    def create(self, name: str, mode: int) -> Node:
        if self.fs.read_only:
            raise LinuxError(EROFS)
        node = MemNode(S_IFREG | (mode & 0o7777), self.fs)
        self.children[name] = node
        return node

    def mkdir(self, name: str, mode: int) -> Node:
        if self.fs.read_only:
            raise LinuxError(EROFS)
        if name in self.children:
            raise LinuxError(EEXIST)
        node = MemNode(S_IFDIR | (mode & 0o7777), self.fs)
        self.children[name] = node
        return node

    def symlink(self, name: str, target: str) -> Node:
        node = MemNode(S_IFLNK | 0o777, self.fs, target)
        self.children[name] = node
        return node

    def unlink(self, name: str, directory: bool) -> None:
        if self.fs.read_only:
            raise LinuxError(EROFS)
        node = self.children.get(name)
        if node is None:
            raise LinuxError(ENOENT)
        if directory != node.is_dir():
            raise LinuxError(ENOTDIR if directory else EISDIR)
        if directory and getattr(node, "children", None):
            raise LinuxError(ENOTEMPTY)
        del self.children[name]

    def rename(self, name: str, new_dir: Node, new_name: str) -> None:
        if not isinstance(new_dir, MemNode) or new_dir.fs is not self.fs:
            raise LinuxError(EXDEV)
        node = self.children.get(name)
        if node is None:
            raise LinuxError(ENOENT)
        del self.children[name]
        new_dir.children[new_name] = node

    def readlink(self) -> str:
        if not self.is_symlink():
            raise LinuxError(EINVAL)
        return self.target

    def open(self, flags: int, path: str, context) -> OpenFile:
        if self.is_dir():
            return DirectoryFile(self, flags, path, None)
        if self.fs.read_only and (flags & O_ACCMODE) != O_RDONLY:
            raise LinuxError(EROFS)
        if flags & O_TRUNC and (flags & O_ACCMODE) != O_RDONLY:
            self.data.clear()
        return MemFile(self, flags, path)


class MemFile(SeekableFile):
    def __init__(self, node: MemNode, flags: int, path: str) -> None:
        super().__init__(flags, path)
        self.node = node

    def size(self) -> int:
        return len(self.node.data)

    def pread(self, count: int, offset: int) -> bytes:
        return bytes(self.node.data[offset:offset + max(0, count)])

    def pwrite(self, data: bytes, offset: int) -> int:
        grow = max(0, offset + len(data) - len(self.node.data))
        self.node._check_space(grow)
        if offset > len(self.node.data):
            self.node.data.extend(bytes(offset - len(self.node.data)))
        self.node.data[offset:offset + len(data)] = data
        self.node.fs.changed()
        return len(data)

    def truncate(self, length: int) -> None:
        if length > len(self.node.data):
            self.node._check_space(length - len(self.node.data))
            self.node.data.extend(bytes(length - len(self.node.data)))
        else:
            del self.node.data[length:]
        self.node.fs.changed()

    def stat(self) -> Stat:
        return self.node.stat()


class MemFs(FileSystem):
    """An in-memory tree. `quota_bytes` caps the file bytes it holds (ENOSPC past it); `on_change` is called
    after every modification (a persisting owner saves the tree then)."""

    def __init__(self, read_only: bool = False, quota_bytes: int | None = None,
                 on_change: Callable[[], None] | None = None) -> None:
        self.read_only = read_only
        self.quota_bytes = quota_bytes
        self.on_change = on_change
        self.root = MemNode(S_IFDIR | 0o755, self)

    def used_bytes(self) -> int:
        total, stack = 0, [self.root]
        while stack:
            node = stack.pop()
            total += len(node.data)
            stack.extend(c for c in node.children.values() if isinstance(c, MemNode))
        return total

    def changed(self) -> None:
        if self.on_change:
            self.on_change()

    def makedirs(self, path: str) -> MemNode:
        node = self.root
        for part in [p for p in path.split("/") if p]:
            child = node.children.get(part)
            if child is None:
                child = node.children[part] = MemNode(S_IFDIR | 0o755, self)
            node = child
        return node

    def add_file(self, path: str, data: bytes, mode: int = 0o644) -> MemNode:
        parent, _, name = path.strip("/").rpartition("/")
        node = MemNode(S_IFREG | mode, self)
        node.data[:] = data
        self.makedirs(parent).children[name] = node
        return node

    # snapshots (persisting a tree in a device's state)
    def export(self) -> dict[str, bytes]:
        out: dict[str, bytes] = {}

        def walk(node: MemNode, prefix: str) -> None:
            for name, child in sorted(node.children.items()):
                if isinstance(child, MemNode):
                    if child.is_dir():
                        out[prefix + name + "/"] = b""
                        walk(child, prefix + name + "/")
                    elif child._mode & S_IFMT == S_IFREG:
                        out[prefix + name] = bytes(child.data)
        walk(self.root, "/")
        return out

    def load(self, files: dict[str, bytes]) -> None:
        for path, data in sorted(files.items()):
            if path.endswith("/"):
                self.makedirs(path)
            else:
                self.add_file(path, data)


class AsxipfsNode(Node):
    """A node of an application package's ASXipFS (read-only)."""

    def __init__(self, fs: "AsxipfsFs", path: str, mode: int, size: int) -> None:
        self.fs = fs
        self.path = path
        self._mode = mode
        self.size = size
        self.ino = fs.new_ino()

    def stat(self) -> Stat:
        return Stat(self._mode & ~0o1000 if self._mode & S_IFMT == S_IFREG else self._mode, self.size, self.ino,
                    self.fs.dev, 2 if self.is_dir() else 1)

    def lookup(self, name: str) -> Node | None:
        if not self.is_dir():
            raise LinuxError(ENOTDIR)
        return self.fs.nodes.get((self.path.rstrip("/") + "/" + name) if self.path != "/" else "/" + name)

    def list(self):
        if not self.is_dir():
            raise LinuxError(ENOTDIR)
        prefix = "" if self.path == "/" else self.path
        return [(p[len(prefix) + 1:], n) for p, n in sorted(self.fs.nodes.items())
                if p != "/" and p.rpartition("/")[0] == prefix]

    def open(self, flags: int, path: str, context) -> OpenFile:
        if (flags & O_ACCMODE) != O_RDONLY or flags & O_TRUNC:
            raise LinuxError(EROFS)
        if self.is_dir():
            return DirectoryFile(self, flags, path, None)
        return BytesFile(self, self.fs.filesystem.files[self.path], flags, path)


class AsxipfsFs(FileSystem):
    """An image package's file system mounted read-only (what the OS mounts at /mnt/apps/<component id>)."""

    read_only = True

    def __init__(self, filesystem) -> None:
        self.filesystem = filesystem
        self.nodes: dict[str, AsxipfsNode] = {"/": AsxipfsNode(self, "/", S_IFDIR | 0o755, 0)}
        for entry in filesystem.entries:
            self.nodes[entry.path] = AsxipfsNode(self, entry.path, entry.mode, entry.size)
        self.root = self.nodes["/"]


class HostNode(Node):
    """A file or directory inside a host folder; never leaves that folder (host symlinks are reported as
    symlinks and resolved by the VFS in the guest's namespace)."""

    def __init__(self, fs: "HostDirFs", rel: str) -> None:
        self.fs = fs
        self.rel = rel          # relative to the root, "" for the root itself
        self.read_only = fs.read_only

    @property
    def host_path(self) -> str:
        return os.path.join(self.fs.root_path, self.rel) if self.rel else self.fs.root_path

    def _lstat(self):
        try:
            return os.lstat(self.host_path)
        except OSError as exc:
            raise LinuxError(_errno_from_host(exc)) from None

    def stat(self) -> Stat:
        st = self._lstat()
        mode = st.st_mode
        kind = host_stat.S_IFMT(mode)
        if kind not in (host_stat.S_IFREG, host_stat.S_IFDIR, host_stat.S_IFLNK):
            mode = S_IFREG | 0o000          # sockets, fifos, devices on the host are not the guest's
        return Stat(mode, st.st_size, self.fs.ino_for(self.rel), self.fs.dev, st.st_nlink,
                    mtime_ns=st.st_mtime_ns if not self.read_only else 0)

    def _child(self, name: str) -> "HostNode":
        return HostNode(self.fs, f"{self.rel}/{name}" if self.rel else name)

    def lookup(self, name: str) -> Node | None:
        if not self.is_dir():
            raise LinuxError(ENOTDIR)
        child = self._child(name)
        return child if os.path.lexists(child.host_path) else None

    def list(self):
        if not self.is_dir():
            raise LinuxError(ENOTDIR)
        try:
            names = sorted(os.listdir(self.host_path))
        except OSError as exc:
            raise LinuxError(_errno_from_host(exc)) from None
        return [(n, self._child(n)) for n in names]

    def readlink(self) -> str:
        if not self.is_symlink():
            raise LinuxError(EINVAL)
        return os.readlink(self.host_path)

    def _writable(self) -> None:
        if self.read_only:
            raise LinuxError(EROFS)

    def create(self, name: str, mode: int) -> Node:
        self._writable()
        child = self._child(name)
        try:
            fd = os.open(child.host_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0),
                         0o600)
            os.close(fd)
        except OSError as exc:
            raise LinuxError(_errno_from_host(exc)) from None
        return child

    def mkdir(self, name: str, mode: int) -> Node:
        self._writable()
        child = self._child(name)
        try:
            os.mkdir(child.host_path, 0o700)
        except OSError as exc:
            raise LinuxError(_errno_from_host(exc)) from None
        return child

    def unlink(self, name: str, directory: bool) -> None:
        self._writable()
        child = self._child(name)
        try:
            os.rmdir(child.host_path) if directory else os.unlink(child.host_path)
        except OSError as exc:
            raise LinuxError(_errno_from_host(exc)) from None

    def rename(self, name: str, new_dir: Node, new_name: str) -> None:
        self._writable()
        if not isinstance(new_dir, HostNode) or new_dir.fs is not self.fs:
            raise LinuxError(EXDEV)
        try:
            os.replace(self._child(name).host_path, new_dir._child(new_name).host_path)
        except OSError as exc:
            raise LinuxError(_errno_from_host(exc)) from None

    def open(self, flags: int, path: str, context) -> OpenFile:
        if self.is_dir():
            return DirectoryFile(self, flags, path, None)
        if self.read_only:
            if (flags & O_ACCMODE) != O_RDONLY or flags & O_TRUNC:
                raise LinuxError(EROFS)
            content = self.fs.cached(self.rel)
            return BytesFile(self, content, flags, path)
        return HostFile(self, flags, path)


class HostFile(SeekableFile):
    """A writable host-backed file (a persisted tree); every write goes straight to the host file."""

    def __init__(self, node: HostNode, flags: int, path: str) -> None:
        super().__init__(flags, path)
        self.node = node
        if flags & O_TRUNC and (flags & O_ACCMODE) != O_RDONLY:
            self.truncate(0)

    def size(self) -> int:
        return self.node._lstat().st_size

    def pread(self, count: int, offset: int) -> bytes:
        with open(self.node.host_path, "rb") as f:
            f.seek(offset)
            return f.read(max(0, count))

    def pwrite(self, data: bytes, offset: int) -> int:
        fs = self.node.fs
        _check_space(fs, offset + len(data) - self.size())
        with open(self.node.host_path, "r+b") as f:
            f.seek(offset)
            f.write(data)
        return len(data)

    def truncate(self, length: int) -> None:
        fs = self.node.fs
        _check_space(fs, length - self.size())
        os.truncate(self.node.host_path, length)

    def stat(self) -> Stat:
        return self.node.stat()


class HostDirFs(FileSystem):
    """A host folder as a file system: read-only (the sysroot; file contents cached) or writable and persisted
    (with an optional byte quota)."""

    def __init__(self, root_path: str | os.PathLike, read_only: bool = True, quota_bytes: int | None = None) -> None:
        self.root_path = os.path.abspath(os.fspath(root_path))
        if not os.path.isdir(self.root_path):
            raise FileNotFoundError(f"{self.root_path}: not a folder")
        self.read_only = read_only
        self.quota_bytes = quota_bytes
        self.root = HostNode(self, "")
        self._cache: dict[str, bytes] = {}
        self._inos: dict[str, int] = {}

    def ino_for(self, rel: str) -> int:
        """Inode numbers by path, in the order files are first seen (host inode numbers would differ per host)."""
        ino = self._inos.get(rel)
        if ino is None:
            ino = self._inos[rel] = self.new_ino()
        return ino

    def cached(self, rel: str) -> bytes:
        data = self._cache.get(rel)
        if data is None:
            try:
                with open(os.path.join(self.root_path, rel), "rb") as f:
                    data = f.read()
            except OSError as exc:
                raise LinuxError(_errno_from_host(exc)) from None
            self._cache[rel] = data
        return data

    def used_bytes(self) -> int:
        total = 0
        for here, _dirs, files in os.walk(self.root_path):
            for name in files:
                try:
                    total += os.lstat(os.path.join(here, name)).st_size
                except OSError:
                    pass
        return total


def _errno_from_host(exc: OSError) -> int:
    """Host errno -> Linux errno by name (the host may not be Linux)."""
    from .abi import ERRNO_NAMES
    name = host_errno.errorcode.get(exc.errno or 0, "EIO")
    for number, linux_name in ERRNO_NAMES.items():
        if linux_name == name:
            return number
    return 5  # EIO


# ---- the mount table and path resolution ----------------------------------------------------------------------
@dataclass
class Resolved:
    node: Node | None          # None: the last component does not exist (parent is set)
    parent: Node | None
    name: str
    path: str                  # absolute, normalised


class Vfs:
    def __init__(self, root: Node) -> None:
        self.root = root
        self.mounts: dict[str, Node] = {}          # "/mnt/apps/<id>" -> the mounted file system's root node
        self._next_dev = 1
        self._number(root)

    def _number(self, root: Node) -> None:
        fs = getattr(root, "fs", None)
        if fs is not None and not fs.dev:
            fs.dev = self._next_dev
            self._next_dev += 1

    def mount(self, path: str, root: Node) -> None:
        path = "/" + "/".join(p for p in path.split("/") if p)
        self.mounts[path] = root
        self._number(root)

    def unmount(self, path: str) -> None:
        self.mounts.pop("/" + "/".join(p for p in path.split("/") if p), None)

    def _at(self, parts: list[str], node: Node) -> Node:
        key = "/" + "/".join(parts)
        return self.mounts.get(key, node)

    def resolve(self, path: str, cwd: str = "/", follow: bool = True, must_exist: bool = True) -> Resolved:
        """Walk `path` (relative to `cwd`) through mounts and symlinks. With `must_exist` false a missing last
        component is allowed (O_CREAT, mkdir): the result has node None and its parent."""
        if not path:
            raise LinuxError(ENOENT)
        if len(path) >= 4096:
            raise LinuxError(ENAMETOOLONG)
        pending = [p for p in path.split("/") if p and p != "."]
        if not path.startswith("/"):
            pending = [p for p in cwd.split("/") if p] + pending
        pending.reverse()
        parts: list[str] = []
        nodes: list[Node] = [self._at([], self.root)]
        links = 0
        while pending:
            name = pending.pop()
            if name == ".":
                continue
            if name == "..":
                if parts:
                    parts.pop()
                    nodes.pop()
                continue
            if len(name) > 255:
                raise LinuxError(ENAMETOOLONG)
            current = nodes[-1]
            if not current.is_dir():
                raise LinuxError(ENOTDIR)
            child = current.lookup(name)
            if child is not None:
                child = self._at(parts + [name], child)
            elif "/" + "/".join(parts + [name]) in self.mounts:
                child = self.mounts["/" + "/".join(parts + [name])]
            if child is None:
                if pending or must_exist:
                    raise LinuxError(ENOENT)
                return Resolved(None, current, name, "/" + "/".join(parts + [name]))
            last = not pending
            if child.is_symlink() and (follow or not last):
                links += 1
                if links > MAX_SYMLINKS:
                    raise LinuxError(ELOOP)
                target = child.readlink()
                if target.startswith("/"):
                    parts, nodes = [], [self._at([], self.root)]
                pending.extend(reversed([p for p in target.split("/") if p and p != "."]))
                continue
            parts.append(name)
            nodes.append(child)
        node = nodes[-1]
        parent = nodes[-2] if len(nodes) > 1 else node
        return Resolved(node, parent, parts[-1] if parts else "", "/" + "/".join(parts))

    def open(self, path: str, flags: int, mode: int, cwd: str, context) -> OpenFile:
        nofollow = bool(flags & O_NOFOLLOW)
        creating = bool(flags & O_CREAT)
        res = self.resolve(path, cwd, follow=not nofollow, must_exist=not creating)
        if res.node is None:
            node = res.parent.create(res.name, mode & ~getattr(context, "umask", 0o022))
            res = Resolved(node, res.parent, res.name, res.path)
        elif creating and flags & O_EXCL:
            raise LinuxError(EEXIST)
        node = res.node
        if node.is_symlink():
            raise LinuxError(ELOOP)
        if flags & O_DIRECTORY and not node.is_dir():
            raise LinuxError(ENOTDIR)
        if node.is_dir() and (flags & O_ACCMODE) != O_RDONLY:
            raise LinuxError(EISDIR)
        if flags & O_PATH:
            return PathFile(node, flags, res.path)
        opened = node.open(flags, res.path, context)
        if isinstance(opened, DirectoryFile):
            opened.parent = res.parent
        return opened


class PathFile(OpenFile):
    """An O_PATH descriptor: names a file for *at() calls and fstat, nothing else."""

    def __init__(self, node: Node, flags: int, path: str) -> None:
        super().__init__(flags, path)
        self.node = node

    def stat(self) -> Stat:
        return self.node.stat()

    def read(self, count: int) -> bytes:
        raise LinuxError(EBADF)

    def write(self, data: bytes) -> int:
        raise LinuxError(EBADF)
