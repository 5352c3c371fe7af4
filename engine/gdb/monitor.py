"""`monitor` commands (qRcmd): what a hardware probe's monitor offers, for an emulated chip. The server calls in
(server.py imports this module); this module knows the server only as the small `MonitorHost` protocol."""
from __future__ import annotations

import shlex
from typing import Mapping, Protocol

from mt3620.engine.simulation.clock import format_ps

from .core_target import DebugTarget


class DebuggerHold(Protocol):
    """A debugger's session on one core, as the monitor reports it."""
    halted: bool


class MonitorSession(Protocol):
    """A debugger's session as the monitor needs it: the debug target of its core."""
    target: DebugTarget


class MonitorHost(Protocol):
    """What the monitor reads and sets on the GDB server: its machine, its sessions by core, the step-mask flag."""
    machine: object
    sessions: Mapping[str, DebuggerHold]
    mask_step_irqs: bool

HELP = """monitor commands (this core unless a command says otherwise):
  reset              reset this core (registers, NVIC, its private blocks; memory is kept) and keep it halted
                     at the reset vector (run `maint flush register-cache` so GDB re-reads registers); IO cores
  halt               show the all-stop state: every core, its PC and whether a debugger holds it
  uart [N|all]       the last N lines (default 20) this core's UARTs (the A7: its app's output) printed; `all`
                     for every UART and output stream
  time               virtual time, and instructions and clock of every core
  maskisr [on|off]   mask interrupts during single steps (vCont;s), or show the setting
  firewall [N]       the firewalls: each block's owning cores, locked or not, the last N refusals (default 10)
  help               this text"""


def run_monitor(server: MonitorHost, session: MonitorSession, command: str) -> str:
    """The text of `monitor <command>` typed in the debugger of `session` (its core's debug target)."""
    try:
        words = shlex.split(command)
    except ValueError as exc:
        return f"monitor: {exc}"
    if not words:
        return HELP
    verb, args = words[0].lower(), words[1:]
    machine = server.machine
    target = session.target
    core = target.core
    if verb in ("help", "?"):
        return HELP
    if verb == "reset":
        if not hasattr(target, "reset"):
            return f"monitor reset: the {core.name} runs a Linux process, which cannot be reset (restart the app)"
        if args and args[0] not in ("halt", "init"):
            return "monitor reset: the core stays halted after a reset; continue to run it"
        target.reset()
        target.halted_by_debugger = True
        core.halted = True
        return (f"{core.name}: reset; pc 0x{core.pc:08x}, msp 0x{core.reg('msp'):08x} "
                f"(halted; virtual time {format_ps(machine.clock.now)})")
    if verb == "halt":
        lines = [f"all-stop: machine halted at virtual time {format_ps(machine.clock.now)}"]
        for name, other in machine.cores.items():
            holder = server.sessions.get(name)
            if not machine.images.get(name):
                lines.append(f"  {name}: no app loaded")
                continue
            state = "locked up" if other.locked_up else "sleeping (WFI)" if other.sleeping else "ready"
            who = ("held by its debugger" if holder and holder.halted else
                   "debugger attached, resumed" if holder else "no debugger")
            lines.append(f"  {name}: pc 0x{other.pc:08x}, {state}, {who}")
        a7 = next((c for c in machine.all_cores() if c.name == "a7"), None)
        system = getattr(a7, "system", None)
        if a7 is not None:
            holder = server.sessions.get("a7")
            who = ("held by its debugger" if holder and holder.halted else
                   "debugger attached, resumed" if holder else "no debugger")
            process = getattr(system, "process", None)
            if process is None or not process.alive:
                lines.append(f"  a7: no app running, {who}")
            else:
                threads = process.live_threads()
                state = "sleeping (every thread waits)" if a7.sleeping else "ready"
                lines.append(f"  a7: app {process.name} (pid {process.pid}, {len(threads)} thread"
                             f"{'s' if len(threads) != 1 else ''}), {state}, {who}")
        return "\n".join(lines)
    if verb == "uart":
        count = 20
        everything = False
        if args:
            if args[0] == "all":
                everything = True
            else:
                try:
                    count = int(args[0])
                except ValueError:
                    return "monitor uart: expected a number of lines or `all`"
                if count <= 0:
                    return "monitor uart: the number of lines must be positive"
        taps = [t for label, t in machine.uarts.items() if everything or label.startswith(f"{core.name}.")]
        if not taps:
            return f"{core.name}: no UART output captured"
        out = []
        for tap in taps:
            lines = list(tap.lines)
            if tap.partial:
                lines.append(tap.partial.decode("utf-8", "replace"))
            shown = lines if everything else lines[-count:]
            out.append(f"[{tap.label}] {len(tap.data)} bytes")
            out += [f"  {line}" for line in shown]
        return "\n".join(out)
    if verb in ("time", "virtual-time"):
        lines = [f"virtual time {format_ps(machine.clock.now)}"]
        for other in machine.all_cores():
            lines.append(f"  {other.name}: {other.instructions} instructions, local time {format_ps(other.time)}, "
                         f"{other.hz} Hz")
        return "\n".join(lines)
    if verb == "maskisr":
        if args:
            if args[0].lower() not in ("on", "off"):
                return "monitor maskisr: expected on or off"
            server.mask_step_irqs = args[0].lower() == "on"
        return f"interrupts are {'masked' if server.mask_step_irqs else 'not masked'} during single steps"
    if verb == "firewall":
        # The firewall block is the model that checks every bus access (peripherals/firewall/bus_firewall.py).
        firewall = next((m for m in machine.devices.values() if callable(getattr(m, "bus_check", None))), None)
        if firewall is None:
            return "monitor firewall: this platform has no firewall block"
        try:
            count = int(args[0]) if args else 10
        except ValueError:
            return "monitor firewall: expected a number of refusals"
        return "\n".join(firewall.describe(max(0, count)))
    return f"monitor: unknown command {verb!r} (try `monitor help`)"
