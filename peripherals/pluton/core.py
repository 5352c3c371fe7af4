"""The pure Pluton core: e-fuses, device keys, engines, secure boot, measurements, counters, remote API.

No bus, no registers, no clock: `execute(command, payload)` returns (status, response payload) and the cycles
the engines spent, so the same core serves the mailbox facade, the Renode bridge and unit tests. Virtual time
reaches it only through `now()` (the glitch model's triggers).

Keys (emulator-defined, docs/pluton.md): HKDF-SHA256 over the fused 256-bit DEVICE_SECRET,
salt b"MT3620-Pluton-KDF-v1", info = a label, 32 bytes -> scalar (x mod (n-1)) + 1 for key pairs. Labels:
identity (also the attestation key: its X||Y is the device ID), general, trng-seed, trng-personalization,
counter-store. Private halves exist only inside this object; no command, register or snapshot returns them.

Measurements: the boot chain's (secureboot.py), then one entry per application that runs (`admit`), replaced
when another image takes its place: PROCESS_ATTESTATION reports what booted and what runs now.
"""
from __future__ import annotations

import struct
import uuid
from typing import Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from mt3620.attestation import (MAX_MEASUREMENTS, NONCE_SIZE, Measurement, encode_evidence, public_key_from_raw,
                                public_key_to_raw, verify_raw_signature)
from mt3620.imagepackage import capability as capmod
from mt3620.imagepackage import package as pkgmod
from mt3620.imagepackage.keys import Keystore, TrustedKey
from mt3620.imagepackage.metadata import IMAGE_TYPE_APPLICATIONS

from . import remoteapi as api
from .counters import CounterError, MonotonicCounters
from .durable import REAL_DISK, Disk
from .efuse import CONFIG_SECURE_BOOT, EfuseBank, EfuseError
from .engines import ECDH_KEYGEN_CYCLES, HASHES, CounterEntropy, EngineError, Engines, EntropyHealthError
from .glitch import Glitches
from .secureboot import BootResult, BootStage, SecureBoot, TrustedKeystore

KDF_SALT = b"MT3620-Pluton-KDF-v1"
MAX_RNG_REQUEST = api.MAX_PAYLOAD - 4
BOOT_MODE_NORMAL = 0
SECURITY_STATE_SECURE_BOOT = 0x1
SECURITY_STATE_BOOTED = 0x2
MAX_HASH_CONTEXTS = 4
HASH_ALGORITHMS = ("sha256", "sha384", "sha512")          # engine command algorithm numbers 0, 1, 2
AES_MODE_NUMBERS = ("ecb", "cbc", "ctr", "gcm")            # engine command mode numbers 0..3


def derive_scalar_bytes(secret: bytes, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=KDF_SALT, info=label).derive(secret)


class PlutonCore:
    def __init__(self, fuses: EfuseBank, keystore: TrustedKeystore,
                 entropy: Callable[[int], bytes] | None = None, entropy_seed: bytes | None = None,
                 counters: MonotonicCounters | None = None, now: Callable[[], int] | None = None) -> None:
        self.fuses = fuses
        self.keystore = keystore
        self.glitches = Glitches(now or (lambda: 0))
        fuses.glitches = self.glitches
        secret = fuses._secret_for_kdf()
        if entropy is None:
            seed = entropy_seed if entropy_seed is not None else derive_scalar_bytes(secret, b"trng-seed")
            entropy = CounterEntropy(seed)
        self._entropy_source = entropy
        # The DRBG's personalization string is device-unique: two devices fed the same (even degenerate) entropy
        # never produce the same random numbers or client keys.
        self.engines = Engines(entropy, derive_scalar_bytes(secret, b"trng-personalization"), self.glitches.skip)
        self._identity_key = self.engines.ecdsa.keygen(derive_scalar_bytes(secret, b"identity"))
        self._general_key = self.engines.ecdsa.keygen(derive_scalar_bytes(secret, b"general"))
        self.counters = counters if counters is not None else MonotonicCounters(derive_scalar_bytes(secret,
                                                                                                   b"counter-store"))
        del secret
        self.engines.take_cycles()        # key derivation happens at power-on, before anyone waits
        self.device_id = public_key_to_raw(self._identity_key)
        self.general_public_key = public_key_to_raw(self._general_key)
        self.secure_boot = SecureBoot(fuses, keystore, self.engines, self.glitches)
        self.last_boot: BootResult | None = None
        self._last_stages: list[BootStage] = []
        self._boot_measurements: list[Measurement] = []
        self._runtime: dict[str, Measurement] = {}       # slot ("io0", "a7:<component>") -> what runs there
        self.postcodes: list[int] = []
        self.capabilities: set[int] = set()
        self._pending_client_key: ec.EllipticCurvePrivateKey | None = None
        self._tenant_key: ec.EllipticCurvePrivateKey | None = None
        self._hash_contexts: dict[int, tuple[str, object]] = {}
        self._next_context = 1
        self.reset_requests = 0
        self.on_device_reset: Callable[[], None] | None = None

    # ---- identity ---------------------------------------------------------------------------------------------
    @property
    def attestation_public_key(self) -> bytes:
        return self.device_id

    @property
    def device_id_hex(self) -> str:
        return self.device_id.hex().upper()

    # ---- secure boot ------------------------------------------------------------------------------------------
    def boot(self, stages: list[BootStage]) -> BootResult:
        """Power-on: run the ROM's secure boot over the flash's stages. Forgets what ran before."""
        self.engines.take_cycles()
        result = self.secure_boot.boot(stages)
        result.cycles = self.engines.take_cycles()
        self.last_boot = result
        self._last_stages = list(stages)
        self._boot_measurements = list(result.measurements) if result.booted else []
        self._runtime.clear()
        return result

    @property
    def booted(self) -> bool:
        return bool(self.last_boot and self.last_boot.booted)

    @property
    def measurements(self) -> list[Measurement]:
        """What PROCESS_ATTESTATION reports: the boot chain's measurements, then what runs now."""
        return self._boot_measurements + list(self._runtime.values())

    def commit_security_versions(self, flash=None) -> list[tuple[int, int]]:
        """After a successful boot, burn each stage's anti-rollback counter up to the version that booted.

        A/B consistency: a counter may only move once the stage's other flash copy would still boot under it.
        With `flash` (an object with `write(image_type, slot, data)`, durable), the other copy is first made a
        copy of the image that booted, then the fuses are burnt; a power cut anywhere leaves both copies bootable
        under whatever counter value is on the fuses. Without `flash`, a counter stops at the version of a valid
        other copy, so no valid backup is stranded. Returns the (image type, new minimum) pairs burnt."""
        if not self.booted:
            raise EfuseError("bad-value", "no successful boot to commit")
        plan: list[tuple[int, int]] = []
        for stage, result in zip(self._last_stages, self.last_boot.stages):
            m = result.measurement
            if self.fuses.counter_capacity(m.image_type) is None:
                continue
            current = self.fuses.min_security_version(m.image_type)
            target = m.security_version
            if target <= current:
                continue
            other = "backup" if result.copy == "primary" else "primary"
            booted_copy, other_copy = stage.copy(result.copy), stage.copy(other)
            if other_copy != booted_copy:
                if flash is not None:
                    flash.write(stage.image_type, other, booted_copy)
                    setattr(stage, other, booted_copy)
                else:
                    other_version = self._valid_version(other_copy, stage.image_type)
                    if other_version is not None and other_version < target:
                        target = max(current, other_version)
            if target > current:
                plan.append((m.image_type, target))
        for image_type, target in plan:            # only after every copy is consistent
            self.fuses.raise_security_version(image_type, target)
        return plan

    def _valid_version(self, data: bytes | None, image_type: int) -> int | None:
        if data is None:
            return None
        try:
            pkg, _ = self.secure_boot.check_image(data, image_type, self.secure_boot.active_keystore,
                                                  enforce_svn=False)
        except pkgmod.ImagePackageError:
            return None
        return pkg.security_version

    # ---- applications ---------------------------------------------------------------------------------------------
    def _active_keystore(self) -> TrustedKeystore:
        return self.secure_boot.active_keystore or self.keystore

    def verify_application(self, data: bytes, development_keys: TrustedKeystore | None = None,
                           trusted: Keystore | None = None,
                           verify_signature: bool = True) -> tuple[pkgmod.ImagePackage, Measurement]:
        """Check an application image package before it may run (the security monitor asks Pluton to verify an
        image before it starts an IO core or the OS launches it; ASOS security_monitor.h). It must be signed by a
        keystore key (ROM or staged), or by a key the OS trusts (`trusted`), or by a development key (the SDK
        test key) while this device holds the appDevelopment capability; and its security version must be at
        least the component's counter. Signature and version are each checked twice. Returns the package and its
        measurement; raises ImagePackageError (reasons as secure boot, plus capability-required, svn-rollback,
        counter-store-corrupt). `verify_signature=False` (an unverified sideload) checks only the version."""
        pkg = pkgmod.parse(data)
        if pkg.image_type != IMAGE_TYPE_APPLICATIONS:
            raise pkgmod.ImagePackageError("wrong-image-type", f"image type {pkg.image_type} is not an application")
        sb = self.secure_boot
        if verify_signature:
            self._check_application_signature(pkg, development_keys, trusted)
        try:
            self.counters.get(pkg.component_id)
        except CounterError as exc:
            raise pkgmod.ImagePackageError(exc.reason, str(exc)) from None
        sb.require("app.svn", lambda: pkg.security_version >= self.counters.get(pkg.component_id), "svn-rollback",
                   f"security version {pkg.security_version} of component {pkg.component_id} is below its counter "
                   f"{self.counters.get(pkg.component_id)}")
        return pkg, sb.measure(pkg)

    def _check_application_signature(self, pkg: pkgmod.ImagePackage, development_keys: TrustedKeystore | None,
                                     trusted: Keystore | None) -> None:
        sb = self.secure_boot
        signed, signature = pkg.signed.signed_bytes, pkg.signed.signature
        # Which key: the keystore's key for the SG thumbprint; else the first key the OS trusts that verifies
        # (a bare public key has no certificate thumbprint on file); else a development key for the thumbprint.
        # Choosing the key is not a check: the checks below decide, twice.
        rom = self._active_keystore().keys.get(pkg.thumbprint)
        candidates, named = ([rom], True) if rom is not None else ([], False)
        if rom is None and trusted is not None:
            matching = trusted.by_thumbprint(pkg.thumbprint)
            candidates, named = [k.raw for k in matching + [k for k in trusted.keys if k not in matching]], bool(matching)
        key = next((k for k in candidates if verify_raw_signature(public_key_from_raw(k), signed, signature)),
                   candidates[0] if named else None)
        if key is None and development_keys is not None and pkg.thumbprint in development_keys.keys:
            sb.require("app.capability", lambda: capmod.APP_DEVELOPMENT in self.capabilities, "capability-required",
                       "signed with a development key: the device needs the appDevelopment capability", twice=False)
            key = development_keys.keys[pkg.thumbprint]
        keys = [key] if key is not None else []
        sb.require("app.signer", lambda: bool(keys), "untrusted-signer",
                   f"signer {pkg.thumbprint.hex()} is not trusted by this device", twice=False)
        sb.require("app.signature", lambda: bool(keys) and self.engines.ecdsa.verify(keys[0], signed, signature),
                   "bad-signature", "application signature does not verify")

    def admit(self, slot: str, measurement: Measurement) -> None:
        """Record what now runs in `slot` (an IO core, or one A7 app): it replaces what ran there before."""
        runtime = dict(self._runtime)
        runtime.pop(slot, None)
        if len(self._boot_measurements) + len(runtime) + 1 > MAX_MEASUREMENTS:
            raise pkgmod.ImagePackageError("measurement-log-full", f"Pluton reports at most {MAX_MEASUREMENTS} "
                                                                   "measurements: nothing more may run")
        runtime[slot] = measurement
        self._runtime = runtime

    def release(self, slot: str) -> None:
        """What ran in `slot` stopped."""
        self._runtime.pop(slot, None)

    def commit_application(self, component: uuid.UUID, security_version: int) -> bool:
        """After an application started, move its component's counter up to its version (never down)."""
        try:
            return self.counters.advance(component, security_version)
        except CounterError as exc:
            raise pkgmod.ImagePackageError(exc.reason, str(exc)) from None

    # ---- attestation ------------------------------------------------------------------------------------------
    def attest(self, nonce: bytes) -> bytes:
        if len(nonce) != NONCE_SIZE:
            raise ValueError(f"nonce must be {NONCE_SIZE} bytes")
        return encode_evidence(nonce, self.device_id, self.measurements,
                               lambda body: self.engines.ecdsa.sign(self._identity_key, body))

    # ---- capabilities -----------------------------------------------------------------------------------------
    def _capability_keystore(self) -> Keystore:
        return Keystore([TrustedKey(public_key_from_raw(pub), {thumb}, "rom-keystore")
                         for thumb, pub in self._active_keystore().keys.items()])

    def decode_capability(self, data: bytes) -> capmod.CapabilityFile:
        cap = capmod.parse(data)
        cap.verify(self._capability_keystore(), self.device_id, strict_thumbprint=True)
        return cap

    def install_capability(self, data: bytes) -> tuple[int, ...]:
        cap = self.decode_capability(data)
        self.capabilities |= set(cap.capabilities)
        return cap.capabilities

    # ---- remote API -------------------------------------------------------------------------------------------
    def execute(self, command: int, payload: bytes) -> tuple[int, bytes]:
        """Run one remote API command. Never raises for bad input: returns (status, response payload).
        Afterwards `engines.take_cycles()` gives the command's modelled cost in Pluton cycles."""
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
        except EngineError as exc:
            return (api.E_AUTH if exc.reason == "bad-tag" else api.E_ARGUMENT), b""
        except (ValueError, struct.error):
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
            (SECURITY_STATE_BOOTED if self.booted else 0)
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

    # ---- engine commands (emulator-defined: no public interface gives callers the engines) ----------------------
    # Callers bring their own keys and data; no engine command ever uses a device key. A request's size in its
    # buffer is rounded up to 4 bytes (remote API), so every variable-length field carries its length and at most
    # 3 zero bytes of padding may follow the last one.
    @staticmethod
    def _fields(p: bytes, header: str, *lengths: int) -> tuple:
        """Unpack `header` then byte fields of the given lengths; raise struct.error / ValueError when the
        request is shorter or carries more than padding after them."""
        size = struct.calcsize(header)
        values = struct.unpack_from(header, p) if size else ()
        at, fields = size, []
        for n in lengths:
            if at + n > len(p):
                raise struct.error("request shorter than its fields")
            fields.append(p[at:at + n])
            at += n
        if len(p) - at > 3 or any(p[at:]):
            raise ValueError("bytes after the last field")
        return values, fields

    def _hash_init(self, p: bytes):
        (alg,), _ = self._fields(p, "<I")
        if alg >= len(HASH_ALGORITHMS):
            return api.E_ARGUMENT, b""
        if len(self._hash_contexts) >= MAX_HASH_CONTEXTS:
            return api.E_BUSY, b""
        handle = self._next_context
        self._next_context = self._next_context % 0xFFFF + 1
        self._hash_contexts[handle] = (HASH_ALGORITHMS[alg], self.engines.sha.new(HASH_ALGORITHMS[alg]))
        return api.OK, struct.pack("<I", handle)

    def _hash_update(self, p: bytes):
        (handle, length), _ = self._fields(p[:8], "<II")
        _, (data,) = self._fields(p, "<II", length)
        ctx = self._hash_contexts.get(handle)
        if ctx is None:
            return api.E_STATE, b""
        algorithm, h = ctx
        self.engines.sha.charge(algorithm, length)
        h.update(data)
        return api.OK, b""

    def _hash_final(self, p: bytes):
        (handle,), _ = self._fields(p, "<I")
        ctx = self._hash_contexts.pop(handle, None)
        if ctx is None:
            return api.E_STATE, b""
        return api.OK, ctx[1].digest()

    def _hmac(self, p: bytes):
        (alg, key_len, msg_len), _ = self._fields(p[:8], "<IHH")
        _, (key, message) = self._fields(p, "<IHH", key_len, msg_len)
        if alg >= len(HASH_ALGORITHMS):
            return api.E_ARGUMENT, b""
        return api.OK, self.engines.hmac.mac(key, message, HASH_ALGORITHMS[alg])

    def _aes(self, p: bytes):
        # u8 mode, u8 encrypt, u8 key_len, u8 tag_len, u16 iv_len, u16 aad_len, u16 data_len, u16 0,
        # key, iv, aad, data, tag (GCM decrypt only)
        head = "<BBBBHHHH"
        (mode, encrypt, key_len, tag_len, iv_len, aad_len, data_len, _), _ = self._fields(p[:12], head)
        if mode >= len(AES_MODE_NUMBERS) or encrypt > 1:
            return api.E_ARGUMENT, b""
        name = AES_MODE_NUMBERS[mode]
        if aad_len and name != "gcm":
            return api.E_ARGUMENT, b""
        tag_in = tag_len if name == "gcm" and not encrypt else 0
        _, (key, iv, aad, data, tag) = self._fields(p, head, key_len, iv_len, aad_len, data_len, tag_in)
        if name != "gcm":
            return api.OK, self.engines.aes.crypt(name, bool(encrypt), key, iv, data)
        if encrypt:
            ct, tag = self.engines.aes.encrypt(key, iv, data, aad, tag_len)
            return api.OK, ct + tag
        return api.OK, self.engines.aes.decrypt(key, iv, data, tag, aad)

    def _ecdsa_sign(self, p: bytes):
        (length,), _ = self._fields(p[32:36], "<I")
        _, (d, _, message) = self._fields(p, "", 32, 4, length)
        return api.OK, self.engines.ecdsa.sign(self.engines.ecdsa.private_from_scalar(d), message)

    def _ecdsa_verify(self, p: bytes):
        (length,), _ = self._fields(p[128:132], "<I")
        _, (q, sig, _, message) = self._fields(p, "", 64, 64, 4, length)
        return api.OK, struct.pack("<I", int(self.engines.ecdsa.verify(q, message, sig)))

    def _ecdh(self, p: bytes):
        (length,), _ = self._fields(p[32:36], "<I")
        _, (d, _, point) = self._fields(p, "", 32, 4, length)
        return api.OK, self.engines.ecdsa.ecdh(self.engines.ecdsa.private_from_scalar(d), point)

    def _ecc_public(self, p: bytes):
        _, (d,) = self._fields(p, "", 32)
        key = self.engines.ecdsa.private_from_scalar(d)
        self.engines.charge(ECDH_KEYGEN_CYCLES)          # one scalar multiplication
        return api.OK, public_key_to_raw(key)

    _HANDLERS = {
        api.SET_POSTCODE: _set_postcode, api.GET_BOOT_MODE_FLAGS: _boot_mode, api.READ_RNG: _read_rng,
        api.GET_SECURITY_STATE: _security_state, api.IS_CAPABILITY_ENABLED: _is_capability_enabled,
        api.GET_ENABLED_CAPABILITIES: _enabled_capabilities, api.GENERATE_CLIENT_AUTH_KEY: _generate_client_key,
        api.GET_TENANT_PUBLIC_KEY: _tenant_public_key, api.PROCESS_ATTESTATION: _process_attestation,
        api.SIGN_WITH_TENANT_ATTESTATION_KEY: _sign_with_tenant_key, api.COMMIT_CLIENT_AUTH_KEY: _commit_client_key,
        api.DEVICE_RESET: _device_reset, api.GET_MANUFACTURING_STATE: _get_manufacturing,
        api.SET_MANUFACTURING_STATE: _set_manufacturing, api.DECODE_CAPABILITIES: _decode_capabilities,
        api.ENGINE_HASH_INIT: _hash_init, api.ENGINE_HASH_UPDATE: _hash_update, api.ENGINE_HASH_FINAL: _hash_final,
        api.ENGINE_HMAC: _hmac, api.ENGINE_AES: _aes, api.ENGINE_ECDSA_SIGN: _ecdsa_sign,
        api.ENGINE_ECDSA_VERIFY: _ecdsa_verify, api.ENGINE_ECDH: _ecdh, api.ENGINE_ECC_PUBLIC_KEY: _ecc_public,
    }

    # ---- snapshots (no private key material) --------------------------------------------------------------------
    def public_state(self) -> dict:
        return {"device_id": self.device_id.hex(), "measurements": len(self.measurements),
                "capabilities": sorted(self.capabilities), "postcodes": list(self.postcodes)}


def make_device(seed: bytes, keystore: TrustedKeystore, efuse_path=None, counters_path=None,
                disk: Disk = REAL_DISK, **kwargs) -> PlutonCore:
    """A provisioned Pluton whose fuses (persisted at `efuse_path` if given) are reproducible from `seed`; its
    application counters persist at `counters_path` when given."""
    if efuse_path is not None:
        fuses = EfuseBank.open(efuse_path, seed, disk=disk, keystore_hash=keystore.digest())
    else:
        fuses = EfuseBank.provision(seed, keystore_hash=keystore.digest(), disk=disk)
    if counters_path is not None and "counters" not in kwargs:
        key = derive_scalar_bytes(fuses._secret_for_kdf(), b"counter-store")
        kwargs["counters"] = MonotonicCounters(key, counters_path, disk)
    return PlutonCore(fuses, keystore, **kwargs)


__all__ = ["PlutonCore", "make_device", "derive_scalar_bytes", "BootStage", "HASHES"]
