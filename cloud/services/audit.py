"""The audit log: every management write (POST, PUT, PATCH, DELETE), answered or refused, with who, when, what."""
from __future__ import annotations

from dataclasses import dataclass
import datetime as _dt

from sqlalchemy import and_, insert, select

from ..db import audit_log
from .base import Service

MAX_PAGE = 1000


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: _dt.datetime
    user: str | None
    tenant_id: str | None
    method: str
    path: str
    operation: str
    status: int
    detail: str


class AuditService(Service):
    def record(self, user: str | None, tenant_id: str | None, method: str, path: str, operation: str, status: int,
               detail: str = "") -> None:
        with self.db.write() as c:
            c.execute(insert(audit_log).values(at=self.now(), user_name=user, tenant_id=tenant_id, method=method,
                                               path=path[:400], operation=operation[:64], status=status,
                                               detail=detail[:2000]))

    def entries(self, tenant_id: str | None, before: int | None = None, limit: int = 100) -> list[AuditEntry]:
        """Newest first; `tenant_id` None: the service-wide writes (no tenant)."""
        q = select(audit_log).where(audit_log.c.tenant_id == tenant_id if tenant_id is not None
                                    else audit_log.c.tenant_id.is_(None))
        if before is not None:
            q = q.where(and_(audit_log.c.id < before))
        with self.db.read() as c:
            rows = c.execute(q.order_by(audit_log.c.id.desc()).limit(min(limit, MAX_PAGE))).all()
        return [AuditEntry(r.id, r.at, r.user_name, r.tenant_id, r.method, r.path, r.operation, r.status, r.detail)
                for r in rows]
