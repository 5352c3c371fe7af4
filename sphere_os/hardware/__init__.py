"""Hardware definition files: names for the values an application manifest uses.

The format is the one the Azure Sphere SDK and Azure/azure-sphere-samples use (HardwareDefinitions/*.json):

    {"Metadata": {"Type": "Azure Sphere Hardware Definition", "Version": 1},
     "Description": {"Name": "...", "MainCoreHeaderFileTopContent": [...]},
     "Imports": [{"Path": "mt3620.json"}],
     "Peripherals": [
        {"Name": "MT3620_GPIO8", "Type": "Gpio", "MainCoreHeaderValue": "(8)", "AppManifestValue": 8},
        {"Name": "MT3620_RDB_LED1_RED", "Type": "Gpio", "Mapping": "MT3620_GPIO8", "Comment": "..."}]}

A peripheral is either a root (an `AppManifestValue`, or for Type "int" a constant with only a header value) or a
`Mapping` onto a name visible from its file (its own peripherals and everything it imports, transitively). A
manifest names a peripheral as "$NAME"; resolving it follows the mappings to the root's AppManifestValue, and the
types must agree along the way (a Uart cannot map onto a Gpio).

The project ships its own definitions (this package's definitions/ folder): mt3620.json (the chip: GPIO 0-23 in
pin blocks of four, the pins of the ISU, ADC and I2S pin blocks, ISU0-4 as Uart/I2cMaster/SpiMaster, PWM
controllers 0-2, ADC controller 0, I2S0/1, and the int constants) and mt3620_rdb.json (the reference board: LEDs,
buttons, header ISUs). Imports are looked up beside the importing file, then in that folder (as the SDK looks in
its own HardwareDefinitions folder).

Errors are `HardwareDefinitionError` with the file and the reason in one line.
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

DEFINITIONS_DIR = Path(__file__).resolve().parent / "definitions"
CHIP_FILE = "mt3620.json"
BOARD_FILE = "mt3620_rdb.json"
FILE_TYPE = "Azure Sphere Hardware Definition"
# Peripheral types a manifest field may name (manifest field == peripheral Type), and the constant type.
MANIFEST_TYPES = ("Gpio", "Uart", "I2cMaster", "SpiMaster", "Pwm", "Adc", "I2sSubordinate")
CONSTANT_TYPE = "int"
PERIPHERAL_KEYS = {"Name", "Type", "Mapping", "AppManifestValue", "MainCoreHeaderValue", "Comment"}


class HardwareDefinitionError(ValueError):
    """A hardware definition file that cannot be used, or a name it does not define: one line."""


@dataclass(frozen=True)
class Peripheral:
    name: str
    type: str
    source: str                              # the file that defines it
    mapping: str | None = None               # the name it maps onto, or None for a root
    app_manifest_value: object = None        # int or str, on roots
    header_value: str | None = None
    comment: str = ""


@dataclass
class HardwareDefinition:
    path: Path
    name: str
    peripherals: dict[str, Peripheral]
    imports: list["HardwareDefinition"] = field(default_factory=list)

    def visible(self) -> dict[str, Peripheral]:
        """Every name this file can use: its imports' (transitively), then its own."""
        seen: dict[str, Peripheral] = {}
        for imported in self.imports:
            seen.update(imported.visible())
        seen.update(self.peripherals)
        return seen

    def resolve(self, name: str) -> Peripheral:
        """The root peripheral `name` maps onto (a KeyError-free HardwareDefinitionError when unknown)."""
        table = self.visible()
        if name not in table:
            raise HardwareDefinitionError(f"{name} is not defined in {self.path.name} or the files it imports")
        chain = [name]
        current = table[name]
        while current.mapping is not None:
            target = table.get(current.mapping)
            if target is None:            # checked at load time; kept for definitions built by hand
                raise HardwareDefinitionError(f"{current.source}: {current.name} maps onto {current.mapping}, "
                                              f"which is not defined")
            if current.mapping in chain:
                raise HardwareDefinitionError(f"{current.source}: mapping cycle {' -> '.join(chain + [current.mapping])}")
            chain.append(current.mapping)
            current = target
        return current

    def manifest_value(self, name: str, expected_type: str):
        """The AppManifestValue of `name` for a manifest field of `expected_type` ("Gpio", "Uart", ...)."""
        root = self.resolve(name)
        declared = self.visible()[name].type
        if declared != expected_type:
            raise HardwareDefinitionError(f"{name} is a {declared} in {self.visible()[name].source}, not a "
                                          f"{expected_type}")
        if root.app_manifest_value is None:
            raise HardwareDefinitionError(f"{name} has no AppManifestValue (a {root.type} constant is not a "
                                          f"manifest value)")
        return root.app_manifest_value


def _fail(path: Path, reason: str) -> HardwareDefinitionError:
    return HardwareDefinitionError(f"{path.name}: {reason}")


def _find_import(rel: str, importer: Path, search: tuple[Path, ...]) -> Path | None:
    candidate = Path(rel)
    if candidate.is_absolute():
        return candidate if candidate.is_file() else None
    for folder in (importer.parent, *search):
        if (folder / candidate).is_file():
            return (folder / candidate).resolve()
    return None


def load(path: str | Path, search: tuple[str | Path, ...] = ()) -> HardwareDefinition:
    """Load a hardware definition file and everything it imports; checks the whole graph (duplicate names,
    mappings onto undefined names or other types, import cycles, malformed entries)."""
    folders = tuple(Path(p) for p in search) + (DEFINITIONS_DIR,)
    definition = _load(Path(path).resolve(), folders, stack=())
    _check_graph(definition)
    return definition


def _load(path: Path, search: tuple[Path, ...], stack: tuple[Path, ...]) -> HardwareDefinition:
    if path in stack:
        raise _fail(path, "import cycle: " + " -> ".join(p.name for p in (*stack, path)))
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise HardwareDefinitionError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise _fail(path, "not UTF-8 text") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(path, f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if not isinstance(data, dict):
        raise _fail(path, "not a JSON object")
    meta = data.get("Metadata")
    if not isinstance(meta, dict) or meta.get("Type") != FILE_TYPE:
        raise _fail(path, f'Metadata.Type must be "{FILE_TYPE}"')
    if meta.get("Version") != 1:
        raise _fail(path, f"Metadata.Version {meta.get('Version')!r} is not 1")
    description = data.get("Description") or {}
    name = description.get("Name", path.stem) if isinstance(description, dict) else path.stem
    imports: list[HardwareDefinition] = []
    raw_imports = data.get("Imports", [])
    if not isinstance(raw_imports, list):
        raise _fail(path, "Imports must be a list of {\"Path\": ...}")
    for i, item in enumerate(raw_imports):
        rel = item.get("Path") if isinstance(item, dict) else None
        if not isinstance(rel, str) or not rel:
            raise _fail(path, f"Imports[{i}] has no Path")
        found = _find_import(rel, path, search)
        if found is None:
            raise _fail(path, f"Imports[{i}]: cannot find {rel} beside it or in the project's definitions")
        imports.append(_load(found, search, (*stack, path)))
    raw = data.get("Peripherals", [])
    if not isinstance(raw, list):
        raise _fail(path, "Peripherals must be a list")
    peripherals: dict[str, Peripheral] = {}
    for i, item in enumerate(raw):
        where = f"Peripherals[{i}]"
        if not isinstance(item, dict):
            raise _fail(path, f"{where} is not an object")
        unknown = set(item) - PERIPHERAL_KEYS
        if unknown:
            raise _fail(path, f"{where}: unknown field {sorted(unknown)[0]!r}")
        pname, ptype = item.get("Name"), item.get("Type")
        if not isinstance(pname, str) or not pname.isidentifier():
            raise _fail(path, f"{where}.Name {pname!r} is not a C identifier")
        if ptype not in (*MANIFEST_TYPES, CONSTANT_TYPE):
            raise _fail(path, f"{where} ({pname}): Type {ptype!r} is not one of {', '.join(MANIFEST_TYPES)} or int")
        if pname in peripherals:
            raise _fail(path, f"{where}: {pname} is defined twice")
        mapping, value = item.get("Mapping"), item.get("AppManifestValue")
        if mapping is not None and value is not None:
            raise _fail(path, f"{where} ({pname}): has both Mapping and AppManifestValue")
        if mapping is not None and not isinstance(mapping, str):
            raise _fail(path, f"{where} ({pname}): Mapping must be a name")
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, str))):
            raise _fail(path, f"{where} ({pname}): AppManifestValue must be a number or a string")
        if mapping is None and value is None and ptype != CONSTANT_TYPE:
            raise _fail(path, f"{where} ({pname}): a {ptype} needs a Mapping or an AppManifestValue")
        header = item.get("MainCoreHeaderValue")
        if header is not None and not isinstance(header, str):
            raise _fail(path, f"{where} ({pname}): MainCoreHeaderValue must be a string")
        peripherals[pname] = Peripheral(pname, ptype, path.name, mapping, value, header, str(item.get("Comment", "")))
    return HardwareDefinition(path, str(name), peripherals, imports)


def _check_graph(definition: HardwareDefinition) -> None:
    """Names are unique across the import graph; every mapping lands on a defined name of the same type."""
    owners: dict[str, str] = {}

    def walk(d: HardwareDefinition, done: set[Path]) -> None:
        if d.path in done:
            return
        done.add(d.path)
        for imported in d.imports:
            walk(imported, done)
        for name in d.peripherals:
            if name in owners and owners[name] != d.path.name:
                raise _fail(d.path, f"{name} is already defined in {owners[name]}")
            owners[name] = d.path.name
        table = d.visible()
        for p in d.peripherals.values():
            if p.mapping is None:
                continue
            target = table.get(p.mapping)
            if target is None:
                raise _fail(d.path, f"{p.name} maps onto {p.mapping}, which it does not define or import")
            if target.type != p.type:
                raise _fail(d.path, f"{p.name} is a {p.type} but maps onto {p.mapping}, a {target.type}")
            d.resolve(p.name)                 # cycles within the visible names

    walk(definition, set())


@functools.lru_cache(maxsize=None)
def board() -> HardwareDefinition:
    """The project's definition of the MT3620 RDB (imports the chip's): what the emulated board resolves."""
    return load(DEFINITIONS_DIR / BOARD_FILE)


@functools.lru_cache(maxsize=None)
def chip() -> HardwareDefinition:
    """The project's definition of the MT3620 chip."""
    return load(DEFINITIONS_DIR / CHIP_FILE)
