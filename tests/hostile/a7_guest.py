"""A hostile A7 guest, built from raw A32 words: a kernel on a bare core (no machine, no OS) runs code that makes
system calls with chosen or random arguments, and every Python error the emulator logs or raises is collected.

The encodings are the ARM ARM's (DDI 0406C, A8.8.106 MOVW, A8.8.108 MOVT, A8.8.228 SVC)."""
from __future__ import annotations

import logging
import random
import struct

from mt3620.engine.cortex_a import CortexA7
from mt3620.engine.linux import Kernel, MemFs
from mt3620.engine.linux.abi import O_WRONLY
from mt3620.engine.linux.vfs import OpenFile
from mt3620.engine.linux.abi import SYSCALL_NAMES
from mt3620.engine.linux.syscalls import HANDLERS
from mt3620.engine.simulation.clock import VirtualClock

CODE_BASE = 0x11000                 # where minimal_elf's segment is mapped
STACK_LOW, STACK_TOP = 0xBF000000 - (8 << 20), 0xBF000000
SCRATCH = STACK_TOP - 0x10000       # a writable page in the middle of the stack mapping
SVC0 = 0xEF000000
EXIT_GROUP = 248


def movw_movt(reg: int, value: int) -> bytes:
    value &= 0xFFFFFFFF
    lo, hi = value & 0xFFFF, value >> 16
    movw = 0xE3000000 | (lo >> 12) << 16 | reg << 12 | (lo & 0xFFF)
    movt = 0xE3400000 | (hi >> 12) << 16 | reg << 12 | (hi & 0xFFF)
    return struct.pack("<II", movw, movt)


def syscall(nr: int, *args: int) -> bytes:
    code = b"".join(movw_movt(i, a) for i, a in enumerate(args))
    return code + movw_movt(7, nr) + struct.pack("<I", SVC0)


def exit_group(status: int = 0) -> bytes:
    return syscall(EXIT_GROUP, status)


def minimal_elf(code: bytes, *, base: int = 0x10000, flags: int = 0x05000400, machine: int = 40,
                entry_offset: int = 0) -> bytes:
    """An ET_EXEC ARM ELF with one RWX PT_LOAD holding `code` at `base` + 0x1000 (self-modifying code needs W)."""
    text = base + 0x1000
    ehdr = b"\x7fELF" + bytes([1, 1, 1, 0]) + bytes(8)
    ehdr += struct.pack("<HHIIIIIHHHHHH", 2, machine, 1, text + entry_offset, 52, 0, flags, 52, 32, 1, 0, 0, 0)
    phdr = struct.pack("<IIIIIIII", 1, 0x1000, text, text, len(code), len(code), 7, 0x1000)
    return (ehdr + phdr).ljust(0x1000, b"\0") + code


class Errors(logging.Handler):
    """Collects every log record that carries a Python exception (a handler bug the kernel swallowed)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        if record.exc_info or "raised inside the emulator" in record.getMessage():
            self.records.append(record)

    def text(self) -> str:
        return "\n".join(self.format(r) for r in self.records)


class Output(OpenFile):
    """The program's stdout and stderr, kept."""

    def __init__(self):
        super().__init__(O_WRONLY, "output")
        self.data = bytearray()

    def write(self, data: bytes) -> int:
        self.data += data
        return len(data)


class Guest:
    """One process on a bare A7 + Linux personality, run to its end (or to `limit_ps` of virtual time)."""

    def __init__(self, image: bytes, files: dict[str, bytes] | None = None, sysroot=None):
        self.clock = VirtualClock()
        self.core = CortexA7("a7", self.clock)
        self.kernel = Kernel(self.core, self.clock)
        if sysroot is not None:         # the musl loader and libapplibs, as the emulated OS mounts them
            from mt3620.engine.linux import HostDirFs
            self.kernel.vfs.mount("/lib", HostDirFs(sysroot / "lib").root)
            self.kernel.vfs.mount("/usr/lib", HostDirFs(sysroot / "usr" / "lib").root)
        fs = MemFs()
        fs.add_file("/prog", image, 0o755)
        for path, data in (files or {}).items():
            fs.add_file(path, data, 0o644)
        self.kernel.vfs.mount("/opt", fs.root)
        self.errors = Errors()

    def run(self, limit_ps: int = 10**10, step_ps: int = 10**9, args: tuple[str, ...] = ("arg",)):
        """Start /opt/prog with `args` and run it to its end or `limit_ps`; the process (ExecError if it cannot
        start)."""
        logger = logging.getLogger("mt3620")
        logger.addHandler(self.errors)
        self.output = Output()
        try:
            self.process = self.kernel.spawn("/opt/prog", ["/opt/prog", *args], ["HOME=/"],
                                             stdio=(self.output, self.output, self.output))
            while self.kernel.alive and self.clock.now < limit_ps:
                self.core.run_until(self.clock.now + step_ps)
                self.clock.advance_to(max(self.core.time, self.clock.now))
        finally:
            logger.removeHandler(self.errors)
        return self.process


# The program's data area (in the same RWX segment, after the code): path strings, then seeded random bytes.
DATA_OFFSET = 0x8000
DATA = CODE_BASE + DATA_OFFSET
PATHS = [b"/opt/data", b"/tmp/f", b"/dev/null", b"/dev/urandom", b"/proc/self/maps", b"/proc/self/fd",
         b"/tmp", b"/", b"/opt/prog", b"/proc/self/exe", b"/dev", b"/tmp/d/../f", b"/nonexistent/x", b"."]


def data_area(rng: random.Random) -> tuple[bytes, list[int]]:
    blob, pointers = b"", []
    for path in PATHS:
        pointers.append(DATA + len(blob))
        blob += path + b"\0"
    blob = blob.ljust(0x200, b"\0")
    pointers += [DATA + 0x200, DATA + 0x400, DATA + 0x1000 - 8]
    return blob + bytes(rng.getrandbits(8) for _ in range(0x1000 - len(blob))), pointers


# Arguments a hostile program passes: null, the top of memory, negative and huge lengths, the vectors page
# (read-only), the data area, a writable scratch page and its edge, unmapped holes, small fds and flag words.
POINTERS = [0, 1, 0xFFF, 0x1000, CODE_BASE, SCRATCH, SCRATCH + 0xFFC, STACK_TOP - 4, STACK_TOP - 1, STACK_TOP,
            STACK_LOW - 4, 0x40000000, 0x7FFFFFFF, 0x80000000, 0xFFFF0000, 0xFFFF0FFC, 0xFFFFF000, 0xFFFFFFFF,
            0xFFFFFFFC]
NUMBERS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 16, 64, 255, 0x1000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
           0xFFFFFFFE, 0xFFFFF000, 0x10000000, 0x00100000, 1024, 65, 0x800, 0x80000, 0x40, 0x241, 0x42]


def random_args(rng: random.Random, data_pointers: list[int]) -> list[int]:
    pick = []
    for _ in range(7):
        r = rng.random()
        if r < 0.3:
            pick.append(rng.choice(data_pointers))
        elif r < 0.5:
            pick.append(rng.choice(POINTERS))
        elif r < 0.85:
            pick.append(rng.choice(NUMBERS))
        else:
            pick.append(rng.getrandbits(32))
    return pick


# Calls that end the process at once or stop it for ever are rarer, so a program makes many calls first.
ENDING = {"exit", "exit_group", "rt_sigreturn", "sigreturn", "pause", "rt_sigsuspend", "sigsuspend"}
NR = {name: nr for nr, name in SYSCALL_NAMES.items()}


def setup_calls(paths: list[int]) -> bytes:
    """Descriptors of every kind first (3 the data file, 4 /dev/null, 5-6 a pipe, 7 an eventfd, 8 an epoll,
    9 a timerfd, 10 a socket, 11 /tmp/f), so random fd numbers hit real files."""
    O_RDWR, O_CREAT = 2, 0x40
    return (syscall(NR["open"], paths[0], 0) + syscall(NR["open"], paths[2], O_RDWR)
            + syscall(NR["pipe"], SCRATCH + 0x800) + syscall(NR["eventfd2"], 0, 0)
            + syscall(NR["epoll_create1"], 0) + syscall(NR["timerfd_create"], 1, 0)
            + syscall(NR["socket"], 2, 1, 0) + syscall(NR["open"], paths[1], O_RDWR | O_CREAT, 0o644))


def random_syscall_program(seed: int, calls: int = 40) -> bytes:
    """Setup, `calls` random system calls, exit_group(0); the data area at DATA."""
    rng = random.Random(seed)
    data, data_pointers = data_area(rng)
    served = sorted(HANDLERS)
    code = setup_calls(data_pointers)
    for _ in range(calls):
        r = rng.random()
        if r < 0.85:
            nr = rng.choice(served)
            if SYSCALL_NAMES.get(nr) in ENDING and rng.random() < 0.8:
                nr = rng.choice(served)
        elif r < 0.95:
            nr = rng.choice([rng.randrange(0, 460), 0xF0000 + rng.randrange(0, 8), rng.getrandbits(32)])
        else:
            nr = rng.getrandbits(16)
        code += syscall(nr, *random_args(rng, data_pointers))
    code += exit_group(0)
    assert len(code) <= DATA_OFFSET
    return code.ljust(DATA_OFFSET, b"\0") + data


# ---- random code that survives its own faults ----------------------------------------------------------------------
# A setup installs one handler for SIGILL, SIGTRAP, SIGBUS, SIGFPE and SIGSEGV on an alternate stack; the handler
# steps the interrupted PC over the faulting instruction (2 or 4 bytes by CPSR.T in the ucontext) and returns
# through its own restorer, so random code keeps running into its next faults and random system calls.
# ucontext (arch/arm/include/asm/ucontext.h): uc_flags, uc_link, uc_stack (12 bytes), then the sigcontext:
# trap_no, error_code, oldmask, r0-r10, fp, ip, sp, lr, pc (offset 20 + 72 = 92), cpsr (96).
RANDOM_CODE_OFFSET = 0x1000
ALT_STACK = STACK_LOW + 0x1000          # inside the stack mapping, far below anything the setup uses
SKIPPING_HANDLER = """
    ldr r3, [r2, #92]
    ldr r1, [r2, #96]
    tst r1, #0x20
    addeq r3, r3, #4
    addne r3, r3, #2
    str r3, [r2, #92]
    bx lr
restorer:
    mov r7, #173
    svc #0
"""


def resilient_random_code(seed: int, size: int = 2048) -> bytes:
    from keystone import KS_ARCH_ARM, KS_MODE_ARM, Ks
    rng = random.Random(seed)
    thumb = seed % 2 == 1
    handler = bytes(Ks(KS_ARCH_ARM, KS_MODE_ARM).asm(SKIPPING_HANDLER, addr=0)[0])
    handler_at = 0x400
    restorer_at = handler_at + 7 * 4
    stack_t, action = DATA, DATA + 0x40
    SA_SIGINFO, SA_RESTORER, SA_ONSTACK, SA_NODEFER = 0x4, 0x04000000, 0x08000000, 0x40000000
    setup = syscall(NR["sigaltstack"], stack_t, 0)
    for sig in (4, 5, 7, 8, 11):
        setup += syscall(NR["rt_sigaction"], sig, action, 0, 8)
    target = RANDOM_CODE_OFFSET + (1 if thumb else 0)
    setup += movw_movt(0, CODE_BASE + target) + struct.pack("<I", 0xE12FFF10)      # bx r0
    assert len(setup) <= handler_at
    data = struct.pack("<III", ALT_STACK, 0, 0x4000).ljust(0x40, b"\0")
    data += struct.pack("<IIIII", CODE_BASE + handler_at, SA_SIGINFO | SA_RESTORER | SA_ONSTACK | SA_NODEFER,
                        CODE_BASE + restorer_at, 0, 0)
    code = setup.ljust(handler_at, b"\0") + handler
    code = code.ljust(RANDOM_CODE_OFFSET, b"\0") + bytes(rng.getrandbits(8) for _ in range(size))
    return code.ljust(DATA_OFFSET, b"\0") + data


# ---- a program of chosen calls whose results are kept ---------------------------------------------------------------
RESULTS = SCRATCH + 0x800          # r0 of each call, one word each (str r0, [r8], #4)
STR_R0_POSTINC_R8 = 0xE4880004


def results_program(*calls: tuple[int, ...]) -> bytes:
    """Each call is (nr, args...); its r0 is stored at RESULTS + 4*i; then exit_group(0)."""
    code = movw_movt(8, RESULTS)
    for nr, *args in calls:
        code += syscall(nr, *args) + struct.pack("<I", STR_R0_POSTINC_R8)
    return code + exit_group(0)


def run_calls(*calls: tuple[int, ...], data: bytes = b"") -> tuple[list[int], Guest]:
    """Run `calls` (with `data` at DATA) and return their results as signed ints (-errno on failure)."""
    code = results_program(*calls).ljust(DATA_OFFSET, b"\0") + data
    guest = Guest(minimal_elf(code))
    process = guest.run()
    assert process.exit_code == 0, f"the program did not finish: {process.crash or process.term_signal}"
    raw = process.memory.read(RESULTS, 4 * len(calls))
    return [v - (1 << 32) if v & 0x80000000 else v for v in struct.unpack(f"<{len(calls)}I", raw)], guest
