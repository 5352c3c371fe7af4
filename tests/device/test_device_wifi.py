"""`azsphere device wifi ...` and the device API's Wi-Fi routes (sphere_os/device_wifi.py): networks added, shown,
enabled, disabled and forgotten through the API reach the board's Wi-Fi service (it joins the environment's access
point), are kept in the board's flash across restarts and kill -9; scans take virtual time; bad input gets the field
and reason. The CLI commands run against a `mt3620 device start` process."""
import importlib.util
import json
from pathlib import Path

import pytest

from device_process import DeviceProcess

from mt3620.sphere_os.device_service import DeviceService, Pending, Request

ENV = {"access_points": [
    {"ssid": "Lab", "bssid": "02:00:5e:00:00:01", "channel": 6, "security": "wpa2-psk",
     "passphrase": "correct horse", "signal_dbm": -48, "network": "lab"},
    {"ssid": "Cafe", "bssid": "02:00:5e:00:00:02", "channel": 36, "security": "open", "signal_dbm": -71,
     "network": "lab"}],
    "networks": {"lab": {"subnet": "192.168.77.0/24", "internet": True}}}


@pytest.fixture
def env_file(tmp_path):
    path = tmp_path / "env.json"
    path.write_text(json.dumps(ENV))
    return path


@pytest.fixture
def service(board, env_file):
    dev = board(wifi_env=str(env_file))
    svc = DeviceService(dev, port=0, speed=0)
    svc.start()
    yield svc
    svc.close()


def call(svc, method, path, body=None, within_s=30):
    """One request in-process; an answer that takes virtual time is awaited by running the machine."""
    data = json.dumps(body).encode() if body is not None else b""
    answer = svc.respond(Request(method, path, {}, data))
    if isinstance(answer, Pending):
        machine = svc.device.machine
        result = machine.run(duration_ps=within_s * 10**12, until=lambda: answer.response is not None)
        assert result.reason == "condition", "no answer in time"
        answer = answer.response
    return answer.status, json.loads(answer.body)


def run_until(svc, predicate, within_s=30):
    result = svc.device.machine.run(duration_ps=within_s * 10**12, until=predicate)
    assert result.reason == "condition"


def test_add_join_show_status_and_persistence_across_restarts(service):
    dev = service.device
    assert call(service, "GET", "/wifi/config/networks") == (200, {"values": []})
    status, s = call(service, "GET", "/wifi/interface")
    assert status == 200 and s["connectionState"] == "disconnected" and s["mode"] == "station"
    assert len(s["address"]) == 17
    status, net = call(service, "POST", "/wifi/config/networks", {"ssid": "Lab", "psk": "correct horse"})
    assert status == 200 and net["id"] == 0 and net["securityState"] == "psk" and net["configState"] == "enabled"
    assert dev.wifi_networks()[0]["ssid"] == b"Lab".hex()                           # saved at once, in the flash
    run_until(service, lambda: dev.network.wifi.status() & 4)                       # an address from the lab
    status, s = call(service, "GET", "/wifi/interface")
    assert (s["ssid"], s["connectionState"], s["wpa_state"], s["key_mgmt"], s["freq"]) == \
        ("Lab", "connected", "COMPLETED", "WPA2-PSK", 2437)
    assert s["ip_address"].startswith("192.168.77.") and s["bssid"] == "02:00:5e:00:00:01"
    assert call(service, "GET", "/wifi/config/networks/0")[1]["connectionState"] == "connected"
    status, cafe = call(service, "POST", "/wifi/config/networks", {"ssid": "Cafe", "configName": "cafe"})
    assert cafe["securityState"] == "open" and cafe["id"] == 1
    status, off = call(service, "PATCH", "/wifi/config/networks/0", {"configState": "disabled"})
    assert off["configState"] == "disabled"
    run_until(service, lambda: dev.network.wifi.describe()["ssid"] == "Cafe")       # the other enabled network
    dev.restart()                                                                   # power cycle: from the flash
    status, listed = call(service, "GET", "/wifi/config/networks")
    assert [(n["ssid"], n["configState"], n["configName"]) for n in listed["values"]] == \
        [("Lab", "disabled", ""), ("Cafe", "enabled", "cafe")]
    assert dev.network.wifi.networks[0].psk == "correct horse"
    assert call(service, "DELETE", "/wifi/config/networks/0") == (200, {})
    assert [n["ssid"] for n in call(service, "GET", "/wifi/config/networks")[1]["values"]] == ["Cafe"]
    dev.restart()
    assert [n["ssid"] for n in call(service, "GET", "/wifi/config/networks")[1]["values"]] == ["Cafe"]


def test_scan_takes_virtual_time_and_sees_the_environment(service):
    clock = service.device.machine.clock
    before = clock.now
    status, scan = call(service, "GET", "/wifi/scan")
    assert status == 200 and clock.now > before
    assert sorted((v["ssid"], v["securityState"], v["freq"], v["signal_level"]) for v in scan["values"]) == \
        [("Cafe", "open", 5180, -71), ("Lab", "psk", 2437, -48)]


def test_bad_requests_get_the_field_and_reason(service):
    def refused(method, path, body=None):
        status, answer = call(service, method, path, body)
        return status, answer["Code"], answer["Message"]

    assert refused("POST", "/wifi/config/networks", {"psk": "correct horse"})[2].startswith("ssid: required")
    assert refused("POST", "/wifi/config/networks", {"ssid": "x" * 33})[2].startswith("ssid:")
    assert "psk:" in refused("POST", "/wifi/config/networks", {"ssid": "Lab", "psk": "short"})[2]
    assert "psk: required" in refused("POST", "/wifi/config/networks", {"ssid": "Lab", "securityState": "psk"})[2]
    assert "clientCertStoreIdentifier" in refused("POST", "/wifi/config/networks",
                                                  {"ssid": "Corp", "securityState": "eaptls"})[2]
    assert refused("POST", "/wifi/config/networks", {"ssid": "Lab", "pks": "x"})[2].startswith("pks: unknown field")
    assert refused("POST", "/wifi/config/networks", [1])[:2] == (400, "bad-request")
    answer = service.respond(Request("POST", "/wifi/config/networks", {}, b"{nope"))
    assert answer.status == 400 and b"must be JSON" in answer.body
    assert refused("GET", "/wifi/config/networks/7")[:2] == (404, "no-such-network")
    assert refused("GET", "/wifi/config/networks/x")[:2] == (400, "bad-request")
    call(service, "POST", "/wifi/config/networks", {"ssid": "Cafe", "configName": "cafe"})
    assert refused("POST", "/wifi/config/networks", {"ssid": "Lab", "psk": "correct horse",
                                                     "configName": "cafe"})[:2] == (409, "duplicate-config-name")
    assert refused("PATCH", "/wifi/config/networks/0", {"configState": "on"})[2].startswith("configState:")
    assert refused("PATCH", "/wifi/config/networks/0", {"ssid": "x"})[0] == 400
    assert [n["ssid"] for n in call(service, "GET", "/wifi/config/networks")[1]["values"]] == ["Cafe"]
    assert len(service.device.wifi_networks()) == 1                                 # refusals wrote nothing


def test_an_apps_unconfigured_network_is_not_saved_by_the_cli(service):
    """An app's WifiConfig_AddNetwork without an SSID yet: the CLI's add is refused and leaves nothing behind."""
    wifi = service.device.network.wifi
    wifi.add()
    status, answer = call(service, "POST", "/wifi/config/networks", {"ssid": "Cafe"})
    assert (status, answer["Code"]) == (409, "network-incomplete")
    assert len(wifi.networks) == 1 and service.device.wifi_networks() == []


def _pki():
    """The Wi-Fi tests' certificate maker (tests/wifi/pki.py: fixed seeds, the same bytes every run)."""
    spec = importlib.util.spec_from_file_location("wifi_pki", Path(__file__).parent.parent / "wifi" / "pki.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_eap_tls_through_the_certificate_store_and_the_api(board):
    """`certificate add` (root CA, client with an encrypted key) and `wifi add` of an EAP-TLS network: the board
    joins the access point whose RADIUS side trusts the client's CA; certificates and network stay in the flash."""
    pki = _pki()
    client_ca, radius_ca = pki.ca("Client CA"), pki.ca("RADIUS CA")
    radius, client = pki.issue(radius_ca, "radius.corp", "server"), pki.issue(client_ca, "device-1", "client")
    env = {"access_points": [{"ssid": "Corp", "bssid": "02:00:5e:00:00:04", "frequency_mhz": 5180,
                              "security": "eap-tls", "network": "lab",
                              "radius": {"trusted_ca": client_ca.cert_pem, "certificate": radius.cert_pem,
                                         "key": radius.key_pem()}}],
           "networks": {"lab": {"subnet": "192.168.77.0/24"}}}
    dev = board()
    svc = DeviceService(dev, port=0, speed=0)
    svc.start()
    try:
        assert call(svc, "PUT", "/radio", env)[0] == 200
        space = int(call(svc, "GET", "/certstore/space")[1]["AvailableSpace"])
        assert call(svc, "POST", "/certstore/certs/radius-ca",
                    {"certType": "rootca", "publicCert": radius_ca.cert_pem}) == (200, {})
        assert call(svc, "POST", "/certstore/certs/dev1",
                    {"certType": "client", "publicCert": client.cert_pem,
                     "privateKey": client.key_pem(b"secret"), "password": "secret"}) == (200, {})
        assert call(svc, "GET", "/certstore/certs") == (200, {"identifiers": ["radius-ca", "dev1"]})
        status, shown = call(svc, "GET", "/certstore/certs/dev1")
        assert (shown["subjectName"], shown["issuerName"], shown["certType"]) == \
            ("CN=device-1", "CN=Client CA", "client")
        assert int(call(svc, "GET", "/certstore/space")[1]["AvailableSpace"]) < space
        status, net = call(svc, "POST", "/wifi/config/networks",
                           {"ssid": "Corp", "clientCertStoreIdentifier": "dev1", "clientIdentity": "device-1",
                            "rootCaStoreIdentifier": "radius-ca"})
        assert status == 200 and net["securityState"] == "eaptls"
        run_until(svc, lambda: dev.network.wifi.describe()["state"] == "connected")
        assert call(svc, "GET", "/wifi/interface")[1]["key_mgmt"] == "WPA-EAP"
        dev.restart()                                                    # certificates and network from the flash
        assert call(svc, "GET", "/certstore/certs")[1]["identifiers"] == ["radius-ca", "dev1"]
        run_until(svc, lambda: dev.network.wifi.describe()["state"] == "connected")

        def refused(method, path, body=None):
            status, answer = call(svc, method, path, body)
            return status, answer["Code"]
        assert refused("POST", "/certstore/certs/x", {"certType": "server", "publicCert": "x"}) == (400, "bad-request")
        assert refused("POST", "/certstore/certs/dev2", {"certType": "client", "publicCert": client.cert_pem}) == \
            (400, "bad-request")                                          # no private key
        assert refused("POST", "/certstore/certs/" + "a" * 17, {"certType": "rootca",
                                                                "publicCert": radius_ca.cert_pem}) == (400, "bad-request")
        assert refused("POST", "/certstore/certs/bad", {"certType": "rootca", "publicCert": "not PEM"}) == \
            (400, "bad-request")
        assert refused("DELETE", "/certstore/certs/nope") == (404, "no-such-certificate")
        assert call(svc, "DELETE", "/certstore/certs/dev1") == (200, {})
        assert call(svc, "GET", "/certstore/certs")[1]["identifiers"] == ["radius-ca"]
    finally:
        svc.close()


def test_wifi_commands_against_a_device_process(tmp_path, env_file):
    dev = DeviceProcess(tmp_path / "state", "--wifi-env", str(env_file))
    try:
        assert "No networks found." in dev.az("wifi", "list").stdout
        scan = dev.az("wifi", "scan").stdout
        assert "Lab" in scan and "02:00:5e:00:00:01" in scan and "psk" in scan and "Cafe" in scan
        out = dev.az("wifi", "add", "--ssid", "Lab", "--psk", "correct horse").stdout
        assert "Add network succeeded" in out and "Security state          : psk" in out
        dev.wait_line(r"\[a7\.os\] wifi: connected to 'Lab'")
        dev.wait_line(r"\[a7\.os\] wifi: address 192\.168\.77\.")
        status = dev.az("wifi", "show-status").stdout
        assert "SSID                : Lab" in status and "WPA State           : COMPLETED" in status
        assert "IP Address          : 192.168.77." in status
        r = dev.az("wifi", "add", "--ssid", "Lab", "--psk", "short", expect=1)
        assert "psk: must be 8-63 printable ASCII characters" in r.stderr and "(bad-request)" in r.stderr
        dev.az("wifi", "add", "--ssid", "Cafe", "--config-name", "cafe")
        assert "Configuration state     : disabled" in dev.az("wifi", "disable", "--id", "0").stdout
        shown = json.loads(dev.az("wifi", "show", "--id", "1", "-o", "json").stdout)
        assert (shown["ssid"], shown["configName"], shown["securityState"]) == ("Cafe", "cafe", "open")
        r = dev.az("wifi", "enable", "--id", "9", expect=1)
        assert "no stored Wi-Fi network with ID 9 (no-such-network)" in r.stderr
        dev.kill()                                                   # kill -9: the flash holds what was added
        dev = DeviceProcess(tmp_path / "state")
        listed = json.loads(dev.az("wifi", "list", "-o", "json").stdout)
        assert [(n["ssid"], n["configState"]) for n in listed] == [("Lab", "disabled"), ("Cafe", "enabled")]
        assert "Configuration state     : enabled" in dev.az("wifi", "enable", "--id", "0").stdout
        assert "forgotten" in dev.az("wifi", "forget", "--id", "1").stdout
        assert "reloaded" in dev.az("wifi", "reload-config").stdout
        ca = _pki().ca("RADIUS CA")
        (tmp_path / "ca.pem").write_text(ca.cert_pem)
        assert "added" in dev.az("certificate", "add", "--cert-type", "rootca", "--certificate", "radius-ca",
                                 "--public-key-file", str(tmp_path / "ca.pem")).stdout
        assert "radius-ca" in dev.az("certificate", "list").stdout
        assert "Subject name : CN=RADIUS CA" in dev.az("certificate", "show", "--certificate", "radius-ca").stdout
        assert "Available space (bytes): " in dev.az("certificate", "show-quota").stdout
        r = dev.az("certificate", "delete", "--certificate", "nope", expect=1)
        assert "(no-such-certificate)" in r.stderr
        listed = json.loads(dev.az("wifi", "list", "-o", "json").stdout)
        assert [(n["ssid"], n["configState"]) for n in listed] == [("Lab", "enabled")]
        assert dev.stop() == 0
    finally:
        dev.kill()


def test_the_radio_environment_changes_while_the_board_runs(service):
    """The device API changes the room: the signal drops, the AP goes away (the link is lost), it comes back; bad
    changes get the field and reason; the changed room is the same after a restart."""
    dev = service.device
    call(service, "POST", "/wifi/config/networks", {"ssid": "Lab", "psk": "correct horse"})
    run_until(service, lambda: dev.network.wifi.status() & 4)
    status, ap = call(service, "PATCH", "/radio/access_points/02:00:5e:00:00:01", {"signal_dbm": -80})
    assert status == 200 and ap["signal_dbm"] == -80
    run_until(service, lambda: dev.network.wifi.describe()["signal_dbm"] == -80)
    status, answer = call(service, "PATCH", "/radio/access_points/02:00:5e:00:00:01", {"signal_dbm": 20})
    assert status == 400 and answer["Code"] == "bad-environment" and "signal_dbm" in answer["Message"]
    assert call(service, "DELETE", "/radio/access_points/02:00:5e:00:00:09")[1]["Code"] == "bad-environment"
    assert call(service, "DELETE", "/radio/access_points/02:00:5e:00:00:01") == (200, {})
    run_until(service, lambda: dev.network.wifi.describe()["state"] != "connected", within_s=60)
    assert [a["ssid"] for a in call(service, "GET", "/radio")[1]["access_points"]] == ["Cafe"]
    lab = dict(ENV["access_points"][0], signal_dbm=-55)
    status, ap = call(service, "POST", "/radio/access_points", lab)
    assert status == 200 and ap["bssid"] == "02:00:5e:00:00:01"
    assert call(service, "POST", "/radio/access_points", lab)[1]["Code"] == "bad-environment"   # already there
    run_until(service, lambda: dev.network.wifi.describe()["ssid"] == "Lab", within_s=120)   # rejoined
    dev.restart()
    assert [a["signal_dbm"] for a in call(service, "GET", "/radio")[1]["access_points"]] == [-71, -55]


def test_a_board_without_an_environment_gets_one_through_the_api(board):
    dev = board()
    svc = DeviceService(dev, port=0, speed=0)
    svc.start()
    try:
        assert call(svc, "GET", "/radio") == (200, {})
        status, answer = call(svc, "PATCH", "/radio/access_points/02:00:5e:00:00:01", {"signal_dbm": -80})
        assert (status, answer["Code"]) == (409, "no-radio-environment")
        status, answer = call(svc, "PUT", "/radio", {"access_points": [{"ssid": "Lab"}]})
        assert status == 400 and "access_points[0]" in answer["Message"]
        status, env = call(svc, "PUT", "/radio", ENV)
        assert status == 200 and len(env["access_points"]) == 2
        status, scan = call(svc, "GET", "/wifi/scan")
        assert sorted(v["ssid"] for v in scan["values"]) == ["Cafe", "Lab"]
    finally:
        svc.close()
