"""The device API's Wi-Fi routes (`azsphere device wifi ...`): the board's stored networks, its wireless interface
and scans, as the OS's Wi-Fi service (sphere_os/network/wifi.py) holds them.

Paths and JSON fields follow the real device's REST API (Azure/azure-sphere-gallery, DeviceRestAPIs README):

    GET    /wifi/config/networks            {"values": [network, ...]}                      (`wifi list`)
    POST   /wifi/config/networks            body: a network -> the network                 (`wifi add`)
    GET    /wifi/config/networks/<id>       the network                                    (`wifi show`)
    PATCH  /wifi/config/networks/<id>       {"configState": "enabled" | "disabled"}       (`wifi enable/disable`)
    DELETE /wifi/config/networks/<id>       {}                                             (`wifi forget`)
    GET    /wifi/interface                  the interface's state                          (`wifi show-status`)
    GET    /wifi/scan                       {"values": [{bssid, freq, signal_level, ssid, securityState}]}
    POST   /wifi/config/reload              {} (emulator-defined path)                    (`wifi reload-config`)

A network: {id, ssid, configState, connectionState, securityState, targetedScan, configName, clientIdentity,
clientCertStoreIdentifier, rootCaStoreIdentifier}. Changes made here are persisted at once (the CLI's changes survive
a restart, as on the device): they go to the board's flash through the Wi-Fi service's store.
"""
from __future__ import annotations

import string
from typing import Callable

from mt3620.engine.linux.errors import LinuxError

from .app_manager import AppError

SECURITY_STATES = {0: "unknown", 1: "open", 2: "psk", 3: "eaptls"}
SECURITY_CODES = {"open": 1, "psk": 2, "eaptls": 3}
KEY_MGMT = {1: "NONE", 2: "WPA2-PSK", 3: "WPA-EAP"}
# Limits of the public WifiConfig / CertStore headers (applibs/wificonfig.h, applibs/certstore.h).
SSID_MAX_BYTES = 32
CONFIG_NAME_MAX = 16
IDENTITY_MAX = 254
CERT_ID_MAX = 16
NETWORK_FIELDS = {"ssid", "psk", "securityState", "configState", "targetedScan", "configName", "clientIdentity",
                  "clientCertStoreIdentifier", "rootCaStoreIdentifier"}


def _bad(field: str, why: str) -> AppError:
    return AppError("bad-request", f"{field}: {why}")


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def _mac(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


def valid_psk(psk: str) -> bool:
    """WPA2: 8-63 printable ASCII characters, or 64 hex digits (the raw key)."""
    if len(psk) == 64:
        return all(c in string.hexdigits for c in psk)
    return 8 <= len(psk) <= 63 and all(" " <= c <= "~" for c in psk)


class WifiRoutes:
    def __init__(self, device) -> None:
        self.device = device

    @property
    def wifi(self):
        network = getattr(self.device, "network", None)
        if network is None:
            raise AppError("no-wifi", "this board has no Wi-Fi (no wifi_hif block on its platform)")
        return network.wifi

    def _index(self, text: str) -> int:
        if not text.isdigit():
            raise _bad("id", f"{text!r} is not a network ID (a number from `azsphere device wifi list`)")
        index = int(text)
        if index >= len(self.wifi.networks):
            raise AppError("no-such-network", f"no stored Wi-Fi network with ID {index}")
        return index

    def _save(self) -> None:
        try:
            self.wifi.persist()
        except LinuxError:
            raise AppError("network-incomplete", "a stored network has no SSID (an app added it and has not "
                                                 "configured it): nothing was saved") from None

    # ---- stored networks --------------------------------------------------------------------------------------------
    def network_json(self, index: int) -> dict:
        wifi = self.wifi
        net = wifi.networks[index]
        return {"id": index, "ssid": _text(net.ssid), "configState": "enabled" if net.enabled else "disabled",
                "connectionState": "connected" if wifi.connected_index == index else "disconnected",
                "securityState": SECURITY_STATES.get(net.security, "unknown"), "targetedScan": net.targeted_scan,
                "configName": net.config_name, "clientIdentity": net.identity,
                "clientCertStoreIdentifier": net.client_cert_id, "rootCaStoreIdentifier": net.root_ca_id}

    def list(self) -> dict:
        return {"values": [self.network_json(i) for i in range(len(self.wifi.networks))]}

    def show(self, ident: str) -> dict:
        return self.network_json(self._index(ident))

    def add(self, body) -> dict:
        from .network import StoredNetwork
        if not isinstance(body, dict):
            raise _bad("body", "must be a JSON object")
        unknown = sorted(set(body) - NETWORK_FIELDS)
        if unknown:
            raise _bad(unknown[0], f"unknown field (fields: {', '.join(sorted(NETWORK_FIELDS))})")

        def text(field: str, limit: int) -> str:
            value = body.get(field, "")
            if not isinstance(value, str):
                raise _bad(field, "must be a string")
            if len(value.encode()) > limit:
                raise _bad(field, f"at most {limit} bytes")
            return value

        ssid = body.get("ssid")
        if not isinstance(ssid, str) or not 1 <= len(ssid.encode()) <= SSID_MAX_BYTES:
            raise _bad("ssid", f"required, 1-{SSID_MAX_BYTES} bytes")
        psk = body.get("psk")
        if psk is not None and (not isinstance(psk, str) or not valid_psk(psk)):
            raise _bad("psk", "must be 8-63 printable ASCII characters or 64 hex digits (WEP is not supported)")
        client_cert = text("clientCertStoreIdentifier", CERT_ID_MAX)
        security = body.get("securityState") or ("psk" if psk else "eaptls" if client_cert else "open")
        if security not in SECURITY_CODES:
            raise _bad("securityState", f"one of {', '.join(SECURITY_CODES)}")
        if security == "psk" and not psk:
            raise _bad("psk", "required for a psk network")
        if security != "psk" and psk:
            raise _bad("psk", f"not used by an {security} network")
        if security == "eaptls" and not client_cert:
            raise _bad("clientCertStoreIdentifier", "required for an eaptls network (the client certificate's ID "
                                                    "in the certificate store)")
        config_state = body.get("configState", "enabled")
        if config_state not in ("enabled", "disabled"):
            raise _bad("configState", "enabled or disabled")
        targeted = body.get("targetedScan", False)
        if not isinstance(targeted, bool):
            raise _bad("targetedScan", "must be true or false")
        config_name = text("configName", CONFIG_NAME_MAX)
        if config_name and any(n.config_name == config_name for n in self.wifi.networks):
            raise AppError("duplicate-config-name", f"a stored network is already named {config_name!r}")
        net = StoredNetwork(ssid=ssid.encode(), security=SECURITY_CODES[security], psk=psk or "",
                            enabled=config_state == "enabled", config_name=config_name,
                            identity=text("clientIdentity", IDENTITY_MAX), client_cert_id=client_cert,
                            root_ca_id=text("rootCaStoreIdentifier", CERT_ID_MAX), targeted_scan=targeted)
        try:
            index = self.wifi.add(net)
        except LinuxError:
            raise AppError("too-many-networks", "the device stores at most 64 Wi-Fi networks") from None
        try:
            self._save()
        except AppError:
            self.wifi.forget(index)
            raise
        return self.network_json(index)

    def patch(self, ident: str, body) -> dict:
        index = self._index(ident)
        if not isinstance(body, dict) or not body or set(body) - {"configState", "configName"}:
            raise _bad("body", 'give {"configState": "enabled" | "disabled"} and/or {"configName": NAME}')
        changes = {}
        if "configState" in body:
            if body["configState"] not in ("enabled", "disabled"):
                raise _bad("configState", "enabled or disabled")
            changes["enabled"] = body["configState"] == "enabled"
        if "configName" in body:
            name = body["configName"]
            if not isinstance(name, str) or len(name.encode()) > CONFIG_NAME_MAX:
                raise _bad("configName", f"a string of at most {CONFIG_NAME_MAX} bytes")
            if name and any(n.config_name == name for i, n in enumerate(self.wifi.networks) if i != index):
                raise AppError("duplicate-config-name", f"a stored network is already named {name!r}")
            changes["config_name"] = name
        self.wifi.configure(index, **changes)
        self._save()
        return self.network_json(index)

    def forget(self, ident: str) -> dict:
        index = self._index(ident)
        self.wifi.forget(index)
        self._save()
        return {}

    def reload(self) -> dict:
        self.wifi.reload()
        return {}

    # ---- the interface and scans ------------------------------------------------------------------------------------
    def interface(self) -> dict:
        wifi = self.wifi
        out = {"mode": "station", "address": _mac(wifi.driver.mac), "configState": "unknown",
               "connectionState": "disconnected", "securityState": "unknown"}
        current = wifi.current()
        if not wifi.enabled:
            out["wpa_state"] = "INTERFACE_DISABLED"
        elif current is None:
            out["wpa_state"] = "ASSOCIATING" if wifi.joining_index is not None else "SCANNING"
        else:
            net = wifi.networks[current["id"]]
            w = wifi.network.wlan
            out.update({"id": current["id"], "ssid": _text(net.ssid), "bssid": _mac(current["bssid"]),
                        "configState": "enabled" if net.enabled else "disabled", "connectionState": "connected",
                        "securityState": SECURITY_STATES.get(net.security, "unknown"),
                        "key_mgmt": KEY_MGMT.get(net.security, "NONE"), "wpa_state": "COMPLETED",
                        "freq": current["frequency_mhz"], "signal_level": current["signal_dbm"]})
            if w.has_ip:
                out["ip_address"] = str(w.address)
        return out

    def scan(self, answer: Callable[[dict | AppError], None]) -> None:
        """Start a scan; `answer(result)` runs when it is done (scans take virtual time)."""
        wifi = self.wifi

        def done(count: int) -> None:
            if count < 0:
                answer(AppError("wifi-busy", "the Wi-Fi device is not ready to scan; try again"))
                return
            answer({"values": [{"bssid": _mac(s.bssid), "freq": s.frequency_mhz, "signal_level": s.signal_dbm,
                                "ssid": _text(s.ssid), "securityState": SECURITY_STATES.get(s.security, "unknown")}
                               for s in wifi.scan_results]})
        wifi.scan(done)


class RadioRoutes:
    """The radio environment around the board (the emulator's, not the device's: docs/wifi.md's env file), changed
    while it runs: an AP appears, goes away or its signal drops; the Wi-Fi block follows at once.

        GET    /radio                          the environment as JSON (the env file's format, PEM inline)
        PUT    /radio                          a whole environment (replaces it; kept across the board's restarts)
        POST   /radio/access_points            an access point (as in the file)
        PATCH  /radio/access_points/<bssid>    fields of that AP, e.g. {"signal_dbm": -85}
        DELETE /radio/access_points/<bssid>    the AP goes away
    """

    def __init__(self, device) -> None:
        self.device = device

    def _network(self):
        network = getattr(self.device, "network", None)
        if network is None:
            raise AppError("no-wifi", "this board has no Wi-Fi (no wifi_hif block on its platform)")
        return network

    def _environment(self):
        env = self._network().environment
        if env is None:
            raise AppError("no-radio-environment", "the board has no radio environment: start it with --wifi-env "
                                                   "ENV.json or PUT /radio")
        return env

    @staticmethod
    def _checked(action):
        try:
            return action()
        except (ValueError, TypeError) as exc:          # EnvironmentError_ is a ValueError: field and reason
            raise AppError("bad-environment", str(exc)) from None

    def show(self) -> dict:
        network = self._network()
        return network.environment.to_dict() if network.environment is not None else {}

    def replace(self, body) -> dict:
        from mt3620.peripherals.wifi.environment import RadioEnvironment
        network = self._network()
        env = self._checked(lambda: RadioEnvironment.from_dict(body, source="PUT /radio"))
        network.set_environment(env)
        self.device.wifi_env = env                 # the room stays as it is across the board's restarts
        return env.to_dict()

    @staticmethod
    def _ap_json(env, ap) -> dict:
        return env.to_dict()["access_points"][env.access_points.index(ap)]

    def add(self, body) -> dict:
        env = self._environment()
        if not isinstance(body, dict):
            raise AppError("bad-request", "body: must be a JSON object (an access point)")
        return self._ap_json(env, self._checked(lambda: env.add(body)))

    def update(self, bssid: str, body) -> dict:
        env = self._environment()
        if not isinstance(body, dict) or not body:
            raise AppError("bad-request", "body: give the fields to change, e.g. {\"signal_dbm\": -85}")
        return self._ap_json(env, self._checked(lambda: env.update(bssid, **body)))

    def remove(self, bssid: str) -> dict:
        env = self._environment()
        self._checked(lambda: env.remove(bssid))
        return {}


class CertRoutes:
    """The board's certificate store (`azsphere device certificate ...`; EAP-TLS networks use it), kept in its flash:

        GET    /certstore/certs                 {"identifiers": [...]}                          (`certificate list`)
        GET    /certstore/certs/<id>            {id, notBefore, notAfter, subjectName, issuerName} (`show`)
        POST   /certstore/certs/<id>            {"certType": "rootca" | "client", "publicCert": PEM,
                                                 "privateKey": PEM, "password": text}          (`certificate add`)
        DELETE /certstore/certs/<id>            {}                                               (`delete`)
        GET    /certstore/space                 {"AvailableSpace": bytes}                     (`show-quota`)

    Paths and answers follow the real device's REST API; the POST body's fields are the emulator's.
    """

    def __init__(self, device) -> None:
        self.device = device

    @property
    def store(self):
        network = getattr(self.device, "network", None)
        if network is None:
            raise AppError("no-wifi", "this board has no Wi-Fi (no wifi_hif block on its platform)")
        return network.certstore

    @staticmethod
    def _refused(exc: LinuxError, identifier: str) -> AppError:
        from mt3620.engine.linux.abi import EINVAL, ENOENT, ENOSPC, ERANGE
        errno = exc.errno
        if errno == ENOENT:
            return AppError("no-such-certificate", f"no certificate {identifier!r} in the certificate store")
        if errno == ENOSPC:
            return AppError("certstore-full", "the certificate store has no room for it (`certificate show-quota`)")
        if errno == ERANGE:
            return AppError("bad-request", "too long: an ID is at most 16 characters, a certificate or key at most "
                                           "8192 bytes, a password at most 256")
        if errno == EINVAL:
            return AppError("bad-request", "not accepted: an ID is A-Z a-z 0-9 . - _; the certificate must be PEM; "
                                           "the key PEM, with its password when it is encrypted (and only then)")
        return AppError("bad-request", f"refused by the certificate store (errno {errno})")

    def list(self) -> dict:
        return {"identifiers": self.store.identifiers()}

    def show(self, identifier: str) -> dict:
        entry = self.store.get(identifier)
        if entry is None:
            raise AppError("no-such-certificate", f"no certificate {identifier!r} in the certificate store")
        cert = entry.parsed()
        return {"id": identifier, "certType": "client" if entry.kind == "client" else "rootca",
                "notBefore": cert.not_valid_before_utc.strftime("%Y-%m-%dT%H:%M:%S"),
                "notAfter": cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%S"),
                "subjectName": cert.subject.rfc4514_string(), "issuerName": cert.issuer.rfc4514_string()}

    def add(self, identifier: str, body) -> dict:
        if not isinstance(body, dict):
            raise _bad("body", "must be a JSON object")
        unknown = sorted(set(body) - {"certType", "publicCert", "privateKey", "password"})
        if unknown:
            raise _bad(unknown[0], "unknown field (fields: certType, publicCert, privateKey, password)")
        kind, cert = body.get("certType"), body.get("publicCert")
        if kind not in ("rootca", "client"):
            raise _bad("certType", "rootca or client")
        if not isinstance(cert, str) or not cert:
            raise _bad("publicCert", "required: the certificate as PEM text")
        key, password = body.get("privateKey"), body.get("password")
        if kind == "client" and (not isinstance(key, str) or not key):
            raise _bad("privateKey", "required for a client certificate: the private key as PEM text")
        if kind == "rootca" and (key is not None or password is not None):
            raise _bad("privateKey", "a root CA certificate has no private key")
        if password is not None and not isinstance(password, str):
            raise _bad("password", "must be a string")
        try:
            if kind == "rootca":
                self.store.install_root(identifier, cert.encode())
            else:
                self.store.install_client(identifier, cert.encode(), key.encode(), password)
        except LinuxError as exc:
            raise self._refused(exc, identifier) from None
        return {}

    def delete(self, identifier: str) -> dict:
        try:
            self.store.delete(identifier)
        except LinuxError as exc:
            raise self._refused(exc, identifier) from None
        return {}

    def space(self) -> dict:
        return {"AvailableSpace": str(self.store.available())}
