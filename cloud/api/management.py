"""The management REST API (user tokens and tenant roles): one decorated handler per operation.

Shape follows the real v2 API of the Azure Sphere Security Service (resource nesting tenants/{id}/products,
devicegroups, deployments, devices, images, operations; PascalCase JSON fields; long-running calls answer 202
with an Operation to poll). Exact paths and fields beyond that are emulator-defined (docs/cloud.md).
"""
from __future__ import annotations

import base64
import csv
import io
import json
import re
import uuid
from typing import Callable

from .. import pki
from ..domain import MANUFACTURING, ROLE_RANK, SERVICE_ROLES, Forbidden, Invalid, NotFound, Unauthenticated
from ..services import BULK_CLAIM, CREATE_PRODUCT, DEVICE_CLAIM, IMAGE_UPLOAD, TENANT_CREATION, Services
from ..services.base import iso
from ..services.error_reports import MAX_EVENTS
from . import console, shapes
from .routing import Call, Reply, Route, Router, json_reply, management_error_reply, route
from .schemas import BODY, INT, S, arr, obj, page_of, ref

T = "/v2/tenants/{tenantId}"
THUMBPRINT = {"type": "string", "pattern": "^[0-9A-Fa-f]{40}$"}


class ManagementApi:
    """The management API over `services`; `wake_worker()` tells the operation worker a new operation is queued."""

    def __init__(self, services: Services, wake_worker: Callable[[], None] | None = None) -> None:
        self.services = services
        self.wake_worker = wake_worker or (lambda: None)
        self.router = Router(self, BODY, self.authorise, self.audit, errors=management_error_reply)

    def __call__(self, call: Call) -> Reply:
        return self.router(call)

    # ---- authentication and roles ---------------------------------------------------------------------------
    def authorise(self, call: Call, r: Route, params: dict) -> None:
        if r.role == "public":
            return
        scheme, _, token = call.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("send 'Authorization: Bearer <token>'")
        call.user = self.services.users.authenticate(token.strip())
        if r.role in SERVICE_ROLES:
            if r.role not in self.services.users.service_roles(call.user):
                raise Forbidden(f"{r.op_id} needs the service role {r.role}")
            return
        if "tenantId" not in params:
            return
        try:
            params["tenantId"] = str(uuid.UUID(params["tenantId"]))
        except ValueError:
            raise NotFound("tenant") from None
        call.role = self.services.users.role_of(call.user, params["tenantId"])
        if call.role is None:   # another tenant's data is invisible, not merely forbidden
            raise NotFound("tenant")
        if ROLE_RANK[call.role] < ROLE_RANK[r.role]:
            raise Forbidden(f"{r.op_id} needs the {r.role} role; you are {call.role}")

    def audit(self, call: Call, r: Route | None, params: dict, reply: Reply) -> None:
        """Every management write goes to the audit log, answered or refused."""
        if call.method in ("GET", "HEAD", "OPTIONS") or r is None or r.role == "public":
            return
        tenant = params.get("tenantId")
        detail = ""
        if reply.content_type == "application/json" and reply.body:
            try:
                answer = json.loads(reply.body)
            except ValueError:
                answer = {}
            if isinstance(answer, dict):
                if reply.status >= 400:
                    detail = f"{answer.get('ErrorCode')}: {answer.get('Message')}"
                elif r.op_id == "Tenants_Create":
                    tenant = answer.get("Id")
                elif answer.get("Id") or answer.get("DeviceId"):
                    detail = str(answer.get("Id") or answer.get("DeviceId"))
        try:
            tenant = str(uuid.UUID(tenant)) if tenant else None
        except ValueError:
            tenant = None
        self.services.audit.record(call.user.name if call.user else None, tenant, call.method, call.path, r.op_id,
                                   reply.status, detail)

    def _operation(self, op) -> Reply:
        self.wake_worker()
        return json_reply(shapes.operation(op), 202, {"Location": f"/v2/tenants/{op.tenant_id}/operations/{op.id}"})

    # ---- public -----------------------------------------------------------------------------------------------
    @route("GET", "/openapi.json", "OpenApi", "This document", role="public", hidden=True)
    def openapi(self, call: Call):
        from .openapi import management_document
        return management_document(self.router.routes, call.base_url)

    @route("GET", "/healthz", "Health", "Liveness", role="public", hidden=True)
    def health(self, call: Call):
        return {"Status": "OK"}

    @route("GET", "/rootca.pem", "RootCa", "The service root (trust anchor of the device endpoint)", role="public",
           hidden=True)
    def root_ca(self, call: Call):
        return Reply(200, pki.pem(self.services.certificates.root()).encode(), "application/x-pem-file")

    @route("GET", "/console/{name}", "Console", "The web console's files (static; it signs in with a token and "
           "calls this API, so the same login and roles apply)", role="public", hidden=True)
    def console_file(self, call: Call, name: str):
        return console.serve(name)

    @route("GET", "/console", "ConsoleIndex", "The web console", role="public", hidden=True)
    def console_index(self, call: Call):
        return console.serve("index.html")

    # ---- tenants and roles ------------------------------------------------------------------------------------
    @route("GET", "/v2/tenants", "Tenants_List", "List the tenants you hold a role in",
           response=arr(ref("Tenant")), tag="Tenants")
    def list_tenants(self, call: Call):
        return [shapes.tenant(t) for t in self.services.tenants.of_user(call.user)]

    @route("POST", "/v2/tenants", "Tenants_Create", "Create a tenant (you become its Administrator)",
           body="TenantCreate", status=201, response=ref("Tenant"), tag="Tenants")
    def create_tenant(self, call: Call):
        return shapes.tenant(self.services.tenants.create(call.user, call.json["Name"]))

    @route("POST", "/v2/tenants/create", "Tenants_CreateForDevice", "Create a tenant, authorised by a registered "
           "device no tenant claimed (the real API's Tenants - Create); you become its Administrator",
           body="TenantCreateForDevice", response=ref("Operation"), tag="Tenants")
    def create_tenant_for_device(self, call: Call):
        tenant = self.services.tenants.create_for_device(call.user, call.json["DeviceId"],
                                                         call.json["TenantFriendlyName"], self.services.registry)
        op = self.services.operations.record(tenant.id, TENANT_CREATION, {"TenantId": tenant.id}, call.user)
        return shapes.operation(op, shapes.tenant(tenant), f"/v2/tenants/{tenant.id}")

    @route("GET", T, "Tenants_Get", "Show a tenant", role="Reader", response=ref("Tenant"), tag="Tenants")
    def get_tenant(self, call: Call, tenantId: str):
        return shapes.tenant(self.services.tenants.get(tenantId, call.role))

    @route("PATCH", T, "Tenants_Update", "Rename a tenant", role="Administrator", body="TenantPatch",
           response=ref("Tenant"), tag="Tenants")
    def rename_tenant(self, call: Call, tenantId: str):
        return shapes.tenant(self.services.tenants.rename(call.user, tenantId, call.json["Name"]))

    @route("GET", T + "/roles", "Roles_List", "List role assignments", role="Reader", response=arr(ref("Role")),
           tag="Roles")
    def list_roles(self, call: Call, tenantId: str):
        return [shapes.role(r) for r in self.services.users.roles(tenantId)]

    @route("POST", T + "/roles", "Roles_Add", "Give a user a role", role="Administrator", body="RoleAdd",
           response=ref("Role"), tag="Roles")
    def add_role(self, call: Call, tenantId: str):
        return shapes.role(self.services.users.grant(tenantId, call.json["User"], call.json["Role"]))

    @route("DELETE", T + "/roles/{userName}", "Roles_Delete", "Remove a user's role", role="Administrator",
           status=204, tag="Roles")
    def delete_role(self, call: Call, tenantId: str, userName: str):
        self.services.users.revoke(tenantId, userName)

    @route("GET", T + "/auditlog", "AuditLog_List", "Every management write to the tenant, newest first",
           role="Administrator", response=arr(ref("AuditEntry")),
           query=[("before", {"type": "integer", "minimum": 1, "maximum": 2 ** 53}, "entries older than this ID"),
                  ("maxPageSize", {"type": "integer", "minimum": 1, "maximum": 1000}, "entries (100)")],
           tag="AuditLog")
    def audit_log(self, call: Call, tenantId: str):
        before = call.query.get("before")
        entries = self.services.audit.entries(tenantId, int(before) if before else None,
                                              int(call.query.get("maxPageSize", 100)))
        return [shapes.audit_entry(e) for e in entries]

    # ---- users' own tokens, the device registry (service-wide) --------------------------------------------
    @route("POST", "/v2/users/me/token", "Users_RotateToken", "A new token for you (the one used here stops "
           "working); tokens expire after their lifetime", response=ref("Token"), tag="Users")
    def rotate_token(self, call: Call):
        token = self.services.users.rotate_token(call.user.name)
        return {"Token": token, "ExpiresAt": iso(self.services.users.token_expiry(call.user))}

    @route("GET", "/v2/users/me", "Users_Me", "Who you are: name, service roles, token expiry", response=ref("Me"),
           tag="Users")
    def me(self, call: Call):
        return {"Name": call.user.name, "ServiceRoles": sorted(self.services.users.service_roles(call.user)),
                "TokenExpiresAt": iso(self.services.users.token_expiry(call.user))}

    @route("POST", "/v2/registry/devices", "Registry_Enrol", "Enrol devices (ID and attestation public key) in the "
           "device registry: only registered devices can be claimed", role=MANUFACTURING, body="RegistryEnrol",
           response=ref("RegistryResult"), tag="Registry")
    def enrol_devices(self, call: Call):
        added, refused = self.services.registry.register(
            [(d["DeviceId"], d["AttestationPublicKey"]) for d in call.json["Devices"]], call.user.name)
        return {"Registered": added, "Refused": [{"DeviceId": i, "Message": m} for i, m in refused]}

    @route("GET", "/v2/registry/devices/{deviceId}", "Registry_Get", "A registered device", role=MANUFACTURING,
           response=ref("RegisteredDevice"), tag="Registry")
    def registered_device(self, call: Call, deviceId: str):
        found = self.services.registry.get(deviceId)
        return {"DeviceId": found.device_id, "AttestationPublicKey": found.attestation_key,
                "RegisteredAt": iso(found.registered_at), "RegisteredBy": found.registered_by}

    # ---- products ---------------------------------------------------------------------------------------------
    @route("GET", T + "/products", "Products_List", "List products", role="Reader", response=arr(ref("Product")),
           tag="Products")
    def list_products(self, call: Call, tenantId: str):
        return [shapes.product(p) for p in self.services.products.list(tenantId)]

    @route("POST", T + "/products", "Products_Create", "Create a product and its five default device groups (202 "
           "Operation, completed by the request; Result: the product)", role="Contributor", body="ProductCreate",
           status=202, response=ref("Operation"), tag="Products")
    def create_product(self, call: Call, tenantId: str):
        b = call.json
        product = self.services.products.create(tenantId, b["Name"], b.get("Description", ""),
                                                b.get("CreateDefaultGroups", True))
        op = self.services.operations.record(tenantId, CREATE_PRODUCT, {"ProductId": product.id}, call.user)
        location = f"/v2/tenants/{tenantId}/products/{product.id}"
        return json_reply(shapes.operation(op, shapes.product(product), location), 202, {"Location": location})

    @route("GET", T + "/products/{productId}", "Products_Get", "Show a product", role="Reader",
           response=ref("Product"), tag="Products")
    def get_product(self, call: Call, tenantId: str, productId: str):
        return shapes.product(self.services.products.get(tenantId, productId))

    @route("PATCH", T + "/products/{productId}", "Products_Patch", "Update a product", role="Contributor",
           body="ProductPatch", response=ref("Product"), tag="Products")
    def patch_product(self, call: Call, tenantId: str, productId: str):
        return shapes.product(self.services.products.update(tenantId, productId, call.json.get("Name"),
                                                             call.json.get("Description")))

    @route("DELETE", T + "/products/{productId}", "Products_Delete", "Delete a product", role="Administrator",
           status=204, tag="Products")
    def delete_product(self, call: Call, tenantId: str, productId: str):
        self.services.products.delete(tenantId, productId)

    # ---- device groups ----------------------------------------------------------------------------------------
    @route("GET", T + "/products/{productId}/devicegroups", "DeviceGroups_ListByProduct",
           "List a product's device groups", role="Reader", response=arr(ref("DeviceGroup")), tag="DeviceGroups")
    def list_product_groups(self, call: Call, tenantId: str, productId: str):
        return [shapes.device_group(g) for g in self.services.groups.list(tenantId, productId)]

    @route("POST", T + "/products/{productId}/devicegroups", "DeviceGroups_CreateDefaults",
           "Create the product's five default device groups where missing", role="Contributor",
           response=page_of("DeviceGroup"), tag="DeviceGroups")
    def create_default_groups(self, call: Call, tenantId: str, productId: str):
        return {"Items": [shapes.device_group(g) for g in self.services.groups.create_defaults(tenantId, productId)],
                "ContinuationToken": None}

    @route("POST", T + "/devicegroups", "DeviceGroups_Create", "Create a device group in a product (ProductId)",
           role="Contributor", body="DeviceGroupCreate", response=ref("DeviceGroup"), tag="DeviceGroups")
    def create_group(self, call: Call, tenantId: str):
        b = call.json
        return shapes.device_group(self.services.groups.create(
            tenantId, b["ProductId"], b["Name"], b.get("Description", ""), b.get("OsFeedType", 0),
            b.get("UpdatePolicy", 0), b.get("AllowCrashDumpsCollection", False), b.get("RegionalDataBoundary", 0)))

    @route("GET", T + "/devicegroups", "DeviceGroups_List", "List all device groups", role="Reader",
           response=arr(ref("DeviceGroup")), tag="DeviceGroups")
    def list_groups(self, call: Call, tenantId: str):
        return [shapes.device_group(g) for g in self.services.groups.list(tenantId)]

    @route("GET", T + "/devicegroups/{deviceGroupId}", "DeviceGroups_Get", "Show a device group", role="Reader",
           response=ref("DeviceGroup"), tag="DeviceGroups")
    def get_group(self, call: Call, tenantId: str, deviceGroupId: str):
        return shapes.device_group(self.services.groups.get(tenantId, deviceGroupId))

    @route("PATCH", T + "/devicegroups/{deviceGroupId}", "DeviceGroups_Patch",
           "Update a device group (OsFeedType, UpdatePolicy, ...)", role="Contributor", body="DeviceGroupPatch",
           response=ref("DeviceGroup"), tag="DeviceGroups")
    def patch_group(self, call: Call, tenantId: str, deviceGroupId: str):
        b = call.json
        return shapes.device_group(self.services.groups.update(
            tenantId, deviceGroupId, name=b.get("Name"), description=b.get("Description"),
            os_feed_type=b.get("OsFeedType"), update_policy=b.get("UpdatePolicy"),
            allow_crash_dumps=b.get("AllowCrashDumpsCollection"), regional_data_boundary=b.get("RegionalDataBoundary")))

    @route("DELETE", T + "/devicegroups/{deviceGroupId}", "DeviceGroups_Delete", "Delete an empty device group",
           role="Administrator", status=204, tag="DeviceGroups")
    def delete_group(self, call: Call, tenantId: str, deviceGroupId: str):
        self.services.groups.delete(tenantId, deviceGroupId)

    @route("GET", T + "/devicegroups/{deviceGroupId}/devices", "DeviceGroups_ListDevices",
           "List the devices of a group", role="Reader", response=arr(ref("Device")), tag="DeviceGroups")
    def list_group_devices(self, call: Call, tenantId: str, deviceGroupId: str):
        return [shapes.device(x) for x in self.services.devices.list(tenantId, deviceGroupId)]

    # ---- deployments ------------------------------------------------------------------------------------------
    @route("GET", T + "/devicegroups/{deviceGroupId}/deployments", "Deployments_List",
           "Deployment history of a group (newest first)", role="Reader", response=arr(ref("Deployment")),
           tag="Deployments")
    def list_deployments(self, call: Call, tenantId: str, deviceGroupId: str):
        return [shapes.deployment(x) for x in self.services.deployments.history(tenantId, deviceGroupId)]

    @route("POST", T + "/devicegroups/{deviceGroupId}/deployments", "Deployments_Create",
           "Deploy an image set to a group (deploying an earlier set is the rollback)", role="Contributor",
           body="DeploymentCreate", status=201, response=ref("Deployment"), tag="Deployments")
    def create_deployment(self, call: Call, tenantId: str, deviceGroupId: str):
        made = self.services.deployments.create(tenantId, deviceGroupId, call.json["DeployedImages"], call.user)
        out = shapes.deployment(made)
        del out["Current"]
        return out

    @route("GET", T + "/devicegroups/{deviceGroupId}/deploymentstatus", "Deployments_Status",
           "Per-device progress of the current deployment", role="Reader", response=ref("DeploymentStatus"),
           tag="Deployments")
    def deployment_status(self, call: Call, tenantId: str, deviceGroupId: str):
        return shapes.deployment_status(self.services.deployments.status(tenantId, deviceGroupId))

    # ---- devices ----------------------------------------------------------------------------------------------
    @route("GET", T + "/devices", "Devices_List", "List claimed devices", role="Reader", response=arr(ref("Device")),
           tag="Devices")
    def list_devices(self, call: Call, tenantId: str):
        return [shapes.device(x) for x in self.services.devices.list(tenantId)]

    @route("POST", T + "/devices/claim", "Devices_ClaimNow", "Claim a device at once (emulator alias of PUT "
           ".../devices/{deviceId}/claim; one-time, irreversible)",
           role="Contributor", body="Claim", status=201, response=ref("Device"), tag="Devices")
    def claim_device(self, call: Call, tenantId: str):
        b = call.json
        return shapes.device(self.services.devices.claim(tenantId, b["DeviceId"], b.get("AttestationPublicKey"),
                                                         b.get("DeviceGroupId")))

    @route("PUT", T + "/devices/{deviceId}/claim", "Devices_Claim", "Claim a registered device (202 Operation; "
           "one-time, irreversible)", role="Contributor", status=202, response=ref("Operation"), tag="Devices")
    def claim_device_operation(self, call: Call, tenantId: str, deviceId: str):
        return self._operation(self.services.operations.create(
            tenantId, DEVICE_CLAIM, json.dumps({"DeviceId": deviceId.upper()}).encode(), call.user))

    @route("PUT", T + "/devices", "Devices_BulkClaimIds", "Claim registered devices: a list of at most 1,000 device "
           "IDs (202 Operation)", role="Contributor", body="BulkClaimIds", status=202, response=ref("Operation"),
           tag="Devices")
    def bulk_claim_ids(self, call: Call, tenantId: str):
        return self._operation(self.services.operations.create(
            tenantId, BULK_CLAIM, json.dumps([{"DeviceId": d} for d in call.json]).encode(), call.user))

    @route("POST", T + "/devices/bulkclaim", "Devices_BulkClaim", "Claim many devices (202 Operation)",
           role="Contributor", body="BulkClaim", status=202, response=ref("Operation"), tag="Devices")
    def bulk_claim(self, call: Call, tenantId: str):
        return self._operation(self.services.operations.create(
            tenantId, BULK_CLAIM, json.dumps(call.json["Devices"]).encode(), call.user))

    @route("GET", T + "/devices/{deviceId}", "Devices_Get", "Show a device", role="Reader", response=ref("Device"),
           tag="Devices")
    def get_device(self, call: Call, tenantId: str, deviceId: str):
        return shapes.device(self.services.devices.get(tenantId, deviceId))

    @route("PUT", T + "/devices/{deviceId}/devicegroup", "Devices_Move", "Move a device to a device group",
           role="Contributor", body="MoveDevice", response=ref("Device"), tag="Devices")
    def move_device(self, call: Call, tenantId: str, deviceId: str):
        return shapes.device(self.services.devices.move(tenantId, deviceId, call.json["DeviceGroupId"]))

    @route("PUT", T + "/devices/{deviceId}/capabilities", "Devices_SetCapabilities",
           "Set the capabilities the tenant granted the device (appDevelopment, fieldServicing)", role="Contributor",
           body="Capabilities", response=ref("Device"), tag="Devices")
    def set_capabilities(self, call: Call, tenantId: str, deviceId: str):
        return shapes.device(self.services.devices.set_capabilities(tenantId, deviceId, call.json["Capabilities"]))

    @route("POST", T + "/devices/{deviceId}/capabilities/image", "Devices_CapabilityImage",
           "A signed capability file for the device (default: the capabilities the tenant granted it), to apply "
           "with `mt3620 device run --capability FILE`", role="Contributor", body="CapabilityImageRequest",
           response=ref("CapabilityImage"), tag="Devices")
    def capability_image(self, call: Call, tenantId: str, deviceId: str):
        names = call.json.get("Capabilities")
        image = self.services.devices.capability_image(tenantId, deviceId, names)
        device = self.services.devices.get(tenantId, deviceId)
        return {"DeviceId": device.id, "Capabilities": list(device.capabilities if names is None else names),
                "Image": base64.b64encode(image).decode()}

    @route("GET", T + "/devices/{deviceId}/updatestatus", "Devices_UpdateStatus", "Why is this device (not) updating",
           role="Reader", response=ref("UpdateStatus"), tag="Devices")
    def update_status(self, call: Call, tenantId: str, deviceId: str):
        return shapes.update_status(self.services.devices.update_status(tenantId, deviceId))

    # ---- images -----------------------------------------------------------------------------------------------
    @route("GET", T + "/images", "Images_List", "List uploaded images", role="Reader", response=arr(ref("Image")),
           tag="Images")
    def list_images(self, call: Call, tenantId: str):
        return [shapes.image(i) for i in self.services.images.list(tenantId)]

    @route("POST", T + "/images", "Images_Upload", "Upload an .imagepackage (202 Operation)", role="Contributor",
           body="binary", status=202, response=ref("Operation"), tag="Images")
    def upload_image(self, call: Call, tenantId: str):
        if not call.json:
            raise Invalid("the image package is empty")
        return self._operation(self.services.operations.create(tenantId, IMAGE_UPLOAD, call.json, call.user))

    @route("GET", T + "/images/{imageId}", "Images_Get", "Show an image's metadata", role="Reader",
           response=ref("Image"), tag="Images")
    def get_image(self, call: Call, tenantId: str, imageId: str):
        return shapes.image(self.services.images.get(tenantId, imageId))

    @route("POST", T + "/images/{imageId}/revoke", "Images_Revoke", "Revoke an image: devices running it fail "
           "attestation", role="Administrator", response=ref("Image"), tag="Images")
    def revoke_image(self, call: Call, tenantId: str, imageId: str):
        return shapes.image(self.services.images.revoke(tenantId, imageId))

    @route("PUT", T + "/components/{componentId}/minimumsecurityversion", "Components_SetSvnFloor",
           "Devices below this security version fail attestation as outdated", role="Administrator", body="SvnFloor",
           response=obj({"ComponentId": S(), "MinimumSecurityVersion": INT}), tag="Images")
    def set_svn_floor(self, call: Call, tenantId: str, componentId: str):
        return shapes.svn_floor(self.services.images.set_floor(tenantId, componentId,
                                                               call.json["MinimumSecurityVersion"]))

    @route("GET", T + "/operations/{operationId}", "Operations_Get", "Poll a long-running operation", role="Reader",
           response=ref("Operation"), tag="Operations")
    def get_operation(self, call: Call, tenantId: str, operationId: str):
        op = self.services.operations.get(tenantId, operationId)
        result = resource = None
        done = op.result or {}
        if op.kind == IMAGE_UPLOAD and done:
            result = shapes.image(self.services.images.get(tenantId, done["ImageId"]))
            resource = f"/v2/tenants/{tenantId}/images/{result['Id']}"
        elif op.kind == CREATE_PRODUCT and done:
            resource = f"/v2/tenants/{tenantId}/products/{done['ProductId']}"
        elif op.kind == DEVICE_CLAIM and done:
            resource = f"/v2/tenants/{tenantId}/devices/{done['DeviceId']}"
        elif op.kind == TENANT_CREATION and done:
            resource = f"/v2/tenants/{done['TenantId']}"
        return shapes.operation(op, result, resource)

    # ---- certificates -----------------------------------------------------------------------------------------
    @route("GET", T + "/certificates", "Certificates_List", "List the tenant's CA certificates", role="Reader",
           response=arr(ref("Certificate")), tag="Certificates")
    def list_certificates(self, call: Call, tenantId: str):
        return [shapes.certificate(c) for c in self.services.certificates.list(tenantId)]

    @route("GET", T + "/certificates/{thumbprint}", "Certificates_Get",
           "A tenant CA certificate by thumbprint, 'current' for the active one (PEM; ?format=der)", role="Reader",
           response={"type": "string"}, media="application/x-pem-file",
           extra_media={"application/pkix-cert": {"type": "string", "format": "binary"}},
           query=[("format", {"type": "string", "enum": ["pem", "der"]}, "pem (default) or der")],
           tag="Certificates")
    def get_certificate(self, call: Call, tenantId: str, thumbprint: str):
        cert = self.services.certificates.certificate(tenantId, None if thumbprint == "current" else thumbprint)
        if call.query.get("format", "pem") == "der":
            return Reply(200, pki.der(cert), "application/pkix-cert")
        return Reply(200, pki.pem(cert).encode(), "application/x-pem-file")

    @route("GET", T + "/certificates/{thumbprint}/chain", "Certificates_Chain",
           "Certificate chain as PKCS#7 (.p7b); thumbprint 'current' for the active CA", role="Reader",
           response={"type": "string", "format": "binary"}, media="application/x-pkcs7-certificates",
           tag="Certificates")
    def certificate_chain(self, call: Call, tenantId: str, thumbprint: str):
        chain = self.services.certificates.chain(tenantId, None if thumbprint == "current" else thumbprint)
        return Reply(200, pki.p7b(chain), "application/x-pkcs7-certificates")

    @route("GET", T + "/cert", "Tenants_GetCertificate", "The tenant CA certificate (base64 DER, a .cer), the active "
           "one or ?thumbprint=", role="Reader", response={"type": "string", "format": "byte"},
           query=[("thumbprint", THUMBPRINT, "SHA-1 thumbprint of a tenant CA generation")], tag="Certificates")
    def tenant_certificate(self, call: Call, tenantId: str):
        cert = self.services.certificates.certificate(tenantId, call.query.get("thumbprint"))
        return base64.b64encode(pki.der(cert)).decode()

    @route("GET", T + "/certchain", "Tenants_GetCertificateChain", "The tenant CA's chain (base64 PKCS#7, a .p7b)",
           role="Reader", response={"type": "string", "format": "byte"},
           query=[("thumbprint", THUMBPRINT, "SHA-1 thumbprint of a tenant CA generation")], tag="Certificates")
    def tenant_certificate_chain(self, call: Call, tenantId: str):
        chain = self.services.certificates.chain(tenantId, call.query.get("thumbprint"))
        return base64.b64encode(pki.p7b(chain)).decode()

    @route("GET", T + "/verification/{proofOfPossessionNonce}", "Tenants_GetProofOfPossession",
           "A proof-of-possession certificate (base64 DER, a .cer): CN = the verification code IoT Hub or DPS gave, "
           "signed by the tenant CA", role="Reader", response={"type": "string", "format": "byte"},
           query=[("thumbprint", THUMBPRINT, "the tenant CA generation to sign with")], tag="Certificates")
    def proof_of_possession(self, call: Call, tenantId: str, proofOfPossessionNonce: str):
        if not re.fullmatch(r"[0-9A-Za-z._-]{1,64}", proofOfPossessionNonce):
            raise Invalid("a verification code is 1 to 64 letters, digits, '.', '_' or '-' (it becomes the CN)")
        cert = self.services.certificates.proof_of_possession(tenantId, proofOfPossessionNonce,
                                                              call.query.get("thumbprint"))
        return base64.b64encode(pki.der(cert)).decode()

    # ---- error reports ----------------------------------------------------------------------------------------
    @route("GET", T + "/getDeviceInsights", "DeviceInsights_Get", "Error events of the last 14 days as the real "
           "API's device insights (Unix timestamps), newest first; page on with the Sphere-Continuation request "
           "header", role="Reader", response=page_of("DeviceInsight"),
           query=[("maxPageSize", {"type": "integer", "minimum": 1, "maximum": 1000}, "insights per page (100)")],
           tag="ErrorReports")
    def device_insights(self, call: Call, tenantId: str):
        token = call.headers.get("Sphere-Continuation") or None
        if token is not None and not re.fullmatch(r"[0-9]{1,18}", token):
            raise Invalid("Sphere-Continuation is not a continuation token this service gave")
        page = self.services.error_reports.query(tenantId, None, int(token) if token else None,
                                                 int(call.query.get("maxPageSize", 100)))
        return {"Items": [shapes.device_insight(e) for e in page.events],
                "ContinuationToken": None if page.continuation is None else str(page.continuation)}

    @route("GET", T + "/errorreports", "ErrorReports_List",
           "Error events of the last 14 days, at most 1,000 per query, newest first (JSON pages; ?format=csv)",
           role="Reader", response=page_of("ErrorEvent"), extra_media={"text/csv": {"type": "string"}},
           query=[("deviceGroupId", {"type": "string", "format": "uuid"}, "only this device group"),
                  ("continuationToken", {"type": "string", "pattern": "^[0-9]{1,18}$"}, "from the previous page"),
                  ("maxPageSize", {"type": "integer", "minimum": 1, "maximum": 1000}, "events per page (100)"),
                  ("format", {"type": "string", "enum": ["json", "csv"]}, "json (default) or csv")],
           tag="ErrorReports")
    def error_reports(self, call: Call, tenantId: str):
        group = call.query.get("deviceGroupId") or None
        if group is not None:
            group = self.services.groups.get(tenantId, group).id
        reports = self.services.error_reports
        if call.query.get("format", "json") == "csv":
            page = reports.query(tenantId, group, page_size=MAX_EVENTS)
            out = io.StringIO()
            w = csv.DictWriter(out, fieldnames=shapes.ERROR_EVENT_FIELDS, lineterminator="\n")
            w.writeheader()
            for e in page.events:
                w.writerow(shapes.error_event(e))
            return Reply(200, out.getvalue().encode(), "text/csv")
        token = call.query.get("continuationToken")
        page = reports.query(tenantId, group, int(token) if token else None, int(call.query.get("maxPageSize", 100)))
        return {"Items": [shapes.error_event(e) for e in page.events],
                "ContinuationToken": None if page.continuation is None else str(page.continuation)}
