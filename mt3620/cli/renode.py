"""`mt3620 renode-bridge` and `mt3620 renode-lint`: the Renode side of the project (docs/renode.md)."""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from pathlib import Path

from mt3620.errors import UserError

log = logging.getLogger("mt3620.renode_cli")


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "renode-bridge", help="serve the Python peripheral models to Renode's bridged blocks over 127.0.0.1",
        description="Builds the model of every MT3620.BridgedPeripheral entry of the platform (its `model:` "
                    "attribute) and serves Renode's shims (peripherals/renode/MT3620Bridge.cs) until interrupted. "
                    "mt3620.resc starts one per machine itself (machine StartMT3620Bridge); start one by hand to "
                    "watch its log or debug a model, and give it to Renode with $bridge.")
    p.add_argument("--platform", metavar="REPL", help="platform description (default: platforms/mt3620.repl)")
    p.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (default: any free port)")
    p.add_argument("--token", help="authentication token (default: a random one)")
    p.add_argument("--connection-file", metavar="PATH",
                   help="where to write '127.0.0.1 PORT TOKEN' (default: $MT3620_BRIDGE_FILE or "
                        "~/.cache/mt3620/renode-bridge)")
    p.add_argument("--device-seed", default=None, metavar="TEXT", help="device identity seed for Pluton")
    p.add_argument("--board", action="append", default=[], metavar="FILE",
                   help="a board description adding devices on the bridged buses (docs/peripherals.md); "
                        "repeatable")
    p.add_argument("--announce", action="store_true",
                   help="print 'MT3620-BRIDGE 127.0.0.1:PORT:TOKEN' as the first line and write no connection file "
                        "(how Renode starts it)")
    p.add_argument("--stdin-lifeline", action="store_true",
                   help="stop when standard input reaches end of file (the Renode that started it is gone)")
    p.set_defaults(func=_bridge)

    q = subparsers.add_parser(
        "renode-lint", help="check the .repl platform files and the .resc script (with --renode: in Renode too)",
        description="Checks platform descriptions with the project's rules (names, references, interrupt wiring "
                    "and what Renode may see of it, per-CPU memory maps, models) and lints Renode scripts "
                    "(commands, variables, $ORIGIN paths, macros, GDB ports). With --renode, Renode's own loader "
                    "judges what it alone knows: its types, constructor parameters and properties. Exit status 1 "
                    "when there are errors.")
    q.add_argument("--platform", action="append", default=[], metavar="REPL",
                   help="platform file(s) to check with the project's rules (default: platforms/mt3620.repl)")
    q.add_argument("--renode", action="store_true",
                   help="also load the files Renode loads with Renode's own loader (needs Renode: $MT3620_RENODE, "
                        "../shared/renode-1.16.1 or `renode` on PATH)")
    q.add_argument("--renode-platform", action="append", default=[], metavar="REPL",
                   help="with --renode: these files instead of the shipped mt3620-renode*.repl and the board")
    q.add_argument("--resc", action="append", default=[], metavar="RESC",
                   help="Renode script(s) to lint (default: mt3620.resc next to platforms/, when present)")
    q.add_argument("--strict", action="store_true", help="warnings (missing models, unbuilt images) fail too")
    q.set_defaults(func=_lint)


def _bridge(args: argparse.Namespace) -> int:
    from mt3620.engine import repl
    from mt3620.engine.renode import bridge as rb
    if args.port and not 0 < args.port < 65536:
        raise UserError(f"--port {args.port} is not a TCP port")
    seed = args.device_seed.encode() if args.device_seed else rb.DEFAULT_SEED
    try:
        server = rb.build_server(args.platform, token=args.token, port=args.port, device_seed=seed,
                                 board=args.board or None)
    except (repl.ReplError, rb.BridgeError) as exc:
        raise UserError(str(exc)) from None
    conn = None
    if args.announce:
        print(f"{rb.ANNOUNCE} {server.endpoint}", flush=True)
    else:
        conn = Path(args.connection_file or os.environ.get("MT3620_BRIDGE_FILE") or rb.default_connection_file())
        rb.write_connection_file(conn, server.port, server.token)
        print(f"mt3620 renode-bridge: 127.0.0.1:{server.port}, connection file {conn}", flush=True)
    served = ", ".join(sorted(server.models.blocks))
    print(f"serving {len(server.models.blocks)} blocks: {served}", file=sys.stderr if args.announce else sys.stdout,
          flush=True)
    for text in server.models.board_devices.describe():
        print(f"[board] {text}", file=sys.stderr if args.announce else sys.stdout, flush=True)
    if args.stdin_lifeline:
        server.watch_lifeline(sys.stdin)
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
            if conn is not None and conn.read_text().split()[1:2] == [str(server.port)]:
                conn.unlink()
        except (OSError, IndexError):
            pass
    print("mt3620 renode-bridge: stopped", file=sys.stderr, flush=True)
    return 0


def _default_platforms() -> list[Path]:
    from mt3620.engine.repl import default_platform_path
    return [default_platform_path()]


def _default_resc() -> list[Path]:
    from mt3620.engine.repl import default_platform_path
    candidate = default_platform_path().parent.parent / "mt3620.resc"
    return [candidate] if candidate.exists() else []


def _renode_files() -> list[list[Path]]:
    """What mt3620.resc loads, as Renode loads it: the chip then the board; the chip with the real A7."""
    from mt3620.engine.repl import default_platform_path
    base = default_platform_path().parent
    return [[base / "mt3620-renode.repl", base / "boards" / "mt3620-rdb.repl"], [base / "mt3620-renode-a7.repl"]]


def _lint(args: argparse.Namespace) -> int:
    from mt3620.engine.renode.resc_lint import lint_resc
    from mt3620.engine.repl import load_platform, ReplError
    from mt3620.engine.renode.platform_check import check_file
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

    platforms = [Path(p) for p in args.platform] or _default_platforms()
    loaded = {}
    for path in platforms:
        if not path.exists():
            raise UserError(f"{path}: no such file")
        platform, problems = check_file(path)
        loaded[path] = platform
        report(problems)
        if platform is not None:
            print(f"{path}: {len(platform.entries)} entries in {len(platform.files)} file(s)")
    rescs = [Path(p) for p in args.resc] or _default_resc()
    for resc in rescs:
        if not resc.exists():
            raise UserError(f"{resc}: no such file")
        platform = next((p for p in loaded.values() if p is not None), None)
        if platform is None:
            try:
                platform = load_platform(_default_platforms()[0])
            except ReplError as exc:
                print(f"error: {exc}")
                errors += 1
        report(lint_resc(resc, platform))
        print(f"{resc}: linted")
    if args.renode:
        errors += _renode_loader(args)
    print(f"{errors} error(s), {warnings} warning(s)")
    return 1 if errors else 0


def _renode_loader(args: argparse.Namespace) -> int:
    """Renode's own loader on the files Renode loads: what the project's rules cannot know (types, constructor
    parameters, properties, registrations)."""
    from mt3620.engine.renode import runtime
    found = runtime.find()
    if found is None:
        raise UserError(f"--renode: {runtime.absent_reason()}")
    groups = [[Path(p)] for p in args.renode_platform] or _renode_files()
    a7 = runtime.arm_cpu_type_available(found, "cortex-a7")
    failed = 0
    for files in groups:
        if files[-1].name == "mt3620-renode-a7.repl" and not a7:
            print(f"{files[-1]}: skipped: this Renode has no cortex-a7 (mt3620.resc loads mt3620-renode.repl)")
            continue
        result = runtime.load_with_renode(found, files[1:], on_top_of=files[:1]) if len(files) > 1 else \
            runtime.load_with_renode(found, files)
        if result.ok:
            print(f"{' + '.join(str(f) for f in files)}: loaded by Renode")
        else:
            failed += 1
            print(f"error: {' + '.join(str(f) for f in files)}: Renode's loader says:\n{result.error}")
    return failed
