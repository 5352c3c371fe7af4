"""An emulated MT3620 board with its state in a folder: what `mt3620 device start --state DIR` runs.

The state folder (docs/device.md "State folder"; emulator-defined layout):

    DIR/device.json          {"format": "mt3620-device-v1", "seed": "<identity seed>"}: which device this is
    DIR/efuse.json           Pluton's e-fuses (the emulated silicon: device secret, anti-rollback counters)
    DIR/efuse.counters.json  Pluton's application security-version counters
    DIR/efuse.flash/         the boot chain's two flash copies (docs/pluton.md "Boot flash")
    DIR/flash.bin            the 16 MB NOR flash (sphere_os/flash.py): installed image packages with their
                             manifests, each app's mutable storage, Wi-Fi settings, the capability file, OS settings
                             (sphere_os/installer.py)
    DIR/device.lock          held while a device process runs on the folder (a second one is refused)
    DIR/api.json             written by the running process: {"url": "http://127.0.0.1:PORT", "pid": N}

Every file is written durably or through the flash model, so the folder survives a restart and a kill -9: the
next start powers the same device on (same identity, same apps, same storage) through its secure-boot chain.

`EmulatedDevice` is the board in one process: `power_on()` builds the machine, mounts the flash, hands the
capability file to Pluton and starts the installed apps; `restart()` powers it off and on again. The app manager
(sphere_os/app_manager.py) is `device.apps`.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Callable

from mt3620.imagepackage import Keystore

from .app_manager import AppError, AppManager
from .flash import NorFlash
from .installer import Installer

log = logging.getLogger("mt3620.device")
STATE_FORMAT = "mt3620-device-v1"
DEFAULT_SEED = "mt3620-emulated-device-0"        # engine/machine/models.py DEFAULT_DEVICE_SEED
CAPABILITY_NAMES = {11: "appDevelopment", 12: "rfTest", 13: "fieldServicing"}


class DeviceStateError(ValueError):
    """The state folder cannot be used (another device's, locked by a running process, unreadable)."""


def read_state(folder: Path) -> dict | None:
    path = folder / "device.json"
    if not path.exists():
        return None
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DeviceStateError(f"{path}: unreadable ({exc})") from None
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT or not isinstance(state.get("seed"), str):
        raise DeviceStateError(f"{path}: not a device state file ({STATE_FORMAT})")
    return state


def _write_durably(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class EmulatedDevice:
    def __init__(self, state_dir: str | Path, seed: str | None = None, *, trusted: Keystore | None = None,
                 sysroot=None, gdb_ports: dict[str, int] | None = None, flash_hook: Callable[[int], None] | None = None,
                 announce: Callable[[str], None] | None = None, lock: bool = True, wifi_env=None,
                 board=None) -> None:
        """`wifi_env`: the radio environment around the board (a RadioEnvironment or its JSON file, docs/wifi.md);
        without it the board's Wi-Fi sees no access point. `board`: board description files of the devices wired
        to the chip's buses (sensors, displays, cards; Machine(board=...))."""
        self.dir = Path(state_dir)
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DeviceStateError(f"{self.dir}: cannot create the state folder: {exc.strerror or exc}") from None
        state = read_state(self.dir)
        if state is None:
            state = {"format": STATE_FORMAT, "seed": seed if seed is not None else DEFAULT_SEED}
            _write_durably(self.dir / "device.json", json.dumps(state, indent=1) + "\n")
        elif seed is not None and seed != state["seed"]:
            raise DeviceStateError(f"{self.dir} holds the device seeded {state['seed']!r}, not {seed!r} (use another "
                                   f"folder for another device)")
        self.seed = state["seed"]
        self.trusted = trusted
        self.sysroot = sysroot
        self.gdb_ports = gdb_ports
        self.flash_hook = flash_hook
        self.wifi_env = wifi_env
        self.board = board
        self.announce = announce or (lambda text: log.info("%s", text))
        self._lock_fd = self._lock() if lock else None
        self.machine = None
        self.flash: NorFlash | None = None
        self.installer: Installer | None = None
        self.apps: AppManager | None = None
        self.boots = 0
        self.power_listeners: list[Callable[["EmulatedDevice"], None]] = []   # called after each power-on

    # ---- the folder ---------------------------------------------------------------------------------------------
    def _lock(self) -> int:
        import fcntl
        fd = os.open(self.dir / "device.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise DeviceStateError(f"{self.dir}: another device process runs on this state folder") from None
        return fd

    def unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    @property
    def efuse_path(self) -> Path:
        return self.dir / "efuse.json"

    # ---- power --------------------------------------------------------------------------------------------------
    def power_on(self) -> None:
        from mt3620.engine.machine import Machine
        self.machine = Machine(device_seed=self.seed.encode(), efuse_path=self.efuse_path, stop_on_fault=False,
                               board=self.board)
        self.flash = NorFlash(self.dir / "flash.bin")
        self.flash.on_write = self.flash_hook
        self.installer = Installer(self.flash)
        self.boots += 1
        if not self.machine.booted:
            self.announce(f"device: the secure-boot chain did not verify ({self.machine.boot_result.reason}): "
                          f"nothing runs")
        self._apply_capability()
        self._attach_network()
        self.apps = AppManager(self.machine, self.installer, trusted=self.trusted, sysroot=self.sysroot,
                               gdb_ports=self.gdb_ports, announce=self.announce)
        for listener in list(self.power_listeners):
            listener(self)
        if self.machine.booted:
            self.apps.boot()

    def _apply_capability(self) -> None:
        blob = self.installer.capability()
        if blob is None:
            return
        try:
            self.machine.pluton.install_capability(blob)
        except ValueError as exc:                   # a file for another device or signer: ignored, as Pluton does
            log.warning("device: stored capability file refused by Pluton: %s", exc)

    def _attach_network(self) -> None:
        """The board's networking (sphere_os/network) with its stored Wi-Fi networks in the flash."""
        from .network import NetworkError, NetworkOs
        env = self.wifi_env
        try:
            if env is not None and not hasattr(env, "access_points"):
                from mt3620.peripherals.wifi.environment import RadioEnvironment
                env = RadioEnvironment.load(env)
                self.wifi_env = env           # the same room at the next power-on, with its changes (PATCH /radio)
            self.network = NetworkOs(self.machine, environment=env,
                                     wifi_store=(self.wifi_networks, self._save_wifi_networks),
                                     certstore_store=(self._load_certstore, self._save_certstore))
        except NetworkError as exc:
            log.info("device: no networking: %s", exc)
            self.network = None

    def power_off(self) -> None:
        if self.apps is not None:
            self.apps._flush_storage()
            for cid in list(self.apps.running):
                run = self.apps.running.get(cid)
                if run is not None and run.gdb is not None:
                    run.gdb.close()
        if self.flash is not None:
            self.flash.close()
        self.machine = self.flash = self.installer = self.apps = None

    def restart(self) -> None:
        self.power_off()
        self.power_on()

    def close(self) -> None:
        self.power_off()
        self.unlock()

    # ---- identity and capabilities ----------------------------------------------------------------------------------
    @property
    def device_id(self) -> str:
        return self.machine.pluton.device_id.hex().upper()

    def capabilities(self) -> list[str]:
        return [CAPABILITY_NAMES.get(c, f"capability-{c}") for c in sorted(self.machine.pluton.capabilities)]

    def install_capability(self, blob: bytes) -> list[str]:
        """`device capability update`: Pluton verifies the file (this device, a trusted signer); it is kept in
        flash and applies at once (and at every power-on)."""
        try:
            cap = self.machine.pluton.decode_capability(blob)
        except ValueError as exc:
            raise AppError(getattr(exc, "reason", None) or "bad-capability", f"capability file refused: {exc}") \
                from None
        tx = self.installer.transaction()
        tx.put_capability(bytes(blob))
        self.installer.commit(tx)
        self.machine.pluton.capabilities = set(cap.capabilities)
        return self.capabilities()

    def enable_development(self) -> list[str]:
        """`device enable-development`: the appDevelopment capability for this device. The real service signs the
        file; the emulated device's ROM trusts the project's root key, which signs it here (emulator-defined)."""
        from mt3620.firmware.boot import root_signer
        from mt3620.imagepackage import capability
        blob = capability.build(self.machine.pluton.device_id, [capability.APP_DEVELOPMENT], root_signer())
        return self.install_capability(blob)

    def enable_cloud_test(self) -> list[str]:
        """`device enable-cloud-test`: no more appDevelopment (the capability file is removed), then a restart
        (development-signed apps no longer start)."""
        tx = self.installer.transaction()
        tx.put_capability(None)
        self.installer.commit(tx)
        self.restart()
        return self.capabilities()

    # ---- Wi-Fi settings ---------------------------------------------------------------------------------------------
    def wifi_networks(self) -> list[dict]:
        blob = self.installer.wifi()
        return json.loads(blob) if blob else []

    def _save_wifi_networks(self, networks: list[dict]) -> None:
        tx = self.installer.transaction()
        tx.put_wifi(json.dumps(networks, sort_keys=True).encode())
        self.installer.commit(tx)

    def _load_certstore(self) -> dict:
        blob = self.installer.certstore()
        return json.loads(blob) if blob else {}

    def _save_certstore(self, certs: dict) -> None:
        tx = self.installer.transaction()
        tx.put_certstore(json.dumps(certs).encode())          # in installation order, as the store lists them
        self.installer.commit(tx)

    def set_wifi_networks(self, networks: list[dict]) -> None:
        """Replace the stored networks (each as the Wi-Fi service stores it, docs/wifi.md); the running Wi-Fi
        service reloads them."""
        if getattr(self, "network", None) is not None:
            from .network import StoredNetwork
            try:
                parsed = [StoredNetwork.from_json(n) for n in networks]
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise AppError("bad-request", f"not a stored Wi-Fi network: {exc}") from None
            networks = [n.to_json() for n in parsed]
        self._save_wifi_networks(networks)
        if getattr(self, "network", None) is not None:
            self.network.wifi.saved = list(networks)
            self.network.wifi.reload()

    def describe(self) -> dict:
        from mt3620.engine.simulation.clock import format_ps
        result = self.machine.boot_result
        return {"DeviceId": self.device_id, "Seed": self.seed, "Booted": self.machine.booted,
                "OsVersion": self._os_version(), "Capabilities": self.capabilities(),
                "VirtualTime": format_ps(self.machine.clock.now), "Boots": self.boots,
                "FlashFreeBytes": self.installer.free_bytes(), "FlashSequence": self.installer.sequence,
                "BootReason": "" if result is None or result.booted else result.reason}

    def _os_version(self) -> str:
        from mt3620.firmware.boot import os_version_of
        result = self.machine.boot_result
        if not result or not result.booted:
            return ""
        stage = next((s for s in result.stages if s.image_type == 8), None)
        image = self.machine.boot_flash.read(8, stage.copy) if stage else None
        return (os_version_of(image) or "") if image else ""
