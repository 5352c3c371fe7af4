"""What every service shares: the database (one transaction per operation), the service clock, input checks.

Several processes may share one database: uniqueness (claims, CA generations, registrations) is enforced by the database
(primary keys, DELETE ... RETURNING), never by an in-process check alone.
"""
from __future__ import annotations

import datetime as _dt
import unicodedata
import uuid

from sqlalchemy import Table, and_, select
from sqlalchemy.engine import Connection, Engine

from mt3620.clock import Now

from .. import db
from ..domain import Invalid, NotFound

UTC = _dt.timezone.utc


class Database:
    """The engine and its transactions: `with database.write() as c:` commits on success, rolls back on error."""

    def __init__(self, url: str) -> None:
        self.url = db.normalise_url(url)
        self.engine: Engine = db.make_engine(self.url)

    def write(self, durable: bool = True) -> "_Tx":
        """A write transaction. `durable` False (SQLite): committed without waiting for the disk (synchronous=NORMAL
        for this transaction: safe against a killed process, made durable by the next durable commit or checkpoint;
        an OS crash may lose it). Only for bookkeeping whose loss is harmless (last-seen times)."""
        return _Tx(self.engine, write=True, durable=durable)

    def read(self) -> "_Tx":
        return _Tx(self.engine, write=False)

    def close(self) -> None:
        self.engine.dispose()


class _Tx:
    def __init__(self, engine: Engine, write: bool, durable: bool = True) -> None:
        self.engine, self.write = engine, write
        self.relaxed = write and not durable and engine.dialect.name == "sqlite"

    def __enter__(self) -> Connection:
        self.conn = self.engine.connect().execution_options(mt_write=self.write)
        if self.relaxed:   # on the driver's connection: through SQLAlchemy it would open a transaction first
            self.conn.connection.driver_connection.execute("PRAGMA synchronous=NORMAL")
        self.tx = self.conn.begin()
        return self.conn

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self.tx.commit()
            else:
                self.tx.rollback()
        finally:
            if self.relaxed:
                self.conn.connection.driver_connection.execute("PRAGMA synchronous=FULL")
            self.conn.close()


class Service:
    """A service over one aggregate: the shared database and the service clock (docs/cloud.md, "Time")."""

    def __init__(self, database: Database, now: Now) -> None:
        self.db = database
        self.now = now

    def _one(self, table: Table, tenant_id: str, key: str, what: str, columns=None):
        """The row of `table` with ID `key` (a GUID) in `tenant_id`; NotFound(what) when there is none."""
        key = guid(key, f"{what} ID")
        with self.db.read() as c:
            r = c.execute(select(*(columns or table.c)).where(and_(table.c.tenant_id == tenant_id,
                                                                   table.c.id == key))).first()
        if r is None:
            raise NotFound(what)
        return r


def guid(value, what: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, AttributeError, TypeError):
        raise Invalid(f"{what} is not a GUID: {value!r}") from None


def device_id(value) -> str:
    """A device ID: 128 hex digits (64 bytes), returned upper-case."""
    text = str(value).strip()
    if len(text) != 128:
        raise Invalid(f"a device ID is 128 hex characters (64 bytes), got {len(text)}")
    try:
        bytes.fromhex(text)
    except ValueError:
        raise Invalid("device ID is not hexadecimal") from None
    return text.upper()


def name(value, what: str, limit: int = 200) -> str:
    text = (value or "").strip()
    if not text or len(text) > limit:
        raise Invalid(f"{what} must be 1 to {limit} characters")
    if any(unicodedata.category(c) == "Cc" for c in text):
        raise Invalid(f"{what} must not contain control characters")
    return text


def iso(t: _dt.datetime | None) -> str | None:
    return None if t is None else t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
