"""`mt3620 renode-bridge` and `mt3620 renode-lint`: the Renode side of the project (docs/renode.md)."""
from __future__ import annotations

import argparse
import logging
import os
import signal
from pathlib import Path

from mt3620.errors import UserError

log = logging.getLogger("mt3620.renode_cli")


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "renode-bridge", help="serve the Python peripheral models to Renode's shims over 127.0.0.1",
        description="Builds the models of every Python.PythonPeripheral entry of the platform and serves the "
                    "IronPython shims Renode runs (peripherals/renode/*.py27) until interrupted. Start it before "
                    "`renode mt3620.resc`; the shims find it through the connection file.")
    p.add_argument("--platform", metavar="REPL", help="platform description (default: platforms/mt3620.repl)")
    p.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (default: any free port)")
    p.add_argument("--token", help="authentication token (default: a random one)")
    p.add_argument("--connection-file", metavar="PATH",
                   help="where to write '127.0.0.1 PORT TOKEN' for the shims (default: $MT3620_BRIDGE_FILE or "
                        "~/.cache/mt3620/renode-bridge)")
    p.add_argument("--uart-tcp", action="append", default=[], metavar="UART=PORT",
                   help="serve a UART's raw byte stream on 127.0.0.1:PORT (repeatable), e.g. io0_uart=4321")
    p.add_argument("--device-seed", default=None, metavar="TEXT", help="device identity seed for Pluton")
    p.add_argument("--board", action="append", default=[], metavar="FILE",
                   help="a board description adding devices on the bridged buses (docs/peripherals.md); "
                        "repeatable")
    p.set_defaults(func=_bridge)

    q = subparsers.add_parser(
        "renode-lint", help="check the .repl platform files, the .resc script and the Renode shims",
        description="Parses and checks platform descriptions (names, references, IRQ wiring, per-CPU memory maps, "
                    "shims and models), lints Renode scripts (commands, variables, $ORIGIN paths, macros, GDB "
                    "ports) and checks that every shim is Python 2.7 syntax. Exit status 1 when there are errors.")
    q.add_argument("--platform", action="append", default=[], metavar="REPL",
                   help="platform file(s) to check (default: platforms/mt3620.repl, mt3620-renode.repl, "
                        "mt3620-renode-a15.repl)")
    q.add_argument("--renode-platform", action="append", default=[], metavar="REPL",
                   help="check these as files Renode loads itself (no '->' or extra attributes on Python "
                        "peripherals); the default mt3620-renode*.repl files always are")
    q.add_argument("--resc", action="append", default=[], metavar="RESC",
                   help="Renode script(s) to lint (default: mt3620.resc next to platforms/, when present)")
    q.add_argument("--shims", metavar="DIR", help="folder of *.py27 shims (default: peripherals/renode)")
    q.add_argument("--strict", action="store_true", help="warnings (missing models, unbuilt images) fail too")
    q.set_defaults(func=_lint)


def _parse_uart_ports(specs: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for spec in specs:
        name, sep, port = spec.partition("=")
        if not sep or not name or not port.isdigit() or not 0 < int(port) < 65536:
            raise UserError(f"--uart-tcp expects UART=PORT (e.g. io0_uart=4321), not {spec!r}")
        out[name] = int(port)
    return out


def _bridge(args: argparse.Namespace) -> int:
    from mt3620.engine.renode import bridge as rb
    from mt3620.engine.repl.parser import ReplError
    uart_ports = _parse_uart_ports(args.uart_tcp)
    if args.port and not 0 < args.port < 65536:
        raise UserError(f"--port {args.port} is not a TCP port")
    seed = args.device_seed.encode() if args.device_seed else rb.DEFAULT_SEED
    try:
        server = rb.build_server(args.platform, token=args.token, port=args.port, uart_ports=uart_ports,
                                 device_seed=seed, board=args.board or None)
    except ReplError as exc:
        raise UserError(str(exc)) from None
    except rb.BridgeError as exc:
        raise UserError(str(exc)) from None
    conn = Path(args.connection_file or os.environ.get("MT3620_BRIDGE_FILE") or rb.default_connection_file())
    rb.write_connection_file(conn, server.port, server.token)
    served = ", ".join(sorted(server.models.blocks))
    print(f"mt3620 renode-bridge: 127.0.0.1:{server.port}, connection file {conn}", flush=True)
    print(f"serving {len(server.models.blocks)} blocks: {served}", flush=True)
    for name, why in sorted(server.models.unavailable.items()):
        print(f"not served: {name}: {why}", flush=True)
    for name in uart_ports:
        print(f"{name}: raw bytes on 127.0.0.1:{server.uart_port(name)}", flush=True)
    for text in server.models.board_devices.describe():
        print(f"[board] {text}", flush=True)
    stop = {"now": False}

    def on_signal(signum, frame):  # noqa: ARG001
        stop["now"] = True

    previous = signal.signal(signal.SIGTERM, on_signal)
    try:
        server.serve_forever(lambda: stop["now"])
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.close()
        try:
            if conn.read_text().split()[1:2] == [str(server.port)]:
                conn.unlink()
        except (OSError, IndexError):
            pass
    print("mt3620 renode-bridge: stopped", flush=True)
    return 0


def _default_platforms() -> list[Path]:
    from mt3620.engine.repl.parser import default_platform_path
    base = default_platform_path().parent
    return [p for p in (base / "mt3620.repl", base / "mt3620-renode.repl", base / "mt3620-renode-a15.repl")
            if p.exists()]


def _default_resc() -> list[Path]:
    from mt3620.engine.repl.parser import default_platform_path
    candidate = default_platform_path().parent.parent / "mt3620.resc"
    return [candidate] if candidate.exists() else []


def _default_shims() -> Path:
    from mt3620.engine.repl.parser import default_platform_path
    return default_platform_path().parent.parent / "peripherals" / "renode"


def _lint(args: argparse.Namespace) -> int:
    from mt3620.engine.repl.check import check_file
    from mt3620.engine.repl.parser import load_platform, ReplError
    from mt3620.engine.renode.resc_lint import check_shim_file, lint_resc
    errors = warnings = 0

    def report(problems) -> None:
        nonlocal errors, warnings
        for p in problems:
            is_warning = p.kind in ("warning", "model-missing") and not args.strict
            print(f"{'warning' if is_warning else 'error'}: {p}")
            if is_warning:
                warnings += 1
            else:
                errors += 1

    platforms = [Path(p) for p in args.platform + args.renode_platform] or _default_platforms()
    if not platforms:
        raise UserError("no platform description found; give --platform")
    loaded = {}
    for path in platforms:
        if not path.exists():
            raise UserError(f"{path}: no such file")
        platform, problems = check_file(path, for_renode=path.name.startswith("mt3620-renode") or
                                        str(path) in args.renode_platform)
        loaded[path] = platform
        report(problems)
        if platform is not None:
            print(f"{path}: {len(platform.entries)} entries in {len(platform.files)} file(s)")
    rescs = [Path(p) for p in args.resc] or _default_resc()
    for resc in rescs:
        if not resc.exists():
            raise UserError(f"{resc}: no such file")
        renode_platform = None
        candidate = resc.parent / "platforms" / "mt3620-renode.repl"
        try:
            renode_platform = load_platform(candidate) if candidate.exists() else next(
                (p for p in loaded.values() if p is not None), None)
        except ReplError as exc:
            report([])
            print(f"error: {exc}")
            errors += 1
        report(lint_resc(resc, renode_platform))
        print(f"{resc}: linted")
    shim_dir = Path(args.shims) if args.shims else _default_shims()
    shims = sorted(shim_dir.glob("*.py27")) if shim_dir.is_dir() else []
    for shim in shims:
        report(check_shim_file(shim))
    if shims:
        print(f"{shim_dir}: {len(shims)} shim(s) checked for Python 2.7 syntax")
    print(f"{errors} error(s), {warnings} warning(s)")
    return 1 if errors else 0
