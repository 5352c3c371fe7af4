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


def _database_url(args) -> str:
    from mt3620.cloud.db import sqlite_url
    from mt3620.cloud.server import default_data_dir
    url = args.db_url or os.environ.get("MT3620_CLOUD_DB_URL")
    if not url:   # the embedded database lives in the data folder
        data = Path(args.data) if args.data else default_data_dir()
        data.mkdir(parents=True, exist_ok=True)
        url = sqlite_url(data)
    return url


def _services(args):
    from mt3620.cloud.services import Services
    try:
        return Services(_database_url(args), kek_file=args.kek_file).initialise()
    except OSError:
        raise
    except Exception as exc:  # noqa: BLE001 - unreachable database, bad URL
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
    if args.data and Path(args.data).exists() and not Path(args.data).is_dir():
        raise UserError(f"--data {args.data} is a file, not a folder")
    from mt3620.clock import clock_option
    now = clock_option(args.clock)
    try:
        service = Service(args.data, url=args.db_url or os.environ.get("MT3620_CLOUD_DB_URL"), host=args.host,
                          port=args.port or 0, device_port=args.device_port or 0, now=now,
                          action_timeout=_dt.timedelta(hours=args.action_timeout_hours), keystore_dir=args.keystore,
                          kek_file=args.kek_file)
        service.start()
    except OSError as exc:
        raise UserError(f"cannot start the service: {exc.strerror or exc}") from None
    except Exception as exc:  # noqa: BLE001 - e.g. a database URL that does not answer
        raise UserError(f"cannot start the service: {_one_line(exc)}") from None
    if now is not None:
        print(f"mt3620 cloud: test clock: service time starts at {now.start:%Y-%m-%dT%H:%M:%SZ}")
    print(f"mt3620 cloud: management API on {service.mgmt_url} (OpenAPI at {service.mgmt_url}/openapi.json)")
    print(f"mt3620 cloud: device API (mutual TLS) on {service.device_url}")
    print(f"mt3620 cloud: data in {service.data_dir}")
    if service.admin_token:
        print(f"mt3620 cloud: created user 'admin'; token in {service.data_dir / 'admin.token'}")
    sys.stdout.flush()
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    while not done.wait(0.5):
        pass
    service.stop()
    print("mt3620 cloud: stopped")
    return 0


def cmd_user_create(args) -> int:
    _, token = _operate(args, lambda s: s.users.create(args.name))
    print(token)
    return 0


def cmd_user_token(args) -> int:
    print(_operate(args, lambda s: s.users.rotate_token(args.name)))
    return 0


def cmd_os_release(args) -> int:
    release = _operate(args, lambda s: s.os_releases.publish(FEEDS[args.feed], args.version))
    print(json.dumps({"Feed": release.feed, "Version": release.version}))
    return 0


def cmd_migrate(args) -> int:
    from mt3620.cloud import db, migrate
    engine = db.make_engine(_database_url(args))
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
    q.set_defaults(func=cmd_user_create)
    q = usub.add_parser("token", help="issue a new token for a user (the old one stops working)")
    _data_args(q)
    q.add_argument("name")
    q.set_defaults(func=cmd_user_token)
    p = csub.add_parser("os-release", help="publish an OS version on a feed (operator side)")
    _data_args(p)
    p.add_argument("--feed", choices=tuple(FEEDS), required=True)
    p.add_argument("--version", required=True)
    p.set_defaults(func=cmd_os_release)
    p = csub.add_parser("migrate", help="migrate the database schema (alembic) up or down")
    _data_args(p)
    p.add_argument("--revision", default="head", help="head (default), base, or a revision ID")
    p.add_argument("--down", action="store_true", help="downgrade to --revision")
    p.set_defaults(func=cmd_migrate)
