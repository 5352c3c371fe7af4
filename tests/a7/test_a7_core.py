"""The Cortex-A7 core: exact instruction counts for A32 and Thumb-2 blocks mixed (the shared block budget),
one cycle per instruction at 500 MHz, USR mode with VFP/NEON on, the TLS register, faults as signals."""
import pytest
from keystone import KS_ARCH_ARM, KS_MODE_ARM, KS_MODE_THUMB, Ks

from a7_helpers import minimal_elf
from mt3620.engine.cortex_a import HZ, CortexA7
from mt3620.engine.linux import Kernel, MemFs
from mt3620.engine.simulation.clock import VirtualClock, ps_for_cycles

# A32 code that does 5 instructions, switches to Thumb (BLX), runs a 100-iteration Thumb loop (2 instructions per
# iteration), comes back to A32 and exits with the loop counter's final value plus a VFP result.
ARM_PART = """
    mov r4, #0              @ 1
    mov r5, #100            @ 2
    vmov s0, r5             @ 3: VFP usable in USR mode
    vcvt.f32.u32 s1, s0     @ 4
    blx thumb_loop          @ 5
    vcvt.u32.f32 s2, s1     @ after the loop: 6
    vmov r0, s2             @ 7
    add r0, r0, r4          @ 8
    mrc p15, 0, r6, c13, c0, 3  @ 9: TLS register as set_tls left it (0 here)
    add r0, r0, r6          @ 10
    mov r7, #248            @ 11: exit_group
    svc #0                  @ 12
"""
THUMB_PART = """
thumb_loop:
    adds r4, #1
    cmp r4, r5
    bne thumb_loop
    bx lr
"""


def _assemble():
    arm = Ks(KS_ARCH_ARM, KS_MODE_ARM)
    thumb = Ks(KS_ARCH_ARM, KS_MODE_THUMB)
    thumb_code = bytes(thumb.asm(THUMB_PART.replace("thumb_loop:", "l:").replace("thumb_loop", "l"))[0])
    # thumb code placed at +0x100; the A32 BLX targets it with its address (H bit for halfword offset 0).
    arm_src = ARM_PART.replace("blx thumb_loop", "blx #0x100")
    arm_code = bytes(arm.asm(arm_src, addr=0)[0])
    return arm_code.ljust(0x100, b"\0") + thumb_code


def _run(code: bytes):
    clock = VirtualClock()
    core = CortexA7("a7", clock)
    kernel = Kernel(core, clock)
    fs = MemFs()
    fs.add_file("/prog", minimal_elf(code), 0o755)
    kernel.vfs.mount("/opt", fs.root)
    exits = []
    kernel.exit_listeners.append(lambda p: exits.append(core.local_time()))
    process = kernel.spawn("/opt/prog", ["/opt/prog"])
    process.exit_time = exits
    while kernel.alive and clock.now < 10**12:
        core.run_until(clock.now + 10**9)
        clock.advance_to(core.time)
    return core, process


def test_mixed_a32_and_thumb_blocks_count_exactly_one_per_instruction():
    core, process = _run(_assemble())
    assert process.exit_code == 100 + 100     # vcvt(100.0) + the loop counter
    # 5 A32 instructions, 100 x (adds, cmp, bne) + bx = 301 Thumb, then 7 A32 instructions up to the SVC.
    assert core.instructions == 5 + 301 + 7
    assert process.exit_time == [ps_for_cycles(core.instructions, HZ)]     # one cycle each at 500 MHz


def test_a7_starts_in_user_mode_with_vfp_enabled():
    clock = VirtualClock()
    core = CortexA7("a7", clock)
    assert core.reg("cpsr") & 0x1F == 0x10
    assert core.hz == 500_000_000


@pytest.mark.parametrize("source, signal", [("mov r0, #0; ldr r1, [r0]", 11), ("udf #1", 4), ("bkpt #0", 5)])
def test_cpu_exceptions_become_signals(source, signal):
    code = bytes(Ks(KS_ARCH_ARM, KS_MODE_ARM).asm(source)[0])
    core, process = _run(code)
    assert process.term_signal == signal
    assert process.crash is not None and process.crash.pc == 0x11000 + len(code) - 4


def test_python_budget_hook_counts_the_same(tmp_path):
    """Without a C compiler the Python block hook runs instead: same per-block A32/Thumb counts."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path
    here = Path(__file__).resolve().parent
    script = (f"import sys, json; sys.path.insert(0, {str(here)!r}); import test_a7_core as t; "
              f"core, p = t._run(t._assemble()); print(json.dumps([core.instructions, p.exit_code, "
              f"core.budget.native]))")
    env = dict(os.environ, MT3620_NO_NATIVE="1")
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    instructions, exit_code, native = json.loads(out.stdout.strip().splitlines()[-1])
    assert native is False
    assert (instructions, exit_code) == (5 + 301 + 7, 200)
