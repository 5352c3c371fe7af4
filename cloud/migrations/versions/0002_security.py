"""Security and fidelity: OS release images, device groups' RegionalDataBoundary, self-describing nonces (the
nonces table goes), token lifetimes, operation lease owners, service roles (Manufacturing), the device registry,
the audit log.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

from mt3620.cloud.db import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("token_expires_at", UtcDateTime, nullable=True))
    with op.batch_alter_table("operations") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(200), nullable=True))
    with op.batch_alter_table("device_groups") as batch:
        batch.add_column(sa.Column("regional_data_boundary", sa.Integer, nullable=False, server_default="0"))
    op.create_table("service_roles",
                    sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id", ondelete="CASCADE"),
                              primary_key=True),
                    sa.Column("role", sa.String(32), primary_key=True))
    op.create_table("device_registry",
                    sa.Column("device_id", sa.String(128), primary_key=True),
                    sa.Column("attestation_key", sa.String(128), nullable=False),
                    sa.Column("registered_at", UtcDateTime, nullable=False),
                    sa.Column("registered_by", sa.String(200), nullable=False))
    op.create_table("audit_log",
                    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                    sa.Column("at", UtcDateTime, nullable=False),
                    sa.Column("user_name", sa.String(200), nullable=True),
                    sa.Column("tenant_id", sa.String(36), nullable=True),
                    sa.Column("method", sa.String(8), nullable=False),
                    sa.Column("path", sa.String(400), nullable=False),
                    sa.Column("operation", sa.String(64), nullable=False),
                    sa.Column("status", sa.Integer, nullable=False),
                    sa.Column("detail", sa.Text, nullable=False))
    op.create_index("ix_audit_log_tenant", "audit_log", ["tenant_id", "id"])
    op.create_table("os_release_images",
                    sa.Column("version", sa.String(64), primary_key=True),
                    sa.Column("image_type", sa.Integer, primary_key=True),
                    sa.Column("image_id", sa.String(36), nullable=False),
                    sa.Column("sha256", sa.String(64), nullable=False),
                    sa.Column("content", sa.LargeBinary, nullable=False))
    # Nonces are self-describing and used ones are remembered by the process that issued them (services/attestation.py).
    op.drop_index("ix_nonces_expiry", table_name="nonces")
    op.drop_table("nonces")
    # Devices claimed before the registry existed keep working: their claim-time key (or, without one, the device
    # ID, which was then taken as the attestation key) becomes their registration.
    op.execute("INSERT INTO device_registry (device_id, attestation_key, registered_at, registered_by) "
               "SELECT id, COALESCE(attestation_key, id), claimed_at, 'migration 0002' FROM devices")


def downgrade() -> None:
    op.create_table("nonces",
                    sa.Column("nonce", sa.String(64), primary_key=True),
                    sa.Column("device_id", sa.String(128), nullable=False),
                    sa.Column("expires_at", UtcDateTime, nullable=False))
    op.create_index("ix_nonces_expiry", "nonces", ["expires_at"])
    op.drop_index("ix_audit_log_tenant", table_name="audit_log")
    for table in ("os_release_images", "audit_log", "device_registry", "service_roles"):
        op.drop_table(table)
    with op.batch_alter_table("operations") as batch:
        batch.drop_column("lease_owner")
    with op.batch_alter_table("device_groups") as batch:
        batch.drop_column("regional_data_boundary")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("token_expires_at")
