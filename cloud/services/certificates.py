"""The service's certificate authorities: root and intermediate, every tenant's CA generations, the device endpoint's
TLS certificate, and the check of a device's client certificate (the pure rules live in cloud/pki.py)."""
from __future__ import annotations

import datetime as _dt
import hashlib
import ipaddress
import threading
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from .. import pki
from ..db import service_secrets, tenant_cas
from ..domain import CaCertificate, Forbidden, NotFound, Unauthenticated
from .base import Service
from .vault import Vault, is_sealed

SERVER_CERT_LIFETIME = 5 * 365 * pki.DAY
SERVER_CERT_RENEW_BEFORE = 30 * pki.DAY
LEAF_CACHE_SIZE = 4096          # client certificates remembered (a device's is 24 h; a few hundred bytes each)
CA_CACHE_SECONDS = 10            # tenant CAs change only by renewal; device requests read them from memory


def _service_label(name: str) -> str:
    return f"service_secrets:{name}"


def _tenant_label(tenant_id: str, generation: int) -> str:
    return f"tenant_cas:{tenant_id}:{generation}"


class CertificateService(Service):
    """Private keys are stored sealed by `vault` (services/vault.py)."""

    def __init__(self, database, now, vault: Vault) -> None:
        super().__init__(database, now)
        self.vault = vault
        self._lock = threading.Lock()
        self._root: pki.CertKey | None = None
        self._intermediate: pki.CertKey | None = None
        self._ca_cache: dict[str, tuple[float, list[tuple[pki.TenantCa, str]]]] = {}
        self._leaf_cache: dict[bytes, tuple] = {}     # certificate digest -> (certificate, identity, issuer)

    # ---- service CAs ----------------------------------------------------------------------------------------
    def service_cas(self) -> tuple[pki.CertKey, pki.CertKey]:
        """The root and the intermediate, made once per database (the first process to insert wins)."""
        with self._lock:
            if self._root and self._intermediate:
                return self._root, self._intermediate
            for label in ("root", "intermediate"):
                made = None
                row = self._secret(label)
                if row is None:
                    now = self.now()
                    made = pki.make_root(now) if label == "root" else pki.make_intermediate(self._root, now)
                    try:
                        with self.db.write() as c:
                            c.execute(insert(service_secrets).values(
                                name=label, cert_pem=made.cert_pem(),
                                key_pem=self.vault.seal(made.key_pem(), _service_label(label)), created_at=now))
                    except IntegrityError:
                        pass  # another process made it first: use theirs
                    row = self._secret(label)
                loaded = pki.CertKey.from_pem(row.cert_pem, self.vault.open(row.key_pem, _service_label(label)))
                if label == "root":
                    self._root = loaded
                else:
                    self._intermediate = loaded
            return self._root, self._intermediate

    def service_secret(self, label: str, make) -> bytes:
        """A secret of the service (e.g. the nonce key) shared by every process on the database: made once by
        `make()`, stored sealed; the first process to insert wins."""
        row = self._secret(label)
        if row is None:
            try:
                with self.db.write() as c:
                    c.execute(insert(service_secrets).values(
                        name=label, cert_pem="", key_pem=self.vault.seal(make().hex(), _service_label(label)),
                        created_at=self.now()))
            except IntegrityError:
                pass
            row = self._secret(label)
        return bytes.fromhex(self.vault.open(row.key_pem, _service_label(label)))

    def _secret(self, label: str):
        with self.db.read() as c:
            return c.execute(select(service_secrets).where(service_secrets.c.name == label)).first()

    def root(self) -> x509.Certificate:
        return self.service_cas()[0].cert

    def intermediate(self) -> x509.Certificate:
        return self.service_cas()[1].cert

    # ---- tenant CAs -----------------------------------------------------------------------------------------
    def _tenant_cas(self, c: Connection, tenant_id: str) -> list[tuple[pki.TenantCa, str]]:
        """The tenant's CA generations with their keys (sealed; `signing_ca` opens the one it needs)."""
        rows = c.execute(select(tenant_cas).where(tenant_cas.c.tenant_id == tenant_id)
                         .order_by(tenant_cas.c.generation)).all()
        return [(pki.TenantCa(tenant_id, pki.load_pem(r.cert_pem), r.active_from), r.key_pem) for r in rows]

    def ensure_tenant_ca(self, tenant_id: str) -> list[pki.TenantCa]:
        """Create the first CA, or renew when the newest is within 90 days of expiry (pki.needs_renewal)."""
        now = self.now()
        with self.db.read() as c:
            cas = self._tenant_cas(c, tenant_id)
        if not pki.needs_renewal([ca for ca, _ in cas], now):
            return [ca for ca, _ in cas]
        _, intermediate = self.service_cas()
        generation = len(cas) + 1
        made, active_from = pki.make_tenant_ca(intermediate, tenant_id, now, generation,
                                               sign_at_once=pki.signing_ca([ca for ca, _ in cas], now) is None)
        try:
            with self.db.write() as c:
                c.execute(insert(tenant_cas).values(
                    id=pki.new_id(), tenant_id=tenant_id, generation=generation, thumbprint=pki.thumbprint(made.cert),
                    cert_pem=made.cert_pem(),
                    key_pem=self.vault.seal(made.key_pem(), _tenant_label(tenant_id, generation)),
                    not_before=made.cert.not_valid_before_utc,
                    not_after=made.cert.not_valid_after_utc, active_from=active_from))
        except IntegrityError:
            pass  # renewed concurrently by another worker
        self._ca_cache.pop(tenant_id, None)
        with self.db.read() as c:
            return [ca for ca, _ in self._tenant_cas(c, tenant_id)]

    def tenant_cas(self, tenant_id: str) -> list[tuple[pki.TenantCa, str]]:
        """Tenant CAs with their keys for the device endpoints, cached a few seconds."""
        hit = self._ca_cache.get(tenant_id)
        if hit and time.monotonic() - hit[0] < CA_CACHE_SECONDS:
            return hit[1]
        self.ensure_tenant_ca(tenant_id)
        with self.db.read() as c:
            cas = self._tenant_cas(c, tenant_id)
        self._ca_cache[tenant_id] = (time.monotonic(), cas)
        return cas

    def signing_ca(self, tenant_id: str) -> pki.CertKey:
        """The tenant CA that signs now, with its key (a lapsed tenant gets one that signs at once)."""
        now = self.now()
        cas = self.tenant_cas(tenant_id)
        signer = pki.signing_ca([ca for ca, _ in cas], now)
        if signer is None:
            self.ensure_tenant_ca(tenant_id)
            self._ca_cache.pop(tenant_id, None)
            cas = self.tenant_cas(tenant_id)
            signer = pki.signing_ca([ca for ca, _ in cas], now)
        generation = next(i for i, (ca, _) in enumerate(cas, 1) if ca.thumbprint == signer.thumbprint)
        key_pem = self.vault.open(cas[generation - 1][1], _tenant_label(tenant_id, generation))
        return pki.CertKey.from_pem(pki.pem(signer.cert), key_pem)

    def opened(self, tenant_id: str, generation: int) -> tuple[pki.TenantCa, str]:
        """A tenant CA generation (1 = the first) with its key opened, as PEM (tests forge with it)."""
        ca, sealed = self.tenant_cas(tenant_id)[generation - 1]
        return ca, self.vault.open(sealed, _tenant_label(tenant_id, generation))

    def list(self, tenant_id: str) -> list[CaCertificate]:
        now = self.now()
        cas = self.ensure_tenant_ca(tenant_id)
        signer = pki.signing_ca(cas, now)
        trusted = {ca.thumbprint for ca in pki.trusted_cas(cas, now)}
        out = []
        for ca in cas:
            status = ("Active" if signer and ca.thumbprint == signer.thumbprint
                      else "Inactive" if ca.thumbprint in trusted else "Expired")
            out.append(CaCertificate(ca.thumbprint, status, ca.not_before, ca.not_after, ca.active_from,
                                     ca.cert.subject.rfc4514_string()))
        return out

    def certificate(self, tenant_id: str, thumbprint: str | None = None) -> x509.Certificate:
        """A tenant CA by thumbprint, or the one signing now."""
        cas = self.ensure_tenant_ca(tenant_id)
        if thumbprint:
            chosen = next((ca for ca in cas if ca.thumbprint == thumbprint.upper()), None)
            if chosen is None:
                raise NotFound("certificate")
        else:
            chosen = pki.signing_ca(cas, self.now())
            if chosen is None:
                raise NotFound("active certificate")
        return chosen.cert

    def proof_of_possession(self, tenant_id: str, code: str, thumbprint: str | None = None) -> x509.Certificate:
        """A verification certificate for `code` signed by the tenant CA (`thumbprint`, or the one signing now)."""
        cert = self.certificate(tenant_id, thumbprint)
        cas = self.tenant_cas(tenant_id)
        generation = next(i for i, (ca, _) in enumerate(cas, 1) if ca.thumbprint == pki.thumbprint(cert))
        _, key_pem = self.opened(tenant_id, generation)
        return pki.proof_of_possession(pki.CertKey.from_pem(pki.pem(cert), key_pem), code, self.now())

    def chain(self, tenant_id: str, thumbprint: str | None = None) -> list[x509.Certificate]:
        return [self.certificate(tenant_id, thumbprint), self.intermediate(), self.root()]

    # ---- device client certificates -----------------------------------------------------------------------
    def check_device_certificate(self, der: bytes, role: str, device_of):
        """Check a client certificate (DER) the TLS layer already chained to the service root (signatures only: the
        TLS layer leaves dates to the service clock): of the right role, issued by a trusted CA of the tenant that
        claimed the device (`device_of(device_id)`: the claimed device, or None), every certificate of the path valid
        now. Returns (identity, device).

        What a certificate says and which CA signed it never change: both are remembered by the certificate's
        digest (a few thousand entries), so a device's requests on a keep-alive connection cost no signature
        verification; the dates, the claim and the CA's trust are judged at every request."""
        now = self.now()
        key = hashlib.sha256(der).digest()
        hit = self._leaf_cache.get(key)
        if hit is None:
            try:
                leaf = x509.load_der_x509_certificate(der)
                ident = pki.read_device_certificate(leaf)
            except (ValueError, pki.PkiError) as exc:
                raise Unauthenticated(str(exc), getattr(exc, "reason", "not-a-device-certificate")) from None
            hit = (leaf, ident, None)
        leaf, ident, issuer = hit
        if ident.role != role:
            raise Forbidden(f"this endpoint needs the {role} certificate, got the {ident.role} certificate",
                            "wrong-certificate-role")
        device = device_of(ident.device_id)
        if device is None:
            raise Unauthenticated("the certificate's device is not claimed", "unknown-device")
        try:
            cas = [ca for ca, _ in self.tenant_cas(device.tenant_id)]
            trusted = {ca.thumbprint for ca in pki.trusted_cas(cas, now)}
            if issuer is not None and issuer in trusted:
                pki.check_validity(leaf, now)
            else:
                issuer = pki.check_device_chain(leaf, cas, now).thumbprint
                with self._lock:
                    if len(self._leaf_cache) >= LEAF_CACHE_SIZE:
                        self._leaf_cache.pop(next(iter(self._leaf_cache)))
                    self._leaf_cache[key] = (leaf, ident, issuer)
            root, intermediate = self.service_cas()    # the rest of the path OpenSSL verified, minus its dates
            pki.check_validity(intermediate.cert, now, "the service's intermediate CA")
            pki.check_validity(root.cert, now, "the service root CA")
        except pki.PkiError as exc:
            raise Unauthenticated(str(exc), exc.reason) from None
        if ident.tenant_id != device.tenant_id:
            raise Unauthenticated("the certificate names another tenant than the device's", "wrong-tenant")
        return ident, device

    # ---- the device endpoint's TLS certificate ------------------------------------------------------------
    def server_certificate(self, host: str) -> tuple[str, str]:
        """(certificate PEM, key PEM) of the device endpoint, issued by the service root for the listen address,
        made once and shared by every process on the database; remade when the service clock finds it outside its
        validity period or within SERVER_CERT_RENEW_BEFORE of its end."""
        label = f"tls-server:{host}"
        now = self.now()
        row = self._secret(label)
        stale = row is not None and not _valid_through(pki.load_pem(row.cert_pem), now, SERVER_CERT_RENEW_BEFORE)
        if row is None or stale:
            made = _server_certificate(self.service_cas()[0], host, now)
            try:
                with self.db.write() as c:
                    values = dict(cert_pem=made.cert_pem(), created_at=now,
                                  key_pem=self.vault.seal(made.key_pem(), _service_label(label)))
                    if stale:   # another process may renew at the same time: either certificate is valid
                        c.execute(update(service_secrets).where(service_secrets.c.name == label).values(**values))
                    else:
                        c.execute(insert(service_secrets).values(name=label, **values))
            except IntegrityError:
                pass
            row = self._secret(label)
        return row.cert_pem, self.vault.open(row.key_pem, _service_label(label))

    def seal_plaintext(self) -> int:
        """Seal every private key an earlier version stored in plain text; returns how many. Checks on the way that
        the KEK opens the sealed ones (a wrong --kek-file fails here, at start, with the reason)."""
        sealed = 0
        with self.db.write() as c:
            for r in c.execute(select(service_secrets.c.name, service_secrets.c.key_pem)).all():
                if is_sealed(r.key_pem):
                    self.vault.open(r.key_pem, _service_label(r.name))
                    continue
                c.execute(update(service_secrets).where(service_secrets.c.name == r.name)
                          .values(key_pem=self.vault.seal(r.key_pem, _service_label(r.name))))
                sealed += 1
            for r in c.execute(select(tenant_cas.c.id, tenant_cas.c.tenant_id, tenant_cas.c.generation,
                                      tenant_cas.c.key_pem)).all():
                label = _tenant_label(r.tenant_id, r.generation)
                if is_sealed(r.key_pem):
                    self.vault.open(r.key_pem, label)
                    continue
                c.execute(update(tenant_cas).where(tenant_cas.c.id == r.id)
                          .values(key_pem=self.vault.seal(r.key_pem, label)))
                sealed += 1
        return sealed


def _server_certificate(root: pki.CertKey, host: str, now: _dt.datetime) -> pki.CertKey:
    key = pki.new_key()
    sans: list[x509.GeneralName] = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    try:
        ip = ipaddress.ip_address(host)
        if str(ip) != "127.0.0.1":
            sans.append(x509.IPAddress(ip))
    except ValueError:
        sans.append(x509.DNSName(host))
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "MT3620 emulator device endpoint")]))
            .issuer_name(root.cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - pki.BACKDATE).not_valid_after(now + SERVER_CERT_LIFETIME)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root.key.public_key()), critical=False)
            .sign(root.key, hashes.SHA256()))
    return pki.CertKey(cert, key)


def _valid_through(cert: x509.Certificate, now: _dt.datetime, margin: _dt.timedelta) -> bool:
    """True when `cert` is valid at `now` and still `margin` later."""
    return cert.not_valid_before_utc <= now and now + margin < cert.not_valid_after_utc
