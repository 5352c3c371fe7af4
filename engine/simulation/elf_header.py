"""The ELF identity every core of the chip checks before it loads a file: the magic, 32-bit class, little-endian
data and machine ARM (ELF specification: e_ident[EI_CLASS] = ELFCLASS32 (1), e_ident[EI_DATA] = ELFDATA2LSB (1),
e_machine = EM_ARM (40); ARM ELF for the Arm Architecture, IHI 0044)."""
from __future__ import annotations

EM_ARM = 40


def arm_elf_refusal(data: bytes, runner: str) -> str | None:
    """Why `data` is not a 32-bit little-endian ARM ELF, in words naming who runs it (`runner`: "IO cores run",
    "the A7 runs"), or None when it is one."""
    if len(data) < 52 or data[:4] != b"\x7fELF":
        return "not an ELF file (bad magic)"
    if data[4] != 1:
        return f"a 64-bit ELF; {runner} 32-bit ARM programs"
    if data[5] != 1:
        return f"a big-endian ELF; {runner} little-endian programs"
    machine = int.from_bytes(data[18:20], "little")
    if machine != EM_ARM:
        return f"an ELF for machine {machine}, not ARM ({EM_ARM})"
    return None
