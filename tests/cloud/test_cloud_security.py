"""Issue 17's security findings, each tried as the attacker or user who found it: device identity from the registry,
uniform answers before the evidence verifies, downloads limited to the device's unrevoked deployment, token
lifetimes and rotation, the audit log, integer bounds."""
import datetime as dt
import uuid

import pytest

from mt3620.as3.device_client import DeviceApiError, DeviceKeys
from mt3620.cloud.server import Service

from cloud_helpers import Mgmt, claim, device, make_package, register, upload


def _user(service, admin, tenant_id, name, role):
    _, token = service.services.users.create(name)
    admin.ok("POST", f"/v2/tenants/{tenant_id}/roles", {"User": name, "Role": role})
    return Mgmt(service.mgmt_url, token)


def test_a_claim_cannot_choose_a_device_identity(service, admin, tenant, root_pem):
    """Formerly a Contributor claimed an unclaimed device ID with an attestation key of their own, attested as the
    device, and the real device was refused forever."""
    tid = tenant["id"]
    mallory = _user(service, admin, tid, "mallory", "Contributor")
    real = DeviceKeys()
    fake = DeviceKeys(identity=real.identity)            # the real device's ID, the attacker's attestation key
    status, out = mallory.call("POST", f"/v2/tenants/{tid}/devices/claim",
                               {"DeviceId": real.device_id, "AttestationPublicKey": fake.attestation_public_hex})
    assert (status, out["ErrorCode"]) == (404, "DeviceNotRegistered")
    status, out = mallory.call("POST", "/v2/registry/devices", {"Devices": [
        {"DeviceId": real.device_id, "AttestationPublicKey": fake.attestation_public_hex}]})
    assert status == 403                                  # enrolling takes the Manufacturing service role
    register(admin, real)                                 # the manufacturer enrols the chip with its real key
    status, out = mallory.call("POST", f"/v2/tenants/{tid}/devices/claim",
                               {"DeviceId": real.device_id, "AttestationPublicKey": fake.attestation_public_hex})
    assert (status, out["ErrorCode"]) == (400, "AttestationKeyMismatch")
    out = admin.ok("POST", "/v2/registry/devices", {"Devices": [
        {"DeviceId": real.device_id, "AttestationPublicKey": fake.attestation_public_hex}]})
    assert out["Registered"] == 0 and "another attestation key" in out["Refused"][0]["Message"]
    mallory.ok("POST", f"/v2/tenants/{tid}/devices/claim", {"DeviceId": real.device_id})   # binding only
    with pytest.raises(DeviceApiError) as e:
        device(service, root_pem, fake).attest()
    assert e.value.reason == "bad-signature"
    assert device(service, root_pem, real).attest()["Result"] == "Passed"


def test_attestation_answers_before_verification_do_not_tell_device_state(service, admin, tenant, root_pem):
    """An unauthenticated caller formerly learnt whether a device ID was claimed and by which tenant
    (unknown-device / wrong-tenant / stale-nonce). Before the signature verifies, every answer is the same."""
    tid = tenant["id"]
    claimed = claim(admin, tid)
    unclaimed = DeviceKeys()
    register(admin, unclaimed)
    answers = []
    for keys, tenant_hint, stale in ((DeviceKeys(), None, False), (unclaimed, None, False),
                                     (claimed, str(uuid.uuid4()), False), (claimed, tid, True)):
        forged = DeviceKeys(identity=keys.identity)      # signs with a key that is not the registered one
        dev = device(service, root_pem, forged)
        nonce = dev.nonce()
        if stale:   # the nonce is used up (by a failed attempt: a nonce is single use whatever the outcome)
            with pytest.raises(DeviceApiError):
                dev.attest(nonce=nonce)
        with pytest.raises(DeviceApiError) as e:
            dev.attest(tenant_id=tenant_hint, nonce=nonce)
        answers.append((e.value.status, e.value.body))
    assert len({(s, tuple(sorted(b.items()))) for s, b in answers}) == 1, answers
    assert answers[0][0] == 403 and answers[0][1]["Reason"] == "bad-signature"


def test_downloads_only_of_the_devices_unrevoked_deployment(service, admin, tenant, root_pem):
    """A device kept downloading a revoked image with its 24 h certificate, and could download any image of the
    tenant; both are refused now."""
    tid = tenant["id"]
    field_test, production = tenant["groups"]["Field Test"]["Id"], tenant["groups"]["Production"]["Id"]
    deployed, _, deployed_id = make_package()
    elsewhere, _, elsewhere_id = make_package()
    for data in (deployed, elsewhere):
        assert upload(admin, tid, data)["State"] == 2
    admin.ok("POST", f"/v2/tenants/{tid}/devicegroups/{field_test}/deployments", {"DeployedImages": [deployed_id]})
    admin.ok("POST", f"/v2/tenants/{tid}/devicegroups/{production}/deployments", {"DeployedImages": [elsewhere_id]})
    dev = device(service, root_pem, claim(admin, tid, field_test))
    dev.attest()
    assert dev.download_image(deployed_id) == deployed
    with pytest.raises(DeviceApiError) as e:
        dev.download_image(elsewhere_id)                  # another group's image
    assert (e.value.status, e.value.reason) == (403, "image-not-deployed")
    admin.ok("POST", f"/v2/tenants/{tid}/images/{deployed_id}/revoke")
    with pytest.raises(DeviceApiError) as e:
        dev.download_image(deployed_id)                   # same certificate, image revoked since
    assert (e.value.status, e.value.reason) == (403, "image-revoked")


def test_tokens_expire_and_rotate(tmp_path, clock):
    with Service(tmp_path / "data", now=clock, token_lifetime=dt.timedelta(days=30)) as svc:
        admin = Mgmt(svc.mgmt_url, svc.admin_token)
        me = admin.ok("GET", "/v2/users/me")
        assert me["Name"] == "admin" and me["ServiceRoles"] == ["Manufacturing"] and me["TokenExpiresAt"]
        rotated = admin.ok("POST", "/v2/users/me/token")
        assert admin.call("GET", "/v2/tenants")[0] == 401       # the rotated-out token stops at once
        admin = Mgmt(svc.mgmt_url, rotated["Token"])
        assert admin.call("GET", "/v2/tenants")[0] == 200
        clock.advance(days=30, minutes=1)
        status, out = admin.call("GET", "/v2/tenants")
        assert (status, out["ErrorCode"]) == (401, "TokenExpired") and "mt3620 cloud user token admin" in out["Message"]
        assert Mgmt(svc.mgmt_url, svc.services.users.rotate_token("admin")).call("GET", "/v2/tenants")[0] == 200


def test_every_management_write_is_audited(service, admin, tenant):
    tid = tenant["id"]
    reader = _user(service, admin, tid, "rita", "Reader")
    assert reader.call("POST", f"/v2/tenants/{tid}/products", {"Name": "Nope"})[0] == 403
    admin.ok("PATCH", f"/v2/tenants/{tid}/products/{tenant['product']}", {"Description": "thermostats"})
    assert admin.call("GET", f"/v2/tenants/{tid}/auditlog")[0] == 200
    entries = admin.ok("GET", f"/v2/tenants/{tid}/auditlog")
    seen = [(e["User"], e["Operation"], e["Status"]) for e in entries]
    assert seen[:3] == [("admin", "Products_Patch", 200), ("rita", "Products_Create", 403),
                        ("admin", "Roles_Add", 200)]
    assert ("admin", "Tenants_Create", 201) in seen and ("admin", "Products_Create", 202) in seen
    assert all(e["Method"] != "GET" for e in entries)
    assert reader.call("GET", f"/v2/tenants/{tid}/auditlog")[0] == 403


@pytest.mark.parametrize("count", [2 ** 31, 2 ** 63, 2 ** 70, 0, -1])
def test_event_count_out_of_bounds_is_refused_not_a_500(service, admin, tenant, root_pem, clock, count):
    """EventCount 2^70 (SQLite) or >= 2^31 (PostgreSQL) gave 500."""
    dev = device(service, root_pem, claim(admin, tenant["id"], tenant["groups"]["Field Test"]["Id"]))
    dev.attest()
    with pytest.raises(DeviceApiError) as e:
        dev.upload_errors([{"EventTime": clock.iso(), "EventCount": count}])
    assert e.value.status == 400 and "EventCount" in e.value.body["Message"]
    assert dev.upload_errors([{"EventTime": clock.iso(), "EventCount": 2 ** 31 - 1}])["Accepted"] == 1


def _stored_keys(services) -> list[str]:
    from sqlalchemy import select
    from mt3620.cloud.db import service_secrets, tenant_cas
    with services.db.read() as c:
        return [r[0] for r in c.execute(select(service_secrets.c.key_pem))] + \
               [r[0] for r in c.execute(select(tenant_cas.c.key_pem))]


def test_keys_at_rest_are_sealed_and_the_data_folder_is_private(tmp_path, clock):
    """CA private keys (root, intermediate, tenant CAs, the TLS key) were plain text in a 0644 SQLite file in a 0755
    folder: any local user could mint device certificates."""
    data = tmp_path / "data"
    with Service(data, now=clock) as svc:
        admin = Mgmt(svc.mgmt_url, svc.admin_token)
        admin.ok("POST", "/v2/tenants", {"Name": "Sealed"})
        keys = _stored_keys(svc.services)
        assert len(keys) >= 4 and all(k.startswith("kek1:") for k in keys)
    modes = {p.name: p.stat().st_mode & 0o777 for p in [data, *data.iterdir()] if p.is_file() or p == data}
    assert modes.pop("data") == 0o700
    assert modes and all(mode == 0o600 for mode in modes.values()), modes
    assert {"as3.sqlite3", "kek.bin", "admin.token"} <= set(modes)
    raw = b"".join(p.read_bytes() for p in data.iterdir() if p.name.startswith("as3.sqlite3"))
    assert b"PRIVATE KEY" not in raw
    # Another service's KEK does not open these keys: the start fails with the reason, nothing is overwritten.
    other = tmp_path / "other-kek.bin"
    other.write_bytes(bytes(32))
    other.chmod(0o600)
    with pytest.raises(Exception) as e:
        Service(data, now=clock, kek_file=other).start()
    assert "does not open the stored key" in str(e.value)
    (data / "kek.bin").chmod(0o644)
    with pytest.raises(Exception) as e:
        Service(data, now=clock).start()
    assert "readable by others" in str(e.value)


def test_plain_text_keys_of_an_earlier_version_are_sealed_at_start(tmp_path, clock):
    from sqlalchemy import update
    from mt3620.cloud.db import tenant_cas
    data = tmp_path / "data"
    with Service(data, now=clock) as svc:
        tid = Mgmt(svc.mgmt_url, svc.admin_token).ok("POST", "/v2/tenants", {"Name": "Old"})["Id"]
        _, key_pem = svc.services.certificates.opened(tid, 1)
        with svc.services.db.write() as c:         # as version 0001 stored it
            c.execute(update(tenant_cas).values(key_pem=key_pem))
    with Service(data, now=clock) as svc:
        assert all(k.startswith("kek1:") for k in _stored_keys(svc.services))


def test_keys_at_rest_are_sealed_on_postgresql(pg_clean, tmp_path, clock):
    with Service(tmp_path / "pg", url=pg_clean, now=clock) as svc:
        Mgmt(svc.mgmt_url, svc.admin_token).ok("POST", "/v2/tenants", {"Name": "SealedPg"})
        keys = _stored_keys(svc.services)
    assert len(keys) >= 4 and all(k.startswith("kek1:") for k in keys)


def test_management_beyond_loopback_is_tls_or_refused():
    """`cloud serve --host` on a non-loopback address served tokens over plain HTTP with no warning."""
    from mt3620.cloud.server import management_over_tls
    assert management_over_tls("127.0.0.1", None, False) is False and management_over_tls("::1", None, False) is False
    assert management_over_tls("0.0.0.0", None, False) is True
    assert management_over_tls("192.0.2.7", None, False) is True
    with pytest.raises(ValueError, match="--insecure-http"):
        management_over_tls("192.0.2.7", False, False)
    assert management_over_tls("192.0.2.7", False, True) is False
    assert management_over_tls("127.0.0.1", True, False) is True


def test_management_over_tls_with_the_azsphere_cli(tmp_path, clock, monkeypatch, capsys):
    from mt3620.cli import main
    if clock.moved:   # docs/cloud.md "Time": tools that judge the server's certificate by the host clock
        pytest.skip("the azsphere CLI judges the service's TLS certificate by the host's clock, which the moved "
                    "service clock does not follow (as curl in the mutual TLS tests)")
    monkeypatch.setenv("MT3620_AZSPHERE_CONFIG", str(tmp_path / "az.json"))
    with Service(tmp_path / "data", now=clock, management_tls=True, token_lifetime=dt.timedelta(days=1)) as svc:
        assert svc.mgmt_url.startswith("https://")
        root = svc.data_dir / "rootca.pem"
        token = str(svc.data_dir / "admin.token")
        assert main(["azsphere", "login", "--url", svc.mgmt_url, "--token-file", token]) == 2   # untrusted
        assert "cannot reach" in capsys.readouterr().err
        assert main(["azsphere", "login", "--url", svc.mgmt_url, "--token-file", token, "--ca-file", str(root)]) == 0
        assert main(["azsphere", "ca-certificate", "download-root", "--destination", str(tmp_path / "r.pem")]) == 0
        assert (tmp_path / "r.pem").read_text() == root.read_text()
        assert main(["azsphere", "login", "--rotate"]) == 0
        assert "new token saved" in capsys.readouterr().out
        assert main(["azsphere", "tenant", "list"]) == 0
        import urllib.request
        with pytest.raises(Exception):   # plain HTTP to the TLS port gets no answer
            urllib.request.urlopen(svc.mgmt_url.replace("https://", "http://") + "/healthz", timeout=10)
