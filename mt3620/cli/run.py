"""`mt3620 run` and `mt3620 demo`: boot the emulated chip with RTApps on the IO cores and a high-level app on the
A7, and stream every UART and the app's Log_Debug output.

Exit codes: 0 the --until pattern appeared (or --for elapsed without --until, or the high-level app exited),
1 virtual-time time-out, 3 guest fault (with PC, fault type and address; for the A7 app the signal, faulting
address and a backtrace), 2 a problem with the command line or the input files.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

from mt3620.engine.simulation.clock import PS_PER_SECOND, format_ps, parse_duration
from mt3620.errors import UserError

EXIT_OK, EXIT_TIMEOUT, EXIT_USAGE, EXIT_FAULT = 0, 1, 2, 3


def add_commands(subparsers) -> None:
    run = subparsers.add_parser("run", help="boot the chip with RTApps on the IO cores and a high-level app on the A7 "
                                             "(quick runs: no app manager, no firewalls)",
                                description="Boot the emulated MT3620 with real-time apps (ELF or "
                                            ".imagepackage) on its IO cores and a high-level app package on the A7; "
                                            "stream every UART and the app's Log_Debug output ([a7.<app name>]). "
                                            "For quick runs: the apps are loaded straight onto the cores, without "
                                            "the device's app manager, so no manifest is checked and the hardware "
                                            "firewalls stay open (every core reaches every block). To run apps as "
                                            "the device does (manifests, deploy-time checks, firewalls, flash), use "
                                            "`mt3620 device start` and `mt3620 azsphere device sideload deploy`.")
    run.add_argument("--hl", metavar="APP.imagepackage",
                     help="high-level app package for the A7 (runs on the emulated Azure Sphere OS)")
    run.add_argument("--rt0", metavar="APP", help="app for IO core 0 (ELF or .imagepackage)")
    run.add_argument("--rt1", metavar="APP", help="app for IO core 1 (ELF or .imagepackage)")
    run.add_argument("--verify", action="store_true",
                     help="refuse .imagepackage apps whose signature no trusted key verifies (keystore + --trusted-key)")
    run.add_argument("--trusted-key", action="append", default=[], metavar="KEY.pem",
                     help="a public key to trust for --verify, besides the keystore (repeatable)")
    run.add_argument("--wifi-env", metavar="ENV.json",
                     help="the radio environment: access points and the host networks behind them (docs/wifi.md)")
    run.add_argument("--wifi", action="append", default=[], metavar="SSID[:PASSPHRASE]",
                     help="store and enable a Wi-Fi network before the app starts (open without a passphrase)")
    run.add_argument("--net-record", metavar="FILE", help="record what host servers delivered (for --net-replay)")
    run.add_argument("--net-replay", metavar="FILE", help="replay a --net-record recording instead of host sockets")
    _common_run_options(run)
    run.set_defaults(func=cmd_run)

    demo = subparsers.add_parser("demo", help="build the project's demo firmware and sideload it onto an emulated "
                                              "board (LED blink + UART)")
    demo.add_argument("--for", dest="duration", default="3s", help="virtual time to run (default 3s)")
    demo.add_argument("--press-at", default="1.2s", help="virtual time at which button A is pressed")
    demo.set_defaults(func=cmd_demo)


def _common_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--until", metavar="REGEX", help="exit 0 as soon as a UART line matches REGEX")
    p.add_argument("--for", dest="duration", metavar="TIME", default=None,
                   help="virtual time limit, e.g. 10s, 250ms (default 10s with --until, else 1s)")
    p.add_argument("--uart-log", metavar="DIR", help="also write each UART's raw output to DIR/<core>.<uart>.log")
    p.add_argument("--platform", metavar="REPL", help="platform description (default: platforms/mt3620.repl)")
    p.add_argument("--board", action="append", default=[], metavar="FILE",
                   help="a board description adding devices on the chip's buses (sensors, displays, SD card, "
                        "codec, ADC inputs, GPIO waveforms; docs/peripherals.md); repeatable")
    p.add_argument("--adc", action="append", default=[], metavar="CH=SIGNAL",
                   help="voltage on an ADC channel, e.g. 1=1.25 or 2='sine(1.25, 1, 2Hz)' (repeatable)")
    p.add_argument("--quiet", action="store_true", help="do not stream UART output")
    p.add_argument("--stop-on-fault", dest="stop_on_fault", action="store_true", default=True,
                   help="stop at the first fault exception with its PC, type and address (default)")
    p.add_argument("--guest-faults", dest="stop_on_fault", action="store_false",
                   help="deliver faults to the firmware's own handlers; stop only on lockup")
    p.add_argument("--press", action="append", default=[], metavar="BUTTON@TIME",
                   help="press an RDB button at a virtual time, e.g. A@500ms (repeatable)")
    p.add_argument("--uart-loopback", action="append", default=[], metavar="UART",
                   help="wire a UART's TX to its RX (a loopback header), e.g. isu0_uart (repeatable)")
    p.add_argument("--leds", dest="show_leds", action="store_true", help="print RDB LED changes")
    try:
        from .gdb_options import add_gdb_arguments
    except ImportError:
        pass
    else:
        add_gdb_arguments(p)
    p.add_argument("--stats", action="store_true", help="print instructions, virtual and wall time at the end")


def cmd_run(args: argparse.Namespace) -> int:
    apps = {core: path for core, path in (("io0", args.rt0), ("io1", args.rt1)) if path}
    if args.hl:
        apps["a7"] = args.hl
    if not apps:
        raise UserError("nothing to run: give --hl APP.imagepackage and/or --rt0 APP, --rt1 APP")
    for path in apps.values():
        if not Path(path).is_file():
            raise UserError(f"{path}: no such file")
    if args.verify or args.trusted_key:
        _verify_packages(apps.values(), args.trusted_key)
    return _boot_and_run(apps, args)


def _verify_packages(paths, trusted_keys: list[str]) -> None:
    """Check every application package's signature before anything boots (what the device's loader requires)."""
    from mt3620.imagepackage import ImagePackageError, Keystore, load
    from mt3620.imagepackage.keys import KeyFileError, load_trusted_key

    keystore = Keystore.load()
    for key in trusted_keys:
        try:
            keystore.add(load_trusted_key(key))
        except (KeyFileError, OSError, ValueError) as exc:
            raise UserError(f"--trusted-key {key}: {exc}")
    for path in paths:
        if not str(path).endswith(".imagepackage"):
            raise UserError(f"{path}: --verify checks image packages; a bare ELF carries no signature")
        try:
            load(path).verify(keystore)
        except (ImagePackageError, OSError, ValueError) as exc:
            raise UserError(f"{path}: signature not verified: {exc}")


def _boot_and_run(apps: dict[str, str | Path], args: argparse.Namespace, presses: list[str] | None = None,
                  machine=None) -> int:
    """Load `apps` straight onto a new machine (or take `machine`, already running its apps) and run it."""
    from mt3620.engine.machine import LoadError
    from mt3620.engine.machine import Machine, MachineError
    from mt3620.engine import repl

    hl_app = None
    try:
        machine = machine or Machine(args.platform, stop_on_fault=args.stop_on_fault,
                                     board=getattr(args, "board", None) or None)
        for core, path in apps.items():
            if core != "a7":
                machine.load(core, path)
        for name in getattr(args, "uart_loopback", []):
            machine.loopback(name)
        network = _setup_network(machine, args)
        if "a7" in apps:
            from mt3620.sphere_os.apps import AppLaunchError, SphereOs
            try:
                hl_app = SphereOs.of(machine).launch(apps["a7"])
            except AppLaunchError as exc:
                raise UserError(f"--hl {apps['a7']}: {exc}")
        for spec in getattr(args, "adc", []):
            channel, sep, value = spec.partition("=")
            if not sep or not channel.strip().isdigit():
                raise UserError(f"--adc {spec}: use CHANNEL=VOLTS or CHANNEL=SIGNAL, e.g. 1=1.25")
            try:
                machine.device("adc").set_input(int(channel), value)
            except ValueError as exc:
                raise UserError(f"--adc {spec}: {exc}")
    except (LoadError, MachineError, repl.ReplError) as exc:
        raise UserError(str(exc))

    try:
        pattern = re.compile(args.until) if args.until else None
    except re.error as exc:
        raise UserError(f"--until: not a regular expression: {exc}")
    try:
        duration = parse_duration(args.duration) if args.duration else (
            10 * PS_PER_SECOND if pattern else PS_PER_SECOND)
    except ValueError as exc:
        raise UserError(f"--for: {exc}")

    logs = {}
    if args.uart_log:
        os.makedirs(args.uart_log, exist_ok=True)
        for label in machine.uarts:
            logs[label] = open(os.path.join(args.uart_log, f"{label}.log"), "wb")
        def log_byte(label, byte):
            if label not in logs:     # a stream that appeared during the run (an A7 app started later)
                logs[label] = open(os.path.join(args.uart_log, f"{label}.log"), "wb")
            logs[label].write(bytes([byte]))
        machine.byte_listeners.append(log_byte)
    if not args.quiet:
        for text in machine.board_devices.describe():
            print(f"[board] {text}", flush=True)
        machine.line_listeners.append(lambda label, line: print(f"[{label}] {line}", flush=True))
        if getattr(args, "show_leds", False) and machine.board is not None:
            _watch_leds(machine)

    for spec in list(args.press) + list(presses or []):
        _schedule_press(machine, spec)

    gdb = None
    if getattr(args, "gdb", None) or getattr(args, "gdb_port", None):
        from .gdb_options import attach_gdb
        gdb = attach_gdb(machine, args)
    wall = time.perf_counter()
    try:
        result = machine.run(duration_ps=duration, pattern=pattern)
    finally:
        for f in logs.values():
            f.close()
        if gdb is not None:
            gdb.close()
        try:
            machine.close()                         # board devices write their PNG / WAV / image files
        except OSError as exc:
            print(f"mt3620: board device output not written: {exc}", file=sys.stderr)
    wall = time.perf_counter() - wall
    if network is not None and getattr(args, "net_record", None):
        try:
            network.net.bridge.recording.save(args.net_record)
        except OSError as exc:
            raise UserError(f"--net-record {args.net_record}: {exc.strerror or exc}")
    if not args.quiet:
        for tap in machine.uarts.values():
            if tap.partial:
                print(f"[{tap.label}] {tap.partial.decode('utf-8', 'replace')}", flush=True)
        if machine.board_devices.devices:
            for text in machine.board_devices.describe():
                print(f"[board] {text}", flush=True)
    if hl_app is not None and not hl_app.running and result.reason != "fault":
        how = (f"exited with status {hl_app.exit_code}" if hl_app.term_signal is None
               else f"was killed by signal {hl_app.term_signal}")
        print(f"mt3620: a7: app {hl_app.name} {how}", file=sys.stderr)
    if args.stats:
        instructions = sum(c.instructions for c in machine.all_cores())
        virtual = machine.clock.now / PS_PER_SECOND
        print(f"stats: {instructions} instructions, {format_ps(machine.clock.now)} virtual in {wall:.3f}s wall "
              f"({virtual / wall if wall else 0:.1f}x real time, {instructions / wall / 1e6 if wall else 0:.1f} "
              f"MIPS)", file=sys.stderr)
    if result.reason == "condition":
        return EXIT_OK
    if result.reason == "fault":
        f = result.fault
        print(f"mt3620: guest fault: {f}", file=sys.stderr)
        return EXIT_FAULT
    if pattern is not None:
        print(f"mt3620: timed out after {format_ps(duration)} of virtual time waiting for /{args.until}/",
              file=sys.stderr)
        return EXIT_TIMEOUT
    return EXIT_OK


def _setup_network(machine, args: argparse.Namespace):
    """The device's networking for --wifi-env / --wifi / --net-replay (None when none is asked for)."""
    env_path, wifis = getattr(args, "wifi_env", None), getattr(args, "wifi", [])
    replay = getattr(args, "net_replay", None)
    if not env_path and not wifis and not replay and not getattr(args, "net_record", None):
        return None
    from mt3620.peripherals.wifi.environment import EnvironmentError_, RadioEnvironment
    from mt3620.sphere_os.network import NetworkError, NetworkOs, StoredNetwork
    from mt3620.sphere_os.network.wifi import SECURITY_OPEN, SECURITY_PSK
    try:
        env = RadioEnvironment.load(env_path) if env_path else None
        network = NetworkOs(machine, environment=env, replay=replay)
    except EnvironmentError_ as exc:
        raise UserError(f"--wifi-env: {exc}")
    except (NetworkError, ValueError, OSError) as exc:
        raise UserError(f"{'--net-replay ' + str(replay) if replay else 'networking'}: {exc}")
    for spec in wifis:
        ssid, sep, passphrase = spec.partition(":")
        if not ssid or len(ssid.encode()) > 32:
            raise UserError(f"--wifi {spec!r}: the SSID must have 1 to 32 bytes")
        if sep and not 8 <= len(passphrase) <= 64:
            raise UserError(f"--wifi {spec!r}: a WPA2 passphrase has 8 to 63 characters (or 64 hex digits)")
        network.wifi.add(StoredNetwork(ssid=ssid.encode(), security=SECURITY_PSK if sep else SECURITY_OPEN,
                                       psk=passphrase, enabled=True))
    return network


def _schedule_press(machine, spec: str) -> None:
    button, _, at = spec.partition("@")
    button = button.strip().upper()
    try:
        when = parse_duration(at or "0s")
    except ValueError as exc:
        raise UserError(f"--press {spec}: {exc}")
    board = machine.board
    if board is None:
        raise UserError("--press: this platform has no RDB board (GPIO blocks missing)")
    if button not in ("A", "B"):
        raise UserError(f"--press {spec}: the RDB has buttons A and B")
    machine.clock.schedule_at(when, lambda: board.press(button), f"press {button}")
    machine.clock.schedule_at(when + parse_duration("200ms"), lambda: board.release(button), f"release {button}")


def _watch_leds(machine) -> None:
    """Print RDB LED changes (the LEDs are active low: a low pad lights the LED)."""
    from mt3620.peripherals.board.rdb import LEDS
    names = {pin: name for name, pin in LEDS.items()}
    for model in machine.devices.values():
        if hasattr(model, "add_output_listener") and hasattr(model, "pins"):
            def changed(pin, level, model=model):
                if pin in names:
                    state = "on" if level == 0 else "off"
                    print(f"[rdb] {names[pin]} {state} at {format_ps(machine.clock.now)}", flush=True)
            model.add_output_listener(changed)


def cmd_demo(args: argparse.Namespace) -> int:
    """The demo as a developer runs it on a board: the firmware's signed package (its ELF and app_manifest.json,
    which grants GPIO 8 and 12) sideloaded onto an emulated device, checked, installed in its flash, started by
    the app manager with the firewalls programmed from the manifest."""
    import tempfile

    from mt3620.firmware import toolchain
    from mt3620.sphere_os.app_manager import AppError
    from mt3620.sphere_os.device import EmulatedDevice

    try:
        package = toolchain.firmware_package("demo")
    except Exception as exc:  # a missing compiler is a setup problem the user can fix
        raise UserError(f"cannot build the demo firmware: {exc}")
    run_args = argparse.Namespace(until=None, duration=args.duration, uart_log=None, platform=None, quiet=False,
                                  stop_on_fault=True, press=[], stats=True, show_leds=True, board=[], adc=[])
    with tempfile.TemporaryDirectory(prefix="mt3620-demo-") as state:
        board = EmulatedDevice(state, announce=lambda text: print(text, flush=True))
        try:
            board.power_on()
            board.enable_development()
            status = board.apps.deploy(package.read_bytes())
        except AppError as exc:
            board.close()
            raise UserError(f"the device refused the demo: {exc}")
        print(f"mt3620 demo: sideloaded {package.name} onto an emulated board ({status.name} on IO core "
              f"{status.core[-1]}; firewalls: its GPIO blocks to IO core {status.core[-1]}, everything else closed) "
              f"for {args.duration} of virtual time; button A pressed at {args.press_at}", flush=True)
        for core in board.machine.cores.values():      # as `mt3620 run`: stop at the first fault
            core.stop_on_fault = True
        try:
            return _boot_and_run({}, run_args, presses=[f"A@{args.press_at}"], machine=board.machine)
        finally:
            board.close()
