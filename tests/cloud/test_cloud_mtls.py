"""Device endpoints over mutual TLS, exercised with real TLS clients (curl and openssl s_client) on loopback.

Every date is relative to the service clock (`clock`). The service judges client certificate dates by that clock
(OpenSSL checks only signatures), so expired and not-yet-valid certificates get an HTTP answer with their reason.
curl and openssl judge the *server* certificate by the host's clock: openssl s_client is told the service's time
(-attime); curl cannot be, so when the clock is moved away from the host's day (the run-tests guard) curl pins the
server's public key instead of checking the certificate's chain and dates."""
import base64
import datetime as dt
import hashlib
import json
import shutil
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from mt3620.cloud import pki

from cloud_helpers import claim, device

pytestmark = pytest.mark.skipif(not (shutil.which("curl") and shutil.which("openssl")),
                                reason="curl and openssl are needed for the mutual TLS tests")


def key_pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


@pytest.fixture
def attested(service, admin, tenant, root_pem, tmp_path):
    keys = claim(admin, tenant["id"], tenant["groups"]["Field Test"]["Id"])
    dev = device(service, root_pem, keys)
    out = dev.attest()
    (tmp_path / "root.pem").write_text(root_pem)
    (tmp_path / "client.key").write_bytes(key_pem(keys.client))
    (tmp_path / "daa.pem").write_text(out["ClientCertificate"] + out["CertificateChain"])
    (tmp_path / "update.pem").write_text(out["UpdateCertificate"] + out["CertificateChain"])
    (tmp_path / "leaf.pem").write_text(out["ClientCertificate"])
    (tmp_path / "chain.pem").write_text(out["CertificateChain"])
    return keys, out


def server_trust(service, tmp_path, moved: bool) -> list[str]:
    """How curl authenticates the service: the root CA, or (clock moved off the host's day, where curl would find
    the certificate not yet valid) the server's pinned public key."""
    if not moved:
        return ["--cacert", str(tmp_path / "root.pem")]
    spki = x509.load_pem_x509_certificate(service.tls_certificate_pem.encode()).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return ["--insecure", "--pinnedpubkey", "sha256//" + base64.b64encode(hashlib.sha256(spki).digest()).decode()]


def curl(service, tmp_path, path, cert=None, key="client.key", body=None):
    cmd = ["curl", "-sS", "--max-time", "20", *server_trust(service, tmp_path, getattr(service.now, "moved", False)),
           "-o", str(tmp_path / "out"), "-w", "%{http_code}"]
    if cert:
        cmd += ["--cert", str(tmp_path / cert), "--key", str(tmp_path / key)]
    if body is not None:
        cmd += ["-X", "POST", "-H", "Content-Type: application/json", "--data", json.dumps(body)]
    proc = subprocess.run(cmd + [service.device_url + path], capture_output=True, text=True, timeout=60)
    out = (tmp_path / "out").read_bytes() if (tmp_path / "out").exists() else b""
    (tmp_path / "out").unlink(missing_ok=True)
    return proc.returncode, proc.stdout.strip(), out


def test_curl_with_issued_certificate(service, admin, tenant, tmp_path, attested, clock):
    keys, _ = attested
    rc, code, out = curl(service, tmp_path, "/device/v1/updates/check", "daa.pem",
                         body={"InstalledImages": [], "BootId": "1"})
    assert (rc, code) == (0, "200"), out
    assert json.loads(out)["DeviceId"] == keys.device_id
    events = [{"EventTime": clock.iso(days=-15), "Description": "before the 14-day retention"},
              {"EventTime": clock.iso(minutes=-1), "Description": "kept"},
              {"EventTime": clock.iso(days=30), "Description": "from the future"}]
    rc, code, out = curl(service, tmp_path, "/device/v1/errorreports", "daa.pem", body={"Events": events})
    answer = json.loads(out)
    assert code == "200" and answer["Accepted"] == 1, answer
    assert [(d["Index"], d["Reason"]) for d in answer["Dropped"]] == [(0, "event-time-too-old"),
                                                                       (2, "event-time-in-future")]
    kept = admin.ok("GET", f"/v2/tenants/{tenant['id']}/errorreports")["Items"]
    assert [(e["DeviceId"], e["Description"]) for e in kept] == [(keys.device_id, "kept")]


def test_no_certificate_is_refused(service, tmp_path, attested):
    rc, code, out = curl(service, tmp_path, "/device/v1/updates/check", body={})
    assert code == "401" and json.loads(out)["Code"] == "client-certificate-required"


def test_wrong_role_is_refused(service, tmp_path, attested):
    rc, code, out = curl(service, tmp_path, "/device/v1/updates/check", "update.pem", body={})
    assert code == "403" and json.loads(out)["Code"] == "wrong-certificate-role"


def test_openssl_s_client(service, tmp_path, attested, clock):
    keys, _ = attested
    host, port = service.device_url[len("https://"):].rsplit(":", 1)
    request = f"GET /device/v1/whoami HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    proc = subprocess.run(["openssl", "s_client", "-connect", f"{host}:{port}", "-CAfile", str(tmp_path / "root.pem"),
                           "-attime", str(int(clock().timestamp())),     # judge the server certificate at service time
                           "-cert", str(tmp_path / "leaf.pem"), "-cert_chain", str(tmp_path / "chain.pem"),
                           "-key", str(tmp_path / "client.key"), "-verify_return_error", "-quiet"],
                          input=request, capture_output=True, text=True, timeout=60)
    assert "HTTP/1.1 200" in proc.stdout, proc.stdout + proc.stderr
    assert keys.device_id in proc.stdout


def _forge(tmp_path, name, issuer_cert, issuer_key, subject_key, not_before, not_after, device_id, tenant_id):
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "daa"),
                                        x509.NameAttribute(NameOID.COMMON_NAME, device_id[:64])]))
               .issuer_name(issuer_cert.subject if issuer_cert else
                            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, device_id[:64])]))
               .public_key(subject_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(not_before).not_valid_after(not_after)
               .add_extension(x509.SubjectAlternativeName([
                   x509.UniformResourceIdentifier(pki.DEVICE_URI_PREFIX + device_id),
                   x509.UniformResourceIdentifier(pki.TENANT_URI_PREFIX + tenant_id)]), critical=False)
               .add_extension(x509.UnrecognizedExtension(pki.OID_CERT_ROLE, pki._der_utf8("daa")), critical=False))
    cert = builder.sign(issuer_key, hashes.SHA256())
    return cert


@pytest.mark.parametrize("window, reason", [((-2, -1), "expired-certificate"),
                                            ((1, 2), "certificate-not-yet-valid")])
def test_certificate_outside_its_validity_is_refused(service, tmp_path, attested, tenant, clock, window, reason):
    """Signed by the tenant's own CA, but dated (in days from the service's time) outside the service clock: the
    handshake passes (OpenSSL checks signatures only) and the service answers with the reason."""
    keys, out = attested
    ca, ca_key_pem = service.services.certificates.opened(tenant["id"], 1)
    ca_key = serialization.load_pem_private_key(ca_key_pem.encode(), None)
    now = clock()
    cert = _forge(tmp_path, "dated", ca.cert, ca_key, keys.client, now + dt.timedelta(days=window[0]),
                  now + dt.timedelta(days=window[1]), keys.device_id, tenant["id"])
    (tmp_path / "dated.pem").write_text(pki.pem(cert) + out["CertificateChain"])
    rc, code, body = curl(service, tmp_path, "/device/v1/updates/check", "dated.pem", body={})
    assert code == "401" and json.loads(body)["Code"] == reason, body


def test_self_signed_certificate_is_refused(service, tmp_path, attested, tenant, clock):
    keys, _ = attested
    now = clock()
    cert = _forge(tmp_path, "self", None, keys.client, keys.client, now - dt.timedelta(hours=1),
                  now + dt.timedelta(hours=1), keys.device_id, tenant["id"])
    (tmp_path / "self.pem").write_text(pki.pem(cert))
    rc, code, body = curl(service, tmp_path, "/device/v1/updates/check", "self.pem", body={})
    assert rc != 0 and code == "000"


def test_wrong_tenant_certificate_is_refused(service, admin, tmp_path, attested, tenant, clock):
    keys, _ = attested
    other = admin.ok("POST", "/v2/tenants", {"Name": "Other tenant"})
    ca, ca_key_pem = service.services.certificates.opened(other["Id"], 1)
    ca_key = serialization.load_pem_private_key(ca_key_pem.encode(), None)
    now = clock()
    chain = pki.pem(ca.cert) + pki.pem(service.services.certificates.intermediate())
    for tenant_named in (other["Id"], tenant["id"]):   # signed by the other tenant's CA, whatever it claims
        cert = _forge(tmp_path, "wt", ca.cert, ca_key, keys.client, now - dt.timedelta(hours=1),
                      now + dt.timedelta(hours=1), keys.device_id, tenant_named)
        (tmp_path / "wrong.pem").write_text(pki.pem(cert) + chain)
        rc, code, body = curl(service, tmp_path, "/device/v1/updates/check", "wrong.pem", body={})
        assert code == "401" and json.loads(body)["Code"] == "wrong-tenant", body


def test_certificate_of_unclaimed_device_is_refused(service, tmp_path, attested, tenant, clock):
    from mt3620.as3.device_client import DeviceKeys
    keys, out = attested
    ca, ca_key_pem = service.services.certificates.opened(tenant["id"], 1)
    ca_key = serialization.load_pem_private_key(ca_key_pem.encode(), None)
    now = clock()
    stranger = DeviceKeys()
    cert = _forge(tmp_path, "s", ca.cert, ca_key, keys.client, now - dt.timedelta(hours=1),
                  now + dt.timedelta(hours=1), stranger.device_id, tenant["id"])
    (tmp_path / "stranger.pem").write_text(pki.pem(cert) + out["CertificateChain"])
    rc, code, body = curl(service, tmp_path, "/device/v1/updates/check", "stranger.pem", body={})
    assert code == "401" and json.loads(body)["Code"] == "unknown-device"
