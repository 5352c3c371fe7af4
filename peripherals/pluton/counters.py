"""Pluton's monotonic counters: the minimum security version of each application component.

Boot stages have e-fuse counters (efuse.py); applications are too many and too varied for fuses, so Pluton keeps
one 32-bit monotonic counter per component ID in its own non-volatile store (emulator-defined, docs/pluton.md
"Counters"): a counter only moves up, holds 0 .. 2^32-1 (the width of the metadata RV field, so every version
an image can declare fits), and the store holds at most MAX_COUNTERS components (a new component beyond that is
refused, never silently untracked).

The store is Pluton-private (neither the A7 nor the IO cores can reach it); in the emulator it is a file of the
emulated device, written durably (fsync + atomic replace) and authenticated with an HMAC-SHA256 under a key that
Pluton derives from the device secret, so an edited file is detected and refused (fail closed: no application
may launch while the counters cannot be trusted).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import uuid
from pathlib import Path

from .durable import REAL_DISK, Disk, write_atomic

FORMAT = "mt3620-pluton-counters-v1"
MAX_COUNTERS = 64
COUNTER_MAX = 0xFFFFFFFF


class CounterError(Exception):
    """`.reason`: counter-store-corrupt, counter-store-full, bad-value."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class MonotonicCounters:
    def __init__(self, mac_key: bytes, path: str | os.PathLike | None = None, disk: Disk = REAL_DISK) -> None:
        self._key = bytes(mac_key)
        self.path = Path(path) if path is not None else None
        self.disk = disk
        self._values: dict[uuid.UUID, int] = {}
        self.error: CounterError | None = None      # set when the persisted store cannot be trusted
        if self.path is not None and disk.exists(self.path):
            try:
                self._values = self._decode(disk.read(self.path))
            except CounterError as exc:
                self.error = exc

    # ---- persistence ----------------------------------------------------------------------------------------------
    def _mac(self, body: bytes) -> str:
        return hmac.new(self._key, body, hashlib.sha256).hexdigest()

    def _encode(self) -> bytes:
        body = json.dumps({str(c): v for c, v in sorted(self._values.items(), key=lambda kv: str(kv[0]))},
                          sort_keys=True).encode()
        return json.dumps({"format": FORMAT, "counters": body.decode(), "mac": self._mac(body)}).encode()

    def _decode(self, raw: bytes) -> dict[uuid.UUID, int]:
        try:
            doc = json.loads(raw.decode("utf-8"))
            body = doc["counters"].encode()
            if doc.get("format") != FORMAT or not hmac.compare_digest(str(doc["mac"]), self._mac(body)):
                raise CounterError("counter-store-corrupt", f"{self.path}: the counter store does not authenticate")
            values = {uuid.UUID(c): v for c, v in json.loads(body).items()}
        except CounterError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CounterError("counter-store-corrupt", f"{self.path}: unreadable counter store ({exc})") from None
        if len(values) > MAX_COUNTERS or any(not isinstance(v, int) or not 0 <= v <= COUNTER_MAX
                                             for v in values.values()):
            raise CounterError("counter-store-corrupt", f"{self.path}: counter values out of range")
        return values

    def _save(self) -> None:
        if self.path is not None:
            write_atomic(self.path, self._encode(), self.disk)

    # ---- counters -------------------------------------------------------------------------------------------------
    def _check(self) -> None:
        if self.error is not None:
            raise self.error

    def get(self, component: uuid.UUID) -> int:
        self._check()
        return self._values.get(component, 0)

    def advance(self, component: uuid.UUID, version: int) -> bool:
        """Move the counter of `component` up to `version` (never down). True when it moved."""
        self._check()
        if not isinstance(version, int) or not 0 <= version <= COUNTER_MAX:
            raise CounterError("bad-value", f"a counter holds 0..{COUNTER_MAX}, not {version}")
        current = self._values.get(component, 0)
        if version <= current:
            return False
        if component not in self._values and len(self._values) >= MAX_COUNTERS:
            raise CounterError("counter-store-full", f"Pluton keeps at most {MAX_COUNTERS} application counters")
        self._values[component] = version
        self._save()
        return True

    def items(self) -> dict[uuid.UUID, int]:
        self._check()
        return dict(self._values)


__all__ = ["CounterError", "MAX_COUNTERS", "MonotonicCounters"]
