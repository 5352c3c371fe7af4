"""`mt3620 cloud ...`: run and operate the security service (AS3 stand-in; docs/cloud.md).

    mt3620 cloud serve [--data DIR] [--db-url URL] [--host H] [--port N] [--device-port N]
    mt3620 cloud user create|token NAME        operator side: users and their tokens
    mt3620 cloud os-release --feed F --version V
    mt3620 cloud migrate [--revision R] [--down]
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from mt3620.errors import UserError

FEEDS = {"Retail": 0, "RetailEval": 1}


def _one_line(exc: BaseException) -> str:
    """A database driver error as one line (SQLAlchemy wraps the driver's message with its own notes)."""
    inner = getattr(exc, "orig", None) or exc
    text = str(inner).strip().splitlines()
    return f"{inner.__class__.__name__}: {text[0] if text else ''}"


def running_service_file() -> Path:
    """Where `serve` records the data it serves, so operator commands without --data act on it."""
    state = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(state) / "mt3620" / "cloud-serve.json"


def _running_service() -> dict | None:
    try:
        record = json.loads(running_service_file().read_text())
        os.kill(int(record["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None     # none recorded, or its process is gone
    return record


def _database_url(args, create: bool = True) -> tuple[str, str | None]:
    """(database URL, KEK file) of the command. `create` False (operator commands): only the running service's
    data or an existing service database, never a new one made on the side. Acting on the running service's data,
    the command also keeps its time (`_clock`)."""
    from mt3620.cloud.db import sqlite_url
    from mt3620.cloud.server import default_data_dir
    kek = getattr(args, "kek_file", None)
    url = args.db_url or os.environ.get("MT3620_CLOUD_DB_URL")
    if url:
        return url, kek
    if args.data:
        data = Path(args.data)
    else:
        running = _running_service()
        if running is not None:
            args.clock_offset = float(running.get("clock_offset", 0.0))
            return running["db_url"], kek or running.get("kek_file")
        data = default_data_dir()
    if not create and not (data / "as3.sqlite3").is_file():
        raise UserError(f"no service data in {data}: no `mt3620 cloud serve` is running here, and none ever ran on "
                        f"that folder (give the running service's --data or --db-url, or start `mt3620 cloud serve"
                        f"{' --data ' + str(data) if args.data else ''}` first)")
    if create:
        data.mkdir(mode=0o700, parents=True, exist_ok=True)
    return sqlite_url(data), kek


def _clock(args):
    """The running service's time when acting on its data (a service started with `--clock` runs on another day:
    tokens made here must expire by its time), else the host's."""
    offset = getattr(args, "clock_offset", 0.0)
    if not offset:
        return None
    from mt3620.clock import StartedClock, wall_clock
    return StartedClock(wall_clock() + _dt.timedelta(seconds=offset))


def _services(args):
    from mt3620.cloud import migrate
    from mt3620.cloud.services import Services
    url, kek = _database_url(args, create=False)
    try:
        services = Services(url, kek_file=kek, now=_clock(args))
        if migrate.current(services.db.engine) is None:
            services.close()
            raise UserError(f"no service schema in the database {url.split('@')[-1]}: start `mt3620 cloud serve` on "
                            "it first (or `mt3620 cloud migrate`)")
        return services.initialise()
    except (OSError, UserError):
        raise
    except Exception as exc:  # noqa: BLE001 - unreachable database, bad URL, wrong KEK
        raise UserError(f"cannot open the database: {_one_line(exc)}") from None


def _operate(args, action):
    """Run `action(services)` on the database, domain errors as one-line UserErrors."""
    from mt3620.cloud.domain import DomainError
    services = _services(args)
    try:
        return action(services)
    except DomainError as exc:
        raise UserError(exc.message) from None
    finally:
        services.close()


def cmd_serve(args) -> int:
    from mt3620.cloud.server import Service
    for name in ("port", "device_port"):
        if not 0 <= (getattr(args, name) or 0) <= 65535:
            raise UserError(f"--{name.replace('_', '-')} must be 0 .. 65535")
    if not 1 <= args.processes <= 64:
        raise UserError("--processes must be 1 .. 64")
    if args.data and Path(args.data).exists() and not Path(args.data).is_dir():
        raise UserError(f"--data {args.data} is a file, not a folder")
    from mt3620.clock import clock_option
    now = clock_option(args.clock)
    try:
        service = Service(args.data, url=args.db_url or os.environ.get("MT3620_CLOUD_DB_URL"), host=args.host,
                          port=args.port or 0, device_port=args.device_port or 0, now=now,
                          action_timeout=_dt.timedelta(hours=args.action_timeout_hours), keystore_dir=args.keystore,
                          kek_file=args.kek_file, management_tls=True if args.management_tls else None,
                          insecure_http=args.insecure_http, reuse_port=args.processes > 1 or args.reuse_port)
        service.start()
    except OSError as exc:
        raise UserError(f"cannot start the service: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise UserError(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - e.g. a database URL that does not answer
        raise UserError(f"cannot start the service: {_one_line(exc)}") from None
    if args.insecure_http and not service.management_tls:
        print(f"mt3620 cloud: WARNING: management API over plain HTTP on {args.host}: tokens cross the network in "
              "clear", file=sys.stderr)
    if now is not None:
        print(f"mt3620 cloud: test clock: service time starts at {now.start:%Y-%m-%dT%H:%M:%SZ}")
    print(f"mt3620 cloud: management API on {service.mgmt_url} (OpenAPI at {service.mgmt_url}/openapi.json)")
    print(f"mt3620 cloud: device API (mutual TLS) on {service.device_url}")
    print(f"mt3620 cloud: data in {service.data_dir}")
    if service.admin_token:
        print(f"mt3620 cloud: created user 'admin'; token in {service.data_dir / 'admin.token'}")
    sys.stdout.flush()
    if args.reuse_port:       # one of the processes of a `--processes N` service: the first one speaks for it
        return _serve_until_signalled(service)
    helpers = _start_processes(args, service)
    record = running_service_file()
    _record_running(record, service, args)
    _serve_until_signalled(service, helpers)
    try:
        if json.loads(record.read_text()).get("pid") == os.getpid():
            record.unlink()
    except (OSError, ValueError):
        pass
    print("mt3620 cloud: stopped")
    return 0


def _serve_until_signalled(service, helpers=()) -> int:
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    while not done.wait(0.5):
        if any(p.poll() is not None for p in helpers):
            print("mt3620 cloud: a serving process ended; stopping", file=sys.stderr)
            break
    for p in helpers:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in helpers:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
    service.stop()
    return 0


def _start_processes(args, service) -> list:
    """The other `--processes N - 1` processes: the same command on the ports this one bound (SO_REUSEPORT)."""
    argv = [sys.executable, "-m", "mt3620", "cloud", "serve", "--reuse-port", "--host", args.host,
            "--port", str(service.mgmt.port), "--device-port", str(service.device.port), "--data",
            str(service.data_dir), "--db-url", service.url, "--action-timeout-hours", str(args.action_timeout_hours)]
    for flag, value in (("--kek-file", args.kek_file), ("--keystore", args.keystore), ("--clock", args.clock)):
        if value:
            argv += [flag, value]
    argv += [flag for flag, on in (("--management-tls", args.management_tls), ("--insecure-http", args.insecure_http))
             if on]
    helpers = [subprocess.Popen(argv, stdout=subprocess.DEVNULL) for _ in range(args.processes - 1)]
    if helpers:
        print(f"mt3620 cloud: {args.processes} processes serve these ports", flush=True)
    return helpers


def _record_running(path: Path, service, args) -> None:
    from mt3620.clock import wall_clock
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump({"pid": os.getpid(), "data": str(service.data_dir), "db_url": service.url,
                       "kek_file": args.kek_file, "management": service.mgmt_url, "device": service.device_url,
                       "clock_offset": (service.now() - wall_clock()).total_seconds()}, f)
    except OSError as exc:   # operator commands then need --data; serving goes on
        print(f"mt3620 cloud: cannot record the running service in {path}: {exc.strerror or exc}", file=sys.stderr)


def cmd_registry_import(args) -> int:
    from mt3620.cloud.services.registry import parse_list
    try:
        text = Path(args.file).read_text()
    except OSError as exc:
        raise UserError(f"cannot read {args.file}: {exc.strerror or exc}") from None
    added, refused = _operate(args, lambda s: s.registry.register(parse_list(text, args.file),
                                                                  f"import:{Path(args.file).name}"))
    print(f"registered {added} device(s); {len(refused)} refused")
    for device_id, why in refused:
        print(f"  {device_id[:16]}...: {why}")
    return 0 if not refused else 1


def cmd_user_create(args) -> int:
    roles = ("Manufacturing",) if args.manufacturing else ()
    _, token = _operate(args, lambda s: s.users.create(args.name, roles))
    print(token)
    return 0


def cmd_user_token(args) -> int:
    print(_operate(args, lambda s: s.users.rotate_token(args.name)))
    return 0


def cmd_os_release(args) -> int:
    images = []
    if args.images:
        folder = Path(args.images)
        files = sorted(folder.glob("*.imagepackage")) if folder.is_dir() else []
        if not files:
            raise UserError(f"--images {args.images}: no *.imagepackage files (the release's stage images)")
        images = [f.read_bytes() for f in files]
    release = _operate(args, lambda s: s.os_releases.publish(FEEDS[args.feed], args.version, images))
    print(json.dumps({"Feed": release.feed, "Version": release.version}))
    return 0


def cmd_migrate(args) -> int:
    from mt3620.cloud import db, migrate
    engine = db.make_engine(_database_url(args)[0])
    try:
        if args.revision == "base" or (args.down and args.revision):
            migrate.downgrade(engine, args.revision)
        else:
            migrate.upgrade(engine, args.revision)
        print(f"schema revision: {migrate.current(engine) or 'base (empty)'}")
    except Exception as exc:  # noqa: BLE001 - alembic raises several types for a bad revision
        raise UserError(f"migration failed: {exc}") from None
    finally:
        engine.dispose()
    return 0


def _data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", help="data folder (default $MT3620_CLOUD_DATA or ~/.local/share/mt3620/cloud)")
    p.add_argument("--db-url", help="database URL (default SQLite in the data folder; postgresql://... for "
                                    "PostgreSQL; or $MT3620_CLOUD_DB_URL)")
    p.add_argument("--kek-file", help="key-encryption key that seals the stored private keys (default "
                                      "$MT3620_CLOUD_KEK_FILE, else DATA/kek.bin made at first start; PostgreSQL: "
                                      "required, the same file for every service process)")


def add_commands(sub) -> None:
    cloud = sub.add_parser("cloud", help="run and operate the security service (AS3 stand-in)")
    csub = cloud.add_subparsers(dest="cloud_command", metavar="COMMAND")
    cloud.set_defaults(func=lambda a: (cloud.print_help(), 2)[1])
    p = csub.add_parser("serve", help="start the service (loopback by default)")
    _data_args(p)
    p.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="management API port (default: a free port)")
    p.add_argument("--device-port", type=int, default=0, help="device API (mutual TLS) port (default: a free port)")
    p.add_argument("--management-tls", action="store_true",
                   help="serve the management API over TLS on loopback too (always beyond loopback; clients trust "
                        "the service root: `mt3620 azsphere ca-certificate download-root`, `login --ca-file`)")
    p.add_argument("--insecure-http", action="store_true",
                   help="allow the management API over plain HTTP on a non-loopback address (tokens in clear)")
    p.add_argument("--processes", type=int, default=1,
                   help="serving processes sharing the ports and the database (default 1; one per core)")
    p.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)   # one of --processes N
    p.add_argument("--keystore", help="folder of trusted image signing keys (default DATA/keystore; the SDK test "
                                      "key is always trusted)")
    p.add_argument("--action-timeout-hours", type=float, default=48.0,
                   help="hours after which a device that never reports back is marked TimedOut (default 48)")
    # Test-only (docs/cloud.md, "Time"): the service clock starts at this ISO 8601 instant instead of the host's
    # time, so suites can run the service on another day (scripts/run-tests moves it to AS3's last day).
    p.add_argument("--clock", metavar="START", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_serve)
    p = csub.add_parser("user", help="service users (operator side, on the database)")
    usub = p.add_subparsers(dest="user_command", metavar="COMMAND")
    p.set_defaults(func=lambda a: (print("use `mt3620 cloud user create NAME` or `user token NAME`"), 2)[1])
    q = usub.add_parser("create", help="create a user and print its token")
    _data_args(q)
    q.add_argument("name")
    q.add_argument("--manufacturing", action="store_true", help="may enrol devices in the device registry")
    q.set_defaults(func=cmd_user_create)
    q = usub.add_parser("token", help="issue a new token for a user (the old one stops working)")
    _data_args(q)
    q.add_argument("name")
    q.set_defaults(func=cmd_user_token)
    p = csub.add_parser("os-release", help="publish an OS version on a feed (operator side)")
    _data_args(p)
    p.add_argument("--feed", choices=tuple(FEEDS), required=True)
    p.add_argument("--version", required=True)
    p.add_argument("--images", metavar="DIR", help="the release's signed stage images (*.imagepackage), which devices "
                                                   "on the feed download and install")
    p.set_defaults(func=cmd_os_release)
    p = csub.add_parser("registry", help="the device registry (operator side)")
    rsub = p.add_subparsers(dest="registry_command", metavar="COMMAND")
    p.set_defaults(func=lambda a: (print("use `mt3620 cloud registry import FILE`"), 2)[1])
    q = rsub.add_parser("import", help="import the manufacturer's list: DEVICE_ID,ATTESTATION_PUBLIC_KEY per line")
    _data_args(q)
    q.add_argument("file")
    q.set_defaults(func=cmd_registry_import)
    p = csub.add_parser("migrate", help="migrate the database schema (alembic) up or down")
    _data_args(p)
    p.add_argument("--revision", default="head", help="head (default), base, or a revision ID")
    p.add_argument("--down", action="store_true", help="downgrade to --revision")
    p.set_defaults(func=cmd_migrate)
