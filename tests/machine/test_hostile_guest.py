"""A hostile or broken guest never crashes the emulator: random code and random device writes end in guest
faults, lockups or plain execution, never in a Python exception."""
import random
import struct

import pytest

from mt3620.engine.machine import Machine
from mt3620.engine.simulation.clock import PS_PER_SECOND

TCM = 0x00100000


def _boot_blob(machine: Machine, code: bytes) -> None:
    """A vector table whose every vector points at `code`, then the code itself."""
    core = machine.core("io0")
    entry = TCM + 0x400
    table = struct.pack("<I", 0x00130000) + struct.pack("<I", entry | 1) * 127
    core.view.write(TCM, table)
    core.view.write(entry, code)
    machine.images["io0"] = object()  # mark the core as loaded (the loader is bypassed on purpose)
    core.reset(TCM)


@pytest.mark.parametrize("seed", range(40))
def test_random_instruction_streams(seed):
    rng = random.Random(seed)
    machine = Machine(stop_on_fault=seed % 2 == 0)
    _boot_blob(machine, bytes(rng.getrandbits(8) for _ in range(512)))
    result = machine.run(duration_ps=PS_PER_SECOND // 100)
    assert result.reason in ("timeout", "fault", "stopped")
    core = machine.core("io0")
    assert core.locked_up is not None or result.reason != "fault" or machine.stop_on_fault


def _writer(address: int, value: int) -> bytes:
    """Thumb-2: r0 = address, r1 = value, str r1, [r0]; then loop back to the start."""
    def movw_movt(reg, imm):
        def enc(op, imm16):
            i, imm4, imm3, imm8 = (imm16 >> 11) & 1, imm16 >> 12, (imm16 >> 8) & 7, imm16 & 0xFF
            hw1 = op | (i << 10) | imm4
            hw2 = (imm3 << 12) | (reg << 8) | imm8
            return struct.pack("<HH", hw1, hw2)
        return enc(0xF240, imm & 0xFFFF) + enc(0xF2C0, imm >> 16)
    return movw_movt(0, address) + movw_movt(1, value) + struct.pack("<H", 0x6001)   # str r1, [r0]


def test_random_writes_to_every_device_register():
    rng = random.Random(1234)
    machine = Machine()
    devices = [m for m in machine.view("io0").mappings() if m.device is not None]
    code = b""
    for _ in range(300):
        target = rng.choice(devices)
        offset = rng.randrange(0, max(4, min(0x1000, target.end - target.start)), 4)
        code += _writer(target.start + offset, rng.getrandbits(32))
    code += struct.pack("<H", 0xE7FE)   # b .
    _boot_blob(machine, code)
    result = machine.run(duration_ps=PS_PER_SECOND // 10)
    assert result.reason in ("timeout", "fault", "stopped")
    assert machine.clock.now > 0
