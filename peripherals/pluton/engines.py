"""Pluton crypto engines: SHA-256, AES-GCM, ECDSA P-256 and the TRNG, each with a modelled latency.

Pluton has its own crypto engines and TRNG (MT3620-FACTS.md "Chip"). Their cycle costs are not public: the
figures below are emulator-defined (docs/pluton.md) and charged in Pluton core cycles at PLUTON_HZ. Every
operation returns its result and adds its cost to `Engines.cycles`, which the caller turns into virtual time.

The TRNG is an HMAC_DRBG (NIST SP 800-90A, SHA-256) reseeded from an entropy source on every request
(prediction resistance). Entropy passes an SP 800-90B style health gate first: a repetition count test and an
adaptive proportion test over the raw samples. When the gate fails the DRBG refuses to generate, so READ_RNG
returns an error instead of weak output. In deterministic mode (CI) the entropy source is SHA-256 in counter
mode over a seed.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.asymmetric import ec

from mt3620.attestation import public_key_from_raw, sign_raw, verify_raw_signature

PLUTON_HZ = 200_000_000            # emulator-defined Pluton core clock

# Emulator-defined costs in Pluton cycles.
SHA256_SETUP, SHA256_PER_BLOCK = 100, 80            # per 64-byte block
AES_GCM_SETUP, AES_GCM_PER_BLOCK = 300, 24          # per 16-byte block (data + AAD)
ECDSA_SIGN_CYCLES = 1_600_000                      # 8 ms at 200 MHz
ECDSA_VERIFY_CYCLES = 2_400_000                    # 12 ms
ECDH_KEYGEN_CYCLES = 1_200_000
TRNG_PER_32_BYTES = 2_000


class EngineError(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class EntropyHealthError(EngineError):
    pass


def _blocks(n: int, size: int) -> int:
    return max(1, -(-n // size))


class Sha256Engine:
    def __init__(self, owner: "Engines") -> None:
        self.owner = owner

    def digest(self, data: bytes) -> bytes:
        # SHA-256 pads with at least 9 bytes: the engine processes ceil((n + 9) / 64) blocks.
        self.owner.charge(SHA256_SETUP + SHA256_PER_BLOCK * _blocks(len(data) + 9, 64))
        return hashlib.sha256(bytes(data)).digest()


class AesGcmEngine:
    """AES-GCM (NIST SP 800-38D). Emulator-defined engine limits: IV 8..128 bytes, tag 4..16 bytes."""

    def __init__(self, owner: "Engines") -> None:
        self.owner = owner

    @staticmethod
    def _check(key: bytes, iv: bytes, tag_len: int) -> None:
        if len(key) not in (16, 24, 32):
            raise EngineError("bad-key", "AES key must be 16, 24 or 32 bytes")
        if not 8 <= len(iv) <= 128:
            raise EngineError("bad-iv", "the GCM engine takes IVs of 8..128 bytes")
        if not 4 <= tag_len <= 16:
            raise EngineError("bad-tag-length", "GCM tag length must be 4..16 bytes")

    def _charge(self, data_len: int, aad_len: int) -> None:
        self.owner.charge(AES_GCM_SETUP + AES_GCM_PER_BLOCK * (_blocks(data_len, 16) + _blocks(aad_len, 16)))

    def encrypt(self, key: bytes, iv: bytes, plaintext: bytes, aad: bytes = b"", tag_len: int = 16) -> tuple[bytes, bytes]:
        """Returns (ciphertext, tag truncated to tag_len)."""
        self._check(key, iv, tag_len)
        self._charge(len(plaintext), len(aad))
        enc = Cipher(algorithms.AES(bytes(key)), modes.GCM(bytes(iv))).encryptor()
        enc.authenticate_additional_data(bytes(aad))
        ct = enc.update(bytes(plaintext)) + enc.finalize()
        return ct, enc.tag[:tag_len]

    def decrypt(self, key: bytes, iv: bytes, ciphertext: bytes, tag: bytes, aad: bytes = b"") -> bytes:
        """Returns the plaintext; raises EngineError('bad-tag') when authentication fails."""
        self._check(key, iv, len(tag))
        self._charge(len(ciphertext), len(aad))
        dec = Cipher(algorithms.AES(bytes(key)), modes.GCM(bytes(iv), bytes(tag), min_tag_length=4)).decryptor()
        dec.authenticate_additional_data(bytes(aad))
        try:
            return dec.update(bytes(ciphertext)) + dec.finalize()
        except InvalidTag:
            raise EngineError("bad-tag", "authentication failed") from None


class EcdsaEngine:
    def __init__(self, owner: "Engines") -> None:
        self.owner = owner

    def sign(self, private_key: ec.EllipticCurvePrivateKey, message: bytes) -> bytes:
        """ECDSA P-256 / SHA-256, deterministic nonce (RFC 6979): raw r||s."""
        self.owner.sha256.digest(message)          # the hash runs on the SHA engine
        self.owner.charge(ECDSA_SIGN_CYCLES)
        return sign_raw(private_key, message, deterministic=True)

    def verify(self, public_key_64: bytes, message: bytes, signature: bytes) -> bool:
        self.owner.sha256.digest(message)
        self.owner.charge(ECDSA_VERIFY_CYCLES)
        try:
            key = public_key_from_raw(public_key_64)
        except ValueError:
            return False
        return verify_raw_signature(key, message, signature)

    def keygen(self, scalar_bytes: bytes) -> ec.EllipticCurvePrivateKey:
        """Private key from 32 bytes of DRBG or KDF output, reduced into [1, n-1]."""
        self.owner.charge(ECDH_KEYGEN_CYCLES)
        n = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
        return ec.derive_private_key(int.from_bytes(scalar_bytes, "big") % (n - 1) + 1, ec.SECP256R1())


# ---- TRNG ----------------------------------------------------------------------------------------------------

class CounterEntropy:
    """Deterministic entropy for CI: SHA-256(seed || counter). `stalled` models a stuck source (one value)."""

    def __init__(self, seed: bytes) -> None:
        self.seed = bytes(seed)
        self.counter = 0
        self.stalled = False

    def __call__(self, n: int) -> bytes:
        if self.stalled:
            return b"\xA5" * n
        out = b""
        while len(out) < n:
            out += hashlib.sha256(self.seed + self.counter.to_bytes(8, "little")).digest()
            self.counter += 1
        return out[:n]


@dataclass
class HealthGate:
    """SP 800-90B 4.4 continuous tests on 8-bit samples, claimed min-entropy H = 4 bits per sample.

    Repetition count cutoff C = 1 + ceil(20 / H) = 6; adaptive proportion window 512, cutoff 410 (for H = 4 and
    alpha = 2^-20 the 90B table gives 410 for W = 512)."""
    rct_cutoff: int = 6
    apt_window: int = 512
    apt_cutoff: int = 410
    forced_failure: bool = False
    failures: int = 0

    def check(self, samples: bytes) -> None:
        if self.forced_failure:
            self.failures += 1
            raise EntropyHealthError("entropy-health", "TRNG health test failed (forced)")
        run, last = 0, None
        for b in samples:
            run = run + 1 if b == last else 1
            last = b
            if run >= self.rct_cutoff:
                self.failures += 1
                raise EntropyHealthError("entropy-health", f"TRNG repetition count test failed ({run} equal samples)")
        window = samples[:self.apt_window]
        if len(window) == self.apt_window and window.count(window[0]) >= self.apt_cutoff:
            self.failures += 1
            raise EntropyHealthError("entropy-health", "TRNG adaptive proportion test failed")


class HmacDrbg:
    """HMAC_DRBG with SHA-256 (SP 800-90A Rev.1 section 10.1.2)."""

    def __init__(self, entropy: bytes, nonce: bytes = b"", personalization: bytes = b"") -> None:
        self.key = b"\0" * 32
        self.value = b"\1" * 32
        self._update(entropy + nonce + personalization)
        self.reseed_counter = 1

    def _update(self, provided: bytes) -> None:
        self.key = hmac.new(self.key, self.value + b"\0" + provided, hashlib.sha256).digest()
        self.value = hmac.new(self.key, self.value, hashlib.sha256).digest()
        if provided:
            self.key = hmac.new(self.key, self.value + b"\1" + provided, hashlib.sha256).digest()
            self.value = hmac.new(self.key, self.value, hashlib.sha256).digest()

    def reseed(self, entropy: bytes, additional: bytes = b"") -> None:
        self._update(entropy + additional)
        self.reseed_counter = 1

    def generate(self, n: int, additional: bytes = b"") -> bytes:
        if additional:
            self._update(additional)
        out = b""
        while len(out) < n:
            self.value = hmac.new(self.key, self.value, hashlib.sha256).digest()
            out += self.value
        self._update(additional)
        self.reseed_counter += 1
        return out[:n]


class Trng:
    """Entropy source -> health gate -> HMAC_DRBG, reseeded on every request (prediction resistance)."""

    ENTROPY_BYTES = 64          # 64 samples x 4 bits = 256 bits of claimed entropy per reseed

    def __init__(self, owner: "Engines", source: Callable[[int], bytes]) -> None:
        self.owner = owner
        self.source = source
        self.health = HealthGate()
        self._drbg: HmacDrbg | None = None

    def _entropy(self) -> bytes:
        samples = self.source(self.ENTROPY_BYTES)
        self.health.check(samples)
        return samples

    def read(self, n: int) -> bytes:
        if n < 0:
            raise EngineError("bad-length", "negative length")
        entropy = self._entropy()               # raises EntropyHealthError: no output without fresh entropy
        if self._drbg is None:
            self._drbg = HmacDrbg(entropy, personalization=b"MT3620 Pluton TRNG")
        else:
            self._drbg.reseed(entropy)
        self.owner.charge(TRNG_PER_32_BYTES * _blocks(n, 32))
        return self._drbg.generate(n)


@dataclass
class Engines:
    """The engines of one Pluton with a shared cycle counter."""
    entropy: Callable[[int], bytes]
    cycles: int = 0
    sha256: Sha256Engine = field(init=False)
    aes_gcm: AesGcmEngine = field(init=False)
    ecdsa: EcdsaEngine = field(init=False)
    trng: Trng = field(init=False)

    def __post_init__(self) -> None:
        self.sha256 = Sha256Engine(self)
        self.aes_gcm = AesGcmEngine(self)
        self.ecdsa = EcdsaEngine(self)
        self.trng = Trng(self, self.entropy)

    def charge(self, cycles: int) -> None:
        self.cycles += int(cycles)

    def take_cycles(self) -> int:
        spent, self.cycles = self.cycles, 0
        return spent
