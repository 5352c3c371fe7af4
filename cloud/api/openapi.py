"""The published OpenAPI 3.0 documents, made from the route declarations (cloud/api/routing.py `route`)."""
from __future__ import annotations

import re

from .routing import Route
from .schemas import BODY, DEVICE_API_VERSION, DEVICE_SCHEMAS, PATH_PARAMS, SCHEMAS, ref

API_VERSION = "2.0.0"

MANAGEMENT_ERRORS = ((400, "Bad request"), (401, "Missing or invalid token"), (403, "Role too low"),
                     (404, "Not found (or not visible to you)"), (405, "Method not allowed"), (409, "Conflict"),
                     (413, "Body too large"), (415, "Wrong content type"))
DEVICE_ERRORS = ((400, "Bad request"), (401, "Client certificate missing, expired or not this tenant's"),
                 (403, "Wrong certificate role, or an image the device may not download"), (404, "Not found"),
                 (413, "Body too large"))


def _errors(table) -> dict:
    return {str(c): {"description": d, "content": {"application/json": {"schema": ref("Error")}}} for c, d in table}


def _operation(r: Route, errors: dict, bodies: dict) -> dict:
    op: dict = {"operationId": r.op_id, "summary": r.summary, "parameters": []}
    for name in re.findall(r"\{(\w+)\}", r.path):
        op["parameters"].append({"name": name, "in": "path", "required": True,
                                 "schema": PATH_PARAMS.get(name, {"type": "string", "minLength": 1})})
    for name, schema, desc in r.query:
        op["parameters"].append({"name": name, "in": "query", "required": False, "schema": schema,
                                 "description": desc})
    if not op["parameters"]:
        del op["parameters"]
    if r.body == "binary":   # an empty upload is refused at once (400); schemathesis generated one 1 run in 8
        op["requestBody"] = {"required": True, "content": {"application/octet-stream": {
            "schema": {"type": "string", "format": "binary", "minLength": 1}}}}
    elif r.body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": bodies[r.body]}}}
    ok: dict = {"description": "Success"}
    if r.response is not None:
        ok["content"] = {r.media: {"schema": r.response}}
        for media, schema in r.extra_media.items():
            ok["content"][media] = {"schema": schema}
    op["responses"] = {str(r.status): ok, **errors}
    return op


def management_document(routes: list[Route], server_url: str | None = None) -> dict:
    paths: dict = {}
    errors = _errors(MANAGEMENT_ERRORS)
    for r in routes:
        if r.hidden:
            continue
        op = _operation(r, errors, BODY)
        op["tags"] = [r.tag] if r.tag else []
        op["security"] = [{"bearerAuth": []}]
        paths.setdefault(r.path, {})[r.method.lower()] = op
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


def device_document(routes: list[Route], server_url: str | None = None) -> dict:
    """The device API (published at /device/v1/openapi.json on the device endpoint). Mutual TLS has no OpenAPI 3.0
    security scheme: `x-client-certificate` names the certificate role an operation needs."""
    paths: dict = {}
    errors = _errors(DEVICE_ERRORS)
    for r in routes:
        if r.hidden:
            continue
        op = _operation(r, dict(errors), {name: ref(name) for name in DEVICE_SCHEMAS})
        op["x-client-certificate"] = r.client_certificate or "none"
        if r.response is None:
            op["responses"][str(r.status)]["content"] = {"application/octet-stream": {
                "schema": {"type": "string", "format": "binary"}}}
        if r.op_id == "Attestation_Attest":
            op["responses"]["403"] = {"description": "Attestation failed",
                                      "content": {"application/json": {"schema": ref("AttestationFailed")}}}
        paths.setdefault(r.path, {})[r.method.lower()] = op
    doc = {"openapi": "3.0.3",
           "info": {"title": "MT3620 emulator security service: device API", "version": DEVICE_API_VERSION,
                    "description": "HTTPS with the service root as trust anchor (GET /rootca.pem on the management "
                                   "API). Operations whose x-client-certificate is daa or update need that "
                                   "certificate from attestation (mutual TLS). Protocol: docs/cloud.md."},
           "paths": paths, "components": {"schemas": DEVICE_SCHEMAS}}
    if server_url:
        doc["servers"] = [{"url": server_url}]
    return doc


__all__ = ["management_document", "device_document"]
