"""The OS's installer: everything the device keeps in its NOR flash (installed image packages with their
manifests, each app's mutable storage, Wi-Fi settings, the device capability file, OS settings), changed only by
atomic transactions, so a power cut at any moment leaves the old state or the new one, never a mix.

Layout of the 16 MB flash (emulator-defined; docs/device.md "State folder"):

    0x000000  table-of-contents slot A (64 KB)
    0x010000  table-of-contents slot B (64 KB)
    0x020000  data area: objects (image packages, storage blobs, ...) in whole 4 KB sectors

A table of contents (TOC) record: b"MTOC" | u32 format 1 | u64 sequence | u32 body length | body (JSON) |
SHA-256 of everything before it. The body lists every object (first sector, length, SHA-256) and what it is.

A transaction writes its new objects into sectors no object of the current TOC uses (erase, then program), then
the new TOC, with the next sequence number, into the slot that does not hold the current one (erase, then
program), then syncs. Mounting picks the valid record with the highest sequence whose objects all verify. So a
cut during the objects leaves the current TOC in charge (the new sectors are unreferenced), a cut during the new
TOC leaves a record whose hash fails, and only a complete record switches the device to the new state.
"""
from __future__ import annotations

import copy
import hashlib
import json
import struct
from dataclasses import dataclass
from typing import Any

from .flash import SECTOR, FlashError, NorFlash

TOC_SLOTS = (0x000000, 0x010000)
TOC_SIZE = 0x10000
DATA_START = 0x020000
TOC_MAGIC = b"MTOC"
TOC_FORMAT = 1
_HEADER = struct.Struct("<4sIQI")
FORMAT_NAME = "mt3620-os-toc-v1"


class InstallError(ValueError):
    """The flash cannot take the change (no room); `reason` says which."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class CorruptObject(InstallError):
    pass


def _empty_state() -> dict[str, Any]:
    return {"format": FORMAT_NAME, "seq": 0, "next_object": 1, "objects": {}, "apps": [], "storage": {},
            "capability": None, "wifi": None, "certstore": None, "settings": {}}


@dataclass(frozen=True)
class InstalledApp:
    component_id: str
    name: str
    application_type: str
    image: str                # object id of the image package
    image_id: str
    core: str | None          # where it runs ("a7", "io0", "io1")
    source: str               # "sideload" or "cloud"
    auto_start: bool          # starts at boot (a sideload with --manual-start does not)
    size: int


class Transaction:
    """Changes to the installed state, applied all at once by `Installer.commit`."""

    def __init__(self, state: dict[str, Any]) -> None:
        self.state = copy.deepcopy(state)
        self.new_objects: dict[str, bytes] = {}

    def put_object(self, data: bytes) -> str:
        oid = f"o{self.state['next_object']}"
        self.state["next_object"] += 1
        self.new_objects[oid] = bytes(data)
        self.state["objects"][oid] = None          # placed at commit
        return oid

    def drop_object(self, oid: str | None) -> None:
        if oid is not None:
            self.state["objects"].pop(oid, None)
            self.new_objects.pop(oid, None)

    # ---- apps -------------------------------------------------------------------------------------------------
    def put_app(self, component_id: str, package: bytes, *, name: str, application_type: str, image_id: str,
                core: str | None, source: str, auto_start: bool = True, manifest: dict | None = None) -> None:
        self.remove_app(component_id, keep_storage=True)
        oid = self.put_object(package)
        self.state["apps"].append({"component_id": component_id, "name": name, "application_type": application_type,
                                   "image": oid, "image_id": image_id, "core": core, "source": source,
                                   "auto_start": auto_start, "size": len(package), "manifest": manifest or {}})

    def remove_app(self, component_id: str, keep_storage: bool = False) -> None:
        for entry in [a for a in self.state["apps"] if a["component_id"] == component_id]:
            self.drop_object(entry["image"])
            self.state["apps"].remove(entry)
        if not keep_storage:
            self.drop_object(self.state["storage"].pop(component_id, None))

    def set_app(self, component_id: str, **fields) -> None:
        for entry in self.state["apps"]:
            if entry["component_id"] == component_id:
                entry.update(fields)

    # ---- other state --------------------------------------------------------------------------------------------
    def put_storage(self, component_id: str, blob: bytes) -> None:
        self.drop_object(self.state["storage"].get(component_id))
        self.state["storage"][component_id] = self.put_object(blob)

    def put_capability(self, blob: bytes | None) -> None:
        self.drop_object(self.state["capability"])
        self.state["capability"] = self.put_object(blob) if blob is not None else None

    def put_wifi(self, blob: bytes | None) -> None:
        self.drop_object(self.state["wifi"])
        self.state["wifi"] = self.put_object(blob) if blob is not None else None

    def put_certstore(self, blob: bytes | None) -> None:
        self.drop_object(self.state.get("certstore"))
        self.state["certstore"] = self.put_object(blob) if blob is not None else None

    def set_setting(self, key: str, value) -> None:
        self.state["settings"][key] = value


class Installer:
    def __init__(self, flash: NorFlash) -> None:
        self.flash = flash
        self.state = _empty_state()
        self.slot: int | None = None              # the TOC slot holding the current state
        self.mount()

    # ---- reading the flash ----------------------------------------------------------------------------------------
    def _read_record(self, slot: int) -> dict | None:
        raw = self.flash.read(TOC_SLOTS[slot], TOC_SIZE)
        magic, fmt, seq, length = _HEADER.unpack_from(raw)
        end = _HEADER.size + length
        if magic != TOC_MAGIC or fmt != TOC_FORMAT or end + 32 > TOC_SIZE:
            return None
        if hashlib.sha256(raw[:end]).digest() != raw[end:end + 32]:
            return None
        try:
            state = json.loads(raw[_HEADER.size:end])
        except ValueError:
            return None
        if not isinstance(state, dict) or state.get("format") != FORMAT_NAME or state.get("seq") != seq:
            return None
        return state

    def _objects_verify(self, state: dict) -> bool:
        for oid, place in state["objects"].items():
            try:
                self._read(place)
            except (CorruptObject, FlashError, TypeError, ValueError):
                return False
        return True

    def mount(self) -> None:
        """Find the current state: the valid TOC with the highest sequence whose objects verify."""
        found = []
        for slot in range(len(TOC_SLOTS)):
            record = self._read_record(slot)
            if record is not None:
                found.append((record["seq"], slot, record))
        for _, slot, record in sorted(found, reverse=True):
            if self._objects_verify(record):
                self.state, self.slot = record, slot
                return
        self.state, self.slot = _empty_state(), None

    def _read(self, place) -> bytes:
        start, length, digest = place
        data = self.flash.read(start, length)
        if hashlib.sha256(data).hexdigest() != digest:
            raise CorruptObject("corrupt-object", f"object at 0x{start:x} does not match its hash")
        return data

    def read_object(self, oid: str) -> bytes:
        place = self.state["objects"].get(oid)
        if place is None:
            raise InstallError("no-object", f"no object {oid}")
        return self._read(place)

    # ---- what is installed ----------------------------------------------------------------------------------------
    def apps(self) -> list[InstalledApp]:
        return [InstalledApp(a["component_id"], a["name"], a["application_type"], a["image"], a["image_id"],
                             a.get("core"), a.get("source", "sideload"), a.get("auto_start", True), a.get("size", 0))
                for a in self.state["apps"]]

    def app(self, component_id: str) -> InstalledApp | None:
        return next((a for a in self.apps() if a.component_id == component_id), None)

    def manifest_of(self, component_id: str) -> dict:
        entry = next((a for a in self.state["apps"] if a["component_id"] == component_id), None)
        return dict(entry["manifest"]) if entry else {}

    def image(self, component_id: str) -> bytes:
        app = self.app(component_id)
        if app is None:
            raise InstallError("not-installed", f"no app {component_id} is installed")
        return self.read_object(app.image)

    def storage(self, component_id: str) -> bytes | None:
        oid = self.state["storage"].get(component_id)
        return self.read_object(oid) if oid else None

    def capability(self) -> bytes | None:
        oid = self.state["capability"]
        return self.read_object(oid) if oid else None

    def wifi(self) -> bytes | None:
        oid = self.state["wifi"]
        return self.read_object(oid) if oid else None

    def certstore(self) -> bytes | None:
        oid = self.state.get("certstore")
        return self.read_object(oid) if oid else None

    def setting(self, key: str, default=None):
        return self.state["settings"].get(key, default)

    @property
    def sequence(self) -> int:
        return self.state["seq"]

    # ---- space --------------------------------------------------------------------------------------------------
    def _used_sectors(self, objects: dict) -> set[int]:
        used = set()
        for place in objects.values():
            if place is None:
                continue
            start, length, _ = place
            used.update(range(start, start + max(1, -(-length // SECTOR)) * SECTOR, SECTOR))
        return used

    def free_bytes(self) -> int:
        total = (self.flash.size - DATA_START) // SECTOR
        return (total - len(self._used_sectors(self.state["objects"]))) * SECTOR

    def fits(self, sizes: list[int]) -> bool:
        """Whether new objects of these sizes fit beside the current ones (a dry run of the allocation)."""
        try:
            self._allocate({}, dry=sizes)
        except InstallError:
            return False
        return True

    def _allocate(self, new: dict[str, bytes], dry: list[int] | None = None) -> dict[str, int]:
        """First-fit runs of free sectors (free = used by no object of the current state)."""
        used = self._used_sectors(self.state["objects"])
        sizes = list(dry) if dry is not None else [len(v) for v in new.values()]
        keys = list(range(len(sizes))) if dry is not None else list(new)
        out: dict = {}
        for key, size in zip(keys, sizes):
            count = max(1, -(-size // SECTOR))
            run_start, run = None, 0
            sector = DATA_START
            while sector < self.flash.size:
                if sector in used:
                    run_start, run = None, 0
                else:
                    if run_start is None:
                        run_start = sector
                    run += 1
                    if run == count:
                        break
                sector += SECTOR
            if run < count:
                raise InstallError("flash-full", f"the flash has no {count * SECTOR} free contiguous bytes "
                                                 f"({self.free_bytes()} bytes free in all)")
            out[key] = run_start
            used.update(range(run_start, run_start + count * SECTOR, SECTOR))
        return out

    # ---- writing ----------------------------------------------------------------------------------------------------
    def transaction(self) -> Transaction:
        return Transaction(self.state)

    def commit(self, tx: Transaction) -> None:
        """Write the transaction's objects, then its TOC: atomic against a power cut (PowerCut propagates, and this
        installer keeps the old state, as the flash does)."""
        placement = self._allocate(tx.new_objects)
        state = tx.state
        state["seq"] = self.state["seq"] + 1
        for oid, data in tx.new_objects.items():
            start = placement[oid]
            for sector in range(start, start + max(1, -(-len(data) // SECTOR)) * SECTOR, SECTOR):
                self.flash.erase(sector)
            self.flash.program(start, data)
            state["objects"][oid] = [start, len(data), hashlib.sha256(data).hexdigest()]
        body = json.dumps(state, sort_keys=True, separators=(",", ":")).encode()
        head = _HEADER.pack(TOC_MAGIC, TOC_FORMAT, state["seq"], len(body)) + body
        record = head + hashlib.sha256(head).digest()
        if len(record) > TOC_SIZE:
            raise InstallError("toc-full", f"the table of contents would take {len(record)} bytes "
                                           f"(at most {TOC_SIZE})")
        slot = 0 if self.slot is None else 1 - self.slot
        base = TOC_SLOTS[slot]
        for sector in range(base, base + -(-len(record) // SECTOR) * SECTOR, SECTOR):
            self.flash.erase(sector)
        self.flash.program(base, record)
        self.flash.sync()
        self.state, self.slot = state, slot
