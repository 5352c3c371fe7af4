"""Domain objects as the REST API's JSON (PascalCase fields, ISO 8601 UTC times): the one place answers are shaped."""
from __future__ import annotations

import hashlib

from .. import domain as d
from ..services.base import iso


def tenant(t: d.Tenant) -> dict:
    out = {"Id": t.id, "Name": t.name, "CreatedAt": iso(t.created_at)}
    if t.role is not None:
        out["Roles"] = [t.role]
    return out


def role(r: d.RoleAssignment) -> dict:
    return {"User": r.user, "Roles": [r.role]}


def product(p: d.Product) -> dict:
    return {"Id": p.id, "TenantId": p.tenant_id, "Name": p.name, "Description": p.description}


def device_group(g: d.DeviceGroup) -> dict:
    """The real API's DeviceGroupV2, plus CurrentDeploymentId (emulator extension, kept for earlier clients)."""
    current = g.current_deployment
    return {"Id": g.id, "TenantId": g.tenant_id, "ProductId": g.product_id, "Name": g.name,
            "Description": g.description, "OsFeedType": g.os_feed_type, "UpdatePolicy": g.update_policy,
            "AllowCrashDumpsCollection": g.allow_crash_dumps, "RegionalDataBoundary": g.regional_data_boundary,
            "CurrentDeployment": None if current is None else {
                "Id": current.id, "TenantId": g.tenant_id, "DeployedImages": list(current.image_ids),
                "DeploymentDateUtc": iso(current.deployed_at)},
            "CurrentDeploymentId": g.current_deployment_id}


def image(i: d.Image) -> dict:
    return {"Id": i.id, "ComponentId": i.component_id, "ImageType": i.image_type, "Name": i.name,
            "SecurityVersion": i.security_version, "SigningThumbprint": i.signing_thumbprint, "Sha256": i.sha256,
            "Size": i.size, "TrustStatus": i.trust_status, "UploadedAt": iso(i.uploaded_at)}


def svn_floor(f: d.SvnFloor) -> dict:
    return {"ComponentId": f.component_id, "MinimumSecurityVersion": f.minimum_security_version}


def deployment(x: d.Deployment) -> dict:
    out = {"Id": x.id, "DeviceGroupId": x.device_group_id, "DeployedImages": list(x.image_ids),
           "DeploymentDateUtc": iso(x.deployed_at), "DeployedBy": x.deployed_by}
    if x.current is not None:
        out["Current"] = x.current
    return out


def deployment_status(s: d.DeploymentStatus) -> dict:
    return {"DeviceGroupId": s.device_group_id, "DeploymentId": s.deployment_id, "Summary": dict(s.summary),
            "Devices": [{"DeviceId": p.device_id, "Images": dict(p.images)} for p in s.devices]}


def device(x: d.Device) -> dict:
    return {"DeviceId": x.id, "TenantId": x.tenant_id, "DeviceGroupId": x.device_group_id, "ChipSku": x.chip_sku,
            "Capabilities": list(x.capabilities), "ReportedCapabilities": list(x.reported_capabilities),
            "OsVersion": x.os_version, "InstalledImages": dict(x.installed), "ClaimedAt": iso(x.claimed_at),
            "LastAttestedAt": iso(x.last_attested_at), "LastUpdateCheckAt": iso(x.last_update_check_at)}


def reason(r: d.Reason) -> dict:
    return {"Code": r.code, "Message": r.message}


def update_status(s: d.UpdateStatus) -> dict:
    return {"DeviceId": s.device_id, "DeviceGroupId": s.device_group_id, "Reasons": [reason(r) for r in s.reasons],
            "Images": [{"ImageId": p.image_id, "State": p.state, "DeploymentId": p.deployment_id,
                        "OfferedAt": iso(p.offered_at), "Deadline": iso(p.deadline)} for p in s.images]}


def operation(o: d.Operation, result=None, resource: str | None = None) -> dict:
    """The real API's Operation (integer OperationType and State), plus `Result` (emulator extension: the shaped
    result, e.g. the uploaded image or the claim report) and `ErrorCode` in Error (this service's specific code)."""
    location = f"/v2/tenants/{o.tenant_id}/operations/{o.id}"
    started = o.state != "NotStarted"
    finished = o.state in ("Complete", "Failed", "CompleteWithErrors")
    out = {"OperationId": o.id, "OperationType": d.OPERATION_TYPES.get(o.kind, d.OPERATION_TYPES["BulkDeviceClaim"]),
           "State": d.OPERATION_STATES[o.state], "TenantId": o.tenant_id, "CreatedDateUTC": iso(o.created_at),
           "StartedDateUTC": iso(o.updated_at) if started else None,
           "CompletedDateUTC": iso(o.updated_at) if finished else None,
           "ResourceLocation": resource, "DetailsLocation": location}
    if result is not None or o.result is not None:
        out["Result"] = result if result is not None else o.result
    if o.error is not None:
        out["Error"] = {"Code": d.ERROR_CODES["OperationFailed"], "ErrorCode": o.error[0], "Message": o.error[1]}
    return out


def certificate(c: d.CaCertificate) -> dict:
    return {"Thumbprint": c.thumbprint, "Status": c.status, "StartDate": iso(c.not_before),
            "EndDate": iso(c.not_after), "ActiveFrom": iso(c.active_from), "Subject": c.subject}


ERROR_EVENT_FIELDS = ["DeviceId", "DeviceGroupId", "EventTime", "EventCategory", "EventClass", "EventType",
                      "Description", "EventCount", "OsVersion", "ComponentId", "ImageId"]


def error_event(e: d.ErrorEvent) -> dict:
    return {"DeviceId": e.device_id, "DeviceGroupId": e.device_group_id, "EventTime": iso(e.event_time),
            "EventCategory": e.category, "EventClass": e.event_class, "EventType": e.event_type,
            "Description": e.description, "EventCount": e.count, "OsVersion": e.os_version,
            "ComponentId": e.component_id, "ImageId": e.image_id}


def device_insight(e: d.ErrorEvent) -> dict:
    """An error event as the real API's device insight: Unix timestamps, the description cleaned of device
    specifics (here: as uploaded) with a code (emulator-defined: the first 7 hex digits of its SHA-256, as an
    integer)."""
    at = int(e.event_time.timestamp())
    code = int(hashlib.sha256(e.description.encode()).hexdigest()[:7], 16)
    return {"DeviceId": e.device_id, "DescriptionCode": code, "DescriptionCleaned": e.description,
            "StartTimestampInUnix": at, "EndTimestampInUnix": at, "EventCategory": e.category,
            "EventClass": e.event_class, "EventType": e.event_type, "EventCount": e.count}


def dropped_event(e: d.DroppedEvent) -> dict:
    return {"Index": e.index, "Reason": e.reason, "Message": e.message}


def grant(g: d.AttestationGrant) -> dict:
    return {"Result": "Passed", "ClientCertificate": g.client_certificate, "UpdateCertificate": g.update_certificate,
            "CertificateChain": g.chain, "RootCertificate": g.root, "ExpiresAt": iso(g.expires_at),
            "AttestationResult": g.result}


def update_offer(o: d.UpdateOffer) -> dict:
    return {"DeviceId": o.device_id, "DeviceGroupId": o.device_group_id, "DeploymentId": o.deployment_id,
            "TargetImages": [{"ImageId": t.image_id, "ComponentId": t.component_id, "ImageType": t.image_type,
                              "SecurityVersion": t.security_version, "DownloadPath": f"/device/v1/images/{t.image_id}"}
                             for t in o.targets],
            "Os": {"Feed": o.os_target[0], "TargetVersion": o.os_target[1],
                   "Images": [{"ImageType": t, "ImageId": i, "DownloadPath": f"/device/v1/os/{o.os_target[1]}/{t}"}
                              for t, i in o.os_images]} if o.os_target else None,
            "Reasons": [reason(r) for r in o.reasons], "NextCheckSeconds": o.next_check_seconds}


def audit_entry(e) -> dict:
    return {"Id": e.id, "Time": iso(e.at), "User": e.user, "TenantId": e.tenant_id, "Method": e.method,
            "Path": e.path, "Operation": e.operation, "Status": e.status, "Detail": e.detail}
