"""Pure attestation verifier: evidence + what the service knows -> accepted result or a typed failure.

The evidence byte format and its signature check live in `mt3620.attestation` (shared with the device model);
this module adds the service's judgement: is the device claimed, is the nonce the one we issued and still fresh,
does the device belong to the tenant it asked for, is its software trusted. No I/O, no clock reads.

Emulator-defined (docs/cloud.md, "Device protocol"): the attestation itself binds the TLS client key the device
wants certified. The device does not attest the service's nonce directly but the challenge

    challenge = SHA-256(CLIENT_KEY_CONTEXT || nonce (32) || client public key (64 bytes X||Y))

(`mt3620.attestation.attestation_challenge`, shared with the device), so the evidence's 32-byte nonce field is
that challenge, and the evidence signature by
the attestation key covers nonce and client key at once. A Pluton produces this with PROCESS_ATTESTATION alone:
it never has to sign caller-chosen data with its attestation key (which would make it a signing oracle). The
service names the nonce it issued in the request, consumes that record (single use) and requires
`evidence.nonce == attestation_challenge(nonce, client public key)`; anything else is `stale-nonce`.

Software (docs/cloud.md "Attestation", docs/pluton.md "Boot chain"): a measurement names an image by the
SHA-256 of its signed content (payload || metadata); the service knows the digests of the images it holds
(its tenants' uploads and the OS releases) and judges every measurement by that digest, never by the image ID
the image declares about itself. The evidence must begin with a complete boot chain of known OS release
images (REQUIRED_BOOT_CHAIN); every other measurement (the applications that run) must be an image the tenant
uploaded, unless the device may run development images. A digest that is unknown (`unknown-software`), known
under another identity than the measurement declares (`measurement-mismatch`), revoked, or below its
component's floor refuses the device.
"""
from __future__ import annotations

import datetime as _dt
import uuid
from dataclasses import dataclass, field
from typing import Mapping

from cryptography.hazmat.primitives.asymmetric import ec

from mt3620 import attestation as ae
from mt3620.attestation import CLIENT_KEY_CONTEXT, attestation_challenge  # noqa: F401 - the protocol's binding

NONCE_LIFETIME = _dt.timedelta(seconds=120)

# Typed failure reasons (stable strings: the API returns them and the device model matches on them).
MALFORMED = "malformed-evidence"
UNKNOWN_DEVICE = "unknown-device"
STALE_NONCE = "stale-nonce"
BAD_SIGNATURE = "bad-signature"
REVOKED_SOFTWARE = "revoked-software"
OUTDATED_SOFTWARE = "outdated-software"
WRONG_TENANT = "wrong-tenant"
UNKNOWN_SOFTWARE = "unknown-software"
MEASUREMENT_MISMATCH = "measurement-mismatch"
INCOMPLETE_BOOT = "incomplete-boot-chain"
REASONS = (MALFORMED, UNKNOWN_DEVICE, STALE_NONCE, BAD_SIGNATURE, REVOKED_SOFTWARE, OUTDATED_SOFTWARE, WRONG_TENANT,
           UNKNOWN_SOFTWARE, MEASUREMENT_MISMATCH, INCOMPLETE_BOOT)

# The boot stages a device's evidence must begin with, in order (image types: OneBL, PlutonRuntime,
# SecurityMonitor, NormalWorldLoader, NormalWorldDTB, NormalWorldKernel, RootFs; emulator-defined chain,
# peripherals/pluton/secureboot.py DEFAULT_CHAIN).
REQUIRED_BOOT_CHAIN = (1, 2, 4, 5, 6, 7, 8)
IMAGE_TYPE_APPLICATIONS = 10
OS_RELEASE = "os-release"
TENANT_IMAGE = "tenant-image"


@dataclass(frozen=True)
class NonceRecord:
    nonce: bytes
    device_id: str          # upper-case hex, as the device asked for it
    expires_at: _dt.datetime


@dataclass(frozen=True)
class DeviceRecord:
    """A registered device: its attestation key from the device registry, its tenant once claimed."""
    device_id: str
    tenant_id: str | None           # None: registered but not claimed
    attestation_key: bytes          # 64-byte X||Y, as the manufacturer enrolled it


# Before the evidence's signature verifies, the caller has proven nothing: every refusal from then on is this one
# answer, whether the device is unknown, or the signature is bad (unclaimed, wrong tenant and nonce problems are
# only told to a caller whose evidence verified). The time spent is the same too: an unknown device's evidence is
# checked against a fixed key.
NOT_VERIFIED_MESSAGE = "the evidence's signature does not verify under a registered device's attestation key"
_STAND_IN_KEY = ae.public_key_to_raw(ec.derive_private_key(0x4D543336323020, ec.SECP256R1()))


@dataclass(frozen=True)
class KnownImage:
    """An image the service holds, as its signed content says: the identity a measurement of it must declare."""
    image_id: uuid.UUID
    component_id: uuid.UUID
    image_type: int
    security_version: int
    origin: str = TENANT_IMAGE          # OS_RELEASE or TENANT_IMAGE


@dataclass(frozen=True)
class TrustPolicy:
    """Software trust for one tenant: the images it knows by content digest, the digests it revoked, minimum
    security versions per component, and whether the device may run applications the service does not hold
    (a device with the appDevelopment capability runs sideloaded images)."""
    known: Mapping[bytes, KnownImage] = field(default_factory=dict)
    revoked_digests: frozenset[bytes] = frozenset()
    svn_floors: Mapping[uuid.UUID, int] = field(default_factory=dict)
    allow_unknown_applications: bool = False
    required_boot_chain: tuple[int, ...] = REQUIRED_BOOT_CHAIN


@dataclass(frozen=True)
class Outcome:
    ok: bool
    reason: str | None
    message: str
    device_id: str | None = None
    tenant_id: str | None = None
    evidence: ae.Evidence | None = None
    result: dict | None = None      # the attestation result embedded in the certificate


def _fail(reason: str, message: str, **kw) -> Outcome:
    return Outcome(False, reason, message, **kw)


def software_status(evidence: ae.Evidence, policy: TrustPolicy) -> tuple[str | None, str, list[dict]]:
    """(failure reason or None, message, per-measurement trust list). Judged by measured digest only."""
    report, failures = [], []
    chain = policy.required_boot_chain
    for index, m in enumerate(evidence.measurements):
        known = policy.known.get(m.sha256)
        boot_slot = index < len(chain)
        entry = {"ImageType": m.image_type, "ComponentId": str(m.component_id), "ImageId": str(m.image_id),
                 "SecurityVersion": m.security_version, "Sha256": m.sha256.hex()}
        if m.sha256 in policy.revoked_digests:
            status = "revoked"
            failures.append((REVOKED_SOFTWARE, f"measured image {m.sha256.hex()[:16]}... (declared {m.image_id}, "
                                               f"component {m.component_id}) is revoked"))
        elif known is None:
            status = "unknown"
            if boot_slot or m.image_type != IMAGE_TYPE_APPLICATIONS or not policy.allow_unknown_applications:
                failures.append((UNKNOWN_SOFTWARE, f"measured image {m.sha256.hex()[:16]}... (declares type "
                                                   f"{m.image_type}, image {m.image_id}) is no image this service "
                                                   "knows"))
        elif (known.image_id, known.component_id, known.image_type, known.security_version) != \
                (m.image_id, m.component_id, m.image_type, m.security_version):
            status = "mismatch"
            failures.append((MEASUREMENT_MISMATCH, f"measured image {m.sha256.hex()[:16]}... is image "
                                                   f"{known.image_id} (type {known.image_type}, security version "
                                                   f"{known.security_version}), not what the measurement declares "
                                                   f"({m.image_id}, type {m.image_type}, version {m.security_version})"))
        elif known.security_version < policy.svn_floors.get(known.component_id, 0):
            status = "outdated"
            failures.append((OUTDATED_SOFTWARE, f"component {known.component_id} runs security version "
                                                f"{known.security_version}, minimum is "
                                                f"{policy.svn_floors[known.component_id]}"))
        else:
            status = "trusted"
            if boot_slot and known.origin != OS_RELEASE:
                status = "unknown"
                failures.append((UNKNOWN_SOFTWARE, f"boot stage {index} is image {known.image_id}, which is not "
                                                   "part of any OS release this service knows"))
        entry["Status"] = status
        if known is not None:
            entry["Origin"] = known.origin
        report.append(entry)
    types = tuple(m.image_type for m in evidence.measurements[:len(chain)])
    if types != chain:
        failures.insert(0, (INCOMPLETE_BOOT, f"the evidence shows boot stages {list(types)}, not the complete "
                                             f"chain {list(chain)}: the device did not boot verified software"))
    if failures:
        return failures[0][0], failures[0][1], report
    return None, "all measured software is trusted", report


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
    key = device.attestation_key if device is not None and device.device_id == device_id else None
    try:
        ae.verify_evidence(evidence_bytes, key or _STAND_IN_KEY)
        verified = key is not None
    except ae.AttestationError:
        verified = False
    if not verified:
        return _fail(BAD_SIGNATURE, NOT_VERIFIED_MESSAGE)
    # From here on the caller is the device: it may learn why it is refused.
    if device.tenant_id is None:
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
    failure, message, report = software_status(evidence, policy)
    if failure:
        return _fail(failure, message, device_id=device_id, tenant_id=device.tenant_id, evidence=evidence)
    result = {"Result": "Passed", "DeviceId": device_id, "TenantId": device.tenant_id,
              "AttestedAt": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "Software": report}
    return Outcome(True, None, message, device_id, device.tenant_id, evidence, result)
