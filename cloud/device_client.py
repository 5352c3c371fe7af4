"""A device-side client of the service's device API, for tests, benchmarks and the emulated device.

It holds the three P-256 keys a Pluton holds (identity = device ID, attestation, client authentication) and speaks
the device protocol of docs/cloud.md over real TLS (http.client + ssl): nonce, attestation, then update checks,
image downloads and error uploads with the issued client certificate (mutual TLS).
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

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from mt3620 import attestation as ae

from .verifier import client_key_message


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
    def __init__(self, device_url: str, root_pem: str, keys: DeviceKeys | None = None, timeout: float = 30.0) -> None:
        parsed = urllib.parse.urlsplit(device_url)
        self.host, self.port = parsed.hostname, parsed.port or 443
        self.root_pem = root_pem
        self.keys = keys or DeviceKeys()
        self.timeout = timeout
        self.client_chain_pem: str | None = None
        self.update_chain_pem: str | None = None
        self.last_attestation: dict | None = None
        self._conns: dict[str | None, http.client.HTTPSConnection] = {}

    def _context(self, chain_pem: str | None) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cadata=self.root_pem)
        ctx.check_hostname = False  # the server certificate names 127.0.0.1/localhost; the root is pinned
        if chain_pem:
            with tempfile.TemporaryDirectory() as d:
                cert, key = os.path.join(d, "c.pem"), os.path.join(d, "k.pem")
                with open(cert, "w") as f:
                    f.write(chain_pem)
                with open(key, "wb") as f:
                    f.write(self.keys.client.private_bytes(serialization.Encoding.PEM,
                                                           serialization.PrivateFormat.PKCS8,
                                                           serialization.NoEncryption()))
                ctx.load_cert_chain(cert, key)
        return ctx

    def _request(self, method: str, path: str, body: dict | None = None, chain_pem: str | None = None):
        conn = self._conns.get(chain_pem)
        if conn is None:
            conn = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout,
                                               context=self._context(chain_pem))
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
        out = self._request("POST", "/device/v1/attestation/nonce", {"DeviceId": self.keys.device_id})
        return base64.b64decode(out["Nonce"])

    def evidence(self, nonce: bytes, measurements: list[ae.Measurement]) -> bytes:
        return ae.encode_evidence(nonce, bytes.fromhex(self.keys.device_id), measurements,
                                  lambda data: ae.sign_raw(self.keys.attestation, data))

    def attest(self, measurements: list[ae.Measurement] = (), tenant_id: str | None = None,
               evidence: bytes | None = None, nonce: bytes | None = None) -> dict:
        nonce = nonce if nonce is not None else self.nonce()
        evidence = evidence if evidence is not None else self.evidence(nonce, list(measurements))
        client_pub = ae.public_key_to_raw(self.keys.client)
        body = {"Evidence": base64.b64encode(evidence).decode(),
                "ClientPublicKey": base64.b64encode(client_pub).decode(),
                "ClientKeySignature": base64.b64encode(ae.sign_raw(self.keys.attestation,
                                                                   client_key_message(nonce, client_pub))).decode()}
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
