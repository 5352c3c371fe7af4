"""GDB's host I/O (vFile packets) on the A7's virtual file system: how GDB reads the program and its shared
libraries from the target (`set sysroot target:`, GDB's default), so their symbols line up with no local copy.

Read-only: a debugger may open, read, stat and readlink files (the app package, the sysroot, /proc); opening for
writing and unlinking are refused with EACCES. Numbers follow the File-I/O protocol (GDB manual, "File-I/O Remote
Protocol Extension"): its open flags, its errno values, and its big-endian `struct stat`.
"""
from __future__ import annotations

import struct

from mt3620.engine.linux.abi import O_RDONLY
from mt3620.engine.linux.errors import LinuxError

# File-I/O errno values ("Errno Values"); others are EUNKNOWN.
FILEIO_ERRNO = {1: 1, 2: 2, 4: 4, 9: 9, 13: 13, 14: 14, 16: 16, 17: 17, 19: 19, 20: 20, 21: 21, 22: 22, 23: 23,
                24: 24, 27: 27, 28: 28, 29: 29, 30: 30, 36: 91}
EUNKNOWN, EACCES, EBADF, EMFILE = 9999, 13, 9, 24
O_ACCMODE, O_CREAT, O_TRUNC, O_EXCL = 3, 0x200, 0x400, 0x800     # File-I/O open flags
MAX_OPEN = 64


class HostIoError(Exception):
    def __init__(self, errno: int) -> None:
        super().__init__(errno)
        self.errno = errno


def fileio_errno(linux: int) -> int:
    return FILEIO_ERRNO.get(linux, EUNKNOWN)


class HostIo:
    """The files one debugger has open through vFile (closed when it detaches)."""

    def __init__(self, kernel) -> None:
        self.kernel = kernel
        self.files: dict[int, object] = {}

    def open(self, path: str, flags: int, mode: int) -> int:
        if flags & O_ACCMODE or flags & (O_CREAT | O_TRUNC | O_EXCL):
            raise HostIoError(EACCES)
        if len(self.files) >= MAX_OPEN:
            raise HostIoError(EMFILE)
        try:
            f = self.kernel.vfs.open(path, O_RDONLY, 0, "/", None)
        except LinuxError as exc:
            raise HostIoError(fileio_errno(exc.errno)) from None
        fd = next(n for n in range(MAX_OPEN + 1) if n not in self.files)
        self.files[fd] = f
        return fd

    def _file(self, fd: int):
        f = self.files.get(fd)
        if f is None:
            raise HostIoError(EBADF)
        return f

    def pread(self, fd: int, count: int, offset: int) -> bytes:
        f = self._file(fd)
        try:
            return f.pread(count, offset)
        except LinuxError as exc:
            raise HostIoError(fileio_errno(exc.errno)) from None

    def fstat(self, fd: int) -> bytes:
        f = self._file(fd)
        try:
            st = f.stat()
        except LinuxError as exc:
            raise HostIoError(fileio_errno(exc.errno)) from None
        mtime = (st.mtime_ns // 1_000_000_000) & 0xFFFFFFFF
        blocks = (st.size + 511) // 512
        return struct.pack(">7I3Q3I", st.dev & 0xFFFFFFFF, st.ino & 0xFFFFFFFF, st.mode, st.nlink,
                           st.uid, st.gid, st.rdev & 0xFFFFFFFF, st.size, st.blksize, blocks, mtime, mtime, mtime)

    def readlink(self, path: str) -> str:
        try:
            res = self.kernel.vfs.resolve(path, "/", follow=False)
            if res.node is None or not res.node.is_symlink():
                raise HostIoError(22)
            return res.node.readlink()
        except LinuxError as exc:
            raise HostIoError(fileio_errno(exc.errno)) from None

    def close(self, fd: int) -> None:
        f = self.files.pop(fd, None)
        if f is None:
            raise HostIoError(EBADF)
        f.release()

    def close_all(self) -> None:
        for fd in list(self.files):
            self.close(fd)
