"""The device side of the security service's device API: the OS agent's client (sphere_os/agent.py), also used by
tests, the benchmark and `mt3620 device`. It never imports the service (mt3620.cloud): only the protocol.

It holds the three P-256 keys a Pluton holds (identity = device ID, attestation, client authentication) and speaks
the device protocol of docs/cloud.md over real TLS (mt3620.http_client, the HTTP client the azsphere CLI uses
too): nonce, attestation, then update checks, image downloads and error uploads with the issued client certificate
(mutual TLS).

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
import os
import ssl
import tempfile
from dataclasses import dataclass, field
from typing import Callable

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from mt3620 import attestation as ae
from mt3620.attestation import attestation_challenge
from mt3620.clock import Now, wall_clock
from mt3620.http_client import HttpClient, HttpError

X509_V_FLAG_NO_CHECK_TIME = 0x200000   # OpenSSL x509_vfy.h; dates are checked against the device's clock instead


class ServerCertificateError(ssl.SSLError):
    """The service's TLS certificate (or the pinned root) is outside its validity period at the device's time."""


def _dated_check(now: Now, root: x509.Certificate) -> Callable[[http.client.HTTPConnection], None]:
    """Judge the server certificate's and the pinned root's dates by `now()` right after the handshake."""
    def check(conn: http.client.HTTPConnection) -> None:
        leaf = x509.load_der_x509_certificate(conn.sock.getpeercert(binary_form=True))
        at = now()
        for cert, what in ((leaf, "the service's TLS certificate"), (root, "the pinned service root")):
            if not cert.not_valid_before_utc <= at < cert.not_valid_after_utc:
                raise ServerCertificateError(
                    f"{what} is valid {cert.not_valid_before_utc:%Y-%m-%dT%H:%M:%SZ} .. "
                    f"{cert.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ}, not at the device's time "
                    f"{at:%Y-%m-%dT%H:%M:%SZ}")
    return check


def boot_measurements() -> list[ae.Measurement]:
    """The boot-chain measurements of a device that booted the project's OS release (mt3620.firmware.boot)."""
    from mt3620.firmware.boot import release
    return release().measurements()


DeviceApiError = HttpError    # the service refused (status, body, reason: the attestation Reason or the Code)


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
        self.device_url = device_url
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
        self._clients: dict[str | None, HttpClient] = {}   # one keep-alive connection per client certificate

    def _context(self, chain_pem: str | None) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cadata=self.root_pem)
        ctx.check_hostname = False  # the server certificate names 127.0.0.1/localhost; the root is pinned
        ctx.verify_flags |= X509_V_FLAG_NO_CHECK_TIME   # dates: _dated_check, by the device's clock
        if chain_pem:
            with tempfile.TemporaryDirectory() as d:
                cert, key = os.path.join(d, "c.pem"), os.path.join(d, "k.pem")
                with open(cert, "w") as f:
                    f.write(chain_pem)
                fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "wb") as f:
                    f.write(self.client_key.private_bytes(serialization.Encoding.PEM,
                                                           serialization.PrivateFormat.PKCS8,
                                                           serialization.NoEncryption()))
                ctx.load_cert_chain(cert, key)
        return ctx

    def _request(self, method: str, path: str, body: dict | None = None, chain_pem: str | None = None):
        client = self._clients.get(chain_pem)
        if client is None:
            client = HttpClient(self.device_url, tls=self._context(chain_pem), timeout=self.timeout,
                                on_connect=_dated_check(self.now, self.root))
            self._clients[chain_pem] = client
        return client.call(method, path, json=body)

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()

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
        return self.download(f"/device/v1/images/{image_id}")

    def download(self, path: str) -> bytes:
        """A download path the service gave (an image of the deployment, a stage of the offered OS release), with the
        update certificate."""
        return self._request("GET", path, None, self.update_chain_pem)

    def upload_errors(self, events: list[dict]) -> dict:
        return self._request("POST", "/device/v1/errorreports", {"Events": events}, self.client_chain_pem)
