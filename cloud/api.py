"""HTTP edges: the management REST API (tokens and roles) and the device API (mutual TLS), as WSGI apps.

Routes are declared as data (method, path, role, request and response schemas), so the same table routes
requests, validates JSON bodies and produces the published OpenAPI document (/openapi.json).

Shape follows the real v2 API of the Azure Sphere Security Service (resource nesting tenants/{id}/products,
devicegroups, deployments, devices, images, operations; PascalCase JSON fields; long-running calls answer 202
with an Operation to poll). Exact paths and fields beyond that are emulator-defined (docs/cloud.md).
"""
from __future__ import annotations

import base64
import binascii
import json
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

import jsonschema
from cryptography import x509
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import BaseConverter, Map, Rule
from werkzeug.wrappers import Request, Response

from mt3620 import attestation as ae

from . import pki, verifier
from .store import EVENT_IN_FUTURE, EVENT_TOO_OLD, ROLE_RANK, ServiceError, Store, User

log = logging.getLogger("mt3620.cloud.api")
API_VERSION = "2.0.0"
MAX_JSON_BODY = 8 * 1024 * 1024   # a bulk claim of 5,000 devices fits

# ---- schemas ------------------------------------------------------------------------------------------------
S = lambda **kw: {"type": "string", **kw}  # noqa: E731
NS = lambda **kw: {"type": "string", "nullable": True, **kw}  # noqa: E731
GUID = {"type": "string", "format": "uuid"}
GUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
INT = {"type": "integer"}


def obj(props: dict, required: list | None = None, extra: bool = True) -> dict:
    out = {"type": "object", "properties": props}
    if required:
        out["required"] = required
    if not extra:
        out["additionalProperties"] = False
    return out


def arr(items: dict) -> dict:
    return {"type": "array", "items": items}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


SCHEMAS = {
    "Error": obj({"Code": S(), "Message": S()}, ["Code", "Message"]),
    "Tenant": obj({"Id": GUID, "Name": S(), "CreatedAt": NS(), "Roles": arr(S())}, ["Id", "Name"]),
    "Product": obj({"Id": GUID, "TenantId": GUID, "Name": S(), "Description": S()}, ["Id", "Name"]),
    "DeviceGroup": obj({"Id": GUID, "TenantId": GUID, "ProductId": GUID, "Name": S(), "Description": S(),
                        "OsFeedType": {"type": "integer", "enum": [0, 1]},
                        "UpdatePolicy": {"type": "integer", "enum": [0, 1]},
                        "AllowCrashDumpsCollection": {"type": "boolean"}, "CurrentDeploymentId": NS()},
                       ["Id", "ProductId", "Name", "OsFeedType", "UpdatePolicy"]),
    "Image": obj({"Id": GUID, "ComponentId": GUID, "ImageType": INT, "Name": S(), "SecurityVersion": INT,
                  "SigningThumbprint": S(), "Sha256": S(), "Size": INT,
                  "TrustStatus": {"type": "string", "enum": ["Trusted", "Revoked"]}, "UploadedAt": NS()},
                 ["Id", "ComponentId", "ImageType"]),
    "Deployment": obj({"Id": GUID, "DeviceGroupId": GUID, "DeployedImages": arr(GUID), "DeploymentDateUtc": S(),
                       "DeployedBy": S(), "Current": {"type": "boolean"}}, ["Id", "DeployedImages"]),
    "Device": obj({"DeviceId": S(), "TenantId": GUID, "DeviceGroupId": NS(), "ChipSku": S(),
                   "Capabilities": arr(S()), "ReportedCapabilities": arr(S()), "OsVersion": S(),
                   "InstalledImages": {"type": "object", "additionalProperties": S()}, "ClaimedAt": NS(),
                   "LastAttestedAt": NS(), "LastUpdateCheckAt": NS()}, ["DeviceId", "TenantId"]),
    "Operation": obj({"Id": GUID, "TenantId": GUID, "Kind": S(),
                      "State": {"type": "string", "enum": ["NotStarted", "InProgress", "Complete", "Failed"]},
                      "CreatedDateUtc": S(), "LastUpdatedDateUtc": S(), "Result": {}, "Error": ref("Error")},
                     ["Id", "State"]),
    "Role": obj({"User": S(), "Roles": arr(S())}, ["User", "Roles"]),
    "Certificate": obj({"Thumbprint": S(), "Status": {"type": "string", "enum": ["Active", "Inactive", "Expired"]},
                        "StartDate": S(), "EndDate": S(), "ActiveFrom": S(), "Subject": S()}, ["Thumbprint", "Status"]),
    "ErrorEvent": obj({"DeviceId": S(), "DeviceGroupId": NS(), "EventTime": S(), "EventCategory": S(),
                       "EventClass": S(), "EventType": S(), "Description": S(), "EventCount": INT, "OsVersion": S(),
                       "ComponentId": S(), "ImageId": S()}, ["DeviceId", "EventTime"]),
    "UpdateStatus": obj({"DeviceId": S(), "DeviceGroupId": NS(),
                         "Reasons": arr(obj({"Code": S(), "Message": S()}, ["Code", "Message"])),
                         "Images": arr(obj({"ImageId": S(), "State": S(), "DeploymentId": NS(), "OfferedAt": NS(),
                                            "Deadline": NS()}))}, ["DeviceId", "Reasons"]),
    "DeploymentStatus": obj({"DeviceGroupId": GUID, "DeploymentId": NS(),
                             "Summary": {"type": "object", "additionalProperties": INT}, "Devices": arr(obj({}))},
                            ["DeviceGroupId", "Summary"]),
}


def page_of(item: str) -> dict:
    return obj({"Items": arr(ref(item)), "ContinuationToken": NS()}, ["Items"])


NAME = {"type": "string", "minLength": 1, "maxLength": 200}
BODY = {
    "TenantCreate": obj({"Name": NAME}, ["Name"]),
    "ProductCreate": obj({"Name": NAME, "Description": {"type": "string", "maxLength": 2000},
                          "CreateDefaultGroups": {"type": "boolean"}}, ["Name"]),
    "ProductPatch": obj({"Name": NAME, "Description": {"type": "string", "maxLength": 2000}}),
    "DeviceGroupCreate": obj({"Name": NAME, "Description": {"type": "string", "maxLength": 2000},
                              "OsFeedType": {"type": "integer", "enum": [0, 1]},
                              "UpdatePolicy": {"type": "integer", "enum": [0, 1]},
                              "AllowCrashDumpsCollection": {"type": "boolean"}}, ["Name"]),
    "DeviceGroupPatch": obj({"Name": NAME, "Description": {"type": "string", "maxLength": 2000},
                             "OsFeedType": {"type": "integer", "enum": [0, 1]},
                             "UpdatePolicy": {"type": "integer", "enum": [0, 1]},
                             "AllowCrashDumpsCollection": {"type": "boolean"}}),
    "DeploymentCreate": obj({"DeployedImages": {"type": "array", "items": {"type": "string", "format": "uuid",
                                                                           "pattern": GUID_PATTERN},
                                                 "maxItems": 64}},
                            ["DeployedImages"]),
    "Claim": obj({"DeviceId": {"type": "string", "minLength": 128, "maxLength": 128, "pattern": "^[0-9A-Fa-f]+$"},
                  "AttestationPublicKey": {"type": "string", "pattern": "^[0-9A-Fa-f]{128}$"},
                  "DeviceGroupId": {"type": "string", "format": "uuid", "pattern": GUID_PATTERN}}, ["DeviceId"]),
    "MoveDevice": obj({"DeviceGroupId": {"type": "string", "format": "uuid", "pattern": GUID_PATTERN}},
                      ["DeviceGroupId"]),
    "Capabilities": obj({"Capabilities": {"type": "array", "items": {"type": "string", "enum": [
        "appDevelopment", "fieldServicing", "rfTest"]}, "maxItems": 8}},
                        ["Capabilities"]),
    "RoleAdd": obj({"User": NAME, "Role": {"type": "string", "enum": ["Administrator", "Contributor", "Reader"]}},
                   ["User", "Role"]),
    "SvnFloor": obj({"MinimumSecurityVersion": {"type": "integer", "minimum": 0, "maximum": 4294967295}},
                    ["MinimumSecurityVersion"]),
}
BODY["BulkClaim"] = obj({"Devices": {"type": "array", "items": BODY["Claim"], "minItems": 1, "maxItems": 5000}},
                        ["Devices"])


@dataclass
class Route:
    method: str
    path: str
    op_id: str
    summary: str
    role: str | None                   # minimum tenant role; None = any authenticated user (no tenant)
    handler: str
    body: str | None = None            # BODY schema name, "binary" for a raw upload
    status: int = 200
    response: dict | None = None       # schema; None = no body
    media: str = "application/json"
    query: list = field(default_factory=list)   # (name, schema, description)
    tag: str = ""


R = Route
ROUTES = [
    R("GET", "/v2/tenants", "Tenants_List", "List the tenants you hold a role in", None, "list_tenants",
      response=arr(ref("Tenant")), tag="Tenants"),
    R("POST", "/v2/tenants", "Tenants_Create", "Create a tenant (you become its Administrator)", None,
      "create_tenant", body="TenantCreate", status=201, response=ref("Tenant"), tag="Tenants"),
    R("GET", "/v2/tenants/<tenantId>", "Tenants_Get", "Show a tenant", "Reader", "get_tenant",
      response=ref("Tenant"), tag="Tenants"),
    R("GET", "/v2/tenants/<tenantId>/roles", "Roles_List", "List role assignments", "Reader", "list_roles",
      response=arr(ref("Role")), tag="Roles"),
    R("POST", "/v2/tenants/<tenantId>/roles", "Roles_Add", "Give a user a role", "Administrator", "add_role",
      body="RoleAdd", response=ref("Role"), tag="Roles"),
    R("DELETE", "/v2/tenants/<tenantId>/roles/<userName>", "Roles_Delete", "Remove a user's role", "Administrator",
      "delete_role", status=204, tag="Roles"),
    R("GET", "/v2/tenants/<tenantId>/products", "Products_List", "List products", "Reader", "list_products",
      response=arr(ref("Product")), tag="Products"),
    R("POST", "/v2/tenants/<tenantId>/products", "Products_Create", "Create a product and its five default device "
      "groups", "Contributor", "create_product", body="ProductCreate", status=201, response=ref("Product"),
      tag="Products"),
    R("GET", "/v2/tenants/<tenantId>/products/<productId>", "Products_Get", "Show a product", "Reader",
      "get_product", response=ref("Product"), tag="Products"),
    R("PATCH", "/v2/tenants/<tenantId>/products/<productId>", "Products_Patch", "Update a product", "Contributor",
      "patch_product", body="ProductPatch", response=ref("Product"), tag="Products"),
    R("DELETE", "/v2/tenants/<tenantId>/products/<productId>", "Products_Delete", "Delete a product",
      "Administrator", "delete_product", status=204, tag="Products"),
    R("GET", "/v2/tenants/<tenantId>/products/<productId>/devicegroups", "DeviceGroups_ListByProduct",
      "List a product's device groups", "Reader", "list_product_groups", response=arr(ref("DeviceGroup")),
      tag="DeviceGroups"),
    R("POST", "/v2/tenants/<tenantId>/products/<productId>/devicegroups", "DeviceGroups_Create",
      "Create a device group", "Contributor", "create_group", body="DeviceGroupCreate", status=201,
      response=ref("DeviceGroup"), tag="DeviceGroups"),
    R("GET", "/v2/tenants/<tenantId>/devicegroups", "DeviceGroups_List", "List all device groups", "Reader",
      "list_groups", response=arr(ref("DeviceGroup")), tag="DeviceGroups"),
    R("GET", "/v2/tenants/<tenantId>/devicegroups/<deviceGroupId>", "DeviceGroups_Get", "Show a device group",
      "Reader", "get_group", response=ref("DeviceGroup"), tag="DeviceGroups"),
    R("PATCH", "/v2/tenants/<tenantId>/devicegroups/<deviceGroupId>", "DeviceGroups_Patch",
      "Update a device group (OsFeedType, UpdatePolicy, ...)", "Contributor", "patch_group",
      body="DeviceGroupPatch", response=ref("DeviceGroup"), tag="DeviceGroups"),
    R("DELETE", "/v2/tenants/<tenantId>/devicegroups/<deviceGroupId>", "DeviceGroups_Delete",
      "Delete an empty device group", "Administrator", "delete_group", status=204, tag="DeviceGroups"),
    R("GET", "/v2/tenants/<tenantId>/devicegroups/<deviceGroupId>/devices", "DeviceGroups_ListDevices",
      "List the devices of a group", "Reader", "list_group_devices", response=arr(ref("Device")),
      tag="DeviceGroups"),
    R("GET", "/v2/tenants/<tenantId>/devicegroups/<deviceGroupId>/deployments", "Deployments_List",
      "Deployment history of a group (newest first)", "Reader", "list_deployments",
      response=arr(ref("Deployment")), tag="Deployments"),
    R("POST", "/v2/tenants/<tenantId>/devicegroups/<deviceGroupId>/deployments", "Deployments_Create",
      "Deploy an image set to a group (deploying an earlier set is the rollback)", "Contributor",
      "create_deployment", body="DeploymentCreate", status=201, response=ref("Deployment"), tag="Deployments"),
    R("GET", "/v2/tenants/<tenantId>/devicegroups/<deviceGroupId>/deploymentstatus", "Deployments_Status",
      "Per-device progress of the current deployment", "Reader", "deployment_status",
      response=ref("DeploymentStatus"), tag="Deployments"),
    R("GET", "/v2/tenants/<tenantId>/devices", "Devices_List", "List claimed devices", "Reader", "list_devices",
      response=arr(ref("Device")), tag="Devices"),
    R("POST", "/v2/tenants/<tenantId>/devices/claim", "Devices_Claim", "Claim a device (one-time, irreversible)",
      "Contributor", "claim_device", body="Claim", status=201, response=ref("Device"), tag="Devices"),
    R("POST", "/v2/tenants/<tenantId>/devices/bulkclaim", "Devices_BulkClaim", "Claim many devices (202 Operation)",
      "Contributor", "bulk_claim", body="BulkClaim", status=202, response=ref("Operation"), tag="Devices"),
    R("GET", "/v2/tenants/<tenantId>/devices/<deviceId>", "Devices_Get", "Show a device", "Reader", "get_device",
      response=ref("Device"), tag="Devices"),
    R("PUT", "/v2/tenants/<tenantId>/devices/<deviceId>/devicegroup", "Devices_Move",
      "Move a device to a device group", "Contributor", "move_device", body="MoveDevice", response=ref("Device"),
      tag="Devices"),
    R("PUT", "/v2/tenants/<tenantId>/devices/<deviceId>/capabilities", "Devices_SetCapabilities",
      "Set the capabilities the tenant granted the device (appDevelopment, fieldServicing)", "Contributor",
      "set_capabilities", body="Capabilities", response=ref("Device"), tag="Devices"),
    R("GET", "/v2/tenants/<tenantId>/devices/<deviceId>/updatestatus", "Devices_UpdateStatus",
      "Why is this device (not) updating", "Reader", "update_status", response=ref("UpdateStatus"), tag="Devices"),
    R("GET", "/v2/tenants/<tenantId>/images", "Images_List", "List uploaded images", "Reader", "list_images",
      response=arr(ref("Image")), tag="Images"),
    R("POST", "/v2/tenants/<tenantId>/images", "Images_Upload", "Upload an .imagepackage (202 Operation)",
      "Contributor", "upload_image", body="binary", status=202, response=ref("Operation"), tag="Images"),
    R("GET", "/v2/tenants/<tenantId>/images/<imageId>", "Images_Get", "Show an image's metadata", "Reader",
      "get_image", response=ref("Image"), tag="Images"),
    R("POST", "/v2/tenants/<tenantId>/images/<imageId>/revoke", "Images_Revoke",
      "Revoke an image: devices running it fail attestation", "Administrator", "revoke_image",
      response=ref("Image"), tag="Images"),
    R("PUT", "/v2/tenants/<tenantId>/components/<componentId>/minimumsecurityversion", "Components_SetSvnFloor",
      "Devices below this security version fail attestation as outdated", "Administrator", "set_svn_floor",
      body="SvnFloor", response=obj({"ComponentId": S(), "MinimumSecurityVersion": INT}), tag="Images"),
    R("GET", "/v2/tenants/<tenantId>/operations/<operationId>", "Operations_Get", "Poll a long-running operation",
      "Reader", "get_operation", response=ref("Operation"), tag="Operations"),
    R("GET", "/v2/tenants/<tenantId>/certificates", "Certificates_List", "List the tenant's CA certificates",
      "Reader", "list_certificates", response=arr(ref("Certificate")), tag="Certificates"),
    R("GET", "/v2/tenants/<tenantId>/certificates/<thumbprint>", "Certificates_Get",
      "A tenant CA certificate by thumbprint, 'current' for the active one (PEM; ?format=der)", "Reader",
      "current_certificate",
      response={"type": "string"}, media="application/x-pem-file",
      query=[("format", {"type": "string", "enum": ["pem", "der"]}, "pem (default) or der")], tag="Certificates"),
    R("GET", "/v2/tenants/<tenantId>/certificates/<thumbprint>/chain", "Certificates_Chain",
      "Certificate chain as PKCS#7 (.p7b); thumbprint 'current' for the active CA", "Reader", "certificate_chain",
      response={"type": "string", "format": "binary"}, media="application/x-pkcs7-certificates", tag="Certificates"),
    R("GET", "/v2/tenants/<tenantId>/errorreports", "ErrorReports_List",
      "Error events of the last 14 days, at most 1,000 per query, newest first (JSON pages; ?format=csv)",
      "Reader", "error_reports", response=page_of("ErrorEvent"),
      query=[("deviceGroupId", {"type": "string", "format": "uuid"}, "only this device group"),
             ("continuationToken", {"type": "string", "pattern": "^[0-9]{1,18}$"}, "from the previous page"),
             ("maxPageSize", {"type": "integer", "minimum": 1, "maximum": 1000}, "events per page (100)"),
             ("format", {"type": "string", "enum": ["json", "csv"]}, "json (default) or csv")], tag="ErrorReports"),
]


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, separators=(",", ":")), status=status, mimetype="application/json")


def _error(status: int, code: str, message: str) -> Response:
    return _json({"Code": code, "Message": message}, status)


def _route(url_map, request: Request):
    """The endpoint and arguments of a request, or the JSON error response when no route takes it."""
    adapter = url_map.bind_to_environ(request.environ)
    try:
        return adapter.match()
    except MethodNotAllowed as exc:
        response = _error(405, "MethodNotAllowed", f"{request.method} is not allowed on {request.path}")
        response.headers["Allow"] = ", ".join(sorted(exc.valid_methods or ()))   # RFC 9110 15.5.6
        return response
    except NotFound:
        return _error(404, "NotFound", f"no route {request.path}")
    except HTTPException as exc:
        return _error(exc.code or 400, "BadRequest", exc.description or "bad request")


PATH_PARAMS = {
    "tenantId": {"type": "string", "format": "uuid", "pattern": GUID_PATTERN},
    "productId": {"type": "string", "format": "uuid", "pattern": GUID_PATTERN},
    "deviceGroupId": {"type": "string", "format": "uuid", "pattern": GUID_PATTERN},
    "imageId": {"type": "string", "format": "uuid", "pattern": GUID_PATTERN},
    "componentId": {"type": "string", "format": "uuid", "pattern": GUID_PATTERN},
    "operationId": {"type": "string", "format": "uuid", "pattern": GUID_PATTERN},
    "deviceId": {"type": "string", "pattern": "^[0-9A-Fa-f]{128}$"},
    "thumbprint": {"type": "string", "pattern": "^(current|[0-9A-Fa-f]{40})$"},
    "userName": {"type": "string", "minLength": 1, "maxLength": 200},
}


def openapi_path(path: str) -> str:
    return path.replace("<", "{").replace(">", "}")


def openapi_document(server_url: str | None = None) -> dict:
    paths: dict = {}
    errors = {str(c): {"description": d, "content": {"application/json": {"schema": ref("Error")}}}
              for c, d in ((400, "Bad request"), (401, "Missing or invalid token"), (403, "Role too low"),
                           (404, "Not found (or not visible to you)"), (405, "Method not allowed"),
                           (409, "Conflict"), (413, "Body too large"), (415, "Wrong content type"))}
    for r in ROUTES:
        op: dict = {"operationId": r.op_id, "summary": r.summary, "tags": [r.tag] if r.tag else [],
                    "security": [{"bearerAuth": []}], "parameters": []}
        for part in r.path.split("/"):
            if part.startswith("<"):
                name = part[1:-1]
                schema = PATH_PARAMS.get(name, {"type": "string", "minLength": 1})
                op["parameters"].append({"name": name, "in": "path", "required": True, "schema": schema})
        for name, schema, desc in r.query:
            op["parameters"].append({"name": name, "in": "query", "required": False, "schema": schema,
                                     "description": desc})
        if r.body == "binary":   # an empty upload is refused at once (400); schemathesis generated one 1 run in 8
            op["requestBody"] = {"required": True, "content": {"application/octet-stream": {
                "schema": {"type": "string", "format": "binary", "minLength": 1}}}}
        elif r.body:
            op["requestBody"] = {"required": True, "content": {"application/json": {"schema": BODY[r.body]}}}
        ok: dict = {"description": "Success"}
        if r.response is not None:
            if r.media == "application/json":
                ok["content"] = {"application/json": {"schema": r.response}}
            else:
                ok["content"] = {r.media: {"schema": r.response}}
                if r.handler == "current_certificate":
                    ok["content"]["application/pkix-cert"] = {"schema": {"type": "string", "format": "binary"}}
        if r.handler == "error_reports":
            ok["content"]["text/csv"] = {"schema": {"type": "string"}}
        op["responses"] = {str(r.status): ok, **errors}
        paths.setdefault(openapi_path(r.path), {})[r.method.lower()] = op
    doc = {"openapi": "3.0.3",
           "info": {"title": "MT3620 emulator security service (Azure Sphere Security Service stand-in)",
                    "version": API_VERSION,
                    "description": "Management API. Authenticate with `Authorization: Bearer <token>`. Device "
                                   "endpoints (mutual TLS) are described at /device/v1/openapi.json on the "
                                   "device endpoint and in docs/cloud.md."},
           "paths": paths,
           "components": {"schemas": SCHEMAS, "securitySchemes": {"bearerAuth": {"type": "http",
                                                                                 "scheme": "bearer"}}}}
    if server_url:
        doc["servers"] = [{"url": server_url}]
    return doc


class Hex128Converter(BaseConverter):
    """A device ID path segment: 128 hex characters (so /devices/claim is never read as a device ID)."""
    regex = "[0-9A-Fa-f]{128}"


def _validator(schema: dict):
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())


class ManagementApp:
    """WSGI app of the management API."""

    def __init__(self, store: Store, wake_worker: Callable[[], None] | None = None) -> None:
        self.store = store
        self.wake_worker = wake_worker or (lambda: None)
        self.url_map = Map([Rule(r.path.replace("<deviceId>", "<hex128:deviceId>"), endpoint=i, methods=[r.method])
                            for i, r in enumerate(ROUTES)]
                           + [Rule("/openapi.json", endpoint="openapi", methods=["GET"]),
                              Rule("/healthz", endpoint="health", methods=["GET"]),
                              Rule("/rootca.pem", endpoint="rootca", methods=["GET"])], strict_slashes=False,
                           converters={"hex128": Hex128Converter})
        self.validators = {name: _validator(schema) for name, schema in BODY.items()}

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except ServiceError as exc:
            response = _error(exc.status, exc.code, exc.message)
        except Exception:  # noqa: BLE001 - a bug must answer 500 with a JSON error, not crash the worker
            log.exception("unhandled error on %s %s", request.method, request.path)
            response = _error(500, "InternalError", "internal error (see the service log)")
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        routed = _route(self.url_map, request)
        if isinstance(routed, Response):
            return routed
        endpoint, args = routed
        if endpoint == "openapi":
            return _json(openapi_document(request.host_url.rstrip("/")))
        if endpoint == "health":
            return _json({"Status": "OK"})
        if endpoint == "rootca":   # public trust anchor of the device endpoint and of every tenant CA
            return Response(pki.pem(self.store.root_certificate()), mimetype="application/x-pem-file")
        route = ROUTES[endpoint]
        user = self._user(request)
        role = None
        if "tenantId" in args:
            try:
                args["tenantId"] = str(uuid.UUID(args["tenantId"]))
            except ValueError:
                raise ServiceError(404, "NotFound", "tenant not found") from None
            role = self.store.role_of(user, args["tenantId"])
            if role is None:   # another tenant's data is invisible, not merely forbidden
                raise ServiceError(404, "NotFound", "tenant not found")
            if ROLE_RANK[role] < ROLE_RANK[route.role]:
                raise ServiceError(403, "Forbidden", f"{route.op_id} needs the {route.role} role; you are {role}")
        self._query(request, route)
        body = self._body(request, route)
        handler = getattr(self, "h_" + route.handler)
        result = handler(request, user, body, **args)
        if isinstance(result, Response):
            return result
        if route.status == 204:
            return Response(status=204)
        return _json(result, route.status)

    def _user(self, request: Request) -> User:
        auth = request.headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ServiceError(401, "Unauthorized", "send 'Authorization: Bearer <token>'")
        user = self.store.authenticate(token.strip())
        if user is None:
            raise ServiceError(401, "Unauthorized", "the token is not valid")
        return user

    def _query(self, request: Request, route: Route) -> None:
        """Present query parameters must match their declared schemas (an empty value is not 'absent')."""
        for name, schema, _ in route.query:
            if name not in request.args:
                continue
            value: Any = request.args[name]
            if schema.get("type") == "integer":
                try:
                    value = int(value)
                except ValueError:
                    raise ServiceError(400, "BadRequest", f"query parameter {name} must be an integer") from None
            error = next(iter(_validator(schema).iter_errors(value)), None)
            if error is not None or (schema.get("format") == "uuid" and not _is_guid(value)):
                raise ServiceError(400, "BadRequest", f"query parameter {name}: "
                                                      f"{error.message if error else 'not a GUID'}")

    def _body(self, request: Request, route: Route):
        if route.body is None:
            return None
        if request.content_length is not None and request.content_length > (
                64 * 1024 * 1024 if route.body == "binary" else MAX_JSON_BODY):
            raise ServiceError(413, "PayloadTooLarge", "request body too large")
        if route.body == "binary":
            if request.mimetype not in ("application/octet-stream", ""):
                raise ServiceError(415, "UnsupportedMediaType", "upload the package as application/octet-stream")
            return request.get_data(cache=False)
        if request.mimetype != "application/json":
            raise ServiceError(415, "UnsupportedMediaType", "send the body as application/json")
        try:
            body = json.loads(request.get_data(cache=False) or b"null")
        except (ValueError, UnicodeDecodeError) as exc:
            raise ServiceError(400, "BadRequest", f"body is not valid JSON: {exc}") from None
        errors = sorted(self.validators[route.body].iter_errors(body), key=lambda e: list(e.path))
        if errors:
            e = errors[0]
            where = "/".join(str(p) for p in e.path) or "body"
            raise ServiceError(400, "BadRequest", f"{where}: {e.message}")
        return body

    # ---- handlers -------------------------------------------------------------------------------------------
    def h_list_tenants(self, req, user, body):
        return self.store.list_tenants(user)

    def h_create_tenant(self, req, user, body):
        return self.store.create_tenant(user, body["Name"])

    def h_get_tenant(self, req, user, body, tenantId):
        return dict(self.store.get_tenant(tenantId), Roles=[self.store.role_of(user, tenantId)])

    def h_list_roles(self, req, user, body, tenantId):
        return self.store.list_roles(tenantId)

    def h_add_role(self, req, user, body, tenantId):
        return self.store.set_role(tenantId, body["User"], body["Role"])

    def h_delete_role(self, req, user, body, tenantId, userName):
        self.store.remove_role(tenantId, userName)

    def h_list_products(self, req, user, body, tenantId):
        return self.store.list_products(tenantId)

    def h_create_product(self, req, user, body, tenantId):
        return self.store.create_product(tenantId, body["Name"], body.get("Description", ""),
                                         body.get("CreateDefaultGroups", True))

    def h_get_product(self, req, user, body, tenantId, productId):
        return self.store.get_product(tenantId, productId)

    def h_patch_product(self, req, user, body, tenantId, productId):
        return self.store.update_product(tenantId, productId, body.get("Name"), body.get("Description"))

    def h_delete_product(self, req, user, body, tenantId, productId):
        self.store.delete_product(tenantId, productId)

    def h_list_product_groups(self, req, user, body, tenantId, productId):
        return self.store.list_device_groups(tenantId, productId)

    def h_create_group(self, req, user, body, tenantId, productId):
        return self.store.create_device_group(tenantId, productId, body["Name"], body.get("Description", ""),
                                              body.get("OsFeedType", 0), body.get("UpdatePolicy", 0),
                                              body.get("AllowCrashDumpsCollection", False))

    def h_list_groups(self, req, user, body, tenantId):
        return self.store.list_device_groups(tenantId)

    def h_get_group(self, req, user, body, tenantId, deviceGroupId):
        return self.store.get_device_group(tenantId, deviceGroupId)

    def h_patch_group(self, req, user, body, tenantId, deviceGroupId):
        return self.store.update_device_group(tenantId, deviceGroupId, body)

    def h_delete_group(self, req, user, body, tenantId, deviceGroupId):
        self.store.delete_device_group(tenantId, deviceGroupId)

    def h_list_group_devices(self, req, user, body, tenantId, deviceGroupId):
        return self.store.list_devices(tenantId, deviceGroupId)

    def h_list_deployments(self, req, user, body, tenantId, deviceGroupId):
        return self.store.list_deployments(tenantId, deviceGroupId)

    def h_create_deployment(self, req, user, body, tenantId, deviceGroupId):
        return self.store.create_deployment(tenantId, deviceGroupId, body["DeployedImages"], user)

    def h_deployment_status(self, req, user, body, tenantId, deviceGroupId):
        return self.store.deployment_status(tenantId, deviceGroupId)

    def h_list_devices(self, req, user, body, tenantId):
        return self.store.list_devices(tenantId)

    def h_claim_device(self, req, user, body, tenantId):
        return self.store.claim_device(tenantId, body)

    def h_bulk_claim(self, req, user, body, tenantId):
        op = self.store.create_operation(tenantId, "BulkClaim", json.dumps(body["Devices"]).encode(), user)
        self.wake_worker()
        return _operation_response(op)

    def h_get_device(self, req, user, body, tenantId, deviceId):
        return self.store.get_device(tenantId, deviceId)

    def h_move_device(self, req, user, body, tenantId, deviceId):
        return self.store.move_device(tenantId, deviceId, body["DeviceGroupId"])

    def h_set_capabilities(self, req, user, body, tenantId, deviceId):
        return self.store.set_device_capabilities(tenantId, deviceId, body["Capabilities"])

    def h_update_status(self, req, user, body, tenantId, deviceId):
        return self.store.update_status(tenantId, deviceId)

    def h_list_images(self, req, user, body, tenantId):
        return self.store.list_images(tenantId)

    def h_upload_image(self, req, user, body, tenantId):
        if not body:
            raise ServiceError(400, "BadRequest", "the image package is empty")
        op = self.store.create_operation(tenantId, "ImageUpload", body, user)
        self.wake_worker()
        return _operation_response(op)

    def h_get_image(self, req, user, body, tenantId, imageId):
        return self.store.get_image(tenantId, imageId)

    def h_revoke_image(self, req, user, body, tenantId, imageId):
        return self.store.revoke_image(tenantId, imageId)

    def h_set_svn_floor(self, req, user, body, tenantId, componentId):
        return self.store.set_svn_floor(tenantId, componentId, body["MinimumSecurityVersion"])

    def h_get_operation(self, req, user, body, tenantId, operationId):
        return self.store.get_operation(tenantId, operationId)

    def h_list_certificates(self, req, user, body, tenantId):
        return self.store.list_certificates(tenantId)

    def h_current_certificate(self, req, user, body, tenantId, thumbprint):
        cert = self.store.certificate(tenantId, None if thumbprint == "current" else thumbprint)
        fmt = req.args.get("format", "pem")
        if fmt == "der":
            return Response(pki.der(cert), mimetype="application/pkix-cert")
        if fmt != "pem":
            raise ServiceError(400, "BadRequest", "format must be pem or der")
        return Response(pki.pem(cert), mimetype="application/x-pem-file")

    def h_certificate_chain(self, req, user, body, tenantId, thumbprint):
        chain = self.store.certificate_chain(tenantId, None if thumbprint == "current" else thumbprint)
        return Response(pki.p7b(chain), mimetype="application/x-pkcs7-certificates")

    def h_error_reports(self, req, user, body, tenantId):
        group = req.args.get("deviceGroupId") or None
        fmt = req.args.get("format", "json")
        if fmt not in ("json", "csv"):
            raise ServiceError(400, "BadRequest", "format must be json or csv")
        if group is not None:
            try:
                group = str(uuid.UUID(group))
            except ValueError:
                raise ServiceError(400, "BadRequest", "deviceGroupId is not a GUID") from None
        if fmt == "csv":
            return Response(self.store.error_report_csv(tenantId, group), mimetype="text/csv")
        try:
            size = int(req.args.get("maxPageSize", 100))
            token = req.args.get("continuationToken")
            after = int(token) if token else None
        except ValueError:
            raise ServiceError(400, "BadRequest", "maxPageSize and continuationToken must be integers") from None
        if not 1 <= size <= 1000:
            raise ServiceError(400, "BadRequest", "maxPageSize must be 1 .. 1000")
        items, next_token = self.store.error_events(tenantId, group, after, size)
        return {"Items": items, "ContinuationToken": None if next_token is None else str(next_token)}


def _is_guid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
        return True
    except ValueError:
        return False


def _operation_response(op: dict) -> Response:
    response = _json(op, 202)
    response.headers["Location"] = f"/v2/tenants/{op['TenantId']}/operations/{op['Id']}"
    return response


# ---- device API (mutual TLS) --------------------------------------------------------------------------------

DEVICE_API_VERSION = "1.1.0"   # 1.1: error uploads answer Dropped (events outside the report's time window)
B64 = {"type": "string", "format": "byte"}
HEX128 = {"type": "string", "pattern": "^[0-9A-Fa-f]{128}$"}
DEVICE_SCHEMAS = {
    "Error": SCHEMAS["Error"],
    "Device": SCHEMAS["Device"],
    "NonceRequest": obj({"DeviceId": HEX128}, ["DeviceId"]),
    "Nonce": obj({"Nonce": B64, "ExpiresAt": S(format="date-time"), "ExpiresInSeconds": INT},
                 ["Nonce", "ExpiresAt", "ExpiresInSeconds"]),
    "AttestationRequest": obj({"Evidence": B64, "ClientPublicKey": B64, "Nonce": B64, "TenantId": GUID},
                              ["Evidence", "ClientPublicKey", "Nonce"]),
    "AttestationPassed": obj({"Result": S(enum=["Passed"]), "ClientCertificate": S(), "UpdateCertificate": S(),
                              "CertificateChain": S(), "RootCertificate": S(), "ExpiresAt": S(format="date-time"),
                              "AttestationResult": obj({})},
                             ["Result", "ClientCertificate", "UpdateCertificate", "CertificateChain",
                              "RootCertificate", "ExpiresAt"]),
    "AttestationFailed": obj({"Result": S(enum=["Failed"]), "Reason": S(enum=list(verifier.REASONS)),
                              "Message": S()}, ["Result", "Reason", "Message"]),
    "UpdateCheckRequest": obj({"InstalledImages": {"type": "array", "maxItems": 64, "items": obj(
                                   {"ComponentId": GUID, "ImageId": GUID}, ["ComponentId", "ImageId"])},
                               "OsVersion": S(maxLength=64), "BootId": S(maxLength=64),
                               "Capabilities": arr(S()), "FailedImages": arr(GUID)}),
    "UpdateCheck": obj({"DeviceId": HEX128, "DeviceGroupId": NS(), "DeploymentId": NS(),
                        "TargetImages": arr(obj({"ImageId": GUID, "ComponentId": GUID, "ImageType": INT,
                                                 "SecurityVersion": INT, "DownloadPath": S()},
                                                ["ImageId", "ComponentId", "DownloadPath"])),
                        "Os": {"type": "object", "nullable": True,
                               "properties": {"Feed": INT, "TargetVersion": S()}},
                        "Reasons": arr(obj({"Code": S(), "Message": S()}, ["Code", "Message"])),
                        "NextCheckSeconds": INT},
                       ["DeviceId", "TargetImages", "Os", "Reasons", "NextCheckSeconds"]),
    "ErrorReportUpload": obj({"Events": {"type": "array", "maxItems": 1000, "items": obj(
        {"EventTime": S(description="ISO 8601; UTC when it carries no offset"), "EventCategory": S(),
         "EventClass": S(), "EventType": S(),
         "Description": S(), "EventCount": {"type": "integer", "minimum": 1}, "OsVersion": S(), "ComponentId": S(),
         "ImageId": S()}, ["EventTime"])}}, ["Events"]),
    "ErrorReportResult": obj({
        "Accepted": {"type": "integer", "minimum": 0, "description": "events stored"},
        "Dropped": arr(obj({"Index": {"type": "integer", "minimum": 0, "description": "position in Events"},
                            "Reason": S(enum=[EVENT_TOO_OLD, EVENT_IN_FUTURE]),
                            "Message": S()}, ["Index", "Reason", "Message"]))}, ["Accepted", "Dropped"]),
}
# (method, path, operation, summary, client certificate role or None, request schema, response status and schema)
DEVICE_ROUTES = [
    ("POST", "/device/v1/attestation/nonce", "Attestation_Nonce", "A single-use 32-byte nonce, valid 120 s", None,
     "NonceRequest", 200, "Nonce"),
    ("POST", "/device/v1/attestation", "Attestation_Attest", "Evidence bound to the nonce and the client key in, "
     "24 h client and update certificates out (403 AttestationFailed with the reason)", None,
     "AttestationRequest", 200, "AttestationPassed"),
    ("POST", "/device/v1/updates/check", "Updates_Check", "Report installed images; get the images and OS to "
     "install", pki.ROLE_DAA, "UpdateCheckRequest", 200, "UpdateCheck"),
    ("GET", "/device/v1/images/{imageId}", "Images_Download", "An offered image package", pki.ROLE_UPDATE,
     None, 200, None),
    ("POST", "/device/v1/errorreports", "ErrorReports_Upload", "Upload error events (at most 1,000); events dated "
     "more than 14 days before or more than 5 minutes after the service's time are dropped and listed with "
     "their reason", pki.ROLE_DAA, "ErrorReportUpload", 200, "ErrorReportResult"),
    ("GET", "/device/v1/whoami", "Devices_WhoAmI", "The device record of the client certificate", pki.ROLE_DAA,
     None, 200, "Device"),
]


def device_openapi_document(server_url: str | None = None) -> dict:
    """The device API as OpenAPI 3.0 (published at /device/v1/openapi.json on the device endpoint). Mutual TLS
    has no OpenAPI 3.0 security scheme: `x-client-certificate` names the certificate role an operation needs."""
    errors = {str(c): {"description": d, "content": {"application/json": {"schema": ref("Error")}}}
              for c, d in ((400, "Bad request"), (401, "Client certificate missing, expired or not this tenant's"),
                           (403, "Wrong certificate role"), (404, "Not found"), (413, "Body too large"))}
    paths: dict = {}
    for method, path, op_id, summary, role, request, status, response in DEVICE_ROUTES:
        op: dict = {"operationId": op_id, "summary": summary, "x-client-certificate": role or "none",
                    "responses": dict(errors)}
        if "{imageId}" in path:
            op["parameters"] = [{"name": "imageId", "in": "path", "required": True, "schema": GUID}]
        if request:
            op["requestBody"] = {"required": True, "content": {"application/json": {"schema": ref(request)}}}
        content = ({"application/json": {"schema": ref(response)}} if response else
                   {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}})
        op["responses"][str(status)] = {"description": "Success", "content": content}
        if op_id == "Attestation_Attest":
            op["responses"]["403"] = {"description": "Attestation failed",
                                      "content": {"application/json": {"schema": ref("AttestationFailed")}}}
        paths.setdefault(path, {})[method.lower()] = op
    doc = {"openapi": "3.0.3",
           "info": {"title": "MT3620 emulator security service: device API", "version": DEVICE_API_VERSION,
                    "description": "HTTPS with the service root as trust anchor (GET /rootca.pem on the management "
                                   "API). Operations whose x-client-certificate is daa or update need that "
                                   "certificate from attestation (mutual TLS). Protocol: docs/cloud.md."},
           "paths": paths, "components": {"schemas": DEVICE_SCHEMAS}}
    if server_url:
        doc["servers"] = [{"url": server_url}]
    return doc


def _b64(body: dict, name: str, size: int | None = None) -> bytes:
    value = body.get(name)
    if not isinstance(value, str):
        raise ServiceError(400, "BadRequest", f"{name} must be a base64 string")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ServiceError(400, "BadRequest", f"{name} is not valid base64") from None
    if size is not None and len(raw) != size:
        raise ServiceError(400, "BadRequest", f"{name} must decode to {size} bytes, got {len(raw)}")
    return raw


class DeviceApp:
    """WSGI app of the device endpoints. The TLS layer (server.py) has already checked that a presented client
    certificate chains to the service root; this app checks tenant CA, device claim, expiry and role.

    Attestation (docs/cloud.md, "Device protocol"): `POST /device/v1/attestation/nonce {DeviceId}` issues a
    32-byte nonce; `POST /device/v1/attestation {Evidence, ClientPublicKey (64-byte X||Y), Nonce, TenantId?}`
    (all binary fields base64) accepts evidence whose nonce field is
    `verifier.attestation_challenge(Nonce, ClientPublicKey)` and certifies that client key."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.url_map = Map([
            Rule("/device/v1/attestation/nonce", endpoint="nonce", methods=["POST"]),
            Rule("/device/v1/attestation", endpoint="attest", methods=["POST"]),
            Rule("/device/v1/updates/check", endpoint="update_check", methods=["POST"]),
            Rule("/device/v1/images/<imageId>", endpoint="image", methods=["GET"]),
            Rule("/device/v1/errorreports", endpoint="errors", methods=["POST"]),
            Rule("/device/v1/whoami", endpoint="whoami", methods=["GET"]),
            Rule("/device/v1/openapi.json", endpoint="openapi", methods=["GET"]),
        ])

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except ServiceError as exc:
            response = _error(exc.status, exc.code, exc.message)
        except Exception:  # noqa: BLE001
            log.exception("unhandled error on device %s %s", request.method, request.path)
            response = _error(500, "InternalError", "internal error (see the service log)")
        return response(environ, start_response)

    def _json_body(self, request: Request) -> dict:
        if request.content_length is not None and request.content_length > MAX_JSON_BODY:
            raise ServiceError(413, "PayloadTooLarge", "request body too large")
        try:
            body = json.loads(request.get_data(cache=False) or b"{}")
        except (ValueError, UnicodeDecodeError) as exc:
            raise ServiceError(400, "BadRequest", f"body is not valid JSON: {exc}") from None
        if not isinstance(body, dict):
            raise ServiceError(400, "BadRequest", "body must be a JSON object")
        return body

    def _device(self, request: Request, role: str) -> dict:
        pem_text = request.environ.get("SSL_CLIENT_CERT")
        if not pem_text:
            raise ServiceError(401, "client-certificate-required", "this endpoint requires a client certificate "
                                                                   "from attestation (mutual TLS)")
        leaf = x509.load_pem_x509_certificate(pem_text.encode())
        return self.store.authenticate_device(leaf, role)

    def dispatch(self, request: Request) -> Response:
        routed = _route(self.url_map, request)
        if isinstance(routed, Response):
            return routed
        endpoint, args = routed
        if endpoint == "openapi":
            return _json(device_openapi_document(request.host_url.rstrip("/")))
        if endpoint == "nonce":
            body = self._json_body(request)
            nonce, expires = self.store.issue_nonce(str(body.get("DeviceId", "")))
            return _json({"Nonce": base64.b64encode(nonce).decode(), "ExpiresAt": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
                          "ExpiresInSeconds": int(verifier.NONCE_LIFETIME.total_seconds())})
        if endpoint == "attest":
            body = self._json_body(request)
            evidence = _b64(body, "Evidence")
            client_key = _b64(body, "ClientPublicKey", 64)
            # The nonce this service issued; the evidence attests verifier.attestation_challenge(nonce, client key).
            # Other fields (such as the retired ClientKeySignature) are ignored, as on every device endpoint.
            nonce = _b64(body, "Nonce", ae.NONCE_SIZE)
            tenant = body.get("TenantId")
            if tenant is not None:
                try:
                    tenant = str(uuid.UUID(str(tenant)))
                except ValueError:
                    raise ServiceError(400, "BadRequest", "TenantId is not a GUID") from None
            outcome, certs = self.store.attest(evidence, client_key, nonce, tenant)
            if not outcome.ok:
                return _json({"Result": "Failed", "Reason": outcome.reason, "Message": outcome.message}, 403)
            return _json(dict(certs, Result="Passed"))
        if endpoint == "whoami":
            return _json(self._device(request, pki.ROLE_DAA))
        if endpoint == "update_check":
            device = self._device(request, pki.ROLE_DAA)
            body = self._json_body(request)
            for key, kind in (("InstalledImages", list), ("Capabilities", list), ("FailedImages", list)):
                if key in body and not isinstance(body[key], kind):
                    raise ServiceError(400, "BadRequest", f"{key} must be a list")
            if any(not isinstance(i, dict) for i in body.get("InstalledImages", [])):
                raise ServiceError(400, "BadRequest", "InstalledImages entries are objects {ComponentId, ImageId}")
            for key in ("Capabilities", "FailedImages"):
                if any(not isinstance(i, str) for i in body.get(key, [])):
                    raise ServiceError(400, "BadRequest", f"{key} entries are strings")
            for key in ("BootId", "OsVersion"):
                if key in body and not isinstance(body[key], (str, int)):
                    raise ServiceError(400, "BadRequest", f"{key} must be a string")
            if len(body.get("InstalledImages", [])) > 64:
                raise ServiceError(400, "BadRequest", "at most 64 InstalledImages")
            return _json(self.store.update_check(device["DeviceId"], body))
        if endpoint == "image":
            device = self._device(request, pki.ROLE_UPDATE)
            try:
                image_id = str(uuid.UUID(args["imageId"]))
            except ValueError:
                raise ServiceError(400, "BadRequest", "image ID is not a GUID") from None
            return Response(self.store.image_content(device["TenantId"], image_id),
                            mimetype="application/octet-stream")
        if endpoint == "errors":
            device = self._device(request, pki.ROLE_DAA)
            body = self._json_body(request)
            events = body.get("Events")
            if not isinstance(events, list) or len(events) > 1000 or any(not isinstance(e, dict) for e in events):
                raise ServiceError(400, "BadRequest", "Events must be a list of at most 1,000 objects")
            accepted, dropped = self.store.add_error_events(device, events)
            return _json({"Accepted": accepted, "Dropped": dropped})
        return _error(404, "NotFound", "no route")  # pragma: no cover
