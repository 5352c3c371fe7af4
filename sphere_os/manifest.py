"""app_manifest.json, as much as launching an app needs (the full schema and capability enforcement come with the
app manager): ComponentId, Name, EntryPoint, CmdArgs, ApplicationType, and the raw Capabilities kept for later.
Field names and meanings from Microsoft Learn, "Application manifest" (Azure Sphere)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field


class ManifestError(ValueError):
    """A manifest that cannot launch an app: the message names the field and the reason."""


@dataclass(frozen=True)
class AppManifest:
    component_id: str                 # lower-case GUID
    name: str
    entry_point: str                  # absolute path inside the package, e.g. /bin/app
    cmd_args: tuple[str, ...] = ()
    application_type: str = "Default"
    capabilities: dict = field(default_factory=dict)
    raw: dict = field(default_factory=dict)

    @property
    def high_level(self) -> bool:
        return self.application_type == "Default"


def parse_manifest(data: dict) -> AppManifest:
    if not isinstance(data, dict):
        raise ManifestError("app_manifest.json: not a JSON object")
    try:
        component = str(uuid.UUID(str(data.get("ComponentId", ""))))
    except ValueError:
        raise ManifestError(f"app_manifest.json: ComponentId {data.get('ComponentId')!r} is not a GUID") from None
    name = data.get("Name")
    if not isinstance(name, str) or not name or len(name.encode()) > 32:
        raise ManifestError("app_manifest.json: Name must be a non-empty string of at most 32 bytes")
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
    return AppManifest(component, name, entry, tuple(args), app_type, caps, data)
