"""Management API over HTTP on loopback: resources, roles, tenant isolation, operations, updates, error reports."""
import datetime as dt
import json
import uuid

import pytest
from cryptography.hazmat.primitives.serialization import pkcs7

from mt3620 import attestation as ae
from mt3620.as3.device_client import DeviceApiError, DeviceKeys

from cloud_helpers import Mgmt, claim, device, make_package, register, upload


def test_openapi_published(service, admin):
    status, headers, body = admin.raw("GET", "/openapi.json", token=None)
    doc = json.loads(body)
    assert status == 200 and doc["openapi"].startswith("3.")
    assert "/v2/tenants/{tenantId}/devicegroups/{deviceGroupId}/deployments" in doc["paths"]
    assert doc["paths"]["/v2/tenants/{tenantId}/images"]["post"]["responses"].get("202")


def test_auth_required(admin):
    assert admin.call("GET", "/v2/tenants", token=None)[0] == 401
    assert admin.call("GET", "/v2/tenants", token="mt3620_nope")[0] == 401


def test_product_create_makes_five_default_groups(admin, tenant):
    groups = tenant["groups"]
    assert set(groups) == {"Development", "Field Test", "Production", "Production OS Evaluation",
                           "Field Test OS Evaluation"}
    assert (groups["Development"]["OsFeedType"], groups["Development"]["UpdatePolicy"]) == (0, 1)
    assert (groups["Production"]["OsFeedType"], groups["Production"]["UpdatePolicy"]) == (0, 0)
    assert groups["Production OS Evaluation"]["OsFeedType"] == 1
    assert groups["Field Test OS Evaluation"]["OsFeedType"] == 1


def test_roles_enforced_and_tenants_isolated(service, admin, tenant):
    tid = tenant["id"]
    users = {}
    for name, role in (("rita", "Reader"), ("carl", "Contributor"), ("ada", "Administrator")):
        _, token = service.services.users.create(name)
        users[name] = Mgmt(service.mgmt_url, token)
        admin.ok("POST", f"/v2/tenants/{tid}/roles", {"User": name, "Role": role})
    rita, carl, ada = users["rita"], users["carl"], users["ada"]
    assert rita.call("GET", f"/v2/tenants/{tid}/products")[0] == 200
    assert rita.call("POST", f"/v2/tenants/{tid}/products", {"Name": "x"})[0] == 403
    status, op = carl.call("POST", f"/v2/tenants/{tid}/products", {"Name": "x"})
    assert (status, op["OperationType"], op["State"]) == (202, 4, 2)      # CreateProduct, Complete
    p = op["Result"]
    assert carl.call("DELETE", f"/v2/tenants/{tid}/products/{p['Id']}")[0] == 403
    assert carl.call("POST", f"/v2/tenants/{tid}/roles", {"User": "rita", "Role": "Administrator"})[0] == 403
    assert ada.call("DELETE", f"/v2/tenants/{tid}/products/{p['Id']}")[0] == 204
    # A user of another tenant sees nothing of this one, not even that it exists.
    _, token = service.services.users.create("eve")
    eve = Mgmt(service.mgmt_url, token)
    other = eve.ok("POST", "/v2/tenants", {"Name": "Fabrikam"})
    assert [t["Id"] for t in eve.ok("GET", "/v2/tenants")] == [other["Id"]]
    for path in (f"/v2/tenants/{tid}", f"/v2/tenants/{tid}/products", f"/v2/tenants/{tid}/devices",
                 f"/v2/tenants/{tid}/devicegroups/{tenant['groups']['Production']['Id']}"):
        assert eve.call("GET", path)[0] == 404
    # IDs of one tenant's resources do not resolve through another tenant.
    assert eve.call("GET", f"/v2/tenants/{other['Id']}/products/{tenant['product']}")[0] == 404
    # The last Administrator cannot be removed.
    assert eve.call("DELETE", f"/v2/tenants/{other['Id']}/roles/eve")[0] == 409


def test_validation_errors_are_clear(admin, tenant):
    tid = tenant["id"]
    status, out = admin.call("POST", f"/v2/tenants/{tid}/products", {"Nom": "x"})
    assert status == 400 and "Name" in out["Message"]
    status, _, _ = admin.raw("POST", f"/v2/tenants/{tid}/products", data=b"{", headers={"Content-Type": "application/json"})
    assert status == 400
    status, _, _ = admin.raw("POST", f"/v2/tenants/{tid}/products", data=b"x", headers={"Content-Type": "text/plain"})
    assert status == 415
    assert admin.call("POST", f"/v2/tenants/{tid}/devices/claim", {"DeviceId": "AB" * 63})[0] == 400
    assert admin.call("POST", f"/v2/tenants/{tid}/devices/claim",
                      {"DeviceId": "AB" * 64, "AttestationPublicKey": "CD" * 64})[0] == 400   # not a P-256 point
    assert admin.call("GET", f"/v2/tenants/{tid}/errorreports?deviceGroupId=")[0] == 400
    assert admin.call("GET", f"/v2/tenants/{tid}/errorreports?maxPageSize=0")[0] == 400
    assert admin.call("GET", f"/v2/tenants/{tid}/products/not-a-guid")[0] == 400


def test_claim_is_one_time_and_bulk_claim_is_an_operation(admin, tenant):
    tid = tenant["id"]
    keys = claim(admin, tid)
    status, out = admin.call("POST", f"/v2/tenants/{tid}/devices/claim", {"DeviceId": keys.device_id})
    assert status == 409 and (out["Code"], out["ErrorCode"]) == (7, "DeviceAlreadyClaimed")   # 7 Conflict
    many = [DeviceKeys() for _ in range(5)]
    register(admin, *many)
    body = {"Devices": [{"DeviceId": k.device_id} for k in many] + [{"DeviceId": keys.device_id}]}
    status, headers, payload = admin.raw("POST", f"/v2/tenants/{tid}/devices/bulkclaim", body)
    op = json.loads(payload)
    assert status == 202 and headers["Location"].endswith(op["OperationId"]) and op["OperationType"] == 11
    op = admin.wait_operation(tid, op)
    assert op["State"] == 4                                   # CompleteWithErrors: one device was claimed before
    assert sorted(op["Result"]["Claimed"]) == sorted(k.device_id for k in many)
    assert [f["Code"] for f in op["Result"]["Failed"]] == ["DeviceAlreadyClaimed"]
    assert len(admin.ok("GET", f"/v2/tenants/{tid}/devices")) == 6


def test_image_upload_parses_and_checks_signature(admin, tenant):
    tid = tenant["id"]
    data, comp, image = make_package(svn=7, name="blink")
    op = upload(admin, tid, data)
    assert op["State"] == 2 and op["OperationType"] == 7 and op["ResourceLocation"].endswith(op["Result"]["Id"]), op
    meta = admin.ok("GET", f"/v2/tenants/{tid}/images/{image}")
    assert (meta["ComponentId"], meta["ImageType"], meta["Name"], meta["SecurityVersion"]) == (comp, 10, "blink", 7)
    tampered = bytearray(data)
    tampered[10] ^= 1
    op = upload(admin, tid, bytes(tampered))
    assert op["State"] == 3 and (op["Error"]["Code"], op["Error"]["ErrorCode"]) == (0, "InvalidImagePackage")
    from mt3620.imagepackage import KeySigner
    from mt3620.cloud import pki
    foreign, _, _ = make_package(signer=KeySigner(pki.new_key()))
    op = upload(admin, tid, foreign)
    assert op["State"] == 3 and "untrusted" in op["Error"]["Message"]
    op = upload(admin, tid, b"not a package at all")
    assert op["State"] == 3


def test_certificates_and_chain(admin, tenant):
    tid = tenant["id"]
    certs = admin.ok("GET", f"/v2/tenants/{tid}/certificates")
    assert [c["Status"] for c in certs] == ["Active"]
    status, headers, blob = admin.raw("GET", f"/v2/tenants/{tid}/certificates/current/chain")
    assert status == 200 and headers["Content-Type"] == "application/x-pkcs7-certificates"
    assert len(pkcs7.load_der_pkcs7_certificates(blob)) == 3


def test_ca_renewal_with_overlap(service, admin, tenant, clock):
    tid = tenant["id"]
    clock.advance(days=730 - 89)
    certs = admin.ok("GET", f"/v2/tenants/{tid}/certificates")
    assert sorted(c["Status"] for c in certs) == ["Active", "Inactive"]   # new CA made, not yet active
    clock.advance(days=46)
    certs = {c["Status"]: c for c in admin.ok("GET", f"/v2/tenants/{tid}/certificates")}
    assert set(certs) == {"Active", "Inactive"} and certs["Active"]["Thumbprint"] != certs["Inactive"]["Thumbprint"]
    clock.advance(days=60)
    statuses = sorted(c["Status"] for c in admin.ok("GET", f"/v2/tenants/{tid}/certificates"))
    assert statuses == ["Active", "Expired"]


def _deploy(admin, tid, gid, images):
    return admin.ok("POST", f"/v2/tenants/{tid}/devicegroups/{gid}/deployments", {"DeployedImages": images})


def test_update_flow_rollback_and_history(service, admin, tenant, root_pem):
    tid = tenant["id"]
    gid = tenant["groups"]["Field Test"]["Id"]
    comp = uuid.uuid4()
    v1, _, img1 = make_package(comp, svn=1)
    v2, _, img2 = make_package(comp, svn=2)
    upload(admin, tid, v1)
    upload(admin, tid, v2)
    keys = claim(admin, tid, gid)
    dev = device(service, root_pem, keys)
    dev.attest()
    d1 = _deploy(admin, tid, gid, [img1])
    out = dev.update_check({}, boot_id="1")
    assert [t["ImageId"] for t in out["TargetImages"]] == [img1]
    assert dev.download_image(img1) == v1
    out = dev.update_check({str(comp): img1}, boot_id="2")
    assert out["TargetImages"] == [] and out["Reasons"][0]["Code"] == "up-to-date"
    d2 = _deploy(admin, tid, gid, [img2])
    assert [t["ImageId"] for t in dev.update_check({str(comp): img1}, boot_id="2")["TargetImages"]] == [img2]
    # v2 fails to boot and the device rolls back to v1: v2 is not pushed again.
    out = dev.update_check({str(comp): img1}, boot_id="3")
    assert out["TargetImages"] == [] and "image-failed-on-device" in [r["Code"] for r in out["Reasons"]]
    status = admin.ok("GET", f"/v2/tenants/{tid}/devices/{keys.device_id}/updatestatus")
    assert "image-failed-on-device" in [r["Code"] for r in status["Reasons"]]
    # Rollback of the group = deploy the earlier image set; history is kept newest first.
    d3 = _deploy(admin, tid, gid, d1["DeployedImages"])
    history = admin.ok("GET", f"/v2/tenants/{tid}/devicegroups/{gid}/deployments")
    assert [h["Id"] for h in history] == [d3["Id"], d2["Id"], d1["Id"]] and history[0]["Current"]
    out = dev.update_check({str(comp): img1}, boot_id="3")
    assert out["TargetImages"] == [] and out["Reasons"][-1]["Code"] == "up-to-date"


def test_policy_reasons(service, admin, tenant, root_pem):
    tid = tenant["id"]
    data, comp, img = make_package()
    upload(admin, tid, data)
    dev_group = tenant["groups"]["Development"]["Id"]
    _deploy(admin, tid, dev_group, [img])
    keys = claim(admin, tid, dev_group)
    dev = device(service, root_pem, keys)
    dev.attest()
    out = dev.update_check({})
    assert out["TargetImages"] == [] and out["Reasons"][0]["Code"] == "update-policy-no-app-updates"
    prod = tenant["groups"]["Production"]["Id"]
    _deploy(admin, tid, prod, [img])
    admin.ok("PUT", f"/v2/tenants/{tid}/devices/{keys.device_id}/devicegroup", {"DeviceGroupId": prod})
    admin.ok("PUT", f"/v2/tenants/{tid}/devices/{keys.device_id}/capabilities", {"Capabilities": ["appDevelopment"]})
    codes = [r["Code"] for r in admin.ok("GET", f"/v2/tenants/{tid}/devices/{keys.device_id}/updatestatus")["Reasons"]]
    assert codes == ["app-development-capability"]
    assert dev.update_check({})["TargetImages"] == []
    admin.ok("PUT", f"/v2/tenants/{tid}/devices/{keys.device_id}/capabilities", {"Capabilities": []})
    assert [t["ImageId"] for t in dev.update_check({})["TargetImages"]] == [img]
    # A device reporting the capability itself is held back too.
    assert dev.update_check({}, capabilities=["appDevelopment"])["TargetImages"] == []


def test_action_timeout_marks_silent_devices(service, admin, tenant, root_pem, clock):
    tid = tenant["id"]
    gid = tenant["groups"]["Field Test"]["Id"]
    data, comp, img = make_package()
    upload(admin, tid, data)
    _deploy(admin, tid, gid, [img])
    keys = claim(admin, tid, gid)
    dev = device(service, root_pem, keys)
    dev.attest()
    dev.update_check({})
    summary = admin.ok("GET", f"/v2/tenants/{tid}/devicegroups/{gid}/deploymentstatus")["Summary"]
    assert summary["Offered"] == 1
    clock.advance(hours=49)
    summary = admin.ok("GET", f"/v2/tenants/{tid}/devicegroups/{gid}/deploymentstatus")["Summary"]
    assert summary["TimedOut"] == 1 and summary["Offered"] == 0
    reasons = admin.ok("GET", f"/v2/tenants/{tid}/devices/{keys.device_id}/updatestatus")["Reasons"]
    assert reasons[0]["Code"] == "action-timed-out"


def test_deployment_validation(admin, tenant):
    tid, gid = tenant["id"], tenant["groups"]["Production"]["Id"]
    assert admin.call("POST", f"/v2/tenants/{tid}/devicegroups/{gid}/deployments",
                      {"DeployedImages": [str(uuid.uuid4())]})[0] == 400
    comp = uuid.uuid4()
    a, _, ia = make_package(comp)
    b, _, ib = make_package(comp)
    upload(admin, tid, a)
    upload(admin, tid, b)
    status, out = admin.call("POST", f"/v2/tenants/{tid}/devicegroups/{gid}/deployments", {"DeployedImages": [ia, ib]})
    assert status == 400 and "one image per component" in out["Message"]


def test_error_reports_paged_csv_and_limits(service, admin, tenant, root_pem, clock):
    tid = tenant["id"]
    gid = tenant["groups"]["Field Test"]["Id"]
    keys = claim(admin, tid, gid)
    dev = device(service, root_pem, keys)
    dev.attest()
    now = clock()
    old = (now - dt.timedelta(days=15)).strftime("%Y-%m-%dT%H:%M:%SZ")
    events = [{"EventTime": (now - dt.timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ"), "EventClass": "AppExit",
               "EventType": "Crash", "Description": f"exit {i}", "EventCount": 1} for i in range(1000)]
    assert dev.upload_errors(events) == {"Accepted": 1000, "Dropped": []}
    answer = dev.upload_errors(events[:200] + [{"EventTime": old, "Description": "too old"}])
    assert answer["Accepted"] == 200 and [(d["Index"], d["Reason"]) for d in answer["Dropped"]] == \
        [(200, "event-time-too-old")] and "14 days" in answer["Dropped"][0]["Message"]
    page = admin.ok("GET", f"/v2/tenants/{tid}/errorreports?maxPageSize=300")
    seen = list(page["Items"])
    while page["ContinuationToken"]:
        page = admin.ok("GET", f"/v2/tenants/{tid}/errorreports?maxPageSize=300&continuationToken="
                               f"{page['ContinuationToken']}")
        seen += page["Items"]
    assert len(seen) == 1000                               # at most 1,000 events per query
    assert all(e["Description"] != "too old" for e in seen)   # and 14 days
    assert seen[0]["EventTime"] >= seen[-1]["EventTime"]
    status, headers, csv = admin.raw("GET", f"/v2/tenants/{tid}/errorreports?format=csv&deviceGroupId={gid}")
    lines = csv.decode().splitlines()
    assert status == 200 and lines[0].startswith("DeviceId,") and len(lines) == 1001
    with pytest.raises(DeviceApiError):
        dev.upload_errors([{"EventTime": "yesterday"}])


def test_error_events_dated_in_the_future_are_dropped_with_the_reason(service, admin, tenant, root_pem, clock):
    """A device clock may run up to 5 minutes ahead of the service's; later events are dropped and named in the
    answer, so 1,000 events dated 9999-12-31 cannot take over the tenant's report (which sorts newest first)."""
    tid = tenant["id"]
    dev = device(service, root_pem, claim(admin, tid, tenant["groups"]["Field Test"]["Id"]))
    dev.attest()
    pinned = [{"EventTime": "9999-12-31T23:59:59Z", "Description": "pinned"}] * 1000
    answer = dev.upload_errors(pinned)
    assert answer["Accepted"] == 0 and len(answer["Dropped"]) == 1000
    assert {d["Reason"] for d in answer["Dropped"]} == {"event-time-in-future"}
    assert "5 minutes" in answer["Dropped"][0]["Message"]
    answer = dev.upload_errors([{"EventTime": clock.iso(minutes=4), "Description": "clock 4 min ahead"},
                                {"EventTime": clock.iso(minutes=6), "Description": "clock 6 min ahead"},
                                {"EventTime": "9999-12-31T23:59:59-05:00", "Description": "beyond year 9999 UTC"},
                                {"EventTime": "0001-01-01T00:00:00+05:00", "Description": "before year 1 UTC"},
                                {"EventTime": clock.iso(), "Description": "now"}])
    assert answer["Accepted"] == 2
    assert [(d["Index"], d["Reason"]) for d in answer["Dropped"]] == [
        (1, "event-time-in-future"), (2, "event-time-in-future"), (3, "event-time-too-old")]
    shown = [e["Description"] for e in admin.ok("GET", f"/v2/tenants/{tid}/errorreports")["Items"]]
    assert shown == ["clock 4 min ahead", "now"]


def test_revoked_and_outdated_software_fail_attestation(service, admin, tenant, root_pem):
    tid = tenant["id"]
    data, comp, img = make_package(svn=2)
    upload(admin, tid, data)
    keys = claim(admin, tid, tenant["groups"]["Production"]["Id"])
    dev = device(service, root_pem, keys)
    # The device measures the package's signed content; the service knows that digest from the upload.
    from mt3620.imagepackage import parse
    m = [ae.Measurement(10, 2, uuid.UUID(comp), uuid.UUID(img), parse(data).content_digest)]
    assert dev.attest(m)["AttestationResult"]["Software"][-1]["Status"] == "trusted"
    admin.ok("PUT", f"/v2/tenants/{tid}/components/{comp}/minimumsecurityversion", {"MinimumSecurityVersion": 3})
    with pytest.raises(DeviceApiError) as e:
        dev.attest(m)
    assert e.value.reason == "outdated-software"
    admin.ok("PUT", f"/v2/tenants/{tid}/components/{comp}/minimumsecurityversion", {"MinimumSecurityVersion": 0})
    admin.ok("POST", f"/v2/tenants/{tid}/images/{img}/revoke")
    with pytest.raises(DeviceApiError) as e:
        dev.attest(m)
    assert e.value.reason == "revoked-software"


def test_attestation_failures_over_the_wire(service, admin, tenant, root_pem):
    tid = tenant["id"]
    stranger = device(service, root_pem, DeviceKeys())
    with pytest.raises(DeviceApiError) as e:
        stranger.attest()
    assert e.value.status == 403 and e.value.reason == "bad-signature"    # not registered: nothing is told
    unclaimed = DeviceKeys()
    register(admin, unclaimed)
    with pytest.raises(DeviceApiError) as e:                             # registered, its evidence verifies
        device(service, root_pem, unclaimed).attest()
    assert e.value.status == 403 and e.value.reason == "unknown-device"
    keys = claim(admin, tid)
    dev = device(service, root_pem, keys)
    nonce = dev.nonce()
    dev.attest(nonce=nonce)
    with pytest.raises(DeviceApiError) as e:     # single use
        dev.attest(nonce=nonce)
    assert e.value.reason == "stale-nonce"
    with pytest.raises(DeviceApiError) as e:
        dev.attest(tenant_id=str(uuid.uuid4()))
    assert e.value.reason == "wrong-tenant"
    forged = DeviceKeys(identity=keys.identity)   # same device ID, another attestation key
    with pytest.raises(DeviceApiError) as e:
        device(service, root_pem, forged).attest()
    assert e.value.reason == "bad-signature"


def test_nonce_expires(service, admin, tenant, root_pem, clock):
    keys = claim(admin, tenant["id"])
    dev = device(service, root_pem, keys)
    nonce = dev.nonce()
    clock.advance(seconds=121)
    with pytest.raises(DeviceApiError) as e:
        dev.attest(nonce=nonce)
    assert e.value.reason == "stale-nonce"


def test_state_persists_across_restart(tmp_path, clock, root_pem, service, admin, tenant):
    from mt3620.cloud.server import Service
    tid, gid = tenant["id"], tenant["groups"]["Field Test"]["Id"]
    data, comp, img = make_package()
    upload(admin, tid, data)
    dep = _deploy(admin, tid, gid, [img])
    keys = claim(admin, tid, gid)
    dev = device(service, root_pem, keys)
    dev.attest()
    dev.update_check({}, boot_id="1")
    service.stop()
    again = Service(service.data_dir, now=clock).start()
    try:
        m = Mgmt(again.mgmt_url, admin.token)
        assert m.ok("GET", f"/v2/tenants/{tid}/devicegroups/{gid}")["CurrentDeploymentId"] == dep["Id"]
        status = m.ok("GET", f"/v2/tenants/{tid}/devices/{keys.device_id}/updatestatus")
        assert status["Images"][0]["State"] == "Offered"
        # The device's certificate from before the restart still works (same CAs).
        dev2 = device(again, root_pem, keys)
        dev2.client_chain_pem = dev.client_chain_pem
        out = dev2.update_check({}, boot_id="2")     # rebooted without the image: failed, not offered again
        assert out["TargetImages"] == []
    finally:
        again.stop()


def test_certificates_from_old_and_new_tenant_ca_both_work(service, admin, tenant, root_pem, clock):
    """Across a tenant CA renewal: a certificate the old CA issued just before the new CA became active is still
    accepted after the switch (both CAs trusted during the overlap), while new certificates come from the new CA;
    a day later the old certificate has expired. Over mutual TLS, with the clock moved almost two years: the
    service and the device judge certificate dates by the service clock, not by OpenSSL's reading of the host's."""
    from cryptography import x509
    keys = claim(admin, tenant["id"], tenant["groups"]["Field Test"]["Id"])
    clock.advance(days=730 - 89)
    admin.ok("GET", f"/v2/tenants/{tenant['id']}/certificates")          # triggers the renewal
    clock.advance(days=45, hours=-2)                                        # 2 h before the new CA activates
    before = device(service, root_pem, keys)
    old = x509.load_pem_x509_certificate(before.attest()["ClientCertificate"].encode())
    assert "generation 1" in old.issuer.rfc4514_string()
    clock.advance(hours=4)                                                  # 2 h after
    after = device(service, root_pem, keys)
    new = x509.load_pem_x509_certificate(after.attest()["ClientCertificate"].encode())
    assert "generation 2" in new.issuer.rfc4514_string()
    assert before.update_check({})["DeviceId"] == after.update_check({})["DeviceId"] == keys.device_id
    statuses = {c["Status"] for c in admin.ok("GET", f"/v2/tenants/{tenant['id']}/certificates")}
    assert statuses == {"Active", "Inactive"}
    clock.advance(hours=23)                                                 # 25 h after the old one was issued
    with pytest.raises(DeviceApiError) as e:
        before.update_check({})
    assert (e.value.status, e.value.reason) == (401, "expired-certificate")
    assert after.update_check({})["DeviceId"] == keys.device_id


def test_tenant_rename_and_no_updates_policy(admin, tenant):
    tid = tenant["id"]
    assert admin.ok("PATCH", f"/v2/tenants/{tid}", {"Name": "Contoso Ltd"})["Name"] == "Contoso Ltd"
    assert admin.ok("GET", f"/v2/tenants/{tid}")["Name"] == "Contoso Ltd"
    gid = tenant["groups"]["Production"]["Id"]
    assert admin.ok("PATCH", f"/v2/tenants/{tid}/devicegroups/{gid}", {"UpdatePolicy": 2})["UpdatePolicy"] == 2
    assert admin.call("PATCH", f"/v2/tenants/{tid}/devicegroups/{gid}", {"UpdatePolicy": 3})[0] == 400


def test_tenant_certificate_chain_and_proof_of_possession(admin, tenant, tmp_path, monkeypatch, service):
    """The real API's /cert, /certchain (base64) and /verification/{code}: the proof-of-possession certificate IoT
    Hub and DPS verify (CN = their code, signed by the tenant CA); `azsphere ca-certificate download-proof`."""
    import base64
    from cryptography import x509
    from cryptography.x509.oid import NameOID
    from cryptography.hazmat.primitives.serialization import pkcs7
    from mt3620.cli import main
    tid = tenant["id"]
    ca = x509.load_der_x509_certificate(base64.b64decode(admin.ok("GET", f"/v2/tenants/{tid}/cert")))
    thumb = ca.fingerprint(__import__("cryptography.hazmat.primitives.hashes", fromlist=["SHA1"]).SHA1()).hex()
    assert admin.ok("GET", f"/v2/tenants/{tid}/cert?thumbprint={thumb}") == admin.ok("GET", f"/v2/tenants/{tid}/cert")
    chain = pkcs7.load_der_pkcs7_certificates(base64.b64decode(admin.ok("GET", f"/v2/tenants/{tid}/certchain")))
    assert ca in chain and len(chain) == 3
    proof = x509.load_der_x509_certificate(base64.b64decode(admin.ok("GET", f"/v2/tenants/{tid}/verification/"
                                                                            "0F1E2D3C4B5A")))
    assert proof.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "0F1E2D3C4B5A"
    proof.verify_directly_issued_by(ca)
    assert admin.call("GET", f"/v2/tenants/{tid}/verification/{'x' * 65}")[0] == 400
    monkeypatch.setenv("MT3620_CLOUD_URL", service.mgmt_url)
    monkeypatch.setenv("MT3620_CLOUD_TOKEN", service.admin_token)
    monkeypatch.setenv("MT3620_AZSPHERE_CONFIG", str(tmp_path / "az.json"))
    assert main(["azsphere", "ca-certificate", "download-proof", "--tenant", tid, "--destination",
                 str(tmp_path / "proof.cer"), "--verification-code", "ABCDEF123"]) == 0
    x509.load_der_x509_certificate((tmp_path / "proof.cer").read_bytes()).verify_directly_issued_by(ca)


def test_device_groups_as_the_real_api_shapes_them(admin, tenant):
    """DeviceGroups_Create is POST .../devicegroups with the ProductId; POST .../products/{p}/devicegroups makes the
    default groups; a group carries CurrentDeployment and RegionalDataBoundary."""
    tid, pid = tenant["id"], tenant["product"]
    group = admin.ok("POST", f"/v2/tenants/{tid}/devicegroups", {"Name": "EU fleet", "ProductId": pid,
                                                               "RegionalDataBoundary": 1})
    assert (group["ProductId"], group["RegionalDataBoundary"], group["CurrentDeployment"]) == (pid, 1, None)
    assert admin.call("POST", f"/v2/tenants/{tid}/devicegroups", {"Name": "x", "ProductId": pid,
                                                                  "RegionalDataBoundary": 2})[0] == 400
    defaults = admin.ok("POST", f"/v2/tenants/{tid}/products/{pid}/devicegroups")["Items"]
    assert sorted(g["Name"] for g in defaults) == sorted(tenant["groups"])           # already there: unchanged
    data, _, image = make_package()
    upload(admin, tid, data)
    dep = admin.ok("POST", f"/v2/tenants/{tid}/devicegroups/{group['Id']}/deployments", {"DeployedImages": [image]})
    current = admin.ok("GET", f"/v2/tenants/{tid}/devicegroups/{group['Id']}")["CurrentDeployment"]
    assert (current["Id"], current["DeployedImages"], current["TenantId"]) == (dep["Id"], [image], tid)


def test_the_real_apis_tenant_creation_and_claims(service, admin, tenant):
    """Tenants - Create (POST /v2/tenants/create with an unclaimed registered device), Devices - Claim (PUT
    .../devices/{id}/claim, 202 DeviceClaim) and Bulk Claim (PUT .../devices with a list of IDs, 202)."""
    from cloud_helpers import register
    tid = tenant["id"]
    witness, one, *many = [DeviceKeys() for _ in range(4)]
    register(admin, witness, one, *many)
    op = admin.ok("POST", "/v2/tenants/create", {"DeviceId": witness.device_id, "TenantFriendlyName": "Fabrikam"})
    assert (op["OperationType"], op["State"]) == (8, 2) and op["ResourceLocation"] == f"/v2/tenants/{op['TenantId']}"
    assert admin.ok("GET", op["ResourceLocation"])["Name"] == "Fabrikam"
    assert admin.call("POST", "/v2/tenants/create", {"DeviceId": DeviceKeys().device_id,
                                                     "TenantFriendlyName": "X"})[1]["ErrorCode"] == "DeviceNotRegistered"
    status, _, payload = admin.raw("PUT", f"/v2/tenants/{tid}/devices/{one.device_id}/claim")
    op = admin.wait_operation(tid, json.loads(payload))
    assert (status, op["OperationType"], op["State"]) == (202, 0, 2)
    assert op["ResourceLocation"].endswith(one.device_id)
    status, _, payload = admin.raw("PUT", f"/v2/tenants/{tid}/devices/{one.device_id}/claim")
    op = admin.wait_operation(tid, json.loads(payload))                      # a second claim fails
    assert op["State"] == 3 and op["Error"]["ErrorCode"] == "DeviceAlreadyClaimed"
    status, op = admin.call("PUT", f"/v2/tenants/{tid}/devices", [k.device_id for k in many] + [witness.device_id])
    op = admin.wait_operation(tid, op)
    assert (status, op["OperationType"], op["State"]) == (202, 11, 2)
    assert sorted(op["Result"]["Claimed"]) == sorted(k.device_id for k in many + [witness])
    assert admin.call("PUT", f"/v2/tenants/{tid}/devices", ["AB" * 64] * 1001)[0] == 400    # at most 1,000


def test_device_insights_page_with_sphere_continuation(service, admin, tenant, root_pem, clock):
    """getDeviceInsights as the real API: Unix timestamps, paged by the Sphere-Continuation request header."""
    tid = tenant["id"]
    dev = device(service, root_pem, claim(admin, tid, tenant["groups"]["Field Test"]["Id"]))
    dev.attest()
    events = [{"EventTime": clock.iso(minutes=-i), "EventType": f"t{i}", "EventCount": i + 1} for i in range(5)]
    assert dev.upload_errors(events)["Accepted"] == 5
    first = admin.ok("GET", f"/v2/tenants/{tid}/getDeviceInsights?maxPageSize=3")
    assert [i["EventType"] for i in first["Items"]] == ["t0", "t1", "t2"] and first["ContinuationToken"]
    start = first["Items"][0]["StartTimestampInUnix"]
    assert isinstance(start, int) and abs(start - int(clock().timestamp())) < 120
    status, _, payload = admin.raw("GET", f"/v2/tenants/{tid}/getDeviceInsights?maxPageSize=3",
                                   headers={"Sphere-Continuation": first["ContinuationToken"]})
    rest = json.loads(payload)
    assert status == 200 and [i["EventType"] for i in rest["Items"]] == ["t3", "t4"]
    assert rest["ContinuationToken"] is None
    assert admin.raw("GET", f"/v2/tenants/{tid}/getDeviceInsights", headers={"Sphere-Continuation": "x"})[0] == 400


def test_names_the_schema_allows_are_exactly_the_names_the_service_keeps(admin):
    """The schema's name pattern and the service's name check agree on white space and control characters in every
    regex dialect (schemathesis once generated "\\u001f", which ECMA-262's \\S allows and Python's refuses)."""
    import re
    from mt3620.cloud.api.schemas import NAME
    pattern = re.compile(NAME["pattern"])
    # No shorthand class whose meaning differs between Python's re (the service) and ECMA-262 (clients, schemathesis).
    assert not re.search(r"\\[sSwWdDbB]", NAME["pattern"]), NAME["pattern"]
    names = ["Contoso", "  padded  ", "x\u3000y", "\u00e9t\u00e9", " ", "\t", "\u3000", "\u001f", "\u001fa",
             "a\u0000b", "\u0085", "\u00a0", "\ufeff", "a\u007fb", "\u2028x"]
    for name in names:
        status, body = admin.call("POST", "/v2/tenants", {"Name": name})
        assert (status == 201) == bool(pattern.search(name)), (name, status, body)
        assert status in (201, 400), (name, status, body)
        if status == 201:
            assert body["Name"] == name.strip()
