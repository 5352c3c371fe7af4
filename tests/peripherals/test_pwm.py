"""Register-level tests of the PWM controller model."""
import pytest

from mt3620.engine.simulation.clock import PS_PER_SECOND, VirtualClock
from mt3620.peripherals.gpio.pwm import Pwm

GLO = Pwm.offset("PWM_GLO_CTRL")


def ctrl(ch):
    return Pwm.offset(f"PWM{ch}_CTRL")


def param(ch, state):
    return Pwm.offset(f"PWM{ch}_PARAM_S{state}")


def ctd_configure(pwm, ch, clock_sel, on, off):
    """The register sequence of CodethinkLabs PWM_ConfigurePin (facts, not code)."""
    pwm.write(GLO, 4, 0xE400)
    pwm.write(ctrl(ch), 4, 0xC)
    pwm.write(param(ch, 0), 4, 0)
    pwm.write(param(ch, 1), 4, 0)
    pwm.write(GLO, 4, (pwm.read(GLO) & ~6) | (clock_sel << 1))
    pwm.write(ctrl(ch), 4, pwm.read(ctrl(ch)) | 0x10)
    pwm.write(param(ch, 0), 4, (off << 16) | on)
    pwm.write(param(ch, 1), 4, 0)
    pwm.write(ctrl(ch), 4, (pwm.read(ctrl(ch)) & ~(0xFFF << 8) & ~0x8) | (1 << 8))
    pwm.write(ctrl(ch), 4, pwm.read(ctrl(ch)) | 1)


@pytest.fixture
def pwm():
    return Pwm(clock=VirtualClock(), base_address=0x38031000)       # controller 2: GPIO 8..11


def test_instance_and_reset(pwm):
    assert pwm.controller == 2 and pwm.pin(1) == 9
    assert pwm.read(GLO) == 0xE400
    assert pwm.read(ctrl(0)) == 0xC
    assert not pwm.running(0)
    assert pwm.output_level(0) == 0 and pwm.duty_cycle(0) == 0.0
    with pytest.raises(ValueError):
        Pwm(base_address=0x38041000)


def test_duty_cycle_frequency_and_level_in_time(pwm):
    events = []
    pwm.add_change_listener(lambda ch, info: events.append((ch, info["running"])))
    ctd_configure(pwm, 1, 1, on=500, off=1500)        # 2 MHz ticks: 1 kHz, 25 %
    assert pwm.running(1) and not pwm.running(0)
    assert pwm.read(ctrl(1)) & 1 == 0                 # KICK does not read back
    assert pwm.duty_cycle(1) == pytest.approx(0.25)
    assert pwm.frequency_hz(1) == pytest.approx(1000)
    assert events[-1] == (1, True)
    start = pwm.clock.now
    tick = PS_PER_SECOND // 2_000_000
    assert pwm.output_level(1) == 1
    pwm.clock.advance_to(start + 499 * tick)
    assert pwm.output_level(1) == 1
    pwm.clock.advance_to(start + 500 * tick)
    assert pwm.output_level(1) == 0
    pwm.clock.advance_to(start + 2000 * tick)
    assert pwm.output_level(1) == 1                   # next period


def test_polarity_inverts_and_clock_gate_stops(pwm):
    ctd_configure(pwm, 0, 0, on=1, off=3)
    pwm.write(ctrl(0), 4, pwm.read(ctrl(0)) & ~0x4)
    assert pwm.duty_cycle(0) == pytest.approx(0.75)
    assert pwm.output_level(0) == 0
    pwm.write(ctrl(0), 4, pwm.read(ctrl(0)) & ~0x10)
    assert not pwm.running(0)
    assert pwm.output_level(0) == 1                   # inactive level with inverted polarity


def test_s0_s1_sequence(pwm):
    ctd_configure(pwm, 2, 2, on=10, off=10)
    pwm.write(ctrl(2) + 8, 4, (0 << 16) | 20)         # S1: always on
    c = pwm.read(ctrl(2))
    pwm.write(ctrl(2), 4, (c & ~(0xFFF << 20)) | (2 << 20) | 0x2 | 1)  # S0 x1, S1 x2, replay
    tick = PS_PER_SECOND / 26_000_000
    start = pwm.clock.now
    pwm.clock.advance_to(start + int(25 * tick) + 1)
    assert pwm.current_state(2) == 1 and pwm.output_level(2) == 1
    pwm.clock.advance_to(start + int(65 * tick) + 1)  # 20 + 40 = 60: back to S0, 5 ticks in
    assert pwm.current_state(2) == 0


def test_global_kick(pwm):
    pwm.write(ctrl(3) + 4, 4, (1 << 16) | 1)
    pwm.write(ctrl(3), 4, 0x10 | 0x20 | 0x4)
    assert not pwm.running(3)
    pwm.write(GLO, 4, pwm.read(GLO) | 1)
    assert pwm.running(3)
    assert pwm.read(GLO) & 1 == 0


def test_bad_channel_and_nonsense(pwm):
    with pytest.raises(ValueError):
        pwm.duty_cycle(4)
    pwm.write(0x800, 4, 1)
    assert pwm.read(0x800) == 0
    pwm.write(ctrl(0), 4, 0x15)                       # kicked with zero period: constant inactive
    assert pwm.output_level(0) == 0 and pwm.duty_cycle(0) == 0.0
