"""app_manifest.json: the full schema, checked field by field (Microsoft Learn, "Application manifest", Azure
Sphere; MT3620-FACTS.md "High-level apps").

    SchemaVersion 1, Name, ComponentId (GUID), EntryPoint ("/bin/app"), CmdArgs, ApplicationType ("Default" or
    "RealTimeCapable"), TargetApplicationRuntimeVersion, TargetBetaApis, Capabilities {
      Gpio [pins], Uart / I2cMaster / SpiMaster ["ISU0".."ISU4"], Pwm ["PWM-CONTROLLER-0".."2"],
      Adc ["ADC-CONTROLLER-0"], I2sSubordinate ["I2S0", "I2S1"], AllowedConnections [hosts],
      AllowedTcpServerPorts / AllowedUdpServerPorts [ports], AllowedApplicationConnections [component IDs],
      MutableStorage {SizeKB 1..64}, WifiConfig, NetworkConfig, SystemEventNotifications, SoftwareUpdateDeferral,
      CertStore, EnterpriseWifiConfig, HardwareAddressConfig, SystemTime, TimeSyncConfig (booleans),
      DeviceAuthentication (tenant GUID), PowerControls ["ForcePowerDown", "ForceReboot", "SetPowerProfile"] }

A peripheral value may be given as a hardware definition name ("$MT3620_RDB_LED1_RED"); it resolves through
hardware definition files (sphere_os/hardware: the board's by default). The SDK resolves names when it packs an
app; the emulated device also resolves those left in a package against its own board definition
(emulator-defined). After parsing, `AppManifest.granted` holds the normalised values in the manifest's own form
(names resolved, GPIO numbers as ints, ISU names upper case) of the capabilities granted, and nothing else;
`AppManifest.capabilities` is the same as the typed query the OS services ask before they hand out a peripheral
(`Capabilities`: GPIO numbers, ISU and controller indexes, flags); `raw_capabilities` is the object as written.

A malformed manifest raises ManifestError naming the field and the reason, e.g.
"app_manifest.json: Capabilities.Uart[1]: 'ISU7' is not an ISU of the MT3620 (ISU0-ISU4)".

Real-time apps (ApplicationType RealTimeCapable) may list only the peripheral capabilities and
AllowedApplicationConnections; high-level-app capabilities in an RTApp manifest are refused.
"""
from __future__ import annotations

import ipaddress
import re
import uuid
from dataclasses import dataclass, field

SCHEMA_VERSION = 1
APP_TYPES = ("Default", "RealTimeCapable")
ISUS = tuple(f"ISU{n}" for n in range(5))
PWM_CONTROLLERS = tuple(f"PWM-CONTROLLER-{n}" for n in range(3))
ADC_CONTROLLERS = ("ADC-CONTROLLER-0",)
I2S_INTERFACES = ("I2S0", "I2S1")
# GPIO numbers of the MT3620: 0-23 (pin blocks of four), and the pins of the ISU, ADC and I2S pin blocks
# (sphere_os/hardware/definitions/mt3620.json).
GPIO_PINS = frozenset([*range(0, 24), *range(26, 49), *range(56, 76)])
MAX_MUTABLE_STORAGE_KB = 64
MAX_ALLOWED_CONNECTIONS = 100
MAX_NAME_BYTES = 256       # the OS keeps names up to 256 bytes (the package's debug section keeps 31)
POWER_CONTROLS = ("ForcePowerDown", "ForceReboot", "SetPowerProfile")
BOOLEAN_CAPABILITIES = ("WifiConfig", "NetworkConfig", "SystemEventNotifications", "SoftwareUpdateDeferral",
                        "CertStore", "EnterpriseWifiConfig", "HardwareAddressConfig", "SystemTime", "TimeSyncConfig")
PERIPHERAL_CAPABILITIES = ("Gpio", "Uart", "I2cMaster", "SpiMaster", "Pwm", "Adc", "I2sSubordinate")
REALTIME_CAPABILITIES = frozenset([*PERIPHERAL_CAPABILITIES, "AllowedApplicationConnections"])
CAPABILITIES = (*PERIPHERAL_CAPABILITIES, "AllowedConnections", "AllowedTcpServerPorts", "AllowedUdpServerPorts",
                "AllowedApplicationConnections", "MutableStorage", "DeviceAuthentication", "PowerControls",
                *BOOLEAN_CAPABILITIES)
TOP_LEVEL = ("SchemaVersion", "Name", "ComponentId", "EntryPoint", "CmdArgs", "Capabilities", "ApplicationType",
             "TargetApplicationRuntimeVersion", "TargetBetaApis")
_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


class ManifestError(ValueError):
    """A manifest that cannot be used: the message names the field and the reason."""


@dataclass(frozen=True)
class Capabilities:
    """What the manifest grants, in the forms the services check (every set empty / flag off by default)."""
    gpio: frozenset[int] = frozenset()                   # GPIO numbers
    uart: frozenset[int] = frozenset()                   # ISU indexes (ISU0 -> 0)
    i2c_master: frozenset[int] = frozenset()             # ISU indexes
    spi_master: frozenset[int] = frozenset()             # ISU indexes
    pwm: frozenset[int] = frozenset()                    # PWM controller indexes
    adc: frozenset[int] = frozenset()                    # ADC controller indexes
    i2s_subordinate: frozenset[int] = frozenset()        # I2S interface indexes
    allowed_application_connections: frozenset[str] = frozenset()   # lower-case component GUIDs
    allowed_connections: tuple[str, ...] = ()            # host names / addresses (networking)
    allowed_tcp_server_ports: frozenset[int] = frozenset()
    allowed_udp_server_ports: frozenset[int] = frozenset()
    mutable_storage_kb: int | None = None                # MutableStorage.SizeKB; None = no mutable storage
    system_event_notifications: bool = False
    software_update_deferral: bool = False
    power_controls: frozenset[str] = frozenset()         # "ForceReboot", "ForcePowerDown", "SetPowerProfile"
    system_time: bool = False
    wifi_config: bool = False
    network_config: bool = False
    cert_store: bool = False
    enterprise_wifi_config: bool = False
    hardware_address_config: bool = False
    time_sync_config: bool = False
    device_authentication: str | None = None             # tenant GUID
    unresolved: tuple[str, ...] = ()                     # kept for callers: names now resolve or are refused


def _indexes(values) -> frozenset[int]:
    return frozenset(int(v.rsplit("-", 1)[-1]) if "-" in v else int(v[3:]) for v in values)


def typed(granted: dict) -> Capabilities:
    """The services' query form of a normalised capability dict."""
    g = granted
    return Capabilities(
        gpio=frozenset(g.get("Gpio", ())), uart=_indexes(g.get("Uart", ())),
        i2c_master=_indexes(g.get("I2cMaster", ())), spi_master=_indexes(g.get("SpiMaster", ())),
        pwm=_indexes(g.get("Pwm", ())), adc=_indexes(g.get("Adc", ())),
        i2s_subordinate=_indexes(g.get("I2sSubordinate", ())),
        allowed_application_connections=frozenset(g.get("AllowedApplicationConnections", ())),
        allowed_connections=tuple(g.get("AllowedConnections", ())),
        allowed_tcp_server_ports=frozenset(g.get("AllowedTcpServerPorts", ())),
        allowed_udp_server_ports=frozenset(g.get("AllowedUdpServerPorts", ())),
        mutable_storage_kb=g["MutableStorage"]["SizeKB"] if "MutableStorage" in g else None,
        system_event_notifications="SystemEventNotifications" in g, software_update_deferral="SoftwareUpdateDeferral" in g,
        power_controls=frozenset(g.get("PowerControls", ())), system_time="SystemTime" in g,
        wifi_config="WifiConfig" in g, network_config="NetworkConfig" in g, cert_store="CertStore" in g,
        enterprise_wifi_config="EnterpriseWifiConfig" in g, hardware_address_config="HardwareAddressConfig" in g,
        time_sync_config="TimeSyncConfig" in g, device_authentication=g.get("DeviceAuthentication"))


@dataclass(frozen=True)
class AppManifest:
    component_id: str                 # lower-case GUID
    name: str
    entry_point: str                  # absolute path inside the package, e.g. /bin/app
    cmd_args: tuple[str, ...] = ()
    application_type: str = "Default"
    raw_capabilities: dict = field(default_factory=dict)
    raw: dict = field(default_factory=dict)
    capabilities: Capabilities = field(default_factory=Capabilities)
    granted: dict = field(default_factory=dict)           # normalised manifest form: names resolved, only granted
    schema_version: int = SCHEMA_VERSION
    target_runtime_version: int | None = None
    target_beta_apis: str | None = None

    @property
    def high_level(self) -> bool:
        return self.application_type == "Default"

    @property
    def realtime(self) -> bool:
        return self.application_type == "RealTimeCapable"


def _fail(path: str, reason: str) -> ManifestError:
    return ManifestError(f"app_manifest.json: {path}: {reason}")


def _guid(value, path: str) -> str:
    if not isinstance(value, str):
        raise _fail(path, f"{value!r} is not a GUID string")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise _fail(path, f"{value!r} is not a GUID") from None


def _list(value, path: str) -> list:
    if not isinstance(value, list):
        raise _fail(path, f"must be a list, not {type(value).__name__}")
    return value


class _Resolver:
    """Resolves "$NAME" values through a hardware definition (loaded on first use)."""

    def __init__(self, definitions) -> None:
        self._given = definitions
        self._loaded = None

    def __call__(self, value: str, kind: str, path: str):
        from .hardware import HardwareDefinitionError, board
        if self._loaded is None:
            self._loaded = self._given if self._given is not None else board()
        try:
            return self._loaded.manifest_value(value[1:], kind)
        except HardwareDefinitionError as exc:
            raise _fail(path, str(exc)) from None


def _peripherals(kind: str, values, path: str, resolve: _Resolver) -> list:
    out = []
    for i, raw in enumerate(_list(values, path)):
        where = f"{path}[{i}]"
        value = raw
        if isinstance(value, str) and value.startswith("$"):
            value = resolve(value, kind, where)
        if kind == "Gpio":
            if isinstance(value, str) and value.strip().isdigit():
                value = int(value)
            if isinstance(value, bool) or not isinstance(value, int):
                raise _fail(where, f"{raw!r} is not a GPIO number")
            if value not in GPIO_PINS:
                raise _fail(where, f"GPIO {value} does not exist on the MT3620 (GPIO 0-23, 26-48, 56-75)")
        else:
            allowed = {"Uart": ISUS, "I2cMaster": ISUS, "SpiMaster": ISUS, "Pwm": PWM_CONTROLLERS,
                       "Adc": ADC_CONTROLLERS, "I2sSubordinate": I2S_INTERFACES}[kind]
            if not isinstance(value, str) or value.upper() not in allowed:
                what = {"Pwm": "a PWM controller", "Adc": "an ADC controller", "I2sSubordinate": "an I2S interface"
                        }.get(kind, "an ISU")
                raise _fail(where, f"{raw!r} is not {what} of the MT3620 ({', '.join(allowed)})")
            value = value.upper()
        if value in out:
            raise _fail(where, f"{raw!r} is listed twice")
        out.append(value)
    return out


def _host(value, path: str) -> str:
    if not isinstance(value, str) or not value:
        raise _fail(path, f"{value!r} is not a host name or IP address")
    try:
        ipaddress.ip_address(value)
        return value
    except ValueError:
        pass
    name = value[2:] if value.startswith("*.") else value
    labels = name.rstrip(".").split(".")
    if len(name) > 253 or not all(_HOST_LABEL.match(label) for label in labels) or len(labels) < 1 \
            or (value.startswith("*.") and len(labels) < 2):
        raise _fail(path, f"{value!r} is not a host name (a wildcard is only allowed as a leading '*.')")
    return value


def _ports(values, path: str) -> list[int]:
    out = []
    for i, port in enumerate(_list(values, path)):
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise _fail(f"{path}[{i}]", f"{port!r} is not a port number (1-65535)")
        if port in out:
            raise _fail(f"{path}[{i}]", f"port {port} is listed twice")
        out.append(port)
    return out


def _capabilities(caps, app_type: str, component: str, resolve: _Resolver) -> dict:
    if caps is None:
        return {}
    if not isinstance(caps, dict):
        raise _fail("Capabilities", "must be an object")
    out: dict = {}
    for key, value in caps.items():
        path = f"Capabilities.{key}"
        if key not in CAPABILITIES:
            raise _fail(path, "unknown capability")
        if app_type == "RealTimeCapable" and key not in REALTIME_CAPABILITIES:
            raise _fail(path, "only high-level apps (ApplicationType Default) may have it")
        if key in PERIPHERAL_CAPABILITIES:
            out[key] = _peripherals(key, value, path, resolve)
        elif key == "AllowedConnections":
            hosts = [_host(h, f"{path}[{i}]") for i, h in enumerate(_list(value, path))]
            if len(hosts) > MAX_ALLOWED_CONNECTIONS:
                raise _fail(path, f"at most {MAX_ALLOWED_CONNECTIONS} hosts")
            out[key] = hosts
        elif key in ("AllowedTcpServerPorts", "AllowedUdpServerPorts"):
            out[key] = _ports(value, path)
        elif key == "AllowedApplicationConnections":
            ids = []
            for i, item in enumerate(_list(value, path)):
                cid = _guid(item, f"{path}[{i}]")
                if cid == component:
                    raise _fail(f"{path}[{i}]", "an app cannot list itself")
                if cid not in ids:
                    ids.append(cid)
            out[key] = ids
        elif key == "MutableStorage":
            if not isinstance(value, dict) or set(value) != {"SizeKB"}:
                raise _fail(path, 'must be {"SizeKB": N}')
            size = value["SizeKB"]
            if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_MUTABLE_STORAGE_KB:
                raise _fail(f"{path}.SizeKB", f"{size!r} is not 1-{MAX_MUTABLE_STORAGE_KB}")
            out[key] = {"SizeKB": size}
        elif key == "DeviceAuthentication":
            out[key] = _guid(value, path)
        elif key == "PowerControls":
            items = _list(value, path)
            for i, item in enumerate(items):
                if item not in POWER_CONTROLS:
                    raise _fail(f"{path}[{i}]", f"{item!r} is not one of {', '.join(POWER_CONTROLS)}")
            out[key] = list(dict.fromkeys(items))
        else:                                                  # the boolean capabilities
            if not isinstance(value, bool):
                raise _fail(path, f"must be true or false, not {value!r}")
            if value:
                out[key] = True
    return out


def parse_manifest(data: dict, definitions=None) -> AppManifest:
    """Check a parsed app_manifest.json; `definitions` (a sphere_os.hardware.HardwareDefinition) resolves
    "$NAME" values (default: the project's MT3620 RDB definition)."""
    if not isinstance(data, dict):
        raise ManifestError("app_manifest.json: not a JSON object")
    for key in data:
        if key not in TOP_LEVEL:
            raise _fail(str(key), "unknown field")
    version = data.get("SchemaVersion", SCHEMA_VERSION)
    if version != SCHEMA_VERSION or isinstance(version, bool):
        raise _fail("SchemaVersion", f"{version!r} is not {SCHEMA_VERSION}")
    if "ComponentId" not in data:
        raise _fail("ComponentId", "missing")
    component = _guid(data["ComponentId"], "ComponentId")
    name = data.get("Name")
    if not isinstance(name, str) or not name.strip():
        raise _fail("Name", "must be a non-empty string")
    if len(name.encode()) > MAX_NAME_BYTES or any(ord(c) < 0x20 for c in name) or "/" in name:
        raise _fail("Name", f"must be at most {MAX_NAME_BYTES} bytes of printable text without '/'")
    entry = data.get("EntryPoint")
    if not isinstance(entry, str) or not entry.startswith("/") or ".." in entry.split("/") or entry == "/":
        raise _fail("EntryPoint", f"{entry!r} must be an absolute path inside the package, such as /bin/app")
    args = data.get("CmdArgs", [])
    if args is None:
        args = []
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise _fail("CmdArgs", "must be a list of strings")
    app_type = data.get("ApplicationType", "Default")
    if app_type not in APP_TYPES:
        raise _fail("ApplicationType", f"{app_type!r} is neither Default nor RealTimeCapable")
    runtime = data.get("TargetApplicationRuntimeVersion")
    if runtime is not None:
        if app_type != "Default":
            raise _fail("TargetApplicationRuntimeVersion", "only high-level apps have an application runtime")
        if isinstance(runtime, bool) or not isinstance(runtime, int) or runtime < 1:
            raise _fail("TargetApplicationRuntimeVersion", f"{runtime!r} is not a positive integer")
    beta = data.get("TargetBetaApis")
    if beta is not None:
        if app_type != "Default":
            raise _fail("TargetBetaApis", "only high-level apps use Beta APIs")
        if not isinstance(beta, str) or not beta.strip():
            raise _fail("TargetBetaApis", f"{beta!r} is not an API set name")
    raw_caps = data.get("Capabilities", {})
    granted = _capabilities(raw_caps, app_type, component, _Resolver(definitions))
    return AppManifest(component, name, entry, tuple(args), app_type, raw_caps if isinstance(raw_caps, dict) else {},
                       data, typed(granted), granted, SCHEMA_VERSION, runtime, beta)


def parse_capabilities(caps: dict, application_type: str = "Default", component_id: str = "",
                       definitions=None) -> Capabilities:
    """The typed capabilities of a Capabilities object alone (checked as in a manifest)."""
    return typed(_capabilities(caps, application_type, component_id, _Resolver(definitions)))
