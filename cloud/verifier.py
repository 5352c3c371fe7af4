"""Pure attestation verifier: evidence + what the service knows -> accepted result or a typed failure.

The evidence byte format and its signature check live in `mt3620.attestation` (shared with the device model);
this module adds the service's judgement: is the device claimed, is the nonce the one we issued and still fresh,
does the device belong to the tenant it asked for, is its software trusted. No I/O, no clock reads.

Emulator-defined (docs/cloud.md): the device also proves that the TLS client key it wants certified belongs to
it, by signing CLIENT_KEY_CONTEXT || nonce || client public key (64 bytes X||Y) with its attestation key.
"""
from __future__ import annotations

import datetime as _dt
import uuid
from dataclasses import dataclass, field
from typing import Mapping

from mt3620 import attestation as ae

CLIENT_KEY_CONTEXT = b"MT3620-CLIENT-AUTH-KEY\x00"
NONCE_LIFETIME = _dt.timedelta(seconds=120)

# Typed failure reasons (stable strings: the API returns them and the device model matches on them).
MALFORMED = "malformed-evidence"
UNKNOWN_DEVICE = "unknown-device"
STALE_NONCE = "stale-nonce"
BAD_SIGNATURE = "bad-signature"
REVOKED_SOFTWARE = "revoked-software"
OUTDATED_SOFTWARE = "outdated-software"
WRONG_TENANT = "wrong-tenant"
REASONS = (MALFORMED, UNKNOWN_DEVICE, STALE_NONCE, BAD_SIGNATURE, REVOKED_SOFTWARE, OUTDATED_SOFTWARE, WRONG_TENANT)


@dataclass(frozen=True)
class NonceRecord:
    nonce: bytes
    device_id: str          # upper-case hex, as the device asked for it
    expires_at: _dt.datetime


@dataclass(frozen=True)
class DeviceRecord:
    device_id: str
    tenant_id: str | None
    attestation_key: bytes | None   # 64-byte X||Y learned at claim time; None = identity key also attests


@dataclass(frozen=True)
class TrustPolicy:
    """Software trust for one tenant: images revoked by ID, and minimum security versions per component."""
    revoked_images: frozenset[uuid.UUID] = frozenset()
    svn_floors: Mapping[uuid.UUID, int] = field(default_factory=dict)
    known_images: frozenset[uuid.UUID] = frozenset()


@dataclass(frozen=True)
class Outcome:
    ok: bool
    reason: str | None
    message: str
    device_id: str | None = None
    tenant_id: str | None = None
    evidence: ae.Evidence | None = None
    result: dict | None = None      # the attestation result embedded in the certificate


def client_key_message(nonce: bytes, client_public_key: bytes) -> bytes:
    return CLIENT_KEY_CONTEXT + bytes(nonce) + bytes(client_public_key)


def _fail(reason: str, message: str, **kw) -> Outcome:
    return Outcome(False, reason, message, **kw)


def software_status(evidence: ae.Evidence, policy: TrustPolicy) -> tuple[str | None, str, list[dict]]:
    """(failure reason or None, message, per-measurement trust list)."""
    report, failure, message = [], None, "all measured software is trusted"
    for m in evidence.measurements:
        if m.image_id in policy.revoked_images:
            status = "revoked"
        elif m.security_version < policy.svn_floors.get(m.component_id, 0):
            status = "outdated"
        elif m.image_id in policy.known_images:
            status = "trusted"
        else:
            status = "unknown"      # e.g. a sideloaded development image: reported, not refused
        report.append({"ImageType": m.image_type, "ComponentId": str(m.component_id), "ImageId": str(m.image_id),
                       "SecurityVersion": m.security_version, "Status": status})
        if failure is None and status == "revoked":
            failure, message = REVOKED_SOFTWARE, f"image {m.image_id} (component {m.component_id}) is revoked"
        elif failure is None and status == "outdated":
            failure = OUTDATED_SOFTWARE
            message = (f"component {m.component_id} runs security version {m.security_version}, "
                       f"minimum is {policy.svn_floors[m.component_id]}")
    return failure, message, report


def verify(evidence_bytes: bytes, nonce: NonceRecord | None, device: DeviceRecord | None, policy: TrustPolicy,
           now: _dt.datetime, *, expected_tenant: str | None = None, client_public_key: bytes | None = None,
           client_key_signature: bytes | None = None) -> Outcome:
    """Judge one attestation. `nonce` is the record the store consumed for the evidence's nonce (None when the
    nonce was never issued or already used); `device` is the service's record of the evidence's device ID."""
    try:
        evidence = ae.parse_evidence(evidence_bytes)
    except ae.AttestationFormatError as exc:
        return _fail(MALFORMED, f"evidence is malformed ({exc.reason}): {exc}")
    device_id = evidence.device_id_hex
    if device is None or device.tenant_id is None:
        return _fail(UNKNOWN_DEVICE, f"device {device_id[:16]}... is not claimed by any tenant", device_id=device_id)
    if expected_tenant is not None and expected_tenant != device.tenant_id:
        return _fail(WRONG_TENANT, f"device is claimed by another tenant than {expected_tenant}", device_id=device_id)
    if nonce is None or nonce.nonce != evidence.nonce:
        return _fail(STALE_NONCE, "nonce was not issued by this service or was already used", device_id=device_id)
    if nonce.device_id != device_id:
        return _fail(STALE_NONCE, "nonce was issued to another device", device_id=device_id)
    if now >= nonce.expires_at:
        return _fail(STALE_NONCE, "nonce has expired", device_id=device_id)
    key = device.attestation_key or bytes.fromhex(device_id)
    try:
        ae.verify_evidence(evidence_bytes, key)
    except ae.AttestationError as exc:
        return _fail(BAD_SIGNATURE, f"evidence signature does not verify ({exc.reason})", device_id=device_id)
    if client_public_key is not None:
        try:
            attest_key = ae.public_key_from_raw(key)
            ae.public_key_from_raw(client_public_key)
        except ValueError as exc:
            return _fail(MALFORMED, f"client public key is not a P-256 point: {exc}", device_id=device_id)
        if client_key_signature is None or not ae.verify_raw_signature(
                attest_key, client_key_message(evidence.nonce, client_public_key), client_key_signature):
            return _fail(BAD_SIGNATURE, "client key is not signed by the device's attestation key",
                         device_id=device_id)
    failure, message, report = software_status(evidence, policy)
    if failure:
        return _fail(failure, message, device_id=device_id, tenant_id=device.tenant_id, evidence=evidence)
    result = {"Result": "Passed", "DeviceId": device_id, "TenantId": device.tenant_id,
              "AttestedAt": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "Software": report}
    return Outcome(True, None, message, device_id, device.tenant_id, evidence, result)
