"""The Azure Sphere OS's security and update agent, played from Python until the A7 executes.

What the real OS does between Pluton and the security service, done here with the emulated chip's own parts:
- attestation: a nonce from the service, bound to the TLS client key (cloud/verifier.py
  `attestation_challenge`), signed by Pluton's attestation key through the Pluton mailbox registers
  (peripherals/pluton/a7_driver.py) -> a 24 h client certificate and an update certificate;
- update check over mutual TLS with that certificate, reporting installed images and failures;
- installation of offered real-time app packages: download with the update certificate, then Pluton verifies it
  (a key of the device's keystore or one the OS trusts), checks its security version against the component's
  counter and measures it (engine/machine/secure_boot.py); the IO core runs the ELF of those measured bytes and
  the counter moves up to the version that runs. A package that fails verification, is older than what the
  device already ran, or does not load is reported as failed (the service will not offer it again) and as an
  error report event. Attestation evidence carries the boot chain's measurements and those of every running app.
- the OS version it reports is the one of the RootFs stage that booted (mt3620.firmware.boot).

Installs go through the device's app manager (sphere_os/app_manager.py), the one place sideloads and cloud
deployments are installed: the same checks before anything is written, the same atomic flash install, the same
start (Pluton verifies against this agent's keystore, the firewalls are programmed from the manifests); RTApps go
to the IO core their component had, else the first free one.

Emulator-defined (docs/engine.md): the TLS client key is held by the OS (Python's TLS stack needs the private key
to sign handshakes), derived from the device seed; Pluton only attests.
"""
from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import logging
import uuid
from dataclasses import dataclass, field
from typing import Callable

from cryptography.hazmat.primitives.asymmetric import ec

from mt3620.engine.machine import LoadError
from mt3620.engine.machine import Machine, MachineError
from mt3620.imagepackage import ImagePackageError, Keystore, parse as parse_package
from mt3620.peripherals.pluton.a7_driver import PlutonDriver

ROOTFS = 8

log = logging.getLogger("mt3620.os")
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
IMAGE_TYPE_APPLICATIONS = 10


@dataclass
class OsKeys:
    """What the device client needs: the device ID (from Pluton) and the OS-held TLS client key."""
    device_id: str
    attestation_public_hex: str
    client: ec.EllipticCurvePrivateKey

    @property
    def attestation(self):  # the attestation private key never leaves Pluton
        raise AttributeError("the attestation key is inside Pluton; attestation goes through the mailbox")


@dataclass
class Installed:
    component_id: str
    image_id: str
    core: str
    name: str


@dataclass
class UpdateResult:
    installed: list[Installed] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)   # (image ID, reason)
    reasons: list[dict] = field(default_factory=list)             # the service's "why not updating" answer
    os_installed: str | None = None                               # the OS version it rebooted into


class OsAgent:
    def __init__(self, machine: Machine, device_url: str, root_ca_pem: str, keystore: Keystore | None = None,
                 boot_id: str = "1", now: Callable[[], _dt.datetime] | None = None, network=None,
                 apps=None) -> None:
        """`now`: the device's calendar clock (certificate dates, error event times); default the host's wall
        clock, as a real device set by NTP. Virtual time inside the machine is unrelated to it. `network`: the
        device's networking (mt3620.sphere_os.network.NetworkOs): the service's host name in `device_url` is then
        resolved and reached through the emulated Wi-Fi (no network: the call fails with OSError), as the
        device's own traffic is; without it the agent talks to the service directly. `apps`: the device's app
        manager (default: one over an in-memory flash)."""
        from mt3620.clock import wall_clock
        from mt3620.as3.device_client import DeviceClient

        self.now = now or wall_clock
        self.machine = machine
        self.keystore = keystore if keystore is not None else Keystore.load()
        # Trust the keys the service delivers with the deployment (False: only the keystore it was provisioned with).
        self.trust_service_keys = True
        self.boot_id = boot_id
        self.pluton = PlutonDriver(machine.view("a7"), self._wait)
        _, _, attestation_public = self.pluton.security_state()
        seed = hashlib.sha256(b"MT3620-OS-TLS-CLIENT-KEY" + machine.device_seed).digest()
        client = ec.derive_private_key(int.from_bytes(seed, "big") % (P256_ORDER - 1) + 1, ec.SECP256R1())
        self.keys = OsKeys(machine.pluton.device_id.hex(), attestation_public.hex(), client)
        self.network = network
        self.service_url = device_url
        make = lambda url: DeviceClient(url, root_ca_pem, self.keys, attester=self.pluton.process_attestation,
                                        client_key=client, device_id=self.keys.device_id, now=self.now)
        if network is None:
            self.client = make(device_url)
        else:
            from .network.agent_link import ServiceLink
            self.client = ServiceLink(network, device_url, make)
        self.apps = apps
        self.installed: dict[str, Installed] = {}     # component ID -> what runs
        self.failed: list[str] = []                   # image IDs to report as failed at the next check
        self.events: list[dict] = []                  # error report events not yet uploaded

    def _wait(self, condition, timeout_ps: int) -> None:
        self.machine.run(duration_ps=timeout_ps, until=condition)

    @property
    def device_id(self) -> str:
        return self.keys.device_id

    @property
    def os_version(self) -> str:
        """The os-version of the RootFs image that booted ("" when the device did not boot)."""
        from mt3620.firmware.boot import os_version_of
        result = self.machine.boot_result
        if not result or not result.booted:
            return ""
        stage = next((s for s in result.stages if s.image_type == ROOTFS), None)
        image = self.machine.boot_flash.read(ROOTFS, stage.copy) if stage else None
        return (os_version_of(image) or "") if image else ""

    def attest(self, tenant_id: str | None = None) -> dict:
        """Attest through Pluton; on success the client and update certificates are held for later calls."""
        return self.client.attest(tenant_id=tenant_id)

    def check_for_updates(self) -> UpdateResult:
        """One update check; installs every offered application image it can and reports the rest."""
        installed = {c: i.image_id for c, i in self.installed.items()}
        answer = self.client.update_check(installed, boot_id=self.boot_id, os_version=self.os_version,
                                          capabilities=self.capabilities, failed_images=list(self.failed))
        for image in answer.get("CapabilityImages") or []:
            self.apply_capability(base64.b64decode(image))
        self.failed.clear()
        result = UpdateResult(reasons=list(answer.get("Reasons") or []))
        if (answer.get("Os") or {}).get("Images") and answer["Os"]["TargetVersion"] != self.os_version:
            result.os_installed = self.install_os(answer["Os"])
            if result.os_installed:      # rebooted into it: attest what now runs, then look again
                self.attest()
                answer = self.client.update_check({}, boot_id=self.boot_id, os_version=self.os_version,
                                                  capabilities=self.capabilities)
                installed = {}
        if self.trust_service_keys:
            self._trust_signing_keys(answer.get("SigningKeys") or [])
        for target in answer.get("TargetImages") or []:
            if installed.get(target["ComponentId"]) == target["ImageId"]:
                continue
            if int(target.get("ImageType", IMAGE_TYPE_APPLICATIONS)) != IMAGE_TYPE_APPLICATIONS:
                continue  # OS images are not installed by this agent
            try:
                result.installed.append(self.install(self.client.download_image(target["ImageId"])))
            except (ImagePackageError, LoadError, MachineError, ValueError) as exc:
                reason = f"{exc.reason}: {exc}" if getattr(exc, "reason", None) else str(exc)
                log.warning("image %s not installed: %s", target["ImageId"], reason)
                result.failed.append((target["ImageId"], reason))
                self.failed.append(target["ImageId"])
                self.events.append(self._event("AppInstallFailed", reason, target))
        if result.installed or result.failed or answer.get("CapabilityImages"):
            # Report the installation at once (as the real OS does once an update is applied), so the service's
            # update status follows without waiting for the next scheduled check.
            self.client.update_check({c: i.image_id for c, i in self.installed.items()}, boot_id=self.boot_id,
                                     os_version=self.os_version, capabilities=self.capabilities,
                                     failed_images=list(self.failed))
            self.failed.clear()
        if self.events:
            answer = self.client.upload_errors(self.events)
            for dropped in answer.get("Dropped") or []:   # e.g. a device clock far from the service's
                log.warning("error event %s dropped by the service: %s: %s", dropped.get("Index"),
                            dropped.get("Reason"), dropped.get("Message"))
            self.events.clear()
        return result

    @property
    def capabilities(self) -> list[str]:
        """The capabilities Pluton holds, by the names the service uses (appDevelopment, fieldServicing, rfTest)."""
        from mt3620.imagepackage import capability
        names = {v: k for k, v in capability.BY_NAME.items() if isinstance(k, str) and k[0].islower()}
        return sorted(names[c] for c in self.machine.pluton.capabilities if c in names)

    def apply_capability(self, data: bytes) -> tuple[int, ...]:
        """Hand a capability file to Pluton, which verifies its signature (its ROM keystore) and its device binding
        before holding the capabilities; a refused file is an error report event, never a crash."""
        from mt3620.imagepackage.capability import CapabilityError
        try:
            return self.machine.pluton.install_capability(data)
        except (CapabilityError, ImagePackageError, ValueError) as exc:
            log.warning("capability file refused: %s", exc)
            self.events.append(self._event("CapabilityRefused", str(exc), {}))
            return ()

    def install_os(self, offer: dict) -> str | None:
        """Install an OS release as the device does: download its stage images, check each is a root-key-signed
        image of the stage it claims to be, write them to the primary flash copies (the running release stays in
        the backup copies), and reboot through secure boot. A release whose chain does not boot leaves the device
        on the backup copies, the release it ran; that is reported as an error event. Returns the OS version that
        booted when it is the offered one, else None.

        Emulator-defined (docs/cloud.md "OS updates"): what ran on the cores before the reboot is released; the
        agent installs the OS before the applications of the same check."""
        from mt3620.firmware.boot import release, rom_keys
        from mt3620.imagepackage import TrustedKey
        from mt3620.attestation import public_key_from_raw
        rom = Keystore([TrustedKey(public_key_from_raw(pub), {thumb}, "rom keystore")
                        for thumb, pub in rom_keys().items()])
        images = {}
        try:
            for entry in offer["Images"]:
                data = self.client.download(entry["DownloadPath"])
                package = parse_package(data)
                package.verify(rom, strict_thumbprint=True)
                if package.image_type != int(entry["ImageType"]):
                    raise ValueError(f"stage image {entry['ImageId']} is of type {package.image_type}, not "
                                     f"{entry['ImageType']}")
                images[package.image_type] = data
        except (ImagePackageError, ValueError, KeyError, TypeError) as exc:
            self.events.append(self._event("OsInstallFailed", f"OS {offer.get('TargetVersion')}: {exc}", {}))
            return None
        for image_type, data in images.items():
            self.machine.boot_flash.write(image_type, "primary", data)
        self.reboot(release().chain)
        if self.os_version != offer["TargetVersion"]:
            self.events.append(self._event("OsInstallFailed", f"OS {offer['TargetVersion']} did not boot; running "
                                           f"{self.os_version or 'nothing'} from the backup copies", {}))
            return None
        log.info("OS %s installed and booted", self.os_version)
        return self.os_version

    def reboot(self, chain: tuple[int, ...]) -> None:
        """Power-cycle the OS side: Pluton boots the flash again; a chain that boots commits its security versions
        (A/B: the other copies are made bootable under them first); what ran is released; a new boot ID."""
        if self.apps is not None:                   # what the app manager started stops (firewalls, cores)
            for cid in list(self.apps.running):
                self.apps.stop(cid)
        else:
            for entry in list(self.installed.values()):
                self.machine.release_application(entry.core)
        self.installed.clear()
        self.machine.boot_result = self.machine.pluton.boot(self.machine.boot_flash.stages(chain))
        if self.machine.pluton.booted:
            self.machine.pluton.commit_security_versions(self.machine.boot_flash)
        self.boot_id = str(int(self.boot_id) + 1) if str(self.boot_id).isdigit() else self.boot_id + "+1"

    def _trust_signing_keys(self, keys: list[dict]) -> None:
        """The keys that signed the offered images, as the service delivers them with the deployment: trusted
        because they come over the mutually authenticated channel to the service root this device pinned (the chain
        of trust), not because anyone passed --trusted-key. Pluton still verifies every package against them."""
        from cryptography.hazmat.primitives.serialization import load_pem_public_key
        from mt3620.imagepackage import TrustedKey
        known = {t for k in self.keystore.keys for t in k.thumbprints}
        for entry in keys:
            try:
                thumb = bytes.fromhex(entry["Thumbprint"])
                key = load_pem_public_key(entry["PublicKey"].encode())
            except (KeyError, TypeError, ValueError):
                log.warning("ignored a malformed signing key from the service")
                continue
            if thumb not in known:
                self.keystore.add(TrustedKey(key, {thumb}, "the security service (deployment)"))
                known.add(thumb)

    def install(self, package_bytes: bytes) -> Installed:
        """Install an offered application package through the device's app manager (every deploy-time check, the
        atomic flash install, Pluton's verification against this agent's keystore and measurement, the firewalls)
        and start it; Pluton's counter for the component moves up to the version that runs."""
        from .app_manager import AppManager
        from .flash import NorFlash
        from .installer import Installer
        if self.apps is None:
            self.apps = AppManager(self.machine, Installer(NorFlash()), trusted=self.keystore)
        self.apps.trusted = self.keystore
        status = self.apps.deploy(package_bytes, source="cloud")      # AppError (a ValueError) with .reason
        entry = Installed(status.component_id, str(parse_package(package_bytes).image_id), status.core or "",
                          status.name)
        self.installed[status.component_id] = entry
        log.info("installed %s (%s) on %s", entry.name, entry.image_id, entry.core)
        return entry

    def _event(self, event_type: str, description: str, target: dict) -> dict:
        # Error reports carry calendar time (the real OS has NTP); this edge talks to a real service, not a model.
        when = self.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        return {"EventTime": when, "EventCategory": "AppCrash",
                "EventClass": "Errors", "EventType": event_type, "Description": description[:500],
                "EventCount": 1, "OsVersion": "", "ComponentId": target.get("ComponentId", str(uuid.UUID(int=0))),
                "ImageId": target.get("ImageId", str(uuid.UUID(int=0)))}
