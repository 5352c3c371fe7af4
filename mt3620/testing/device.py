"""A booted device for tests and CI jobs: boot with RTApps and a high-level app, wait for UART and Log_Debug lines
in virtual time, poke GPIOs.

    from mt3620.testing.device import Device
    dev = Device.boot(rt0="app.elf", hl="app.imagepackage")
    dev.wait_for_line(r"hello", timeout="1s")               # any UART or the app's [a7.<name>] lines
    dev.press("A"); dev.advance("20ms"); assert dev.led("LED1_R")
    dev.wait_for_exit(timeout="2s") == 0                     # the high-level app's exit status

Devices on the board (mt3620.peripherals.board.board): `Device.boot(rt0=..., board="my.board")`, then
`dev.device("lsm6ds3").accel = (0, 0, 1.0)`, `dev.device("oled").png()`, or `dev.add_device(...)` from Python.

The pytest plugin (mt3620.testing.pytest_plugin, registered as the `mt3620` plugin) wraps this in fixtures.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mt3620.engine.cortex_m import GuestFault
from mt3620.engine.machine import Machine, RunResult
from mt3620.engine.simulation.clock import format_ps, parse_duration


def _ps(duration: str | int) -> int:
    return duration if isinstance(duration, int) else parse_duration(duration)


class DeviceTimeout(AssertionError):
    """A wait ran out of virtual time; the message carries what the UARTs printed."""


class DeviceFault(AssertionError):
    """The guest faulted while a test waited for something else."""


class Device:
    def __init__(self, machine: Machine) -> None:
        self.machine = machine
        # Lines that arrived during the last wait_for_line after the one it matched (the cores run on to the end of
        # their window): (the time it returned, where each UART's unread lines start).
        self._unread: tuple[int, dict[str, int]] | None = None

    @classmethod
    def boot(cls, rt0: str | Path | None = None, rt1: str | Path | None = None, *, hl: str | Path | None = None,
             stop_on_fault: bool = False, platform: str | Path | None = None, sysroot: str | Path | None = None,
             realtime_epoch_ns: int | None = None, config_dir: str | Path | None = None,
             wifi_env=None, **machine_args: Any) -> "Device":
        """RTApps on the IO cores, a high-level app on the A7 (`realtime_epoch_ns`: the A7's CLOCK_REALTIME at
        power-on, default 2024-01-01T00:00:00Z; `config_dir`: a host folder where apps' mutable storage persists;
        `wifi_env`: the radio environment, a RadioEnvironment or a JSON file (docs/wifi.md))."""
        machine = Machine(platform, stop_on_fault=stop_on_fault, **machine_args)
        if rt0:
            machine.load("io0", rt0)
        if rt1:
            machine.load("io1", rt1)
        dev = cls(machine)
        if wifi_env is not None:
            dev.set_wifi_env(wifi_env)
        if hl or realtime_epoch_ns is not None or config_dir is not None:
            from mt3620.sphere_os.apps import SphereOs
            SphereOs.of(machine, sysroot=sysroot, realtime_epoch_ns=realtime_epoch_ns, config_dir=config_dir)
        if hl:
            dev.launch(hl, sysroot=sysroot)
        return dev

    @classmethod
    def sideload(cls, *packages: str | Path | bytes, state_dir: str | Path | None = None, development: bool = True,
                 start: bool = True, **device_args: Any) -> "Device":
        """An emulated board as `mt3620 device start` runs it (mt3620.sphere_os.device.EmulatedDevice: its state in
        `state_dir`, or a temporary folder), with `packages` sideloaded in order as the device does it: every
        deploy-time check, the flash, Pluton's verification and measurement, the firewalls programmed from the
        manifests (RTApps on IO core 0, then 1; a high-level app on the A7). `development` first gives the device
        the appDevelopment capability (SDK-signed packages need it). `dev.board` is the EmulatedDevice,
        `dev.board.apps` its app manager."""
        import tempfile
        from mt3620.sphere_os.device import EmulatedDevice
        keep = None
        if state_dir is None:
            keep = tempfile.TemporaryDirectory(prefix="mt3620-device-")
            state_dir = keep.name
        board = EmulatedDevice(state_dir, **device_args)
        board.power_on()
        if development:
            board.enable_development()
        for package in packages:
            data = package if isinstance(package, (bytes, bytearray)) else Path(package).read_bytes()
            board.apps.deploy(bytes(data), start=start)
        dev = cls(board.machine)
        dev.board = board
        dev._state_folder = keep
        return dev

    # ---- the A7 ----------------------------------------------------------------------------------------------------
    @property
    def os(self):
        """The emulated Azure Sphere OS on the A7 (mt3620.sphere_os.apps.SphereOs), started on first use."""
        from mt3620.sphere_os.apps import SphereOs
        return SphereOs.of(self.machine)

    def launch(self, package: str | Path, sysroot: str | Path | None = None):
        """Start a high-level app package on the A7; returns the HighLevelApp."""
        from mt3620.sphere_os.apps import SphereOs
        return SphereOs.of(self.machine, sysroot=sysroot).launch(package)

    @property
    def app(self):
        """The high-level app last launched (or None)."""
        sphere = self.machine.shared_objects.get("sphere_os")
        return sphere.current if sphere is not None else None

    def wait_for_exit(self, timeout: str | int = "1s") -> int:
        """Run until the high-level app ends; returns its exit status (a crash raises DeviceFault)."""
        app = self.app
        if app is None:
            raise AssertionError("no high-level app was launched")
        result = self.machine.run(duration_ps=_ps(timeout), until=lambda: not app.running)
        if result.reason == "fault" or app.crash is not None:
            raise DeviceFault(f"{result.fault or app.crash.text()}\n{self._transcript()}")
        if app.running:
            raise DeviceTimeout(f"app {app.name} still running after {format_ps(_ps(timeout))}\n"
                                f"{self._transcript()}")
        if app.term_signal is not None:
            raise DeviceFault(f"app {app.name} was killed by signal {app.term_signal}\n{self._transcript()}")
        return app.exit_code

    # ---- Wi-Fi and networking ------------------------------------------------------------------------------------
    @property
    def network(self):
        """The device's networking (mt3620.sphere_os.network.NetworkOs: .wifi, .net, .certstore), started on use."""
        from mt3620.sphere_os.network import NetworkOs
        return NetworkOs.of(self.machine)

    def set_wifi_env(self, environment) -> None:
        """Put the device in a radio environment (a RadioEnvironment, or the path of an env JSON file)."""
        from mt3620.peripherals.wifi.environment import RadioEnvironment
        if not isinstance(environment, RadioEnvironment):
            environment = RadioEnvironment.load(environment)
        from mt3620.sphere_os.network import NetworkOs
        NetworkOs.of(self.machine, environment=environment)

    # ---- time -------------------------------------------------------------------------------------------------------
    @property
    def now(self) -> int:
        """Virtual time in picoseconds."""
        return self.machine.clock.now

    def advance(self, duration: str | int) -> RunResult:
        """Run for a span of virtual time (e.g. "10ms"); a guest fault raises DeviceFault."""
        result = self.machine.run(duration_ps=_ps(duration))
        if result.reason == "fault":
            raise DeviceFault(f"{result.fault}\n{self._transcript()}")
        return result

    def wait_for_line(self, pattern: str, timeout: str | int = "1s", uart: str | None = None) -> re.Match:
        """Run until a line (on any UART or output tap, or the one labelled `uart`, e.g. "io0.io0_uart" or
        "a7.<app name>" for a high-level app's Log_Debug output) matches. Lines count from the call on, and, when
        nothing ran since the last wait, also the lines that last wait did not look at: those after its match (cores
        run on to the end of their window) and those of UARTs it was not watching."""
        regex = re.compile(pattern)
        start = {label: len(tap.lines) for label, tap in self.machine.uarts.items()}
        if self._unread is not None and self._unread[0] == self.machine.clock.now:
            start.update(self._unread[1])       # nothing ran since the last wait: its late lines are still new
        first = dict(start)
        found: list[re.Match] = []

        def check() -> bool:
            for label, tap in list(self.machine.uarts.items()):
                if uart is not None and label != uart:
                    continue
                lines = tap.lines
                for i in range(start.get(label, 0), len(lines)):
                    m = regex.search(lines[i])
                    if m:
                        found.append(m)
                        start[label] = i + 1
                        return True
                start[label] = len(lines)
            return False

        def remember() -> None:
            # Lines of the UARTs this wait did not look at, and those after its match, are new for the next wait.
            unread = {label: (start.get(label, 0) if uart is None or label == uart else first.get(label, 0))
                      for label in self.machine.uarts}
            self._unread = (self.machine.clock.now, unread)

        if check():
            remember()
            return found[0]
        result = self.machine.run(duration_ps=_ps(timeout), until=check)
        remember()
        if found:
            return found[0]
        if result.reason == "fault":
            raise DeviceFault(f"waiting for /{pattern}/: {result.fault}\n{self._transcript()}")
        raise DeviceTimeout(f"no UART line matched /{pattern}/ within {format_ps(_ps(timeout))} of virtual time "
                            f"(now {format_ps(self.now)})\n{self._transcript()}")

    def run_until(self, condition, timeout: str | int = "1s") -> RunResult:
        result = self.machine.run(duration_ps=_ps(timeout), until=condition)
        if result.reason == "fault":
            raise DeviceFault(f"{result.fault}\n{self._transcript()}")
        if result.reason != "condition":
            raise DeviceTimeout(f"condition not met within {format_ps(_ps(timeout))}\n{self._transcript()}")
        return result

    def wait_for_fault(self, timeout: str | int = "1s") -> GuestFault:
        result = self.machine.run(duration_ps=_ps(timeout))
        if result.reason != "fault":
            raise DeviceTimeout(f"no guest fault within {format_ps(_ps(timeout))}\n{self._transcript()}")
        return result.fault

    # ---- output -------------------------------------------------------------------------------------------------
    def lines(self, uart: str | None = None) -> list[str]:
        if uart is not None:
            return list(self.machine.uarts[uart].lines)
        return [line for tap in self.machine.uarts.values() for line in tap.lines]

    def output(self, uart: str | None = None) -> str:
        return self.machine.uart_text(uart)

    def _transcript(self, last: int = 30) -> str:
        out = []
        for label, tap in self.machine.uarts.items():
            text = tap.lines[-last:] + ([tap.partial.decode("utf-8", "replace")] if tap.partial else [])
            if text:
                out.append(f"--- {label} (last {len(text)} lines)")
                out.extend(text)
        return "\n".join(out) if out else "(no UART output)"

    def send(self, uart: str, data: bytes) -> None:
        """Bytes arriving on a UART's RX line."""
        self.machine.uarts[uart].model.feed(data)

    # ---- board --------------------------------------------------------------------------------------------------
    def _board(self):
        if self.machine.board is None:
            raise AssertionError("this platform has no RDB board")
        return self.machine.board

    def press(self, button: str) -> None:
        self._board().press(button)

    def release(self, button: str) -> None:
        self._board().release(button)

    def led(self, name: str) -> bool:
        """True when an RDB LED is lit (e.g. "LED1_R")."""
        return bool(self._board().led_state()[name])

    def gpio(self, pin: int) -> int | None:
        """The level a GPIO pin drives (None when it is not an output)."""
        for model in self.machine.devices.values():
            if hasattr(model, "output_level") and hasattr(model, "pins") and pin in model.pins:
                return model.output_level(pin)
        raise AssertionError(f"no GPIO block has pin {pin}")

    def drive(self, pin: int, level: int | None) -> None:
        """Drive a GPIO pad from outside (None releases it)."""
        for model in self.machine.devices.values():
            if hasattr(model, "drive_input") and hasattr(model, "pins") and pin in model.pins:
                model.drive_input(pin, level)
                return
        raise AssertionError(f"no GPIO block has pin {pin}")

    # ---- intercore (what a high-level app on the A7 would do) -----------------------------------------------------
    INTERCORE_BASE = 0x20100000   # platforms/blocks/memory.repl: intercore_shared (emulator-defined placement)

    # ---- board devices (sensors, displays, storage, codecs, analog inputs, waveforms) ----------------------------
    @property
    def board_devices(self):
        """The devices around the chip (mt3620.peripherals.board.board.Board)."""
        return self.machine.board_devices

    def device(self, name: str):
        """A device on the board by name (`dev.device("lsm6ds3").accel = (0, 0, 1.0)`), or a chip block by its
        platform entry name (`dev.device("adc").set_input(1, 1.2)`)."""
        board = self.machine.board_devices
        if name in board.devices:
            return board.devices[name]
        if name in self.machine.devices:
            return self.machine.devices[name]
        have = ", ".join(board.devices) or "none"
        raise AssertionError(f"no device named {name!r} on the board (devices: {have}) nor a chip block of that "
                             f"name")

    def add_device(self, name: str, type: str, at: str, address=None, **settings):
        """Put a device on a bus now (`dev.add_device("imu", "Sensors.LSM6DS3", "isu2.i2c", 0x6A)`)."""
        return self.machine.board_devices.add(name, type, at, address, **settings)

    def adc_input(self, channel: int, value) -> None:
        """The voltage on ADC channel `channel`: volts or a signal ("sine(1.25, 1, 50Hz)")."""
        self.machine.device("adc").set_input(channel, value)

    def drive_waveform(self, pin: int, signal) -> None:
        """Drive a GPIO pad from outside with a digital waveform ("square(0, 1, 1kHz)"); None releases it."""
        for model in self.machine.devices.values():
            if hasattr(model, "drive_waveform") and hasattr(model, "pins") and pin in model.pins:
                model.drive_waveform(pin, signal)
                return
        raise AssertionError(f"no GPIO block has pin {pin}")

    def close(self) -> None:
        """Let the board devices write their files (display PNGs, codec WAVs)."""
        self.machine.close()

    def intercore(self, core: str = "io0", component_id: str = "00000000-0000-0000-0000-000000000000"):
        """The A7 end of an intercore connection to the RTApp on `core` (mt3620.peripherals.mailbox.intercore):
        `start()` sends the buffer setup, then `send(payload)` / `receive()`; advance time in between."""
        from mt3620.peripherals.mailbox.intercore import IntercoreA7Endpoint
        name = self.machine.core(core).name
        key = f"mbox_a7_{name}"
        if key not in self.machine.shared_objects:
            raise AssertionError(f"no A7 mailbox channel for {name}")
        base = self.INTERCORE_BASE + (0x2000 if name == "io1" else 0)
        return IntercoreA7Endpoint(self.machine.shared_objects[key], self.machine.view("a7"), component_id,
                                   inbound_addr=base, outbound_addr=base + 0x1000)

    # ---- cores --------------------------------------------------------------------------------------------------
    def core(self, name: str = "io0"):
        return self.machine.core(name)

    def read(self, address: int, length: int, core: str = "io0") -> bytes:
        return self.machine.read_memory(core, address, length)

    def symbol(self, name: str, core: str = "io0") -> int:
        image = self.machine.images.get(self.machine.core(core).name)
        if image is None or name not in image.symbols:
            raise AssertionError(f"no symbol {name!r} in the image on {core}")
        return image.symbols[name]
