"""The pure Pluton core: e-fuses, device keys, engines, secure boot, attestation, capabilities, remote API.

No bus, no registers, no clock: `execute(command, payload)` returns (status, response payload) and the cycles
the engines spent, so the same core serves the mailbox facade, the Renode bridge and unit tests.

Keys (emulator-defined, docs/pluton.md): HKDF-SHA256 over the fused 256-bit DEVICE_SECRET,
salt b"MT3620-Pluton-KDF-v1", info b"identity" or b"general", 32 bytes -> scalar (x mod (n-1)) + 1.
The identity key is also the attestation key (the issue's "identity/attestation" pair): its public key X||Y is
the 64-byte device ID and verifies PROCESS_ATTESTATION evidence. GET_SECURITY_STATE returns the general and the
attestation public keys. Private halves exist only inside this object; no command, register or snapshot
returns them.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from mt3620.attestation import NONCE_SIZE, encode_evidence, public_key_from_raw, public_key_to_raw
from mt3620.imagepackage import capability as capmod
from mt3620.imagepackage.keys import Keystore, TrustedKey

from . import remoteapi as api
from .efuse import CONFIG_SECURE_BOOT, EfuseBank, EfuseError
from .engines import CounterEntropy, EngineError, Engines, EntropyHealthError
from .secureboot import BootResult, BootStage, SecureBoot, TrustedKeystore

KDF_SALT = b"MT3620-Pluton-KDF-v1"
MAX_RNG_REQUEST = api.MAX_PAYLOAD - 4
BOOT_MODE_NORMAL = 0
SECURITY_STATE_SECURE_BOOT = 0x1
SECURITY_STATE_BOOTED = 0x2


def derive_scalar_bytes(secret: bytes, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=KDF_SALT, info=label).derive(secret)


@dataclass
class Faults:
    """Fault-injection hooks for tests only; all off by default and refused until `enabled`."""
    enabled: bool = False
    skip_signature_check: bool = False
    stall_trng: bool = False
    drop_mailbox_messages: int = 0


class PlutonCore:
    def __init__(self, fuses: EfuseBank, keystore: TrustedKeystore,
                 entropy: Callable[[int], bytes] | None = None, entropy_seed: bytes | None = None) -> None:
        self.fuses = fuses
        self.keystore = keystore
        secret = fuses._secret_for_kdf()
        if entropy is None:
            seed = entropy_seed if entropy_seed is not None else derive_scalar_bytes(secret, b"trng-seed")
            entropy = CounterEntropy(seed)
        self._entropy_source = entropy
        self.engines = Engines(entropy)
        self._identity_key = self.engines.ecdsa.keygen(derive_scalar_bytes(secret, b"identity"))
        self._general_key = self.engines.ecdsa.keygen(derive_scalar_bytes(secret, b"general"))
        del secret
        self.engines.take_cycles()        # key derivation happens at power-on, before anyone waits
        self.device_id = public_key_to_raw(self._identity_key)
        self.general_public_key = public_key_to_raw(self._general_key)
        self.secure_boot = SecureBoot(fuses, keystore, self.engines)
        self.faults = Faults()
        self.last_boot: BootResult | None = None
        self.measurements: list = []
        self.postcodes: list[int] = []
        self.capabilities: set[int] = set()
        self._pending_client_key: ec.EllipticCurvePrivateKey | None = None
        self._tenant_key: ec.EllipticCurvePrivateKey | None = None
        self.reset_requests = 0
        self.on_device_reset: Callable[[], None] | None = None

    # ---- identity ---------------------------------------------------------------------------------------------
    @property
    def attestation_public_key(self) -> bytes:
        return self.device_id

    @property
    def device_id_hex(self) -> str:
        return self.device_id.hex().upper()

    # ---- faults -----------------------------------------------------------------------------------------------
    def enable_fault_injection(self) -> Faults:
        self.faults.enabled = True
        self.fuses.faults_enabled = True
        return self.faults

    def _sync_faults(self) -> None:
        on = self.faults.enabled
        self.secure_boot.skip_signature_check = on and self.faults.skip_signature_check
        if isinstance(self._entropy_source, CounterEntropy):
            self._entropy_source.stalled = on and self.faults.stall_trng
        self.engines.trng.health.forced_failure = on and self.faults.stall_trng

    # ---- secure boot ------------------------------------------------------------------------------------------
    def boot(self, stages: list[BootStage]) -> BootResult:
        self._sync_faults()
        self.engines.take_cycles()
        result = self.secure_boot.boot(stages)
        result.cycles = self.engines.take_cycles()
        self.last_boot = result
        self.measurements = list(result.measurements) if result.booted else []
        return result

    def commit_security_versions(self) -> None:
        """After a successful boot, burn each stage's anti-rollback counter up to the version that booted."""
        if not self.last_boot or not self.last_boot.booted:
            raise EfuseError("bad-value", "no successful boot to commit")
        for m in self.last_boot.measurements:
            if self.fuses.min_security_version(m.image_type) < m.security_version <= 32:
                try:
                    self.fuses.raise_security_version(m.image_type, m.security_version)
                except EfuseError as exc:
                    if exc.reason != "bad-word":
                        raise

    # ---- attestation ------------------------------------------------------------------------------------------
    def attest(self, nonce: bytes) -> bytes:
        if len(nonce) != NONCE_SIZE:
            raise ValueError(f"nonce must be {NONCE_SIZE} bytes")
        return encode_evidence(nonce, self.device_id, self.measurements,
                               lambda body: self.engines.ecdsa.sign(self._identity_key, body))

    # ---- capabilities -----------------------------------------------------------------------------------------
    def _capability_keystore(self) -> Keystore:
        return Keystore([TrustedKey(public_key_from_raw(pub), {thumb}, "rom-keystore")
                         for thumb, pub in self.keystore.keys.items()])

    def decode_capability(self, data: bytes) -> capmod.CapabilityFile:
        cap = capmod.parse(data)
        cap.verify(self._capability_keystore(), self.device_id, strict_thumbprint=True)
        return cap

    def verify_application(self, data: bytes, development_keys: TrustedKeystore | None = None):
        """Check an application image package before it may run: signed by a keystore key, or by a development
        (SDK test) key while the appDevelopment capability is enabled on this device. Returns the measurement;
        raises ImagePackageError (reasons as secure boot, plus capability-required)."""
        from mt3620.imagepackage.package import ImagePackageError
        try:
            return self.secure_boot.check_image(data, 10)[1]
        except ImagePackageError as exc:
            if exc.reason != "untrusted-signer" or development_keys is None:
                raise
        if capmod.APP_DEVELOPMENT not in self.capabilities:
            raise ImagePackageError("capability-required", "signed with a development key: the device needs the "
                                                           "appDevelopment capability")
        return self.secure_boot.check_image(data, 10, development_keys)[1]

    def install_capability(self, data: bytes) -> tuple[int, ...]:
        cap = self.decode_capability(data)
        self.capabilities |= set(cap.capabilities)
        return cap.capabilities

    # ---- remote API -------------------------------------------------------------------------------------------
    def execute(self, command: int, payload: bytes) -> tuple[int, bytes]:
        """Run one remote API command. Never raises for bad input: returns (status, response payload).
        Afterwards `engines.take_cycles()` gives the command's modelled cost in Pluton cycles."""
        self._sync_faults()
        self.engines.take_cycles()      # costs of direct (non-mailbox) calls are not billed to this command
        handler = self._HANDLERS.get(command)
        if handler is None:
            return api.E_COMMAND, b""
        try:
            return handler(self, bytes(payload))
        except EntropyHealthError:
            return api.E_RNG, b""
        except (capmod.CapabilityError, EfuseError):
            return api.E_DENIED, b""
        except (EngineError, ValueError, struct.error):
            return api.E_ARGUMENT, b""

    def _set_postcode(self, p: bytes):
        if len(p) != 4:
            return api.E_LENGTH, b""
        self.postcodes.append(struct.unpack("<I", p)[0])
        return api.OK, b""

    def _boot_mode(self, p: bytes):
        return api.OK, struct.pack("<I", BOOT_MODE_NORMAL)

    def _read_rng(self, p: bytes):
        if len(p) != 4:
            return api.E_LENGTH, b""
        (n,) = struct.unpack("<I", p)
        if not 1 <= n <= MAX_RNG_REQUEST:
            return api.E_LENGTH, b""
        return api.OK, self.engines.trng.read(n)

    def _security_state(self, p: bytes):
        state = (SECURITY_STATE_SECURE_BOOT if self.fuses.config & CONFIG_SECURE_BOOT else 0) | \
            (SECURITY_STATE_BOOTED if self.last_boot and self.last_boot.booted else 0)
        return api.OK, struct.pack("<I", state) + self.general_public_key + self.attestation_public_key

    def _is_capability_enabled(self, p: bytes):
        if len(p) != 4:
            return api.E_LENGTH, b""
        return api.OK, struct.pack("<I", int(struct.unpack("<I", p)[0] in self.capabilities))

    def _enabled_capabilities(self, p: bytes):
        caps = sorted(self.capabilities)
        return api.OK, bytes(caps).ljust(64, b"\0")

    def _generate_client_key(self, p: bytes):
        self._pending_client_key = self.engines.ecdsa.keygen(self.engines.trng.read(32))
        return api.OK, public_key_to_raw(self._pending_client_key)

    def _commit_client_key(self, p: bytes):
        if self._pending_client_key is None:
            return api.E_STATE, b""
        self._tenant_key, self._pending_client_key = self._pending_client_key, None
        return api.OK, b""

    def _tenant_public_key(self, p: bytes):
        if self._tenant_key is None:
            return api.E_STATE, b""
        return api.OK, public_key_to_raw(self._tenant_key)

    def _sign_with_tenant_key(self, p: bytes):
        if len(p) != 32:
            return api.E_LENGTH, b""
        if self._tenant_key is None:
            return api.E_STATE, b""
        return api.OK, self.engines.ecdsa.sign(self._tenant_key, p)

    def _process_attestation(self, p: bytes):
        if len(p) != NONCE_SIZE:
            return api.E_LENGTH, b""
        return api.OK, self.attest(p)

    def _device_reset(self, p: bytes):
        self.reset_requests += 1
        if self.on_device_reset:
            self.on_device_reset()
        return api.OK, b""

    def _get_manufacturing(self, p: bytes):
        return api.OK, struct.pack("<I", self.fuses.thermometer("MANUFACTURING"))

    def _set_manufacturing(self, p: bytes):
        if len(p) != 8:
            return api.E_LENGTH, b""
        magic, state = struct.unpack("<II", p)
        if magic != api.MANUFACTURING_MAGIC or state < self.fuses.thermometer("MANUFACTURING"):
            return api.E_DENIED, b""
        self.fuses.set_thermometer("MANUFACTURING", state)
        return api.OK, b""

    def _decode_capabilities(self, p: bytes):
        cap = self.decode_capability(p)
        return api.OK, struct.pack("<I", len(cap.capabilities)) + bytes(cap.capabilities)

    _HANDLERS = {
        api.SET_POSTCODE: _set_postcode, api.GET_BOOT_MODE_FLAGS: _boot_mode, api.READ_RNG: _read_rng,
        api.GET_SECURITY_STATE: _security_state, api.IS_CAPABILITY_ENABLED: _is_capability_enabled,
        api.GET_ENABLED_CAPABILITIES: _enabled_capabilities, api.GENERATE_CLIENT_AUTH_KEY: _generate_client_key,
        api.GET_TENANT_PUBLIC_KEY: _tenant_public_key, api.PROCESS_ATTESTATION: _process_attestation,
        api.SIGN_WITH_TENANT_ATTESTATION_KEY: _sign_with_tenant_key, api.COMMIT_CLIENT_AUTH_KEY: _commit_client_key,
        api.DEVICE_RESET: _device_reset, api.GET_MANUFACTURING_STATE: _get_manufacturing,
        api.SET_MANUFACTURING_STATE: _set_manufacturing, api.DECODE_CAPABILITIES: _decode_capabilities,
    }

    # ---- snapshots (no private key material) --------------------------------------------------------------------
    def public_state(self) -> dict:
        return {"device_id": self.device_id.hex(), "measurements": len(self.measurements),
                "capabilities": sorted(self.capabilities), "postcodes": list(self.postcodes)}


def make_device(seed: bytes, keystore: TrustedKeystore, efuse_path=None, **kwargs) -> PlutonCore:
    """A provisioned Pluton whose fuses (persisted at `efuse_path` if given) are reproducible from `seed`."""
    if efuse_path is not None:
        fuses = EfuseBank.open(efuse_path, seed, keystore_hash=keystore.digest())
    else:
        fuses = EfuseBank.provision(seed, keystore_hash=keystore.digest())
    return PlutonCore(fuses, keystore, **kwargs)


__all__ = ["PlutonCore", "Faults", "make_device", "derive_scalar_bytes", "BootStage"]
