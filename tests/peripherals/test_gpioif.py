"""GPIOIF counters of a GPIO block, driven by waveforms on the pads over virtual time: event counting in the
direction, up/down and quadrature modes, edge selection, limits and their interrupt, saturation, capture FIFOs with
26 MHz timestamps, debounce, the GPIO_2 reset, the group's software reset, snapshots."""
import pytest

from mt3620.engine.simulation.clock import PS_PER_SECOND, VirtualClock
from mt3620.peripherals.buses.signals import Steps
from mt3620.peripherals.gpio.gpio_block import GpioBlock

O = GpioBlock.offset
MS = PS_PER_SECOND // 1000
RISING, FALLING, BOTH = 0, 1, 2
DIRECTION, UPDOWN, QUAD = 0, 1, 2


@pytest.fixture
def blk():
    clock = VirtualClock()
    g = GpioBlock(clock=clock, base_address=0x38030000)        # GPIO block 2: pins 8..11, counter IRQ 73
    g.write(O("GPIO_PWM_GRP_GLOBAL_CTRL"), 4, 0xF)             # counter mode, clock on, out of reset
    return clock, g


def ctrl3(edge=RISING, mode=UPDOWN, int_mode=0, sat=0, cap0=None, cap1=None, extra=0):
    v = edge << 16 | mode << 18 | int_mode << 24 | sat << 28 | extra
    if cap0 is not None:
        v |= cap0 << 8
    if cap1 is not None:
        v |= cap1 << 10
    return v


def enable(g, event=True, capture=False):
    g.write(O("GPIO_CNT_DYNAMIC_CTRL0"), 4, int(event) | int(capture) << 1)


def run(clock, ms):
    clock.advance_to(clock.now + int(ms * MS))


def test_up_down_counts_pulses_of_a_waveform(blk):
    clock, g = blk
    g.write(O("GPIO_CNT_STATIC_CTRL3"), 4, ctrl3(mode=UPDOWN))
    enable(g)
    g.drive_waveform(8, "square(0, 1, 1kHz)")                   # GPIO_0: counts up
    run(clock, 10.25)
    # rising edges at 0..10 ms: the pad was low (undriven) before the waveform took it high at 0
    assert g.read(O("GPIO_CNT_COUNTER_VALUE")) == 11
    g.drive_waveform(9, "square(0, 1, 2kHz)")                   # GPIO_1 counts down, twice as fast; it is low
    run(clock, 10)                                              # at 10.25 ms (the square's phase is absolute)
    assert g.counter_value() == 11 + 10 - 20


def test_both_edges_and_falling(blk):
    clock, g = blk
    g.write(O("GPIO_CNT_STATIC_CTRL3"), 4, ctrl3(edge=BOTH))
    enable(g)
    g.drive_waveform(8, "steps(0:0, 1ms:1, 2ms:0, 3ms:1)")
    run(clock, 5)
    assert g.counter_value() == 3
    g.write(O("GPIO_CNT_STATIC_CTRL3"), 4, ctrl3(edge=FALLING))
    g.drive_input(8, 0)
    assert g.counter_value() == 4


def test_direction_mode_follows_gpio1(blk):
    clock, g = blk
    g.write(O("GPIO_CNT_RST_VAL"), 4, 100)
    g.write(O("GPIO_CNT_STATIC_CTRL3"), 4, ctrl3(mode=DIRECTION))
    enable(g)
    assert g.counter_value() == 100                             # loads RST_VAL when enabled
    g.drive_input(9, 1)
    g.drive_waveform(8, "square(0, 1, 1kHz)")
    run(clock, 3.5)                                             # edges at 0, 1, 2, 3 ms count up
    g.drive_input(9, 0)
    run(clock, 2)                                               # 4 and 5 ms count down
    assert g.counter_value() == 100 + 4 - 2


@pytest.mark.parametrize("lead,expect", [("a", 8), ("b", -8)])
def test_quadrature_direction_from_phase(blk, lead, expect):
    clock, g = blk
    g.write(O("GPIO_CNT_RST_VAL"), 4, 1000)
    g.write(O("GPIO_CNT_STATIC_CTRL3"), 4, ctrl3(mode=QUAD, edge=BOTH))
    enable(g)
    a = Steps([(0, 0), (1 * MS, 1), (3 * MS, 0), (5 * MS, 1), (7 * MS, 0)])
    b = Steps([(0, 0), (2 * MS, 1), (4 * MS, 0), (6 * MS, 1), (8 * MS, 0)])
    g.drive_waveform(8, a if lead == "a" else b)
    g.drive_waveform(9, b if lead == "a" else a)
    run(clock, 9)
    assert g.counter_value() == 1000 + expect


def test_high_limit_interrupt_and_clear(blk):
    clock, g = blk
    g.write(O("GPIO_CNT_HIGH_LIMIT"), 4, 5)
    g.write(O("GPIO_CNT_LOW_LIMIT"), 4, 0)
    g.write(O("GPIO_CNT_STATIC_CTRL3"), 4, ctrl3(int_mode=2))
    g.write(O("GPIO_CNT_INT_EN"), 4, 2)
    enable(g)
    g.drive_waveform(8, "square(0, 1, 1kHz)")
    run(clock, 3.5)                                             # four edges (0..3 ms)
    assert not g.irq[4].level
    run(clock, 1)                                               # the fifth reaches the limit
    assert g.irq[4].level and g.read(O("GPIO_CNT_INT_STS")) & 2
    g.write(O("GPIO_CNT_INT_STS_CLR"), 4, 2)
    assert not g.irq[4].level


def test_saturation_and_wrap(blk):
    clock, g = blk
    g.write(O("GPIO_CNT_HIGH_LIMIT"), 4, 3)
    g.write(O("GPIO_CNT_STATIC_CTRL3"), 4, ctrl3(sat=2))
    enable(g)
    g.drive_waveform(8, "square(0, 1, 1kHz)")
    run(clock, 10.5)
    assert g.counter_value() == 3
    g.write(O("GPIO_CNT_STATIC_CTRL3"), 4, ctrl3(sat=0))
    g.write(O("GPIO_CNT_DYNAMIC_CTRL0"), 4, 1 | 1 << 16)        # software reset of the event counter: RST_VAL 0
    g.drive_waveform(8, None)
    g.drive_input(9, 1)                                         # one down-count from 0: underflow
    assert g.counter_value() == 0xFFFFFFFF and g.read(O("GPIO_CNT_INT_STS")) & (1 << 9)


def test_capture_fifo_timestamps_at_26_mhz(blk):
    clock, g = blk
    g.write(O("GPIO_CNT_STATIC_CTRL3"), 4, ctrl3(cap0=RISING))
    enable(g, event=False, capture=True)
    g.drive_waveform(8, "square(0, 1, 1kHz)")
    run(clock, 3.5)
    assert g.read(O("GPIO_CNT_CAP_FIFO_STS")) == 4
    stamps = [g.read(O("GPIO_CNT_CAP_VALUE_0")) for _ in range(4)]
    assert stamps == [0, 26_000, 52_000, 78_000]                # 26 MHz ticks since the capture counter started
    assert g.read(O("GPIO_CNT_CAP_VALUE_0")) == 0 and g.read(O("GPIO_CNT_INT_STS")) & (1 << 24)
    run(clock, 10)                                              # 10 more: 8 fit, the rest flag FIFO full
    assert g.read(O("GPIO_CNT_CAP_FIFO_STS")) == 8 and g.read(O("GPIO_CNT_INT_STS")) & (1 << 12)


def test_debounce_drops_glitches(blk):
    clock, g = blk
    g.write(O("GPIO_CNT_STATIC_CTRL0"), 4, 1 << 14 | 2600)      # 100 us minimum pulse at 26 MHz
    g.write(O("GPIO_CNT_STATIC_CTRL3"), 4, ctrl3())
    enable(g)
    g.drive_waveform(8, Steps([(0, 0), (1 * MS, 1), (1 * MS + 50_000_000, 0),     # a 50 us glitch
                               (2 * MS, 1), (3 * MS, 0)]))
    run(clock, 4)
    assert g.counter_value() == 1


def test_gpio2_resets_the_counter(blk):
    clock, g = blk
    g.write(O("GPIO_CNT_RST_VAL"), 4, 7)
    g.write(O("GPIO_CNT_STATIC_CTRL3"), 4, ctrl3(extra=1 | 4))   # reset level high, event counter reset
    enable(g)
    g.drive_waveform(8, "square(0, 1, 1kHz)")
    run(clock, 3.5)
    assert g.counter_value() == 7 + 4
    g.drive_input(10, 1)
    assert g.counter_value() == 7 and g.read(O("GPIO_CNT_INT_STS")) & 4


def test_nothing_counts_without_counter_mode_and_group_reset(blk):
    clock, g = blk
    g.write(O("GPIO_CNT_STATIC_CTRL3"), 4, ctrl3())
    enable(g)
    g.write(O("GPIO_PWM_GRP_GLOBAL_CTRL"), 4, 0x6)             # counter mode off
    g.drive_waveform(8, "square(0, 1, 1kHz)")
    run(clock, 3.5)
    assert g.counter_value() == 0
    g.write(O("GPIO_PWM_GRP_GLOBAL_CTRL"), 4, 0xF)
    run(clock, 2)
    assert g.counter_value() == 2
    g.write(O("GPIO_PWM_GRP_GLOBAL_CTRL"), 4, 0xD)             # GPIO_CR_SW_RST_B low: the counters reset
    assert g.read(O("GPIO_CNT_STATIC_CTRL3")) == 0 and g.counter_value() == 0


def test_waveform_survives_snapshot_and_reset(blk):
    clock, g = blk
    g.write(O("GPIO_CNT_STATIC_CTRL3"), 4, ctrl3())
    enable(g)
    g.drive_waveform(8, "square(0, 1, 1kHz)")
    run(clock, 2.5)
    snap = g.snapshot()
    run(clock, 5)
    assert g.counter_value() == 8
    g.restore(snap)
    assert g.counter_value() == 3
    g.reset()
    assert g.counter_value() == 0 and g.signals[0] is not None


def test_bad_waveforms_are_refused(blk):
    _, g = blk
    with pytest.raises(ValueError):
        g.drive_waveform(8, "triangle(1)")
    with pytest.raises(ValueError):
        g.drive_waveform(3, "square(0, 1, 1kHz)")               # not in this block


def test_capture_reads_without_the_counter_clock_flag_nothing():
    g = GpioBlock(clock=VirtualClock(), base_address=0x38040000)
    assert g.read(O("GPIO_CNT_CAP_VALUE_0")) == 0 and g.read(O("GPIO_CNT_INT_STS")) == 0   # reset: clock off
    g.write(O("GPIO_PWM_GRP_GLOBAL_CTRL"), 4, 0xF)
    assert g.read(O("GPIO_CNT_CAP_VALUE_1")) == 0 and g.read(O("GPIO_CNT_INT_STS")) == 1 << 25
