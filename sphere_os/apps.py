"""The app launcher of the emulated Azure Sphere OS: a high-level app package runs on the A7.

What launching does (as the device's application manager does it, in the order it matters here):
1. read the .imagepackage (mt3620/imagepackage), its app_manifest.json (ComponentId, Name, EntryPoint, CmdArgs,
   ApplicationType "Default");
2. mount its ASXipFS read-only at /mnt/apps/<component id>, a writable tree at /mnt/config/<component id>
   (mutable storage: in memory, or persisted in a host folder given as `config_dir`, one sub-folder per app);
3. start EntryPoint with CmdArgs through the real musl dynamic loader (PT_INTERP /lib/ld-musl-armhf.so.1 from the
   sysroot), with stdin on /dev/null and stdout/stderr on the app's log;
4. route the app's Log_Debug output (libapplibs writes it to the device node /dev/azure-sphere/log) to lines
   labelled `a7.<app name>` in the machine's output taps, the same mechanism as UART lines.

When the app ends, a line on `a7.os` says how ("app <name> exited with status N" / "killed by SIGSEGV"); a crash
(a core-dumping signal) is also reported to the machine as a fault (AppCrash), with the crash report.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from mt3620.engine.cortex_m import GuestFault
from mt3620.engine.linux import AsxipfsFs, ExecError, HostDirFs, Kernel
from mt3620.engine.linux.abi import O_RDONLY, O_WRONLY, signal_name
from mt3620.engine.linux.devices import NullFile, OpenContext, SinkFile
from mt3620.imagepackage import ImagePackage, ImagePackageError, load as load_package, parse as parse_package

from .manifest import AppManifest, ManifestError, parse_manifest

log = logging.getLogger("mt3620.os")
LOG_DEVICE = "/dev/azure-sphere/log"        # emulator-defined (docs/a7.md): where libapplibs writes Log_Debug
OS_LABEL = "a7.os"
APP_UID_BASE = 1000                          # emulator-defined: each app runs as its own user
IMAGE_TYPE_APPLICATIONS = 10


class AppLaunchError(ValueError):
    """The app cannot be launched (bad package, bad manifest, missing sysroot, malformed ELF): one line."""


class AppCrash(GuestFault):
    """A high-level app killed by a core-dumping signal. `str()` is the whole crash report."""

    def __init__(self, app: "HighLevelApp", report) -> None:
        super().__init__("a7", report.signal_name, report.pc, report.address if report.signal in (7, 11) else None,
                         f"app {app.name} killed by {report.signal_name}")
        self.app = app
        self.report = report
        self.signal = report.signal

    def __str__(self) -> str:
        return f"a7: app {self.app.name}: {self.report.headline()}\n{self.report.text()}"


@dataclass
class HighLevelApp:
    name: str
    component_id: str
    manifest: AppManifest
    package: ImagePackage
    process: object = None
    exit_code: int | None = None
    term_signal: int | None = None
    crash: object = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.alive

    @property
    def label(self) -> str:
        return f"a7.{self.name}"


class SphereOs:
    """The emulated OS on one machine's A7: the Linux personality, the sysroot, the log device, the launcher."""

    def __init__(self, machine, *, sysroot: str | Path | None = None, seed: bytes | None = None,
                 realtime_epoch_ns: int | None = None, config_dir: str | Path | None = None) -> None:
        """`config_dir`: a host folder where each app's mutable storage (/mnt/config/<component id>) persists, one
        sub-folder per component id; without it the storage lives in memory for this machine's life."""
        self.machine = machine
        self.config_dir = Path(config_dir) if config_dir is not None else None
        # The device's app manager keeps mutable storage in its flash: storage_factory(manifest) -> a file system.
        self.storage_factory = None
        core = machine.a7
        if getattr(core, "system", None) is not None:
            raise AppLaunchError("this machine's A7 already runs an OS")
        extra = {} if realtime_epoch_ns is None else {"realtime_epoch_ns": int(realtime_epoch_ns)}
        self.kernel = Kernel(core, machine.clock, seed=seed or (bytes(machine.device_seed) + b"/a7"), **extra)
        self.realtime_epoch_ns = self.kernel.realtime_offset_ns
        # Device authentication (Application_IsDeviceAuthReady): true once the device holds its DAA certificate;
        # the OS agent or a test sets it (emulator-defined: nothing attests on its own).
        self.device_auth_ready = False
        self.sysroot = self._mount_sysroot(sysroot)
        self.apps: list[HighLevelApp] = []
        self.current: HighLevelApp | None = None
        self._denied: set = set()
        self.kernel.devices.register(LOG_DEVICE, self._open_log, mode=0o222)
        machine.output_tap(OS_LABEL)
        self.kernel.exit_listeners.append(self._process_exited)
        machine.shared_objects["sphere_os"] = self
        from . import services
        self.services = services.install(self)
        from .network import NetworkError, NetworkOs          # Wi-Fi, sockets' network, Applibs network services
        try:
            NetworkOs.of(machine).attach_kernel(self.kernel)
        except NetworkError as exc:
            log.info("a7: no networking: %s", exc)

    @classmethod
    def of(cls, machine, **kwargs) -> "SphereOs":
        """The OS of `machine` (started on first use)."""
        existing = machine.shared_objects.get("sphere_os")
        return existing if existing is not None else cls(machine, **kwargs)

    def _mount_sysroot(self, sysroot) -> Path:
        from mt3620.firmware import toolchain
        try:
            root = toolchain.check_sysroot(sysroot)
        except toolchain.ToolchainError as exc:
            raise AppLaunchError(str(exc)) from None
        self.kernel.vfs.mount("/lib", HostDirFs(root / "lib").root)
        self.kernel.vfs.mount("/usr/lib", HostDirFs(root / "usr" / "lib").root)
        return root

    # ---- the log device ---------------------------------------------------------------------------------------------
    def app_of(self, process) -> HighLevelApp | None:
        """The app a process belongs to (the current app for the OS's own opens)."""
        app = getattr(process, "app", None)
        return app if isinstance(app, HighLevelApp) else self.current

    _app_of = app_of

    def log_denied(self, app: HighLevelApp | None, what: str) -> None:
        """A request the manifest does not grant: logged once per app and resource, as the device's OS logs it."""
        key = (app.component_id if app else None, what)
        if key not in self._denied:
            self._denied.add(key)
            log.warning("a7: app %s: %s is not granted by its application manifest",
                        app.name if app else "?", what)

    def _open_log(self, ctx: OpenContext) -> SinkFile:
        app = self._app_of(ctx.process)
        label = app.label if app is not None else OS_LABEL
        return SinkFile(ctx, lambda data, label=label: self.machine.emit(label, data))

    # ---- launching ------------------------------------------------------------------------------------------------
    def launch(self, package: str | Path | bytes | ImagePackage) -> HighLevelApp:
        pkg = self._package(package)
        try:
            manifest = parse_manifest(pkg.manifest())
        except (ManifestError, ImagePackageError) as exc:
            raise AppLaunchError(str(exc)) from None
        if not manifest.high_level:
            raise AppLaunchError(f"app {manifest.name} is a real-time app (ApplicationType RealTimeCapable): "
                                 f"load it on an IO core with --rt0/--rt1")
        if self.current is not None and self.current.running:
            raise AppLaunchError(f"app {self.current.name} is still running on the A7")
        try:
            filesystem = pkg.filesystem()
        except ImagePackageError as exc:
            raise AppLaunchError(f"app {manifest.name}: {exc}") from None
        if manifest.entry_point not in filesystem.files:
            raise AppLaunchError(f"app {manifest.name}: the package has no {manifest.entry_point} (its EntryPoint)")
        cid = manifest.component_id
        vfs = self.kernel.vfs
        self._unmount(f"/mnt/apps/{cid}")
        self._unmount(f"/mnt/config/{cid}")
        vfs.mount(f"/mnt/apps/{cid}", AsxipfsFs(filesystem).root)
        try:
            storage = self.services["storage"].tree_for(manifest)
        except OSError as exc:
            raise AppLaunchError(f"mutable storage of {manifest.name}: {exc.strerror or exc}") from None
        if storage is not None:
            vfs.mount(f"/mnt/config/{cid}", storage.root)
        app = HighLevelApp(manifest.name, cid, manifest, pkg)
        entry = f"/mnt/apps/{cid}{manifest.entry_point}"
        self.machine.output_tap(app.label)
        stdin = self._open_null(app)
        out = self._log_file(app)
        uid = APP_UID_BASE + len(self.apps)
        try:
            app.process = self.kernel.spawn(entry, [entry, *manifest.cmd_args], [], name=manifest.name, uid=uid,
                                            gid=uid, stdio=(stdin, out, out), app=app)
        except ExecError as exc:
            raise AppLaunchError(f"app {manifest.name}: {exc}") from None
        self.apps.append(app)
        self.current = app
        log.info("a7: app %s (%s) started as pid %d", app.name, cid, app.process.pid)
        return app

    def _unmount(self, path: str) -> None:
        self.kernel.vfs.unmount(path)          # a relaunch mounts afresh (unmounting nothing is fine)

    def _open_null(self, app) -> NullFile:
        f = NullFile(OpenContext(None, O_RDONLY, "/dev/null"))
        f.flags = O_RDONLY
        return f

    def _log_file(self, app: HighLevelApp) -> SinkFile:
        f = SinkFile(OpenContext(None, O_WRONLY, LOG_DEVICE), lambda data: self.machine.emit(app.label, data))
        f.flags = O_WRONLY
        return f

    def _package(self, package) -> ImagePackage:
        try:
            if isinstance(package, ImagePackage):
                pkg = package
            elif isinstance(package, (bytes, bytearray)):
                pkg = parse_package(package)
            else:
                pkg = load_package(package)
        except ImagePackageError as exc:
            raise AppLaunchError(f"{package if not isinstance(package, (bytes, bytearray)) else 'package'}: "
                                 f"{exc}") from None
        if pkg.image_type != IMAGE_TYPE_APPLICATIONS:
            raise AppLaunchError(f"image type {pkg.image_type} is not an application package (10)")
        return pkg

    # ---- ending -----------------------------------------------------------------------------------------------------
    def _process_exited(self, process) -> None:
        app = getattr(process, "app", None)
        if not isinstance(app, HighLevelApp):
            return
        app.exit_code = process.exit_code
        app.term_signal = process.term_signal
        app.crash = process.crash
        # What the app printed without a final newline still belongs to it.
        tap = self.machine.uarts.get(app.label)
        if tap is not None and tap.partial:
            self.machine.emit(app.label, b"\n")
        if process.term_signal is None:
            self.machine.emit(OS_LABEL, f"app {app.name} exited with status {process.exit_code}\n".encode())
        else:
            self.machine.emit(OS_LABEL, f"app {app.name} killed by {signal_name(process.term_signal)}\n".encode())
        if app.crash is not None:
            self.machine.report_fault(AppCrash(app, app.crash))

    def stop(self, app: HighLevelApp | None = None) -> None:
        """Stop the running app (SIGKILL, as `azsphere device app stop` does)."""
        target = app or self.current
        if target is not None and target.running:
            self.kernel.kill()
