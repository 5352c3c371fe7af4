"""The MT3620 Wi-Fi subsystem (the N9 core and its firmware) as the A7 sees it through its host interface (HIF) at
0x60000000 (MediaTek memory map; the HIF's register and command set is not public: emulator-defined here and in
docs/wifi.md, "The host interface").

The station's connection state machine runs here, on the virtual clock, against a `RadioEnvironment`
(peripherals/wifi/environment.py): scan (channel by channel: active 2.4 GHz, passive 5 GHz dwell), open-system
authentication, association, then the key handshake for the AP's security (WPA2-PSK: the real 4-way handshake of
wpa.py, checked against the AP's passphrase; EAP-TLS: eaptls.py's exchange with real certificate checks, then the
4-way handshake on the derived PMK), then DHCP against the AP's network (a lease, renewed at half its time). While
connected it follows the environment: an AP that vanishes or fades below the loss threshold is lost after a
beacon-loss time, and the station roams to another AP of the same network name (SSID and security) when one is
heard, or reports the link down with the 802.11 reason code.

Registers (offsets from 0x60000000, all 32-bit):
  0x000 HIF_ID         ro   0x4E395746 ("N9WF")
  0x004 HIF_VERSION    ro   0x00010000
  0x008 CMD            rw   CODE[7:0]: writing starts a command (1 SCAN, 2 CONNECT, 3 DISCONNECT) with the
                            arguments in the buffer (ARG_LENGTH bytes of TLVs)
  0x00C CMD_STATUS     ro   STATE[1:0] (0 idle, 1 busy, 2 done), ERROR[15:8] (0 ok, or a failure code)
  0x010 CMD_RESULT     ro   SCAN: number of 48-byte records in the buffer; CONNECT: the 802.11 status/reason
  0x014 ARG_LENGTH     rw   bytes of arguments in the buffer
  0x018 INT_STATUS     w1c  CMD_DONE, LINK_UP, LINK_DOWN, SCAN_DONE, ROAMED, IP_CHANGED, SIGNAL
  0x01C INT_ENABLE     rw   the same bits; the `irq` line is INT_STATUS & INT_ENABLE
  0x020 LINK_STATE     ro   0 idle, 1 scanning, 2 authenticating, 3 associating, 4 4-way handshake, 5 EAP,
                            6 connected
  0x024 LINK_REASON    ro   REASON[15:0] the 802.11 reason code of the last link loss or failed join,
                            FAILURE[23:16] the failure code (as CMD_STATUS.ERROR)
  0x028 LINK_RSSI      ro   signal of the associated BSS in dBm (two's complement)
  0x02C LINK_FREQ      ro   its centre frequency in MHz
  0x030/0x034 LINK_BSSID_LO/HI ro  its BSSID, bytes 0-3 / 4-5 little-endian
  0x038 IP_ADDR, 0x03C IP_MASK, 0x040 IP_GATEWAY, 0x044 IP_DNS  ro  the DHCP lease (network byte order
                            packed big-endian in the word: 192.168.1.10 reads 0xC0A8010A), 0 without a lease
  0x048 LEASE_SECONDS  ro   lease time
  0x04C/0x050 MAC_LO/HI ro  the station's MAC address
  0x054 EAP_DETAIL     ro   CERT_ERROR[7:0] (101 InvalidRootCA, 102 InvalidClientAuth, 103 UnknownClientId),
                            DEPTH[15:8] (0xFF: none)
  0x1000-0x8FFF        rw   the command buffer: arguments in, results out (EAP failure subject text after
                            CONNECT failures)

Failure codes (CMD_STATUS.ERROR, LINK_REASON.FAILURE) are those WifiConfig_NetworkDiagnostics reports:
1 ConnectionFailed, 2 NetworkNotFound, 3 NoPskIncluded, 4 WrongKey, 5 AuthenticationFailed,
6 SecurityTypeMismatch; and 20 Busy, 21 BadArguments, 22 UnknownCommand (emulator-defined).
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import ipaddress
import logging
import struct
from typing import Any

from mt3620.engine.simulation.access import TEST_ACCESS, Access
from mt3620.engine.simulation.clock import PS_PER_SECOND, VirtualClock
from mt3620.engine.simulation.peripheral import COLD, Field, Peripheral, Register, ResetKind, Timer

from . import eaptls, wpa
from .environment import AccessPoint, RadioEnvironment, format_mac

log = logging.getLogger("mt3620.wifi")

HIF_ID = 0x4E395746
HIF_VERSION = 0x00010000
BUFFER_BASE = 0x1000
BUFFER_SIZE = 0x8000
MS = PS_PER_SECOND // 1000

# Commands
CMD_SCAN, CMD_CONNECT, CMD_DISCONNECT = 1, 2, 3
# CMD_STATUS.STATE
IDLE, BUSY, DONE = 0, 1, 2
# Interrupt bits
INT_CMD_DONE, INT_LINK_UP, INT_LINK_DOWN, INT_SCAN_DONE, INT_ROAMED, INT_IP_CHANGED, INT_SIGNAL = (
    1 << 0, 1 << 1, 1 << 2, 1 << 3, 1 << 4, 1 << 5, 1 << 6)
# LINK_STATE
LS_IDLE, LS_SCANNING, LS_AUTHENTICATING, LS_ASSOCIATING, LS_HANDSHAKE, LS_EAP, LS_CONNECTED = range(7)
LINK_STATE_NAMES = ("idle", "scanning", "authenticating", "associating", "4-way handshake", "eap", "connected")
# Failure codes (WifiConfig_NetworkDiagnostics.error)
OK = 0
CONNECTION_FAILED, NETWORK_NOT_FOUND, NO_PSK_INCLUDED, WRONG_KEY, AUTHENTICATION_FAILED, SECURITY_MISMATCH = range(1, 7)
BUSY_ERROR, BAD_ARGUMENTS, UNKNOWN_COMMAND = 20, 21, 22
FAILURE_NAMES = {OK: "ok", CONNECTION_FAILED: "ConnectionFailed", NETWORK_NOT_FOUND: "NetworkNotFound",
                 NO_PSK_INCLUDED: "NoPskIncluded", WRONG_KEY: "WrongKey", AUTHENTICATION_FAILED: "AuthenticationFailed",
                 SECURITY_MISMATCH: "SecurityTypeMismatch", BUSY_ERROR: "Busy", BAD_ARGUMENTS: "BadArguments",
                 UNKNOWN_COMMAND: "UnknownCommand"}
# 802.11 reason codes (IEEE 802.11-2016 Table 9-45)
REASON_UNSPECIFIED, REASON_PREV_AUTH_INVALID, REASON_LEAVING, REASON_INACTIVITY = 1, 2, 3, 4
REASON_4WAY_TIMEOUT, REASON_8021X_FAILED = 15, 23
# Argument TLV types (emulator-defined)
ARG_SSID, ARG_BSSID, ARG_SECURITY, ARG_PSK, ARG_IDENTITY, ARG_CLIENT_CERT, ARG_CLIENT_KEY = 1, 2, 3, 4, 5, 6, 7
ARG_KEY_PASSWORD, ARG_ROOT_CA, ARG_TIME, ARG_STATIC_IP, ARG_TARGETED = 8, 9, 10, 11, 12
# WifiConfig_Security values
SEC_OPEN, SEC_PSK, SEC_EAP_TLS = 1, 2, 3
SECURITY_OF = {"open": SEC_OPEN, "wpa2-psk": SEC_PSK, "eap-tls": SEC_EAP_TLS}
SCAN_RECORD = struct.Struct("<6sBB32sIb3x")          # bssid, ssid length, security, ssid, MHz, dBm: 48 bytes

# Timing and radio constants (emulator-defined: docs/EMULATOR-DEFINED.md)
CHANNELS_24 = tuple(range(1, 14))
CHANNELS_5 = (36, 40, 44, 48, 52, 56, 60, 64, 100, 104, 108, 112, 116, 120, 124, 128, 132, 136, 140, 144,
              149, 153, 157, 161, 165)
ACTIVE_DWELL_PS = 40 * MS          # 2.4 GHz: probe request, wait for responses
PASSIVE_DWELL_PS = 110 * MS        # 5 GHz: listen for a beacon (102.4 ms interval)
SENSITIVITY_DBM = -90              # weaker BSSes are not heard
LOSS_DBM = -92                     # the associated BSS is lost below this
ROAM_TRIGGER_DBM = -75             # below this, a BSS of the same ESS that is ROAM_MARGIN_DB stronger is taken
ROAM_MARGIN_DB = 8
BEACON_LOSS_PS = 7 * 1024 * MS // 10   # 7 missed beacons at 102.4 ms
AUTH_PS = 3 * MS
ASSOC_PS = 4 * MS
EAPOL_PS = 8 * MS                  # one EAPOL-Key message exchange
EAPOL_RETRY_PS = 1000 * MS         # the AP resends message 1 after this, three times, then deauthenticates
EAPOL_ATTEMPTS = 4
EAP_ROUND_TRIP_PS = 15 * MS
DHCP_LEASE_S = 3600
DHCP_RETRY_PS = (4000 * MS, 8000 * MS, 16000 * MS)


def encode_args(args: dict[int, bytes]) -> bytes:
    """Command arguments as the HIF reads them: TLVs {u16 type, u16 length, value, padding to 4 bytes}."""
    out = b""
    for kind, value in args.items():
        out += struct.pack("<HH", kind, len(value)) + value + bytes(-len(value) % 4)
    return out


def decode_scan(buffer: bytes, count: int) -> list[dict]:
    """SCAN results: `count` 48-byte records."""
    out = []
    for i in range(count):
        bssid, ssid_len, security, ssid, mhz, dbm = SCAN_RECORD.unpack_from(buffer, i * SCAN_RECORD.size)
        out.append({"bssid": bssid, "ssid": ssid[:ssid_len], "security": security, "frequency_mhz": mhz,
                    "signal_dbm": dbm})
    return out


class WifiHif(Peripheral):
    SIZE = 0x10000
    IRQS = ("irq",)
    REGISTERS = (
        Register(0x000, "HIF_ID", reset=HIF_ID, access="ro"),
        Register(0x004, "HIF_VERSION", reset=HIF_VERSION, access="ro"),
        Register(0x008, "CMD", write="_write_cmd", fields=(Field("CODE", 0, 8),)),
        Register(0x00C, "CMD_STATUS", access="ro", fields=(Field("STATE", 0, 2), Field("ERROR", 8, 8))),
        Register(0x010, "CMD_RESULT", access="ro"),
        Register(0x014, "ARG_LENGTH", fields=(Field("LENGTH", 0, 16),)),
        Register(0x018, "INT_STATUS", write="_write_int", fields=(
            Field("CMD_DONE", 0, access="w1c"), Field("LINK_UP", 1, access="w1c"),
            Field("LINK_DOWN", 2, access="w1c"), Field("SCAN_DONE", 3, access="w1c"),
            Field("ROAMED", 4, access="w1c"), Field("IP_CHANGED", 5, access="w1c"),
            Field("SIGNAL", 6, access="w1c"))),
        Register(0x01C, "INT_ENABLE", write="_write_int", fields=(Field("MASK", 0, 7),)),
        Register(0x020, "LINK_STATE", access="ro", fields=(Field("STATE", 0, 4),)),
        Register(0x024, "LINK_REASON", access="ro", fields=(Field("REASON", 0, 16), Field("FAILURE", 16, 8))),
        Register(0x028, "LINK_RSSI", access="ro"),
        Register(0x02C, "LINK_FREQ", access="ro"),
        Register(0x030, "LINK_BSSID_LO", access="ro"),
        Register(0x034, "LINK_BSSID_HI", access="ro"),
        Register(0x038, "IP_ADDR", access="ro"),
        Register(0x03C, "IP_MASK", access="ro"),
        Register(0x040, "IP_GATEWAY", access="ro"),
        Register(0x044, "IP_DNS", access="ro"),
        Register(0x048, "LEASE_SECONDS", access="ro"),
        Register(0x04C, "MAC_LO", access="ro"),
        Register(0x050, "MAC_HI", access="ro"),
        Register(0x054, "EAP_DETAIL", access="ro", reset=0xFF00,
                 fields=(Field("CERT_ERROR", 0, 8), Field("DEPTH", 8, 8, reset=0xFF))),
    )
    STATE = ("buffer", "job", "link", "scan_cache", "nonce_counter", "roam_pending", "dhcp_attempt", "stats")

    step = Timer("_step")
    monitor = Timer("_monitor_fire")
    lease = Timer("_lease_fire")

    def __init__(self, name: str | None = None, clock: VirtualClock | None = None, **attributes: Any) -> None:
        self.environment: RadioEnvironment | None = None
        self.seed = b"mt3620-wifi"
        self.mac = self._mac_from(self.seed)
        self.event_listeners: list = []         # fn(bits) on every interrupt-status change (OS, tests)
        super().__init__(name or "wifi_hif", clock, **attributes)

    # ---- configuration (Python side) ------------------------------------------------------------------------------
    @staticmethod
    def _mac_from(seed: bytes) -> bytes:
        # A locally administered unicast address derived from the device seed (emulator-defined).
        raw = bytearray(hashlib.sha256(b"wifi-mac/" + seed).digest()[:6])
        raw[0] = (raw[0] & 0xFC) | 0x02
        return bytes(raw)

    def personalise(self, seed: bytes) -> None:
        """The device's own MAC address and nonce generator, from its seed."""
        self.seed = bytes(seed)
        self.mac = self._mac_from(self.seed)
        self._publish_mac()

    def attach_environment(self, environment: RadioEnvironment | None) -> None:
        if self.environment is not None and self._env_changed in self.environment.listeners:
            self.environment.listeners.remove(self._env_changed)
        self.environment = environment
        if environment is not None:
            environment.listeners.append(self._env_changed)
        self._env_changed("attached", None)

    # ---- life cycle -----------------------------------------------------------------------------------------------
    def reset(self, kind: ResetKind = COLD) -> None:
        super().reset(kind)
        self.buffer = bytearray(BUFFER_SIZE)
        self.job: dict | None = None
        self.link: dict | None = None           # the associated BSS: bssid, ssid, security, freq, network, config
        self.scan_cache: dict = {}              # bssid hex -> time seen (ps)
        self.nonce_counter = 0
        self.roam_pending = False
        self.dhcp_attempt = 0
        self.stats = {"scans": 0, "joins": 0, "failures": 0, "roams": 0, "losses": 0}
        self._publish_mac()
        self.update_irq()

    def _publish_mac(self) -> None:
        if hasattr(self, "regs"):
            self.regs.MAC_LO.value = int.from_bytes(self.mac[:4], "little")
            self.regs.MAC_HI.value = int.from_bytes(self.mac[4:], "little")

    def update_irq(self) -> None:
        self.irq[0].set(bool(self.regs.INT_STATUS.value & self.regs.INT_ENABLE.value))

    def _raise(self, bits: int) -> None:
        self.regs.INT_STATUS.value |= bits
        self.update_irq()
        for listener in list(self.event_listeners):
            listener(bits)

    def _write_int(self, value: int) -> None:
        self.update_irq()

    # ---- the buffer window ----------------------------------------------------------------------------------------
    def read(self, offset: int, size: int = 4, access: Access = TEST_ACCESS) -> int:
        if BUFFER_BASE <= offset < BUFFER_BASE + BUFFER_SIZE:
            at = offset - BUFFER_BASE
            return int.from_bytes(self.buffer[at:at + size].ljust(size, b"\0"), "little")
        return super().read(offset, size, access)

    def write(self, offset: int, size: int, value: int, access: Access = TEST_ACCESS) -> None:
        if BUFFER_BASE <= offset < BUFFER_BASE + BUFFER_SIZE:
            at = offset - BUFFER_BASE
            data = (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
            self.buffer[at:at + size] = data[:BUFFER_SIZE - at]
            return
        super().write(offset, size, value, access)

    # ---- commands -------------------------------------------------------------------------------------------------
    def _write_cmd(self, value: int) -> None:
        code = self.regs.CMD.CODE
        status = self.regs.CMD_STATUS
        if code == CMD_DISCONNECT:
            scanning = self.job is not None and self.job.get("kind") == "scan"
            self._abort_job()
            self._finish_command(OK, self._leave(REASON_LEAVING, OK) if self.link else 0, keep_job=scanning)
            return
        if status.STATE == BUSY:
            log.info("%s: command %d while busy refused", self.name, code)
            self._finish_command(BUSY_ERROR, 0, keep_job=True)
            return
        try:
            args = self._parse_args()
        except ValueError as exc:
            log.info("%s: command %d: bad arguments: %s", self.name, code, exc)
            self._finish_command(BAD_ARGUMENTS, 0)
            return
        if code == CMD_SCAN:
            self._start_scan(args)
        elif code == CMD_CONNECT:
            self._start_connect(args)
        else:
            log.info("%s: unknown command %d", self.name, code)
            self._finish_command(UNKNOWN_COMMAND, 0)

    def _parse_args(self) -> dict[int, bytes]:
        length = self.regs.ARG_LENGTH.LENGTH
        if length > BUFFER_SIZE:
            raise ValueError(f"ARG_LENGTH {length} is larger than the buffer")
        data = bytes(self.buffer[:length])
        args: dict[int, bytes] = {}
        at = 0
        while at < length:
            if at + 4 > length:
                raise ValueError("truncated TLV header")
            kind, size = struct.unpack_from("<HH", data, at)
            value = data[at + 4:at + 4 + size]
            if len(value) != size:
                raise ValueError(f"TLV {kind} runs past ARG_LENGTH")
            args[kind] = value
            at += 4 + size + (-size % 4)
        return args

    def _finish_command(self, error: int, result: int, keep_job: bool = False) -> None:
        if not keep_job:
            self.job = None
            self.step.cancel()
        self.regs.CMD_STATUS.value = self.regs.CMD_STATUS.encode(STATE=DONE, ERROR=error)
        self.regs.CMD_RESULT.value = result & 0xFFFFFFFF
        self._raise(INT_CMD_DONE)

    def _abort_job(self) -> None:
        """DISCONNECT aborts a join or a roam in flight; a scan goes on (its CMD_DONE still comes)."""
        if self.job is not None and self.job.get("kind") == "connect":
            self.step.cancel()
            self.job = None
            if self.link is None:
                self._set_state(LS_IDLE)

    def _set_state(self, state: int) -> None:
        self.regs.LINK_STATE.value = state

    def _nonce(self, label: bytes) -> bytes:
        self.nonce_counter += 1
        return hashlib.sha256(b"wifi-nonce/" + self.seed + label + self.nonce_counter.to_bytes(8, "little")).digest()

    # ---- scanning -------------------------------------------------------------------------------------------------
    def scan_duration_ps(self) -> int:
        return len(CHANNELS_24) * ACTIVE_DWELL_PS + len(CHANNELS_5) * PASSIVE_DWELL_PS

    def heard(self, targeted_ssid: bytes | None = None) -> list[AccessPoint]:
        """The BSSes a scan hears now: above the sensitivity, hidden ones only when probed for by name; strongest
        first, then by BSSID."""
        if self.environment is None:
            return []
        found = [ap for ap in self.environment.access_points if ap.signal_dbm >= SENSITIVITY_DBM and
                 (not ap.hidden or (targeted_ssid is not None and ap.ssid == targeted_ssid))]
        return sorted(found, key=lambda ap: (-ap.signal_dbm, ap.bssid))

    def _start_scan(self, args: dict[int, bytes]) -> None:
        self.job = {"kind": "scan", "ssid": args.get(ARG_SSID)}
        self.regs.CMD_STATUS.value = self.regs.CMD_STATUS.encode(STATE=BUSY)
        if self.link is None:
            self._set_state(LS_SCANNING)
        self.step.start(self.scan_duration_ps(), "scan_done")

    def _scan_done(self) -> None:
        job = self.job
        aps = self.heard(job.get("ssid"))
        records = [SCAN_RECORD.pack(ap.bssid, len(ap.ssid) if not ap.hidden else 0, SECURITY_OF[ap.security],
                                    ap.ssid if not ap.hidden else b"", ap.frequency_mhz, ap.signal_dbm)
                   for ap in aps][:BUFFER_SIZE // SCAN_RECORD.size]
        blob = b"".join(records)
        self.buffer[:len(blob)] = blob
        now = self.clock.now
        for ap in aps:
            self.scan_cache[ap.bssid.hex()] = now
        self.stats["scans"] += 1
        if self.link is None:
            self._set_state(LS_IDLE)
        self._finish_command(OK, len(records))
        self._raise(INT_SCAN_DONE)

    # ---- joining --------------------------------------------------------------------------------------------------
    def _start_connect(self, args: dict[int, bytes]) -> None:
        ssid = args.get(ARG_SSID)
        security = args.get(ARG_SECURITY, bytes([SEC_OPEN]))
        if not ssid or len(ssid) > 32 or len(security) != 1 or security[0] not in (SEC_OPEN, SEC_PSK, SEC_EAP_TLS):
            self._finish_command(BAD_ARGUMENTS, 0)
            return
        if self.link is not None:
            self._leave(REASON_LEAVING, OK)
        job = {"kind": "connect", "ssid": ssid, "security": security[0],
               "bssid": args.get(ARG_BSSID), "psk": args.get(ARG_PSK, b"").decode("latin-1"),
               "identity": args.get(ARG_IDENTITY, b"").decode("utf-8", "replace"),
               "cert": args.get(ARG_CLIENT_CERT, b"").decode("latin-1"),
               "key": args.get(ARG_CLIENT_KEY, b"").decode("latin-1"),
               "key_password": args.get(ARG_KEY_PASSWORD, b"").decode("latin-1") or None,
               "root_ca": args.get(ARG_ROOT_CA, b"").decode("latin-1") or None,
               "time": struct.unpack("<q", args[ARG_TIME])[0] if len(args.get(ARG_TIME, b"")) == 8 else None,
               "static": struct.unpack("<4I", args[ARG_STATIC_IP]) if len(args.get(ARG_STATIC_IP, b"")) == 16
               else None,
               "targeted": bool(args.get(ARG_TARGETED, b"\0")[0]), "attempt": 0}
        self.job = job
        self.regs.CMD_STATUS.value = self.regs.CMD_STATUS.encode(STATE=BUSY)
        self.regs.EAP_DETAIL.value = self.regs.EAP_DETAIL.encode(CERT_ERROR=0, DEPTH=0xFF)
        self.stats["joins"] += 1
        # Find the BSS: a scan unless one of the network's BSSes was heard in the last 10 s (wpa_supplicant reuses
        # recent scan results the same way).
        recent = [ap for ap in self.heard(ssid if job["targeted"] else None) if ap.ssid == ssid and
                  self.clock.now - self.scan_cache.get(ap.bssid.hex(), -10**30) <= 10 * PS_PER_SECOND]
        self._set_state(LS_SCANNING)
        self.step.start(0 if recent else self.scan_duration_ps(), "select")

    def _candidates(self, job: dict) -> list[AccessPoint]:
        aps = [ap for ap in self.heard(job["ssid"] if job["targeted"] else None) if ap.ssid == job["ssid"]]
        if job.get("bssid"):
            aps = [ap for ap in aps if ap.bssid == job["bssid"]]
        return aps

    def _select(self) -> None:
        job = self.job
        for ap in self.heard(job["ssid"] if job["targeted"] else None):
            self.scan_cache[ap.bssid.hex()] = self.clock.now
        aps = self._candidates(job)
        if not aps:
            return self._fail(NETWORK_NOT_FOUND, REASON_UNSPECIFIED, "no access point with this SSID is heard")
        matching = [ap for ap in aps if SECURITY_OF[ap.security] == job["security"]]
        if not matching:
            return self._fail(SECURITY_MISMATCH, REASON_UNSPECIFIED,
                              f"the network is {aps[0].security}, the configuration is not")
        ap = matching[0]
        if ap.security == "wpa2-psk" and not job["psk"]:
            return self._fail(NO_PSK_INCLUDED, REASON_UNSPECIFIED, "WPA2-PSK network without a key")
        job["target"] = ap.bssid
        self._set_state(LS_AUTHENTICATING)
        self.step.start(AUTH_PS + self._latency_ps(ap), "associate")

    def _target(self) -> AccessPoint | None:
        ap = self.environment.find(self.job["target"]) if self.environment else None
        if ap is None or ap.signal_dbm < SENSITIVITY_DBM:
            return None
        return ap

    def _latency_ps(self, ap: AccessPoint) -> int:
        return 0        # radio frames between station and AP: the AUTH/ASSOC/EAPOL constants cover them

    def _associate(self) -> None:
        ap = self._target()
        if ap is None:
            return self._fail(CONNECTION_FAILED, REASON_UNSPECIFIED, "the access point went away while joining")
        self._set_state(LS_ASSOCIATING)
        self.step.start(ASSOC_PS, "associated")

    def _associated(self) -> None:
        ap = self._target()
        if ap is None:
            return self._fail(CONNECTION_FAILED, REASON_UNSPECIFIED, "the access point went away while joining")
        job = self.job
        if ap.security == "open":
            return self._keys_installed(ap)
        if ap.security == "eap-tls":
            self._set_state(LS_EAP)
            self.step.start(eaptls.EXCHANGE_ROUND_TRIPS * EAP_ROUND_TRIP_PS, "eap")
            return
        job["pmk"] = wpa.pmk_from_passphrase(job["psk"], ap.ssid)
        self._start_4way(ap)

    def _start_4way(self, ap: AccessPoint) -> None:
        job = self.job
        job["ap_pmk"] = (wpa.pmk_from_passphrase(ap.passphrase, ap.ssid) if ap.security == "wpa2-psk"
                         else job["pmk"])
        job["anonce"] = self._nonce(b"anonce")
        job["snonce"] = self._nonce(b"snonce")
        job["eapol_try"] = 0
        self._set_state(LS_HANDSHAKE)
        self.step.start(EAPOL_PS, "eapol")

    def _eapol(self) -> None:
        """One attempt of the 4-way handshake: M1..M4 with real frames; a bad M2 MIC is discarded by the AP, which
        resends M1 after its timeout and gives up (reason 15) after EAPOL_ATTEMPTS."""
        ap = self._target()
        if ap is None:
            return self._fail(CONNECTION_FAILED, REASON_UNSPECIFIED, "the access point went away while joining")
        job = self.job
        rsn = wpa.RSN_8021X_CCMP if ap.security == "eap-tls" else wpa.RSN_PSK_CCMP
        gtk = hashlib.sha256(b"gtk/" + ap.bssid).digest()[:16]
        authenticator = wpa.Authenticator(job["ap_pmk"], ap.bssid, self.mac, job["anonce"], gtk, rsn)
        supplicant = wpa.Supplicant(job["pmk"], ap.bssid, self.mac, job["snonce"], rsn)
        m1 = authenticator.message1()
        m2 = supplicant.message2(m1)
        m3 = authenticator.message3(m2)
        if m3 is None:
            job["eapol_try"] += 1
            if job["eapol_try"] >= EAPOL_ATTEMPTS:
                return self._fail(WRONG_KEY, REASON_4WAY_TIMEOUT, "4-way handshake timed out (message 2's MIC "
                                                                  "does not verify: the PSK differs)")
            self.step.start(EAPOL_RETRY_PS, "eapol")
            return
        m4 = supplicant.message4(m3)
        if not authenticator.accept4(m4):
            return self._fail(CONNECTION_FAILED, REASON_4WAY_TIMEOUT, "message 4 of 4 does not verify")
        job["tk"] = supplicant.ptk.tk.hex()
        self.step.start(EAPOL_PS, "keys")

    def _eap(self) -> None:
        ap = self._target()
        if ap is None:
            return self._fail(CONNECTION_FAILED, REASON_UNSPECIFIED, "the access point went away while joining")
        job = self.job
        if not job["cert"] or not job["key"]:
            return self._fail(AUTHENTICATION_FAILED, REASON_8021X_FAILED, "no client certificate", cert_error=100)
        now = (_dt.datetime.fromtimestamp(job["time"], _dt.timezone.utc) if job["time"] is not None
               else _dt.datetime(2024, 1, 1, tzinfo=_dt.timezone.utc))
        peer = eaptls.PeerCredentials(job["identity"], job["cert"], job["key"], job["key_password"], job["root_ca"])
        result = eaptls.authenticate(peer, ap.radius, now, (self._nonce(b"client-random"),
                                                             self._nonce(b"server-random")), seed=ap.bssid)
        if not result.success:
            return self._fail(AUTHENTICATION_FAILED, REASON_8021X_FAILED, result.reason,
                              cert_error=result.cert_error, depth=result.depth, subject=result.subject)
        job["pmk"] = result.pmk
        self._start_4way(ap)

    def _keys(self) -> None:
        ap = self._target()
        if ap is None:
            return self._fail(CONNECTION_FAILED, REASON_UNSPECIFIED, "the access point went away while joining")
        self._keys_installed(ap)

    def _keys_installed(self, ap: AccessPoint) -> None:
        job = self.job
        roam = job.get("roam", False)
        keep_ip = roam and self.link is not None and self.link.get("network") == ap.network
        old_ip = self.regs.IP_ADDR.value
        self.link = {"bssid": ap.bssid, "ssid": ap.ssid, "security": ap.security, "network": ap.network,
                     "passphrase": ap.passphrase, "config": {k: job[k] for k in ("ssid", "security", "psk", "identity", "cert", "key",
                                                    "key_password", "root_ca", "time", "static", "targeted")}}
        self._publish_link(ap)
        self._set_state(LS_CONNECTED)
        self.regs.LINK_REASON.value = 0
        self.job = None
        if roam:
            self.stats["roams"] += 1
            self.roam_pending = False
            self._raise(INT_ROAMED)
        else:
            self._finish_command(OK, 0)
            self._raise(INT_LINK_UP)
        if keep_ip and old_ip:
            self._schedule_monitor()
            return
        self._clear_ip(notify=bool(old_ip))
        static = self.link["config"]["static"]
        if static is not None:
            self._set_ip(*static, lease=0)
        else:
            self.dhcp_attempt = 0
            self.lease.start(self._dhcp_delay_ps(ap), "discover")
        self._schedule_monitor()

    def _publish_link(self, ap: AccessPoint) -> None:
        self.regs.LINK_RSSI.value = ap.signal_dbm & 0xFFFFFFFF
        self.regs.LINK_FREQ.value = ap.frequency_mhz
        self.regs.LINK_BSSID_LO.value = int.from_bytes(ap.bssid[:4], "little")
        self.regs.LINK_BSSID_HI.value = int.from_bytes(ap.bssid[4:], "little")

    def _fail(self, failure: int, reason: int, why: str, cert_error: int = 0, depth: int = -1,
              subject: str = "") -> None:
        job = self.job or {}
        log.info("%s: joining %r failed: %s (%s)", self.name, job.get("ssid"), FAILURE_NAMES.get(failure), why)
        self.stats["failures"] += 1
        self.regs.LINK_REASON.value = self.regs.LINK_REASON.encode(REASON=reason, FAILURE=failure)
        self.regs.EAP_DETAIL.value = self.regs.EAP_DETAIL.encode(CERT_ERROR=cert_error, DEPTH=depth & 0xFF)
        text = subject.encode()[:300]
        self.buffer[:len(text) + 1] = text + b"\0"
        roam = job.get("roam", False)
        self.job = None
        if roam:
            self._lose_link(reason, failure)
            return
        self._set_state(LS_IDLE)
        self._finish_command(failure, reason)

    # ---- DHCP -----------------------------------------------------------------------------------------------------
    def _dhcp_delay_ps(self, ap: AccessPoint) -> int:
        net = self.environment.network_of(ap) if self.environment else None
        return int(2 * (net.latency_ms if net else 1.0) * MS) + 20 * MS

    def dhcp_address(self, network) -> ipaddress.IPv4Address:
        """The address the network's DHCP server gives this station (emulator-defined: a host of the subnet's upper
        half chosen from the MAC address, avoiding the gateway and DNS server)."""
        hosts = network.subnet.num_addresses - 2
        first = int(network.subnet.network_address) + 1 + hosts // 2
        span = max(1, hosts - hosts // 2)
        pick = int.from_bytes(hashlib.sha256(self.mac + network.name.encode()).digest()[:4], "big") % span
        for i in range(span):
            candidate = ipaddress.IPv4Address(first + (pick + i) % span)
            if candidate not in (network.gateway, network.dns):
                return candidate
        return ipaddress.IPv4Address(first)

    def _lease_fire(self, what: str) -> None:
        if self.link is None:
            return
        ap = self.environment.find(self.link["bssid"]) if self.environment else None
        net = self.environment.network_of(ap) if ap is not None else None
        if what in ("discover", "renew"):
            if net is None or not net.dhcp:
                if what == "renew":          # no server answers: the lease runs out at its end
                    self.lease.start(self.regs.LEASE_SECONDS.value * PS_PER_SECOND // 2, "expire")
                    return
                delay = DHCP_RETRY_PS[min(self.dhcp_attempt, len(DHCP_RETRY_PS) - 1)]
                self.dhcp_attempt += 1
                self.lease.start(delay, "discover")
                return
            address = self.dhcp_address(net)
            self._set_ip(int(address), int(net.subnet.netmask), int(net.gateway), int(net.dns), lease=DHCP_LEASE_S)
        elif what == "expire":
            self._clear_ip(notify=True)
            self.lease.start(0, "discover")

    def _set_ip(self, address: int, mask: int, gateway: int, dns: int, lease: int) -> None:
        regs = self.regs
        changed = regs.IP_ADDR.value != address
        regs.IP_ADDR.value, regs.IP_MASK.value, regs.IP_GATEWAY.value, regs.IP_DNS.value = (
            address, mask, gateway, dns)
        regs.LEASE_SECONDS.value = lease
        if lease:
            self.lease.start(lease * PS_PER_SECOND // 2, "renew")       # T1 = half the lease (RFC 2131 4.4.5)
        if changed:
            self._raise(INT_IP_CHANGED)

    def _clear_ip(self, notify: bool) -> None:
        regs = self.regs
        had = regs.IP_ADDR.value
        for reg in (regs.IP_ADDR, regs.IP_MASK, regs.IP_GATEWAY, regs.IP_DNS, regs.LEASE_SECONDS):
            reg.value = 0
        self.lease.cancel()
        if notify and had:
            self._raise(INT_IP_CHANGED)

    # ---- following the environment while connected ----------------------------------------------------------------
    def _env_changed(self, what: str, ap) -> None:
        if self.link is not None:
            self._schedule_monitor()

    def _schedule_monitor(self) -> None:
        """Re-evaluate the link now (a change of the environment); losses take effect after the beacon-loss time."""
        if self.link is None or self.job is not None:
            return
        current = self.environment.find(self.link["bssid"]) if self.environment else None
        if current is None or current.signal_dbm < LOSS_DBM:
            if not self.monitor.armed:
                self.monitor.start(BEACON_LOSS_PS, "lost")
            return
        if (current.security != self.link["security"] or current.ssid != self.link["ssid"] or
                current.passphrase != self.link["passphrase"]):
            self.monitor.cancel()
            self._lose_link(REASON_PREV_AUTH_INVALID, CONNECTION_FAILED)
            return
        self.monitor.cancel()
        if (current.signal_dbm & 0xFFFFFFFF) != self.regs.LINK_RSSI.value:
            self.regs.LINK_RSSI.value = current.signal_dbm & 0xFFFFFFFF
            self._raise(INT_SIGNAL)
        if current.signal_dbm < ROAM_TRIGGER_DBM:
            better = self._roam_candidate(exclude=current.bssid, stronger_than=current.signal_dbm + ROAM_MARGIN_DB)
            if better is not None:
                self.monitor.start(PASSIVE_DWELL_PS, "roam")

    def _roam_candidate(self, exclude: bytes, stronger_than: int = SENSITIVITY_DBM) -> AccessPoint | None:
        for ap in self.heard(self.link["ssid"] if self.link["config"]["targeted"] else None):
            if ap.bssid != exclude and ap.ssid == self.link["ssid"] and ap.security == self.link["security"] and \
                    ap.signal_dbm >= stronger_than and ap.signal_dbm >= SENSITIVITY_DBM:
                return ap
        return None

    def _monitor_fire(self, what: str) -> None:
        if self.link is None or self.job is not None:
            return
        current = self.environment.find(self.link["bssid"]) if self.environment else None
        if what == "lost":
            if current is not None and current.signal_dbm >= LOSS_DBM:
                return
            self.stats["losses"] += 1
            candidate = self._roam_candidate(exclude=self.link["bssid"])
            if candidate is None:
                self._lose_link(REASON_INACTIVITY, CONNECTION_FAILED)
                return
            self._roam_to(candidate)
        elif what == "roam":
            if current is None:
                return self._monitor_fire("lost")
            candidate = self._roam_candidate(exclude=current.bssid,
                                             stronger_than=current.signal_dbm + ROAM_MARGIN_DB)
            if candidate is not None and current.signal_dbm < ROAM_TRIGGER_DBM:
                self._roam_to(candidate)

    def _roam_to(self, ap: AccessPoint) -> None:
        """Reassociate to another BSS of the ESS with the same configuration (a full handshake: no PMK caching)."""
        log.info("%s: roaming from %s to %s", self.name, format_mac(self.link["bssid"]), ap.bssid_text)
        config = dict(self.link["config"])
        self.job = dict(config, kind="connect", bssid=None, target=ap.bssid, roam=True, attempt=0)
        self.roam_pending = True
        self.step.start(AUTH_PS, "associate")

    def _lose_link(self, reason: int, failure: int) -> None:
        log.info("%s: link down (reason %d)", self.name, reason)
        self.link = None
        self.monitor.cancel()
        self.roam_pending = False
        self._clear_ip(notify=True)
        self.regs.LINK_REASON.value = self.regs.LINK_REASON.encode(REASON=reason, FAILURE=failure)
        for reg in (self.regs.LINK_RSSI, self.regs.LINK_FREQ, self.regs.LINK_BSSID_LO, self.regs.LINK_BSSID_HI):
            reg.value = 0
        self._set_state(LS_IDLE)
        self._raise(INT_LINK_DOWN)

    def _leave(self, reason: int, failure: int) -> int:
        """The station leaves (deauthentication with `reason`)."""
        if self.link is None:
            return 0
        self._lose_link(reason, failure)
        return reason

    # ---- the step dispatcher --------------------------------------------------------------------------------------
    def _step(self, what: str) -> None:
        if self.job is None:
            return
        {"scan_done": self._scan_done, "select": self._select, "associate": self._associate,
         "associated": self._associated, "eapol": self._eapol, "eap": self._eap, "keys": self._keys}[what]()

    # ---- inspection -----------------------------------------------------------------------------------------------
    @property
    def link_state(self) -> str:
        return LINK_STATE_NAMES[self.regs.LINK_STATE.STATE]

    @property
    def ip_address(self) -> ipaddress.IPv4Address | None:
        value = self.regs.IP_ADDR.value
        return ipaddress.IPv4Address(value) if value else None
