"""The machine's power-on through the secure-boot chain, and the admission of everything that runs on it.

Power-on (every Machine, every time): Pluton ROM checks its keystore against the fuses, then verifies, version
checks and measures each stage of the boot flash (the project's own signed images, mt3620.firmware.boot):
OneBL -> PlutonRuntime -> SecurityMonitor -> NormalWorldLoader -> NormalWorldDTB -> NormalWorldKernel -> RootFs.
The boot happens before virtual time 0; its modelled cost is `boot_result.cycles` Pluton cycles. A device whose
chain does not verify does not boot: nothing may be loaded onto its cores.

Applications: whatever runs on an IO core or the A7 first goes through `admit` (the security monitor asks Pluton
to verify the image, ASOS security_monitor.h), which verifies it (or, for an unverified sideload, only checks
its security version against the component's counter), records its measurement in Pluton's log for the slot it
runs in, and returns the parsed package: the caller must run the files of *that* package (what runs is what was
measured). After the app started, `commit` moves the component's counter up to its version (verified images
only). A bare ELF (no package, no signature) is measured too: SHA-256 of the ELF, with zero component and image
IDs, so attestation shows it for what it is.

The A7 launcher (sphere_os) uses the same three calls through the Machine: `admit_application(package_bytes,
slot="a7:<component id>", trusted=keystore)` -> Admitted (run `admitted.package.filesystem()`), then
`commit_application(admitted)` once the app runs, and `release_application(slot)` when it exits.
"""
from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass

from mt3620.attestation import Measurement
from mt3620.imagepackage import ImagePackage, ImagePackageError, Keystore
from mt3620.imagepackage.metadata import IMAGE_TYPE_APPLICATIONS

log = logging.getLogger("mt3620.boot")
# Why Pluton refuses a well-formed package (anything else is a malformed one).
REFUSAL_REASONS = frozenset({"not-booted", "untrusted-signer", "bad-signature", "capability-required",
                             "svn-rollback", "counter-store-corrupt", "counter-store-full", "measurement-log-full",
                             "wrong-image-type", "no-trusted-keys"})
ZERO_ID = uuid.UUID(int=0)


@dataclass(frozen=True)
class Admitted:
    slot: str                        # "io0", "io1" or "a7:<component id>"
    package: ImagePackage | None     # None for a bare ELF
    measurement: Measurement
    verified: bool                   # signature checked (only then does commit move a counter)


def power_on(machine):
    """Boot the machine's Pluton through the chain in its boot flash (provisioned with the project's release
    the first time). Returns the BootResult."""
    from mt3620.firmware.boot import release
    from mt3620.peripherals.pluton.bootflash import BootFlash

    from .models import device_state_paths

    factory = release()
    _, flash_dir = device_state_paths(machine.efuse_path)
    machine.boot_flash = BootFlash.open(flash_dir, factory.images)
    result = machine.pluton.boot(machine.boot_flash.stages(factory.chain))
    for line in result.describe():
        log.info("secure boot: %s", line)
    return result


def admit(machine, data: bytes, slot: str, trusted: Keystore | None = None, development_keys=None,
          verify: bool = True) -> Admitted:
    """Verify (or, with verify=False, only version-check) and measure an application package for `slot`.
    Raises ImagePackageError with the reason (the device did not boot: `not-booted`)."""
    pluton = machine.pluton
    if not pluton.booted:
        reason = machine.boot_result.reason if machine.boot_result else "no boot"
        raise ImagePackageError("not-booted", f"the device did not boot ({reason}): nothing may run")
    package, measurement = pluton.verify_application(data, development_keys, trusted, verify_signature=verify)
    pluton.admit(slot, measurement)
    return Admitted(slot, package, measurement, verify)


def admit_elf(machine, elf: bytes, slot: str) -> Admitted:
    """Measure a bare ELF (no signature, no security version) for `slot`."""
    pluton = machine.pluton
    if not pluton.booted:
        reason = machine.boot_result.reason if machine.boot_result else "no boot"
        raise ImagePackageError("not-booted", f"the device did not boot ({reason}): nothing may run")
    digest = pluton.engines.sha.digest(bytes(elf))
    measurement = Measurement(IMAGE_TYPE_APPLICATIONS, 0, ZERO_ID, ZERO_ID, digest)
    pluton.admit(slot, measurement)
    return Admitted(slot, None, measurement, False)


def commit(machine, admitted: Admitted) -> bool:
    """The admitted app runs: move its component's counter up to its security version (verified images only)."""
    if not admitted.verified or admitted.package is None:
        return False
    return machine.pluton.commit_application(admitted.package.component_id, admitted.package.security_version)


def elf_digest(elf: bytes) -> bytes:
    return hashlib.sha256(bytes(elf)).digest()
