"""The RGU's HCLK selection and the clock listener the engine uses to change the core's speed."""
from mt3620.engine.simulation.clock import VirtualClock
from mt3620.engine.simulation.peripheral import ResetKind
from mt3620.peripherals.clock.rgu import Rgu

HCLK = Rgu.offset("CM4_HCLK_CK_CTRL")
CKGEN0 = Rgu.offset("TOP_AON_CM4_CKGEN0")


def test_reset_is_crystal():
    rgu = Rgu(clock=VirtualClock(), base_address=0x21010000)
    assert rgu.hz == 26_000_000
    assert (rgu.read(HCLK) >> 8) & 3 == 0
    assert rgu.read(Rgu.offset("TOP_AON_CM4_PWRCTLCR")) == 1 << 6


def test_mediatek_bsp_pll_sequence_notifies():
    rgu = Rgu()
    seen = []
    rgu.add_clock_listener(seen.append)
    rgu.write(HCLK, 4, rgu.read(HCLK) & 0xFFFF00FF)          # MTK nvic.c: clear, then select the PLL
    rgu.write(HCLK, 4, rgu.read(HCLK) | 0x200)
    assert rgu.hz == 197_600_000
    assert seen == [197_600_000]
    rgu.write(HCLK, 4, 0x100)
    assert seen == [197_600_000, 32_768]
    rgu.write(HCLK, 4, 0x1AB)                                # same source, other bits: no notification
    assert len(seen) == 2 and rgu.read(HCLK) == 0x1AB


def test_reserved_source_is_ignored():
    rgu = Rgu()
    rgu.write(HCLK, 4, 0x200)
    rgu.write(HCLK, 4, 0x300)
    assert rgu.hz == 197_600_000
    assert (rgu.read(HCLK) >> 8) & 3 == 2


def test_other_registers_are_storage_and_reset_notifies():
    rgu = Rgu()
    seen = []
    rgu.add_clock_listener(seen.append)
    rgu.write(CKGEN0, 4, 0xC000)
    assert rgu.read(CKGEN0) == 0xC000
    rgu.write(HCLK, 4, 0x200)
    rgu.reset()
    assert rgu.read(CKGEN0) == 0 and rgu.hz == 26_000_000
    assert seen == [197_600_000, 26_000_000]
    rgu.write(0x800, 4, 1)
    assert rgu.read(0x800) == 0


def test_a_core_reset_returns_to_the_crystal_and_the_machine_follows():
    from mt3620.engine.machine import Machine
    m = Machine()
    rgu = m.device("io0_rgu")
    rgu.write(HCLK, 4, 0x200)
    assert m.cores["io0"].hz == 197_600_000
    rgu.reset(ResetKind.CORE)
    assert rgu.hz == 26_000_000 and m.cores["io0"].hz == 26_000_000
