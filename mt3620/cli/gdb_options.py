"""`mt3620 run --gdb ...`: the command-line glue of the GDB server (called from mt3620/cli/run.py).

Ports as Renode's per-CPU GDB servers: A7 3333 (the high-level app's process), IO0 3334, IO1 3335; `--gdb` opens
the port of every core that has an app. Without --for, a run with a debugger has no practical virtual time limit
(one year), since a debugging session should not end because the default one second ran out.
"""
from __future__ import annotations

import argparse
import sys

from mt3620.errors import UserError

DEFAULT_PORTS = {"a7": 3333, "io0": 3334, "io1": 3335}
CORE_ALIASES = {"rt0": "io0", "rt1": "io1", "m4_0": "io0", "m4_1": "io1", "cortex-a7": "a7"}
DEBUG_DURATION = "31536000s"    # one year of virtual time: "until you stop it"


class _ExtendDuration(argparse.Action):
    """--gdb / --gdb-port: also lift the default virtual time limit (an explicit --for still wins)."""

    def __call__(self, parser, namespace, values, option_string=None):
        if self.nargs == 0:
            setattr(namespace, self.dest, True)
        else:
            items = list(getattr(namespace, self.dest, None) or [])
            items.append(values)
            setattr(namespace, self.dest, items)
        if getattr(namespace, "duration", None) is None:
            namespace.duration = DEBUG_DURATION


def add_gdb_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("debugging with GDB (gdb-multiarch: target remote :PORT)")
    group.add_argument("--gdb", action=_ExtendDuration, nargs=0, default=False,
                       help="serve GDB on 127.0.0.1, one port per core with an app: A7 3333 (the --hl app's "
                            "process), IO0 3334, IO1 3335")
    group.add_argument("--gdb-port", action=_ExtendDuration, metavar="CORE=PORT", default=None,
                       help="serve GDB for one core on a port (repeatable; a7, io0, io1; port 0 picks a free one "
                            "and prints it)")
    group.add_argument("--gdb-wait", action="store_true",
                       help="wait until a debugger is attached to every opened port (and has resumed) before "
                            "starting: the A7 app is held at its first instruction (the dynamic loader's entry)")
    group.add_argument("--gdb-mask-step-irqs", action="store_true",
                       help="mask interrupts during single steps (vCont;s), so stepping never enters a handler "
                            "(also `monitor maskisr on|off`)")


def _announce(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _has_app(machine, core: str) -> bool:
    if core == "a7":
        a7 = next((c for c in machine.all_cores() if c.name == "a7"), None)
        return a7 is not None and getattr(a7.system, "alive", False)
    return bool(machine.images.get(core))


def parse_ports(args: argparse.Namespace, machine) -> dict[str, int]:
    """{core: port} from --gdb (cores with an app) and --gdb-port entries."""
    ports: dict[str, int] = {}
    if getattr(args, "gdb", False):
        if _has_app(machine, "a7"):
            ports["a7"] = DEFAULT_PORTS["a7"]
        for name in machine.cores:
            if machine.images.get(name):
                ports[name] = DEFAULT_PORTS.get(name, 0)
    for spec in getattr(args, "gdb_port", None) or []:
        core, sep, port_text = spec.partition("=")
        core = CORE_ALIASES.get(core.strip().lower(), core.strip().lower())
        if not sep or not core:
            raise UserError(f"--gdb-port {spec}: expected CORE=PORT, e.g. io0=3334")
        try:
            port = int(port_text)
        except ValueError:
            raise UserError(f"--gdb-port {spec}: {port_text!r} is not a port number") from None
        if not 0 <= port <= 65535:
            raise UserError(f"--gdb-port {spec}: ports are 0 to 65535")
        if core == "a7" or core not in machine.cores:
            if core == "a7" or core in getattr(machine, "views", {}):
                ports[core] = port
                continue
            raise UserError(f"--gdb-port {spec}: no core named {core!r} (cores: a7, "
                              f"{', '.join(machine.cores)})")
        ports[core] = port
    for core in ports:
        if not _has_app(machine, core):
            give = "--hl APP.imagepackage" if core == "a7" else f"--rt{core[-1]} APP"
            raise UserError(f"--gdb-port: {core} has no app loaded (give {give})")
    taken: dict[int, str] = {}
    for core, port in ports.items():
        if port and port in taken:
            raise UserError(f"--gdb-port: {taken[port]} and {core} cannot share port {port}")
        taken[port] = core
    return ports


def attach_gdb(machine, args: argparse.Namespace):
    """Open the ports and, with --gdb-wait, wait for the debuggers; returns the server (it has `.close()`)."""
    from mt3620.engine.gdb.server import GdbServer, GdbServerError

    ports = parse_ports(args, machine)
    if not ports:
        raise UserError("--gdb: no app to debug (load one with --hl, --rt0 or --rt1)")
    try:
        server = GdbServer(machine, ports, mask_step_irqs=getattr(args, "gdb_mask_step_irqs", False),
                           announce=_announce)
    except GdbServerError as exc:
        raise UserError(str(exc)) from None
    for core, port in server.ports.items():
        _announce(f"gdb: {core} listening on 127.0.0.1:{port} (gdb-multiarch APP.elf -ex 'target remote :{port}')")
    if getattr(args, "gdb_wait", False):
        _announce(f"gdb: waiting for a debugger on {', '.join(str(p) for p in server.ports.values())} "
                  f"before starting")
        try:
            server.wait_for_debuggers()
        except BaseException:
            server.close()
            raise
    return server
