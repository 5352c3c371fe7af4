"""GDB Remote Serial Protocol server for the emulated MT3620: one loopback port per core, all-stop.

    from mt3620.engine.gdb import GdbServer
    server = GdbServer(machine, {"io0": 3334})    # polled from machine.between_windows
    machine.run(...)
    server.close()

See docs/gdb.md.
"""
from .server import GdbServer, GdbServerError

__all__ = ["GdbServer", "GdbServerError"]
