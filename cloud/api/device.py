"""The device API (mutual TLS): attestation, update checks, image downloads, error reports (docs/cloud.md,
"Device protocol"). The TLS layer (server.py) has already checked that a presented client certificate chains to
the service root; `authorise` checks its role, tenant CA, claim and dates (CertificateService).

Attestation: `POST /device/v1/attestation/nonce {DeviceId}` issues a 32-byte nonce; `POST /device/v1/attestation
{Evidence, ClientPublicKey (64-byte X||Y), Nonce, TenantId?}` (binary fields base64) accepts evidence whose nonce
field is `attestation_challenge(Nonce, ClientPublicKey)` and certifies that client key.
"""
from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import uuid

from mt3620 import attestation as ae

from .. import pki, verifier
from ..domain import Forbidden, Invalid, TooLarge, Unauthenticated
from ..services import Services
from ..services.base import iso
from . import shapes
from .openapi import device_document
from .routing import MAX_JSON_BODY, Call, Reply, Route, Router, json_reply, route
from .schemas import ref

DAA, UPDATE = pki.ROLE_DAA, pki.ROLE_UPDATE
MAX_EVENTS = 1000
MAX_INSTALLED = 64


def _b64(body: dict, name: str, size: int | None = None) -> bytes:
    value = body.get(name)
    if not isinstance(value, str):
        raise Invalid(f"{name} must be a base64 string")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise Invalid(f"{name} is not valid base64") from None
    if size is not None and len(raw) != size:
        raise Invalid(f"{name} must decode to {size} bytes, got {len(raw)}")
    return raw


def _object(call: Call) -> dict:
    """The JSON object of a request (any content type; an empty body is {})."""
    if len(call.body) > MAX_JSON_BODY:
        raise TooLarge("request body too large")
    try:
        body = json.loads(call.body or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid(f"body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise Invalid("body must be a JSON object")
    return body


class DeviceApi:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.router = Router(self, None, self.authorise)   # bodies are read by the handlers

    def __call__(self, call: Call) -> Reply:
        return self.router(call)

    def authorise(self, call: Call, r: Route, params: dict) -> None:
        """The device of the client certificate, when the operation needs one (set as call.user's device)."""
        if r.client_certificate is None:
            return
        if not call.peer_certificate:
            raise Unauthenticated("this endpoint requires a client certificate from attestation (mutual TLS)",
                                  "client-certificate-required")
        _, call.device = self.services.certificates.check_device_certificate(
            call.peer_certificate, r.client_certificate, self.services.devices.find)

    @route("GET", "/device/v1/openapi.json", "OpenApi", "This document", hidden=True)
    def openapi(self, call: Call):
        return device_document(self.router.routes, call.base_url)

    @route("POST", "/device/v1/attestation/nonce", "Attestation_Nonce", "A single-use 32-byte nonce, valid 120 s",
           body="NonceRequest", response=ref("Nonce"))
    def nonce(self, call: Call):
        issued = self.services.attestation.issue_nonce(str(_object(call).get("DeviceId", "")))
        return {"Nonce": base64.b64encode(issued.nonce).decode(), "ExpiresAt": iso(issued.expires_at),
                "ExpiresInSeconds": int(verifier.NONCE_LIFETIME.total_seconds())}

    @route("POST", "/device/v1/attestation", "Attestation_Attest", "Evidence bound to the nonce and the client key "
           "in, 24 h client and update certificates out (403 AttestationFailed with the reason)",
           body="AttestationRequest", response=ref("AttestationPassed"))
    def attest(self, call: Call):
        body = _object(call)
        evidence = _b64(body, "Evidence")
        client_key = _b64(body, "ClientPublicKey", 64)
        # The nonce this service issued; the evidence attests attestation_challenge(nonce, client key). Other
        # fields (such as the retired ClientKeySignature) are ignored, as on every device endpoint.
        nonce = _b64(body, "Nonce", ae.NONCE_SIZE)
        tenant = body.get("TenantId")
        if tenant is not None:
            try:
                tenant = str(uuid.UUID(str(tenant)))
            except ValueError:
                raise Invalid("TenantId is not a GUID") from None
        outcome, grant = self.services.attestation.attest(evidence, client_key, nonce, tenant)
        if not outcome.ok:
            return json_reply({"Result": "Failed", "Reason": outcome.reason, "Message": outcome.message}, 403)
        return shapes.grant(grant)

    @route("POST", "/device/v1/updates/check", "Updates_Check", "Report installed images; get the images and OS to "
           "install", client_certificate=DAA, body="UpdateCheckRequest",
           response=ref("UpdateCheck"))
    def update_check(self, call: Call):
        body = _object(call)
        for key in ("InstalledImages", "Capabilities", "FailedImages"):
            if key in body and not isinstance(body[key], list):
                raise Invalid(f"{key} must be a list")
        if any(not isinstance(i, dict) for i in body.get("InstalledImages", [])):
            raise Invalid("InstalledImages entries are objects {ComponentId, ImageId}")
        for key in ("Capabilities", "FailedImages"):
            if any(not isinstance(i, str) for i in body.get(key, [])):
                raise Invalid(f"{key} entries are strings")
        for key in ("BootId", "OsVersion"):
            if key in body and not isinstance(body[key], (str, int)):
                raise Invalid(f"{key} must be a string")
        if len(body.get("InstalledImages", [])) > MAX_INSTALLED:
            raise Invalid(f"at most {MAX_INSTALLED} InstalledImages")
        devices = self.services.devices
        report = devices.report(body.get("InstalledImages", []), body.get("BootId", ""), body.get("OsVersion", ""),
                                body.get("Capabilities", []), body.get("FailedImages", []))
        offer = devices.update_check(call.device, report)
        if offer.os_target:
            offer = dataclasses.replace(offer, os_images=tuple(self.services.os_releases.images(offer.os_target[1])))
        keys = self.services.images.signing_keys(call.device.tenant_id, [t.image_id for t in offer.targets])
        capabilities = devices.capability_images_due(call.device, report.capabilities)
        return dict(shapes.update_offer(offer), SigningKeys=[{"Thumbprint": t, "PublicKey": pem} for t, pem in keys],
                    CapabilityImages=[base64.b64encode(c).decode() for c in capabilities])

    @route("GET", "/device/v1/images/{imageId}", "Images_Download", "An offered image package",
           client_certificate=UPDATE)
    def image(self, call: Call, imageId: str):
        try:
            image_id = str(uuid.UUID(imageId))
        except ValueError:
            raise Invalid("image ID is not a GUID") from None
        return Reply(200, self.services.deployments.download(call.device, image_id), "application/octet-stream")

    @route("GET", "/device/v1/os/{version}/{imageType}", "Os_Download", "A stage image of the OS release offered to "
           "the device (its feed's latest)", client_certificate=UPDATE)
    def os_image(self, call: Call, version: str, imageType: str):
        if not imageType.isdigit() or len(imageType) > 3:
            raise Invalid("image type is a small integer")
        group = self.services.groups.get(call.device.tenant_id, call.device.device_group_id) \
            if call.device.device_group_id else None
        if group is not None and group.update_policy == 2:    # NoUpdates: no OS either
            raise Forbidden("the device's group has UpdatePolicy NoUpdates", "os-not-offered")
        offered = self.services.os_releases.latest(group.os_feed_type if group else 0)
        return Reply(200, self.services.os_releases.image(version, int(imageType), offered), "application/octet-stream")

    @route("POST", "/device/v1/errorreports", "ErrorReports_Upload", "Upload error events (at most 1,000); events "
           "dated more than 14 days before or more than 5 minutes after the service's time are dropped and listed "
           "with their reason", client_certificate=DAA, body="ErrorReportUpload",
           response=ref("ErrorReportResult"))
    def errors(self, call: Call):
        events = _object(call).get("Events")
        if not isinstance(events, list) or len(events) > MAX_EVENTS or any(not isinstance(e, dict) for e in events):
            raise Invalid(f"Events must be a list of at most {MAX_EVENTS:,} objects")
        accepted, dropped = self.services.error_reports.add(call.device, events)
        return {"Accepted": accepted, "Dropped": [shapes.dropped_event(d) for d in dropped]}

    @route("GET", "/device/v1/whoami", "Devices_WhoAmI", "The device record of the client certificate",
           client_certificate=DAA, response=ref("Device"))
    def whoami(self, call: Call):
        return shapes.device(call.device)
