"""Files and descriptors: open/read/write and friends, stat, directories, fcntl, ioctl, pipes."""
from __future__ import annotations

import struct

from .. import abi
from ..abi import (AT_EMPTY_PATH, AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_NOFOLLOW, EBADF, EEXIST, EFAULT,
                   EINVAL, EISDIR, ENOENT, ENOTDIR, ENOTTY, EPIPE, ERANGE, ESPIPE, O_CLOEXEC, O_CREAT,
                   O_DIRECTORY, O_NONBLOCK, O_RDONLY, S_IFDIR, S_IFLNK, S_IFMT)
from ..errors import LinuxError
from ..files import make_pipe
from ..vfs import DirectoryFile, OpenFile, PathFile
from ..waiting import Block, attempt
from . import s32, s64, syscall, u64

STATUS_FLAGS = abi.O_APPEND | abi.O_ASYNC | abi.O_DIRECT | abi.O_NOATIME | O_NONBLOCK


# ---- helpers ---------------------------------------------------------------------------------------------------------
def _base_dir(t, dirfd: int) -> str:
    dirfd = s32(dirfd)
    if dirfd == AT_FDCWD:
        return t.process.cwd
    f = t.process.file(dirfd)
    node = getattr(f, "node", None)
    if node is None or not node.is_dir():
        raise LinuxError(ENOTDIR)
    return f.path


def _at_path(t, dirfd: int, path_address: int) -> tuple[str, str]:
    """(path, the directory it is relative to) of an *at syscall: `dirfd` (AT_FDCWD: the current directory) for a
    relative path; an absolute path ignores dirfd (openat(2))."""
    path = _path(t, path_address)
    return path, (_base_dir(t, dirfd) if not path.startswith("/") else "/")


def at_syscall(classic: str, at: str, args: int):
    """Register `impl(k, t, dirfd, path, ...)` (`args` arguments after dirfd) as the *at syscall `at` (dirfd in r0)
    and as its classic form `classic`: the same arguments without dirfd, from the current directory (AT_FDCWD)."""
    def register(impl):
        syscall(at)(lambda k, t, a: impl(k, t, *a[:args + 1]))
        syscall(classic)(lambda k, t, a: impl(k, t, AT_FDCWD, *a[:args]))
        return impl
    return register


def _path(t, address: int) -> str:
    if not address:
        raise LinuxError(EFAULT)
    return t.process.memory.read_path(address)


def blocking_io(k, t, f: OpenFile, op, what: str):
    """Run `op()` now; if the file has nothing (WouldBlock): EAGAIN for O_NONBLOCK, else wait for the file."""
    return attempt(op, f, nonblocking=bool(f.flags & O_NONBLOCK), what=what)


def _epipe(k, t):
    k.send_signal(abi.SIGPIPE, thread=t)
    return -EPIPE


# ---- open / close ----------------------------------------------------------------------------------------------------
@at_syscall("open", "openat", args=3)
def do_open(k, t, dirfd: int, path_address: int, flags: int, mode: int) -> int:
    path, base = _at_path(t, dirfd, path_address)
    f = k.vfs.open(path, flags, mode & 0o7777, base, t.process)
    f.flags = flags & ~(O_CREAT | abi.O_EXCL | abi.O_NOCTTY | abi.O_TRUNC | O_CLOEXEC)
    try:
        return t.process.install(f, cloexec=bool(flags & O_CLOEXEC))
    except LinuxError:
        f.release()
        raise


@syscall("creat")
def creat(k, t, a):
    return do_open(k, t, AT_FDCWD, a[0], abi.O_CREAT | abi.O_WRONLY | abi.O_TRUNC, a[1])


@syscall("close")
def close(k, t, a):
    t.process.close(s32(a[0]))
    return 0


@syscall("close_range")
def close_range(k, t, a):
    first, last = a[0], a[1]
    for fd in sorted(t.process.fds):
        if first <= fd <= last:
            if a[2] & 4:   # CLOSE_RANGE_CLOEXEC
                t.process.fds[fd].cloexec = True
            else:
                t.process.close(fd)
    return 0


# ---- read / write ----------------------------------------------------------------------------------------------------
@syscall("read")
def read(k, t, a):
    fd, buf, count = s32(a[0]), a[1], a[2]
    f = t.process.file(fd)
    if not f.readable():
        raise LinuxError(EBADF)
    if isinstance(f, DirectoryFile):
        raise LinuxError(EISDIR)
    mem = t.process.memory
    mem._check(buf, min(count, 1 << 20), abi.PROT_WRITE)

    def op():
        data = f.read(min(count, 1 << 20))
        mem.write(buf, data)
        return len(data)
    return blocking_io(k, t, f, op, f"read fd {fd}")


@syscall("write")
def write(k, t, a):
    fd, buf, count = s32(a[0]), a[1], a[2]
    f = t.process.file(fd)
    if not f.writable():
        raise LinuxError(EBADF)
    data = t.process.memory.read(buf, min(count, 1 << 20))
    try:
        return blocking_io(k, t, f, lambda: f.write(data), f"write fd {fd}")
    except LinuxError as exc:
        if exc.errno == EPIPE:
            return _epipe(k, t)
        raise


def _iovecs(t, address: int, count: int) -> list[tuple[int, int]]:
    if count > abi.IOV_MAX or s32(count) < 0:
        raise LinuxError(EINVAL)
    raw = t.process.memory.read(address, 8 * count)
    return [struct.unpack_from("<II", raw, 8 * i) for i in range(count)]


@syscall("readv")
def readv(k, t, a):
    fd = s32(a[0])
    f = t.process.file(fd)
    if not f.readable():
        raise LinuxError(EBADF)
    vecs = _iovecs(t, a[1], a[2])
    mem = t.process.memory
    total = sum(length for _, length in vecs)

    def op():
        data = f.read(total)
        at = 0
        for base, length in vecs:
            if at >= len(data):
                break
            mem.write(base, data[at:at + length])
            at += length
        return len(data)
    return blocking_io(k, t, f, op, f"readv fd {fd}")


@syscall("writev")
def writev(k, t, a):
    fd = s32(a[0])
    f = t.process.file(fd)
    if not f.writable():
        raise LinuxError(EBADF)
    data = b"".join(t.process.memory.read(base, length) for base, length in _iovecs(t, a[1], a[2]))
    try:
        return blocking_io(k, t, f, lambda: f.write(data), f"writev fd {fd}")
    except LinuxError as exc:
        if exc.errno == EPIPE:
            return _epipe(k, t)
        raise


@syscall("pread64")
def pread64(k, t, a):
    f = t.process.file(s32(a[0]))
    if not f.readable():
        raise LinuxError(EBADF)
    offset = s64(a[4], a[5])       # r3 is padding: the 64-bit offset is in r4:r5
    if offset < 0:
        raise LinuxError(EINVAL)
    data = f.pread(a[2], offset)
    t.process.memory.write(a[1], data)
    return len(data)


@syscall("pwrite64")
def pwrite64(k, t, a):
    f = t.process.file(s32(a[0]))
    if not f.writable():
        raise LinuxError(EBADF)
    offset = s64(a[4], a[5])
    if offset < 0:
        raise LinuxError(EINVAL)
    return f.pwrite(t.process.memory.read(a[1], a[2]), offset)


@syscall("preadv")
def preadv(k, t, a):
    f = t.process.file(s32(a[0]))
    vecs = _iovecs(t, a[1], a[2])
    offset = s64(a[3], a[4])
    data = f.pread(sum(n for _, n in vecs), offset)
    at = 0
    for base, length in vecs:
        t.process.memory.write(base, data[at:at + length])
        at += length
    return len(data)


@syscall("pwritev")
def pwritev(k, t, a):
    f = t.process.file(s32(a[0]))
    data = b"".join(t.process.memory.read(b, n) for b, n in _iovecs(t, a[1], a[2]))
    return f.pwrite(data, s64(a[3], a[4]))


@syscall("lseek")
def lseek(k, t, a):
    f = t.process.file(s32(a[0]))
    result = f.seek(s32(a[1]), a[2])
    if result > 0x7FFFFFFF:
        raise LinuxError(abi.EOVERFLOW)
    return result


@syscall("_llseek")
def llseek(k, t, a):
    f = t.process.file(s32(a[0]))
    offset = s64(a[2], a[1])     # (fd, offset_high, offset_low, result*, whence)
    result = f.seek(offset, a[4])
    t.process.memory.write(a[3], struct.pack("<q", result))
    return 0


# ---- stat ------------------------------------------------------------------------------------------------------------
def _stat_target(k, t, dirfd: int, path_address: int, flags: int):
    if flags & AT_EMPTY_PATH and path_address:
        path = t.process.memory.read_path(path_address)
        if path == "":
            dirfd = s32(dirfd)
            if dirfd == AT_FDCWD:
                return k.vfs.resolve(t.process.cwd).node.stat()
            return t.process.file(dirfd).stat()
    path, base = _at_path(t, dirfd, path_address)
    return k.vfs.resolve(path, base, follow=not flags & AT_SYMLINK_NOFOLLOW).node.stat()


def pack_stat64(st) -> bytes:
    """struct stat64 (arch/arm/include/uapi/asm/stat.h), 104 bytes."""
    sec, nsec = divmod(st.mtime_ns, 1_000_000_000)
    return struct.pack("<Q4xIIIIIQ4xxxxxqIxxxxQIIIIIIQ", st.dev, st.ino & 0xFFFFFFFF, st.mode, st.nlink, st.uid,
                       st.gid, st.rdev, st.size, st.blksize, st.blocks, sec, nsec, sec, nsec, sec, nsec, st.ino)


def pack_statx(st, mask: int) -> bytes:
    """struct statx (include/uapi/linux/stat.h), 256 bytes."""
    sec, nsec = divmod(st.mtime_ns, 1_000_000_000)
    ts = struct.pack("<qIi", sec, nsec, 0)
    head = struct.pack("<IIQIIIHHQQQQ", 0x7FF, st.blksize, 0, st.nlink, st.uid, st.gid, st.mode, 0, st.ino,
                       st.size, st.blocks, 0)
    tail = struct.pack("<IIII", st.rdev >> 8, st.rdev & 0xFF, st.dev >> 8, st.dev & 0xFF)
    return (head + ts * 4 + tail).ljust(256, b"\0")


@syscall("stat64")
def stat64(k, t, a):
    t.process.memory.write(a[1], pack_stat64(_stat_target(k, t, AT_FDCWD, a[0], 0)))
    return 0


@syscall("lstat64")
def lstat64(k, t, a):
    t.process.memory.write(a[1], pack_stat64(_stat_target(k, t, AT_FDCWD, a[0], AT_SYMLINK_NOFOLLOW)))
    return 0


@syscall("fstat64")
def fstat64(k, t, a):
    t.process.memory.write(a[1], pack_stat64(t.process.file(s32(a[0])).stat()))
    return 0


@syscall("fstatat64")
def fstatat64(k, t, a):
    t.process.memory.write(a[2], pack_stat64(_stat_target(k, t, a[0], a[1], a[3])))
    return 0


@syscall("statx")
def statx(k, t, a):
    dirfd, path, flags, mask, buf = a[0], a[1], a[2], a[3], a[4]
    t.process.memory.write(buf, pack_statx(_stat_target(k, t, dirfd, path, flags), mask))
    return 0


def _statfs(k, t, size_address: int, buf: int, read_only: bool) -> int:
    # struct statfs64 on ARM EABI (84 bytes): f_type, f_bsize, blocks/bfree/bavail/files/ffree (u64), fsid, ...
    data = struct.pack("<IIQQQQQ8sIII", 0x01021994, 4096, 1024, 512, 512, 1024, 512, b"", 255, 4096,
                       1 if read_only else 0)
    t.process.memory.write(buf, data.ljust(84, b"\0"))
    return 0


@syscall("statfs64")
def statfs64(k, t, a):
    k.vfs.resolve(_path(t, a[0]), t.process.cwd)
    return _statfs(k, t, a[1], a[2], False)


@syscall("fstatfs64")
def fstatfs64(k, t, a):
    t.process.file(s32(a[0]))
    return _statfs(k, t, a[1], a[2], False)


# ---- access, directories, links -------------------------------------------------------------------------------------
def _access(k, t, dirfd, path_address, mode, flags):
    path, base = _at_path(t, dirfd, path_address)
    node = k.vfs.resolve(path, base, follow=not flags & AT_SYMLINK_NOFOLLOW).node
    if mode & abi.W_OK and node.read_only:
        raise LinuxError(abi.EROFS)
    if mode & abi.X_OK and not node.stat().mode & 0o111:
        raise LinuxError(abi.EACCES)
    return 0


@syscall("access")
def access(k, t, a):
    return _access(k, t, AT_FDCWD, a[0], a[1], 0)


@syscall("faccessat")
def faccessat(k, t, a):
    return _access(k, t, a[0], a[1], a[2], 0)


@syscall("faccessat2")
def faccessat2(k, t, a):
    return _access(k, t, a[0], a[1], a[2], a[3])


@syscall("getdents64")
def getdents64(k, t, a):
    f = t.process.file(s32(a[0]))
    if not isinstance(f, DirectoryFile):
        raise LinuxError(ENOTDIR)
    entries = f.getdents()
    out = bytearray()
    index = f.offset
    while index < len(entries):
        name, ino, dtype = entries[index]
        raw = name.encode("utf-8", "surrogateescape") + b"\0"
        reclen = (19 + len(raw) + 7) & ~7
        if len(out) + reclen > a[2]:
            if not out:
                raise LinuxError(EINVAL)
            break
        out += struct.pack("<QqHB", ino, index + 1, reclen, dtype) + raw + bytes(reclen - 19 - len(raw))
        index += 1
    t.process.memory.write(a[1], bytes(out))
    f.offset = index
    return len(out)


@at_syscall("mkdir", "mkdirat", args=2)
def _mkdir(k, t, dirfd, path_address, mode):
    path, base = _at_path(t, dirfd, path_address)
    res = k.vfs.resolve(path, base, must_exist=False)
    if res.node is not None:
        raise LinuxError(EEXIST)
    res.parent.mkdir(res.name, mode & ~t.process.umask)
    return 0


def _unlink(k, t, dirfd, path_address, flags):
    path, base = _at_path(t, dirfd, path_address)
    res = k.vfs.resolve(path, base, follow=False)
    if res.parent is res.node:
        raise LinuxError(abi.EBUSY)
    res.parent.unlink(res.name, bool(flags & AT_REMOVEDIR))
    return 0


@syscall("unlink")
def unlink(k, t, a):
    return _unlink(k, t, AT_FDCWD, a[0], 0)


@syscall("rmdir")
def rmdir(k, t, a):
    return _unlink(k, t, AT_FDCWD, a[0], AT_REMOVEDIR)


@syscall("unlinkat")
def unlinkat(k, t, a):
    return _unlink(k, t, a[0], a[1], a[2])


def _rename(k, t, olddirfd, oldpath, newdirfd, newpath):
    old = _path(t, oldpath)
    new = _path(t, newpath)
    src = k.vfs.resolve(old, _base_dir(t, olddirfd) if not old.startswith("/") else "/", follow=False)
    dst = k.vfs.resolve(new, _base_dir(t, newdirfd) if not new.startswith("/") else "/", follow=False,
                        must_exist=False)
    src.parent.rename(src.name, dst.parent, dst.name)
    return 0


@syscall("rename")
def rename(k, t, a):
    return _rename(k, t, AT_FDCWD, a[0], AT_FDCWD, a[1])


@syscall("renameat")
def renameat(k, t, a):
    return _rename(k, t, a[0], a[1], a[2], a[3])


@syscall("renameat2")
def renameat2(k, t, a):
    if a[4]:
        raise LinuxError(EINVAL)
    return _rename(k, t, a[0], a[1], a[2], a[3])


@at_syscall("readlink", "readlinkat", args=3)
def _readlink(k, t, dirfd, path_address, buf, size):
    if s32(size) <= 0:
        raise LinuxError(EINVAL)
    path, base = _at_path(t, dirfd, path_address)
    node = k.vfs.resolve(path, base, follow=False).node
    if node.stat().mode & S_IFMT != S_IFLNK:
        raise LinuxError(EINVAL)
    target = node.readlink().encode()[:size]
    t.process.memory.write(buf, target)
    return len(target)


@syscall("chdir")
def chdir(k, t, a):
    res = k.vfs.resolve(_path(t, a[0]), t.process.cwd)
    if res.node.stat().mode & S_IFMT != S_IFDIR:
        raise LinuxError(ENOTDIR)
    t.process.cwd = res.path
    return 0


@syscall("fchdir")
def fchdir(k, t, a):
    f = t.process.file(s32(a[0]))
    node = getattr(f, "node", None)
    if node is None or not node.is_dir():
        raise LinuxError(ENOTDIR)
    t.process.cwd = f.path
    return 0


@syscall("getcwd")
def getcwd(k, t, a):
    raw = t.process.cwd.encode() + b"\0"
    if len(raw) > a[1]:
        raise LinuxError(ERANGE)
    t.process.memory.write(a[0], raw)
    return len(raw)


@syscall("umask")
def umask(k, t, a):
    old, t.process.umask = t.process.umask, a[0] & 0o777
    return old


@syscall("chmod", "fchmod", "fchmodat", "chown32", "fchown32", "lchown32", "fchownat", "utimensat",
         "utimensat_time64", "utimes")
def attributes(k, t, a):
    """No permissions model beyond read-only mounts: attribute changes succeed where writing would."""
    return 0


@syscall("fsync", "fdatasync", "sync", "syncfs")
def sync(k, t, a):
    return 0


@syscall("flock")
def flock(k, t, a):
    t.process.file(s32(a[0]))
    return 0


@syscall("ftruncate64")
def ftruncate64(k, t, a):
    f = t.process.file(s32(a[0]))
    if not f.writable():
        raise LinuxError(EINVAL)
    f.truncate(s64(a[2], a[3]))
    return 0


@syscall("truncate64")
def truncate64(k, t, a):
    f = k.vfs.open(_path(t, a[0]), abi.O_WRONLY, 0, t.process.cwd, t.process)
    try:
        f.truncate(s64(a[2], a[3]))
    finally:
        f.release()
    return 0


# ---- descriptors ----------------------------------------------------------------------------------------------------
@syscall("dup")
def dup(k, t, a):
    return t.process.install(t.process.file(s32(a[0])))


@syscall("dup2")
def dup2(k, t, a):
    old, new = s32(a[0]), s32(a[1])
    f = t.process.file(old)
    if old == new:
        return new
    return t.process.install(f, fd=new)


@syscall("dup3")
def dup3(k, t, a):
    old, new, flags = s32(a[0]), s32(a[1]), a[2]
    if old == new or flags & ~O_CLOEXEC:
        raise LinuxError(EINVAL)
    return t.process.install(t.process.file(old), cloexec=bool(flags & O_CLOEXEC), fd=new)


@syscall("fcntl", "fcntl64")
def fcntl(k, t, a):
    fd, cmd, arg = s32(a[0]), a[1], a[2]
    p = t.process
    f = p.file(fd)
    if cmd in (abi.F_DUPFD, abi.F_DUPFD_CLOEXEC):
        return p.install(f, cloexec=cmd == abi.F_DUPFD_CLOEXEC, lowest=arg)
    if cmd == abi.F_GETFD:
        return abi.FD_CLOEXEC if p.fds[fd].cloexec else 0
    if cmd == abi.F_SETFD:
        p.fds[fd].cloexec = bool(arg & abi.FD_CLOEXEC)
        return 0
    if cmd == abi.F_GETFL:
        return f.flags & ~O_CLOEXEC
    if cmd == abi.F_SETFL:
        before = f.flags & O_NONBLOCK
        f.flags = (f.flags & ~STATUS_FLAGS) | (arg & STATUS_FLAGS)
        if before != f.flags & O_NONBLOCK:
            f.changed()
        return 0
    if cmd in (abi.F_GETLK, abi.F_GETLK64):
        t.process.memory.write(a[2], struct.pack("<h", 2))     # F_UNLCK: no other process holds locks
        return 0
    if cmd in (abi.F_SETLK, abi.F_SETLKW, abi.F_SETLK64, abi.F_SETLKW64, abi.F_SETOWN):
        return 0
    if cmd == abi.F_GETOWN:
        return 0
    if cmd == abi.F_GETPIPE_SZ:
        return 65536
    raise LinuxError(EINVAL, f"fcntl command {cmd}")


@syscall("ioctl")
def ioctl(k, t, a):
    fd, request, arg = s32(a[0]), a[1], a[2]
    p = t.process
    f = p.file(fd)
    if request == abi.FIONBIO:
        on = p.memory.read_u32(arg)
        f.flags = (f.flags | O_NONBLOCK) if on else (f.flags & ~O_NONBLOCK)
        return 0
    if request == abi.FIOCLEX:
        p.fds[fd].cloexec = True
        return 0
    if request == abi.FIONCLEX:
        p.fds[fd].cloexec = False
        return 0
    if isinstance(f, PathFile):
        raise LinuxError(EBADF)
    result = f.ioctl(request, arg, p.memory)
    if isinstance(result, Block):
        return result
    return result


@syscall("pipe")
def pipe(k, t, a):
    return _pipe(k, t, a[0], 0)


@syscall("pipe2")
def pipe2(k, t, a):
    if a[1] & ~(O_CLOEXEC | O_NONBLOCK | abi.O_DIRECT):
        raise LinuxError(EINVAL)
    return _pipe(k, t, a[0], a[1])


def _pipe(k, t, address, flags):
    p = t.process
    p.memory._check(address, 8, abi.PROT_WRITE)
    r, w = make_pipe(flags & O_NONBLOCK)
    cloexec = bool(flags & O_CLOEXEC)
    rfd = p.install(r, cloexec)
    wfd = p.install(w, cloexec)
    p.memory.write(address, struct.pack("<ii", rfd, wfd))
    return 0


_ = (ENOENT, ENOTTY, ESPIPE, O_DIRECTORY, O_RDONLY, u64)
