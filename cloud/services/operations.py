"""Long-running operations (image upload, bulk claim): recorded at once (the API answers 202), run by a worker of
any process sharing the database. Taking one is a conditional UPDATE, so two workers never run the same one; a
worker that dies leaves a lease that expires after OPERATION_LEASE."""
from __future__ import annotations

import datetime as _dt
import json
import logging
from typing import Callable

from sqlalchemy import and_, insert, select, update

from .. import pki
from ..db import operations
from ..domain import DomainError, Operation, User
from .base import Service

log = logging.getLogger("mt3620.cloud.operations")
OPERATION_LEASE = _dt.timedelta(minutes=5)      # an InProgress operation whose worker died is taken over after this

# kind -> runner(tenant_id, payload bytes) -> result document (JSON-serialisable)
Runner = Callable[[str, bytes], dict]


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
            taken = c.execute(update(operations).where(and_(operations.c.id == cand, runnable))
                              .values(state="InProgress", updated_at=now, lease_until=now + OPERATION_LEASE)).rowcount
            row = c.execute(select(operations).where(operations.c.id == cand)).first() if taken else None
        if row is None:
            return True
        try:
            result = self.runners[row.kind](row.tenant_id, bytes(row.payload))
            state, values = "Complete", {"result": json.dumps(result), "payload": None}
        except DomainError as exc:
            state, values = "Failed", {"error": json.dumps({"Code": exc.code, "Message": exc.message}),
                                       "payload": None}
        except Exception as exc:  # noqa: BLE001 - an operation must end Failed, never stay InProgress
            log.exception("operation %s (%s) failed", row.id, row.kind)
            state, values = "Failed", {"error": json.dumps({"Code": "InternalError", "Message": str(exc)}),
                                       "payload": None}
        with self.db.write() as c:
            c.execute(update(operations).where(operations.c.id == cand)
                      .values(state=state, updated_at=self.now(), lease_until=None, **values))
        return True
