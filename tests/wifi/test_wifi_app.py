"""A high-level app configures Wi-Fi through the real WifiConfig/CertStore/Networking API (firmware/hl_wifi) and the
emulated device joins the access points of its radio environment, or fails the way the device reports it."""
from __future__ import annotations

import re

import pki
from mt3620.peripherals.wifi.environment import RadioEnvironment

CLIENT_CA, RADIUS_CA, ROGUE_CA = pki.ca("Client CA"), pki.ca("RADIUS CA"), pki.ca("Rogue CA")
RADIUS = pki.issue(RADIUS_CA, "radius.corp", "server")
CLIENT = pki.issue(CLIENT_CA, "device-1", "client")
ROGUE = pki.issue(ROGUE_CA, "device-1", "client")


def environment():
    return RadioEnvironment.from_dict({
        "access_points": [
            {"ssid": "Lab", "bssid": "02:00:5e:00:00:01", "channel": 6, "security": "wpa2-psk",
             "passphrase": "correct horse", "signal_dbm": -48, "network": "lab"},
            {"ssid": "Lab", "bssid": "02:00:5e:00:00:02", "channel": 11, "security": "wpa2-psk",
             "passphrase": "correct horse", "signal_dbm": -71, "network": "lab"},
            {"ssid": "Corp", "bssid": "02:00:5e:00:00:04", "frequency_mhz": 5180, "security": "eap-tls",
             "signal_dbm": -55, "network": "lab",
             "radius": {"trusted_ca": CLIENT_CA.cert_pem, "certificate": RADIUS.cert_pem, "key": RADIUS.key_pem()}},
        ],
        "networks": {"lab": {"subnet": "192.168.77.0/24"}},
    })


def run(boot, package, timeout="60s", env=None):
    dev = boot(hl=package, wifi_env=env or environment())
    code = dev.wait_for_exit(timeout=timeout)
    return dev, code, dev.lines(f"a7.{dev.app.name}")


def test_join_wpa2_scan_and_status(boot, wifi_app):
    dev, code, lines = run(boot, wifi_app(["add", "Lab", "psk:correct horse", "wait-ready", "30", "status", "scan",
                                           "stored"]))
    assert code == 0, "\n".join(lines)
    assert "added network 0: Lab (psk)" in lines
    status = next(line for line in lines if line.startswith("status:"))
    assert re.match(r"status: 0xf ready 1, connected to Lab id 0 bssid 02:00:5e:00:00:01 2437 MHz -48 dBm psk",
                    status), status
    scan = next(line for line in lines if line.startswith("scan:"))
    assert re.match(r"scan: 3 networks in 32[67]\d ms", scan), scan       # a scan takes virtual seconds
    assert "scanned: Corp 02:00:5e:00:00:04 5180 MHz -55 dBm eaptls" in lines
    assert "stored 0: Lab psk enabled 1 connected 1" in lines
    wifi = dev.network.wifi.describe()
    assert wifi["state"] == "connected" and wifi["ip"].startswith("192.168.77.") and wifi["time_synced"]
    assert any("wifi: connected to 'Lab'" in line for line in dev.lines("a7.os"))


def test_a_wrong_psk_fails_with_wrong_key(boot, wifi_app):
    dev, code, lines = run(boot, wifi_app(["add", "Lab", "psk:wrong horse!", "wait-diag", "0", "30", "status"]))
    assert code == 0, "\n".join(lines)
    assert any(line.startswith("diag 0: error 4 certError 0") for line in lines), lines   # WrongKey
    assert any("not connected (errno 107" in line for line in lines)                       # ENOTCONN
    assert dev.network.wifi.status() == 1                                                  # InterfaceUp only


def test_eap_tls_join_and_a_bad_client_certificate(boot, wifi_app):
    files = {"certs/ca.pem": RADIUS_CA.cert_pem.encode(), "certs/client.pem": CLIENT.cert_pem.encode(),
             "certs/client.key": CLIENT.key_pem(b"secret").encode(), "certs/rogue.pem": ROGUE.cert_pem.encode(),
             "certs/rogue.key": ROGUE.key_pem().encode()}
    good = ["root-ca", "radius-ca", "certs/ca.pem", "client-cert", "dev1", "certs/client.pem", "certs/client.key",
            "password:secret", "add", "Corp", "eap:device-1:dev1:radius-ca", "wait-ready", "30", "status"]
    dev, code, lines = run(boot, wifi_app(good, files))
    assert code == 0, "\n".join(lines)
    assert any(line.startswith("status: 0xf ready 1, connected to Corp") and line.endswith("eaptls")
               for line in lines), lines
    bad = ["root-ca", "radius-ca", "certs/ca.pem", "client-cert", "dev1", "certs/rogue.pem", "certs/rogue.key",
           "add", "Corp", "eap:device-1:dev1:radius-ca", "wait-diag", "0", "30"]
    dev, code, lines = run(boot, wifi_app(bad, files))
    assert code == 0, "\n".join(lines)
    assert "diag 0: error 5 certError 102 certDepth 0 subject 'CN=device-1' enabled 1 connected 0" in lines


def test_without_the_capability_wificonfig_is_eacces(boot, wifi_app):
    dev, code, lines = run(boot, wifi_app(["add", "Lab", "open"], capabilities={}))
    assert code == 1 and any("WifiConfig_AddNetwork: errno 13" in line for line in lines), lines
