"""The EINT configuration block: debounce, polarity, dual edge, IRQ sense, wired behind a GPIO block."""
import pytest

from mt3620.engine.simulation.clock import PS_PER_SECOND, VirtualClock
from mt3620.peripherals.board.rdb import RdbBoard
from mt3620.peripherals.gpio.eint import EintController
from mt3620.peripherals.gpio.gpio_block import GpioBlock

EN, POL, DUAL = 1 << 9, 1 << 8, 1 << 7
IRQ_SENS0, SOFT_RST = EintController.offset("IRQ_SENS0"), EintController.offset("SOFT_RST")


def dbnc(pin):
    return EintController.offset(f"DBNC_CON{pin}")


@pytest.fixture
def chip():
    clock = VirtualClock()
    blocks = [GpioBlock(clock=clock, base_address=0x38010000 + n * 0x10000) for n in range(6)]
    eint = EintController(clock=clock, base_address=0x21000000, cpu="io0")
    for b in blocks:
        for i, line in enumerate(b.irq):
            line.connect(lambda level, pin=b.first_pin + i: eint.irq_input(pin, level))
    pulses = {n: [] for n in range(24)}
    for n in range(24):
        eint.irq[n].connect(lambda level, n=n: pulses[n].append(level))
    return clock, blocks, eint, pulses


def test_reset_values(chip):
    _, _, eint, _ = chip
    assert eint.read(dbnc(0)) == 0 and eint.read(IRQ_SENS0) == 0 and eint.read(SOFT_RST) == 0
    assert eint.irq_number(12) == 32
    assert not any(line.level for line in eint.irq)


def test_button_press_edge_interrupt_with_mtk_falling_edge(chip):
    clock, blocks, eint, pulses = chip
    board = RdbBoard(blocks)                          # button A (GPIO 12) released: high
    eint.write(dbnc(12), 4, EN | POL)                 # MTK os_hal_eint.c HAL_EINT_EDGE_FALLING: POL 1
    assert pulses[12] == []
    board.press("A")
    assert pulses[12] == [True, False]                # one pulse: the NVIC pends IRQ 32 once
    board.release("A")
    assert pulses[12] == [True, False]                # release is not active for POL 1
    eint.write(dbnc(12), 4, EN | POL | DUAL)          # HAL_EINT_EDGE_FALLING_AND_RISING
    board.press("A")
    board.release("A")
    assert pulses[12] == [True, False] * 3


def test_pol_0_is_rising_edge_and_active_high(chip):
    clock, blocks, eint, pulses = chip
    board = RdbBoard(blocks)
    eint.write(dbnc(12), 4, EN)                       # MTK HAL_EINT_EDGE_RISING: POL 0
    board.press("A")
    assert pulses[12] == []                           # falling: not active
    board.release("A")
    assert pulses[12] == [True, False]                # rising: one pulse
    eint.write(IRQ_SENS0 + 4, 4, 1 << 0)              # IRQ 32 level-sensitive: HAL_EINT_LEVEL_HIGH
    assert eint.irq[12].level                         # released button: high, active
    board.press("A")
    assert not eint.irq[12].level


def test_debounce_filters_glitches(chip):
    clock, blocks, eint, pulses = chip
    blk = blocks[3]
    blk.drive_input(13, 1)
    eint.write(dbnc(13), 4, EN | (3 << 4) | 4)        # rising edge, 1 kHz debounce clock, 4 ticks = 4 ms
    blk.drive_input(13, 0)
    clock.advance_to(10 * PS_PER_SECOND // 1000)
    blk.drive_input(13, 1)                            # rising edge...
    clock.advance_to(12 * PS_PER_SECOND // 1000)
    blk.drive_input(13, 0)                            # ...gone after 2 ms: filtered
    clock.advance_to(30 * PS_PER_SECOND // 1000)
    assert pulses[13] == []
    blk.drive_input(13, 1)
    clock.advance_to(34 * PS_PER_SECOND // 1000 - 1)
    assert pulses[13] == []
    clock.advance_to(34 * PS_PER_SECOND // 1000)
    assert pulses[13] == [True, False]


def test_level_sense_holds_line(chip):
    _, blocks, eint, pulses = chip
    eint.write(IRQ_SENS0, 4, 1 << (20 + 2))           # GPIO 2 level-sensitive
    eint.write(dbnc(2), 4, EN | POL)                  # MTK HAL_EINT_LEVEL_LOW: POL 1
    blocks[0].drive_input(2, 0)
    assert eint.irq[2].level
    blocks[0].drive_input(2, 1)
    assert not eint.irq[2].level
    blocks[0].drive_input(2, 0)
    eint.write(dbnc(2), 4, 0)                         # CTD EINT_DeConfigurePin
    assert not eint.irq[2].level


def test_disabled_and_out_of_range_inputs(chip):
    _, blocks, eint, pulses = chip
    blocks[1].drive_input(5, 1)
    assert pulses[5] == []
    eint.irq_input(99, True)                          # not an EINT: ignored
    eint.write(0xFFC, 4, 1)
    assert eint.read(0xFFC) == 0


def test_snapshot_restore_pending_debounce(chip):
    clock, blocks, eint, pulses = chip
    eint.write(dbnc(4), 4, EN | 2)                    # rising edge, 8 kHz, 2 ticks = 250 us
    blocks[1].drive_input(4, 1)
    snap = eint.snapshot()
    other = EintController(clock=clock)
    seen = []
    other.irq[4].connect(seen.append)
    other.restore(snap)
    eint.reset()                                      # the original no longer fires
    clock.advance_to(PS_PER_SECOND // 1000)
    assert seen == [True, False]
