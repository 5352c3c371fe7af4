"""System calls from a hostile A7 program: random numbers and arguments (bad pointers, huge and negative lengths,
bad fds, unknown numbers, the ARM private range) never make the emulator raise or log a Python error; the calls
that did are pinned with the answer Linux gives."""
import struct

import pytest

from a7_guest import (NR, SCRATCH, STACK_TOP, Guest, minimal_elf, random_syscall_program, run_calls)
from mt3620.engine.linux.abi import EACCES, EINVAL, ENOSPC

O_RDWR_CREAT = 0x42


@pytest.mark.parametrize("batch", range(8))
def test_random_system_calls_never_raise(batch):
    """200 seeded programs of 40 random calls each (after opening one descriptor of every kind)."""
    for seed in range(batch * 25, batch * 25 + 25):
        guest = Guest(minimal_elf(random_syscall_program(seed)))
        process = guest.run()
        assert not guest.errors.records, f"seed {seed}:\n{guest.errors.text()}"
        assert not process.alive or guest.clock.now >= 10**10


def test_sysinfo_fills_struct_sysinfo():
    """sysinfo packed 15 values into a 14-field format: every call failed with EIO and a logged traceback."""
    buf = SCRATCH + 0x100
    (result,), guest = run_calls((NR["sysinfo"], buf))
    assert result == 0 and not guest.errors.records
    fields = struct.unpack("<i3I6IHH3I", guest.process.memory.read(buf, 56))
    assert fields[4] == 4 << 20 and fields[10] == 1 and fields[-1] == 1      # totalram, procs, mem_unit


def test_huge_file_sizes_are_enospc_not_host_memory():
    """ftruncate64 / truncate64 / pwrite64 far past the end of a /tmp file made the host allocate the bytes
    (MemoryError, or gigabytes); now ENOSPC past the in-memory file system's capacity."""
    path = 0x11000 + 0x8000
    calls = [(NR["open"], path, O_RDWR_CREAT, 0o644),
             (NR["ftruncate64"], 3, 0, 0, 1 << 8),             # 2**40 bytes (r2:r3 the 64-bit length)
             (NR["truncate64"], path, 0, 0x7FFFFFFF, 0),        # 2 GiB
             (NR["pwrite64"], 3, SCRATCH, 4, 0, 0, 1 << 4),     # at offset 2**36
             (NR["ftruncate64"], 3, 0, 4096, 0)]                # an ordinary size still works
    results, guest = run_calls(*calls, data=b"/tmp/big\0")
    assert results == [3, -ENOSPC, -ENOSPC, -ENOSPC, 0]
    assert not guest.errors.records


def test_the_vectors_page_stays():
    """munmap of the vectors page (kuser helpers, sigreturn trampolines) succeeded; Linux refuses (EINVAL), and it
    cannot be made writable (EACCES)."""
    results, _ = run_calls((NR["munmap"], 0xFFFF0000, 0x1000), (NR["munmap"], STACK_TOP - 0x1000, 0x2000),
                           (NR["mprotect"], 0xFFFF0000, 0x1000, 3), (NR["mremap"], 0xFFFF0000, 0x1000, 0x2000, 1))
    assert results == [-EINVAL, -EINVAL, -EACCES, -EINVAL]


def test_the_clock_past_2038_and_out_of_range():
    """clock_settime64 to 2100, then gettimeofday (32-bit seconds) raised struct.error (logged, EIO); now the
    seconds are held at 2**31 - 1 as clock_gettime's are. Settings Linux refuses (negative, near KTIME_MAX) are
    EINVAL."""
    ts_2100 = struct.pack("<qii", 4102444800, 0, 0)
    ts_huge = struct.pack("<qii", 2**62, 0, 0)
    tv_negative = struct.pack("<ii", -5, 0)
    data_at = 0x11000 + 0x8000
    results, guest = run_calls((NR["clock_settime64"], 0, data_at), (NR["gettimeofday"], SCRATCH, 0),
                               (NR["clock_settime64"], 0, data_at + 16), (NR["settimeofday"], data_at + 32, 0),
                               data=ts_2100.ljust(16, b"\0") + ts_huge + tv_negative)
    assert results == [0, 0, -EINVAL, -EINVAL] and not guest.errors.records
    assert struct.unpack("<ii", guest.process.memory.read(SCRATCH, 8))[0] == 0x7FFFFFFF
