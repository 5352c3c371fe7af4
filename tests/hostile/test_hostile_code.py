"""Hostile code in user mode on the A7: random A32 and Thumb bytes, random code that survives its own faults
(a handler skips each faulting instruction, so it runs into random system calls with random registers), and
self-modifying code. Every run ends in a signal, an exit or the time limit, never a Python error."""
import random
import struct

import pytest

from a7_guest import (CODE_BASE, Guest, exit_group, minimal_elf, movw_movt, resilient_random_code)


@pytest.mark.parametrize("thumb", [False, True])
def test_random_bytes_end_in_a_signal(thumb):
    for seed in range(25):
        rng = random.Random(seed * 2 + thumb)
        guest = Guest(minimal_elf(bytes(rng.getrandbits(8) for _ in range(2048)), entry_offset=int(thumb)))
        process = guest.run(limit_ps=5 * 10**9)
        assert not guest.errors.records, f"seed {seed}:\n{guest.errors.text()}"
        assert process.term_signal in (4, 5, 7, 8, 11) or process.exit_code is not None or process.alive


@pytest.mark.parametrize("seed", range(12))
def test_random_code_that_survives_its_faults(seed):
    """20,000 instructions (40 us of virtual time) of random code behind a fault-skipping handler."""
    guest = Guest(minimal_elf(resilient_random_code(seed)))
    guest.run(limit_ps=4 * 10**7, step_ps=10**7)
    assert not guest.errors.records, f"seed {seed}:\n{guest.errors.text()}"
    assert guest.core.instructions >= 20_000 or not guest.process.alive


def test_self_modifying_code_runs_the_new_instructions():
    """The program writes `mov r0, #42` over a `mov r0, #1` it already executed once, then runs it again."""
    MOV_R0_1, MOV_R0_42 = 0xE3A00001, 0xE3A0002A
    target = CODE_BASE + 0x100
    # 0x000: r4 = target, r5 = the new word; r6 = 0 (first pass); bl target
    first = movw_movt(4, target) + movw_movt(5, MOV_R0_42) + movw_movt(6, 0)
    # blx r4 (call the patched spot), then if r6 == 0: r6 = 1, str r5, [r4], blx r4 again; then exit with r0
    body = struct.pack("<IIIIIIII",
                       0xE12FFF34,        # blx r4
                       0xE3560000,        # cmp r6, #0
                       0x1A000003,        # bne +3 (to the exit)
                       0xE3A06001,        # mov r6, #1
                       0xE5845000,        # str r5, [r4]
                       0xE12FFF34,        # blx r4
                       0xE1A00000,        # nop
                       0xE1A00000)        # nop
    code = first + body + movw_movt(7, 248) + struct.pack("<I", 0xEF000000)     # exit_group(r0)
    code = code.ljust(0x100, b"\0") + struct.pack("<II", MOV_R0_1, 0xE12FFF1E)   # target: mov r0, #1; bx lr
    guest = Guest(minimal_elf(code + exit_group(99)))
    process = guest.run()
    assert process.exit_code == 42 and not guest.errors.records
