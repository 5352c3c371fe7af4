"""`mt3620` command line: each part of the project contributes its sub-commands through `add_commands`.

A part's module defines `add_commands(subparsers)` and registers parsers whose `func(args) -> int` runs the
command. Errors a user can cause (bad files, bad arguments) are reported in one line, never as a traceback.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import sys

from mt3620.errors import UserError

# Modules that contribute sub-commands, in the order they appear in --help.
COMMAND_MODULES = (
    "mt3620.cli.run",            # run, demo
    "mt3620.cli.device",         # device id, device run (the emulated device and the security service)
    "mt3620.cli.image_package",  # image-package
    "mt3620.cli.renode",         # renode-bridge, renode-lint
    "mt3620.cli.cloud",          # cloud serve, user, os-release, migrate (the security service)
    "mt3620.cli.azsphere",       # the azsphere-shaped management commands of the security service
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mt3620", description="MT3620 (Azure Sphere) emulator and security service")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-v info, -vv debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and (exc.name == name or name.startswith(exc.name + ".")):
                continue  # that part is not installed in this tree
            raise
        module.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=(logging.WARNING, logging.INFO, logging.DEBUG)[min(args.verbose, 2)],
                        format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"mt3620: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mt3620: interrupted", file=sys.stderr)
        return 130
    except (OSError, ValueError) as exc:
        print(f"mt3620: error: {exc}", file=sys.stderr)
        return 2

