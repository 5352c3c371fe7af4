"""Attestation: single-use nonces, the verifier's judgement of evidence (cloud/verifier.py) against what the
service knows, and the 24 h client and update certificates of a device that passes."""
from __future__ import annotations

import json
import secrets
import uuid

from sqlalchemy import and_, delete, insert, select

from mt3620 import attestation as ae

from .. import known_images, pki, reconcile, verifier
from ..db import devices, images, nonces
from ..domain import AttestationGrant, IssuedNonce
from .base import Service, device_id as checked_device_id
from .certificates import CertificateService
from .devices import DeviceService
from .images import ImageService
from .registry import RegistryService


class AttestationService(Service):
    def __init__(self, database, now, certificates: CertificateService, devices_: DeviceService,
                 images_: ImageService, registry: RegistryService) -> None:
        super().__init__(database, now)
        self.certificates, self.devices, self.images, self.registry = certificates, devices_, images_, registry

    def issue_nonce(self, device: str) -> IssuedNonce:
        device = checked_device_id(device)
        nonce, now = secrets.token_bytes(ae.NONCE_SIZE), self.now()
        expires = now + verifier.NONCE_LIFETIME
        with self.db.write() as c:
            c.execute(delete(nonces).where(nonces.c.expires_at < now))
            c.execute(insert(nonces).values(nonce=nonce.hex(), device_id=device, expires_at=expires))
        return IssuedNonce(nonce, expires)

    def attest(self, evidence: bytes, client_public_key: bytes, nonce: bytes,
               tenant_id: str | None = None) -> tuple[verifier.Outcome, AttestationGrant | None]:
        """Verify evidence bound to `nonce` (one this service issued) and `client_public_key` (the evidence's nonce
        field is `attestation_challenge(nonce, client_public_key)`); on success issue the DAA client certificate
        and the update certificate for that key. The nonce is consumed whatever the outcome."""
        now = self.now()
        nonce = bytes(nonce)
        nonce_rec = device_rec = None
        policy = verifier.TrustPolicy()
        with self.db.write() as c:
            # Single use: the DELETE that returns the row is the only way to read a nonce.
            row = c.execute(delete(nonces).where(nonces.c.nonce == nonce.hex())
                            .returning(nonces.c.device_id, nonces.c.expires_at)).first()
            if row is not None:
                nonce_rec = verifier.NonceRecord(nonce, row.device_id, row.expires_at)
        try:
            parsed = ae.parse_evidence(evidence)
        except ae.AttestationFormatError:
            parsed = None
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
