"""Database schema and engine: SQLAlchemy Core tables, SQLite (embedded default) or PostgreSQL.

The schema is created and changed only by the alembic migrations in migrations/versions (tests check that the
migrated schema equals these declarations). SQLite runs in WAL mode with synchronous=FULL, so a killed service
loses no committed transaction and several processes can share one file; write transactions start with
BEGIN IMMEDIATE so two writers queue on the busy timeout instead of failing on a lock upgrade.
"""
from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path

from sqlalchemy import (Boolean, Column, ForeignKey, Index, Integer, LargeBinary, MetaData, String, Table, Text,
                        UniqueConstraint, create_engine, event)
from sqlalchemy.engine import Engine
from sqlalchemy.types import DateTime, TypeDecorator

UTC = _dt.timezone.utc
metadata = MetaData()


class UtcDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone: stored as naive UTC)."""
    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


ID = lambda: String(36)  # noqa: E731  GUIDs as canonical lower-case strings
DEVICE_ID = lambda: String(128)  # noqa: E731  128 upper-case hex characters

service_secrets = Table(
    "service_secrets", metadata,
    Column("name", String(64), primary_key=True),
    Column("cert_pem", Text, nullable=False),
    Column("key_pem", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

users = Table(
    "users", metadata,
    Column("id", ID(), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("token_expires_at", UtcDateTime, nullable=True),     # NULL: issued before tokens expired (refused)
)

# Service-wide roles, outside any tenant (Manufacturing: enrols devices in the registry).
service_roles = Table(
    "service_roles", metadata,
    Column("user_id", ID(), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(32), primary_key=True),
)

# Every chip the service will accept: its device ID and attestation public key, as the manufacturer enrolled it
# (Microsoft keeps such a registry of every chip's Pluton key). A claim binds a registered device to a tenant.
device_registry = Table(
    "device_registry", metadata,
    Column("device_id", DEVICE_ID(), primary_key=True),
    Column("attestation_key", String(128), nullable=False),
    Column("registered_at", UtcDateTime, nullable=False),
    Column("registered_by", String(200), nullable=False),
)

# Every management write (POST, PUT, PATCH, DELETE), answered or refused.
audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("user_name", String(200), nullable=True),
    Column("tenant_id", ID(), nullable=True),
    Column("method", String(8), nullable=False),
    Column("path", String(400), nullable=False),
    Column("operation", String(64), nullable=False),
    Column("status", Integer, nullable=False),
    Column("detail", Text, nullable=False),
    Index("ix_audit_log_tenant", "tenant_id", "id"),
)

tenants = Table(
    "tenants", metadata,
    Column("id", ID(), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

role_assignments = Table(
    "role_assignments", metadata,
    Column("tenant_id", ID(), ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ID(), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(32), nullable=False),
)

tenant_cas = Table(
    "tenant_cas", metadata,
    Column("id", ID(), primary_key=True),
    Column("tenant_id", ID(), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("generation", Integer, nullable=False),
    Column("thumbprint", String(40), nullable=False),
    Column("cert_pem", Text, nullable=False),
    Column("key_pem", Text, nullable=False),
    Column("not_before", UtcDateTime, nullable=False),
    Column("not_after", UtcDateTime, nullable=False),
    Column("active_from", UtcDateTime, nullable=False),
    UniqueConstraint("tenant_id", "generation", name="uq_tenant_ca_generation"),
)

products = Table(
    "products", metadata,
    Column("id", ID(), primary_key=True),
    Column("tenant_id", ID(), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("tenant_id", "name", name="uq_product_name"),
)

device_groups = Table(
    "device_groups", metadata,
    Column("id", ID(), primary_key=True),
    Column("tenant_id", ID(), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("product_id", ID(), ForeignKey("products.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("os_feed_type", Integer, nullable=False),
    Column("update_policy", Integer, nullable=False),
    Column("allow_crash_dumps", Boolean, nullable=False, default=False),
    Column("current_deployment_id", ID(), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("regional_data_boundary", Integer, nullable=False, server_default="0"),   # 0 None, 1 EU
    UniqueConstraint("product_id", "name", name="uq_device_group_name"),
)

images = Table(
    "images", metadata,
    Column("tenant_id", ID(), ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    Column("id", ID(), primary_key=True),
    Column("component_id", ID(), nullable=False),
    Column("image_type", Integer, nullable=False),
    Column("name", String(200), nullable=False),
    Column("security_version", Integer, nullable=False),
    Column("signing_thumbprint", String(64), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("trust_status", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

deployments = Table(
    "deployments", metadata,
    Column("id", ID(), primary_key=True),
    Column("tenant_id", ID(), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("device_group_id", ID(), ForeignKey("device_groups.id", ondelete="CASCADE"), nullable=False),
    Column("image_ids", Text, nullable=False),         # JSON list, in the order given
    Column("deployed_at", UtcDateTime, nullable=False),
    Column("deployed_by", String(200), nullable=False),
    Index("ix_deployments_group", "device_group_id", "deployed_at"),
)

devices = Table(
    "devices", metadata,
    Column("id", DEVICE_ID(), primary_key=True),
    Column("tenant_id", ID(), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("attestation_key", String(128), nullable=True),
    Column("device_group_id", ID(), ForeignKey("device_groups.id", ondelete="SET NULL"), nullable=True),
    Column("capabilities", Text, nullable=False, default="[]"),   # JSON list granted by the tenant
    Column("reported_capabilities", Text, nullable=False, default="[]"),
    Column("installed", Text, nullable=False, default="{}"),      # JSON {component: image} last reported
    Column("os_version", String(64), nullable=False, default=""),
    Column("boot_id", String(64), nullable=False, default=""),
    Column("claimed_at", UtcDateTime, nullable=False),
    Column("last_attested_at", UtcDateTime, nullable=True),
    Column("last_update_check_at", UtcDateTime, nullable=True),
    Index("ix_devices_tenant", "tenant_id"),
    Index("ix_devices_group", "device_group_id"),
)

device_image_states = Table(
    "device_image_states", metadata,
    Column("device_id", DEVICE_ID(), ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True),
    Column("image_id", ID(), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("deployment_id", ID(), nullable=True),
    Column("offered_at", UtcDateTime, nullable=False),
    Column("offered_boot", String(64), nullable=False),
    Column("deadline", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

svn_floors = Table(
    "svn_floors", metadata,
    Column("tenant_id", ID(), ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    Column("component_id", ID(), primary_key=True),
    Column("minimum_security_version", Integer, nullable=False),
)

os_releases = Table(
    "os_releases", metadata,
    Column("feed", Integer, primary_key=True),
    Column("version", String(64), primary_key=True),
    Column("released_at", UtcDateTime, nullable=False),
)

# The stage images of an OS release (signed by the project's root key), what devices on its feed install.
os_release_images = Table(
    "os_release_images", metadata,
    Column("version", String(64), primary_key=True),
    Column("image_type", Integer, primary_key=True),
    Column("image_id", ID(), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
)

error_events = Table(
    "error_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tenant_id", ID(), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("device_group_id", ID(), nullable=True),
    Column("device_id", DEVICE_ID(), nullable=False),
    Column("event_time", UtcDateTime, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("event_category", String(64), nullable=False),
    Column("event_class", String(64), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("description", Text, nullable=False),
    Column("event_count", Integer, nullable=False),
    Column("os_version", String(64), nullable=False),
    Column("component_id", String(36), nullable=False),
    Column("image_id", String(36), nullable=False),
    Index("ix_error_events_query", "tenant_id", "event_time"),
)

operations = Table(
    "operations", metadata,
    Column("id", ID(), primary_key=True),
    Column("tenant_id", ID(), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("state", String(16), nullable=False),
    Column("payload", LargeBinary, nullable=True),
    Column("result", Text, nullable=True),
    Column("error", Text, nullable=True),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("lease_until", UtcDateTime, nullable=True),
    Column("lease_owner", String(200), nullable=True),   # host:pid of the worker holding the lease
    Index("ix_operations_pending", "state", "created_at"),
)


def sqlite_url(data_dir: str | os.PathLike) -> str:
    path = Path(data_dir).resolve() / "as3.sqlite3"
    return f"sqlite:///{path}"


def normalise_url(url: str) -> str:
    """`postgresql://` URLs use psycopg 3 (the driver this project installs)."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, pool_size=8,
                               max_overflow=16)

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn, _record):  # pragma: no cover - exercised by every sqlite test
            dbapi_conn.isolation_level = None    # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            # On the driver's connection: SQLAlchemy's own execution path (events, result set-up) for one BEGIN
            # per transaction cost a tenth of an update check.
            conn.connection.dbapi_connection.execute(
                "BEGIN IMMEDIATE" if conn.get_execution_options().get("mt_write") else "BEGIN")
    else:
        engine = create_engine(url, pool_size=8, max_overflow=16, pool_pre_ping=True)
    return engine
