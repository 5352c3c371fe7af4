"""WPA2-Personal key derivation and the 4-way handshake, as IEEE 802.11-2016 specifies them (pure functions and two
small state machines, no I/O).

- PSK -> PMK: PBKDF2-HMAC-SHA1(passphrase, SSID, 4096 iterations, 32 bytes) (802.11 J.4.1); a 64-hex-digit key is
  the PMK itself.
- PMK -> PTK: PRF-384(PMK, "Pairwise key expansion", min(AA,SPA) || max(AA,SPA) || min(ANonce,SNonce) ||
  max(ANonce,SNonce)), PRF-n built from HMAC-SHA1 with a counter byte (12.7.1.2); PTK = KCK (16) || KEK (16) ||
  TK (16) for CCMP.
- EAPOL-Key frames (12.7.2): 802.1X header (version 2, type 3 = Key), descriptor type 2 (RSN), key information
  (version 2 = HMAC-SHA1-128 MIC and AES key wrap), key length, replay counter, nonce, IV, RSC, MIC, key data.
  The MIC is HMAC-SHA1(KCK, frame with a zero MIC field) truncated to 16 bytes; the GTK travels in message 3's key
  data, wrapped with the KEK (RFC 3394 AES key wrap).
- The handshake: M1 (ANonce) -> M2 (SNonce, MIC, RSN element) -> M3 (ANonce, MIC, install, wrapped GTK) -> M4
  (MIC). An authenticator that cannot verify M2's MIC (the station derived its PTK from another passphrase)
  discards it, as 12.7.6.3 says, and the handshake times out: that is how a wrong PSK shows.

Nonces come from the caller (the Wi-Fi model draws them from its seeded generator), so runs are reproducible.
"""
from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives.keywrap import aes_key_unwrap, aes_key_wrap, InvalidUnwrap

EAPOL_VERSION = 2
EAPOL_KEY = 3
DESCRIPTOR_RSN = 2
# Key information bits (12.7.2)
KI_VERSION_HMAC_SHA1_AES = 2
KI_PAIRWISE = 1 << 3
KI_INSTALL = 1 << 6
KI_ACK = 1 << 7
KI_MIC = 1 << 8
KI_SECURE = 1 << 9
KI_ENCRYPTED_DATA = 1 << 12
CCMP_KEY_LENGTH = 16
# RSN element for WPA2-PSK with CCMP (9.4.2.25): version 1, group CCMP, one pairwise CCMP, one AKM PSK (00-0F-AC:2)
RSN_PSK_CCMP = bytes.fromhex("30140100000fac040100000fac040100000fac020000")
RSN_8021X_CCMP = bytes.fromhex("30140100000fac040100000fac040100000fac010000")


class HandshakeError(Exception):
    """A frame that does not belong in the handshake here (bad MIC, replayed counter, wrong message)."""


def pmk_from_passphrase(passphrase: str, ssid: bytes) -> bytes:
    if len(passphrase) == 64 and all(c in "0123456789abcdefABCDEF" for c in passphrase):
        return bytes.fromhex(passphrase)
    return hashlib.pbkdf2_hmac("sha1", passphrase.encode("ascii"), ssid, 4096, 32)


def prf(key: bytes, label: bytes, data: bytes, bits: int) -> bytes:
    """802.11 PRF-n (12.7.1.2): HMAC-SHA1 over label || 0 || data || counter, concatenated."""
    out = b""
    counter = 0
    while len(out) * 8 < bits:
        out += hmac.new(key, label + b"\x00" + data + bytes([counter]), hashlib.sha1).digest()
        counter += 1
    return out[:bits // 8]


@dataclass(frozen=True)
class Ptk:
    kck: bytes
    kek: bytes
    tk: bytes


def derive_ptk(pmk: bytes, aa: bytes, spa: bytes, anonce: bytes, snonce: bytes) -> Ptk:
    data = min(aa, spa) + max(aa, spa) + min(anonce, snonce) + max(anonce, snonce)
    raw = prf(pmk, b"Pairwise key expansion", data, 384)
    return Ptk(raw[:16], raw[16:32], raw[32:48])


# ---- EAPOL-Key frames -------------------------------------------------------------------------------------------------
@dataclass
class KeyFrame:
    info: int
    key_length: int
    replay_counter: int
    nonce: bytes = bytes(32)
    iv: bytes = bytes(16)
    rsc: bytes = bytes(8)
    mic: bytes = bytes(16)
    data: bytes = b""

    def encode(self) -> bytes:
        body = struct.pack(">BHHQ", DESCRIPTOR_RSN, self.info, self.key_length, self.replay_counter)
        body += self.nonce + self.iv + self.rsc + bytes(8) + self.mic + struct.pack(">H", len(self.data)) + self.data
        return struct.pack(">BBH", EAPOL_VERSION, EAPOL_KEY, len(body)) + body

    @classmethod
    def decode(cls, frame: bytes) -> "KeyFrame":
        if len(frame) < 4 + 95:
            raise HandshakeError(f"EAPOL-Key frame of {len(frame)} bytes is too short")
        version, ptype, length = struct.unpack_from(">BBH", frame)
        if ptype != EAPOL_KEY or length != len(frame) - 4:
            raise HandshakeError("not an EAPOL-Key frame")
        desc, info, key_length, replay = struct.unpack_from(">BHHQ", frame, 4)
        if desc != DESCRIPTOR_RSN:
            raise HandshakeError(f"key descriptor {desc} is not RSN")
        nonce = frame[17:49]
        iv = frame[49:65]
        rsc = frame[65:73]
        mic = frame[81:97]
        (data_len,) = struct.unpack_from(">H", frame, 97)
        data = frame[99:99 + data_len]
        if len(data) != data_len:
            raise HandshakeError("key data runs past the frame")
        return cls(info, key_length, replay, nonce, iv, rsc, mic, data)


def compute_mic(kck: bytes, frame: KeyFrame) -> bytes:
    unsigned = KeyFrame(frame.info, frame.key_length, frame.replay_counter, frame.nonce, frame.iv, frame.rsc,
                        bytes(16), frame.data)
    return hmac.new(kck, unsigned.encode(), hashlib.sha1).digest()[:16]


def _signed(kck: bytes, frame: KeyFrame) -> bytes:
    frame.mic = compute_mic(kck, frame)
    return frame.encode()


def _check_mic(kck: bytes, frame: KeyFrame) -> bool:
    return hmac.compare_digest(compute_mic(kck, frame), frame.mic)


def _gtk_kde(gtk: bytes, key_id: int = 1) -> bytes:
    """GTK KDE (12.7.2, Table 12-6): type 0xDD, OUI 00-0F-AC, data type 1, key ID, GTK; padded for key wrap."""
    body = bytes([key_id & 3, 0]) + gtk
    return bytes([0xDD, 4 + len(body)]) + b"\x00\x0f\xac\x01" + body


# ---- the two ends -----------------------------------------------------------------------------------------------------
class Authenticator:
    """The access point's end (it knows its own PMK)."""

    def __init__(self, pmk: bytes, aa: bytes, spa: bytes, anonce: bytes, gtk: bytes, rsn: bytes = RSN_PSK_CCMP):
        self.pmk, self.aa, self.spa, self.anonce, self.gtk, self.rsn = pmk, aa, spa, anonce, gtk, rsn
        self.replay = 0
        self.ptk: Ptk | None = None
        self.done = False

    def message1(self) -> bytes:
        self.replay += 1
        return KeyFrame(KI_VERSION_HMAC_SHA1_AES | KI_PAIRWISE | KI_ACK, CCMP_KEY_LENGTH, self.replay,
                        nonce=self.anonce).encode()

    def message3(self, m2: bytes) -> bytes | None:
        """M3 for a valid M2, None when M2's MIC does not verify (the AP discards it)."""
        frame = KeyFrame.decode(m2)
        if frame.replay_counter != self.replay or not frame.info & KI_MIC:
            raise HandshakeError("M2 does not answer M1")
        ptk = derive_ptk(self.pmk, self.aa, self.spa, self.anonce, frame.nonce)
        if not _check_mic(ptk.kck, frame):
            return None
        self.ptk = ptk
        self.replay += 1
        wrapped = aes_key_wrap(ptk.kek, _pad8(self.rsn + _gtk_kde(self.gtk)))
        m3 = KeyFrame(KI_VERSION_HMAC_SHA1_AES | KI_PAIRWISE | KI_INSTALL | KI_ACK | KI_MIC | KI_SECURE |
                      KI_ENCRYPTED_DATA, CCMP_KEY_LENGTH, self.replay, nonce=self.anonce, data=wrapped)
        return _signed(ptk.kck, m3)

    def accept4(self, m4: bytes) -> bool:
        frame = KeyFrame.decode(m4)
        if self.ptk is None or frame.replay_counter != self.replay or not _check_mic(self.ptk.kck, frame):
            return False
        self.done = True
        return True


class Supplicant:
    """The station's end (it derives its PMK from the passphrase it was configured with)."""

    def __init__(self, pmk: bytes, aa: bytes, spa: bytes, snonce: bytes, rsn: bytes = RSN_PSK_CCMP):
        self.pmk, self.aa, self.spa, self.snonce, self.rsn = pmk, aa, spa, snonce, rsn
        self.ptk: Ptk | None = None
        self.gtk: bytes | None = None
        self.last_replay = -1

    def message2(self, m1: bytes) -> bytes:
        frame = KeyFrame.decode(m1)
        if not frame.info & KI_ACK or frame.info & KI_MIC:
            raise HandshakeError("expected message 1 of 4")
        self.last_replay = frame.replay_counter
        self.ptk = derive_ptk(self.pmk, self.aa, self.spa, frame.nonce, self.snonce)
        m2 = KeyFrame(KI_VERSION_HMAC_SHA1_AES | KI_PAIRWISE | KI_MIC, 0, frame.replay_counter, nonce=self.snonce,
                      data=self.rsn)
        return _signed(self.ptk.kck, m2)

    def message4(self, m3: bytes) -> bytes:
        frame = KeyFrame.decode(m3)
        if self.ptk is None or frame.replay_counter <= self.last_replay or not _check_mic(self.ptk.kck, frame):
            raise HandshakeError("message 3 of 4 does not verify")
        try:
            key_data = aes_key_unwrap(self.ptk.kek, frame.data)
        except InvalidUnwrap:
            raise HandshakeError("message 3's key data does not unwrap") from None
        self.gtk = _find_gtk(key_data)
        self.last_replay = frame.replay_counter
        m4 = KeyFrame(KI_VERSION_HMAC_SHA1_AES | KI_PAIRWISE | KI_MIC | KI_SECURE, 0, frame.replay_counter)
        return _signed(self.ptk.kck, m4)


def _pad8(data: bytes) -> bytes:
    """Key data padding before AES key wrap (12.7.2): 0xDD then zeros up to a multiple of 8 (at least 16)."""
    if len(data) % 8 or len(data) < 16:
        data += b"\xdd"
        while len(data) % 8 or len(data) < 16:
            data += b"\x00"
    return data


def _find_gtk(key_data: bytes) -> bytes | None:
    at = 0
    while at + 2 <= len(key_data):
        kind, length = key_data[at], key_data[at + 1]
        body = key_data[at + 2:at + 2 + length]
        if kind == 0xDD and body[:4] == b"\x00\x0f\xac\x01":
            return body[6:]
        if kind == 0xDD and length == 0:
            break
        at += 2 + length
    return None
