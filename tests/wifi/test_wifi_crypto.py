"""WPA2 key derivation against IEEE 802.11's test vectors, the 4-way handshake both ways, EAP-TLS checks."""
from __future__ import annotations

import datetime as dt

import pytest

import pki
from mt3620.peripherals.wifi import eaptls, wpa
from mt3620.peripherals.wifi.environment import Radius

AA, SPA = bytes.fromhex("020000000001"), bytes.fromhex("020000000002")


def test_pmk_and_prf_match_the_standards_test_vectors():
    # IEEE 802.11-2016 J.4.2 (PSK mapping) and J.3.2 (PRF), test cases 1 and 2.
    assert wpa.pmk_from_passphrase("password", b"IEEE").hex() == \
        "f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e"
    assert wpa.pmk_from_passphrase("ThisIsAPassword", b"ThisIsASSID").hex() == \
        "0dc0d6eb90555ed6419756b9a15ec3e3209b63df707dd508d14581f8982721af"
    assert wpa.prf(bytes([0x0B] * 20), b"prefix", b"Hi There", 192).hex() == \
        "bcd4c650b30b9684951829e0d75f9d54b862175ed9f00606"
    assert wpa.prf(b"Jefe", b"prefix", b"what do ya want for nothing?", 256).hex() == \
        "51f4de5b33f249adf81aeb713a3c20f4fe631446fabdfa58244759ae58ef9009"
    hex_key = "ab" * 32
    assert wpa.pmk_from_passphrase(hex_key, b"any") == bytes.fromhex(hex_key)


def test_the_4way_handshake_installs_the_same_keys_on_both_ends():
    pmk = wpa.pmk_from_passphrase("correct horse", b"Lab")
    ap = wpa.Authenticator(pmk, AA, SPA, b"\x11" * 32, b"\x22" * 16)
    sta = wpa.Supplicant(pmk, AA, SPA, b"\x33" * 32)
    m1 = ap.message1()
    frame = wpa.KeyFrame.decode(m1)
    assert frame.info & wpa.KI_ACK and frame.nonce == b"\x11" * 32 and frame.mic == bytes(16)
    m3 = ap.message3(sta.message2(m1))
    assert m3 is not None and wpa.KeyFrame.decode(m3).data != b""      # the GTK travels wrapped
    assert ap.accept4(sta.message4(m3)) and ap.done
    assert sta.ptk == ap.ptk and sta.gtk == b"\x22" * 16


def test_a_wrong_passphrase_fails_at_message_2s_mic_and_a_tampered_m3_is_refused():
    ap = wpa.Authenticator(wpa.pmk_from_passphrase("correct horse", b"Lab"), AA, SPA, b"\x11" * 32, b"\x22" * 16)
    wrong = wpa.Supplicant(wpa.pmk_from_passphrase("wrong horse!", b"Lab"), AA, SPA, b"\x33" * 32)
    assert ap.message3(wrong.message2(ap.message1())) is None
    pmk = wpa.pmk_from_passphrase("correct horse", b"Lab")
    ap = wpa.Authenticator(pmk, AA, SPA, b"\x11" * 32, b"\x22" * 16)
    sta = wpa.Supplicant(pmk, AA, SPA, b"\x33" * 32)
    m3 = bytearray(ap.message3(sta.message2(ap.message1())))
    m3[-1] ^= 1
    with pytest.raises(wpa.HandshakeError):
        sta.message4(bytes(m3))
    with pytest.raises(wpa.HandshakeError):
        wpa.KeyFrame.decode(b"\x02\x03\x00\x05short")


@pytest.fixture(scope="module")
def eap_pki():
    client_ca, server_ca, other_ca = pki.ca("Client CA"), pki.ca("RADIUS CA"), pki.ca("Rogue CA")
    return {"client_ca": client_ca, "server_ca": server_ca, "other_ca": other_ca,
            "client": pki.issue(client_ca, "device-1", "client"),
            "rogue_client": pki.issue(other_ca, "device-1", "client"),
            "expired": pki.issue(client_ca, "device-old", "client", not_after=pki.NOW - dt.timedelta(days=1)),
            "server": pki.issue(server_ca, "radius.corp", "server")}


def _radius(p, with_server=True):
    return Radius(p["client_ca"].cert_pem, p["server"].cert_pem if with_server else None,
                  p["server"].key_pem() if with_server else None)


def _peer(p, client="client", root="server_ca", key_of=None, password=None):
    leaf = p[client]
    key_pem = (p[key_of] if key_of else leaf).key_pem(password)
    return eaptls.PeerCredentials("device-1", leaf.cert_pem, key_pem, password.decode() if password else None,
                                  p[root].cert_pem if root else None)


RANDOMS = (b"\x01" * 32, b"\x02" * 32)


def test_eap_tls_succeeds_with_good_credentials_and_both_ends_derive_the_msk(eap_pki):
    result = eaptls.authenticate(_peer(eap_pki), _radius(eap_pki), pki.NOW, RANDOMS)
    assert result.success and len(result.msk) == 64 and len(result.pmk) == 32
    again = eaptls.authenticate(_peer(eap_pki), _radius(eap_pki), pki.NOW, RANDOMS)
    assert again.msk == result.msk                       # deterministic for the same randoms
    encrypted = eaptls.authenticate(_peer(eap_pki, password=b"s3cret"), _radius(eap_pki), pki.NOW, RANDOMS)
    assert encrypted.success


@pytest.mark.parametrize("peer_args, radius_server, code, depth, subject, why", [
    ({"client": "rogue_client"}, True, 102, 0, "CN=device-1", "not signed by a trusted CA"),
    ({"client": "expired"}, True, 102, 0, "CN=device-old", "expired"),
    ({"key_of": "rogue_client"}, True, 102, 0, "CN=device-1", "CertificateVerify"),
    ({"root": "other_ca"}, True, 101, 0, "CN=radius.corp", "not signed by a trusted CA"),
    ({"root": "server_ca"}, False, 101, 0, "CN=emulated RADIUS server", "not signed by a trusted CA"),
])
def test_eap_tls_failures_carry_the_diagnostics_codes(eap_pki, peer_args, radius_server, code, depth, subject, why):
    result = eaptls.authenticate(_peer(eap_pki, **peer_args), _radius(eap_pki, radius_server), pki.NOW, RANDOMS)
    assert not result.success
    assert (result.cert_error, result.depth, result.subject) == (code, depth, subject)
    assert why in result.reason


def test_without_a_root_ca_the_station_does_not_check_the_server(eap_pki):
    result = eaptls.authenticate(_peer(eap_pki, root=None), _radius(eap_pki, with_server=False), pki.NOW, RANDOMS)
    assert result.success


def test_chain_checks_use_the_injected_clock(eap_pki):
    client, anchors = eap_pki["client"].cert, [eap_pki["client_ca"].cert]
    eaptls.verify_chain([client], anchors, pki.NOW, eaptls.ExtendedKeyUsageOID.CLIENT_AUTH)
    with pytest.raises(eaptls.ChainError, match="not yet valid"):
        eaptls.verify_chain([client], anchors, pki.NOW - dt.timedelta(days=400),
                            eaptls.ExtendedKeyUsageOID.CLIENT_AUTH)
    with pytest.raises(eaptls.ChainError, match="extended key usage"):
        eaptls.verify_chain([client], anchors, pki.NOW, eaptls.ExtendedKeyUsageOID.SERVER_AUTH)
