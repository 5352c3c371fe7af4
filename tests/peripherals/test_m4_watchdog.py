"""Register-level tests of the IO-core watchdog model."""
import pytest

from mt3620.engine.simulation.clock import PS_PER_SECOND, VirtualClock
from mt3620.engine.simulation.peripheral import ResetKind
from mt3620.peripherals.watchdog.m4_watchdog import M4Watchdog

MODE, LENGTH, RESTART, STA, SWRST = (M4Watchdog.offset(f"WDT_{name}")
                                     for name in ("MODE", "LENGTH", "RESTART", "STA", "SWRST"))
TICK = PS_PER_SECOND // 32


@pytest.fixture
def wdt():
    w = M4Watchdog(clock=VirtualClock(), base_address=0x21020000)
    w.pulses = []
    w.irq[1].connect(lambda level: w.pulses.append(level))
    return w


def setup(w, seconds, irq):
    w.write(LENGTH, 4, ((seconds * 32 - 1) << 5) | 0x08)      # hdl_wdt.h WDT_LENGTH_SEC2TICK
    w.write(RESTART, 4, 0x1971)
    w.write(MODE, 4, 0x2200 | (0x8 if irq else 0) | 0x1)


def test_reset_values(wdt):
    assert wdt.read(MODE) == 0 and wdt.read(STA) == 0 and wdt.read(RESTART) == 0
    assert wdt.read(LENGTH) == (0x7FF << 5) | 0x08
    assert not wdt.irq[0].level and not wdt.irq[1].level


def test_timeout_resets_core_and_sta_survives(wdt):
    clock = wdt.clock
    setup(wdt, 2, irq=False)
    assert wdt.read(MODE) == 0x1
    clock.advance_to(2 * PS_PER_SECOND - 1)
    assert wdt.pulses == []
    clock.advance_to(2 * PS_PER_SECOND)
    assert wdt.pulses == [True, False]                        # reset line pulsed once
    assert wdt.read(STA) == 0x8000
    assert wdt.read(MODE) == 0                                # the watchdog came out of reset disabled
    clock.advance_to(10 * PS_PER_SECOND)
    assert wdt.pulses == [True, False]
    wdt.reset()                                               # power-on reset clears the record
    assert wdt.read(STA) == 0


def test_engine_resetting_models_during_the_pulse_keeps_sta(wdt):
    wdt.irq[1].connect(lambda level: level and wdt.reset())   # engine: reset the core and its models
    setup(wdt, 1, irq=False)
    wdt.clock.advance_to(PS_PER_SECOND)
    assert wdt.read(STA) == 0x8000


def test_kicking_postpones_timeout(wdt):
    clock = wdt.clock
    setup(wdt, 1, irq=False)
    for k in range(1, 11):
        clock.advance_to(k * PS_PER_SECOND // 2)
        wdt.write(RESTART, 4, 0x1971)
    assert wdt.pulses == []
    clock.advance_to(6 * PS_PER_SECOND - 1)
    assert wdt.pulses == []
    clock.advance_to(6 * PS_PER_SECOND)
    assert wdt.pulses == [True, False]


def test_irq_mode_holds_line_until_kick(wdt):
    clock = wdt.clock
    setup(wdt, 1, irq=True)
    clock.advance_to(PS_PER_SECOND)
    assert wdt.irq[0].level and wdt.pulses == []
    assert wdt.read(STA) == 0x8000
    wdt.write(RESTART, 4, 0x1971)
    assert not wdt.irq[0].level
    clock.advance_to(2 * PS_PER_SECOND)
    assert wdt.irq[0].level
    wdt.write(MODE, 4, 0x2200 | 0x8)                          # disable
    assert not wdt.irq[0].level


def test_wrong_keys_are_ignored(wdt):
    clock = wdt.clock
    wdt.write(MODE, 4, 0x1101)
    assert wdt.read(MODE) == 0
    wdt.write(LENGTH, 4, (31 << 5) | 0x07)
    assert wdt.read(LENGTH) == (0x7FF << 5) | 0x08
    setup(wdt, 1, irq=False)
    clock.advance_to(PS_PER_SECOND // 2)
    wdt.write(RESTART, 4, 0x1972)                             # not a kick
    wdt.write(SWRST, 4, 0x1208)                               # not a reset
    assert wdt.pulses == []
    clock.advance_to(PS_PER_SECOND)
    assert wdt.pulses == [True, False]


def test_software_reset(wdt):
    wdt.write(SWRST, 4, 0x1209)
    assert wdt.pulses == [True, False]
    assert wdt.read(STA) == 0x4000


def test_length_applies_at_restart(wdt):
    clock = wdt.clock
    setup(wdt, 4, irq=True)
    clock.advance_to(PS_PER_SECOND)
    wdt.write(LENGTH, 4, (31 << 5) | 0x08)                    # 1 s, not yet loaded
    clock.advance_to(3 * PS_PER_SECOND)
    assert not wdt.irq[0].level
    wdt.write(RESTART, 4, 0x1971)
    clock.advance_to(4 * PS_PER_SECOND)
    assert wdt.irq[0].level


def test_snapshot_restore(wdt):
    setup(wdt, 2, irq=True)
    wdt.clock.advance_to(PS_PER_SECOND)
    snap = wdt.snapshot()
    w2 = M4Watchdog(clock=VirtualClock())
    w2.clock.advance_to(PS_PER_SECOND)
    w2.restore(snap)
    w2.clock.advance_to(2 * PS_PER_SECOND)
    assert w2.irq[0].level


def test_core_reset_hook_keeps_sta(wdt):
    setup(wdt, 1, irq=False)
    wdt.clock.advance_to(PS_PER_SECOND)
    wdt.reset(ResetKind.CORE)                                 # the engine resets the core's blocks later
    assert wdt.read(STA) == 0x8000


def test_chip_reset_keeps_sta_and_power_on_clears_it(wdt):
    wdt.write(SWRST, 4, 0x1209)
    wdt.reset(ResetKind.WARM)                                 # the chip restarts with power kept
    assert wdt.read(STA) == 0x4000 and wdt.read(MODE) == 0
    wdt.reset(ResetKind.COLD)
    assert wdt.read(STA) == 0
