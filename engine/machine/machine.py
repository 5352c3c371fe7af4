"""The emulated MT3620, built from platforms/mt3620.repl, run on one virtual clock.

Building: every CPU entry gets an AddressSpace; memories and peripherals are instantiated once per .repl entry
(as in Renode, an entry registered for several CPUs is one instance seen by each) and mapped into the views of
the CPUs that see them; `->` lines wire model outputs to NVIC inputs (or a CPU's reset). Each IO core is a
CortexM4 on Unicorn. The A7 (`machine.a7`, a CortexA7 created on first use) runs Linux user space for the emulated
Azure Sphere OS (sphere_os); its devices are reachable from Python through `machine.view("a7")`.

Running: time advances in windows that end at the next event of the shared clock (or on a grid: MAX_QUANTUM_PS,
LONE_GRID_PS for an IO core running alone). Each core runs up to the window's end (sleeping cores skip it), in a
fixed order (io0, io1, a7), then the clock fires the due events. A core's own devices (SysTick, a UART only it sees)
run on its own clock: their events fire inside its run and end no other core's window; the end of a line such a UART
sends ends the window there. When every core sleeps the machine jumps straight to the next event. The clock follows
the running core inside a window, so a model read mid-quantum sees that core's time (never behind, never past the
next event).
"""
from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from mt3620.engine.cortex_a import CortexA7
from mt3620.engine.cortex_m import CortexM4, GuestFault
from mt3620.engine import repl
from mt3620.engine.simulation.access import TEST_ACCESS
from mt3620.engine.simulation.bus import AddressSpace, Memory
from mt3620.engine.simulation.clock import PS_PER_SECOND, VirtualClock, format_ps
from mt3620.engine.simulation.links import LinkError
from mt3620.engine.simulation.peripheral import LoggingRegion, Peripheral, ResetKind
from mt3620.engine.simulation.protocols import IrqInputs, SerialLine, SerialOutput

from . import secure_boot
from .guards import guarded
from .paired import PARALLEL_MIN_INSTRUCTIONS, TurnWorker, parallel_allowed
from .loader import LoadedImage, LoadError, load_elf
from .models import (DEFAULT_DEVICE_SEED, ModelError, bind_links, cpu_clock, instantiate, make_pluton,
                     model_class)

log = logging.getLogger("mt3620.machine")

MAX_QUANTUM_PS = PS_PER_SECOND // 1000   # 1 ms: cores never run further apart than this
LONE_GRID_PS = 10 * MAX_QUANTUM_PS       # the grid while one IO core runs alone (nothing runs apart)
IO_CORE_TYPES = {"CPU.CortexM"}
A7_CORE_TYPES = {"CPU.ARMv7A", "CPU.ARMv7R", "CPU.ARMv8A"}
MEMORY_TYPES = {"Memory.MappedMemory", "Memory.ArrayMemory"}
NVIC_TYPES = {"IRQControllers.NVIC"}
GIC_TYPES = {"IRQControllers.ARM_GenericInterruptController", "IRQControllers.GIC"}


_DONE = object()        # a core's turn ended without arming a quantum (CortexM4.turn)


class MachineError(ValueError):
    """The platform description or a request cannot be turned into a machine; the message says why."""


@dataclass
class RunResult:
    reason: str                       # "condition", "timeout", "fault", "stopped"
    time_ps: int
    fault: GuestFault | None = None
    match: re.Match | None = None

    @property
    def ok(self) -> bool:
        return self.reason == "condition"


@dataclass
class UartTap:
    """Collects one UART's transmitted bytes and completed lines."""
    label: str
    model: Any
    data: bytearray = field(default_factory=bytearray)
    lines: list[str] = field(default_factory=list)
    partial: bytearray = field(default_factory=bytearray)
    owner: Any = None       # the IO core whose own device this UART is (a line end there ends its window)


class Machine:
    def __init__(self, platform: str | Path | None = None, *, stop_on_fault: bool = False,
                 device_seed: bytes = DEFAULT_DEVICE_SEED, efuse_path: str | Path | None = None,
                 glitches: tuple = (), board: str | Path | list | tuple | None = None) -> None:
        self.device_seed = device_seed
        self.efuse_path = efuse_path
        self._pluton = None
        path = Path(platform) if platform else repl.default_platform_path()
        self.platform = repl.load_platform(path)
        self.clock = VirtualClock()
        self.stop_on_fault = stop_on_fault
        self.views: dict[str, AddressSpace] = {}     # core name -> view
        self.cpu_names: dict[str, str] = {}           # .repl CPU entry -> core name ("io0", "io1", "a7")
        self.cores: dict[str, CortexM4] = {}
        self.memories: dict[str, Memory] = {}
        self.devices: dict[str, Peripheral] = {}
        self.device_cpus: dict[str, set[str]] = {}    # device entry -> core names that see it
        self.images: dict[str, LoadedImage] = {}
        self.uarts: dict[str, UartTap] = {}
        self.line_listeners: list[Callable[[str, str], None]] = []   # (uart label, line)
        self.line_time_ps = 0          # in a line listener: when the line's last byte went out (see _uart_byte)
        self.byte_listeners: list[Callable[[str, int], None]] = []   # (uart label, byte)
        self.between_windows: list[Callable[["Machine"], None]] = []  # debugger polling, test hooks
        self.a7_irq_levels: dict[int, bool] = {}
        self.app_packages: dict = {}                  # IO core -> the ImagePackage it runs (None: a bare ELF)
        self.faults: list[GuestFault] = []
        self.shared_objects: dict[str, Any] = {}      # named objects models share (mailbox channels), by name
        self._a7: CortexA7 | None = None
        self._stop_requested = False
        self._memory_views: dict[str, str] = {}      # device entry -> the view its model reads and writes memory in
        self._worker = TurnWorker()                   # io1's first quantum of a paired window (paired.py)
        self._paired: CortexM4 | None = None          # io1 while its armed quantum waits for io0's turn to end
        self._parallel_safe = True
        self._parallel_allowed = parallel_allowed()   # MT3620_SERIAL_CORES, read once like the engine's other switches
        self.parallel_quanta = 0                      # paired quanta run on the worker thread (statistics)
        self.boot_result = None
        self._build()
        self.board_devices = self._attach_devices(board)
        for glitch in glitches:                          # an attacker's glitches, armed before power-on
            self.pluton.glitches.arm(glitch)
        self.boot_result = secure_boot.power_on(self)    # every power-on goes through the secure-boot chain

    # ---- building -------------------------------------------------------------------------------------------------
    def _build(self) -> None:
        p = self.platform
        io_index = 0
        for entry in p.cpus():
            if entry.type in IO_CORE_TYPES:
                name = f"io{io_index}"
                io_index += 1
            elif entry.type in A7_CORE_TYPES:
                name = "a7"
            else:
                raise MachineError(f"{_where(entry)}: CPU type {entry.type} is not supported by the engine")
            self.cpu_names[entry.name] = name
            self.views[name] = AddressSpace(name)
        if not any(t in IO_CORE_TYPES for t in (e.type for e in p.cpus())):
            raise MachineError(f"{p.files[0]}: the platform has no CPU.CortexM (IO core)")

        for entry in p.entries.values():
            if entry.type is None or entry.type in IO_CORE_TYPES | A7_CORE_TYPES | NVIC_TYPES | GIC_TYPES:
                continue
            if entry.type.split(".")[0] == "CPU":
                continue
            regs = [r for r in entry.registrations if r.address is not None]
            if not regs:
                continue
            if entry.type in MEMORY_TYPES:
                size = entry.attr("size")
                if not isinstance(size, int):
                    raise MachineError(f"{_where(entry)}: memory {entry.name} has no size")
                self.memories[entry.name] = Memory(entry.name, size)
                for reg in regs:
                    for view in self._views_for(reg):
                        view.add_memory(reg.address, self.memories[entry.name], entry.name)
                continue
            self._build_device(entry, regs)
        self._link_models()
        self._install_access_checks()

        for name, view in self.views.items():
            if name.startswith("io"):
                core = CortexM4(name, self.clock, view, stop_on_fault=self.stop_on_fault)
                core.fault_listeners.append(self._on_fault)
                core.on_reset_request = self._reset_core
                self.cores[name] = core
                tap = UartTap(f"{name}.itm", core.itm)     # printf over ITM/SWO reads like a UART
                self.uarts[tap.label] = tap
                core.itm.add_tx_listener(lambda byte, tap=tap: self._uart_byte(tap, byte))
        self._wire_irqs()
        self._attach_fast_paths()
        self._prepare_pairing()
        self._link_core_clocks()
        self.board = self._attach_board()

    def _views_for(self, reg: repl.Registration) -> list[AddressSpace]:
        if reg.cpu is not None:
            if reg.cpu not in self.cpu_names:
                raise MachineError(f"registration for unknown CPU {reg.cpu}")
            return [self.views[self.cpu_names[reg.cpu]]]
        return list(self.views.values())

    def _build_device(self, entry: repl.Entry, regs: list[repl.Registration]) -> None:
        cpus = sorted({self.cpu_names[r.cpu] for r in regs if r.cpu in self.cpu_names}) or None
        cpu = cpus[0] if cpus and len(cpus) == 1 else None
        try:
            model_cls = model_class(entry)
        except ModelError as exc:
            raise MachineError(str(exc)) from None
        size = self.platform.region_size(entry, regs[0]) or getattr(model_cls, "SIZE", None) or 0x1000
        # A Renode-native block without a model: known to the memory map, not emulated, each access logged.
        cls = model_cls or LoggingRegion
        cpus_seen = [self.cpu_names[r.cpu] for r in regs if r.cpu in self.cpu_names]
        memory_view = cpus_seen[0] if cpus_seen else ("a7" if "a7" in self.views else next(iter(self.views)))
        self._memory_views[entry.name] = memory_view
        try:
            model = instantiate(cls, entry.name, self.clock, entry.attributes, base_address=regs[0].address,
                                cpu=cpu, size=size, shared_objects=self.shared_objects,
                                memory=lambda: self.views[memory_view], pluton=lambda: self.pluton)
        except LinkError as exc:
            raise MachineError(f"{_where(entry)}: {exc}") from None
        except (TypeError, ValueError) as exc:
            raise MachineError(f"{_where(entry)}: {entry.name}: {exc}") from None
        self.devices[entry.name] = model
        seen: set[str] = set()
        for reg in regs:
            reg_size = self.platform.region_size(entry, reg) or size
            for view in self._views_for(reg):
                view.add_device(reg.address, reg_size, guarded(model, reg.address), entry.name)
                seen.add(view.name)
        self.device_cpus[entry.name] = seen
        if isinstance(model, SerialOutput):
            label = f"{cpu}.{entry.name}" if cpu else entry.name
            tap = UartTap(label, model)
            self.uarts[label] = tap
            if hasattr(model, "tx_fast_path_state"):
                # The tap only records: an IO core's fast path may hand it bytes after the fact (native_devices.py).
                model.add_tx_listener(lambda byte, tap=tap: self._uart_byte(tap, byte), recorder=True,
                                      many=lambda data, times, tap=tap: self._uart_bytes(tap, data, times))
            else:
                model.add_tx_listener(lambda byte, tap=tap: self._uart_byte(tap, byte))

    @property
    def pluton(self):
        """The device's Pluton security core: fuses and keys derived from `device_seed`."""
        if self._pluton is None:
            self._pluton = make_pluton(self.device_seed, self.efuse_path, now=lambda: self.clock.now)
        return self._pluton

    @property
    def booted(self) -> bool:
        """The secure-boot chain verified at power-on: only then may anything run."""
        return bool(self.boot_result and self.boot_result.booted)

    def _nvic_owner(self, target: str) -> str | None:
        entry = self.platform.entries.get(target)
        if entry is None or entry.type not in NVIC_TYPES:
            return None
        for reg in entry.registrations:
            if reg.cpu in self.cpu_names:
                return self.cpu_names[reg.cpu]
        cpu = entry.attr("cpu") if hasattr(entry, "attr") else None
        if cpu is not None and str(cpu) in self.cpu_names:
            return self.cpu_names[str(cpu)]
        return None

    def _wire_irqs(self) -> None:
        self._nvic_wiring: dict[int, list[tuple[str, int]]] = {}   # id(line) -> (core, NVIC input) it drives
        for entry in self.platform.entries.values():
            model = self.devices.get(entry.name)
            if model is None or not entry.irqs:
                continue
            for conn in entry.irqs:
                line = self._source_line(entry, model, conn)
                if line is None:
                    continue
                sink = self._irq_sink(entry, conn)
                if sink is not None:
                    line.connect(sink)
                    core_name = self._nvic_owner(conn.target)
                    if core_name is not None:
                        self._nvic_wiring.setdefault(id(line), []).append((core_name, int(conn.target_input)))

    def _attach_fast_paths(self) -> None:
        """A UART that only one IO core sees, whose interrupt goes to that core's NVIC alone, is that core's own
        device: its events run on the core's own clock (they fire inside the core's runs and end no other core's
        window), and its transmitter may be served by the core's native path (engine/cortex_m/native_devices)."""
        for name, model in self.devices.items():
            cpus = self.device_cpus.get(name, set())
            if not hasattr(model, "tx_fast_path_state") or len(cpus) != 1 or not getattr(model, "irq", None):
                continue
            core = self.cores.get(next(iter(cpus)))
            line = model.irq[0]
            wiring = self._nvic_wiring.get(id(line), [])
            if core is not None and len(wiring) == 1 and wiring[0][0] == core.name and len(line._sinks) == 1:
                model.attach_clock(core.private_clock)
                self.uarts[f"{core.name}.{name}"].owner = core
                core.attach_native_uart(model, wiring[0][1])

    def _prepare_pairing(self) -> None:
        """What paired windows need (paired.py): each IO core's private device pages (an access elsewhere is an
        access to a device another core sees), the turn gate on memory an IO core shares with an earlier one, and
        whether the second core's quantum may run on another thread at all (no model the first core drives writes
        the second core's memory)."""
        cores = list(self.cores.values())
        for core in cores:
            private: set[int] = set()
            shared: set[int] = set()
            for m in core.view.mappings():
                if m.device is None:
                    continue
                own = m.name.startswith(f"{core.name}.") or self.device_cpus.get(m.name) == {core.name}
                pages = range(m.start >> 12, (m.end + 0xFFF) >> 12)
                (private if own else shared).update(pages)
            core.private_pages = private - shared
        for i, core in enumerate(cores[1:], start=1):
            earlier = {id(m.memory) for c in cores[:i] for m in c.view.memories()}
            core.gate_shared_memory([(m.start, m.end - 1) for m in core.view.memories() if id(m.memory) in earlier])
        if len(cores) >= 2:
            first, second = cores[0].name, cores[1].name
            self._parallel_safe = not any(view == second and first in self.device_cpus.get(name, ())
                                          for name, view in self._memory_views.items())

    def _source_line(self, entry, model, conn):
        outputs = getattr(model, "irq", [])
        src = conn.source
        if src is None:
            src = 0
        if isinstance(src, str):
            names = list(getattr(model, "IRQS", ()))
            if src in names:
                src = names.index(src)
            elif src in ("IRQ", "Irq") and outputs:
                src = 0
            else:
                raise MachineError(f"{_where(entry)}: {entry.name} has no IRQ output named {src!r} "
                                   f"(it has {names})")
        if not 0 <= src < len(outputs):
            raise MachineError(f"{_where(entry)}: {entry.name} has no IRQ output {src} "
                               f"({len(outputs)} outputs: {list(getattr(model, 'IRQS', ()))})")
        return outputs[src]

    def _irq_sink(self, entry, conn) -> Callable[[bool], None] | None:
        target = conn.target
        number = conn.target_input
        core_name = self._nvic_owner(target)
        if core_name is not None:
            core = self.cores[core_name]
            return lambda level, core=core, n=int(number): core.set_irq(n, level)
        if target in self.cpu_names:
            core = self.cores.get(self.cpu_names[target])
            if core is None:
                return None
            return lambda level, core=core: level and core.request_reset()
        target_entry = self.platform.entries.get(target)
        if target_entry is not None and target_entry.type in GIC_TYPES:
            # The A7 runs user space only (no GIC model): its interrupt inputs are recorded for tests and the bridge.
            return lambda level, n=int(number): self.a7_irq_levels.__setitem__(n, level)
        target_model = self.devices.get(target)
        if isinstance(target_model, IrqInputs):
            return lambda level, m=target_model, n=number: m.irq_input(n, level)
        raise MachineError(f"{_where(entry)}: IRQ target {target}@{number} of {entry.name} is not an NVIC, GIC, "
                           f"CPU or a model with inputs")

    def _model_for(self, name: str) -> Peripheral:
        """The model built for entry `name` (a link target)."""
        model = self.devices.get(name)
        if model is None or isinstance(model, LoggingRegion):
            raise LinkError(f"{name} is not a modelled block")
        return model

    def _link_models(self) -> None:
        """The typed links the platform gives (`hclk: io0_rgu`, `dma: [io0_dma, io1_dma]`), once every model exists."""
        for name, model in self.devices.items():
            entry = self.platform.entries[name]
            try:
                bind_links(model, entry, self._model_for)
            except LinkError as exc:
                raise MachineError(f"{_where(entry)}: {exc}") from None

    def _install_access_checks(self) -> None:
        """A model with `bus_check(view, access, address, size, write)` (the firewall block) sees every access on
        every core's bus view before its target does, and raises AccessDenied to refuse (a bus fault). It arms and
        disarms the check itself through `watch_bus(arm)` (an open firewall costs the bus nothing)."""
        for model in self.devices.values():
            check = getattr(model, "bus_check", None)
            if not callable(check):
                continue
            hooks = [(view, functools.partial(check, view.name)) for view in self.views.values()]

            def arm(active: bool, hooks=hooks) -> None:
                for view, hook in hooks:
                    if active and hook not in view.access_hooks:
                        view.access_hooks.append(hook)
                    elif not active and hook in view.access_hooks:
                        view.access_hooks.remove(hook)

            watch = getattr(model, "watch_bus", None)
            if callable(watch):
                watch(arm)
            else:
                arm(True)

    def _link_core_clocks(self) -> None:
        """Each IO core runs at the clock its CPU entry names (`hclk: io0_rgu`): the RGU's HCLK selection."""
        for entry_name, core_name in self.cpu_names.items():
            core = self.cores.get(core_name)
            entry = self.platform.entries[entry_name]
            try:
                source = cpu_clock(entry, self._model_for)
            except LinkError as exc:
                raise MachineError(f"{_where(entry)}: {exc}") from None
            if core is not None and source is not None:
                source.add_clock_listener(core.set_hz)
                core.set_hz(source.hz)

    def _attach_board(self):
        """The RDB board around the chip (LEDs and buttons on GPIO pads), when the GPIO blocks are there."""
        from mt3620.peripherals.board.rdb import PadBlock, RdbBoard
        blocks = [m for m in self.devices.values() if isinstance(m, PadBlock)]
        try:
            return RdbBoard(blocks)
        except ValueError as exc:
            log.info("no RDB board attached: %s", exc)
            return None

    def _attach_devices(self, board):
        """The devices around the chip on its buses (mt3620.peripherals.board.board): the RDB's own description
        (nothing fitted on the ISU, ADC or I2S pins), then each board description given."""
        from mt3620.peripherals.board.board import BoardError, build_board
        try:
            return build_board(self.devices, self.clock, board)
        except BoardError as exc:
            raise MachineError(str(exc)) from None

    def close(self) -> None:
        """The run ends: board devices write their files (display PNGs, codec WAVs, card images)."""
        self._worker.close()
        self.board_devices.close()

    # ---- loading --------------------------------------------------------------------------------------------------
    def core(self, name: str) -> CortexM4:
        aliases = {"rt0": "io0", "rt1": "io1", "m4_0": "io0", "m4_1": "io1"}
        name = aliases.get(name, name)
        if name not in self.cores:
            raise MachineError(f"no IO core named {name!r} (cores: {', '.join(self.cores)})")
        return self.cores[name]

    @property
    def a7(self) -> CortexA7:
        """The Cortex-A7 (created on first use: a machine running only RTApps never pays for it)."""
        if self._a7 is None:
            if "a7" not in self.views:
                raise MachineError("this platform has no Cortex-A7 (CPU.ARMv7A)")
            self._a7 = CortexA7("a7", self.clock)
        return self._a7

    def all_cores(self) -> list:
        """Every core that exists, in scheduling order: the IO cores, then the A7 if it was created."""
        return list(self.cores.values()) + ([self._a7] if self._a7 is not None else [])

    def view(self, name: str) -> AddressSpace:
        if name not in self.views:
            raise MachineError(f"no CPU view named {name!r} (views: {', '.join(self.views)})")
        return self.views[name]

    def load(self, core_name: str, path: str | Path | None = None, data: bytes | None = None,
             trusted=None) -> LoadedImage:
        """Load an RTApp (ELF, or an .imagepackage holding one) onto an IO core and reset it into the app.

        What runs is what Pluton measured (engine/machine/secure_boot.py): a package is verified against
        `trusted` (a Keystore) when given, else only version-checked, and measured; a bare ELF is measured as
        such. The ELF loaded is the one inside the measured bytes."""
        core = self.core(core_name)
        if data is None and path is not None:
            try:
                data = Path(path).read_bytes()
            except OSError as exc:
                raise LoadError(f"{path}: cannot read: {exc.strerror or exc}") from None
        is_package = (path is not None and str(path).endswith(".imagepackage")) or \
            (data is not None and data[:4] != b"\x7fELF" and _looks_like_package(data))
        try:
            if is_package:
                admitted = secure_boot.admit(self, data, core.name, trusted=trusted, verify=trusted is not None)
                data = _elf_from_package(admitted.package, path or "<package>")
            else:
                admitted = secure_boot.admit_elf(self, data, core.name)
        except ValueError as exc:            # ImagePackageError: refused by Pluton, or not a package at all
            if isinstance(exc, (LoadError, MachineError)):
                raise
            reason = getattr(exc, "reason", "")
            if reason in secure_boot.REFUSAL_REASONS:
                raise LoadError(f"{path or '<image>'}: refused by Pluton ({reason}): {exc}") from None
            raise LoadError(f"{path or '<image>'}: not a loadable application image package: {exc}") from None
        return self._start(core, admitted, data, path)

    def load_admitted(self, core_name: str, admitted: "secure_boot.Admitted") -> LoadedImage:
        """Start an application package that `admit_application` verified and measured for this IO core: the ELF
        comes from the admitted (measured) bytes; afterwards its component's counter is committed."""
        core = self.core(core_name)
        if admitted.slot != core.name or admitted.package is None:
            raise MachineError(f"that package was admitted for {admitted.slot}, not {core.name}")
        return self._start(core, admitted, _elf_from_package(admitted.package, str(admitted.package.image_id)), None)

    def _start(self, core: CortexM4, admitted, elf: bytes, path) -> LoadedImage:
        try:
            image = load_elf(core.view, path, elf)
        except LoadError:
            self.pluton.release(core.name)          # nothing known runs there now
            raise
        secure_boot.commit(self, admitted)
        self.images[core.name] = image
        self.app_packages[core.name] = admitted.package      # None for a bare ELF (the OS reads manifests here)
        core.reset(image.entry)
        core.halted = False
        return image

    # ---- what runs is what Pluton measured (engine/machine/secure_boot.py) ----------------------------------------
    def admit_application(self, package_bytes: bytes, slot: str, trusted=None, development_keys=None,
                          verify: bool = True) -> "secure_boot.Admitted":
        """Verify and measure an application for `slot` ("io0", "io1", "a7:<component id>"); run the files of
        the returned `Admitted.package`. Raises ImagePackageError with the reason."""
        return secure_boot.admit(self, package_bytes, slot, trusted, development_keys, verify)

    def commit_application(self, admitted: "secure_boot.Admitted") -> bool:
        """The admitted app is running: Pluton moves its component's security-version counter up to it."""
        return secure_boot.commit(self, admitted)

    def release_application(self, slot: str) -> None:
        """The app in `slot` stopped: its measurement leaves the attestation log."""
        self.pluton.release(slot)

    def _reset_core(self, core: CortexM4) -> None:
        """SYSRESETREQ or watchdog: the core restarts from its reset vector; memories keep their contents; the
        core's private blocks receive a core reset (each model says what survives it)."""
        for name, model in self.devices.items():
            if self.device_cpus.get(name) == {core.name}:
                model.reset(ResetKind.CORE)
        core.reset()

    # ---- output -----------------------------------------------------------------------------------------------------
    def output_tap(self, label: str) -> UartTap:
        """A labelled output stream that is not a UART model (an A7 app's Log_Debug: "a7.<app name>"); its lines
        reach `line_listeners` and `uarts[label].lines` exactly like a UART's."""
        tap = self.uarts.get(label)
        if tap is None:
            tap = self.uarts[label] = UartTap(label, None)
        return tap

    def emit(self, label: str, data: bytes) -> None:
        tap = self.output_tap(label)
        for byte in data:
            self._uart_byte(tap, byte)

    def _uart_bytes(self, tap: UartTap, data: bytes, times: list[int]) -> None:
        """Bytes a core's fast path sent on a private UART, each with its time: what `_uart_byte` does for each, with
        the clocks moved only where a listener can look (a line's end, a byte listener) and to the last byte."""
        if self.byte_listeners:
            for byte, when in zip(data, times):
                self._tap_follows(tap, when)
                self._uart_byte(tap, byte)
            return
        start = 0
        while (end := data.find(b"\n", start)) >= 0:
            tap.data += data[start:end + 1]
            tap.partial += data[start:end]
            self._tap_follows(tap, times[end])
            self._uart_byte(tap, 0x0A, recorded=True, when=times[end])
            start = end + 1
        tap.data += data[start:]
        tap.partial += data[start:]
        if times:
            self._tap_follows(tap, times[-1])

    def _tap_follows(self, tap: UartTap, when: int | None = None) -> None:
        """A core's own UART sent a byte at `when` (None: at its clock's time): its clock moves there, and the machine's
        follows it, so listeners reading the machine's time see the byte's (the shared clock never passes an event: the
        core's run ended before the next)."""
        clock = tap.model.clock
        if when is not None and when > clock.now:
            clock.now = when
        if clock.now > self.clock.now:
            self.clock.now = clock.now

    def _uart_byte(self, tap: UartTap, byte: int, recorded: bool = False, when: int | None = None) -> None:
        if tap.owner is not None:
            self._tap_follows(tap)
        if not recorded:
            tap.data.append(byte)
        for listener in self.byte_listeners:
            listener(tap.label, byte)
        if byte == 0x0A:
            # The line's time: its last byte's (a core's own UART: that core's time then, which the machine's clock
            # may have passed when both IO cores run); other outputs: the machine's time.
            if when is None:
                when = tap.model.clock.now if tap.owner is not None else self.clock.now
            self.line_time_ps = when
            line = tap.partial.decode("utf-8", "replace").rstrip("\r")
            tap.partial.clear()
            tap.lines.append(line)
            for listener in self.line_listeners:
                listener(tap.label, line)
            if tap.owner is not None:
                tap.owner.note_line_end()
        else:
            tap.partial.append(byte)

    def loopback(self, name: str) -> None:
        """A loopback header on a UART (its TX wired to its RX), as the Codethink UART samples ask for on ISU0.
        `name` is a UART label ("isu0_uart", "io0.io0_uart") or its .repl entry name."""
        matches = [t for label, t in self.uarts.items() if name in (label, label.split(".")[-1])]
        if not matches:
            raise MachineError(f"no UART named {name!r} (UARTs: {', '.join(self.uarts)})")
        tap = matches[0]
        if not isinstance(tap.model, SerialLine):
            raise MachineError(f"{name} has no receive line to loop back into")
        tap.model.add_tx_listener(lambda byte, model=tap.model: model.feed(bytes([byte])))

    def uart_text(self, label: str | None = None) -> str:
        taps = [self.uarts[label]] if label else list(self.uarts.values())
        return "".join(t.data.decode("utf-8", "replace") for t in taps)

    def _on_fault(self, fault: GuestFault) -> None:
        self.faults.append(fault)
        self.request_stop()

    def report_fault(self, fault: GuestFault) -> None:
        """A fault found outside the IO cores (an A7 app killed by a signal): `run` returns it."""
        self._on_fault(fault)

    # ---- running ----------------------------------------------------------------------------------------------------
    def request_stop(self) -> None:
        """Stop at the end of the current block (from a listener or a model)."""
        self._stop_requested = True
        for core in self.all_cores():
            if core._running and core is not self._paired:   # a paired quantum runs to its end (paired.py)
                core.budget.cut(0)

    def _runnable(self) -> list:
        cores = [c for c in self.cores.values() if self.images.get(c.name) and not c.halted and not c.locked_up]
        if self._a7 is not None and self._a7.active and not self._a7.halted:
            cores.append(self._a7)
        return cores

    def step_window(self, deadline: int) -> None:
        """Advance every core and the clock by one window (at most to `deadline`).

        A window ends at the shared clock's next event, on the grid, or at a line a core's private UART ends (not in
        a paired window: both IO cores and not the A7, paired.py). The events of a running IO core's own devices
        (SysTick, its private UART: CortexM4.private_clock, or in C) fire inside that core's run and end no other
        core's window; a core that is not running has its own devices' events fire here, where they end the window."""
        clock = self.clock
        runnable = self._runnable()
        io_cores = [c for c in runnable if isinstance(c, CortexM4)]
        idle_cores = [c for c in self.cores.values() if c not in io_cores]
        # Devices served in C stay with a running core from window to window (any use of a model from Python takes its
        # state back first); they go back to their models when the core stops running and when the run returns.
        for core in idle_cores:
            core.native_release()
        for core in io_cores:
            core.native_engage()
        faults = len(self.faults)
        nxt = self._next_event(idle_cores)
        horizon = deadline if nxt is None else min(nxt, deadline)
        # Windows end on a fixed grid (not that long after the last event), so where a polling loop's skip stops does
        # not depend on events a core's own devices have: MAX_QUANTUM_PS while several cores run (the most they run
        # apart), LONE_GRID_PS for an IO core running alone.
        grid = LONE_GRID_PS if len(runnable) == 1 and io_cores else MAX_QUANTUM_PS
        grid_line = (clock.now // grid + 1) * grid
        if any(not c.sleeping for c in runnable):
            horizon = min(horizon, grid_line)
        else:
            # All asleep (or nothing loaded): also wake for a pending interrupt without waiting.
            for core in runnable:
                if core._would_wake():
                    horizon = clock.now
            # A core asleep with its own devices' events wakes at them, inside its run: from there on the window is an
            # awake one, which ends on the grid (the event and the grid line are in the same cell).
            for core in io_cores:
                due = core.private_next_event()
                if due is not None and due < horizon:
                    horizon = min(horizon, max(due, grid_line))
        # Both IO cores and nothing else, no debugger on either (its all-stop halts every core at the same time): a
        # paired window (paired.py), where a line's end ends no turn.
        paired = len(runnable) == 2 and len(io_cores) == 2 and all(c.bkpt_handler is None for c in io_cores)
        for core in io_cores:
            core.lines_end_turn = not paired
        try:
            if paired:
                self._paired_turns(io_cores[0], io_cores[1], max(horizon, clock.now))
            else:
                horizon = self._turns(runnable, io_cores, horizon)
        except BaseException:
            for core in io_cores:
                core.native_release()
            raise
        if horizon >= deadline or self._stop_requested or len(self.faults) > faults:
            for core in io_cores:
                core.native_release()      # the run returns after this window
        # Models may have scheduled events inside the window: the clock stops at the first one.
        nxt = self._next_event(idle_cores)
        target = horizon if nxt is None else min(horizon, nxt)
        for core in io_cores:
            core.window_ends(target)
        clock.advance_to(max(target, clock.now))
        for core in self.all_cores():
            if core in io_cores:
                if core.sleeping:
                    core.sleep_to(target)  # its own devices' events on the way fire (one may wake it)
                    core.take_yield()      # a line ended there: the window ends anyway
            elif isinstance(core, CortexM4):
                core.fire_private_until(target)   # not running (its devices went back at the window's start)
            elif core not in runnable or core.sleeping:
                core.time = max(core.time, target)
        for hook in list(self.between_windows):
            hook(self)

    def _turns(self, runnable: list, io_cores: list, horizon: int) -> int:
        """Each core's turn of the window in order; returns the window's end (a line a core's UART ends there)."""
        clock = self.clock
        for core in runnable:
            if core.sleeping and core.time < clock.now:
                if core in io_cores:
                    core.sleep_to(clock.now)   # its own devices' events on the way fire (one may wake it)
                else:
                    core.time = clock.now
            core.run_until(max(horizon, clock.now))
            if core in io_cores:
                at = core.take_yield()
                if at is not None:
                    # A line ended on the core's private UART: the window ends there (the cores run after this one
                    # stop there; those before it ran on, as cores run apart inside a window).
                    horizon = min(horizon, at)
            if self._stop_requested:
                break
        return horizon

    def _paired_turns(self, first: CortexM4, second: CortexM4, horizon: int) -> None:
        """One paired window (paired.py): `second` gets ready, `first` takes its turn (while `second`'s first quantum
        may run on the worker thread), then `second` finishes its turn."""
        clock = self.clock
        if second.sleeping and second.time < clock.now:
            second.sleep_to(clock.now)
        turn = second.turn(horizon)
        armed = next(turn, _DONE) is not _DONE
        # On another thread only when it pays: the last such quantum was long (the hand-over costs tens of us; a
        # core that sleeps most of a window gains nothing). Either way the result is the same.
        parallel = (armed and self._parallel_safe and second._native_fast() and first._native is not None
                    and second.paired_work >= PARALLEL_MIN_INSTRUCTIONS and self._parallel_allowed)
        self._paired = second if armed else None
        second.hold_inputs(True)
        try:
            if parallel:
                second.close_gate()
                self._worker.start(second)
                self.parallel_quanta += int(self._worker.busy)
            if first.sleeping and first.time < clock.now:
                first.sleep_to(clock.now)
            first.run_until(horizon)
            first.take_yield()
        except BaseException:
            if parallel:
                second.uc.emu_stop()
            raise
        finally:
            second.hold_inputs(False)
            self._paired = None
            if parallel:
                second.open_gate()
                self._worker.wait()
        if armed:
            for _ in turn:
                pass
        elif second._held:
            second._release_held()     # its turn was over before the first one's began
        second.take_yield()

    def _next_event(self, idle_cores: list) -> int | None:
        """The next event that ends a window: the shared clock's, or one of a core's own devices while the core does
        not run (a running core fires its own)."""
        nxt = self.clock.next_event_time()
        for core in idle_cores:
            due = core.private_next_event()
            if due is not None and (nxt is None or due < nxt):
                nxt = due
        return nxt

    def run(self, duration_ps: int | None = None, until: Callable[[], Any] | None = None,
            pattern: str | re.Pattern | None = None) -> RunResult:
        """Run until `until()` is truthy, a UART line matches `pattern`, a guest fault (with stop_on_fault or a
        lockup), or `duration_ps` of virtual time has passed."""
        deadline = self.clock.now + duration_ps if duration_ps is not None else None
        matched: list[re.Match] = []
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern

        def on_line(label: str, line: str) -> None:
            if regex is not None and not matched:
                m = regex.search(line)
                if m:
                    matched.append(m)
                    self.request_stop()

        if regex is not None:
            self.line_listeners.append(on_line)
        self._stop_requested = False
        faults_before = len(self.faults)
        try:
            while True:
                if matched:
                    return RunResult("condition", self.clock.now, match=matched[0])
                if until is not None and until():
                    return RunResult("condition", self.clock.now)
                if len(self.faults) > faults_before:
                    return RunResult("fault", self.clock.now, fault=self.faults[-1])
                if self._stop_requested:
                    self._stop_requested = False
                    if not matched and until is None:
                        return RunResult("stopped", self.clock.now)
                    if until is not None and not until() and not matched:
                        continue
                    continue
                if deadline is not None and self.clock.now >= deadline:
                    return RunResult("timeout", self.clock.now)
                if not self._runnable() and self._next_event(list(self.cores.values())) is None:
                    return RunResult("timeout" if deadline is not None else "stopped",
                                     deadline if deadline is not None else self.clock.now)
                self.step_window(deadline if deadline is not None else self.clock.now + 3600 * PS_PER_SECOND)
        finally:
            if regex is not None:
                self.line_listeners.remove(on_line)
            # Whatever ended the run (a condition included), the models hold their devices' state again, so code
            # that reads a model's attributes directly between runs sees them current.
            for core in self.cores.values():
                core.native_release()

    def run_for(self, duration_ps: int) -> RunResult:
        return self.run(duration_ps=duration_ps)

    def wait_for_line(self, pattern: str, timeout_ps: int) -> RunResult:
        return self.run(duration_ps=timeout_ps, pattern=pattern)

    @property
    def time_ps(self) -> int:
        return self.clock.now

    def describe_time(self) -> str:
        return format_ps(self.clock.now)

    # ---- inspection -------------------------------------------------------------------------------------------------
    def device(self, name: str) -> Peripheral:
        if name not in self.devices:
            raise MachineError(f"no device named {name!r}")
        return self.devices[name]

    def read_memory(self, core: str, address: int, length: int) -> bytes:
        return self.view(core).read(address, length, TEST_ACCESS)


def _where(entry: repl.Entry) -> str:
    loc = entry.location
    try:
        return f"{loc[0]}:{loc[1]}:{loc[2]}"
    except (TypeError, IndexError):
        return str(loc)


def _looks_like_package(data: bytes) -> bool:
    from mt3620.imagepackage import package
    try:
        package.parse(data)
    except ValueError:
        return False
    return True


def _elf_from_package(pkg, path) -> bytes:
    """The RTApp ELF inside an (admitted) application image package (/bin/app in its ASXipFS)."""
    try:
        return pkg.filesystem().read("/bin/app")
    except (ValueError, KeyError) as exc:
        raise MachineError(f"{path}: not a loadable application image package: {exc}") from None
