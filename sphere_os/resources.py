"""What an app's manifest claims of the chip, whether a set of apps fits together, and where each app runs.

Facts (Microsoft Learn, "Application manifest" and "Peripherals in MT3620"; MT3620-FACTS.md): a peripheral is used
by one app only; pins come in blocks that are assigned to one core as a whole (GPIO 4n..4n+3, shared with PWM
controller n for n < 3; the five pins of each ISU; GPIO 41-48 of the ADC; GPIO 56-60 / 61-65 of I2S0 / I2S1);
one high-level app runs on the A7, one real-time app on each of the two IO cores; an app that asks for a resource
another app holds fails to install. The emulator refuses such a set at deploy time, before anything is written,
with one of these reasons (ConflictError.reason):

- `peripheral-in-use`: two apps list the same peripheral (GPIO pin, ISU, PWM controller, ADC, I2S);
- `pin-block-in-use`: two apps (so two cores) list peripherals of one pin block (GPIO 8 for one, GPIO 9 for the
  other; GPIO 0 for one, PWM-CONTROLLER-0 for the other);
- `pin-block-function`: one app lists a pin block both as GPIOs and as its function (GPIO 26 and ISU0; GPIO 8
  and PWM-CONTROLLER-2): a block has one function (emulator-defined strictness: the SDK's tools warn);
- `one-high-level-app`: a second high-level app (another component) while one is installed;
- `no-free-io-core`: a third real-time app.

Placement (emulator-defined where the real OS says nothing public): the high-level app on the A7; an RTApp keeps
the IO core it had; a new RTApp takes the first free IO core (io0, then io1).

`firewall_owners(placed)` turns the apps that run into the owner table the security monitor programs
(peripherals/firewall): each app's pin blocks to its core; each IO core that runs an app owns its TCM, SYSRAM, XIP
window, its side of its A7 mailbox and its half of the intercore buffers; the A7 joins that mailbox and buffers
only when the high-level app and the RTApp list each other in AllowedApplicationConnections; the IO0-IO1 mailbox
belongs to both IO cores only when their two apps list each other; every other block belongs to no core.
"""
from __future__ import annotations

from dataclasses import dataclass

from .manifest import AppManifest

A7, IO_CORES = "a7", ("io0", "io1")

# Pins outside GPIO 0-23 belong to the pin block of a function (Azure Sphere docs "Peripherals in MT3620").
_FUNCTION_PINS = {"isu0": range(26, 31), "isu1": range(31, 36), "isu2": range(36, 41), "adc": range(41, 49),
                  "i2s0": range(56, 61), "i2s1": range(61, 66), "isu3": range(66, 71), "isu4": range(71, 76)}


class ConflictError(ValueError):
    """The set of apps does not fit the device; `reason` is one of the codes above."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Claim:
    capability: str           # manifest field ("Gpio", "Uart", ...)
    peripheral: str           # "GPIO 8", "ISU0", "PWM-CONTROLLER-2", "ADC-CONTROLLER-0", "I2S1"
    block: str                # firewall block (peripherals/firewall/blocks.py): "gpio2", "isu0", "adc", "i2s1"
    pin_use: bool             # claimed as a plain GPIO pin (False: as the block's function)


def block_of_pin(pin: int) -> str:
    if 0 <= pin < 24:
        return f"gpio{pin // 4}"
    for name, pins in _FUNCTION_PINS.items():
        if pin in pins:
            return name
    raise ValueError(f"GPIO {pin} belongs to no pin block")


def block_of_peripheral(value: str) -> str:
    if value.startswith("ISU"):
        return f"isu{value[3:]}"
    if value.startswith("PWM-CONTROLLER-"):
        return f"gpio{value.rsplit('-', 1)[1]}"
    if value.startswith("ADC-CONTROLLER-"):
        return "adc"
    if value.startswith("I2S"):
        return f"i2s{value[3:]}"
    raise ValueError(f"{value} is no peripheral the emulator knows")


def claims(manifest: AppManifest) -> list[Claim]:
    out = []
    caps = manifest.granted
    for pin in caps.get("Gpio", ()):
        out.append(Claim("Gpio", f"GPIO {pin}", block_of_pin(pin), True))
    for kind in ("Uart", "I2cMaster", "SpiMaster", "Pwm", "Adc", "I2sSubordinate"):
        for value in caps.get(kind, ()):
            out.append(Claim(kind, value, block_of_peripheral(value), False))
    return out


def check_app(manifest: AppManifest) -> None:
    """Conflicts inside one app's claims: one ISU in two roles, a pin block used both ways."""
    by_peripheral: dict[str, Claim] = {}
    for claim in claims(manifest):
        earlier = by_peripheral.get(claim.peripheral)
        if earlier is not None:           # ISU0 as Uart and as I2cMaster
            raise ConflictError("peripheral-in-use", f"{manifest.name}: {claim.peripheral} is listed as both "
                                                     f"{earlier.capability} and {claim.capability}")
        by_peripheral[claim.peripheral] = claim
    blocks: dict[str, list[Claim]] = {}
    for claim in claims(manifest):
        blocks.setdefault(claim.block, []).append(claim)
    for block, items in blocks.items():
        pins = [c for c in items if c.pin_use]
        functions = [c for c in items if not c.pin_use]
        if pins and functions:
            raise ConflictError("pin-block-function",
                                f"{manifest.name}: {pins[0].peripheral} and {functions[0].peripheral} share pin block "
                                f"{block}, which has one function: GPIO or {functions[0].capability}, not both")


@dataclass(frozen=True)
class Placed:
    component_id: str
    name: str
    manifest: AppManifest
    core: str                 # "a7", "io0", "io1"


def place(apps: list[tuple[AppManifest, str | None]]) -> list[Placed]:
    """Check a whole app set and give each app its core. `apps`: (manifest, core it has now or None), in install
    order. Raises ConflictError with the device's reason."""
    placed: list[Placed] = []
    high_level = [m for m, _ in apps if m.high_level]
    if len(high_level) > 1:
        first, second = high_level[0], high_level[1]
        raise ConflictError("one-high-level-app", f"high-level app {first.name} ({first.component_id}) is already "
                                                  f"installed; only one high-level app runs on the A7: delete it "
                                                  f"first to install {second.name}")
    taken = {core for m, core in apps if m.realtime and core in IO_CORES}
    for manifest, core in apps:
        check_app(manifest)
        if manifest.high_level:
            target = A7
        elif core in IO_CORES:
            target = core
        else:
            free = [c for c in IO_CORES if c not in taken]
            if not free:
                raise ConflictError("no-free-io-core", f"{manifest.name}: no free IO core (both run real-time apps:"
                                                       f" delete one first)")
            target = free[0]
            taken.add(target)
        placed.append(Placed(manifest.component_id, manifest.name, manifest, target))
    _check_claims(placed)
    return placed


def _check_claims(placed: list[Placed]) -> None:
    holder: dict[str, tuple[Placed, Claim]] = {}
    block_holder: dict[str, tuple[Placed, Claim]] = {}
    for app in placed:
        for claim in claims(app.manifest):
            other = holder.get(claim.peripheral)
            if other is not None and other[0].component_id != app.component_id:
                raise ConflictError("peripheral-in-use", f"{app.name}: {claim.peripheral} is already used by "
                                                         f"{other[0].name} ({other[0].component_id})")
            holder[claim.peripheral] = (app, claim)
            other = block_holder.get(claim.block)
            if other is not None and other[0].component_id != app.component_id:
                raise ConflictError("pin-block-in-use",
                                    f"{app.name}: {claim.peripheral} is in pin block {claim.block}, which "
                                    f"{other[0].name} holds on {_core_name(other[0].core)} through "
                                    f"{other[1].peripheral}: a pin block belongs to one core")
            block_holder.setdefault(claim.block, (app, claim))


def _core_name(core: str) -> str:
    return "the A7" if core == A7 else f"IO core {core[-1]}"


def connected(a: AppManifest, b: AppManifest) -> bool:
    """Both apps list each other in AllowedApplicationConnections (what an intercore connection needs)."""
    return (b.component_id in a.granted.get("AllowedApplicationConnections", ())
            and a.component_id in b.granted.get("AllowedApplicationConnections", ()))


def firewall_owners(placed: list[Placed]) -> dict[str, set[str]]:
    """The owner table for the apps that run (see the module docstring)."""
    owners: dict[str, set[str]] = {}

    def give(block: str, core: str) -> None:
        owners.setdefault(block, set()).add(core)

    by_core = {app.core: app for app in placed}
    for app in placed:
        for claim in claims(app.manifest):
            give(claim.block, app.core)
    for core in IO_CORES:
        if core not in by_core:
            continue
        for window in ("tcm", "sysram", "xip"):
            give(f"{core}_{window}", core)
        give(f"mbox_a7_{core}", core)
        give(f"intercore_{core}", core)
        hl = by_core.get(A7)
        if hl is not None and connected(hl.manifest, by_core[core].manifest):
            give(f"mbox_a7_{core}", A7)
            give(f"intercore_{core}", A7)
    if "io0" in by_core and "io1" in by_core and connected(by_core["io0"].manifest, by_core["io1"].manifest):
        give("mbox_io0_io1", "io0")
        give("mbox_io0_io1", "io1")
    return owners
