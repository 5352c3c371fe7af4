"""The test harness on Renode: the same `Device` API (boot, wait_for_line, advance, press, led, read, ...) served by a
real Renode loaded into this Python process through pyrenode3 (the optional `renode` extra), booting the machine of
mt3620.resc. Chosen with `pytest --mt3620-engine=renode` (mt3620.testing.pytest_plugin).

One Renode per process (pyrenode3's Emulation and Monitor are singletons): each boot clears the emulation and runs
mt3620.resc again, which compiles the project's Renode types once, loads the platform and the board, starts a
bridge for the new machine and loads the RTApps. Time only moves inside `advance`/`wait_for_line`/`run_until`
(Emulation.RunFor), with AdvanceImmediately so idle stretches cost no wall time.

What only the embedded engine has (its Machine: cores' registers, models, mailbox channels, guest faults as
Python objects) is not here: `device.machine` answers the two things the firmware tests' `chip` fixture needs
(`line_listeners`, `time_ps`) and skips the test for anything else, saying so.
"""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any, Callable

from mt3620.engine.renode import runtime
from mt3620.engine.simulation.clock import PS_PER_SECOND, format_ps, parse_duration

from .device import DeviceFault, DeviceTimeout

RESC = runtime.REPO_ROOT / "mt3620.resc"
MACHINE = "mt3620"
STEP_PS = PS_PER_SECOND // 1000           # run_until checks its condition every millisecond of virtual time
UARTS = {"io0_uart": "io0", "io1_uart": "io1", "isu0_uart": None, "isu1_uart": None, "isu2_uart": None,
         "isu3_uart": None, "isu4_uart": None, "a7_uart": "a7"}
BUTTONS = {"A": "sysbus.gpio3.button_a", "B": "sysbus.gpio3.button_b"}
LEDS = {"LED1_R": "sysbus.gpio2.led1_r", "LED1_G": "sysbus.gpio2.led1_g", "LED1_B": "sysbus.gpio2.led1_b",
        "LED2_R": "sysbus.gpio3.led2_r", "LED2_G": "sysbus.gpio4.led2_g", "LED2_B": "sysbus.gpio4.led2_b"}


# Firmware tests whose output differs on Renode 1.16.1, and why (mt3620.testing.pytest_plugin marks them as expected
# failures on this backend; docs/renode.md lists them).
KNOWN_DIFFERENCES: dict[str, str] = {
    # (strict unless named in VARYING: a difference that goes away makes its test fail, so this list stays true)
    "test_context_switch_threads_alternate_on_psp":
        "after an exception return to Thread mode on the process stack (EXC_RETURN 0xFFFFFFFD) Renode 1.16.1 reads "
        "CONTROL.SPSEL as 0, so the threads print 'on msp'",
    "test_busfault_handler_reports_and_resumes":
        "an access to an address nothing answers is logged and reads 0 in Renode 1.16.1 instead of a BusFault",
    "test_unhandled_busfault_escalates_to_hardfault":
        "an access to an address nothing answers is logged and reads 0 in Renode 1.16.1 instead of a BusFault",
    "test_gpt3_busy_wait_and_expire_interrupt":
        "an interrupt raised by a timer event reaches a core sleeping in WFI at Renode's next synchronisation, up "
        "to one quantum (mt3620.resc's $quantum, 1 ms) late, so the ISR reads GPT3's count later than 20 us after",
    "test_uart_dma_through_half_size_channels":
        "the ISU UARTs are Renode-native in Renode (UART.MT3620_UART, peripherals/renode/MT3620_UART.cs), which "
        "has no DMA handshake: the DMA's half-size channels for ISU0's UART never move a byte",
    "test_runs_are_deterministic":
        "Renode runs each core in a host thread of its own: their order inside a quantum, and so the virtual times "
        "of UART lines, vary from run to run",
}
VARYING = {"test_gpt3_busy_wait_and_expire_interrupt", "test_runs_are_deterministic"}   # outcome varies by run


class RenodeUnavailable(RuntimeError):
    """Renode or pyrenode3 cannot be used here; the message says why in one line."""


def _ps(duration: str | int) -> int:
    return duration if isinstance(duration, int) else parse_duration(duration)


class _Session:
    """The process's Renode: pyrenode3 imported once, with a private TMPDIR set before the import."""

    instance: "_Session | None" = None

    def __init__(self) -> None:
        found = runtime.find()
        if found is None:
            raise RenodeUnavailable(runtime.absent_reason())
        if found.build_dir is None:
            raise RenodeUnavailable(f"pyrenode3 needs a Renode built with mono (output/bin/Release/Renode.exe); "
                                    f"{found.root} is not one")
        # Renode deletes every $TMPDIR/renode-* folder of a dead PID at start-up: give it a folder of its own.
        os.environ["TMPDIR"] = str(runtime.private_tmpdir())
        os.environ.setdefault("PYRENODE_RUNTIME", "mono")
        os.environ["PYRENODE_BUILD_DIR"] = str(found.build_dir)
        os.environ.pop("PYRENODE_PKG", None)
        os.environ.pop("PYRENODE_BIN", None)
        try:
            import pyrenode3  # noqa: F401 - the import loads Renode
            from pyrenode3.wrappers import Emulation, Monitor
        except ImportError as exc:
            raise RenodeUnavailable(f"pyrenode3 is not installed ({exc}): pip install the `renode` extra") from None
        except Exception as exc:  # noqa: BLE001 - pythonnet/mono failures arrive as assorted exceptions
            raise RenodeUnavailable(f"pyrenode3 could not load Renode from {found.build_dir}: "
                                    f"{type(exc).__name__}: {exc}") from None
        from Antmicro.Renode.Time import TimeInterval
        self.runtime = found
        self.emulation = Emulation()
        self.monitor = Monitor()
        self.TimeInterval = TimeInterval

    @classmethod
    def get(cls) -> "_Session":
        if cls.instance is None:
            cls.instance = _Session()
        return cls.instance

    def execute(self, command: str) -> str:
        out, err = self.monitor.execute(command)
        if err:
            raise RuntimeError(f"Renode: {command}: {err.strip()}")
        return out


class _MachineView:
    """`device.machine` on Renode: what the firmware tests' `chip` fixture uses, nothing of the engine's Machine."""

    def __init__(self, device: "RenodeDevice") -> None:
        self._device = device
        self.line_listeners: list[Callable[[str, str], None]] = device._line_listeners

    @property
    def time_ps(self) -> int:
        """Inside a line listener: when that line's newline left the UART; else the machine's time."""
        return self._device._line_ps if self._device._line_ps is not None else self._device.now

    def __getattr__(self, name: str) -> Any:
        import pytest
        pytest.skip(f"needs the embedded engine's Machine ({name}); the Renode backend has no such object")


class RenodeDevice:
    """A booted MT3620 in Renode, with the API of mt3620.testing.device.Device."""

    backend = "renode"

    def __init__(self, session: _Session, machine: Any) -> None:
        self._session = session
        self._machine = machine                  # Antmicro.Renode.Core.Machine
        self._line_listeners: list[Callable[[str, str], None]] = []
        self._data: dict[str, bytearray] = {}
        self._partial: dict[str, bytearray] = {}
        self._lines: dict[str, list[tuple[str, int]]] = {}
        self._handlers: list[tuple[Any, Any]] = []
        self._line_ps: int | None = None
        self.machine = _MachineView(self)
        for entry, cpu in UARTS.items():
            found, uart = machine.TryGetByName[_uart_type()](f"sysbus.{entry}", None)
            if not found:
                continue
            label = f"{cpu}.{entry}" if cpu else entry
            self._data[label] = bytearray()
            self._partial[label] = bytearray()
            self._lines[label] = []
            uart = getattr(uart, "__implementation__", uart)      # the MT3620_UART behind the interface
            handler = _byte_handler(self, label)
            uart.CharTransmitted += handler
            self._handlers.append((uart, handler))

    @staticmethod
    def session() -> "_Session":
        """The process's Renode (loaded on first use); RenodeUnavailable says in one line why it cannot be."""
        return _Session.get()

    @classmethod
    def boot(cls, rt0: str | Path | None = None, rt1: str | Path | None = None, *, stop_on_fault: bool = False,
             platform: str | Path | None = None, **machine_args: Any) -> "RenodeDevice":
        if machine_args.get("hl") is not None:
            _skip("the A7 runs no project software in Renode (high-level apps run on the embedded engine)")
        machine_args.pop("hl", None)
        if platform is not None or machine_args:
            _skip(f"the Renode backend boots mt3620.resc's platform; not {platform or machine_args}")
        session = _Session.get()
        if _Session.current is not None:
            _Session.current.close()
        session.emulation.clear()
        session.execute(f'$python="{sys.executable}"')
        session.execute('$bridge=""')
        for var, path in (("rt0", rt0), ("rt1", rt1)):
            session.execute(f'${var}=@{Path(path).resolve()}' if path else f'${var}=""')
        out = session.execute(f"include @{RESC}")
        if "error" in out.lower() and "There was an error" in out:
            raise RuntimeError(f"Renode: mt3620.resc: {out.strip()[-400:]}")
        session.execute("emulation SetAdvanceImmediately true")
        found, machine = session.emulation.internal.TryGetMachineByName(MACHINE, None)
        if not found:
            raise RuntimeError(f"Renode: mt3620.resc made no machine named {MACHINE}")
        device = cls(session, machine)
        _Session.current = device
        return device

    def close(self) -> None:
        for uart, handler in self._handlers:
            uart.CharTransmitted -= handler
        self._handlers.clear()

    # ---- time ---------------------------------------------------------------------------------------------------
    @property
    def now(self) -> int:
        """Virtual time in picoseconds."""
        return int(self._machine.ElapsedVirtualTime.TimeElapsed.TotalNanoseconds) * 1000

    def _run(self, duration_ps: int) -> None:
        ns = max(1, -(-duration_ps // 1000))
        self._session.emulation.internal.RunFor(self._session.TimeInterval.FromNanoseconds(ns))

    def advance(self, duration: str | int):
        self._run(_ps(duration))

    def run_until(self, condition, timeout: str | int = "1s"):
        deadline = self.now + _ps(timeout)
        while not condition():
            if self.now >= deadline:
                raise DeviceTimeout(f"condition not met within {format_ps(_ps(timeout))}\n{self._transcript()}")
            self._run(min(STEP_PS, deadline - self.now))
        return None

    def wait_for_line(self, pattern: str, timeout: str | int = "1s", uart: str | None = None) -> re.Match:
        regex = re.compile(pattern)
        start = {label: len(lines) for label, lines in self._lines.items()}
        found: list[re.Match] = []

        def check() -> bool:
            for label, lines in self._lines.items():
                if uart is not None and label != uart:
                    continue
                for text, _ in lines[start[label]:]:
                    m = regex.search(text)
                    if m:
                        found.append(m)
                        return True
                start[label] = len(lines)
            return False

        try:
            self.run_until(check, timeout)
        except DeviceTimeout:
            raise DeviceTimeout(f"no UART line matched /{pattern}/ within {format_ps(_ps(timeout))} of virtual "
                                f"time (now {format_ps(self.now)})\n{self._transcript()}") from None
        return found[0]

    def wait_for_fault(self, timeout: str | int = "1s"):
        _skip("guest faults are Python objects of the embedded engine only")

    # ---- output -------------------------------------------------------------------------------------------------
    def _byte(self, label: str, byte: int, time_ns: int) -> None:
        self._data[label].append(byte)
        if byte == 0x0A:
            text = self._partial[label].decode("utf-8", "replace").rstrip("\r")
            self._partial[label].clear()
            self._lines[label].append((text, time_ns * 1000))
            self._line_ps = time_ns * 1000
            try:
                for listener in list(self._line_listeners):
                    listener(label, text)
            finally:
                self._line_ps = None
        else:
            self._partial[label].append(byte)

    def lines(self, uart: str | None = None) -> list[str]:
        labels = [uart] if uart is not None else list(self._lines)
        return [text for label in labels for text, _ in self._lines[label]]

    def line_times(self, uart: str) -> list[tuple[str, int]]:
        """(line, virtual time in ps when its newline left the UART)."""
        return list(self._lines[uart])

    def output(self, uart: str | None = None) -> str:
        labels = [uart] if uart is not None else list(self._data)
        return "".join(self._data[label].decode("utf-8", "replace") for label in labels)

    def output_bytes(self, uart: str) -> bytes:
        return bytes(self._data[uart])

    def _transcript(self, last: int = 30) -> str:
        out = []
        for label, lines in self._lines.items():
            text = [t for t, _ in lines[-last:]] + ([self._partial[label].decode("utf-8", "replace")]
                                                    if self._partial[label] else [])
            if text:
                out.append(f"--- {label} (last {len(text)} lines)")
                out.extend(text)
        return "\n".join(out) if out else "(no UART output)"

    def send(self, uart: str, data: bytes) -> None:
        """Bytes arriving on a UART's RX line."""
        entry = uart.split(".")[-1]
        for byte in bytes(data):
            self._session.execute(f"sysbus.{entry} WriteChar {byte}")

    # ---- board --------------------------------------------------------------------------------------------------
    def press(self, button: str) -> None:
        self._session.execute(f"{self._button(button)} Press")

    def release(self, button: str) -> None:
        self._session.execute(f"{self._button(button)} Release")

    @staticmethod
    def _button(button: str) -> str:
        key = str(button).upper().removeprefix("BUTTON_").removeprefix("BUTTON")
        if key not in BUTTONS:
            raise ValueError(f"unknown button {button!r} (use 'A' or 'B')")
        return BUTTONS[key]

    def led(self, name: str) -> bool:
        """True when an RDB LED is lit (e.g. "LED1_R")."""
        if name not in LEDS:
            raise ValueError(f"unknown LED {name!r} (one of {', '.join(LEDS)})")
        return self._session.execute(f"{LEDS[name]} State").strip() == "True"

    def gpio(self, pin: int) -> int | None:
        _skip("GPIO pad levels are read through the board's LEDs on Renode")

    def drive(self, pin: int, level: int | None) -> None:
        _skip("pads are driven through the board's buttons on Renode")

    def intercore(self, *args: Any, **kwargs: Any):
        _skip("the A7 end of the intercore channel is an embedded-engine object")

    # ---- cores --------------------------------------------------------------------------------------------------
    def core(self, name: str = "io0"):
        _skip("core objects belong to the embedded engine")

    def read(self, address: int, length: int, core: str = "io0") -> bytes:
        cpu = {"io0": "cpuM4_0", "rt0": "cpuM4_0", "io1": "cpuM4_1", "rt1": "cpuM4_1", "a7": "cpuA7"}[core]
        found, context = self._machine.TryGetByName[_peripheral_type()](f"sysbus.{cpu}", None)
        data = self._machine.SystemBus.ReadBytes(address, length, False, context if found else None)
        return bytes(data)

    def symbol(self, name: str, core: str = "io0") -> int:
        cpu = {"io0": "cpuM4_0", "io1": "cpuM4_1"}[core]
        out = self._session.execute(f'sysbus GetSymbolAddress "{name}" {cpu}')
        try:
            return int(out.strip(), 0)
        except ValueError:
            raise AssertionError(f"no symbol {name!r} in the image on {core}: {out.strip()}") from None


_Session.current = None


def _skip(reason: str):
    import pytest
    pytest.skip(f"Renode backend: {reason}")


def _uart_type():
    from Antmicro.Renode.Peripherals.UART import IUART
    return IUART


def _peripheral_type():
    from Antmicro.Renode.Peripherals import IPeripheral
    return IPeripheral


def _byte_handler(device: RenodeDevice, label: str):
    import System
    return System.Action[System.Byte, System.UInt64](lambda byte, ns: device._byte(label, int(byte), int(ns)))


def main(argv: list[str] | None = None) -> int:
    """`python -m mt3620.testing.renode_backend --case hello.elf,gpt_timer.elf --for 1s`: boot each case (an RTApp per
    IO core, comma-separated; empty for none) in Renode, run it, and print one JSON line per case with every UART's
    bytes ({label: hex}); tests/renode/test_parity.py compares them with the embedded engine's."""
    import argparse
    import json
    ap = argparse.ArgumentParser(prog="python -m mt3620.testing.renode_backend", description=main.__doc__)
    ap.add_argument("--case", action="append", required=True, metavar="RT0,RT1")
    ap.add_argument("--for", dest="duration", default="1s", help="virtual time to run each case (default 1s)")
    args = ap.parse_args(argv)
    for case in args.case:
        rt0, _, rt1 = case.partition(",")
        try:
            dev = RenodeDevice.boot(rt0 or None, rt1 or None)
        except RenodeUnavailable as exc:
            print(f"renode_backend: {exc}", file=sys.stderr)
            return 2
        dev.advance(args.duration)
        print(json.dumps({label: dev.output_bytes(label).hex() for label in dev._data}), flush=True)
        dev.close()
    return 0


__all__ = ["RenodeDevice", "RenodeUnavailable", "DeviceFault", "DeviceTimeout", "KNOWN_DIFFERENCES"]


if __name__ == "__main__":
    raise SystemExit(main())
