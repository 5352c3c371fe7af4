"""The MT3620 blocks whose ownership the hardware firewalls hold, with the windows each core sees them at.

Ownership is per block: a block belongs to a set of cores (the A7, IO core 0, IO core 1) and an access by any
other core is refused. The blocks and addresses (../shared/MT3620-FACTS.md; CodethinkLabs/mt3620-m4-drivers
mt3620/*.h; Azure Sphere docs "Peripherals in MT3620"):
- GPIO pin blocks of four pins: GPIO 4n..4n+3 at 0x38010000 + n*0x10000 (n = 0..5); blocks 0-2 also hold PWM
  controller n (0x38011000 + n*0x10000), which drives the same pins (PWM-CONTROLLER-n shares GPIO 4n..4n+3).
- ISU n (n = 0..4) at 0x38070000 + n*0x10000: one 4 KB page with the I2C, SPI master, SPI slave and UART
  functions (one app owns the ISU whatever the function; its five pins GPIO 26-30, 31-35, 36-40, 66-70, 71-75
  are the same pin block).
- ADC controller 0 at 0x38000000 (pins GPIO 41-48); I2S0 at 0x380D0000 (GPIO 56-60), I2S1 at 0x380E0000 (61-65).
- Mailbox channels: IO core 0 <-> IO core 1 (each core's port at 0x21060000), A7 <-> IO core n (the IO core's
  port at 0x21050000, the A7's at 0x31010000 / 0x31020000).
- Memory windows: each IO core's TCM (0x00100000, 192 KB), SYSRAM (0x22000000, 64 KB) and XIP flash window
  (0x10000000, 1 MB), and each IO core's half of the intercore shared buffers (0x20100000 / 0x20102000, 8 KB;
  emulator-defined placement, docs/engine.md).

The firewalls' register interface is not public: the emulator's (peripherals/firewall/bus_firewall.py) is
emulator-defined, and so is the order of the blocks below (it is the index of each block's OWNER register).
"""
from __future__ import annotations

from dataclasses import dataclass

A7, IO0, IO1 = "a7", "io0", "io1"
CORES = (A7, IO0, IO1)
CORE_BITS = {A7: 1, IO0: 2, IO1: 4}          # bits of an OWNER register
ALL_CORES = 7


@dataclass(frozen=True)
class Window:
    view: str | None          # the core whose bus view holds it (None: every core sees it there)
    start: int
    size: int

    @property
    def end(self) -> int:
        return self.start + self.size


@dataclass(frozen=True)
class Block:
    name: str
    kind: str                 # "gpio", "isu", "adc", "i2s", "mailbox", "memory"
    windows: tuple[Window, ...]
    description: str


def _gpio(n: int) -> Block:
    windows = [Window(None, 0x38010000 + n * 0x10000, 0x1000)]
    what = f"GPIO {4 * n}-{4 * n + 3}"
    if n < 3:
        windows.append(Window(None, 0x38011000 + n * 0x10000, 0x1000))
        what += f" and PWM controller {n}"
    return Block(f"gpio{n}", "gpio", tuple(windows), what)


def _isu(n: int) -> Block:
    return Block(f"isu{n}", "isu", (Window(None, 0x38070000 + n * 0x10000, 0x1000),),
                 f"ISU {n} (I2C, SPI, UART)")


BLOCKS: tuple[Block, ...] = (
    *(_gpio(n) for n in range(6)),
    *(_isu(n) for n in range(5)),
    Block("adc", "adc", (Window(None, 0x38000000, 0x1000),), "ADC controller 0"),
    Block("i2s0", "i2s", (Window(None, 0x380D0000, 0x10000),), "I2S 0"),
    Block("i2s1", "i2s", (Window(None, 0x380E0000, 0x10000),), "I2S 1"),
    Block("mbox_io0_io1", "mailbox", (Window(IO0, 0x21060000, 0x1000), Window(IO1, 0x21060000, 0x1000)),
          "mailbox between IO core 0 and IO core 1"),
    Block("mbox_a7_io0", "mailbox", (Window(IO0, 0x21050000, 0x1000), Window(A7, 0x31010000, 0x10000)),
          "mailbox between the A7 and IO core 0"),
    Block("mbox_a7_io1", "mailbox", (Window(IO1, 0x21050000, 0x1000), Window(A7, 0x31020000, 0x10000)),
          "mailbox between the A7 and IO core 1"),
    *(Block(f"{core}_{mem}", "memory", (Window(core, start, size),), f"IO core {core[-1]} {what}")
      for core in (IO0, IO1)
      for mem, start, size, what in (("tcm", 0x00100000, 0x30000, "TCM"), ("sysram", 0x22000000, 0x10000, "SYSRAM"),
                                     ("xip", 0x10000000, 0x100000, "XIP flash window"))),
    Block("intercore_io0", "memory", (Window(None, 0x20100000, 0x2000),), "intercore buffers of IO core 0"),
    Block("intercore_io1", "memory", (Window(None, 0x20102000, 0x2000),), "intercore buffers of IO core 1"),
)
BLOCK_INDEX = {b.name: i for i, b in enumerate(BLOCKS)}


def block(name: str) -> Block:
    try:
        return BLOCKS[BLOCK_INDEX[name]]
    except KeyError:
        raise KeyError(f"no firewall block named {name!r}") from None


def mask_of(cores) -> int:
    """OWNER bits for an iterable of core names."""
    mask = 0
    for core in cores:
        mask |= CORE_BITS[core]
    return mask


def cores_of(mask: int) -> tuple[str, ...]:
    return tuple(c for c in CORES if mask & CORE_BITS[c])
