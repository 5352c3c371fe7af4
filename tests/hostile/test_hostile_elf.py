"""Malformed high-level ELF files: truncated, wrong machine, bad program headers, bit flips in the headers, a
PT_INTERP that names nothing. The loader answers with one ExecError line, or the program runs and ends in an
exit or a crash report; `mt3620 run --hl` exits 2 with one line."""
import random
import struct

import pytest

from a7_guest import Guest
from mt3620.engine.linux import ExecError

INTERESTING = [0, 1, 0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, 0x1000, 0xFFF, 0xBFFFF000, 0xC0000000, 0xFFFF0000, 52,
               32, 0x10000]


def mutate(elf: bytes, rng: random.Random) -> bytes:
    d = bytearray(elf)
    kind = rng.randrange(4)
    if kind == 0:                                                    # truncated anywhere
        return bytes(d[:rng.randrange(len(d))])
    if kind == 1:                                                    # bits flipped in the headers
        for _ in range(rng.randrange(1, 8)):
            d[rng.randrange(0x400)] ^= 1 << rng.randrange(8)
        return bytes(d)
    if kind == 2:                                                    # one program header field
        phoff, = struct.unpack_from("<I", d, 28)
        phnum, = struct.unpack_from("<H", d, 44)
        value = rng.choice(INTERESTING) if rng.random() < 0.7 else rng.getrandbits(32)
        struct.pack_into("<I", d, phoff + 32 * rng.randrange(phnum) + 4 * rng.randrange(8), value)
        return bytes(d)
    offset = rng.choice([16, 18, 24, 28, 36, 42, 44])                # one ELF header field
    fmt = "<H" if offset in (16, 18, 42, 44) else "<I"
    mask = 0xFFFF if fmt == "<H" else 0xFFFFFFFF
    struct.pack_into(fmt, d, offset, (rng.choice(INTERESTING) if rng.random() < 0.5 else rng.getrandbits(32)) & mask)
    return bytes(d)


@pytest.mark.parametrize("batch", range(4))
def test_mutated_elf_files(batch, sysroot, hostile_elf):
    elf = hostile_elf.read_bytes()
    outcomes = set()
    for seed in range(batch * 20, batch * 20 + 20):
        guest = Guest(mutate(elf, random.Random(seed)), sysroot=sysroot)
        try:
            process = guest.run(limit_ps=2 * 10**9, step_ps=10**8, args=("fork",))
        except ExecError as exc:
            assert "\n" not in str(exc) and str(exc).strip()
            outcomes.add("refused")
        else:
            outcomes.add("ran")
            assert process.exit_code is not None or process.term_signal is not None or process.alive
        assert not guest.errors.records, f"seed {seed}:\n{guest.errors.text()}"
    assert "refused" in outcomes


def test_an_empty_interpreter_name_is_one_line(sysroot, hostile_elf):
    elf = bytearray(hostile_elf.read_bytes())
    phoff, = struct.unpack_from("<I", elf, 28)
    phnum, = struct.unpack_from("<H", elf, 44)
    for i in range(phnum):
        p_type, p_offset = struct.unpack_from("<II", elf, phoff + 32 * i)
        if p_type == 3:                         # PT_INTERP: its string starts with NUL
            elf[p_offset] = 0
    with pytest.raises(ExecError, match="PT_INTERP names no interpreter"):
        Guest(bytes(elf), sysroot=sysroot).run()
