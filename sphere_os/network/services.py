"""The Applibs services for networking, as device nodes libapplibs talks to (emulator-defined transport: on the
device libapplibs reaches OS daemons over sockets; here one node per library, requests by ioctl):

    /dev/azure-sphere/wificonfig     WifiConfig_*   (manifest: WifiConfig; EnterpriseWifiConfig for EAP-TLS parts)
    /dev/azure-sphere/networking     Networking_*   (NetworkConfig for changes, TimeSyncConfig for time sync)
    /dev/azure-sphere/certstore      CertStore_*    (manifest: CertStore)

Every request is ioctl(fd, REQUEST(op), struct azs_request *) with
    struct azs_request { int32_t id; uint32_t attr; uint32_t value; uint32_t reserved;
                         struct { uint32_t ptr, len; } buf[4]; }                       /* 48 bytes */
REQUEST(op) = _IOWR('w' | 'n' | 'c', op, struct azs_request) per node. The result is the ioctl's return value (>= 0)
or -errno; pointers are followed with the kernel's checks (EFAULT for a bad one). The ops and their arguments are
listed in docs/wifi.md, "The Applibs transport". A request that needs a capability the manifest does not grant is
EACCES, as the API reference says.
"""
from __future__ import annotations

import calendar
import datetime as _dt
import ipaddress
import struct

from mt3620.engine.linux.abi import EACCES, EAGAIN, EFAULT, EINVAL, ENODEV, ENOENT, ENOTCONN, ERANGE, ENOBUFS
from mt3620.engine.linux.devices import DeviceFile
from mt3620.engine.linux.errors import LinuxError
from mt3620.engine.linux.waiting import BLOCKED, Block

from . import wifi as w
from .certstore import MAX_IDENTIFIER, check_identifier

REQUEST = struct.Struct("<iIII8I")
WIFI_MAGIC = {"stored": 0xB22E0000, "connected": 0x09EF0000, "scanned": 0x7EB10000}
INTERFACE_MAGIC = 0xFA9A0000
IPCONFIG_MAGIC = 0x31435049             # "IPC1": the library's layout inside the opaque Networking_IpConfig


def request_number(node: str, op: int) -> int:
    return (3 << 30) | (REQUEST.size << 16) | (ord(node) << 8) | op


# WifiConfig ops
(W_ADD, W_ADD_DUPLICATE, W_SET_OPT, W_GET_OPT, W_FORGET, W_FORGET_ALL, W_STORED_COUNT, W_GET_STORED, W_GET_CURRENT,
 W_CONNECTED_ID, W_SCAN, W_GET_SCANNED, W_ID_BY_NAME, W_STORE_OPEN, W_STORE_WPA2, W_FORGET_STORED) = range(1, 17)
# z__WifiConfig_Attribute
A_SSID, A_SECURITY, A_ENABLE, A_SAVE, A_RELOAD, A_PSK, A_IDENTITY, A_CLIENT_CERT, A_ROOT_CA = range(9)
A_TARGETED, A_CONFIG_NAME, A_DIAG32, A_DIAG64 = 11, 12, 22, 23
# Networking ops
(N_IS_READY, N_IF_COUNT, N_GET_IFS, N_IF_STATUS, N_SET_IF_STATE, N_IP_APPLY, N_TIMESYNC_SET, N_TIMESYNC_GET,
 N_NTP_DEFAULT, N_NTP_AUTOMATIC, N_NTP_CUSTOM, N_LAST_NTP, N_GET_IF_OPT) = range(1, 14)
# CertStore ops
(C_INSTALL_CLIENT, C_INSTALL_ROOT, C_DELETE, C_COUNT, C_ID_AT, C_AVAILABLE, C_INFO, C_MOVE) = range(1, 9)
CERT_INFO_NOT_BEFORE, CERT_INFO_NOT_AFTER, CERT_INFO_SUBJECT, CERT_INFO_ISSUER = 1, 2, 3, 4
TM = struct.Struct("<9iii")                  # musl's struct tm on 32-bit ARM: 9 ints, long gmtoff, char *zone


class Request:
    def __init__(self, memory, address: int) -> None:
        self.memory, self.address = memory, address
        raw = memory.read(address, REQUEST.size)
        fields = REQUEST.unpack(raw)
        self.id, self.attr, self.value = fields[0], fields[1], fields[2]
        self.bufs = [(fields[4 + 2 * i], fields[5 + 2 * i]) for i in range(4)]

    def data(self, i: int, limit: int = 1 << 16) -> bytes:
        ptr, length = self.bufs[i]
        if not ptr:
            raise LinuxError(EFAULT)
        if length > limit:
            raise LinuxError(ERANGE)
        return self.memory.read(ptr, length) if length else b""

    def string(self, i: int, limit: int) -> str:
        """A NUL-terminated string of at most `limit` bytes (ERANGE when longer or unterminated)."""
        ptr, _ = self.bufs[i]
        if not ptr:
            raise LinuxError(EFAULT)
        out = bytearray()
        while len(out) <= limit:
            chunk = self.memory.read(ptr + len(out), 1)
            if chunk == b"\0":
                return out.decode("utf-8", "surrogateescape")
            out += chunk
        raise LinuxError(ERANGE)

    def present(self, i: int) -> bool:
        return bool(self.bufs[i][0])

    def out(self, i: int, data: bytes) -> None:
        ptr, capacity = self.bufs[i]
        if not ptr:
            raise LinuxError(EFAULT)
        if len(data) > capacity:
            raise LinuxError(ERANGE)
        self.memory.write(ptr, data)


def _capabilities(ctx) -> dict:
    app = getattr(getattr(ctx, "process", None), "app", None)
    return app.manifest.raw_capabilities if app is not None else None


class ServiceFile(DeviceFile):
    NODE = "?"
    OPS: dict = {}

    def __init__(self, ctx, netos) -> None:
        super().__init__(ctx)
        self.netos = netos
        self.pending = None

    def granted(self, *names: str) -> bool:
        caps = _capabilities(self.context)
        if caps is None:
            return True                    # not an app (the OS itself, a test program without a manifest)
        return any(caps.get(name) is True for name in names)

    def need(self, *names: str) -> None:
        if not self.granted(*names):
            raise LinuxError(EACCES)

    def ioctl(self, request: int, arg: int, memory):
        for op, handler in self.OPS.items():
            if request == request_number(self.NODE, op):
                req = Request(memory, arg)
                return handler(self, req)
        return super().ioctl(request, arg, memory)


# ---- WifiConfig ---------------------------------------------------------------------------------------------------------
def _one_byte(req) -> int:
    """A one-byte attribute (security type, a flag) of a WifiConfig call; any other length is EINVAL."""
    data = req.data(0)
    if len(data) != 1:
        raise LinuxError(EINVAL)
    return data[0]


def _check_version(version: int) -> None:
    if version != 1:
        raise LinuxError(EINVAL)


class WifiConfigFile(ServiceFile):
    NODE = "w"

    @property
    def wifi(self) -> w.WifiService:
        return self.netos.wifi

    def add(self, req):
        self.need("WifiConfig")
        return self.wifi.add()

    def add_duplicate(self, req):
        self.need("WifiConfig")
        name = req.string(0, 16)
        if not name:
            raise LinuxError(ERANGE)
        return self.wifi.add_duplicate(req.id, name)

    def set_opt(self, req):
        attr = req.attr
        enterprise = attr in (A_IDENTITY, A_CLIENT_CERT, A_ROOT_CA)
        if enterprise:
            self.need("EnterpriseWifiConfig")
        else:
            self.need("WifiConfig", "EnterpriseWifiConfig")
        wifi = self.wifi
        if attr == A_SAVE:
            wifi.persist()
            return 0
        if attr == A_RELOAD:
            wifi.reload()
            return 0
        if attr == A_SSID:
            data = req.data(0, limit=1 << 10)
            if not 1 <= len(data) <= 32:
                raise LinuxError(ERANGE)
            wifi.entry(req.id)
            wifi.configure(req.id, ssid=data)
        elif attr == A_SECURITY:
            security = _one_byte(req)
            if security not in (w.SECURITY_OPEN, w.SECURITY_PSK, w.SECURITY_EAP_TLS):
                raise LinuxError(EINVAL)
            if security == w.SECURITY_EAP_TLS:
                self.need("EnterpriseWifiConfig")
            wifi.entry(req.id)
            wifi.configure(req.id, security=security)
        elif attr == A_ENABLE:
            enabled = bool(_one_byte(req))
            wifi.entry(req.id)
            wifi.configure(req.id, enabled=enabled)
        elif attr == A_PSK:
            data = req.data(0, limit=1 << 10)
            if len(data) > 64:
                raise LinuxError(ERANGE)
            wifi.entry(req.id)
            if data and not (len(data) == 64 and all(chr(b) in "0123456789abcdefABCDEF" for b in data)) and \
                    not (8 <= len(data) <= 63 and all(0x20 <= b <= 0x7E for b in data)):
                raise LinuxError(EINVAL)
            wifi.configure(req.id, psk=data.decode("latin-1"))
        elif attr == A_TARGETED:
            targeted = bool(_one_byte(req))
            wifi.entry(req.id)
            wifi.configure(req.id, targeted_scan=targeted)
        elif attr == A_CONFIG_NAME:
            name = req.string(0, 16)
            wifi.entry(req.id)
            wifi.configure(req.id, config_name=name)
        elif attr == A_IDENTITY:
            identity = req.string(0, 254)
            wifi.entry(req.id)
            wifi.configure(req.id, identity=identity)
        elif attr in (A_CLIENT_CERT, A_ROOT_CA):
            ident = req.string(0, MAX_IDENTIFIER)
            wifi.entry(req.id)
            wifi.configure(req.id, **{"client_cert_id" if attr == A_CLIENT_CERT else "root_ca_id": ident})
        else:
            raise LinuxError(EINVAL)
        return 0

    def get_opt(self, req):
        attr = req.attr
        if attr in (A_IDENTITY, A_CLIENT_CERT, A_ROOT_CA):
            self.need("EnterpriseWifiConfig")
        else:
            self.need("WifiConfig", "EnterpriseWifiConfig")
        net = self.wifi.entry(req.id)
        if attr == A_IDENTITY:
            data = net.identity.encode() + b"\0"
        elif attr == A_CLIENT_CERT:
            data = net.client_cert_id.encode() + b"\0"
        elif attr == A_ROOT_CA:
            data = net.root_ca_id.encode() + b"\0"
        elif attr == A_CONFIG_NAME:
            data = net.config_name.encode() + b"\0"
        elif attr in (A_DIAG64, A_DIAG32):
            diag = net.diagnostics
            if diag is None:
                raise LinuxError(ENODEV)
            subject = diag.cert_subject.encode()[:300].ljust(301, b"\0")
            if attr == A_DIAG64:
                data = struct.pack("<BB2xiqii", net.enabled, req.id == self.wifi.connected_index, diag.error,
                                   diag.timestamp, diag.cert_error, diag.cert_depth) + subject
            else:
                data = struct.pack("<BB2xiiii", net.enabled, req.id == self.wifi.connected_index, diag.error,
                                   diag.timestamp & 0xFFFFFFFF, diag.cert_error, diag.cert_depth) + subject
        else:
            raise LinuxError(EINVAL)
        ptr, capacity = req.bufs[0]
        if not ptr and capacity == 0:
            return len(data)
        req.out(0, data)
        return len(data)

    def forget(self, req):
        self.need("WifiConfig")
        self.wifi.forget(req.id)
        return 0

    def forget_all(self, req):
        self.need("WifiConfig")
        self.wifi.forget_all()
        return 0

    def stored_count(self, req):
        self.need("WifiConfig")
        return len(self.wifi.networks)

    def _stored_record(self, index: int, net: w.StoredNetwork) -> bytes:
        return struct.pack("<I32sB??B", WIFI_MAGIC["stored"] | 1, net.ssid.ljust(32, b"\0"), len(net.ssid),
                           net.enabled, index == self.wifi.connected_index, net.security)

    def _write_records(self, req, records: list[bytes]) -> int:
        """An array-returning WifiConfig call: the caller's buffer holds `count` records; as many as fit are written
        and their number returned (EFAULT for no buffer, ERANGE for room for none, as the device answers)."""
        self.need("WifiConfig")
        _check_version(req.value)
        ptr, count = req.bufs[0]
        if not ptr:
            raise LinuxError(EFAULT)
        if count == 0:
            raise LinuxError(ERANGE)
        records = records[:count]
        if records:
            req.memory.write(ptr, b"".join(records))
        return len(records)

    def get_stored(self, req):
        return self._write_records(req, [self._stored_record(i, n) for i, n in enumerate(self.wifi.networks)])

    def get_current(self, req):
        self.need("WifiConfig")
        _check_version(req.value)
        ptr, _ = req.bufs[0]
        if not ptr:
            raise LinuxError(EFAULT)
        current = self.wifi.current()
        if current is None:
            raise LinuxError(ENOTCONN)
        record = struct.pack("<I32s6sBBIb3x", WIFI_MAGIC["connected"] | 1, current["ssid"].ljust(32, b"\0"),
                             current["bssid"], len(current["ssid"]), current["security"],
                             current["frequency_mhz"], current["signal_dbm"])
        req.memory.write(ptr, record)
        return 0

    def connected_id(self, req):
        self.need("WifiConfig")
        if self.wifi.connected_index is None:
            raise LinuxError(ENOTCONN)
        return self.wifi.connected_index

    def scan(self, req):
        self.need("WifiConfig")
        if not self.wifi.enabled:
            raise LinuxError(100)          # ENETDOWN: the interface is disabled
        box: list[int] = []

        def done(count: int) -> None:
            box.append(count)
            self.changed()
        self.wifi.scan(done)
        return Block(lambda: box[0] if box else BLOCKED, [self], what="WifiConfig scan", interruptible=True)

    def get_scanned(self, req):
        return self._write_records(req, [
            struct.pack("<I32s6sBBIb3x", WIFI_MAGIC["scanned"] | 1, s.ssid.ljust(32, b"\0"), s.bssid, len(s.ssid),
                        s.security, s.frequency_mhz, s.signal_dbm) for s in self.wifi.scan_results])

    def id_by_name(self, req):
        self.need("WifiConfig")
        return self.wifi.find_by_name(req.string(0, 16))

    def store_open(self, req):
        self.need("WifiConfig")
        ssid = req.data(0, 1 << 10)
        if not 1 <= len(ssid) <= 32:
            raise LinuxError(ERANGE)
        if any(n.ssid == ssid and n.security == w.SECURITY_OPEN for n in self.wifi.networks):
            raise LinuxError(17)           # EEXIST
        self.wifi.add(w.StoredNetwork(ssid=ssid, security=w.SECURITY_OPEN, enabled=True))
        self.wifi.persist()
        return 0

    def store_wpa2(self, req):
        self.need("WifiConfig")
        ssid, psk = req.data(0, 1 << 10), req.data(1, 1 << 10)
        if not 1 <= len(ssid) <= 32 or not 1 <= len(psk) <= 64:
            raise LinuxError(ERANGE)
        if any(n.ssid == ssid and n.security == w.SECURITY_PSK for n in self.wifi.networks):
            raise LinuxError(17)           # EEXIST
        self.wifi.add(w.StoredNetwork(ssid=ssid, security=w.SECURITY_PSK, psk=psk.decode("latin-1"), enabled=True))
        self.wifi.persist()
        return 0

    def forget_stored(self, req):
        self.need("WifiConfig")
        raw = req.data(0, 64)
        if len(raw) < 40:
            raise LinuxError(EINVAL)
        magic, ssid, length, _, _, security = struct.unpack_from("<I32sB??B", raw)
        if magic != WIFI_MAGIC["stored"] | 1 or length > 32:
            raise LinuxError(EINVAL)
        for index, net in enumerate(self.wifi.networks):
            if net.ssid == ssid[:length] and net.security == security:
                self.wifi.forget(index)
                self.wifi.persist()
                return 0
        raise LinuxError(ENOENT)

    OPS = {W_ADD: add, W_ADD_DUPLICATE: add_duplicate, W_SET_OPT: set_opt, W_GET_OPT: get_opt, W_FORGET: forget,
           W_FORGET_ALL: forget_all, W_STORED_COUNT: stored_count, W_GET_STORED: get_stored,
           W_GET_CURRENT: get_current, W_CONNECTED_ID: connected_id, W_SCAN: scan, W_GET_SCANNED: get_scanned,
           W_ID_BY_NAME: id_by_name, W_STORE_OPEN: store_open, W_STORE_WPA2: store_wpa2,
           W_FORGET_STORED: forget_stored}


# ---- Networking -------------------------------------------------------------------------------------------------------
INTERFACES = (("wlan0", 1), )            # (name, Networking_InterfaceMedium); eth0 exists only with a shield


class NetworkingFile(ServiceFile):
    NODE = "n"

    @property
    def wifi(self) -> w.WifiService:
        return self.netos.wifi

    def _interface(self, req, i=0) -> str:
        name = req.string(i, 15)
        if name not in {n for n, _ in INTERFACES}:
            raise LinuxError(ENOENT)
        return name

    def is_ready(self, req):
        return 1 if self.wifi.networking_ready() else 0

    def if_count(self, req):
        return len(INTERFACES)

    def get_ifs(self, req):
        _check_version(req.value)
        ptr, count = req.bufs[0]
        if not ptr:
            raise LinuxError(EFAULT)
        if count == 0:
            raise LinuxError(ERANGE)
        records = []
        for name, medium in INTERFACES[:count]:
            dhcp = 0 if self.wifi.ip_config.static is not None else 1
            records.append(struct.pack("<I?16s3xIBB2x", INTERFACE_MAGIC | 1, self.wifi.enabled,
                                       name.encode().ljust(16, b"\0"), len(name), dhcp, medium))
        req.memory.write(ptr, b"".join(records))
        return len(records)

    def if_status(self, req):
        self._interface(req)
        return self.wifi.status()

    def set_if_state(self, req):
        self.need("NetworkConfig")
        self._interface(req)
        self.wifi.set_enabled(bool(req.value))
        return 0

    def ip_apply(self, req):
        self.need("NetworkConfig")
        self._interface(req)
        raw = req.data(1, 64)
        if len(raw) < 32:
            raise LinuxError(EFAULT)
        magic, static, custom, count, address, mask, gateway = struct.unpack_from("<IBBBx4s4s4s", raw)
        if magic != IPCONFIG_MAGIC:
            raise LinuxError(EINVAL)        # not initialised with Networking_IpConfig_Init
        servers = [ipaddress.IPv4Address(raw[20 + 4 * i:24 + 4 * i]) for i in range(min(count, 3))] if custom else []
        config = w.IpConfig(
            static=(ipaddress.IPv4Address(address), ipaddress.IPv4Address(mask), ipaddress.IPv4Address(gateway))
            if static else None, dns=servers)
        self.wifi.apply_ip_config(config)
        return 0

    def timesync_set(self, req):
        self.need("TimeSyncConfig")
        self.wifi.set_time_sync(bool(req.value))
        return 0

    def timesync_get(self, req):
        self.need("TimeSyncConfig")
        return 1 if self.wifi.time_sync_enabled else 0

    def ntp_default(self, req):
        self.need("TimeSyncConfig")
        self.netos.ntp_servers = []
        return 0

    def ntp_automatic(self, req):
        self.need("TimeSyncConfig")
        if req.value not in (0, 1):
            raise LinuxError(EINVAL)
        self.netos.ntp_servers = ["(from DHCP)"]
        return 0

    def ntp_custom(self, req):
        self.need("TimeSyncConfig")
        if req.value not in (0, 1):
            raise LinuxError(EINVAL)
        primary = req.string(0, 253)
        if not primary:
            raise LinuxError(EINVAL)
        secondary = req.string(1, 253) if req.present(1) else None
        self.netos.ntp_servers = [primary] + ([secondary] if secondary else [])
        return 0

    def last_ntp(self, req):
        if not self.wifi.time_synced:
            raise LinuxError(ENOENT)
        server = (self.netos.ntp_servers[0] if self.netos.ntp_servers else "time.sphere.azure.net").encode() + b"\0"
        ptr, capacity = req.bufs[0]
        if ptr:
            if capacity < len(server):
                req.memory.write(req.bufs[1][0], struct.pack("<I", len(server))) if req.bufs[1][0] else None
                raise LinuxError(ENOBUFS)
            req.memory.write(ptr, server)
        when = _dt.datetime.fromtimestamp(self.wifi.last_sync[0] / 1e9, _dt.timezone.utc)
        for i in (2, 3):
            if req.bufs[i][0]:
                req.memory.write(req.bufs[i][0], _pack_tm(when))
        return len(server)

    def get_if_opt(self, req):
        self._interface(req)
        if req.attr != 1:                   # z__Networking_Attribute_Hardware_Address
            raise LinuxError(EINVAL)
        mac = self.wifi.driver.mac
        ptr, capacity = req.bufs[1]
        if not ptr and capacity == 0:
            return len(mac)
        req.out(1, mac)
        return len(mac)

    OPS = {N_IS_READY: is_ready, N_IF_COUNT: if_count, N_GET_IFS: get_ifs, N_IF_STATUS: if_status,
           N_SET_IF_STATE: set_if_state, N_IP_APPLY: ip_apply, N_TIMESYNC_SET: timesync_set,
           N_TIMESYNC_GET: timesync_get, N_NTP_DEFAULT: ntp_default, N_NTP_AUTOMATIC: ntp_automatic,
           N_NTP_CUSTOM: ntp_custom, N_LAST_NTP: last_ntp, N_GET_IF_OPT: get_if_opt}


def _pack_tm(when: _dt.datetime) -> bytes:
    return TM.pack(when.second, when.minute, when.hour, when.day, when.month - 1, when.year - 1900,
                   (when.weekday() + 1) % 7, when.timetuple().tm_yday - 1, 0, 0, 0)


# ---- CertStore --------------------------------------------------------------------------------------------------------
class CertStoreFile(ServiceFile):
    NODE = "c"

    @property
    def store(self):
        return self.netos.certstore

    def _identifier(self, req, i=0) -> str:
        ptr, _ = req.bufs[i]
        if not ptr:
            raise LinuxError(EFAULT)
        ident = req.string(i, 64)
        check_identifier(ident)
        return ident

    def install_client(self, req):
        self.need("CertStore")
        ident = self._identifier(req)
        cert, key = req.data(1, 1 << 14), req.data(2, 1 << 14)
        password = None
        if req.present(3):
            password = req.string(3, 256)
        self.store.install_client(ident, cert, key, password)
        return 0

    def install_root(self, req):
        self.need("CertStore")
        ident = self._identifier(req)
        self.store.install_root(ident, req.data(1, 1 << 14))
        return 0

    def delete(self, req):
        self.need("CertStore")
        ptr, _ = req.bufs[0]
        if not ptr:
            raise LinuxError(EFAULT)
        self.store.delete(req.string(0, 64))
        return 0

    def count(self, req):
        self.need("CertStore")
        return len(self.store.identifiers())

    def id_at(self, req):
        self.need("CertStore")
        ids = self.store.identifiers()
        if not 0 <= req.value < len(ids):
            raise LinuxError(ERANGE)
        ptr, _ = req.bufs[0]
        if not ptr:
            raise LinuxError(EFAULT)
        req.memory.write(ptr, ids[req.value].encode().ljust(MAX_IDENTIFIER + 1, b"\0"))
        return 0

    def available(self, req):
        self.need("CertStore")
        return self.store.available()

    def info(self, req):
        self.need("CertStore")
        ptr, _ = req.bufs[0]
        if not ptr or not req.bufs[1][0]:
            raise LinuxError(EFAULT)
        entry = self.store.get(req.string(0, 64))
        if entry is None:
            raise LinuxError(ENOENT)
        try:
            cert = entry.parsed()
        except ValueError:
            raise LinuxError(EINVAL) from None
        if req.attr in (CERT_INFO_SUBJECT, CERT_INFO_ISSUER):
            name = (cert.subject if req.attr == CERT_INFO_SUBJECT else cert.issuer).rfc4514_string().encode()[:300]
            data = name.ljust(301, b"\0")
        elif req.attr in (CERT_INFO_NOT_BEFORE, CERT_INFO_NOT_AFTER):
            when = cert.not_valid_before_utc if req.attr == CERT_INFO_NOT_BEFORE else cert.not_valid_after_utc
            data = _pack_tm(when)
        else:
            raise LinuxError(EINVAL)
        req.memory.write(req.bufs[1][0], data[:req.bufs[1][1]])
        return 0

    def move(self, req):
        self.need("CertStore")
        if not req.bufs[0][0] or not req.bufs[1][0]:
            raise LinuxError(EFAULT)
        source, dest = req.string(0, 64), req.string(1, 64)
        self.store.move(source, dest)
        return 0

    OPS = {C_INSTALL_CLIENT: install_client, C_INSTALL_ROOT: install_root, C_DELETE: delete, C_COUNT: count,
           C_ID_AT: id_at, C_AVAILABLE: available, C_INFO: info, C_MOVE: move}


NODES = {"/dev/azure-sphere/wificonfig": WifiConfigFile, "/dev/azure-sphere/networking": NetworkingFile,
         "/dev/azure-sphere/certstore": CertStoreFile}

_ = (EAGAIN, calendar)
