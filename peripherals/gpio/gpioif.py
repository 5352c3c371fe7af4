"""The GPIOIF counters of a GPIO block (registers 0x100-0x154 of GPIO block n, IRQ 71 + n): an event counter and a
capture counter fed by the block's first three pins (GPIO_0, GPIO_1, GPIO_2 of the group). Pure logic; the GPIO
block (gpio_block.py) owns the registers and calls `edge()` with each debounced pad change.

Public facts (MediaTek-Labs/mt3620_m4_software MT3620_M4_Driver/HDL/inc/hdl_gpioif.h, HDL/src/hdl_gpioif.c,
MHAL/inc/mhal_gpioif.h; the GPIOIF sample): STATIC_CTRL0/1 debounce GPIO_0/GPIO_1 (MIN_PULSE_WID bits 13:0,
DGLT_EN bit 14, INIT_VAL bit 15); STATIC_CTRL3 holds GPIO2_RST_LVL (0), the GPIO_2 reset enables (1 capture,
2 event), the capture edge types (9:8 GPIO_0, 11:10 GPIO_1), the event EDGE_TYPE (17:16: 0 rising, 1 falling, 2
both; hdl_gpioif.c maps control settings 1/2/3 to 0/1/2), MODE (19:18: 0 direction, 1 up/down, 2 quadrature),
DIR_DEF (20), UPDOWN_DEF (21), QUAD_DEF (22), INT_MODE (25:24: 1 low limit, 2 high limit, 3 both) and SAT_MODE
(30:28: 0 none, 1 saturate at low, 2 at high, 3 back to the reset value at low, 4 at high); DYNAMIC_CTRL0 has
EVENT_CNT_EN (0), CAP_CNT_EN (1) and their software resets (16, 17); RST_VAL, LOW_LIMIT, HIGH_LIMIT; INT_EN /
INT_STS_CLR / INT_STS with bits 0 low limit, 1 high limit, 2 GPIO_2 reset done, 8 overflow, 9 underflow, 12/13
capture FIFO 0/1 written when full, 16/17 capture FIFO 0/1 not empty, 24/25 read when empty; CAP_FIFO_STS counts
(3:0 FIFO 0, 7:4 FIFO 1); CAP_VALUE_0/1; COUNTER_VALUE. The counter interrupt is IRQ 71 + group
(BSP CMSIS irq.h CM4_IRQ_GPIO_Gn_CNT).

Emulator-defined (docs/peripherals.md): in up/down mode GPIO_0 edges count up and GPIO_1 edges down (UPDOWN_DEF
swaps them); in direction mode GPIO_0 edges count, up while GPIO_1 is high (DIR_DEF inverts); in quadrature mode
every selected edge of either pin counts up when GPIO_0 leads GPIO_1 and down when it lags (QUAD_DEF inverts).
The counter loads RST_VAL when enabled and on its software reset; limit interrupts fire when the counter reaches
the limit. The counter clock (selected in the top configuration block, not modelled) is 26 MHz: debounce widths
and capture timestamps count it. Capture FIFOs hold 8 timestamps each.
"""
from __future__ import annotations

from collections import deque

COUNTER_CLOCK_HZ = 26_000_000
CAP_FIFO = 8
MASK32 = 0xFFFFFFFF

INT_LOW, INT_HIGH, INT_GPIO2_RST = 1 << 0, 1 << 1, 1 << 2
INT_OVER, INT_UNDER = 1 << 8, 1 << 9
INT_CAP_FULL = (1 << 12, 1 << 13)
INT_CAP_NOT_EMPTY = (1 << 16, 1 << 17)
INT_CAP_READ_EMPTY = (1 << 24, 1 << 25)
MODE_DIRECTION, MODE_UPDOWN, MODE_QUADRATURE = 0, 1, 2


def _edge_selected(edge_type: int, rising: bool) -> bool:
    if edge_type == 0:
        return rising
    if edge_type == 1:
        return not rising
    return True


class GpioCounters:
    """Counter state of one group; `ctrl3`, `limits` and enables are read from the block's registers on each use."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.value = 0
        self.status = 0
        self.fifos: tuple[deque[int], deque[int]] = (deque(), deque())
        self.levels = [0, 0, 0]
        self.enabled_at = 0

    def state(self) -> list:
        return [self.value, self.status, [list(f) for f in self.fifos], list(self.levels), self.enabled_at]

    def load(self, state: list) -> None:
        self.value, self.status, fifos, self.levels, self.enabled_at = state
        self.fifos = (deque(fifos[0]), deque(fifos[1]))

    # ---- the event counter ----------------------------------------------------------------------------------------
    def count(self, step: int, ctrl3: int, low: int, high: int, reset_value: int) -> None:
        sat = ctrl3 >> 28 & 0x7
        int_mode = ctrl3 >> 24 & 0x3
        new = self.value + step
        if new > MASK32:
            new &= MASK32
            self.status |= INT_OVER
        elif new < 0:
            new &= MASK32
            self.status |= INT_UNDER
        if sat == 1 and new < low:
            new = low
        elif sat == 2 and new > high:
            new = high
        reached_low = new <= low < self.value or (new == low != self.value)
        reached_high = new >= high > self.value or (new == high != self.value)
        if sat == 3 and new <= low:
            new = reset_value
        elif sat == 4 and new >= high:
            new = reset_value
        self.value = new
        if reached_low and int_mode & 1:
            self.status |= INT_LOW
        if reached_high and int_mode & 2:
            self.status |= INT_HIGH

    def edge(self, pin: int, level: int, now_ps: int, ctrl3: int, event_on: bool, capture_on: bool, low: int,
             high: int, reset_value: int) -> None:
        """Pin `pin` (0, 1 or 2 of the group) changed to `level` at virtual time `now_ps`."""
        previous = self.levels[pin]
        self.levels[pin] = level
        if previous == level:
            return
        rising = bool(level)
        if pin == 2:
            if level == (ctrl3 & 1) and ctrl3 & 0x6:
                if ctrl3 & 0x4:
                    self.value = reset_value
                if ctrl3 & 0x2:
                    for fifo in self.fifos:
                        fifo.clear()
                self.status |= INT_GPIO2_RST
            return
        if capture_on:
            cap_edge = ctrl3 >> (8 + 2 * pin) & 0x3
            if _edge_selected(cap_edge, rising):
                fifo = self.fifos[pin]
                if len(fifo) >= CAP_FIFO:
                    self.status |= INT_CAP_FULL[pin]
                else:
                    stamp = (now_ps - self.enabled_at) * COUNTER_CLOCK_HZ // 1_000_000_000_000
                    fifo.append(stamp & MASK32)
                    self.status |= INT_CAP_NOT_EMPTY[pin]
        if not event_on:
            return
        edge_type = ctrl3 >> 16 & 0x3
        if not _edge_selected(edge_type, rising):
            return
        mode = ctrl3 >> 18 & 0x3
        if mode == MODE_UPDOWN:
            up = pin == 0
            if ctrl3 >> 21 & 1:
                up = not up
        elif mode == MODE_DIRECTION:
            if pin != 0:
                return
            up = bool(self.levels[1])
            if ctrl3 >> 20 & 1:
                up = not up
        else:
            a, b = self.levels[0], self.levels[1]
            # x4 quadrature: A leads B when, after the change, the two differ on an A edge or agree on a B edge.
            up = (a != b) if pin == 0 else (a == b)
            if ctrl3 >> 22 & 1:
                up = not up
        self.count(1 if up else -1, ctrl3, low, high, reset_value)

    def read_capture(self, fifo_index: int) -> int:
        fifo = self.fifos[fifo_index]
        if not fifo:
            self.status |= INT_CAP_READ_EMPTY[fifo_index]
            return 0
        value = fifo.popleft()
        if not fifo:
            self.status &= ~INT_CAP_NOT_EMPTY[fifo_index]
        return value

    def fifo_status(self) -> int:
        return len(self.fifos[0]) | len(self.fifos[1]) << 4
