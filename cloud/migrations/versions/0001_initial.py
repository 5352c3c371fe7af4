"""Initial schema: tenants, users and roles, PKI, products, device groups, images, deployments, devices,
attestation nonces, software trust, OS releases, error reports, long-running operations.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

from mt3620.cloud.db import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = lambda: sa.String(36)  # noqa: E731
DEVICE_ID = lambda: sa.String(128)  # noqa: E731


def upgrade() -> None:
    op.create_table("service_secrets",
                    sa.Column("name", sa.String(64), primary_key=True),
                    sa.Column("cert_pem", sa.Text, nullable=False),
                    sa.Column("key_pem", sa.Text, nullable=False),
                    sa.Column("created_at", UtcDateTime, nullable=False))
    op.create_table("users",
                    sa.Column("id", ID(), primary_key=True),
                    sa.Column("name", sa.String(200), nullable=False, unique=True),
                    sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
                    sa.Column("created_at", UtcDateTime, nullable=False))
    op.create_table("tenants",
                    sa.Column("id", ID(), primary_key=True),
                    sa.Column("name", sa.String(200), nullable=False),
                    sa.Column("created_at", UtcDateTime, nullable=False))
    op.create_table("role_assignments",
                    sa.Column("tenant_id", ID(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
                    sa.Column("user_id", ID(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
                    sa.Column("role", sa.String(32), nullable=False))
    op.create_table("tenant_cas",
                    sa.Column("id", ID(), primary_key=True),
                    sa.Column("tenant_id", ID(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
                    sa.Column("generation", sa.Integer, nullable=False),
                    sa.Column("thumbprint", sa.String(40), nullable=False),
                    sa.Column("cert_pem", sa.Text, nullable=False),
                    sa.Column("key_pem", sa.Text, nullable=False),
                    sa.Column("not_before", UtcDateTime, nullable=False),
                    sa.Column("not_after", UtcDateTime, nullable=False),
                    sa.Column("active_from", UtcDateTime, nullable=False),
                    sa.UniqueConstraint("tenant_id", "generation", name="uq_tenant_ca_generation"))
    op.create_table("products",
                    sa.Column("id", ID(), primary_key=True),
                    sa.Column("tenant_id", ID(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
                    sa.Column("name", sa.String(200), nullable=False),
                    sa.Column("description", sa.Text, nullable=False),
                    sa.Column("created_at", UtcDateTime, nullable=False),
                    sa.UniqueConstraint("tenant_id", "name", name="uq_product_name"))
    op.create_table("device_groups",
                    sa.Column("id", ID(), primary_key=True),
                    sa.Column("tenant_id", ID(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
                    sa.Column("product_id", ID(), sa.ForeignKey("products.id", ondelete="CASCADE"), nullable=False),
                    sa.Column("name", sa.String(200), nullable=False),
                    sa.Column("description", sa.Text, nullable=False),
                    sa.Column("os_feed_type", sa.Integer, nullable=False),
                    sa.Column("update_policy", sa.Integer, nullable=False),
                    sa.Column("allow_crash_dumps", sa.Boolean, nullable=False),
                    sa.Column("current_deployment_id", ID(), nullable=True),
                    sa.Column("created_at", UtcDateTime, nullable=False),
                    sa.UniqueConstraint("product_id", "name", name="uq_device_group_name"))
    op.create_table("images",
                    sa.Column("tenant_id", ID(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
                    sa.Column("id", ID(), primary_key=True),
                    sa.Column("component_id", ID(), nullable=False),
                    sa.Column("image_type", sa.Integer, nullable=False),
                    sa.Column("name", sa.String(200), nullable=False),
                    sa.Column("security_version", sa.Integer, nullable=False),
                    sa.Column("signing_thumbprint", sa.String(64), nullable=False),
                    sa.Column("sha256", sa.String(64), nullable=False),
                    sa.Column("size", sa.Integer, nullable=False),
                    sa.Column("content", sa.LargeBinary, nullable=False),
                    sa.Column("trust_status", sa.String(16), nullable=False),
                    sa.Column("created_at", UtcDateTime, nullable=False))
    op.create_table("deployments",
                    sa.Column("id", ID(), primary_key=True),
                    sa.Column("tenant_id", ID(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
                    sa.Column("device_group_id", ID(), sa.ForeignKey("device_groups.id", ondelete="CASCADE"),
                              nullable=False),
                    sa.Column("image_ids", sa.Text, nullable=False),
                    sa.Column("deployed_at", UtcDateTime, nullable=False),
                    sa.Column("deployed_by", sa.String(200), nullable=False))
    op.create_index("ix_deployments_group", "deployments", ["device_group_id", "deployed_at"])
    op.create_table("devices",
                    sa.Column("id", DEVICE_ID(), primary_key=True),
                    sa.Column("tenant_id", ID(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
                    sa.Column("attestation_key", sa.String(128), nullable=True),
                    sa.Column("device_group_id", ID(), sa.ForeignKey("device_groups.id", ondelete="SET NULL"),
                              nullable=True),
                    sa.Column("capabilities", sa.Text, nullable=False),
                    sa.Column("reported_capabilities", sa.Text, nullable=False),
                    sa.Column("installed", sa.Text, nullable=False),
                    sa.Column("os_version", sa.String(64), nullable=False),
                    sa.Column("boot_id", sa.String(64), nullable=False),
                    sa.Column("claimed_at", UtcDateTime, nullable=False),
                    sa.Column("last_attested_at", UtcDateTime, nullable=True),
                    sa.Column("last_update_check_at", UtcDateTime, nullable=True))
    op.create_index("ix_devices_tenant", "devices", ["tenant_id"])
    op.create_index("ix_devices_group", "devices", ["device_group_id"])
    op.create_table("device_image_states",
                    sa.Column("device_id", DEVICE_ID(), sa.ForeignKey("devices.id", ondelete="CASCADE"),
                              primary_key=True),
                    sa.Column("image_id", ID(), primary_key=True),
                    sa.Column("state", sa.String(16), nullable=False),
                    sa.Column("deployment_id", ID(), nullable=True),
                    sa.Column("offered_at", UtcDateTime, nullable=False),
                    sa.Column("offered_boot", sa.String(64), nullable=False),
                    sa.Column("deadline", UtcDateTime, nullable=False),
                    sa.Column("updated_at", UtcDateTime, nullable=False))
    op.create_table("nonces",
                    sa.Column("nonce", sa.String(64), primary_key=True),
                    sa.Column("device_id", DEVICE_ID(), nullable=False),
                    sa.Column("expires_at", UtcDateTime, nullable=False))
    op.create_index("ix_nonces_expiry", "nonces", ["expires_at"])
    op.create_table("svn_floors",
                    sa.Column("tenant_id", ID(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
                    sa.Column("component_id", ID(), primary_key=True),
                    sa.Column("minimum_security_version", sa.Integer, nullable=False))
    op.create_table("os_releases",
                    sa.Column("feed", sa.Integer, primary_key=True),
                    sa.Column("version", sa.String(64), primary_key=True),
                    sa.Column("released_at", UtcDateTime, nullable=False))
    op.create_table("error_events",
                    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                    sa.Column("tenant_id", ID(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
                    sa.Column("device_group_id", ID(), nullable=True),
                    sa.Column("device_id", DEVICE_ID(), nullable=False),
                    sa.Column("event_time", UtcDateTime, nullable=False),
                    sa.Column("received_at", UtcDateTime, nullable=False),
                    sa.Column("event_category", sa.String(64), nullable=False),
                    sa.Column("event_class", sa.String(64), nullable=False),
                    sa.Column("event_type", sa.String(64), nullable=False),
                    sa.Column("description", sa.Text, nullable=False),
                    sa.Column("event_count", sa.Integer, nullable=False),
                    sa.Column("os_version", sa.String(64), nullable=False),
                    sa.Column("component_id", sa.String(36), nullable=False),
                    sa.Column("image_id", sa.String(36), nullable=False))
    op.create_index("ix_error_events_query", "error_events", ["tenant_id", "event_time"])
    op.create_table("operations",
                    sa.Column("id", ID(), primary_key=True),
                    sa.Column("tenant_id", ID(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
                    sa.Column("kind", sa.String(32), nullable=False),
                    sa.Column("state", sa.String(16), nullable=False),
                    sa.Column("payload", sa.LargeBinary, nullable=True),
                    sa.Column("result", sa.Text, nullable=True),
                    sa.Column("error", sa.Text, nullable=True),
                    sa.Column("created_by", sa.String(200), nullable=False),
                    sa.Column("created_at", UtcDateTime, nullable=False),
                    sa.Column("updated_at", UtcDateTime, nullable=False),
                    sa.Column("lease_until", UtcDateTime, nullable=True))
    op.create_index("ix_operations_pending", "operations", ["state", "created_at"])


def downgrade() -> None:
    for index, table in (("ix_operations_pending", "operations"), ("ix_error_events_query", "error_events"),
                         ("ix_nonces_expiry", "nonces"), ("ix_devices_group", "devices"),
                         ("ix_devices_tenant", "devices"), ("ix_deployments_group", "deployments")):
        op.drop_index(index, table_name=table)
    for table in ("operations", "error_events", "os_releases", "svn_floors", "nonces", "device_image_states",
                  "devices", "deployments", "images", "device_groups", "products", "tenant_cas",
                  "role_assignments", "tenants", "users", "service_secrets"):
        op.drop_table(table)
