"""Long-running operations (image upload, bulk claim): recorded at once (the API answers 202), run by a worker of
any process sharing the database. Taking one is a conditional UPDATE, so two workers never run the same one. The
lease names its holder (host:pid): a process starting on a host takes back at once the operations whose holder on
that host is no longer running (killed mid-operation), and any worker takes over a lease that expired
(OPERATION_LEASE: a holder on another host that died). Runners are idempotent, so a resumed operation ends as if
it had run once."""
from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import socket
from typing import Callable

from sqlalchemy import and_, insert, select, update

from .. import pki
from ..db import operations
from ..domain import DomainError, Operation, User
from .base import Service

log = logging.getLogger("mt3620.cloud.operations")
OPERATION_LEASE = _dt.timedelta(minutes=5)      # an InProgress operation whose worker died is taken over after this

# kind -> runner(tenant_id, payload bytes, resumed) -> result document (JSON-serialisable)
Runner = Callable[[str, bytes, bool], dict]
HOST = socket.gethostname()


def worker_id() -> str:
    return f"{HOST}:{os.getpid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _operation(r) -> Operation:
    error = None
    if r.error:
        e = json.loads(r.error)
        error = (e.get("Code", "InternalError"), e.get("Message", ""))
    return Operation(r.id, r.tenant_id, r.kind, r.state, r.created_at, r.updated_at,
                     json.loads(r.result) if r.result else None, error)


class OperationService(Service):
    def __init__(self, database, now) -> None:
        super().__init__(database, now)
        self.runners: dict[str, Runner] = {}

    def create(self, tenant_id: str, kind: str, payload: bytes, user: User) -> Operation:
        if kind not in self.runners:
            raise ValueError(f"no runner for operation kind {kind}")
        oid, now = pki.new_id(), self.now()
        with self.db.write() as c:
            c.execute(insert(operations).values(id=oid, tenant_id=tenant_id, kind=kind, state="NotStarted",
                                                payload=payload, created_by=user.name, created_at=now, updated_at=now))
        return self.get(tenant_id, oid)

    def record(self, tenant_id: str, kind: str, result: dict, user: User) -> Operation:
        """An operation the request completed itself (product and tenant creation): recorded Complete, so clients
        that poll it, as the real API's 202 answers invite, find it done."""
        oid, now = pki.new_id(), self.now()
        with self.db.write() as c:
            c.execute(insert(operations).values(id=oid, tenant_id=tenant_id, kind=kind, state="Complete", payload=None,
                                                result=json.dumps(result), created_by=user.name, created_at=now,
                                                updated_at=now))
        return self.get(tenant_id, oid)

    def get(self, tenant_id: str, operation_id: str) -> Operation:
        return _operation(self._one(operations, tenant_id, operation_id, "operation"))

    def run_next(self) -> bool:
        """Take one pending operation (or one whose worker's lease ran out) and run it. True if one ran."""
        now = self.now()
        runnable = ((operations.c.state == "NotStarted")
                    | ((operations.c.state == "InProgress") & (operations.c.lease_until < now)))
        with self.db.read() as c:
            cand = c.execute(select(operations.c.id).where(runnable)
                             .order_by(operations.c.created_at).limit(1)).scalar()
        if cand is None:
            return False
        with self.db.write() as c:
            before = c.execute(select(operations.c.state).where(operations.c.id == cand)).scalar()
            taken = c.execute(update(operations).where(and_(operations.c.id == cand, runnable))
                              .values(state="InProgress", updated_at=now, lease_until=now + OPERATION_LEASE,
                                      lease_owner=worker_id())).rowcount
            row = c.execute(select(operations).where(operations.c.id == cand)).first() if taken else None
        if row is None:
            return True
        try:
            result = self.runners[row.kind](row.tenant_id, bytes(row.payload), before == "InProgress")
            # A bulk operation some of whose items failed completed with errors (the real API's state 4).
            state = "CompleteWithErrors" if result.get("Failed") else "Complete"
            values = {"result": json.dumps(result), "payload": None}
        except DomainError as exc:
            state, values = "Failed", {"error": json.dumps({"Code": exc.code, "Message": exc.message}),
                                       "payload": None}
        except Exception as exc:  # noqa: BLE001 - an operation must end Failed, never stay InProgress
            log.exception("operation %s (%s) failed", row.id, row.kind)
            state, values = "Failed", {"error": json.dumps({"Code": "InternalError", "Message": str(exc)}),
                                       "payload": None}
        with self.db.write() as c:
            c.execute(update(operations).where(operations.c.id == cand)
                      .values(state=state, updated_at=self.now(), lease_until=None, lease_owner=None, **values))
        return True

    def recover(self) -> int:
        """At start: release the leases held by processes of this host that are gone (killed mid-operation), so
        their operations resume now instead of when the lease runs out. Returns how many."""
        now = self.now()
        with self.db.write() as c:
            held = c.execute(select(operations.c.id, operations.c.lease_owner).where(and_(
                operations.c.state == "InProgress", operations.c.lease_owner.like(f"{HOST}:%")))).all()
            dead = [r.id for r in held if r.lease_owner.rsplit(":", 1)[1].isdigit()
                    and not _alive(int(r.lease_owner.rsplit(":", 1)[1]))]
            if dead:
                c.execute(update(operations).where(operations.c.id.in_(dead))
                          .values(lease_until=now - _dt.timedelta(seconds=1)))
        for op_id in dead:
            log.info("operation %s: its worker died; resuming it", op_id)
        return len(dead)
