"""Random guest accesses (seeded) never make a model raise: nonsense is ignored or handled, never a traceback."""
import random

import pytest

from mt3620.engine.simulation.clock import PS_PER_SECOND, VirtualClock
from mt3620.peripherals.clock.rgu import Rgu
from mt3620.peripherals.dma.m4_dma import M4Dma
from mt3620.peripherals.firewall import BusFirewall
from mt3620.peripherals.gpio.eint import EintController
from mt3620.peripherals.gpio.gpio_block import GpioBlock
from mt3620.peripherals.gpio.pwm import Pwm
from mt3620.peripherals.mailbox.intercore import ByteMemory
from mt3620.peripherals.mailbox.m4_mailbox import MailboxPort
from mt3620.peripherals.timers.gpt import Gpt
from mt3620.peripherals.uart.mt3620_uart import Mt3620Uart
from mt3620.peripherals.watchdog.m4_watchdog import M4Watchdog
from mt3620.peripherals.adc.adc import Adc
from mt3620.peripherals.buses.i2c import RegisterTarget
from mt3620.peripherals.devices.loopback import SpiLoopback
from mt3620.peripherals.devices.max98090 import Max98090
from mt3620.peripherals.i2s.i2s import I2s, I2sFifoPort
from mt3620.peripherals.isu.i2c import IsuI2c
from mt3620.peripherals.isu.isu_config import IsuConfig
from mt3620.peripherals.isu.spi_master import IsuSpiMaster
from mt3620.peripherals.isu.spi_subordinate import IsuSpiSubordinate


def isu_block(cls, base, clock, mem):
    """An ISU function with its configuration block (kept in the test's hands through `.cfg`) and a DMA."""
    cfg = IsuConfig(clock=clock, base_address=base & ~0xFFFF)
    block = cls(clock=clock, base_address=base, isu=cfg)
    block.link("dma", M4Dma(clock=clock, base_address=0x21080000, cpu="io0", memory=mem))
    block.cfg = cfg
    if cls is IsuI2c:
        block.attach(RegisterTarget(name="t"), 0x10)                  # something to answer at one address
        other = IsuI2c(clock=clock, base_address=base + 0x10000)      # and a second controller on the wire
        block.join(other)
    elif cls is IsuSpiMaster:
        block.attach(SpiLoopback(), 0)
    return block


def audio_block(clock, mem, port=False):
    i2s = I2s(clock=clock, base_address=0x380D0000)
    i2s.link("dma", M4Dma(clock=clock, base_address=0x21080000, cpu="io0", memory=mem))
    i2s.attach(Max98090(name="codec"))
    if port:
        fifo = I2sFifoPort(clock=clock, base_address=0x380F0000)
        fifo.link("i2s", i2s)
        return fifo
    return i2s


def adc_block(clock, mem):
    adc = Adc(clock=clock, base_address=0x38000000)
    adc.link("dma", M4Dma(clock=clock, base_address=0x21080000, cpu="io0", memory=mem))
    for ch in range(8):
        adc.set_input(ch, ch * 0.3 if ch % 2 else f"sine(1.2, 0.5, {50 * (ch + 1)}Hz)")
    return adc


def build(kind, clock):
    mem = ByteMemory(0x22000000, 0x10000)
    return {
        "isu_cfg": lambda: IsuConfig(clock=clock, base_address=0x38070000),
        "isu_i2c": lambda: isu_block(IsuI2c, 0x38070200, clock, mem),
        "isu_spim": lambda: isu_block(IsuSpiMaster, 0x38070300, clock, mem),
        "isu_spis": lambda: isu_block(IsuSpiSubordinate, 0x38070400, clock, mem),
        "adc": lambda: adc_block(clock, mem),
        "i2s": lambda: audio_block(clock, mem),
        "i2s_fifo": lambda: audio_block(clock, mem, port=True),
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
        "firewall": lambda: BusFirewall(clock=clock, base_address=0x30000000),
    }[kind]()


@pytest.mark.parametrize("kind", ["uart", "debug_uart", "gpt", "gpio", "pwm", "eint", "wdt", "rgu", "mbox", "dma",
                                  "isu_cfg", "isu_i2c", "isu_spim", "isu_spis", "adc", "i2s", "i2s_fifo", "firewall"])
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
        if kind == "gpio" and i % 300 == 0:
            model.drive_waveform(rng.randrange(4), rng.choice((None, "square(0, 1, 1kHz)", "square(0, 1, 25kHz, 0.3)")))
        if kind.startswith("isu_") and kind != "isu_cfg" and i % 150 == 0:   # the ISU's mode changes under it
            model.cfg.write(0, 4, rng.choice((0x0101, 0x1E01, 0x8001, 0xFF01, 0x0100, rng.getrandbits(16))))
        if kind == "isu_spis" and i % 100 == 0:                  # a master on the other end of the wire
            model.spi_select()
            for _ in range(rng.randrange(0, 12)):
                assert 0 <= model.spi_exchange(rng.getrandbits(8)) <= 0xFF
            model.spi_deselect()
        if kind == "isu_i2c" and i % 100 == 0:                   # and another I2C master
            try:
                model.bus.transfer(0x10, [b"\x01\x02", 3])
            except Exception as err:                              # NACK/busy are the bus's answers, not bugs
                assert type(err).__name__ in ("I2cNack", "I2cBusy"), err
    clock.advance_to(clock.now + PS_PER_SECOND)
    snap = model.snapshot()
    model.restore(snap)
    model.reset()
