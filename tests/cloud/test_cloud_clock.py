"""Time: the injected calendar clock, certificate dates judged by the service's and the device's clocks (not by
OpenSSL's reading of the host's), a service whose clock jumps years ahead, and the rule that no test reads the
host's clock."""
import datetime as dt
import re
import ssl
from pathlib import Path

import pytest

from mt3620.cli import main
from mt3620.cloud import pki
from mt3620.clock import StartedClock, parse_instant
from mt3620.as3.device_client import DeviceApiError, ServerCertificateError
from mt3620.cloud.server import Service

from cloud_helpers import Mgmt, claim, device

UTC = dt.timezone.utc
START = dt.datetime(2031, 7, 30, 23, 59, tzinfo=UTC)   # a fixed instant: nothing here depends on the host's day


def test_started_clock_runs_from_its_start():
    ticks = iter([100.0, 100.0, 102.5, 160.0])
    clock = StartedClock(START, monotonic=lambda: next(ticks))
    assert clock() == START
    assert clock() == START + dt.timedelta(seconds=2.5)
    clock.advance(days=1)
    assert clock() == START + dt.timedelta(days=1, seconds=60)
    with pytest.raises(ValueError):
        StartedClock(dt.datetime(2031, 7, 30))               # a start without a time zone is ambiguous


@pytest.mark.parametrize("text, expected", [
    ("2031-07-30T23:59:00Z", START),
    ("2031-07-31T01:59:00+02:00", START),
    ("2031-07-30T23:59:00", START),                          # no offset: UTC
    ("2031-07-30", START.replace(hour=0, minute=0)),          # a date: midnight UTC
])
def test_parse_instant(text, expected):
    assert parse_instant(text) == expected


@pytest.mark.parametrize("text", ["tomorrow", "", "2031-13-01", "0001-01-01T00:00:00+05:00"])
def test_parse_instant_refuses_with_a_reason(text):
    with pytest.raises(ValueError, match="instant"):
        parse_instant(text)


def test_device_judges_the_server_certificate_by_its_own_clock(service, root_pem, admin, tenant):
    """OpenSSL checks the signatures only; the device compares the dates with its calendar clock."""
    keys = claim(admin, tenant["id"])
    assert device(service, root_pem, keys).nonce()                       # same clock as the service: fine
    for lag, words in ((dt.timedelta(days=-1), "not at the device's time"),
                       (dt.timedelta(days=6 * 365), "not at the device's time")):
        dev = device(service, root_pem, keys)
        dev.now = lambda lag=lag: service.now() + lag
        with pytest.raises(ServerCertificateError, match=words) as e:
            dev.nonce()
        assert isinstance(e.value, ssl.SSLError) and isinstance(e.value, OSError)   # callers' network errors


def test_service_clock_jumping_years_ahead_keeps_devices_working(tmp_path, clock):
    """A service restarted on a data folder five years later (clock moved, or a long shutdown): its TLS
    certificate is remade, and the tenant CA that lapsed in between is replaced by one that signs at once."""
    first = Service(tmp_path / "dormant", now=clock).start()
    try:
        admin = Mgmt(first.mgmt_url, first.admin_token)
        root_pem = pki.pem(first.services.certificates.root())
        tid = admin.ok("POST", "/v2/tenants", {"Name": "Dormant"})["Id"]
        keys = claim(admin, tid)
        device(first, root_pem, keys).attest()
        old_tls = first.tls_certificate_pem
    finally:
        first.stop()
    clock.advance(days=5 * 365 - 10)             # server certificate: 10 days left; tenant CA: expired 3 years ago
    again = Service(tmp_path / "dormant", now=clock).start()
    try:
        assert again.tls_certificate_pem != old_tls
        dev = device(again, root_pem, keys)
        out = dev.attest()
        assert dev.update_check({})["DeviceId"] == keys.device_id
        assert dev.upload_errors([{"EventTime": clock.iso(), "Description": "after the jump"}])["Accepted"] == 1
        assert Mgmt(again.mgmt_url, first.admin_token).call("GET", "/v2/tenants")[1]["ErrorCode"] == "TokenExpired"
        fresh = again.services.users.rotate_token("admin")         # the operator's `mt3620 cloud user token admin`
        cas = Mgmt(again.mgmt_url, fresh).ok("GET", f"/v2/tenants/{tid}/certificates")
        assert sorted(c["Status"] for c in cas) == ["Active", "Expired"]
        expires = parse_instant(out["ExpiresAt"])            # issued on the service's day, whatever the host's
        assert abs(expires - (clock() + dt.timedelta(hours=24))) < dt.timedelta(minutes=1)
    finally:
        again.stop()


def test_expired_certificate_answers_after_the_clock_moves(service, root_pem, admin, tenant, clock):
    keys = claim(admin, tenant["id"], tenant["groups"]["Field Test"]["Id"])
    dev = device(service, root_pem, keys)
    dev.attest()
    clock.advance(hours=24, minutes=1)
    with pytest.raises(DeviceApiError) as e:
        dev.update_check({})
    assert (e.value.status, e.value.reason) == (401, "expired-certificate")
    dev.attest()                                                         # a fresh attestation: 24 h more
    assert dev.update_check({})["DeviceId"] == keys.device_id


def test_clock_options_refuse_bad_instants(tmp_path, capsys):
    assert main(["cloud", "serve", "--data", str(tmp_path / "d"), "--clock", "someday"]) == 2
    assert "--clock: not an ISO 8601 instant: 'someday'" in capsys.readouterr().err
    (tmp_path / "root.pem").write_text("unused")
    assert main(["device", "run", "--device-url", "https://127.0.0.1:9", "--root-ca", str(tmp_path / "root.pem"),
                 "--clock", "someday"]) == 2
    assert "--clock: not an ISO 8601 instant" in capsys.readouterr().err


WALL_CLOCK_READS = re.compile(r"datetime\.now\(|\.utcnow\(|date\.today\(|\btime\.time\(|\btime\.(gm|local)time\(")


def test_no_test_reads_the_host_clock():
    """Tests take dates from an injected clock (cloud_helpers.Clock, a virtual clock, a fixed instant), never
    from the host: a test that reads it passes on the day it was written only (issue 9)."""
    tests = Path(__file__).resolve().parents[1]
    hits = [f"{path.relative_to(tests)}:{n}: {line.strip()}"
            for path in sorted(tests.rglob("*.py"))
            for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
            if WALL_CLOCK_READS.search(line) and path.name != Path(__file__).name]
    assert hits == []
