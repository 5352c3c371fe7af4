"""Attestation: single-use nonces, the verifier's judgement of evidence (cloud/verifier.py) against what the
service knows, and the 24 h client and update certificates of a device that passes.

Nonces are self-describing (emulator-defined): 4 random bytes, 4 bytes naming the serving process (random at each
start), the expiry (u32 Unix seconds, big-endian), the first 4 bytes of SHA-256 of the device ID (so a nonce of
another device is told apart) and a 16-byte HMAC-SHA256 tag over the whole device ID and the preceding 16 bytes
under the service's nonce key (one per database, sealed like the CA keys). Issuing one writes nothing, and neither
does using one: a process accepts only the nonces it issued since it started and remembers those used until they
expire, so each is used once without a database write (a restarted process refuses its former nonces). A device
asks for its nonce and attests on one connection (mt3620.as3's client keeps it alive), so both reach the same
process; one that reconnected to another process in between is refused `stale-nonce` and attests again.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import json
import secrets
import struct
import threading
import uuid

from sqlalchemy import and_, select

from mt3620 import attestation as ae

from .. import known_images, pki, reconcile, verifier
from ..db import devices, images
from ..domain import AttestationGrant, IssuedNonce
from .base import Service, device_id as checked_device_id
from .certificates import CertificateService
from .devices import DeviceService
from .images import ImageService
from .registry import RegistryService

NONCE_CONTEXT = b"MT3620-NONCE\x00"
USED_PURGE_AT = 100_000


class AttestationService(Service):
    def __init__(self, database, now, certificates: CertificateService, devices_: DeviceService,
                 images_: ImageService, registry: RegistryService) -> None:
        super().__init__(database, now)
        self.certificates, self.devices, self.images, self.registry = certificates, devices_, images_, registry
        self._key: bytes | None = None
        self._incarnation = secrets.token_bytes(4)      # this process since it started
        self._used: dict[bytes, _dt.datetime] = {}      # nonces used, until they expire
        self._used_lock = threading.Lock()

    def _nonce_key(self) -> bytes:
        if self._key is None:
            self._key = self.certificates.service_secret("nonce-key", lambda: secrets.token_bytes(32))
        return self._key

    def _tag(self, device: str, head: bytes) -> bytes:
        return hmac.new(self._nonce_key(), NONCE_CONTEXT + bytes.fromhex(device) + head, hashlib.sha256).digest()[:16]

    @staticmethod
    def _device_hint(device: str) -> bytes:
        return hashlib.sha256(bytes.fromhex(device)).digest()[:4]

    def issue_nonce(self, device: str) -> IssuedNonce:
        device = checked_device_id(device)
        expires = self.now().replace(microsecond=0) + verifier.NONCE_LIFETIME
        head = (secrets.token_bytes(4) + self._incarnation + struct.pack(">I", int(expires.timestamp()))
                + self._device_hint(device))
        return IssuedNonce(head + self._tag(device, head), expires)

    def _issued(self, nonce: bytes, device: str | None) -> verifier.NonceRecord | None:
        """The record of a nonce this service issued to `device`; one issued to another device keeps its device
        (the verifier names the mismatch); None when this service never issued it."""
        if device is None or len(nonce) != ae.NONCE_SIZE or nonce[4:8] != self._incarnation:
            return None
        head, tag = nonce[:16], nonce[16:]
        expires = _dt.datetime.fromtimestamp(struct.unpack(">I", head[8:12])[0], _dt.timezone.utc)
        if hmac.compare_digest(tag, self._tag(device, head)):
            return verifier.NonceRecord(nonce, device, expires)
        if head[12:] != self._device_hint(device):
            return verifier.NonceRecord(nonce, "another device", expires)   # the tag cannot be checked without it
        return None

    def _consume(self, record: verifier.NonceRecord, now: _dt.datetime) -> bool:
        """Remember the nonce as used; False when it was used before."""
        with self._used_lock:
            if record.nonce in self._used:
                return False
            if len(self._used) >= USED_PURGE_AT:     # forget the nonces that expired anyway
                self._used = {n: t for n, t in self._used.items() if t > now}
            self._used[record.nonce] = record.expires_at
        return True

    def attest(self, evidence: bytes, client_public_key: bytes, nonce: bytes,
               tenant_id: str | None = None) -> tuple[verifier.Outcome, AttestationGrant | None]:
        """Verify evidence bound to `nonce` (one this service issued) and `client_public_key` (the evidence's nonce
        field is `attestation_challenge(nonce, client_public_key)`); on success issue the DAA client certificate
        and the update certificate for that key. The nonce is consumed whatever the outcome."""
        now = self.now()
        nonce = bytes(nonce)
        nonce_rec = device_rec = None
        policy = verifier.TrustPolicy()
        try:
            parsed = ae.parse_evidence(evidence)
        except ae.AttestationFormatError:
            parsed = None
        issued = self._issued(nonce, parsed.device_id_hex if parsed is not None else None)
        if issued is not None and issued.device_id != parsed.device_id_hex:
            nonce_rec = issued          # another device's: refused by the verifier, not recorded (its tag is unchecked)
        elif issued is not None and self._consume(issued, now):    # single use, whatever the outcome
            nonce_rec = issued
        if parsed is not None:
            with self.db.read() as c:
                registered = self.registry.find(parsed.device_id_hex, c)
                if registered is not None:
                    d = c.execute(select(devices.c.tenant_id, devices.c.capabilities)
                                  .where(devices.c.id == registered.device_id)).first()
                    device_rec = verifier.DeviceRecord(registered.device_id, d.tenant_id if d else None,
                                                       bytes.fromhex(registered.attestation_key))
                    if d is not None:
                        policy = self.trust_policy(c, d.tenant_id, d.capabilities)
        outcome = verifier.verify(evidence, nonce_rec, device_rec, policy, now, expected_tenant=tenant_id,
                                  client_public_key=client_public_key)
        if not outcome.ok:
            return outcome, None
        ca = self.certificates.signing_ca(outcome.tenant_id)
        public = ae.public_key_from_raw(client_public_key)
        daa = pki.issue_device_certificate(ca, outcome.tenant_id, outcome.device_id, public, now, pki.ROLE_DAA,
                                           outcome.result)
        upd = pki.issue_device_certificate(ca, outcome.tenant_id, outcome.device_id, public, now, pki.ROLE_UPDATE)
        self.devices.attested(outcome.device_id)
        chain = [ca.cert, self.certificates.intermediate()]
        return outcome, AttestationGrant(pki.pem(daa), pki.pem(upd), "".join(pki.pem(x) for x in chain),
                                         pki.pem(self.certificates.root()), daa.not_valid_after_utc, outcome.result)

    def trust_policy(self, c, tenant_id: str, capabilities: str = "[]") -> verifier.TrustPolicy:
        """What the verifier judges this tenant's devices against: every image it knows by content digest (the
        OS releases and the tenant's uploads), revoked digests, SVN floors (docs/cloud.md "Attestation")."""
        known = known_images.os_release_images()
        revoked = set()
        rows = c.execute(select(images.c.id, images.c.component_id, images.c.image_type, images.c.security_version,
                                images.c.sha256, images.c.trust_status).where(images.c.tenant_id == tenant_id)).all()
        for r in rows:
            digest = known_images.content_digest(r.sha256, lambda r=r: bytes(c.execute(
                select(images.c.content).where(and_(images.c.tenant_id == tenant_id, images.c.id == r.id))).scalar()))
            if digest is None:
                continue
            if r.trust_status == "Revoked":
                revoked.add(digest)
            else:
                known.setdefault(*known_images.tenant_image(r, digest))
        floors = {uuid.UUID(k): v for k, v in self.images.floors(c, tenant_id).items()}
        try:
            development = reconcile.APP_DEVELOPMENT in json.loads(capabilities or "[]")
        except (ValueError, TypeError):
            development = False
        return verifier.TrustPolicy(known, frozenset(revoked), floors, allow_unknown_applications=development)
