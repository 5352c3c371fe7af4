"""The Wi-Fi host interface (0x60000000) at register level: commands, the join state machine on virtual time,
DHCP, link loss and roaming, bad input."""
from __future__ import annotations

import ipaddress
import struct

import pytest

import pki
from mt3620.engine.simulation.clock import PS_PER_SECOND, VirtualClock
from mt3620.peripherals.wifi import n9_hif as hif
from mt3620.peripherals.wifi.environment import RadioEnvironment
from mt3620.peripherals.wifi.n9_hif import WifiHif

MS = PS_PER_SECOND // 1000
R = WifiHif.offset


def environment():
    client_ca, server_ca = pki.ca("Client CA"), pki.ca("RADIUS CA")
    server = pki.issue(server_ca, "radius.corp", "server")
    return RadioEnvironment.from_dict({
        "access_points": [
            {"ssid": "Lab", "bssid": "02:00:5e:00:00:01", "channel": 6, "security": "wpa2-psk",
             "passphrase": "correct horse", "signal_dbm": -50, "network": "lab"},
            {"ssid": "Lab", "bssid": "02:00:5e:00:00:02", "channel": 11, "security": "wpa2-psk",
             "passphrase": "correct horse", "signal_dbm": -70, "network": "lab"},
            {"ssid": "Cafe", "bssid": "02:00:5e:00:00:03", "frequency_mhz": 5180, "signal_dbm": -60,
             "network": "cafe"},
            {"ssid": "Corp", "bssid": "02:00:5e:00:00:04", "channel": 1, "security": "eap-tls", "signal_dbm": -55,
             "radius": {"trusted_ca": client_ca.cert_pem, "certificate": server.cert_pem, "key": server.key_pem()},
             "network": "lab"},
            {"ssid": "Faint", "bssid": "02:00:5e:00:00:05", "channel": 3, "signal_dbm": -95},
        ],
        "networks": {"lab": {"subnet": "192.168.77.0/24"}, "cafe": {"subnet": "10.9.0.0/16", "dhcp": False}},
    })


class Driver:
    """What an OS driver does: arguments into the buffer, CMD, wait for CMD_DONE on virtual time."""

    def __init__(self, model: WifiHif, clock: VirtualClock):
        self.m, self.clock = model, clock
        self.events = []
        model.event_listeners.append(self.events.append)
        model.write(R("INT_ENABLE"), 4, 0x7F)

    def reg(self, name):
        return self.m.read(R(name), 4)

    def command(self, code, args=None, timeout_s=30):
        blob = hif.encode_args(args or {})
        for i in range(0, len(blob), 4):
            self.m.write(hif.BUFFER_BASE + i, 4, int.from_bytes(blob[i:i + 4].ljust(4, b"\0"), "little"))
        self.m.write(R("ARG_LENGTH"), 4, len(blob))
        self.m.write(R("INT_STATUS"), 4, hif.INT_CMD_DONE)
        start = self.clock.now
        self.m.write(R("CMD"), 4, code)
        self.run_until(lambda: self.reg("INT_STATUS") & hif.INT_CMD_DONE, timeout_s)
        status = self.reg("CMD_STATUS")
        return (status >> 8) & 0xFF, self.reg("CMD_RESULT"), self.clock.now - start

    def run_until(self, cond, timeout_s=30):
        deadline = self.clock.now + timeout_s * PS_PER_SECOND
        while not cond():
            nxt = self.clock.next_event_time()
            assert nxt is not None and nxt <= deadline, "nothing happens any more"
            self.clock.advance_to(nxt)

    def advance(self, seconds):
        self.clock.advance_to(self.clock.now + int(seconds * PS_PER_SECOND))

    def buffer(self, n):
        return bytes(self.m.buffer[:n])

    def connect(self, ssid, security=hif.SEC_PSK, psk=None, extra=None):
        args = {hif.ARG_SSID: ssid, hif.ARG_SECURITY: bytes([security])}
        if psk is not None:
            args[hif.ARG_PSK] = psk
        args.update(extra or {})
        return self.command(hif.CMD_CONNECT, args)


@pytest.fixture
def rig():
    clock = VirtualClock()
    model = WifiHif(clock=clock)
    model.attach_environment(environment())
    return Driver(model, clock), model


def test_identity_registers_and_reset_state(rig):
    d, m = rig
    assert d.reg("HIF_ID") == 0x4E395746 and d.reg("HIF_VERSION") == 0x00010000
    assert d.reg("LINK_STATE") == hif.LS_IDLE and d.reg("IP_ADDR") == 0
    mac = d.reg("MAC_LO").to_bytes(4, "little") + d.reg("MAC_HI").to_bytes(4, "little")[:2]
    assert mac == m.mac and mac[0] & 0x03 == 0x02          # locally administered, unicast
    m.personalise(b"another device")
    assert d.reg("MAC_LO").to_bytes(4, "little") != mac[:4]


def test_a_scan_takes_virtual_seconds_and_lists_what_is_heard_strongest_first(rig):
    d, m = rig
    error, count, took = d.command(hif.CMD_SCAN)
    assert error == 0 and count == 4 and took == m.scan_duration_ps()
    assert 3 * PS_PER_SECOND <= took <= 4 * PS_PER_SECOND
    records = hif.decode_scan(d.buffer(count * 48), count)
    assert [(r["ssid"], r["signal_dbm"]) for r in records] == [(b"Lab", -50), (b"Corp", -55), (b"Cafe", -60),
                                                               (b"Lab", -70)]
    assert records[2]["frequency_mhz"] == 5180 and records[1]["security"] == hif.SEC_EAP_TLS
    assert d.events.count(hif.INT_SCAN_DONE) == 1


def test_joining_wpa2_runs_auth_assoc_4way_then_dhcp(rig):
    d, m = rig
    error, _, took = d.connect(b"Lab", psk=b"correct horse")
    assert error == 0 and m.link_state == "connected"
    assert d.reg("LINK_BSSID_LO") == int.from_bytes(bytes.fromhex("02005e00"), "little")
    assert struct.unpack("<i", struct.pack("<I", d.reg("LINK_RSSI")))[0] == -50 and d.reg("LINK_FREQ") == 2437
    assert hif.INT_LINK_UP in d.events and d.reg("IP_ADDR") == 0          # the lease comes after the link
    d.run_until(lambda: d.reg("IP_ADDR"))
    address = ipaddress.IPv4Address(d.reg("IP_ADDR"))
    assert address in ipaddress.ip_network("192.168.77.128/25") and d.reg("LEASE_SECONDS") == 3600
    assert str(ipaddress.IPv4Address(d.reg("IP_GATEWAY"))) == "192.168.77.1" == \
        str(ipaddress.IPv4Address(d.reg("IP_DNS")))
    assert d.reg("IP_MASK") == 0xFFFFFF00


def test_a_wrong_psk_times_out_in_the_4way_handshake(rig):
    d, m = rig
    error, reason, took = d.connect(b"Lab", psk=b"wrong horse!")
    assert (error, reason) == (hif.WRONG_KEY, 15)                    # 4-way handshake timeout
    assert took >= 3 * hif.EAPOL_RETRY_PS and m.link_state == "idle"
    assert (d.reg("LINK_REASON") >> 16) & 0xFF == hif.WRONG_KEY


@pytest.mark.parametrize("ssid, security, psk, expected", [
    (b"Nowhere", hif.SEC_PSK, b"whatever1", hif.NETWORK_NOT_FOUND),
    (b"Faint", hif.SEC_OPEN, None, hif.NETWORK_NOT_FOUND),           # below the sensitivity
    (b"Lab", hif.SEC_OPEN, None, hif.SECURITY_MISMATCH),
    (b"Lab", hif.SEC_PSK, None, hif.NO_PSK_INCLUDED),
])
def test_join_failures_have_their_diagnostics_code(rig, ssid, security, psk, expected):
    d, m = rig
    error, _, _ = d.connect(ssid, security, psk)
    assert error == expected and m.link is None


def test_an_open_network_without_dhcp_links_up_without_an_address(rig):
    d, m = rig
    assert d.connect(b"Cafe", hif.SEC_OPEN)[0] == 0
    d.advance(40)
    assert m.link_state == "connected" and d.reg("IP_ADDR") == 0
    static = struct.pack("<4I", int(ipaddress.IPv4Address("10.9.0.5")), 0xFFFF0000,
                         int(ipaddress.IPv4Address("10.9.0.1")), int(ipaddress.IPv4Address("10.9.0.1")))
    assert d.connect(b"Cafe", hif.SEC_OPEN, extra={hif.ARG_STATIC_IP: static})[0] == 0
    assert str(m.ip_address) == "10.9.0.5" and d.reg("LEASE_SECONDS") == 0


def _eap_args(client, password=None, root=None):
    args = {hif.ARG_IDENTITY: b"device-1", hif.ARG_CLIENT_CERT: client.cert_pem.encode(),
            hif.ARG_CLIENT_KEY: client.key_pem(password).encode(),
            hif.ARG_TIME: struct.pack("<q", int(pki.NOW.timestamp()))}
    if password:
        args[hif.ARG_KEY_PASSWORD] = password
    if root is not None:
        args[hif.ARG_ROOT_CA] = root.cert_pem.encode()
    return args


def test_eap_tls_join_and_a_bad_client_certificate(rig):
    d, m = rig
    good = pki.issue(pki.ca("Client CA"), "device-1", "client")
    error, _, _ = d.connect(b"Corp", hif.SEC_EAP_TLS, extra=_eap_args(good, root=pki.ca("RADIUS CA")))
    assert error == 0 and m.link_state == "connected"
    d.connect(b"Corp", hif.SEC_EAP_TLS, extra=_eap_args(good, password=b"pw"))
    assert m.link_state == "connected"
    rogue = pki.issue(pki.ca("Rogue CA"), "device-1", "client")
    error, reason, _ = d.connect(b"Corp", hif.SEC_EAP_TLS, extra=_eap_args(rogue))
    assert (error, reason) == (hif.AUTHENTICATION_FAILED, 23)
    assert d.reg("EAP_DETAIL") & 0xFF == 102 and (d.reg("EAP_DETAIL") >> 8) & 0xFF == 0
    assert d.buffer(20).split(b"\0")[0] == b"CN=device-1"
    error, _, _ = d.connect(b"Corp", hif.SEC_EAP_TLS, extra=_eap_args(good, root=pki.ca("Rogue CA")))
    assert error == hif.AUTHENTICATION_FAILED and d.reg("EAP_DETAIL") & 0xFF == 101


def test_losing_the_ap_roams_within_the_ess_or_drops_the_link(rig):
    d, m = rig
    d.connect(b"Lab", psk=b"correct horse")
    d.run_until(lambda: d.reg("IP_ADDR"))
    address = d.reg("IP_ADDR")
    env = m.environment
    env.remove("02:00:5e:00:00:01")
    d.advance(0.5)
    assert m.link["bssid"] == bytes.fromhex("02005e000001")        # beacon loss takes ~717 ms
    d.advance(1)
    assert m.link["bssid"] == bytes.fromhex("02005e000002") and hif.INT_ROAMED in d.events
    assert d.reg("IP_ADDR") == address and m.stats["roams"] == 1   # same network: the lease stays
    env.set_signal("02:00:5e:00:00:02", -96)
    d.advance(1)
    assert m.link is None and hif.INT_LINK_DOWN in d.events and d.reg("IP_ADDR") == 0
    assert d.reg("LINK_REASON") & 0xFFFF == hif.REASON_INACTIVITY


def test_a_weak_link_roams_to_a_clearly_stronger_bss(rig):
    d, m = rig
    d.connect(b"Lab", psk=b"correct horse", extra={hif.ARG_BSSID: bytes.fromhex("02005e000002")})
    assert m.link["bssid"] == bytes.fromhex("02005e000002")
    m.environment.set_signal("02:00:5e:00:00:02", -80)
    d.advance(1)
    assert m.link["bssid"] == bytes.fromhex("02005e000001")


def test_a_changed_passphrase_deauthenticates_and_disconnect_leaves(rig):
    d, m = rig
    d.connect(b"Lab", psk=b"correct horse")
    m.environment.update("02:00:5e:00:00:01", passphrase="new passphrase")
    assert m.link is None and d.reg("LINK_REASON") & 0xFFFF == hif.REASON_PREV_AUTH_INVALID
    d.connect(b"Cafe", hif.SEC_OPEN)
    error, reason, _ = d.command(hif.CMD_DISCONNECT)
    assert (error, reason) == (0, hif.REASON_LEAVING) and m.link is None


def test_nonsense_commands_and_arguments_get_error_codes(rig):
    d, m = rig
    assert d.command(99)[0] == hif.UNKNOWN_COMMAND
    m.write(R("ARG_LENGTH"), 4, 6)
    m.buffer[:6] = struct.pack("<HH", 1, 40) + b"ab"
    m.write(R("CMD"), 4, hif.CMD_CONNECT)
    assert (d.reg("CMD_STATUS") >> 8) & 0xFF == hif.BAD_ARGUMENTS
    assert d.connect(b"", hif.SEC_OPEN)[0] == hif.BAD_ARGUMENTS
    assert d.connect(b"Lab", 9)[0] == hif.BAD_ARGUMENTS
    m.write(R("CMD"), 4, hif.CMD_SCAN)
    m.write(R("CMD"), 4, hif.CMD_SCAN)                               # while busy
    assert (d.reg("CMD_STATUS") >> 8) & 0xFF == hif.BUSY_ERROR
    d.run_until(lambda: m.job is None)
    assert m.stats["scans"] == 1
    assert m.read(hif.BUFFER_BASE + hif.BUFFER_SIZE - 2, 4) is not None   # the window's edge reads safely


def test_the_irq_line_follows_status_and_enable(rig):
    d, m = rig
    m.write(R("INT_ENABLE"), 4, 0)
    m.write(R("INT_STATUS"), 4, 0x7F)
    d.command(hif.CMD_SCAN)
    assert not m.irq[0].level and d.reg("INT_STATUS") & hif.INT_SCAN_DONE
    m.write(R("INT_ENABLE"), 4, hif.INT_SCAN_DONE)
    assert m.irq[0].level
    m.write(R("INT_STATUS"), 4, hif.INT_SCAN_DONE)
    assert not m.irq[0].level


def test_snapshot_restore_resumes_a_join_in_flight(rig):
    d, m = rig
    d.m.write(R("INT_STATUS"), 4, 0x7F)
    blob = hif.encode_args({hif.ARG_SSID: b"Lab", hif.ARG_SECURITY: bytes([hif.SEC_PSK]),
                            hif.ARG_PSK: b"correct horse"})
    m.buffer[:len(blob)] = blob
    m.write(R("ARG_LENGTH"), 4, len(blob))
    m.write(R("CMD"), 4, hif.CMD_CONNECT)
    d.advance(1)
    snap = m.snapshot()
    d.run_until(lambda: m.job is None)
    first = (m.link["bssid"], d.reg("LINK_STATE"))
    m.restore(snap)
    d.run_until(lambda: m.job is None)
    assert (m.link["bssid"], d.reg("LINK_STATE")) == first


def test_random_guest_accesses_never_raise(rig):
    import random
    d, m = rig
    rng = random.Random("wifi")
    offsets = sorted({reg.offset for reg in m.register_map()}) + [hif.BUFFER_BASE, hif.BUFFER_BASE + 0x7FFC]
    for i in range(3000):
        offset = rng.choice(offsets) + rng.choice((0, 0, 1, 2, 3)) if rng.random() < 0.9 else \
            rng.randrange(0, m.SIZE)
        size = rng.choice((1, 2, 4, 4))
        offset -= offset % size
        if rng.random() < 0.5:
            m.write(offset, size, rng.getrandbits(8 * size))
        else:
            assert 0 <= m.read(offset, size) < (1 << (8 * size))
        if i % 50 == 0:
            d.advance(rng.random() * 2)
    d.advance(60)
