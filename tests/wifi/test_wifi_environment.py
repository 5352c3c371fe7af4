"""The radio environment file: what it accepts, the field and reason of what it refuses, changes at run time."""
from __future__ import annotations

import json

import pytest

import pki
from mt3620.peripherals.wifi.environment import (EnvironmentError_, RadioEnvironment, channel_to_frequency,
                                                 frequency_to_channel)

GOOD = {
    "access_points": [
        {"ssid": "Lab", "bssid": "02:00:5e:00:00:01", "channel": 6, "security": "wpa2-psk",
         "passphrase": "correct horse", "signal_dbm": -48, "network": "lab"},
        {"ssid": "Open", "bssid": "02:00:5e:00:00:02", "frequency_mhz": 5180, "network": "lab"},
    ],
    "networks": {"lab": {"subnet": "192.168.77.0/24",
                         "hosts": {"broker.example.com": {"address": "203.0.113.10", "tcp": {"8883": 41883}},
                                   "*.svc.example.com": {"tcp": {"443": "127.0.0.1:8443"}}}}},
}


def test_channels_and_frequencies_follow_80211_numbering():
    assert channel_to_frequency(1) == 2412 and channel_to_frequency(13) == 2472 and channel_to_frequency(14) == 2484
    assert channel_to_frequency(36) == 5180 and channel_to_frequency(165) == 5825
    assert frequency_to_channel(2437) == 6 and frequency_to_channel(5745) == 149
    assert channel_to_frequency(15) is None and frequency_to_channel(2413) is None


def test_a_good_file_loads_with_defaults(tmp_path):
    path = tmp_path / "env.json"
    path.write_text(json.dumps(GOOD))
    env = RadioEnvironment.load(path)
    lab, open_ap = env.access_points
    assert lab.ssid == b"Lab" and lab.frequency_mhz == 2437 and lab.channel == 6 and lab.signal_dbm == -48
    assert open_ap.channel == 36 and open_ap.security == "open" and open_ap.signal_dbm == -50
    net = env.networks["lab"]
    assert str(net.gateway) == "192.168.77.1" and net.dns == net.gateway and net.dhcp and net.internet
    broker = net.resolve("Broker.Example.com.")
    assert str(broker.address) == "203.0.113.10" and broker.tcp == {8883: ("127.0.0.1", 41883)}
    wild = net.resolve("api.svc.example.com")
    assert wild.tcp[443] == ("127.0.0.1", 8443) and net.resolve("svc.example.com") is None
    assert str(wild.address).startswith("203.0.113.") and wild.address != broker.address
    assert RadioEnvironment.from_dict(env.to_dict()).to_dict() == env.to_dict()


@pytest.mark.parametrize("patch, where, reason", [
    ({"access_points": [{"ssid": "x" * 33, "bssid": "02:00:00:00:00:01", "channel": 1}]},
     "access_points[0].ssid", "33 bytes"),
    ({"access_points": [{"ssid": "a", "bssid": "02:00:00:00:01", "channel": 1}]}, "access_points[0].bssid",
     "not a MAC"),
    ({"access_points": [{"ssid": "a", "bssid": "03:00:00:00:00:01", "channel": 1}]}, "access_points[0].bssid",
     "group address"),
    ({"access_points": [{"ssid": "a", "bssid": "02:00:00:00:00:01", "channel": 6, "frequency_mhz": 2412}]},
     "access_points[0].frequency_mhz", "not channel 6"),
    ({"access_points": [{"ssid": "a", "bssid": "02:00:00:00:00:01", "channel": 200}]}, "access_points[0].channel",
     "not a 2.4 GHz"),
    ({"access_points": [{"ssid": "a", "bssid": "02:00:00:00:00:01", "channel": 1, "security": "wep"}]},
     "access_points[0].security", "'wep'"),
    ({"access_points": [{"ssid": "a", "bssid": "02:00:00:00:00:01", "channel": 1, "security": "wpa2-psk"}]},
     "access_points[0].passphrase", "needs a passphrase"),
    ({"access_points": [{"ssid": "a", "bssid": "02:00:00:00:00:01", "channel": 1, "security": "wpa2-psk",
                         "passphrase": "short"}]}, "access_points[0].passphrase", "8-63"),
    ({"access_points": [{"ssid": "a", "bssid": "02:00:00:00:00:01", "channel": 1, "signal_dbm": 5}]},
     "access_points[0].signal_dbm", "-100..0"),
    ({"access_points": [{"ssid": "a", "bssid": "02:00:00:00:00:01", "channel": 1, "network": "nope"}]},
     "access_points[0].network", "'nope'"),
    ({"access_points": [{"ssid": "a", "bssid": "02:00:00:00:00:01", "channel": 1, "security": "eap-tls"}]},
     "access_points[0].radius", "needs radius"),
    ({"access_points": [{"ssid": "a", "bssid": "02:00:00:00:00:01", "channel": 1, "colour": "red"}]},
     "access_points[0].colour", "unknown field"),
    ({"networks": {"n": {"subnet": "10.0.0.0/33"}}}, "networks.n.subnet", "10.0.0.0/33"),
    ({"networks": {"n": {"subnet": "127.0.0.0/24"}}}, "networks.n.subnet", "loopback"),
    ({"networks": {"n": {"subnet": "10.1.0.0/16", "gateway": "10.2.0.1"}}}, "networks.n.gateway", "not in"),
    ({"networks": {"n": {"hosts": {"bad_name!": {}}}}}, "networks.n.hosts.bad_name!", "not a DNS host name"),
    ({"networks": {"n": {"hosts": {"a.example": {"tcp": {"99999": 1}}}}}}, "networks.n.hosts.a.example.tcp.99999",
     "not a port"),
    ({"networks": {"n": {"hosts": {"a.example": {"tcp": {"80": "10.0.0.1:80"}}}}}},
     "networks.n.hosts.a.example.tcp.80", "not a loopback address"),
    ({"networks": {"n": {"latency_ms": "fast"}}}, "networks.n.latency_ms", "milliseconds"),
])
def test_malformed_input_names_the_field_and_the_reason(patch, where, reason):
    with pytest.raises(EnvironmentError_) as info:
        RadioEnvironment.from_dict(patch, source="env.json")
    text = str(info.value)
    assert text.startswith(f"env.json: {where}: ") and reason in text and "\n" not in text


def test_files_that_are_not_json_or_missing_give_one_line(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{\"access_points\": [}")
    with pytest.raises(EnvironmentError_, match=r"bad.json: line 1 column \d+: not JSON"):
        RadioEnvironment.load(bad)
    with pytest.raises(EnvironmentError_, match="cannot read"):
        RadioEnvironment.load(tmp_path / "missing.json")


def test_eap_tls_radius_pem_inline_or_from_files(tmp_path):
    authority = pki.ca("Client CA")
    (tmp_path / "ca.pem").write_text(authority.cert_pem)
    env = RadioEnvironment.from_dict({"access_points": [
        {"ssid": "Corp", "bssid": "02:00:00:00:00:09", "channel": 11, "security": "eap-tls",
         "radius": {"trusted_ca": "ca.pem"}}]}, base=tmp_path)
    assert "BEGIN CERTIFICATE" in env.access_points[0].radius.trusted_ca
    (tmp_path / "junk.pem").write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    with pytest.raises(EnvironmentError_, match=r"access_points\[0\].radius.trusted_ca: not a PEM certificate"):
        RadioEnvironment.from_dict({"access_points": [
            {"ssid": "Corp", "bssid": "02:00:00:00:00:09", "channel": 11, "security": "eap-tls",
             "radius": {"trusted_ca": "junk.pem"}}]}, base=tmp_path)


def test_changes_at_run_time_reach_listeners_and_are_checked():
    env = RadioEnvironment.from_dict(GOOD)
    seen = []
    env.listeners.append(lambda what, ap: seen.append((what, ap.bssid_text if ap else None)))
    env.set_signal("02:00:5e:00:00:01", -80)
    env.update("02:00:5e:00:00:01", passphrase="another secret")
    removed = env.remove("02:00:5e:00:00:02")
    env.add({"ssid": "New", "bssid": "02:00:5e:00:00:03", "channel": 1})
    assert seen == [("changed", "02:00:5e:00:00:01"), ("changed", "02:00:5e:00:00:01"),
                    ("removed", "02:00:5e:00:00:02"), ("added", "02:00:5e:00:00:03")]
    assert env.find("02:00:5e:00:00:01").passphrase == "another secret" and removed.ssid == b"Open"
    with pytest.raises(EnvironmentError_, match="signal_dbm"):
        env.set_signal("02:00:5e:00:00:01", 20)
    with pytest.raises(EnvironmentError_, match="no access point with BSSID 02:00:5e:00:00:99"):
        env.remove("02:00:5e:00:00:99")
    with pytest.raises(EnvironmentError_, match="passphrase"):
        env.update("02:00:5e:00:00:01", passphrase="x")
    with pytest.raises(EnvironmentError_, match="already in the environment"):
        env.add({"ssid": "Dup", "bssid": "02:00:5e:00:00:03", "channel": 1})
    assert env.find("02:00:5e:00:00:01").passphrase == "another secret"
