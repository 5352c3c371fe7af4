"""Signal frames as Linux builds them on ARM (arch/arm/kernel/signal.c): an rt_sigframe on the user stack holding
the siginfo, a ucontext with the interrupted registers (struct sigcontext), the blocked mask and the VFP state, and
what rt_sigreturn reads back.

rt_sigframe layout (888 bytes, 8-byte aligned):
    0    siginfo (128 bytes: si_signo, si_errno, si_code, then si_addr or si_pid/si_uid/si_value)
    128  ucontext: uc_flags, uc_link, uc_stack {ss_sp, ss_flags, ss_size},
         uc_mcontext (struct sigcontext, 21 words: trap_no, error_code, oldmask, r0-r10, fp, ip, sp, lr, pc,
         cpsr, fault_address), uc_sigmask (8 bytes), padding to 128 bytes of sigset, uc_regspace (512 bytes:
         the VFP record {magic 0x56465001, size 288, d0-d31, fpscr, fpexc, fpinst, fpinst2}, then a 0 word)
    872  retcode (4 words, unused: the trampolines live on the vectors page)
A handler installed without SA_SIGINFO gets the plain sigframe (the ucontext and retcode, no siginfo) and returns
through sigreturn (119), as musl's __restore expects.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from mt3620.engine.cortex_a.core import CPSR_T, CpuContext

from .abi import SIG_DFL

SIGINFO_SIZE = 128
UCONTEXT_SIZE = 744
MCONTEXT = 20          # offsets inside the ucontext
SIGMASK = 104
REGSPACE = 232
RT_FRAME_SIZE = SIGINFO_SIZE + UCONTEXT_SIZE + 16
FRAME_SIZE = UCONTEXT_SIZE + 16
VFP_MAGIC = 0x56465001
VFP_SIZE = 288
CPSR_IT_BITS = 0x0600FC00
CPSR_USER_BITS = 0xF80F0200 | CPSR_T          # NZCVQ, GE, E, T: what sigreturn lets user space restore


@dataclass
class SigAction:
    """A process's disposition of one signal (rt_sigaction's struct k_sigaction)."""
    handler: int = SIG_DFL
    flags: int = 0
    restorer: int = 0
    mask: int = 0


@dataclass
class SigInfo:
    signo: int
    code: int = 0
    errno: int = 0
    address: int | None = None      # SIGSEGV/SIGBUS/SIGILL/SIGTRAP/SIGFPE
    pid: int = 0
    uid: int = 0
    value: int = 0
    forced: bool = False            # a synchronous fault: cannot be blocked or ignored
    pc: int | None = None           # where the thread was when a fault happened
    detail: str = ""                # what the CPU reported (crash reports)

    def pack(self) -> bytes:
        head = struct.pack("<iii", self.signo, self.errno, self.code)
        if self.address is not None:
            body = struct.pack("<I", self.address & 0xFFFFFFFF)
        else:
            body = struct.pack("<iII", self.pid, self.uid, self.value & 0xFFFFFFFF)
        return (head + body).ljust(SIGINFO_SIZE, b"\0")


def build_ucontext(ctx: CpuContext, saved_mask: int, altstack: tuple[int, int, int], fault_address: int = 0,
                   trap_no: int = 0, error_code: int = 0) -> bytes:
    """The 744 bytes of a struct ucontext saving `ctx` (the VFP record in uc_regspace)."""
    r = ctx.regs
    mcontext = struct.pack("<21I", trap_no, error_code, saved_mask & 0xFFFFFFFF,
                           *[r[i] & 0xFFFFFFFF for i in range(16)], ctx.cpsr & 0xFFFFFFFF, fault_address & 0xFFFFFFFF)
    ss_sp, ss_flags, ss_size = altstack
    uc = struct.pack("<II", 0, 0) + struct.pack("<IiI", ss_sp & 0xFFFFFFFF, ss_flags, ss_size & 0xFFFFFFFF) + mcontext
    uc += struct.pack("<Q", saved_mask & 0xFFFFFFFFFFFFFFFF)
    uc = uc.ljust(REGSPACE, b"\0")
    vfp = struct.pack("<II", VFP_MAGIC, VFP_SIZE) + struct.pack("<32Q", *[d & 0xFFFFFFFFFFFFFFFF for d in ctx.d])
    vfp += struct.pack("<I", ctx.fpscr & 0xFFFFFFFF).ljust(8, b"\0")
    vfp += struct.pack("<III", 0x40000000, 0, 0).ljust(16, b"\0")
    regspace = (vfp + b"\0\0\0\0").ljust(512, b"\0")
    return uc + regspace


def build_frame(ctx: CpuContext, info: "SigInfo | None", saved_mask: int, altstack: tuple[int, int, int],
                fault_address: int = 0) -> tuple[bytes, int]:
    """An rt_sigframe (with `info`) or a plain sigframe (info None: handlers without SA_SIGINFO, returning
    through sigreturn); returns (bytes, offset of the ucontext in them)."""
    uc = build_ucontext(ctx, saved_mask, altstack, fault_address)
    if info is None:
        return uc + bytes(16), 0
    return info.pack() + uc + bytes(16), SIGINFO_SIZE


def restore_ucontext(uc: bytes, ctx: CpuContext) -> tuple[int, tuple[int, int, int]]:
    """Restore `ctx` from a saved ucontext (sigreturn / rt_sigreturn); returns (the saved mask, the saved
    altstack). Only the user-writable CPSR bits come back (the mode stays USR)."""
    values = struct.unpack_from("<21I", uc, MCONTEXT)
    ctx.regs[:] = list(values[3:19])
    cpsr = values[19]
    ctx.cpsr = (ctx.cpsr & ~CPSR_USER_BITS & ~CPSR_IT_BITS) | (cpsr & (CPSR_USER_BITS | CPSR_IT_BITS))
    mask = struct.unpack_from("<Q", uc, SIGMASK)[0]
    magic, size = struct.unpack_from("<II", uc, REGSPACE)
    if magic == VFP_MAGIC and size == VFP_SIZE:
        ctx.d[:] = struct.unpack_from("<32Q", uc, REGSPACE + 8)
        ctx.fpscr = struct.unpack_from("<I", uc, REGSPACE + 8 + 256)[0]
    ss = struct.unpack_from("<IiI", uc, 8)
    return mask, ss
