"""Users, their tokens and their roles in tenants."""
from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from .. import pki
from ..db import role_assignments, users
from ..domain import ROLES, Conflict, Invalid, NotFound, RoleAssignment, User
from .base import Service, name as checked_name

TOKEN_PREFIX = "mt3620_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class UserService(Service):
    def create(self, user_name: str) -> tuple[User, str]:
        """A new user and its token (only its hash is stored)."""
        user_name = checked_name(user_name, "user name")
        token = new_token()
        user = User(pki.new_id(), user_name)
        try:
            with self.db.write() as c:
                c.execute(insert(users).values(id=user.id, name=user_name, token_sha256=hash_token(token),
                                               created_at=self.now()))
        except IntegrityError:
            raise Conflict(f"user {user_name!r} already exists") from None
        return user, token

    def rotate_token(self, user_name: str) -> str:
        token = new_token()
        with self.db.write() as c:
            n = c.execute(update(users).where(users.c.name == user_name)
                          .values(token_sha256=hash_token(token))).rowcount
        if not n:
            raise NotFound(f"user {user_name!r}")
        return token

    def count(self) -> int:
        with self.db.read() as c:
            return c.execute(select(func.count()).select_from(users)).scalar_one()

    def authenticate(self, token: str) -> User | None:
        with self.db.read() as c:
            row = c.execute(select(users.c.id, users.c.name)
                            .where(users.c.token_sha256 == hash_token(token))).first()
        return User(row.id, row.name) if row else None

    # ---- roles ----------------------------------------------------------------------------------------------
    def role_of(self, user: User, tenant_id: str) -> str | None:
        with self.db.read() as c:
            return c.execute(select(role_assignments.c.role).where(and_(
                role_assignments.c.tenant_id == tenant_id, role_assignments.c.user_id == user.id))).scalar()

    def roles(self, tenant_id: str) -> list[RoleAssignment]:
        with self.db.read() as c:
            rows = c.execute(select(users.c.name, role_assignments.c.role)
                             .join(users, users.c.id == role_assignments.c.user_id)
                             .where(role_assignments.c.tenant_id == tenant_id).order_by(users.c.name)).all()
        return [RoleAssignment(r.name, r.role) for r in rows]

    def grant(self, tenant_id: str, user_name: str, role: str) -> RoleAssignment:
        if role not in ROLES:
            raise Invalid(f"role must be one of {', '.join(ROLES)}")
        with self.db.write() as c:
            uid = c.execute(select(users.c.id).where(users.c.name == user_name)).scalar()
            if uid is None:
                raise NotFound(f"user {user_name!r}")
            existing = self._role(c, tenant_id, uid)
            if existing is None:
                c.execute(insert(role_assignments).values(tenant_id=tenant_id, user_id=uid, role=role))
            else:
                if existing == "Administrator" and role != "Administrator":
                    self._keep_one_admin(c, tenant_id, uid)
                c.execute(update(role_assignments).where(and_(role_assignments.c.tenant_id == tenant_id,
                                                              role_assignments.c.user_id == uid)).values(role=role))
        return RoleAssignment(user_name, role)

    def revoke(self, tenant_id: str, user_name: str) -> None:
        with self.db.write() as c:
            uid = c.execute(select(users.c.id).where(users.c.name == user_name)).scalar()
            role = None if uid is None else self._role(c, tenant_id, uid)
            if role is None:
                raise NotFound(f"role of user {user_name!r}")
            if role == "Administrator":
                self._keep_one_admin(c, tenant_id, uid)
            c.execute(delete(role_assignments).where(and_(role_assignments.c.tenant_id == tenant_id,
                                                          role_assignments.c.user_id == uid)))

    @staticmethod
    def _role(c: Connection, tenant_id: str, uid: str) -> str | None:
        return c.execute(select(role_assignments.c.role).where(and_(
            role_assignments.c.tenant_id == tenant_id, role_assignments.c.user_id == uid))).scalar()

    @staticmethod
    def _keep_one_admin(c: Connection, tenant_id: str, uid: str) -> None:
        admins = c.execute(select(func.count()).select_from(role_assignments).where(and_(
            role_assignments.c.tenant_id == tenant_id, role_assignments.c.role == "Administrator",
            role_assignments.c.user_id != uid))).scalar_one()
        if admins == 0:
            raise Conflict("a tenant must keep at least one Administrator")
