"""The service's domain: the objects its services return and the errors they raise.

Nothing here knows HTTP: the API layer (cloud/api/) shapes these objects into the JSON of the REST API and maps the
errors onto status codes. Times are aware UTC datetimes; IDs are canonical strings (GUIDs lower-case, device IDs
128 upper-case hex digits).
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from .reconcile import Reason  # noqa: F401 - why a device is (not) updating: a code and a message


# ---- errors ------------------------------------------------------------------------------------------------

class DomainError(Exception):
    """A request the service refuses. `code` is a stable name (e.g. DeviceAlreadyClaimed, expired-certificate)."""
    code = "BadRequest"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class Invalid(DomainError):
    """The request is malformed or names values the service does not accept."""
    code = "BadRequest"


class NotFound(DomainError):
    code = "NotFound"

    def __init__(self, what: str, code: str | None = None) -> None:
        super().__init__(f"{what} not found", code)


class Conflict(DomainError):
    """The request contradicts stored state (duplicates, a group that still holds devices, ...)."""
    code = "Conflict"


class TooLarge(DomainError):
    code = "PayloadTooLarge"


class Unauthenticated(DomainError):
    """A credential (token, client certificate) that does not identify a caller; `code` names why."""
    code = "Unauthorized"


class Forbidden(DomainError):
    """An identified caller that may not do this; `code` names why."""
    code = "Forbidden"


# ---- users, tenants and roles ---------------------------------------------------------------------------------

ROLES = ("Administrator", "Contributor", "Reader")
MANUFACTURING = "Manufacturing"     # service-wide: enrols devices in the registry
SERVICE_ROLES = (MANUFACTURING,)
ROLE_RANK = {"Reader": 1, "Contributor": 2, "Administrator": 3}


@dataclass(frozen=True)
class User:
    id: str
    name: str


@dataclass(frozen=True)
class Tenant:
    id: str
    name: str
    created_at: _dt.datetime | None
    role: str | None = None            # the asking user's role, where the caller asked for it


@dataclass(frozen=True)
class RoleAssignment:
    user: str
    role: str


@dataclass(frozen=True)
class RegisteredDevice:
    device_id: str
    attestation_key: str               # 128 hex digits, P-256 X||Y
    registered_at: _dt.datetime
    registered_by: str


# ---- products, device groups, images, deployments -------------------------------------------------------------

@dataclass(frozen=True)
class Product:
    id: str
    tenant_id: str
    name: str
    description: str


@dataclass(frozen=True)
class DeviceGroup:
    id: str
    tenant_id: str
    product_id: str
    name: str
    description: str
    os_feed_type: int
    update_policy: int
    allow_crash_dumps: bool
    current_deployment_id: str | None
    regional_data_boundary: int = 0    # 0 None, 1 EU (the real API's enum)
    current_deployment: "Deployment | None" = None


@dataclass(frozen=True)
class Image:
    id: str
    component_id: str
    image_type: int
    name: str
    security_version: int
    signing_thumbprint: str
    sha256: str
    size: int
    trust_status: str                  # Trusted | Revoked
    uploaded_at: _dt.datetime | None


@dataclass(frozen=True)
class SvnFloor:
    component_id: str
    minimum_security_version: int


@dataclass(frozen=True)
class Deployment:
    id: str
    device_group_id: str
    image_ids: tuple[str, ...]
    deployed_at: _dt.datetime
    deployed_by: str
    current: bool | None = None        # set when listed as a group's history


@dataclass(frozen=True)
class DeviceProgress:
    device_id: str
    images: dict[str, str]             # image ID -> Offered | Installed | Failed | TimedOut


@dataclass(frozen=True)
class DeploymentStatus:
    device_group_id: str
    deployment_id: str | None
    summary: dict[str, int]            # state (and NotOffered) -> devices x images
    devices: tuple[DeviceProgress, ...]


# ---- devices ----------------------------------------------------------------------------------------------

CAPABILITIES = ("appDevelopment", "fieldServicing", "rfTest")


@dataclass(frozen=True)
class Device:
    id: str
    tenant_id: str
    device_group_id: str | None
    capabilities: tuple[str, ...]
    reported_capabilities: tuple[str, ...]
    os_version: str
    installed: dict[str, str]          # component ID -> image ID, as last reported
    claimed_at: _dt.datetime | None
    last_attested_at: _dt.datetime | None
    last_update_check_at: _dt.datetime | None
    chip_sku: str = "MT3620AN"
    boot_id: str = ""                  # the boot the device last reported (a new one: offered images it lacks failed)


@dataclass(frozen=True)
class ImageProgress:
    image_id: str
    state: str
    deployment_id: str | None
    offered_at: _dt.datetime | None
    deadline: _dt.datetime | None


@dataclass(frozen=True)
class UpdateStatus:
    device_id: str
    device_group_id: str | None
    reasons: tuple[Reason, ...]
    images: tuple[ImageProgress, ...]


@dataclass(frozen=True)
class ClaimFailure:
    device_id: str
    code: str
    message: str


@dataclass(frozen=True)
class ClaimReport:
    claimed: tuple[str, ...]
    failed: tuple[ClaimFailure, ...]


# ---- operations (long-running requests) -------------------------------------------------------------------

# The real API's enums (AS3 REST reference, Operation): State and OperationType as integers.
OPERATION_STATES = {"NotStarted": 0, "InProgress": 1, "Complete": 2, "Failed": 3, "CompleteWithErrors": 4}
OPERATION_TYPES = {"DeviceClaim": 0, "DeviceUnclaim": 1, "DeviceUpdateDeviceGroup": 2, "MigrateTenant": 3,
                   "CreateProduct": 4, "DeployToDeviceGroup": 5, "DeployToOSFeed": 6, "ImageUpload": 7,
                   "TenantCreation": 8, "DeleteDeviceGroup": 9, "DeleteProduct": 10, "BulkDeviceClaim": 11}
# ErrorResponse.Code of the real API: what an HTTP status or a failed operation maps to.
ERROR_CODES = {"OperationFailed": 0, "TenantInMigration": 1, "TenantMigrationRequired": 2, "ClientUpdateRequired": 3,
               "InternalServerError": 4, "BadRequest": 5, "Forbidden": 6, "Conflict": 7, "NotFound": 8}


@dataclass(frozen=True)
class Operation:
    id: str
    tenant_id: str
    kind: str                          # an OPERATION_TYPES name: ImageUpload | BulkDeviceClaim | DeviceClaim | ...
    state: str                         # an OPERATION_STATES name
    created_at: _dt.datetime
    updated_at: _dt.datetime
    result: dict | None = None         # the kind's result document ({"ImageId"} or a claim report)
    error: tuple[str, str] | None = None   # (code, message)


# ---- certificates -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CaCertificate:
    thumbprint: str
    status: str                        # Active | Inactive | Expired
    not_before: _dt.datetime
    not_after: _dt.datetime
    active_from: _dt.datetime
    subject: str


# ---- the device side ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class IssuedNonce:
    nonce: bytes
    expires_at: _dt.datetime


@dataclass(frozen=True)
class AttestationGrant:
    """What a passed attestation gives the device: certificates (PEM) for its client key."""
    client_certificate: str
    update_certificate: str
    chain: str                         # tenant CA then intermediate
    root: str
    expires_at: _dt.datetime
    result: dict                       # the attestation result embedded in the certificate


@dataclass(frozen=True)
class TargetImage:
    image_id: str
    component_id: str
    image_type: int
    security_version: int


@dataclass(frozen=True)
class UpdateOffer:
    device_id: str
    device_group_id: str | None
    deployment_id: str | None
    targets: tuple[TargetImage, ...]
    os_target: tuple[int, str] | None  # (feed, version)
    reasons: tuple[Reason, ...]
    next_check_seconds: int = 24 * 3600
    os_images: tuple[tuple[int, str], ...] = ()   # (image type, image ID) of the OS target's stage images


@dataclass(frozen=True)
class OsRelease:
    feed: int
    version: str


@dataclass(frozen=True)
class ErrorEvent:
    device_id: str
    device_group_id: str | None
    event_time: _dt.datetime
    category: str
    event_class: str
    event_type: str
    description: str
    count: int
    os_version: str
    component_id: str
    image_id: str
    id: int | None = None


@dataclass(frozen=True)
class DroppedEvent:
    index: int
    reason: str
    message: str


@dataclass(frozen=True)
class ErrorEventPage:
    events: tuple[ErrorEvent, ...]
    continuation: int | None

