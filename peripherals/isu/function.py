"""What the ISU's I2C, SPI master and SPI subordinate functions share (one serial interface unit n, the function the
configuration block selects): DREQ-paced DMA channels 2n (TX) and 2n + 1 (RX) on the IO cores' DMA controllers
(CodethinkLabs/mt3620-m4-drivers MT3620_I2C_DMA_TX/RX and the SPI equivalents, MediaTek-Labs/mt3620_m4_software
os_hal_dma.h), and the configuration block's software reset, which resets every function of the ISU (cold).
"""
from __future__ import annotations

from mt3620.engine.simulation.peripheral import COLD, Link, RegisterView
from mt3620.engine.simulation.protocols import DmaChannelHost, IsuFunctionGate


class IsuFunction:
    """Mixed into a Peripheral that is one function of ISU `isu_number`; FUNCTION is the name the configuration
    block gates it by ("i2c", "spim", "spis")."""

    FUNCTION = ""
    isu_number: int

    dma = Link(DmaChannelHost, many=True, bind="_serve_dma",
               doc="the IO cores' DMA controllers that may run this ISU's channels 2n (TX) and 2n + 1 (RX)")
    isu = Link(IsuFunctionGate, bind="_join_isu", doc="the ISU's configuration block (function clocks, reset)")

    def isu_reset(self) -> None:
        """The ISU's software reset (configuration block CR_SW_RST low)."""
        self.reset(COLD)

    @property
    def dma_channels(self) -> tuple[int, int]:
        return (2 * self.isu_number, 2 * self.isu_number + 1)

    def _serve_dma(self, dma: DmaChannelHost) -> None:
        for ch in self.dma_channels:
            dma.attach_dreq_peer(ch, self)

    def _join_isu(self, cfg: IsuFunctionGate) -> None:
        cfg.attach_function(self.FUNCTION, self)

    def _clocked(self) -> bool:
        """The configuration block gives this function its clock (the ISU is in its mode); unlinked: always."""
        return self.isu is None or self.isu.clocked(self.FUNCTION)

    def _dma_for(self, channel: int) -> DmaChannelHost | None:
        """The DMA controller (of either IO core) running `channel`, if one is."""
        for dma in self.dma:
            if dma.channel_running(channel):
                return dma
        return None

    @staticmethod
    def _clear_fifos(value: int, rx, tx, register: RegisterView) -> None:
        """A write to a FIFO-clear register (I2C MM_FIFO_CON0 and S_FIFO_CON0, SPIS_FIFO_CLR): bit 0 empties the RX
        FIFO, bit 1 the TX FIFO; the bits clear themselves (read back 0)."""
        if value & 1:
            rx.clear()
        if value & 2:
            tx.clear()
        register.value = 0
