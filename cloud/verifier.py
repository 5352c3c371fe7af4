"""Pure attestation verifier: evidence + what the service knows -> accepted result or a typed failure.

The evidence byte format and its signature check live in `mt3620.attestation` (shared with the device model);
this module adds the service's judgement: is the device claimed, is the nonce the one we issued and still fresh,
does the device belong to the tenant it asked for, is its software trusted. No I/O, no clock reads.

Emulator-defined (docs/cloud.md, "Device protocol"): the attestation itself binds the TLS client key the device
wants certified. The device does not attest the service's nonce directly but the challenge

    challenge = SHA-256(CLIENT_KEY_CONTEXT || nonce (32) || client public key (64 bytes X||Y))

(`attestation_challenge`), so the evidence's 32-byte nonce field is that challenge, and the evidence signature by
the attestation key covers nonce and client key at once. A Pluton produces this with PROCESS_ATTESTATION alone:
it never has to sign caller-chosen data with its attestation key (which would make it a signing oracle). The
service names the nonce it issued in the request, consumes that record (single use) and requires
`evidence.nonce == attestation_challenge(nonce, client public key)`; anything else is `stale-nonce`.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
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


def attestation_challenge(nonce: bytes, client_public_key: bytes) -> bytes:
    """The 32 bytes a device attests (PROCESS_ATTESTATION's nonce argument) to bind `client_public_key` (64-byte
    X||Y) to the service's `nonce` (32 bytes)."""
    nonce, client_public_key = bytes(nonce), bytes(client_public_key)
    if len(nonce) != ae.NONCE_SIZE:
        raise ValueError(f"nonce must be {ae.NONCE_SIZE} bytes, got {len(nonce)}")
    if len(client_public_key) != 64:
        raise ValueError(f"client public key must be 64 bytes (X||Y), got {len(client_public_key)}")
    return hashlib.sha256(CLIENT_KEY_CONTEXT + nonce + client_public_key).digest()


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
           now: _dt.datetime, *, client_public_key: bytes, expected_tenant: str | None = None) -> Outcome:
    """Judge one attestation. `nonce` is the record the store consumed for the nonce the request named (None when
    that nonce was never issued or already used); `device` is the service's record of the evidence's device ID;
    `client_public_key` (64-byte X||Y) is the TLS key to certify, which the evidence must be bound to."""
    try:
        evidence = ae.parse_evidence(evidence_bytes)
    except ae.AttestationFormatError as exc:
        return _fail(MALFORMED, f"evidence is malformed ({exc.reason}): {exc}")
    device_id = evidence.device_id_hex
    try:
        ae.public_key_from_raw(client_public_key)
    except ValueError as exc:
        return _fail(MALFORMED, f"client public key is not a P-256 point: {exc}", device_id=device_id)
    if device is None or device.tenant_id is None:
        return _fail(UNKNOWN_DEVICE, f"device {device_id[:16]}... is not claimed by any tenant", device_id=device_id)
    if expected_tenant is not None and expected_tenant != device.tenant_id:
        return _fail(WRONG_TENANT, f"device is claimed by another tenant than {expected_tenant}", device_id=device_id)
    if nonce is None:
        return _fail(STALE_NONCE, "nonce was not issued by this service or was already used", device_id=device_id)
    if nonce.device_id != device_id:
        return _fail(STALE_NONCE, "nonce was issued to another device", device_id=device_id)
    if now >= nonce.expires_at:
        return _fail(STALE_NONCE, "nonce has expired", device_id=device_id)
    if evidence.nonce != attestation_challenge(nonce.nonce, client_public_key):
        return _fail(STALE_NONCE, "evidence is not bound to this nonce and client key (its nonce field is not "
                                  "SHA-256(context || nonce || client public key))", device_id=device_id)
    key = device.attestation_key or bytes.fromhex(device_id)
    try:
        ae.verify_evidence(evidence_bytes, key)
    except ae.AttestationError as exc:
        return _fail(BAD_SIGNATURE, f"evidence signature does not verify ({exc.reason})", device_id=device_id)
    failure, message, report = software_status(evidence, policy)
    if failure:
        return _fail(failure, message, device_id=device_id, tenant_id=device.tenant_id, evidence=evidence)
    result = {"Result": "Passed", "DeviceId": device_id, "TenantId": device.tenant_id,
              "AttestedAt": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "Software": report}
    return Outcome(True, None, message, device_id, device.tenant_id, evidence, result)
