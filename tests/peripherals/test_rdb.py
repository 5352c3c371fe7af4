"""The RDB board: LEDs are lit by a low level, buttons pull low when pressed."""
import pytest

from mt3620.engine.simulation.clock import VirtualClock
from mt3620.peripherals.board.rdb import RdbBoard
from mt3620.peripherals.gpio.gpio_block import GpioBlock

OE_SET, DOUT_SET, DOUT_RESET, DIN = (GpioBlock.offset(n)
                                     for n in ("OE_SET", "DOUT_SET", "DOUT_RESET", "GPIO_PWM_GRP_DIN"))


@pytest.fixture
def chip():
    clock = VirtualClock()
    return [GpioBlock(clock=clock, base_address=0x38010000 + n * 0x10000) for n in range(6)]


def test_leds_dark_until_driven_low(chip):
    board = RdbBoard(chip)
    assert not any(board.led_state().values())
    blk2 = chip[2]
    blk2.write(OE_SET, 4, 0b0111)          # GPIO 8, 9, 10 outputs, DOUT 0: all lit
    assert board.led_state()["LED1_R"] and board.led_state()["LED1_G"] and board.led_state()["LED1_B"]
    blk2.write(DOUT_SET, 4, 0b0101)        # red and blue high: off
    state = board.led_state()
    assert (state["LED1_R"], state["LED1_G"], state["LED1_B"]) == (False, True, False)
    chip[3].write(OE_SET, 4, 0b1000)       # GPIO 15 = LED2 red
    chip[4].write(OE_SET, 4, 0b0011)       # GPIO 16, 17
    chip[4].write(DOUT_SET, 4, 0b0010)
    state = board.led_state()
    assert (state["LED2_R"], state["LED2_G"], state["LED2_B"]) == (True, True, False)


def test_buttons_pull_low_when_pressed(chip):
    board = RdbBoard({p: b for b in chip for p in b.pins})
    blk3 = chip[3]                         # GPIO 12..15
    assert blk3.read(DIN) & 0b0011 == 0b0011
    board.press("A")
    assert blk3.read(DIN) & 0b0011 == 0b0010
    assert board.is_pressed("a")
    board.press("button_b")
    assert blk3.read(DIN) & 0b0011 == 0
    board.release("A")
    board.release("B")
    assert blk3.read(DIN) & 0b0011 == 0b0011


def test_mediatek_sample_logic(chip):
    """MediaTek's GPIO sample mirrors button A onto the blue LED: pressed -> LED lit."""
    board = RdbBoard(chip)
    blk2, blk3 = chip[2], chip[3]
    blk2.write(OE_SET, 4, 0b0100)
    for pressed in (False, True, False):
        (board.press if pressed else board.release)("A")
        level = blk3.read(DIN) & 1
        blk2.write(DOUT_SET if level else DOUT_RESET, 4, 0b0100)
        assert board.led_state()["LED1_B"] is pressed


def test_errors(chip):
    with pytest.raises(ValueError):
        RdbBoard(chip[:2])
    board = RdbBoard(chip)
    with pytest.raises(ValueError):
        board.press("C")


def test_pwm_dims_led(chip):
    from mt3620.peripherals.gpio.pwm import Pwm
    pwm2 = Pwm(clock=chip[0].clock, base_address=0x38031000)     # GPIO 8..11 = LED1 R/G/B
    board = RdbBoard(chip, pwm=[pwm2])
    assert board.led_brightness()["LED1_G"] == 0.0
    pwm2.write(Pwm.offset("PWM1_PARAM_S0"), 4, (3 << 16) | 1)     # channel 1 (GPIO 9): high 1 tick, low 3
    pwm2.write(Pwm.offset("PWM1_CTRL"), 4, 0x10 | 0x4 | (1 << 8) | 1)  # clock on, polarity 1, kick
    assert board.led_brightness()["LED1_G"] == pytest.approx(0.75)
    assert board.led_state()["LED1_G"] is False                  # first tick of the period: high = dark
    chip[0].clock.advance_to(chip[0].clock.now + 2 * 1_000_000_000_000 // 32768)
    assert board.led_state()["LED1_G"] is True
