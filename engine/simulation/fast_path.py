"""A model whose state a core's native path may hold for a while (engine/cortex_m/native_devices.py: SysTick, a
UART's transmitter). While it does, the model's own copy is stale, so every use of the model from Python (a
register read or write, a snapshot, a restore, and whatever the model itself marks with `_take_back()`) first
hands the state back from C."""
from __future__ import annotations

from typing import Any


class NativeFastPathModel:
    """Mixin for a Peripheral: `fast_path` is the core's native server of this model, or None."""

    fast_path: Any = None

    def _take_back(self) -> None:
        fast_path = self.fast_path
        if fast_path is not None and fast_path.engaged:
            fast_path.release()

    def read(self, offset: int, size: int = 4, access: Any = None) -> int:
        self._take_back()
        return super().read(offset, size) if access is None else super().read(offset, size, access)

    def write(self, offset: int, size: int, value: int, access: Any = None) -> None:
        self._take_back()
        if access is None:
            super().write(offset, size, value)
        else:
            super().write(offset, size, value, access)

    def snapshot(self) -> dict[str, Any]:
        self._take_back()
        return super().snapshot()

    def restore(self, snap: dict[str, Any]) -> None:
        self._take_back()
        super().restore(snap)
