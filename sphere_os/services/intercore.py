"""Intercore: Application_Connect's sockets from a high-level app to an RTApp, over the A7<->IO-core mailboxes and
the shared buffers (MT3620-FACTS "Intercore protocol"; peripherals/mailbox/intercore.py does the ring work).

Interface, as the Azure Sphere kernel has it (crpietschmann/AzureSphereOS net/azspio/azspio.c,
include/uapi/linux/azspio.h, drivers/platform/azure_sphere/io_core_comm.c): socket family AF_AZSPIO (43),
SOCK_DGRAM only; connect() with struct sockaddr_azspio {sa_family_t 43; u16 sa_port = 0; u8 component_id[16]}
(the GUID in its little-endian byte layout); one socket per (app, peer) pair (EADDRINUSE for a second), a peer the
communication allow-list does not hold is EPERM at connect. The allow-list is what the application manager derives
from the manifests: the high-level app lists the RTApp in AllowedApplicationConnections and the RTApp (running on an
IO core from a package, whose manifest the OS reads) lists the app. Each send() is one message of at most 1024
bytes (EMSGSIZE), queued in the A7's outbound ring with the sender's component ID; recv() returns one message.

Emulator-defined (docs/EMULATOR-DEFINED.md): the buffers of IO core n are at 0x20100000 + 0x2000*n (inbound,
then outbound, 4 KiB each; platforms/blocks/memory.repl intercore_shared); the connection to a core is set up (the
0xBA5E000x mailbox commands) on the first connect to an RTApp there; a full ring makes send() wait (or EAGAIN
non-blocking) until the RTApp raises its "consumed" interrupt.
"""
from __future__ import annotations

import logging
import struct
import uuid
from collections import deque

from mt3620.engine.linux.abi import (EADDRINUSE, ECONNREFUSED, ECONNRESET, EINVAL, EISCONN, EMSGSIZE, ENOTCONN,
                                     EPERM, ESOCKTNOSUPPORT, POLLIN, POLLOUT)
from mt3620.engine.linux.errors import LinuxError
from mt3620.engine.linux.sockets import MSG_PEEK, SOCK_DGRAM, SocketFile
from mt3620.engine.linux.waiting import WouldBlock
from mt3620.peripherals.mailbox.intercore import (DEFAULT_BUFFER_BASE, MAX_PAYLOAD, IntercoreA7Endpoint,
                                                  IntercoreError)

from . import Service

log = logging.getLogger("mt3620.os")

AF_AZSPIO = 43
SOCKADDR = struct.Struct("<HH16s")
CORE_STRIDE = 0x2000
RX_QUEUE = 64                      # messages kept per socket (emulator-defined); more are dropped


class IntercoreService(Service):
    name = "intercore"

    def __init__(self, os) -> None:
        super().__init__(os)
        self.endpoints: dict[str, IntercoreA7Endpoint] = {}
        self.sockets: dict[tuple[str, str], AzspioSocket] = {}      # (app cid, peer cid) -> socket
        self.kernel.socket_families[AF_AZSPIO] = self._socket

    def _socket(self, ctx, sock_type: int, protocol: int) -> "AzspioSocket":
        if sock_type != SOCK_DGRAM:
            raise LinuxError(ESOCKTNOSUPPORT)
        return AzspioSocket(ctx, self, sock_type, protocol)

    # ---- the RTApps and their connections ---------------------------------------------------------------------------
    def rtapp_core(self, component_id: str) -> tuple[str, object] | None:
        """(core, manifest) of the RTApp with this component ID running on an IO core, from its package."""
        from ..manifest import ManifestError, parse_manifest
        for core in ("io0", "io1"):
            package = getattr(self.machine, "app_packages", {}).get(core)
            if package is None or str(package.component_id) != component_id:
                continue
            try:
                return core, parse_manifest(package.manifest())
            except (ManifestError, ValueError) as exc:
                log.warning("a7: RTApp on %s has an unusable manifest: %s", core, exc)
                return None
        return None

    def endpoint(self, core: str) -> IntercoreA7Endpoint:
        ep = self.endpoints.get(core)
        if ep is None:
            channel = self.machine.shared_objects[f"mbox_a7_{core}"]
            base = DEFAULT_BUFFER_BASE + CORE_STRIDE * (1 if core == "io1" else 0)
            ep = IntercoreA7Endpoint(channel, self.machine.view("a7"), bytes(16), inbound_addr=base,
                                     outbound_addr=base + 0x1000)
            ep.start()
            channel.add_sw_listener(lambda to_side, bits, core=core: self._interrupt(core, to_side, bits))
            self.endpoints[core] = ep
        return ep

    def _interrupt(self, core: str, to_side: int, bits: int) -> None:
        ep = self.endpoints.get(core)
        if ep is None or to_side != ep.side:
            return
        self.machine.clock.schedule(0, lambda: self.drain(core), f"intercore {core}")

    def drain(self, core: str) -> None:
        """Messages the RTApp queued go to the sockets they are addressed to; writers waiting for room wake."""
        ep = self.endpoints[core]
        while True:
            try:
                message = ep.receive()
            except IntercoreError as exc:
                log.warning("a7: intercore with %s halted: %s", core, exc)
                break
            if message is None:
                break
            cid_bytes, payload = message
            target = str(uuid.UUID(bytes_le=cid_bytes)) if len(cid_bytes) == 16 else None
            for sock in self.sockets.values():
                if sock.core == core and sock.app_cid == target:
                    sock.deliver(payload)
                    break
            else:
                log.info("a7: intercore message from %s for %s: no socket, dropped", core, target)
        for sock in self.sockets.values():
            if sock.core == core:
                sock.changed()


class AzspioSocket(SocketFile):
    def __init__(self, ctx, service: IntercoreService, sock_type: int, protocol: int) -> None:
        super().__init__(ctx, AF_AZSPIO, sock_type, protocol)
        self.service = service
        app = service.app(ctx)
        self.app_cid = app.component_id if app is not None else str(uuid.UUID(int=0))
        self.peer: str | None = None
        self.core: str | None = None
        self.queue: deque[bytes] = deque()

    def connect(self, address: bytes) -> int:
        if len(address) < SOCKADDR.size:
            raise LinuxError(EINVAL)
        family, port, cid = SOCKADDR.unpack_from(address)
        if family != AF_AZSPIO or port != 0:
            raise LinuxError(EINVAL)
        if self.peer is not None:
            raise LinuxError(EISCONN)
        peer = str(uuid.UUID(bytes_le=cid))
        svc = self.service
        if (self.app_cid, peer) in svc.sockets:
            raise LinuxError(EADDRINUSE)
        caps = svc.capabilities(self.context)
        found = svc.rtapp_core(peer)
        allowed = peer in caps.allowed_application_connections and found is not None and \
            self.app_cid in found[1].capabilities.allowed_application_connections
        if not allowed:
            svc.os.log_denied(svc.app(self.context), f"a connection to component {peer}")
            raise LinuxError(EPERM)
        self.peer, self.core = peer, found[0]
        try:
            svc.endpoint(self.core)
        except IntercoreError as exc:
            log.warning("a7: intercore setup with %s failed: %s", self.core, exc)
            raise LinuxError(ECONNREFUSED) from None
        svc.sockets[(self.app_cid, peer)] = self
        return 0

    def deliver(self, payload: bytes) -> None:
        if len(self.queue) < RX_QUEUE:
            self.queue.append(payload)

    def sendto(self, data: bytes, flags: int, address: bytes | None) -> int:
        if self.peer is None:
            raise LinuxError(ENOTCONN)
        if len(data) > MAX_PAYLOAD:
            raise LinuxError(EMSGSIZE)
        ep = self.service.endpoint(self.core)
        try:
            ep.send(data, uuid.UUID(self.app_cid).bytes_le)
        except IntercoreError as exc:
            if "full" in str(exc):
                raise WouldBlock() from None      # the ring is full: wait for the RTApp to consume
            # the RTApp broke the protocol (positions outside the ring): the connection is reset, as the
            # kernel's io_core_comm halts a connection it cannot trust
            log.warning("a7: intercore with %s: %s", self.core, exc)
            raise LinuxError(ECONNRESET) from None
        return len(data)

    def recvfrom(self, count: int, flags: int) -> tuple[bytes, bytes | None]:
        if self.peer is None:
            raise LinuxError(ENOTCONN)
        if not self.queue:
            self.service.drain(self.core)
        if not self.queue:
            raise WouldBlock()
        data = self.queue[0] if flags & MSG_PEEK else self.queue.popleft()
        return data, SOCKADDR.pack(AF_AZSPIO, 0, uuid.UUID(self.peer).bytes_le)

    def poll(self) -> int:
        return (POLLIN if self.queue else 0) | POLLOUT

    def peername(self) -> bytes:
        if self.peer is None:
            raise LinuxError(ENOTCONN)
        return SOCKADDR.pack(AF_AZSPIO, 0, uuid.UUID(self.peer).bytes_le)

    def sockname(self) -> bytes:
        return SOCKADDR.pack(AF_AZSPIO, 0, uuid.UUID(self.app_cid).bytes_le)

    def release(self) -> None:
        if self.peer is not None:
            self.service.sockets.pop((self.app_cid, self.peer), None)
