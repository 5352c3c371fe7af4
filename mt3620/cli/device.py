"""`mt3620 device`: an emulated MT3620 as the security service sees it.

    mt3620 device id [--seed TEXT]
        the device ID and attestation public key to claim the device with (`mt3620 azsphere device claim
        --device ID --attestation-key KEY`).
    mt3620 device run --device-url URL --root-ca ROOT.pem [--seed TEXT] [--trusted-key KEY.pem ...]
                      [--until REGEX] [--for 10s] [--checks N]
        boots the device, attests through its Pluton, checks for updates over mutual TLS, verifies and starts the
        real-time apps it is given, and streams their UARTs (exit codes as `mt3620 run`).

    mt3620 device start --state DIR [--seed NAME] [--api-port PORT] [--speed X] [--gdb-base PORT]
                        [--trusted-key KEY.pem ...] [--quiet]
        a long-lived emulated board (docs/device.md): its state (e-fuses, the 16 MB NOR flash with installed
        images, manifests, mutable storage, Wi-Fi settings and capabilities) lives in DIR and survives restarts
        and kill -9; it serves the local device API on 127.0.0.1:PORT (default 48938; 0 picks a free port,
        written to DIR/api.json), prints its UARTs and Log_Debug streams, and opens GDB ports for apps started in
        debug mode (A7 PORT, IO0 PORT+1, IO1 PORT+2; default 3333; 0 picks free ports). `mt3620 azsphere device
        ...` talks to it. Ctrl-C or SIGTERM powers it off cleanly.

The device's identity comes from `--seed` (the same seed is the same device: its e-fuses and keys are derived
from it); `--efuse FILE` keeps its fuses across runs, with its other non-volatile state beside it (Pluton's
application counters in FILE's stem + .counters.json, the boot flash in stem + .flash/).

Every run powers the device on through its secure-boot chain and prints what booted (`--boot-log` for every
stage); a device whose chain does not verify does not boot and the command exits 3. `--glitch SPEC` arms an
attacker's glitch before power-on (docs/pluton.md "Glitches"): skip:POINT[@N|@TIME] or fuse:WORD[^MASK][@N|@TIME].
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from mt3620.engine.simulation.clock import format_ps, parse_duration
from mt3620.errors import UserError

EXIT_OK, EXIT_TIMEOUT, EXIT_USAGE, EXIT_FAULT = 0, 1, 2, 3


def add_commands(subparsers) -> None:
    device = subparsers.add_parser("device", help="an emulated device talking to the security service")
    sub = device.add_subparsers(dest="device_command", metavar="COMMAND")

    ident = sub.add_parser("id", help="print the device ID and attestation public key (for claiming)")
    _identity_options(ident)
    ident.add_argument("--csv", action="store_true",
                       help="one DEVICE_ID,ATTESTATION_KEY line: the manufacturer's list `mt3620 cloud registry import` "
                            "reads")
    ident.set_defaults(func=cmd_id)

    run = sub.add_parser("run", help="attest, take the deployment, run it")
    _identity_options(run)
    run.add_argument("--device-url", required=True, help="the service's device API (https://127.0.0.1:PORT)")
    run.add_argument("--root-ca", required=True, metavar="PEM", help="the service's root CA (GET /rootca.pem)")
    run.add_argument("--tenant", help="tenant ID to attest for (default: the tenant that claimed the device)")
    run.add_argument("--trusted-key", action="append", default=[], metavar="KEY.pem",
                     help="a key the device trusts for application packages (plus the user keystore)")
    run.add_argument("--until", metavar="REGEX", help="exit 0 when a UART line matches")
    run.add_argument("--for", dest="duration", default="10s", help="virtual time to run the apps (default 10s)")
    run.add_argument("--checks", type=int, default=1, help="update checks, one per --for period (default 1)")
    run.add_argument("--quiet", action="store_true", help="do not stream UART output")
    run.add_argument("--capability", action="append", default=[], metavar="FILE",
                     help="apply a signed capability file first (as `azsphere device capability update` does; get "
                          "one with `mt3620 azsphere device capability-image`)")
    # Test-only (docs/cloud.md, "Time"): the device's calendar clock starts at this ISO 8601 instant, to match a
    # service started with `mt3620 cloud serve --clock`. Hidden: a real device takes the host's time.
    run.add_argument("--clock", metavar="START", help=argparse.SUPPRESS)
    run.set_defaults(func=cmd_run)
    start = sub.add_parser("start", help="run an emulated board with its state in a folder, serving the device API",
                           description="Run an emulated MT3620 board as a long-lived process: its state lives in "
                                       "--state DIR (survives restarts and kill -9); `mt3620 azsphere device ...` "
                                       "commands talk to its local device API.")
    start.add_argument("--state", required=True, metavar="DIR", help="the device's state folder (created if new)")
    start.add_argument("--seed", help="identity seed of a new device (default: the emulator's default device); "
                                      "an existing folder keeps its own")
    start.add_argument("--api-port", type=int, default=None, metavar="PORT",
                       help="device API port on 127.0.0.1 (default 48938; 0 picks a free port)")
    start.add_argument("--speed", type=float, default=1.0,
                       help="virtual seconds per wall second (default 1: a board on the desk; 0: as fast as possible)")
    start.add_argument("--gdb-base", type=int, default=3333, metavar="PORT",
                       help="GDB ports for apps in debug mode: A7 PORT, IO0 PORT+1, IO1 PORT+2 (0: free ports)")
    start.add_argument("--trusted-key", action="append", default=[], metavar="KEY.pem",
                       help="a key the device trusts for application packages besides its ROM keystore")
    start.add_argument("--wifi-env", metavar="ENV.json", help="the radio environment around the board (docs/wifi.md); "
                                                             "its stored Wi-Fi networks live in its flash")
    start.add_argument("--board", action="append", default=[], metavar="FILE",
                       help="a board description of devices wired to the chip's buses (repeatable; docs/peripherals.md)")
    start.add_argument("--quiet", action="store_true", help="do not print UART and Log_Debug lines")
    # Test-only: the device process kills itself (SIGKILL) just before its Nth flash write since it started.
    start.add_argument("--kill-at-write", type=int, default=None, help=argparse.SUPPRESS)
    start.set_defaults(func=cmd_start)
    device.set_defaults(func=lambda args: (device.print_help(), EXIT_USAGE)[1])


def _identity_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", default=None, help="device identity seed (default: the emulator's default device)")
    p.add_argument("--efuse", metavar="FILE", help="persist the device's e-fuses (and counters, boot flash) beside FILE")
    p.add_argument("--glitch", action="append", default=[], metavar="SPEC",
                   help="arm a glitch before power-on: skip:POINT[@N|@TIME] or fuse:WORD[^MASK][@N|@TIME]")
    p.add_argument("--boot-log", action="store_true", help="print every boot stage's result")


def _machine(args):
    from mt3620.engine.machine import Machine, MachineError
    from mt3620.engine.machine.models import DEFAULT_DEVICE_SEED
    from mt3620.peripherals.pluton import GlitchError, parse_glitch
    from mt3620.peripherals.pluton.efuse import EfuseError
    seed = args.seed.encode() if args.seed is not None else DEFAULT_DEVICE_SEED
    try:
        glitches = [parse_glitch(spec) for spec in args.glitch]
    except GlitchError as exc:
        raise UserError(f"--glitch: {exc}")
    try:
        machine = Machine(device_seed=seed, efuse_path=args.efuse, glitches=glitches)
    except (EfuseError, OSError, MachineError) as exc:
        raise UserError(f"cannot power the device on: {exc}")
    result = machine.boot_result
    out = sys.stderr if getattr(args, "csv", False) else sys.stdout   # --csv: stdout is the list line alone
    if args.boot_log or not result.booted:
        for line in result.describe():
            print(f"boot: {line}", file=out, flush=True)
    for glitch in machine.pluton.glitches.fired:
        print(f"glitch fired: {glitch.describe()}", file=out, flush=True)
    if result.booted and not args.boot_log:
        print(f"boot: {len(result.measurements)} stages verified and measured", file=out, flush=True)
    return machine


def cmd_id(args) -> int:
    machine = _machine(args)
    if not machine.booted:
        print(f"mt3620 device: the device did not boot: {machine.boot_result.reason}", file=sys.stderr)
        return EXIT_FAULT
    from mt3620.peripherals.pluton.a7_driver import PlutonDriver
    driver = PlutonDriver(machine.view("a7"), lambda cond, t: machine.run(duration_ps=t, until=cond))
    _, _, attestation = driver.security_state()
    if args.csv:
        print(f"{machine.pluton.device_id.hex().upper()},{attestation.hex().upper()}")
        return EXIT_OK
    print(f"device id:              {machine.pluton.device_id.hex().upper()}")
    print(f"attestation public key: {attestation.hex().upper()}")
    return EXIT_OK


def cmd_run(args) -> int:
    from mt3620.imagepackage import Keystore
    from mt3620.imagepackage.keys import KeyFileError, load_trusted_key

    from mt3620.sphere_os.agent import OsAgent

    try:
        root = Path(args.root_ca).read_text()
    except OSError as exc:
        raise UserError(f"--root-ca {args.root_ca}: {exc.strerror or exc}")
    try:
        duration = parse_duration(args.duration)
        pattern = re.compile(args.until) if args.until else None
    except (ValueError, re.error) as exc:
        raise UserError(str(exc))
    keystore = Keystore.load()
    for path in args.trusted_key:
        try:
            keystore.add(load_trusted_key(path))
        except (KeyFileError, OSError, ValueError) as exc:
            raise UserError(f"--trusted-key {path}: {exc}")

    from mt3620.clock import clock_option
    now = clock_option(args.clock)
    machine = _machine(args)
    if not machine.booted:
        print(f"mt3620 device: the device did not boot: {machine.boot_result.reason}", file=sys.stderr)
        return EXIT_FAULT
    if not args.quiet:
        machine.line_listeners.append(lambda label, line: print(f"[{label}] {line}", flush=True))
    from mt3620.as3.device_client import DeviceApiError
    try:
        agent = OsAgent(machine, args.device_url, root, keystore=keystore, now=now)
        for path in args.capability:
            try:
                data = Path(path).read_bytes()
            except OSError as exc:
                raise UserError(f"--capability {path}: {exc.strerror or exc}")
            granted = agent.apply_capability(data)
            if not granted:
                raise UserError(f"--capability {path}: refused by the device's Pluton (see the log)")
            print(f"capabilities applied: {', '.join(agent.capabilities) or 'none the service names'}", flush=True)
        print(f"device {agent.device_id[:16]}...: OS {agent.os_version or '?'}, attesting to {args.device_url}",
              flush=True)
        agent.attest(tenant_id=args.tenant)
        print("attestation passed: client and update certificates issued", flush=True)
        for check in range(max(1, args.checks)):
            result = agent.check_for_updates()
            for item in result.installed:
                print(f"installed {item.name or item.component_id} (image {item.image_id}) on {item.core}",
                      flush=True)
            for image, reason in result.failed:
                print(f"refused image {image}: {reason}", flush=True)
            for reason in result.reasons:
                print(f"service: {reason.get('Code')}: {reason.get('Message')}", flush=True)
            if not agent.installed:
                continue
            run = machine.run(duration_ps=duration, pattern=pattern)
            if run.reason == "condition":
                return EXIT_OK
            if run.reason == "fault":
                print(f"mt3620: guest fault: {run.fault}", file=sys.stderr)
                return EXIT_FAULT
    except DeviceApiError as exc:
        print(f"mt3620 device: the service refused: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        raise UserError(f"cannot reach {args.device_url}: {exc}")
    if pattern is not None:
        print(f"mt3620: timed out after {format_ps(machine.clock.now)} of virtual time waiting for /{args.until}/",
              file=sys.stderr)
        return EXIT_TIMEOUT
    return EXIT_OK


def cmd_start(args) -> int:
    import os
    import signal

    from mt3620.imagepackage import Keystore
    from mt3620.imagepackage.keys import KeyFileError, load_trusted_key
    from mt3620.sphere_os.device import DeviceStateError, EmulatedDevice
    from mt3620.sphere_os.device_service import DEFAULT_API_PORT, DeviceService, remove_api_file, write_api_file

    trusted = Keystore([])
    for path in args.trusted_key:
        try:
            trusted.add(load_trusted_key(path))
        except (KeyFileError, OSError, ValueError) as exc:
            raise UserError(f"--trusted-key {path}: {exc}")
    if args.speed < 0:
        raise UserError("--speed must be 0 (as fast as possible) or positive")
    base = args.gdb_base
    if not 0 <= base <= 65533:
        raise UserError("--gdb-base must be a port number")
    gdb_ports = {"a7": base, "io0": base + 1, "io1": base + 2} if base else {"a7": 0, "io0": 0, "io1": 0}
    hook = None
    if args.kill_at_write is not None:
        limit = args.kill_at_write

        def hook(n: int) -> None:
            if n >= limit:
                os.kill(os.getpid(), signal.SIGKILL)
    env = None
    if args.wifi_env:
        from mt3620.peripherals.wifi.environment import EnvironmentError_, RadioEnvironment
        try:
            env = RadioEnvironment.load(args.wifi_env)
        except (EnvironmentError_, OSError, ValueError) as exc:
            raise UserError(f"--wifi-env: {exc}")
    try:
        device = EmulatedDevice(args.state, args.seed, trusted=trusted, gdb_ports=gdb_ports, flash_hook=None,
                                announce=lambda text: print(text, flush=True), wifi_env=env,
                                board=args.board or None)
    except DeviceStateError as exc:
        raise UserError(str(exc))
    writes = {"n": 0}

    def count_writes(n: int) -> None:          # counted across power cycles of this process
        writes["n"] += 1
        if hook is not None:
            hook(writes["n"])

    device.flash_hook = count_writes
    printer = None if args.quiet else (lambda line: print(line, flush=True))
    try:
        service = DeviceService(device, port=DEFAULT_API_PORT if args.api_port is None else args.api_port,
                                speed=args.speed, print_line=printer)
    except OSError as exc:
        device.close()
        raise UserError(str(exc))
    try:
        device.power_on()
    except Exception:
        service.close()
        device.close()
        raise
    write_api_file(device, service.url)
    print(f"device {device.device_id[:16]}...: state {args.state}, {len(device.installer.apps())} app(s) installed, "
          f"capabilities {', '.join(device.capabilities()) or 'none'}", flush=True)
    print(f"device API on {service.url}", flush=True)

    def terminate(signum, frame):
        service.stopping = True

    signal.signal(signal.SIGTERM, terminate)
    try:
        service.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        remove_api_file(device)
        device.close()
        print("device: powered off", flush=True)
    return EXIT_OK
