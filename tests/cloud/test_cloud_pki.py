"""Pure PKI core: chain, lifetimes, tenant CA rotation, device certificates, PKCS#7 chain."""
import datetime as dt
import subprocess
import shutil

import pytest
from cryptography.hazmat.primitives.serialization import pkcs7

from mt3620.cloud import pki

UTC = dt.timezone.utc
T0 = dt.datetime(2027, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def chain():
    root = pki.make_root(T0)
    inter = pki.make_intermediate(root, T0)
    ca, active = pki.make_tenant_ca(inter, "tenant-a", T0, 1)
    return root, inter, ca, active


def test_chain_signatures_and_lifetimes(chain):
    root, inter, ca, active = chain
    assert pki.verify_issued_by(inter.cert, root.cert)
    assert pki.verify_issued_by(ca.cert, inter.cert)
    assert not pki.verify_issued_by(ca.cert, root.cert)
    assert ca.cert.not_valid_after_utc - T0 == pki.TENANT_CA_LIFETIME == dt.timedelta(days=730)
    assert active == T0   # the first generation signs at once


def _gen(inter, tenant, when, generation):
    made, active = pki.make_tenant_ca(inter, tenant, when, generation)
    return made, pki.TenantCa(tenant, made.cert, active)


def test_rotation_overlap(chain):
    root, inter, ca1, active1 = chain
    g1 = pki.TenantCa("tenant-a", ca1.cert, active1)
    not_after = g1.not_after
    assert not pki.needs_renewal([g1], not_after - dt.timedelta(days=91))
    renew_at = not_after - dt.timedelta(days=90)
    assert pki.needs_renewal([g1], renew_at)
    _, g2 = _gen(inter, "tenant-a", renew_at, 2)
    assert g2.active_from == renew_at + dt.timedelta(days=45)
    assert not pki.needs_renewal([g1, g2], renew_at)
    # Before the new CA is active the old one still signs; both are trusted during the overlap.
    t = renew_at + dt.timedelta(days=10)
    assert pki.signing_ca([g1, g2], t).thumbprint == g1.thumbprint
    assert {c.thumbprint for c in pki.trusted_cas([g1, g2], t)} == {g1.thumbprint, g2.thumbprint}
    t = renew_at + dt.timedelta(days=46)
    assert pki.signing_ca([g1, g2], t).thumbprint == g2.thumbprint
    assert len(pki.trusted_cas([g1, g2], t)) == 2
    # After the old one expires only the new one is trusted.
    t = not_after + dt.timedelta(seconds=1)
    assert [c.thumbprint for c in pki.trusted_cas([g1, g2], t)] == [g2.thumbprint]


def test_device_certificate_roundtrip_and_checks(chain):
    root, inter, ca, active = chain
    g1 = pki.TenantCa("tenant-a", ca.cert, active)
    key = pki.new_key()
    device_id = "AB" * 64
    result = {"Result": "Passed", "Software": [{"ImageId": "x"}] * 30}   # long enough for a long-form DER length
    cert = pki.issue_device_certificate(ca, "tenant-a", device_id, key.public_key(), T0, pki.ROLE_DAA, result)
    assert cert.not_valid_after_utc - T0 == dt.timedelta(hours=24)
    ident = pki.read_device_certificate(cert)
    assert (ident.device_id, ident.tenant_id, ident.role, ident.attestation_result) == \
        (device_id, "tenant-a", pki.ROLE_DAA, result)
    assert pki.check_device_chain(cert, [g1], T0 + dt.timedelta(hours=1)).thumbprint == g1.thumbprint
    with pytest.raises(pki.PkiError) as e:
        pki.check_device_chain(cert, [g1], T0 + dt.timedelta(hours=25))
    assert e.value.reason == "expired-certificate"
    with pytest.raises(pki.PkiError) as e:                  # backdated by 5 minutes for clock skew, not more
        pki.check_device_chain(cert, [g1], T0 - pki.BACKDATE - dt.timedelta(seconds=1))
    assert e.value.reason == "certificate-not-yet-valid"
    assert pki.check_device_chain(cert, [g1], T0 - pki.BACKDATE).thumbprint == g1.thumbprint
    other, g_other = _gen(inter, "tenant-b", T0, 1)
    with pytest.raises(pki.PkiError) as e:
        pki.check_device_chain(cert, [g_other], T0 + dt.timedelta(hours=1))
    assert e.value.reason == "wrong-tenant"


def test_lapsed_tenant_ca_is_replaced_by_one_that_signs_at_once(chain):
    """No generation valid any more (service off, or its clock moved, past the renewal window): the new one must
    sign at once, not 45 days later, or the tenant's devices get no certificates meanwhile."""
    root, inter, ca1, active1 = chain
    g1 = pki.TenantCa("tenant-a", ca1.cert, active1)
    later = g1.not_after + dt.timedelta(days=400)
    assert pki.signing_ca([g1], later) is None and pki.needs_renewal([g1], later)
    made, active = pki.make_tenant_ca(inter, "tenant-a", later, 2, sign_at_once=True)
    g2 = pki.TenantCa("tenant-a", made.cert, active)
    assert pki.signing_ca([g1, g2], later).thumbprint == g2.thumbprint


def test_not_a_device_certificate(chain):
    root, inter, ca, _ = chain
    with pytest.raises(pki.PkiError):
        pki.read_device_certificate(ca.cert)


def test_p7b_roundtrip(chain):
    root, inter, ca, _ = chain
    blob = pki.p7b([ca.cert, inter.cert, root.cert])
    loaded = pkcs7.load_der_pkcs7_certificates(blob)
    # certificates is a DER SET OF: order is by encoding, not as given
    assert {c.fingerprint(pki.hashes.SHA256()) for c in loaded} == \
        {c.fingerprint(pki.hashes.SHA256()) for c in (ca.cert, inter.cert, root.cert)}


@pytest.mark.skipif(not shutil.which("openssl"), reason="openssl not installed")
def test_openssl_verifies_device_chain(tmp_path):
    now = T0
    at = ["-attime", str(int((T0 + dt.timedelta(hours=1)).timestamp()))]    # openssl judges dates at T0 + 1 h
    root = pki.make_root(now)
    inter = pki.make_intermediate(root, now)
    ca, _ = pki.make_tenant_ca(inter, "t", now, 1)
    cert = pki.issue_device_certificate(ca, "t", "CD" * 64, pki.new_key().public_key(), now, pki.ROLE_DAA, {})
    (tmp_path / "root.pem").write_text(pki.pem(root.cert))
    (tmp_path / "untrusted.pem").write_text(pki.pem(ca.cert) + pki.pem(inter.cert))
    (tmp_path / "leaf.pem").write_text(pki.pem(cert))
    out = subprocess.run(["openssl", "verify", *at, "-purpose", "sslclient", "-CAfile", tmp_path / "root.pem",
                          "-untrusted", tmp_path / "untrusted.pem", tmp_path / "leaf.pem"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stdout + out.stderr
    late = subprocess.run(["openssl", "verify", "-attime", str(int((T0 + dt.timedelta(hours=25)).timestamp())),
                           "-CAfile", tmp_path / "root.pem", "-untrusted", tmp_path / "untrusted.pem",
                           tmp_path / "leaf.pem"], capture_output=True, text=True, timeout=30)
    assert late.returncode != 0 and "expired" in late.stdout + late.stderr     # the 24 h device certificate
    # Without the tenant CA the chain is incomplete.
    (tmp_path / "untrusted.pem").write_text(pki.pem(inter.cert))
    out = subprocess.run(["openssl", "verify", *at, "-CAfile", tmp_path / "root.pem", "-untrusted",
                          tmp_path / "untrusted.pem", tmp_path / "leaf.pem"], capture_output=True, text=True,
                         timeout=30)
    assert out.returncode != 0
