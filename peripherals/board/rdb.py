"""The MT3620 reference development board (RDB): user LEDs and buttons on IO-core GPIOs.

Pins (MT3620-FACTS "GPIO block"; MediaTek-Labs/mt3620_m4_software
MT3620_M4_Sample_Code/BareMetal/MT3620_RTApp_BareMetal_GPIO/main.c: GPIO 8/9/10 = LED red/green/blue, GPIO 12/13 =
buttons A/B): LED1 R/G/B = GPIO 8/9/10, LED2 R/G/B = GPIO 15/16/17, button A = GPIO 12, button B = GPIO 13.

Polarity: the same sample drives the LED pin high when the button pin reads high (released) and low when it reads
low (pressed), i.e. the LEDs are lit by a low level (active low, the LEDs' common anode on 3.3 V) and the buttons
pull their pin to ground when pressed, with a pull-up on the board when released.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Protocol, runtime_checkable

LEDS = {
    "LED1_R": 8, "LED1_G": 9, "LED1_B": 10,
    "LED2_R": 15, "LED2_G": 16, "LED2_B": 17,
}
BUTTONS = {"A": 12, "B": 13}


@runtime_checkable
class PadBlock(Protocol):
    """What the board needs of a GPIO block: its pins, their output levels and an outside drive."""
    pins: range

    def output_level(self, pin: int) -> int | None: ...

    def drive_input(self, pin: int, level: int | bool | None) -> None: ...


class RdbBoard:
    """Board-level wiring around the chip's GPIO blocks. Not a bus device: it drives and observes pads."""

    def __init__(self, gpio: Mapping[int, Any] | Iterable[Any], pwm: Iterable[Any] = ()) -> None:
        if isinstance(gpio, Mapping):
            self.gpio = dict(gpio)
        else:
            self.gpio = {pin: block for block in gpio for pin in block.pins}
        # PWM controllers (optional): pin -> (controller, channel). The A7-side pin mux is not modelled, so a
        # running PWM channel is taken to drive its pad (emulator-defined).
        self.pwm = {ctrl.pin(ch): (ctrl, ch) for ctrl in pwm for ch in range(4)}
        missing = sorted(p for p in list(LEDS.values()) + list(BUTTONS.values()) if p not in self.gpio)
        if missing:
            raise ValueError(f"RdbBoard: no GPIO block given for GPIO {missing}")
        self._pressed = {name: False for name in BUTTONS}
        for name in BUTTONS:
            self._apply(name)

    def _button(self, button: str) -> str:
        key = str(button).upper().removeprefix("BUTTON_").removeprefix("BUTTON")
        if key not in BUTTONS:
            raise ValueError(f"RdbBoard: unknown button {button!r} (use 'A' or 'B')")
        return key

    def _apply(self, name: str) -> None:
        pin = BUTTONS[name]
        # Pressed: shorted to ground. Released: the board's pull-up holds the pin high.
        self.gpio[pin].drive_input(pin, 0 if self._pressed[name] else 1)

    def press(self, button: str) -> None:
        name = self._button(button)
        self._pressed[name] = True
        self._apply(name)

    def release(self, button: str) -> None:
        name = self._button(button)
        self._pressed[name] = False
        self._apply(name)

    def is_pressed(self, button: str) -> bool:
        return self._pressed[self._button(button)]

    def _pin_level(self, pin: int) -> int | None:
        if pin in self.pwm:
            ctrl, ch = self.pwm[pin]
            if ctrl.running(ch):
                return ctrl.output_level(ch)
        return self.gpio[pin].output_level(pin)

    def led_state(self) -> dict[str, bool]:
        """True = lit. A LED is lit only while the chip drives its pin low; an undriven pin leaves it dark."""
        return {name: self._pin_level(pin) == 0 for name, pin in LEDS.items()}

    def led_brightness(self) -> dict[str, float]:
        """Fraction of time each LED is lit: the PWM low fraction when PWM drives it, else 0.0 or 1.0."""
        out = {}
        for name, pin in LEDS.items():
            if pin in self.pwm and self.pwm[pin][0].running(self.pwm[pin][1]):
                ctrl, ch = self.pwm[pin]
                out[name] = 1.0 - ctrl.duty_cycle(ch)
            else:
                out[name] = 1.0 if self.gpio[pin].output_level(pin) == 0 else 0.0
        return out
