"""The small interfaces blocks see of each other (typed links, mt3620.engine.simulation.links) and the ones the
machine builders use to attach the outside world. A class satisfies one by having the members; isinstance checks
them when a link is made, never on an access."""
from __future__ import annotations

from typing import Callable, Protocol, runtime_checkable

from .registers import ResetKind


@runtime_checkable
class ClockSource(Protocol):
    """A block that sets a clock others follow (an IO core's RGU drives its HCLK)."""

    @property
    def hz(self) -> int: ...

    def add_clock_listener(self, fn: Callable[[int], None]) -> None:
        """`fn(hz)` after every change of the frequency."""


@runtime_checkable
class VfifoPeer(Protocol):
    """A peripheral on a DMA virtual-FIFO channel (the ISU UARTs, the ADC, I2S)."""

    def vfifo_tx_space(self) -> int:
        """Beats the peripheral can take now from a TX ring."""

    def vfifo_tx_put(self, byte: int) -> None:
        """One beat from a TX ring (a byte, or a 16/32-bit word on wider channels)."""

    def vfifo_rx_drain(self) -> None:
        """An RX ring gained room: hand over what waits."""


@runtime_checkable
class DmaRequestPeer(Protocol):
    """A peripheral pacing a DREQ half-size DMA channel (the ISU I2C and SPI FIFOs)."""

    def dma_started(self, channel: int) -> None:
        """The channel started: request beats as the FIFO allows."""


@runtime_checkable
class DmaChannelHost(Protocol):
    """A DMA controller as a peripheral sees it (virtual-FIFO and DREQ handshakes)."""

    def attach_dreq_peer(self, channel: int, peer: DmaRequestPeer) -> None: ...

    def channel_running(self, channel: int) -> bool: ...

    def request(self, channel: int, beats: int = 1) -> int:
        """Move up to `beats` beats of a running DREQ half-size channel now; returns how many moved."""

    def attach_vfifo_peer(self, channel: int, peer: VfifoPeer) -> None: ...

    def vfifo_running(self, channel: int) -> bool: ...

    def vfifo_tx_ready(self, channel: int) -> None:
        """The TX peer has room again."""

    def vfifo_rx_put(self, channel: int, byte: int) -> bool:
        """One received byte into an RX ring; False when the channel cannot take it."""


@runtime_checkable
class IsuFunctionGate(Protocol):
    """An ISU's configuration block as its functions (I2C, SPI master, SPI subordinate, UART) see it: whether the
    function's clock is on (its pads carry it), and a software reset of the whole ISU."""

    def clocked(self, function: str) -> bool: ...

    def attach_function(self, function: str, block: object) -> None:
        """`block` offers `isu_reset()`: called when the ISU's software reset is asserted."""


@runtime_checkable
class ResetTarget(Protocol):
    def reset(self, kind: ResetKind = ResetKind.COLD) -> None: ...


@runtime_checkable
class IrqInputs(Protocol):
    """A block with numbered interrupt inputs another block's lines can drive (the EINT block)."""

    def irq_input(self, n: int, level: bool) -> None: ...


@runtime_checkable
class SerialOutput(Protocol):
    """A block that sends bytes to the outside world (a UART's TX line, the ITM's stimulus ports)."""

    def add_tx_listener(self, fn: Callable[[int], None]) -> None: ...


@runtime_checkable
class SerialLine(SerialOutput, Protocol):
    """A UART: bytes out to listeners and bytes in from the outside world."""

    def feed(self, data: bytes) -> None:
        """Bytes arriving on the receive line, at line rate."""
