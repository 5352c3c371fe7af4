"""The emulated OS's application manager: what `azsphere device sideload` and `device app` talk to, and what the
OS agent installs cloud deployments through.

Installing (`deploy`): every check the device makes happens before anything is written to flash:
1. the file is an application image package (image type 10) with a valid app_manifest.json (sphere_os/manifest.py,
   names resolved through the board's hardware definition);
2. Pluton accepts it (engine/machine/secure_boot.py): signed by a key the device trusts, or by the SDK test key
   while the device holds the appDevelopment capability; its security version not below its component's counter;
3. its EntryPoint is in the package; a real-time app's ELF fits an IO core (TCM 192 KB, SYSRAM 64 KB, XIP 1 MB);
4. the new set of apps fits together (sphere_os/resources.py: peripherals, pin blocks, one high-level app, two IO
   cores) and the flash has room.
Then one installer transaction (sphere_os/installer.py) replaces the component's old image atomically, and the
app starts (unless asked not to).

Starting (`start`): Pluton verifies and measures the image again (`machine.admit_application`: what runs is what
was measured), the security monitor programs the firewalls for the apps that run and locks them, then a
real-time app's ELF goes into its IO core (memories scrubbed, the core's blocks reset) and the core starts, or the
high-level app is launched on the A7 (sphere_os/apps.py) with its mutable storage from flash. In debug mode the
app is halted at its first instruction with its core's GDB port open: it waits for the debugger.

Every failure is an `AppError` with a `reason` (the device's refusal codes: bad-package, bad-manifest,
untrusted-signer, bad-signature, capability-required, svn-rollback, too-large, peripheral-in-use,
pin-block-in-use, pin-block-function, one-high-level-app, no-free-io-core, flash-full, not-installed, ...).
"""
from __future__ import annotations

import json
import logging
import struct
from dataclasses import dataclass, field
from typing import Callable

from mt3620.imagepackage import ImagePackage, ImagePackageError, Keystore, parse as parse_package
from mt3620.imagepackage.metadata import IMAGE_TYPE_APPLICATIONS

from .installer import InstallError, Installer
from .manifest import AppManifest, ManifestError, parse_manifest
from .resources import A7, ConflictError, Placed, place
from .security_monitor import SecurityMonitor

log = logging.getLogger("mt3620.os")
OS_LABEL = "a7.os"
# IO-core memory windows (MT3620-FACTS.md "IO core memory map").
RT_WINDOWS = {"TCM": (0x00100000, 0x30000), "SYSRAM": (0x22000000, 0x10000), "XIP": (0x10000000, 0x100000)}
DEFAULT_GDB_PORTS = {"a7": 3333, "io0": 3334, "io1": 3335}      # docs/gdb.md
STORAGE_MAGIC = b"MTST"


class AppError(ValueError):
    """The device refuses: `reason` is a short code, the message says why in one line."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class AppStatus:
    component_id: str
    name: str
    core: str | None
    state: str = "stopped"             # stopped, running, debugging, exited, crashed, failed
    detail: str = ""                   # exit status, signal, fault or refusal reason
    gdb_port: int | None = None

    def as_dict(self) -> dict:
        return {"ComponentId": self.component_id, "Name": self.name, "State": self.state,
                "Core": _core_label(self.core), "Detail": self.detail, "GdbPort": self.gdb_port}


def _core_label(core: str | None) -> str:
    return {"a7": "High-level", "io0": "Real-time 0", "io1": "Real-time 1"}.get(core or "", "-")


def development_keys():
    """The SDK test key (what `azsphere image-package pack-application` signs with): accepted only while the
    device holds the appDevelopment capability (Pluton checks that)."""
    from mt3620.attestation import public_key_to_raw
    from mt3620.imagepackage import SdkTestSigner
    from mt3620.peripherals.pluton.secureboot import TrustedKeystore
    sdk = SdkTestSigner()
    return TrustedKeystore({sdk.thumbprint: public_key_to_raw(sdk.public_key)})


def encode_storage(files: dict[str, bytes]) -> bytes:
    """A mutable storage tree as one blob: MTST | u32 count | count x (u16 path length, u32 data length, path,
    data); a path ending in '/' is a folder (emulator-defined)."""
    out = bytearray(STORAGE_MAGIC + struct.pack("<I", len(files)))
    for path, data in sorted(files.items()):
        raw = path.encode()
        out += struct.pack("<HI", len(raw), len(data)) + raw + data
    return bytes(out)


def decode_storage(blob: bytes) -> dict[str, bytes]:
    if blob[:4] != STORAGE_MAGIC or len(blob) < 8:
        raise ValueError("not a mutable storage blob")
    (count,), pos, out = struct.unpack_from("<I", blob, 4), 8, {}
    for _ in range(count):
        plen, dlen = struct.unpack_from("<HI", blob, pos)
        pos += 6
        path = blob[pos:pos + plen].decode()
        pos += plen
        out[path] = bytes(blob[pos:pos + dlen])
        pos += dlen
        if pos > len(blob):
            raise ValueError("truncated mutable storage blob")
    return out


@dataclass
class _Running:
    placed: Placed
    admitted: object = None
    hl_app: object = None               # sphere_os.apps.HighLevelApp
    gdb: object = None                  # engine.gdb.GdbServer in debug mode


class AppManager:
    def __init__(self, machine, installer: Installer, *, trusted: Keystore | None = None, sysroot=None,
                 realtime_epoch_ns: int | None = None, gdb_ports: dict[str, int] | None = None,
                 announce: Callable[[str], None] | None = None) -> None:
        self.machine = machine
        self.installer = installer
        self.trusted = trusted if trusted is not None else Keystore([])
        self.sysroot = sysroot
        self.realtime_epoch_ns = realtime_epoch_ns
        self.gdb_ports = dict(DEFAULT_GDB_PORTS if gdb_ports is None else gdb_ports)
        self.announce = announce or (lambda text: log.info("%s", text))
        self.monitor = SecurityMonitor(machine)
        self.running: dict[str, _Running] = {}        # component id -> what runs
        self.status: dict[str, AppStatus] = {}
        self._dev_keys = None
        self._dirty_storage: dict[str, object] = {}   # component id -> MemFs to write to flash
        self._trees: dict[str, object] = {}           # component id -> its mutable storage tree (this power cycle)
        self._os = None
        machine.output_tap(OS_LABEL)
        machine.between_windows.append(self._flush_storage)
        for app in installer.apps():
            self.status[app.component_id] = AppStatus(app.component_id, app.name, app.core)

    # ---- keys --------------------------------------------------------------------------------------------------------
    @property
    def development_keys(self):
        if self._dev_keys is None:
            self._dev_keys = development_keys()
        return self._dev_keys

    def _emit(self, text: str) -> None:
        self.machine.emit(OS_LABEL, (text + "\n").encode())

    # ---- checks -------------------------------------------------------------------------------------------------------
    def _package(self, data: bytes, verify: bool = False) -> tuple[ImagePackage, AppManifest]:
        """The package and its manifest; with `verify`, Pluton checks the signature before the manifest is read
        (a tampered package is a signature failure, whatever it broke)."""
        try:
            pkg = parse_package(bytes(data))
        except (ImagePackageError, ValueError) as exc:
            raise AppError("bad-package", f"not an image package: {exc}") from None
        if pkg.image_type != IMAGE_TYPE_APPLICATIONS:
            raise AppError("not-an-application", f"image type {pkg.image_type} is not an application (10)")
        if verify:
            self._verify(data)
        try:
            raw = pkg.manifest()
        except (ImagePackageError, ValueError) as exc:
            raise AppError("bad-manifest", f"app_manifest.json: {exc}") from None
        try:
            manifest = parse_manifest(raw)
        except ManifestError as exc:
            raise AppError("bad-manifest", str(exc)) from None
        if str(pkg.component_id) != manifest.component_id:
            raise AppError("bad-manifest", f"app_manifest.json: ComponentId {manifest.component_id} is not the "
                                           f"package's component {pkg.component_id}")
        return pkg, manifest

    def _verify(self, data: bytes) -> None:
        try:
            self.machine.pluton.verify_application(bytes(data), self.development_keys, self.trusted)
        except ImagePackageError as exc:
            raise AppError(exc.reason or "refused", f"refused by Pluton ({exc.reason}): {exc}") from None

    def _check_files(self, pkg: ImagePackage, manifest: AppManifest) -> None:
        try:
            fs = pkg.filesystem()
        except (ImagePackageError, ValueError) as exc:
            raise AppError("bad-package", f"{manifest.name}: {exc}") from None
        if manifest.entry_point not in fs.files:
            raise AppError("bad-package", f"{manifest.name}: the package has no {manifest.entry_point} (its "
                                          f"EntryPoint)")
        if manifest.realtime:
            self._check_rtapp_fits(manifest, fs.read(manifest.entry_point))

    @staticmethod
    def _check_rtapp_fits(manifest: AppManifest, elf: bytes) -> None:
        from mt3620.engine.machine import LoadError
        from mt3620.engine.machine.loader import read_elf
        try:
            _, loads, _ = read_elf(elf, manifest.entry_point)
        except LoadError as exc:
            raise AppError("bad-package", f"{manifest.name}: {exc}") from None
        used = {name: 0 for name in RT_WINDOWS}
        for seg, _ in loads:
            where = next((n for n, (start, size) in RT_WINDOWS.items() if start <= seg.address < start + size), None)
            if where is None:
                raise AppError("too-large", f"{manifest.name}: segment at 0x{seg.address:08x} is outside an IO "
                                            f"core's memory (TCM 0x00100000, SYSRAM 0x22000000, XIP 0x10000000)")
            start, size = RT_WINDOWS[where]
            used[where] = max(used[where], seg.address + seg.mem_size - start)
        for where, (_, size) in RT_WINDOWS.items():
            if used[where] > size:
                raise AppError("too-large", f"{manifest.name} is too large for an IO core's {where}: it needs "
                                            f"{used[where]} bytes, an IO core has {size}")

    def _installed_manifests(self, skip: str | None = None) -> list[tuple[AppManifest, str | None]]:
        out = []
        for app in self.installer.apps():
            if app.component_id == skip:
                continue
            try:
                out.append((parse_manifest(self.installer.manifest_of(app.component_id)), app.core))
            except ManifestError:
                continue              # installed before: it passed then; an unreadable one claims nothing
        return out

    # ---- sideload / install -------------------------------------------------------------------------------------------
    def check(self, data: bytes) -> tuple[ImagePackage, AppManifest, Placed]:
        """Every deploy-time check, writing nothing; returns the package, manifest and where it would run."""
        pkg, manifest = self._package(data, verify=True)
        self._check_files(pkg, manifest)
        current = self.installer.app(manifest.component_id)
        apps = self._installed_manifests(skip=manifest.component_id)
        apps.append((manifest, current.core if current else None))
        try:
            placed = place(apps)
        except ConflictError as exc:
            raise AppError(exc.reason, str(exc)) from None
        if not self.installer.fits([len(data)]):
            raise AppError("flash-full", f"{manifest.name}: the flash has no room for {len(data)} bytes "
                                         f"({self.installer.free_bytes()} bytes free)")
        return pkg, manifest, placed[-1]

    def deploy(self, data: bytes, *, start: bool = True, debug: bool = False, source: str = "sideload",
               auto_start: bool = True) -> AppStatus:
        """Install an application package (after every check), replacing the same component atomically."""
        pkg, manifest, target = self.check(data)
        cid = manifest.component_id
        if cid in self.running:
            self.stop(cid)
        tx = self.installer.transaction()
        tx.put_app(cid, bytes(data), name=manifest.name, application_type=manifest.application_type,
                   image_id=str(pkg.image_id), core=target.core, source=source, auto_start=auto_start,
                   manifest=manifest.raw)
        try:
            self.installer.commit(tx)
        except InstallError as exc:
            raise AppError(exc.reason, str(exc)) from None
        self.status[cid] = AppStatus(cid, manifest.name, target.core)
        self._emit(f"installed {manifest.name} ({cid}, image {pkg.image_id}) for {_core_label(target.core)}")
        if start:
            return self.start(cid, debug=debug)
        return self.status[cid]

    def delete(self, component_id: str | None = None) -> list[str]:
        """`sideload delete`: stop and remove one app, or every app. Returns the removed component IDs."""
        apps = self.installer.apps()
        if component_id is not None:
            apps = [a for a in apps if a.component_id == component_id]
            if not apps:
                raise AppError("not-installed", f"no app {component_id} is installed")
        for app in apps:
            if app.component_id in self.running:
                self.stop(app.component_id)
        tx = self.installer.transaction()
        for app in apps:
            tx.remove_app(app.component_id)
        self.installer.commit(tx)
        for app in apps:
            self.status.pop(app.component_id, None)
            self._trees.pop(app.component_id, None)
            self._dirty_storage.pop(app.component_id, None)
            self._emit(f"deleted {app.name} ({app.component_id})")
        return [a.component_id for a in apps]

    # ---- running ------------------------------------------------------------------------------------------------------
    def _placed_running(self) -> list[Placed]:
        return [r.placed for r in self.running.values()]

    def boot(self) -> None:
        """Power-on: start every installed app that starts at boot, in install order (a refusal is recorded as
        the app's state, never a device that does not boot)."""
        for app in self.installer.apps():
            if not app.auto_start:
                continue
            try:
                self.start(app.component_id)
            except AppError as exc:
                log.warning("boot: %s not started: %s", app.name, exc)

    def start(self, component_id: str, *, debug: bool = False) -> AppStatus:
        app = self.installer.app(component_id)
        if app is None:
            raise AppError("not-installed", f"no app {component_id} is installed")
        status = self.status.setdefault(component_id, AppStatus(component_id, app.name, app.core))
        if component_id in self.running:
            if self._alive(component_id):
                raise AppError("already-running", f"{app.name} is already {status.state}")
            self._forget(component_id)
        try:
            data = self.installer.image(component_id)
            pkg, manifest = self._package(data)
            placed = Placed(component_id, manifest.name, manifest, app.core or (A7 if manifest.high_level else None))
            slot = placed.core if manifest.realtime else f"a7:{component_id}"
            try:
                admitted = self.machine.admit_application(data, slot, trusted=self.trusted,
                                                          development_keys=self.development_keys)
            except ImagePackageError as exc:
                raise AppError(exc.reason or "refused", f"{app.name}: refused by Pluton ({exc.reason}): {exc}") \
                    from None
            self.monitor.program(self._placed_running() + [placed])
            run = _Running(placed, admitted)
            self.running[component_id] = run
            if manifest.realtime:
                self._start_rtapp(run, debug)
            else:
                self._start_hlapp(run, debug)
        except AppError as exc:
            status.state, status.detail, status.gdb_port = "failed", f"{exc.reason}: {exc}", None
            self._emit(f"{app.name} not started: {exc}")
            raise
        status.state = "debugging" if debug else "running"
        status.detail = ""
        status.gdb_port = run.gdb.port(self._gdb_core(placed)) if run.gdb is not None else None
        how = f" in debug mode, waiting for a debugger on port {status.gdb_port}" if debug else ""
        self._emit(f"started {app.name} on {_core_label(placed.core)}{how}")
        return status

    @staticmethod
    def _gdb_core(placed: Placed) -> str:
        return placed.core if placed.core != A7 else "a7"

    def _open_gdb(self, core: str):
        from mt3620.engine.gdb import GdbServer
        from mt3620.engine.gdb.server import GdbServerError
        try:
            return GdbServer(self.machine, {core: self.gdb_ports.get(core, 0)}, announce=self.announce)
        except (GdbServerError, ValueError) as exc:
            raise AppError("debug-unavailable", f"cannot open the GDB port for {core}: {exc}") from None

    def _start_rtapp(self, run: _Running, debug: bool) -> None:
        from mt3620.engine.machine import LoadError, MachineError
        core_name = run.placed.core
        core = self.machine.core(core_name)
        for window in ("tcm", "sysram", "xip"):            # the security monitor scrubs the core's memories
            memory = self.machine.memories.get(f"{core_name}_{window}")
            if memory is not None:
                memory.clear()
        self.machine._reset_core(core)                     # the core and its private blocks start afresh
        try:
            self.machine.load_admitted(core_name, run.admitted)
        except (LoadError, MachineError) as exc:
            self.running.pop(run.placed.component_id, None)
            raise AppError("bad-package", f"{run.placed.name}: {exc}") from None
        if debug:
            core.halted = True                             # waits at its first instruction for the debugger
            run.gdb = self._open_gdb(core_name)

    def _sphere_os(self):
        from .apps import SphereOs
        if self._os is None:
            self._os = SphereOs.of(self.machine, sysroot=self.sysroot, realtime_epoch_ns=self.realtime_epoch_ns)
            self._os.storage_factory = self._storage_for
            self._os.kernel.exit_listeners.append(self._hl_exited)
        return self._os

    def _start_hlapp(self, run: _Running, debug: bool) -> None:
        from .apps import AppLaunchError
        try:
            sphere = self._sphere_os()
            run.hl_app = sphere.launch(run.admitted.package)
        except AppLaunchError as exc:
            self._forget(run.placed.component_id)
            raise AppError("launch-failed", f"{run.placed.name}: {exc}") from None
        self.machine.commit_application(run.admitted)
        if debug:
            # Launched, not one instruction run: the A7 waits at the loader's first instruction with its GDB port
            # open (engine/gdb/a7_target.py, the process as gdbserver shows it); a debugger's continue resumes it.
            try:
                run.gdb = self._open_gdb("a7")
            except AppError:
                self._sphere_os().stop(run.hl_app)
                self._forget(run.placed.component_id)
                raise
            self.machine.a7.halted = True

    def _storage_for(self, manifest: AppManifest):
        """The app's mutable storage (the storage service asks only when the manifest grants MutableStorage): one
        tree per component for this power cycle, loaded from the flash, written back when it changes."""
        from mt3620.engine.linux import MemFs
        cid = manifest.component_id
        quota = (manifest.capabilities.mutable_storage_kb or 0) * 1024
        tree = self._trees.get(cid)
        if tree is None:
            tree = MemFs(quota_bytes=quota, on_change=lambda cid=cid: self._dirty_storage.__setitem__(cid, tree))
            blob = self.installer.storage(cid)
            if blob:
                try:
                    tree.load(decode_storage(blob))
                except ValueError as exc:
                    log.warning("mutable storage of %s unreadable (%s): starting empty", manifest.name, exc)
            self._trees[cid] = tree
        tree.quota_bytes = quota
        return tree

    def _flush_storage(self, machine=None) -> None:
        """Mutable storage changed since the last window: one installer transaction writes it to flash."""
        if not self._dirty_storage:
            return
        dirty, self._dirty_storage = self._dirty_storage, {}
        tx = self.installer.transaction()
        for cid, tree in dirty.items():
            if self.installer.app(cid) is not None:
                tx.put_storage(cid, encode_storage(tree.export()))
        self.installer.commit(tx)

    def _hl_exited(self, process) -> None:
        app = getattr(process, "app", None)
        for cid, run in list(self.running.items()):
            if run.hl_app is not None and run.hl_app is app:
                status = self.status.get(cid)
                if status is not None and status.state in ("running", "debugging"):
                    if process.term_signal is None:
                        status.state, status.detail = "exited", f"exit status {process.exit_code}"
                    else:
                        from mt3620.engine.linux.abi import signal_name
                        crashed = getattr(process, "crash", None) is not None
                        status.state = "crashed" if crashed else "stopped"
                        status.detail = f"killed by {signal_name(process.term_signal)}"
                self._forget(cid)

    def _alive(self, component_id: str) -> bool:
        run = self.running.get(component_id)
        if run is None:
            return False
        if run.hl_app is not None:
            return run.hl_app.running
        core = self.machine.cores.get(run.placed.core)
        return core is not None and self.machine.images.get(core.name) is not None and not core.locked_up

    def _forget(self, component_id: str) -> None:
        run = self.running.pop(component_id, None)
        if run is None:
            return
        if run.gdb is not None:
            run.gdb.close()
        slot = run.placed.core if run.placed.manifest.realtime else f"a7:{component_id}"
        self.machine.release_application(slot)

    def stop(self, component_id: str) -> AppStatus:
        app = self.installer.app(component_id)
        if app is None:
            raise AppError("not-installed", f"no app {component_id} is installed")
        status = self.status.setdefault(component_id, AppStatus(component_id, app.name, app.core))
        run = self.running.get(component_id)
        if run is not None:
            if run.hl_app is not None:
                status.state, status.detail = "stopped", ""
                self._sphere_os().stop(run.hl_app)        # SIGKILL; the exit listener forgets it
            else:
                core = self.machine.core(run.placed.core)
                core.halted = True
                self.machine.images.pop(core.name, None)
                status.state, status.detail = "stopped", ""
            self._forget(component_id)
        status.state, status.gdb_port = "stopped", None
        self._emit(f"stopped {app.name}")
        return status

    def refresh(self) -> None:
        """Notice real-time apps whose core locked up (a fault the app could not handle)."""
        for cid, run in list(self.running.items()):
            if run.hl_app is None:
                core = self.machine.cores.get(run.placed.core)
                if core is not None and core.locked_up:
                    status = self.status[cid]
                    status.state, status.detail = "crashed", "the IO core locked up after a fault"
                    self._forget(cid)

    # ---- what the device reports ------------------------------------------------------------------------------------
    def show_status(self, component_id: str | None = None) -> list[AppStatus]:
        self.refresh()
        apps = self.installer.apps()
        if component_id is not None:
            apps = [a for a in apps if a.component_id == component_id]
            if not apps:
                raise AppError("not-installed", f"no app {component_id} is installed")
        return [self.status.setdefault(a.component_id, AppStatus(a.component_id, a.name, a.core)) for a in apps]

    def memory_stats(self, component_id: str | None = None) -> dict:
        """Memory use of the running high-level app (`device app show-memory-stats`)."""
        runs = [r for r in self.running.values() if r.hl_app is not None and r.hl_app.running and
                (component_id is None or r.placed.component_id == component_id)]
        if not runs:
            raise AppError("not-running", "no high-level app is running" if component_id is None else
                           f"{component_id} is not a running high-level app")
        memory = runs[0].hl_app.process.memory
        user = memory.mapped_bytes
        return {"ComponentId": runs[0].placed.component_id, "Name": runs[0].placed.name,
                "Total": user, "User": user, "PeakUser": memory.peak_bytes}

    def list_installed(self) -> list[dict]:
        out = []
        for app in self.installer.apps():
            out.append({"ComponentId": app.component_id, "Name": app.name, "ImageId": app.image_id,
                        "ImageType": "Applications", "Type": app.application_type, "Core": _core_label(app.core),
                        "Size": app.size, "Source": app.source,
                        "Manifest": json.loads(json.dumps(self.installer.manifest_of(app.component_id)))})
        return out
