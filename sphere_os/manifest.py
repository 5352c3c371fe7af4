"""app_manifest.json: what launching an app needs (ComponentId, Name, EntryPoint, CmdArgs, ApplicationType) and the
capability query the OS services ask before they hand out a peripheral (`manifest.capabilities`).
Field names and meanings from Microsoft Learn, "Application manifest" (Azure Sphere).

Capabilities are read as the device reads a packaged manifest: hardware-definition names ("$SAMPLE_LED") are
resolved at build time by the SDK's packaging, so a package holds GPIO numbers (8), ISU names ("ISU0") and
controller names ("PWM-CONTROLLER-0", "ADC-CONTROLLER-0"). A "$NAME" still in a package grants nothing (logged);
resolving names from hardware definitions belongs to the app manager (issue 13).
"""
from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass, field

log = logging.getLogger("mt3620.os")


class ManifestError(ValueError):
    """A manifest that cannot launch an app: the message names the field and the reason."""


_ISU = re.compile(r"^ISU([0-9])$")
_CONTROLLER = {"Pwm": re.compile(r"^PWM-CONTROLLER-([0-9])$"), "Adc": re.compile(r"^ADC-CONTROLLER-([0-9])$")}


@dataclass(frozen=True)
class Capabilities:
    """What the manifest grants, in the forms the services check (every set empty / flag off by default)."""
    gpio: frozenset[int] = frozenset()                   # GPIO numbers
    uart: frozenset[int] = frozenset()                   # ISU indexes (ISU0 -> 0)
    i2c_master: frozenset[int] = frozenset()             # ISU indexes
    spi_master: frozenset[int] = frozenset()             # ISU indexes
    pwm: frozenset[int] = frozenset()                    # PWM controller indexes
    adc: frozenset[int] = frozenset()                    # ADC controller indexes
    allowed_application_connections: frozenset[str] = frozenset()   # lower-case component GUIDs
    allowed_connections: tuple[str, ...] = ()            # host names / addresses (networking)
    mutable_storage_kb: int | None = None                # MutableStorage.SizeKB; None = no mutable storage
    system_event_notifications: bool = False
    software_update_deferral: bool = False
    power_controls: frozenset[str] = frozenset()         # "ForceReboot", "ForcePowerDown", "SetPowerProfile"
    system_time: bool = False
    wifi_config: bool = False
    device_authentication: str | None = None             # tenant GUID
    unresolved: tuple[str, ...] = ()                     # "$NAME" entries a package should not hold


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

    @property
    def high_level(self) -> bool:
        return self.application_type == "Default"


def _list(caps: dict, key: str) -> list:
    value = caps.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list):
        raise ManifestError(f"app_manifest.json: Capabilities.{key} must be a list")
    return value


def _indexes(caps: dict, key: str, pattern: re.Pattern, unresolved: list[str]) -> frozenset[int]:
    out = set()
    for item in _list(caps, key):
        if isinstance(item, str) and item.startswith("$"):
            unresolved.append(f"{key}:{item}")
            continue
        m = pattern.match(item) if isinstance(item, str) else None
        if m is None:
            raise ManifestError(f"app_manifest.json: Capabilities.{key} entry {item!r} is not a peripheral name "
                                f"such as {pattern.pattern.strip('^$').replace('([0-9])', '0')}")
        out.add(int(m.group(1)))
    return frozenset(out)


def _bool(caps: dict, key: str) -> bool:
    value = caps.get(key, False)
    if not isinstance(value, bool):
        raise ManifestError(f"app_manifest.json: Capabilities.{key} must be true or false")
    return value


def parse_capabilities(caps: dict) -> Capabilities:
    unresolved: list[str] = []
    gpio = set()
    for item in _list(caps, "Gpio"):
        if isinstance(item, str) and item.startswith("$"):
            unresolved.append(f"Gpio:{item}")
        elif isinstance(item, int) and not isinstance(item, bool) and 0 <= item < 128:
            gpio.add(item)
        else:
            raise ManifestError(f"app_manifest.json: Capabilities.Gpio entry {item!r} is not a GPIO number")
    apps = set()
    for item in _list(caps, "AllowedApplicationConnections"):
        try:
            apps.add(str(uuid.UUID(str(item))))
        except ValueError:
            raise ManifestError(f"app_manifest.json: AllowedApplicationConnections entry {item!r} is not a "
                                f"component GUID") from None
    storage = caps.get("MutableStorage")
    size_kb = None
    if storage is not None:
        size = storage.get("SizeKB") if isinstance(storage, dict) else None
        if not isinstance(size, int) or isinstance(size, bool) or not 0 < size <= 64:
            raise ManifestError("app_manifest.json: MutableStorage.SizeKB must be an integer from 1 to 64")
        size_kb = size
    power = _list(caps, "PowerControls")
    for item in power:
        if item not in ("ForceReboot", "ForcePowerDown", "SetPowerProfile"):
            raise ManifestError(f"app_manifest.json: PowerControls entry {item!r} is not ForceReboot, "
                                f"ForcePowerDown or SetPowerProfile")
    tenant = caps.get("DeviceAuthentication")
    if tenant is not None and not isinstance(tenant, str):
        raise ManifestError("app_manifest.json: DeviceAuthentication must be a tenant GUID string")
    hosts = _list(caps, "AllowedConnections")
    if not all(isinstance(h, str) for h in hosts):
        raise ManifestError("app_manifest.json: AllowedConnections must be a list of host names")
    result = Capabilities(
        gpio=frozenset(gpio),
        uart=_indexes(caps, "Uart", _ISU, unresolved),
        i2c_master=_indexes(caps, "I2cMaster", _ISU, unresolved),
        spi_master=_indexes(caps, "SpiMaster", _ISU, unresolved),
        pwm=_indexes(caps, "Pwm", _CONTROLLER["Pwm"], unresolved),
        adc=_indexes(caps, "Adc", _CONTROLLER["Adc"], unresolved),
        allowed_application_connections=frozenset(apps),
        allowed_connections=tuple(hosts),
        mutable_storage_kb=size_kb,
        system_event_notifications=_bool(caps, "SystemEventNotifications"),
        software_update_deferral=_bool(caps, "SoftwareUpdateDeferral"),
        power_controls=frozenset(power),
        system_time=_bool(caps, "SystemTime"),
        wifi_config=_bool(caps, "WifiConfig"),
        device_authentication=tenant,
        unresolved=tuple(unresolved),
    )
    if unresolved:
        log.warning("app manifest names hardware-definition entries that a package should hold resolved (they "
                    "grant nothing): %s", ", ".join(unresolved))
    return result


def parse_manifest(data: dict) -> AppManifest:
    if not isinstance(data, dict):
        raise ManifestError("app_manifest.json: not a JSON object")
    try:
        component = str(uuid.UUID(str(data.get("ComponentId", ""))))
    except ValueError:
        raise ManifestError(f"app_manifest.json: ComponentId {data.get('ComponentId')!r} is not a GUID") from None
    name = data.get("Name")
    if not isinstance(name, str) or not name or len(name.encode()) > 256 or "/" in name or "\0" in name:
        raise ManifestError("app_manifest.json: Name must be a non-empty string of at most 256 bytes without '/'")
    entry = data.get("EntryPoint")
    if not isinstance(entry, str) or not entry.startswith("/") or ".." in entry.split("/"):
        raise ManifestError(f"app_manifest.json: EntryPoint {entry!r} must be an absolute path such as /bin/app")
    args = data.get("CmdArgs", [])
    if args is None:
        args = []
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise ManifestError("app_manifest.json: CmdArgs must be a list of strings")
    app_type = data.get("ApplicationType", "Default")
    if app_type not in ("Default", "RealTimeCapable"):
        raise ManifestError(f"app_manifest.json: ApplicationType {app_type!r} is neither Default nor "
                            f"RealTimeCapable")
    caps = data.get("Capabilities", {})
    if caps is None:
        caps = {}
    if not isinstance(caps, dict):
        raise ManifestError("app_manifest.json: Capabilities must be an object")
    return AppManifest(component, name, entry, tuple(args), app_type, caps, data, parse_capabilities(caps))
