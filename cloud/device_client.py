"""A device-side client of the service's device API, for tests, benchmarks and the emulated device.

It holds the three P-256 keys a Pluton holds (identity = device ID, attestation, client authentication) and speaks
the device protocol of docs/cloud.md over real TLS (http.client + ssl): nonce, attestation, then update checks,
image downloads and error uploads with the issued client certificate (mutual TLS).

Attestation binds the TLS client key: the device attests `attestation_challenge(nonce, client public key)`
instead of the bare nonce. Evidence comes from an `attester` (challenge -> evidence bytes; on the emulated device,
the Pluton's PROCESS_ATTESTATION) or, without one, from the software attestation key in `DeviceKeys`.

The device judges the server certificate's dates with its own calendar clock (`now`, default the wall clock), not
with OpenSSL's: OpenSSL verifies the chain to the pinned service root with X509_V_FLAG_NO_CHECK_TIME, then the
client checks the validity periods of the server certificate and the root against `now()`. A device and a
service moved to the same day by injected clocks (tests, `--clock`) therefore agree (docs/cloud.md, "Time").
"""
from __future__ import annotations

import base64
import http.client
import json
import os
import ssl
import tempfile
import urllib.parse
from dataclasses import dataclass, field
from typing import Callable

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from mt3620 import attestation as ae

from .clock import Now, wall_clock
from .verifier import attestation_challenge

X509_V_FLAG_NO_CHECK_TIME = 0x200000   # OpenSSL x509_vfy.h; dates are checked against the device's clock instead


class ServerCertificateError(ssl.SSLError):
    """The service's TLS certificate (or the pinned root) is outside its validity period at the device's time."""


class _DatedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS whose server certificate dates are judged by `now()` right after the handshake, before any request."""

    def __init__(self, *args, now: Now, root: x509.Certificate, **kw) -> None:
        super().__init__(*args, **kw)
        self._now, self._root = now, root

    def connect(self) -> None:
        super().connect()
        try:
            leaf = x509.load_der_x509_certificate(self.sock.getpeercert(binary_form=True))
            now = self._now()
            for cert, what in ((leaf, "the service's TLS certificate"), (self._root, "the pinned service root")):
                if not cert.not_valid_before_utc <= now < cert.not_valid_after_utc:
                    raise ServerCertificateError(
                        f"{what} is valid {cert.not_valid_before_utc:%Y-%m-%dT%H:%M:%SZ} .. "
                        f"{cert.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ}, not at the device's time "
                        f"{now:%Y-%m-%dT%H:%M:%SZ}")
        except BaseException:
            self.close()
            raise


def boot_measurements() -> list[ae.Measurement]:
    """The boot-chain measurements of a device that booted the project's OS release (mt3620.firmware.boot)."""
    from mt3620.firmware.boot import release
    return release().measurements()


class DeviceApiError(Exception):
    def __init__(self, status: int, body: dict) -> None:
        super().__init__(f"HTTP {status}: {body.get('Reason') or body.get('Code')}: {body.get('Message')}")
        self.status, self.body = status, body
        self.reason = body.get("Reason") or body.get("Code")


@dataclass
class DeviceKeys:
    identity: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    attestation: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    client: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))

    @property
    def device_id(self) -> str:
        return ae.public_key_to_raw(self.identity).hex().upper()

    @property
    def attestation_public_hex(self) -> str:
        return ae.public_key_to_raw(self.attestation).hex().upper()


class DeviceClient:
    def __init__(self, device_url: str, root_pem: str, keys: DeviceKeys | None = None, timeout: float = 30.0, *,
                 attester: Callable[[bytes], bytes] | None = None,
                 client_key: ec.EllipticCurvePrivateKey | None = None, device_id: str | bytes | None = None,
                 now: Now | None = None) -> None:
        """`attester(challenge)` returns evidence bytes for the 32-byte challenge (default: sign with
        `keys.attestation`); `client_key` is the TLS client key to have certified (default: `keys.client`);
        `device_id` (128 hex digits or 64 bytes) is the ID nonces are asked for (default: `keys.device_id`), for an
        attester whose identity key is not in `keys` (a Pluton never reveals it); `now` is the device's calendar
        clock for certificate dates (default: the wall clock)."""
        parsed = urllib.parse.urlsplit(device_url)
        self.host, self.port = parsed.hostname, parsed.port or 443
        self.root_pem = root_pem
        self.root = x509.load_pem_x509_certificate(root_pem.encode() if isinstance(root_pem, str) else root_pem)
        self.now = now or wall_clock
        self.keys = keys or DeviceKeys()
        self.attester = attester
        self.client_key = client_key if client_key is not None else self.keys.client
        if device_id is None:
            self.device_id = self.keys.device_id
        elif isinstance(device_id, (bytes, bytearray)) and len(device_id) == ae.DEVICE_ID_SIZE:
            self.device_id = bytes(device_id).hex().upper()
        elif isinstance(device_id, str) and len(device_id) == 2 * ae.DEVICE_ID_SIZE:
            self.device_id = bytes.fromhex(device_id).hex().upper()
        else:
            raise ValueError("device_id must be 64 bytes or 128 hex digits")
        self.timeout = timeout
        self.client_chain_pem: str | None = None
        self.update_chain_pem: str | None = None
        self.last_attestation: dict | None = None
        self._conns: dict[str | None, http.client.HTTPSConnection] = {}

    def _context(self, chain_pem: str | None) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cadata=self.root_pem)
        ctx.check_hostname = False  # the server certificate names 127.0.0.1/localhost; the root is pinned
        ctx.verify_flags |= X509_V_FLAG_NO_CHECK_TIME   # dates: _DatedHTTPSConnection, by the device's clock
        if chain_pem:
            with tempfile.TemporaryDirectory() as d:
                cert, key = os.path.join(d, "c.pem"), os.path.join(d, "k.pem")
                with open(cert, "w") as f:
                    f.write(chain_pem)
                with open(key, "wb") as f:
                    f.write(self.client_key.private_bytes(serialization.Encoding.PEM,
                                                           serialization.PrivateFormat.PKCS8,
                                                           serialization.NoEncryption()))
                ctx.load_cert_chain(cert, key)
        return ctx

    def _request(self, method: str, path: str, body: dict | None = None, chain_pem: str | None = None):
        conn = self._conns.get(chain_pem)
        if conn is None:
            conn = _DatedHTTPSConnection(self.host, self.port, timeout=self.timeout, context=self._context(chain_pem),
                                         now=self.now, root=self.root)
            self._conns[chain_pem] = conn
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        try:
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            payload = resp.read()
        except (http.client.HTTPException, OSError):
            conn.close()
            self._conns.pop(chain_pem, None)
            raise
        if resp.getheader("Content-Type", "").startswith("application/json"):
            parsed = json.loads(payload or b"{}")
            if resp.status >= 400:
                raise DeviceApiError(resp.status, parsed)
            return parsed
        if resp.status >= 400:
            raise DeviceApiError(resp.status, {"Message": payload[:200].decode(errors="replace")})
        return payload

    def close(self) -> None:
        for conn in self._conns.values():
            conn.close()
        self._conns.clear()

    def nonce(self) -> bytes:
        out = self._request("POST", "/device/v1/attestation/nonce", {"DeviceId": self.device_id})
        return base64.b64decode(out["Nonce"])

    @property
    def client_public_key(self) -> bytes:
        return ae.public_key_to_raw(self.client_key)

    def challenge(self, nonce: bytes) -> bytes:
        """What the device attests for the service's `nonce`: it binds this client's TLS key."""
        return attestation_challenge(nonce, self.client_public_key)

    def evidence(self, nonce: bytes, measurements: list[ae.Measurement], booted: bool = True) -> bytes:
        """Software evidence: the 32-byte `nonce` field as given, signed by `keys.attestation`. With `booted` the
        measurements follow those of the project's OS release (what an emulated device that booted it
        reports first: boot_measurements())."""
        chain = boot_measurements() if booted else []
        return ae.encode_evidence(nonce, bytes.fromhex(self.keys.device_id), chain + list(measurements),
                                  lambda data: ae.sign_raw(self.keys.attestation, data))

    def attest(self, measurements: list[ae.Measurement] = (), tenant_id: str | None = None,
               evidence: bytes | None = None, nonce: bytes | None = None) -> dict:
        """Nonce (fetched unless given), evidence for the challenge (unless given), then the attestation request.
        `measurements` feed the software attester only; an `attester` measures for itself."""
        nonce = nonce if nonce is not None else self.nonce()
        if evidence is None:
            challenge = self.challenge(nonce)
            if self.attester is not None:
                if measurements:
                    raise ValueError("measurements are chosen by the attester; pass none with an attester")
                evidence = self.attester(challenge)
                if not isinstance(evidence, (bytes, bytearray)):
                    raise TypeError(f"the attester returned {type(evidence).__name__}, not evidence bytes")
            else:
                evidence = self.evidence(challenge, list(measurements))
        body = {"Evidence": base64.b64encode(bytes(evidence)).decode(),
                "ClientPublicKey": base64.b64encode(self.client_public_key).decode(),
                "Nonce": base64.b64encode(bytes(nonce)).decode()}
        if tenant_id:
            body["TenantId"] = tenant_id
        out = self._request("POST", "/device/v1/attestation", body)
        self.last_attestation = out
        self.client_chain_pem = out["ClientCertificate"] + out["CertificateChain"]
        self.update_chain_pem = out["UpdateCertificate"] + out["CertificateChain"]
        return out

    def update_check(self, installed: dict[str, str], boot_id: str = "1", os_version: str = "",
                     capabilities: list[str] = (), failed_images: list[str] = ()) -> dict:
        body = {"InstalledImages": [{"ComponentId": c, "ImageId": i} for c, i in installed.items()],
                "BootId": boot_id, "OsVersion": os_version, "Capabilities": list(capabilities),
                "FailedImages": list(failed_images)}
        return self._request("POST", "/device/v1/updates/check", body, self.client_chain_pem)

    def download_image(self, image_id: str) -> bytes:
        return self._request("GET", f"/device/v1/images/{image_id}", None, self.update_chain_pem)

    def upload_errors(self, events: list[dict]) -> dict:
        return self._request("POST", "/device/v1/errorreports", {"Events": events}, self.client_chain_pem)
