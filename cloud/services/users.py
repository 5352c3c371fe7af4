"""Users, their tokens (with a lifetime; rotation issues a new one and ends the old), their roles in tenants and
their service-wide roles (Manufacturing)."""
from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

import datetime as _dt

from .. import pki
from ..db import role_assignments, service_roles, users
from ..domain import ROLES, SERVICE_ROLES, Conflict, Invalid, NotFound, RoleAssignment, Unauthenticated, User
from .base import Service, iso, name as checked_name

TOKEN_PREFIX = "mt3620_"
DEFAULT_TOKEN_LIFETIME = _dt.timedelta(days=30)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class UserService(Service):
    def __init__(self, database, now, token_lifetime: _dt.timedelta = DEFAULT_TOKEN_LIFETIME) -> None:
        super().__init__(database, now)
        self.token_lifetime = token_lifetime

    def create(self, user_name: str, roles: tuple[str, ...] = ()) -> tuple[User, str]:
        """A new user and its token (only its hash is stored), with service-wide `roles` (e.g. Manufacturing)."""
        user_name = checked_name(user_name, "user name")
        bad = [r for r in roles if r not in SERVICE_ROLES]
        if bad:
            raise Invalid(f"service roles are {', '.join(SERVICE_ROLES)}, not {', '.join(bad)}")
        token = new_token()
        user = User(pki.new_id(), user_name)
        now = self.now()
        try:
            with self.db.write() as c:
                c.execute(insert(users).values(id=user.id, name=user_name, token_sha256=hash_token(token),
                                               created_at=now, token_expires_at=now + self.token_lifetime))
                for role in roles:
                    c.execute(insert(service_roles).values(user_id=user.id, role=role))
        except IntegrityError:
            raise Conflict(f"user {user_name!r} already exists") from None
        return user, token

    def rotate_token(self, user_name: str) -> str:
        """A new token for the user; the old one stops working at once."""
        token = new_token()
        with self.db.write() as c:
            n = c.execute(update(users).where(users.c.name == user_name)
                          .values(token_sha256=hash_token(token),
                                  token_expires_at=self.now() + self.token_lifetime)).rowcount
        if not n:
            raise NotFound(f"user {user_name!r}")
        return token

    def token_expiry(self, user: User) -> _dt.datetime | None:
        with self.db.read() as c:
            return c.execute(select(users.c.token_expires_at).where(users.c.id == user.id)).scalar()

    def grant_service_role(self, user_name: str, role: str) -> None:
        if role not in SERVICE_ROLES:
            raise Invalid(f"service roles are {', '.join(SERVICE_ROLES)}")
        with self.db.write() as c:
            uid = self._user_id(c, user_name)
            if c.execute(select(service_roles.c.role).where(and_(service_roles.c.user_id == uid,
                                                                 service_roles.c.role == role))).first() is None:
                c.execute(insert(service_roles).values(user_id=uid, role=role))

    def service_roles(self, user: User) -> frozenset[str]:
        with self.db.read() as c:
            return frozenset(r.role for r in c.execute(select(service_roles.c.role)
                                                        .where(service_roles.c.user_id == user.id)))

    def count(self) -> int:
        with self.db.read() as c:
            return c.execute(select(func.count()).select_from(users)).scalar_one()

    def authenticate(self, token: str) -> User:
        """The user of a token; Unauthenticated when it is unknown or past its lifetime."""
        with self.db.read() as c:
            row = c.execute(select(users.c.id, users.c.name, users.c.token_expires_at)
                            .where(users.c.token_sha256 == hash_token(token))).first()
        if row is None:
            raise Unauthenticated("the token is not valid")
        if row.token_expires_at is None or self.now() >= row.token_expires_at:
            raise Unauthenticated(f"the token expired {iso(row.token_expires_at) or 'long ago'}: get a new one "
                                  f"(`mt3620 azsphere login --rotate`, or the operator's `mt3620 cloud user token "
                                  f"{row.name}`)", "TokenExpired")
        return User(row.id, row.name)

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
            uid = self._user_id(c, user_name)
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
    def _user_id(c: Connection, user_name: str) -> str:
        uid = c.execute(select(users.c.id).where(users.c.name == user_name)).scalar()
        if uid is None:
            raise NotFound(f"user {user_name!r}")
        return uid

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
