"""Random guest accesses (seeded) never make a model raise: nonsense is ignored or handled, never a traceback."""
import random

import pytest

from mt3620.engine.simulation.clock import PS_PER_SECOND, VirtualClock
from mt3620.peripherals.clock.rgu import Rgu
from mt3620.peripherals.dma.m4_dma import M4Dma
from mt3620.peripherals.gpio.eint import EintController
from mt3620.peripherals.gpio.gpio_block import GpioBlock
from mt3620.peripherals.gpio.pwm import Pwm
from mt3620.peripherals.mailbox.intercore import ByteMemory
from mt3620.peripherals.mailbox.m4_mailbox import MailboxPort
from mt3620.peripherals.timers.gpt import Gpt
from mt3620.peripherals.uart.mt3620_uart import Mt3620Uart
from mt3620.peripherals.watchdog.m4_watchdog import M4Watchdog


def build(kind, clock):
    mem = ByteMemory(0x22000000, 0x10000)
    return {
        "uart": lambda: Mt3620Uart(clock=clock, base_address=0x38070500, cpu="io0",
                                   dma=M4Dma(clock=clock, base_address=0x21080000, cpu="io0", memory=mem)),
        "debug_uart": lambda: Mt3620Uart(clock=clock, base_address=0x21040000),
        "gpt": lambda: Gpt(clock=clock, base_address=0x21030000, hclk=Rgu(clock=clock)),
        "gpio": lambda: GpioBlock(clock=clock, base_address=0x38010000),
        "pwm": lambda: Pwm(clock=clock, base_address=0x38011000),
        "eint": lambda: EintController(clock=clock, base_address=0x21000000),
        "wdt": lambda: M4Watchdog(clock=clock, base_address=0x21020000),
        "rgu": lambda: Rgu(clock=clock, base_address=0x21010000),
        "mbox": lambda: MailboxPort(clock=clock, base_address=0x21050000, cpu="io0"),
        "dma": lambda: M4Dma(clock=clock, base_address=0x21080000, cpu="io0", memory=mem, hclk=Rgu(clock=clock)),
    }[kind]()


@pytest.mark.parametrize("kind", ["uart", "debug_uart", "gpt", "gpio", "pwm", "eint", "wdt", "rgu", "mbox", "dma"])
def test_random_accesses(kind):
    rng = random.Random(kind)
    clock = VirtualClock()
    model = build(kind, clock)                       # the ISU UART with a DMA, so VFIFO paths have a partner
    offsets = sorted({reg.offset for reg in model.register_map()})
    for i in range(3000):
        if rng.random() < 0.9:
            offset = rng.choice(offsets) + rng.choice((0, 0, 0, 1, 2, 3))
        else:
            offset = rng.randrange(0, model.SIZE)
        size = rng.choice((1, 2, 4, 4, 4))
        offset -= offset % size
        if rng.random() < 0.5:
            value = rng.choice((0, 0xFFFFFFFF, rng.getrandbits(32), rng.getrandbits(8), 1 << rng.randrange(32)))
            model.write(offset, size, value & ((1 << (8 * size)) - 1))
        else:
            assert 0 <= model.read(offset, size) < (1 << (8 * size))
        if i % 50 == 0:
            clock.advance_to(clock.now + rng.randrange(0, PS_PER_SECOND // 100))
        if kind.endswith("uart") and i % 200 == 0:
            model.feed(bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 40))))
        if kind == "gpio" and i % 100 == 0:
            model.drive_input(rng.randrange(4), rng.choice((0, 1, None)))
    clock.advance_to(clock.now + PS_PER_SECOND)
    snap = model.snapshot()
    model.restore(snap)
    model.reset()
