"""Process memory: brk, mmap2 (anonymous and file mappings), munmap, mprotect, mremap, madvise."""
from __future__ import annotations

import logging

from .. import abi
from ..abi import (EACCES, EBADF, EINVAL, ENOMEM, MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_PRIVATE,
                   MAP_SHARED, MAP_SHARED_VALIDATE, MAP_TYPE, PAGE_SIZE, PROT_WRITE)
from ..errors import LinuxError
from ..memory import MMAP_MIN_ADDR, TASK_SIZE, page_up
from . import s32, syscall

log = logging.getLogger("mt3620.linux")
_warned_shared = set()


@syscall("brk")
def brk(k, t, a):
    return t.process.memory.set_brk(a[0]) if a[0] else t.process.memory.brk


@syscall("mmap2")
def mmap2(k, t, a):
    address, length, prot, flags, fd, pgoff = a[0], a[1], a[2], a[3], s32(a[4]), a[5]
    mem = t.process.memory
    if length == 0 or page_up(length) > TASK_SIZE:
        raise LinuxError(EINVAL if length == 0 else ENOMEM)
    if flags & MAP_TYPE not in (MAP_SHARED, MAP_PRIVATE, MAP_SHARED_VALIDATE):
        raise LinuxError(EINVAL)
    if prot & ~7:
        raise LinuxError(EINVAL)
    length = page_up(length)
    data = None
    name = ""
    offset = pgoff * PAGE_SIZE
    if not flags & MAP_ANONYMOUS:
        f = t.process.file(fd)
        if not f.readable():
            raise LinuxError(EACCES)
        if flags & MAP_TYPE != MAP_PRIVATE and prot & PROT_WRITE:
            if not f.writable():
                raise LinuxError(EACCES)
            if f.path not in _warned_shared:
                _warned_shared.add(f.path)
                log.warning("a7: shared writable mapping of %s: writes stay in memory (not written back)", f.path)
        data = f.mmap_bytes(offset, length)
        name = f.path
    if flags & (MAP_FIXED | MAP_FIXED_NOREPLACE):
        if address % PAGE_SIZE or address < MMAP_MIN_ADDR or address + length > TASK_SIZE:
            raise LinuxError(EINVAL if address % PAGE_SIZE else ENOMEM)
        start = address
    else:
        start = mem.find_free(length, address)
    eof = start + page_up(len(data)) if data is not None and len(data) < length else None
    return mem.map(start, length, prot, name, offset, data, replace=not flags & MAP_FIXED_NOREPLACE, eof=eof)


@syscall("munmap")
def munmap(k, t, a):
    # Above TASK_SIZE (the vectors page with the kuser helpers and sigreturn trampolines) is the kernel's: EINVAL,
    # as mm/mmap.c's do_vmi_munmap checks `start > TASK_SIZE || len > TASK_SIZE - start`.
    if a[0] % PAGE_SIZE or a[1] == 0 or a[0] > TASK_SIZE or a[1] > TASK_SIZE - a[0]:
        raise LinuxError(EINVAL)
    t.process.memory.unmap(a[0], a[1])
    return 0


@syscall("mprotect")
def mprotect(k, t, a):
    if a[0] % PAGE_SIZE or a[2] & ~(7 | abi.PROT_GROWSDOWN | abi.PROT_GROWSUP):
        raise LinuxError(EINVAL)
    if a[1] == 0:
        return 0
    if a[0] + page_up(a[1]) > TASK_SIZE and a[2] & PROT_WRITE:
        # The vectors page (kuser helpers, sigreturn trampolines) is a special mapping without VM_MAYWRITE: it
        # cannot be made writable (arch/arm/kernel/process.c installs it read + exec).
        raise LinuxError(EACCES)
    t.process.memory.protect(a[0], a[1], a[2] & 7)
    return 0


@syscall("mremap")
def mremap(k, t, a):
    old, old_len, new_len, flags = a[0], page_up(a[1]), page_up(a[2]), a[3]
    mem = t.process.memory
    if old % PAGE_SIZE or new_len == 0 or flags & ~3 or (flags & 2 and not flags & 1) or old >= TASK_SIZE:
        raise LinuxError(EINVAL)
    vma = mem.find(old)
    if vma is None or old + old_len > vma.end:
        raise LinuxError(abi.EFAULT)
    if flags & 2:   # MREMAP_FIXED
        raise LinuxError(EINVAL, "MREMAP_FIXED is not supported")
    if new_len <= old_len:
        if new_len < old_len:
            mem.unmap(old + new_len, old_len - new_len)
        return old
    if mem.is_free(old + old_len, old + new_len):
        mem.map(old + old_len, new_len - old_len, vma.prot, vma.name, vma.offset + (old + old_len - vma.start),
                eof=(old + old_len) if vma.name.startswith("/") else None)
        return old
    if not flags & 1:
        raise LinuxError(ENOMEM)
    start = mem.find_free(new_len)
    content = bytes(mem.uc.mem_read(old, old_len))
    eof = None if vma.eof is None and not vma.name.startswith("/") else start + (
        (vma.eof - old) if vma.eof is not None else old_len)
    mem.map(start, new_len, vma.prot, vma.name, vma.offset, content, eof=eof)
    mem.unmap(old, old_len)
    return start


@syscall("madvise", "msync", "mlock", "munlock", "mlockall", "munlockall", "mlock2")
def advice(k, t, a):
    return 0


_ = EBADF
