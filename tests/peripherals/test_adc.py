"""Register-level tests of the ADC: one-shot and periodic scans timed on the virtual clock, the FIFO, its
trigger level and timeout interrupts, DMA channel 29's ring (4-byte beats), inputs as constants and signals over
virtual time, channels that do not exist, the software reset. Virtual time is stepped explicitly."""
import logging

import pytest

from mt3620.engine.simulation.clock import PS_PER_SECOND, VirtualClock
from mt3620.peripherals.adc.adc import Adc
from mt3620.peripherals.dma.m4_dma import M4Dma
from mt3620.peripherals.mailbox.intercore import ByteMemory

O = Adc.offset
D = M4Dma.offset
SYSRAM = 0x22000000
CLK_PS = PS_PER_SECOND // 2_000_000                # one ADC clock


@pytest.fixture
def adc():
    clock = VirtualClock()
    a = Adc(clock=clock, base_address=0x38000000)
    for ch in range(8):
        a.set_input(ch, 0.25 * ch)
    return clock, a


def ctl0(chmap, t_ch=0, avg=0, t_init=0, periodic=False, fsm=True):
    return chmap << 16 | t_init << 9 | periodic << 8 | t_ch << 4 | avg << 1 | fsm


def drain(a):
    out = []
    while a.read(O("ADC_FIFO_LSR")) & 1:
        w = a.read(O("ADC_FIFO_RBR"))
        out.append((w & 0xF, w >> 4 & 0xFFF))
    return out


def test_reset_values():
    a = Adc(clock=VirtualClock())
    assert a.read(O("ADC_GLOBAL_CTRL")) == 1 and a.read(O("ADC_FIFO_TRI_LVL")) == 0x1C
    assert a.read(O("ADC_FIFO_IIR")) == 1 and a.read(O("ADC_FIFO_LSR")) == 0 and not a.irq[0].level
    with pytest.raises(ValueError):
        Adc(clock=VirtualClock(), base_address=0x38010000)


def test_one_shot_scan_converts_each_enabled_channel_once(adc):
    clock, a = adc
    a.write(O("ADC_CTL0"), 4, ctl0(0b1010_0101))
    clock.advance_to(PS_PER_SECOND // 1000)
    assert drain(a) == [(0, 0), (2, round(0.5 / 2.5 * 4095)), (5, round(1.25 / 2.5 * 4095)), (7, 4095 * 7 // 10)]
    clock.advance_to(clock.now + PS_PER_SECOND // 1000)
    assert drain(a) == []                                      # one scan only


def test_scan_timing_follows_t_init_t_ch_and_averaging(adc):
    clock, a = adc
    t_init, t_ch, avg = 20, 8, 2
    slot = t_ch + 2 + (1 << avg) + 1
    a.write(O("ADC_CTL0"), 4, ctl0(0b11, t_ch, avg, t_init))
    first = (t_init + 1 + slot) * CLK_PS
    clock.advance_to(first - 1)
    assert a.read(O("ADC_FIFO_LSR")) == 0
    clock.advance_to(first)
    assert len(a.fifo) == 1
    clock.advance_to(first + slot * CLK_PS)
    assert len(a.fifo) == 2


def test_periodic_mode_rescans_after_the_period(adc):
    clock, a = adc
    period = 1000
    a.write(O("REG_PERIOD"), 4, period)
    a.write(O("ADC_CTL0"), 4, ctl0(0b1, periodic=True))
    slot = 0 + 2 + 1 + 1
    scan = (1 + slot) * CLK_PS
    clock.advance_to(scan + 3 * (period + 1 + 1 + slot) * CLK_PS)
    assert len(a.fifo) == 4 and a.scans == 4
    a.write(O("ADC_CTL0"), 4, ctl0(0b1, periodic=True, fsm=False))
    clock.advance_to(clock.now + PS_PER_SECOND)
    assert len(a.fifo) == 4


def test_fifo_full_drops_and_counts(adc, caplog):
    clock, a = adc
    a.write(O("REG_PERIOD"), 4, 0)
    with caplog.at_level(logging.WARNING):
        a.write(O("ADC_CTL0"), 4, ctl0(0xFF, periodic=True))
        clock.advance_to(PS_PER_SECOND // 100)
    assert len(a.fifo) == 32 and a.overruns > 0 and "FIFO full" in caplog.text
    dbg = a.read(O("ADC_FIFO_DEBUG16"))
    assert dbg & 0x1F == (dbg >> 5) & 0x1F                    # full: pointers meet


def test_trigger_level_interrupt(adc):
    clock, a = adc
    a.write(O("ADC_FIFO_TRI_LVL"), 4, 4 << 2)
    a.write(O("ADC_FIFO_IER"), 4, 1)
    a.write(O("ADC_CTL0"), 4, ctl0(0b111))
    clock.advance_to(PS_PER_SECOND // 1000)
    assert len(a.fifo) == 3 and not a.irq[0].level
    a.write(O("ADC_CTL0"), 4, 0)
    a.write(O("ADC_CTL0"), 4, ctl0(0b1))                      # one more sample: 4 = the level
    clock.advance_to(clock.now + PS_PER_SECOND // 1000)
    assert a.irq[0].level and a.read(O("ADC_FIFO_IIR")) == 0x04
    a.read(O("ADC_FIFO_RBR"))
    assert not a.irq[0].level and a.read(O("ADC_FIFO_IIR")) == 0x01


def test_timeout_interrupt_when_data_waits(adc):
    clock, a = adc
    a.write(O("ADC_FIFO_RTOCNT"), 4, 100)
    a.write(O("ADC_FIFO_IER"), 4, 1 << 2)
    a.write(O("ADC_CTL0"), 4, ctl0(0b1))
    end = (1 + 4) * CLK_PS
    clock.advance_to(end + 99 * CLK_PS)
    assert not a.irq[0].level
    clock.advance_to(end + 100 * CLK_PS)
    assert a.irq[0].level and a.read(O("ADC_FIFO_IIR")) == 0x0C
    drain(a)
    assert not a.irq[0].level


def test_inputs_over_virtual_time_and_vref():
    clock = VirtualClock()
    a = Adc(clock=clock, base_address=0x38000000, vref=1.8)
    a.set_input(3, "pwl(0s:0, 1s:1.8)")
    a.set_input(4, 5.0)                                        # beyond Vref: clamped
    assert a.code(3) == 0 and a.code(4) == 4095
    clock.advance_to(PS_PER_SECOND // 2)
    assert a.code(3) == 2048 or a.code(3) == 2047
    a.write(O("ADC_CTL0"), 4, ctl0(0b1000))
    clock.advance_to(clock.now + PS_PER_SECOND // 1000)
    (ch, code), = drain(a)
    assert ch == 3 and abs(code - 2049) < 8
    a.set_input(3, None)
    assert a.code(3) == 0


def test_python_api_refuses_a_channel_that_does_not_exist(adc):
    _, a = adc
    for bad in (8, -1, "x"):
        with pytest.raises(ValueError, match="does not exist"):
            a.set_input(bad, 1.0)
    with pytest.raises(ValueError):
        a.set_input(0, "sine(1, 2)")


def test_guest_naming_absent_channels_gets_them_skipped_and_logged(adc, caplog):
    clock, a = adc
    with caplog.at_level(logging.WARNING):
        a.write(O("ADC_CTL0"), 4, ctl0(0xFF01))                # channels 8-15 do not exist
        clock.advance_to(PS_PER_SECOND // 1000)
    assert drain(a) == [(0, 0)] and "do not exist" in caplog.text
    a.write(O("ADC_CTL0"), 4, 0)
    a.write(O("ADC_CTL0"), 4, ctl0(0xFF00))                    # only absent ones: nothing converts
    clock.advance_to(clock.now + PS_PER_SECOND // 1000)
    assert drain(a) == []


def test_timestamp_counts_scans(adc):
    clock, a = adc
    a.write(O("ADC_CTL2"), 4, 1 << 21)
    a.write(O("REG_PERIOD"), 4, 10)
    a.write(O("ADC_CTL0"), 4, ctl0(0b1, periodic=True))
    clock.advance_to(PS_PER_SECOND // 10000)
    words = [a.read(O("ADC_FIFO_RBR")) for _ in range(3)]
    assert [w >> 16 for w in words] == [0, 1, 2]


def test_software_reset_clears_fifo_and_stops(adc):
    clock, a = adc
    a.write(O("ADC_CTL0"), 4, ctl0(0xFF, periodic=True))
    clock.advance_to(PS_PER_SECOND // 10000)
    a.write(O("ADC_GLOBAL_CTRL"), 4, 0)
    assert a.read(O("ADC_CTL0")) == 0 and a.read(O("ADC_FIFO_LSR")) == 0
    a.write(O("ADC_GLOBAL_CTRL"), 4, 1)
    clock.advance_to(clock.now + PS_PER_SECOND // 100)
    assert a.read(O("ADC_FIFO_LSR")) == 0


class Bus(ByteMemory):
    def __init__(self, adc):
        super().__init__(SYSRAM, 0x1000)
        self.adc = adc


def test_dma_ring_takes_four_byte_samples(adc):
    clock, a = adc
    mem = Bus(a)
    dma = M4Dma(clock=clock, base_address=0x21080000, cpu="io0", memory=mem)
    a.link("dma", dma)
    ch = 29
    dma.write(D("CH_EN_SET"), 4, 1 << ch)
    dma.write(D(f"CH{ch}_PGMADDR"), 4, SYSRAM)
    dma.write(D(f"CH{ch}_FIXADDR"), 4, 0x38000200)
    dma.write(D(f"CH{ch}_FFSIZE"), 4, 16)                     # 16 samples
    dma.write(D(f"CH{ch}_COUNT"), 4, 8)                       # interrupt at 8
    dma.write(D(f"CH{ch}_CON"), 4, 2 | 1 << 4 | 1 << 15 | 1 << 18)   # 4-byte beats, DREQ, ITEN, RX
    dma.write(D(f"CH{ch}_START"), 4, 1 << 15)
    a.write(O("ADC_FIFO_DMA_EN"), 4, 1)
    a.write(O("REG_PERIOD"), 4, 100)
    a.write(O("ADC_CTL0"), 4, ctl0(0b1111_0000, periodic=True))
    clock.advance_to(PS_PER_SECOND // 1000)
    assert dma.read(D(f"CH{ch}_FFCNT")) == 16 and dma.irq[0].level
    words = [int.from_bytes(mem.read(SYSRAM + 4 * i, 4), "little") for i in range(16)]
    assert [w & 0xF for w in words] == [4, 5, 6, 7] * 4
    assert [w >> 4 & 0xFFF for w in words[:4]] == [round(0.25 * c / 2.5 * 4095) for c in (4, 5, 6, 7)]
    assert len(a.fifo) == 32                                   # the ring is full: the FIFO fills behind it
    hw = dma.read(D(f"CH{ch}_HWPTR"))
    assert hw == 0x10000                                       # byte pointer 0, wrapped once
    dma.write(D(f"CH{ch}_SWPTR"), 4, 8 * 4)                    # software took 8 samples (byte pointer)
    assert dma.read(D(f"CH{ch}_FFCNT")) == 16                  # the FIFO refilled the ring at once


def test_dma_ring_pointing_nowhere_stops_the_channel(adc, caplog):
    clock, a = adc
    dma = M4Dma(clock=clock, base_address=0x21080000, cpu="io0", memory=Bus(a))
    a.link("dma", dma)
    dma.write(D("CH_EN_SET"), 4, 1 << 29)
    dma.write(D("CH29_PGMADDR"), 4, 0x70000000)
    dma.write(D("CH29_FFSIZE"), 4, 16)
    dma.write(D("CH29_CON"), 4, 2 | 1 << 4 | 1 << 18)
    dma.write(D("CH29_START"), 4, 1 << 15)
    a.write(O("ADC_FIFO_DMA_EN"), 4, 1)
    with caplog.at_level(logging.WARNING):
        a.write(O("ADC_CTL0"), 4, ctl0(0b1))
        clock.advance_to(PS_PER_SECOND // 1000)
    assert dma.bus_errors == 1 and not dma.running[29] and "bus error" in caplog.text
    assert drain(a) != []                                      # the sample stays in the FIFO for software
