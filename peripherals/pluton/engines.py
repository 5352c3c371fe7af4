"""Pluton crypto engines: SHA-2, AES, HMAC, ECDSA/ECDH P-256 and the TRNG, each with a modelled latency.

Pluton has its own crypto engines and TRNG (MT3620-FACTS.md "Chip"). Which algorithms and modes they offer and
their cycle costs are not public: the set below and the figures are emulator-defined (docs/pluton.md "Engines")
and charged in Pluton core cycles at PLUTON_HZ. Every operation returns its result and adds its cost to
`Engines.cycles`, which the caller turns into virtual time. There is no RSA engine: nothing public says the
MT3620's Pluton has one, and every MT3620 image and attestation signature is ECDSA P-256.

The TRNG: raw 8-bit samples from the entropy source -> SP 800-90B section 4.4 health tests, run continuously on
every sample (repetition count test and adaptive proportion test, start-up test over 1024 samples, fail closed)
-> HMAC_DRBG (SP 800-90A Rev.1 10.1.2, SHA-256) instantiated with a personalization string derived from the
device-unique secret and reseeded from 64 fresh samples on every request (prediction resistance). In
deterministic mode (CI) the source is SHA-256 in counter mode over a seed.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from mt3620.attestation import public_key_from_raw, sign_raw, verify_raw_signature

PLUTON_HZ = 200_000_000            # emulator-defined Pluton core clock
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

# Emulator-defined costs in Pluton cycles.
SHA256_SETUP, SHA256_PER_BLOCK = 100, 80            # per 64-byte block
SHA512_SETUP, SHA512_PER_BLOCK = 100, 120           # SHA-384/512, per 128-byte block
AES_SETUP, AES_PER_BLOCK = 300, 24                  # per 16-byte block (data + AAD)
ECDSA_SIGN_CYCLES = 1_600_000                      # 8 ms at 200 MHz
ECDSA_VERIFY_CYCLES = 2_400_000                    # 12 ms
ECDH_KEYGEN_CYCLES = 1_200_000                     # also one ECDH shared-secret computation
TRNG_PER_32_BYTES = 2_000

HASHES = {"sha256": (hashlib.sha256, 64, SHA256_SETUP, SHA256_PER_BLOCK, 9),
          "sha384": (hashlib.sha384, 128, SHA512_SETUP, SHA512_PER_BLOCK, 17),
          "sha512": (hashlib.sha512, 128, SHA512_SETUP, SHA512_PER_BLOCK, 17)}
AES_MODES = ("ecb", "cbc", "ctr", "gcm")


class EngineError(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class EntropyHealthError(EngineError):
    pass


def _blocks(n: int, size: int) -> int:
    return max(1, -(-n // size))


class ShaEngine:
    """SHA-256, SHA-384 and SHA-512 (FIPS 180-4), one shot or streamed through a context."""

    def __init__(self, owner: "Engines") -> None:
        self.owner = owner

    def new(self, algorithm: str = "sha256"):
        if algorithm not in HASHES:
            raise EngineError("bad-algorithm", f"the hash engine offers {', '.join(HASHES)}, not {algorithm}")
        return hashlib.new(algorithm)

    def charge(self, algorithm: str, length: int) -> None:
        _, block, setup, per_block, pad = HASHES[algorithm]
        # The engine pads with at least `pad` bytes (0x80 and the length): ceil((n + pad) / block) blocks.
        self.owner.charge(setup + per_block * _blocks(length + pad, block))

    def digest(self, data: bytes, algorithm: str = "sha256") -> bytes:
        h = self.new(algorithm)
        self.charge(algorithm, len(data))
        h.update(bytes(data))
        return h.digest()


Sha256Engine = ShaEngine          # the name the rest of the tree used for the SHA-256-only engine


class AesEngine:
    """AES-128/192/256 in ECB, CBC, CTR (NIST SP 800-38A) and GCM (SP 800-38D). Emulator-defined limits: ECB/CBC
    data a multiple of 16 bytes (no padding: that is the caller's), CBC/CTR IV 16 bytes, GCM IV 8..128 bytes and
    tag 4..16 bytes."""

    def __init__(self, owner: "Engines") -> None:
        self.owner = owner

    @staticmethod
    def _check_key(key: bytes) -> None:
        if len(key) not in (16, 24, 32):
            raise EngineError("bad-key", "AES key must be 16, 24 or 32 bytes")

    def _charge(self, data_len: int, aad_len: int = 0) -> None:
        self.owner.charge(AES_SETUP + AES_PER_BLOCK * (_blocks(data_len, 16) + (_blocks(aad_len, 16) if aad_len else 0)))

    def crypt(self, mode: str, encrypt: bool, key: bytes, iv: bytes, data: bytes) -> bytes:
        """ECB, CBC or CTR."""
        self._check_key(key)
        if mode == "ecb":
            if iv:
                raise EngineError("bad-iv", "ECB takes no IV")
            cipher_mode = modes.ECB()
        elif mode in ("cbc", "ctr"):
            if len(iv) != 16:
                raise EngineError("bad-iv", f"{mode.upper()} takes a 16-byte IV")
            cipher_mode = modes.CBC(bytes(iv)) if mode == "cbc" else modes.CTR(bytes(iv))
        else:
            raise EngineError("bad-mode", f"the AES engine offers {', '.join(AES_MODES)}, not {mode}")
        if mode in ("ecb", "cbc") and len(data) % 16:
            raise EngineError("bad-length", f"{mode.upper()} data must be a multiple of 16 bytes")
        self._charge(len(data))
        cipher = Cipher(algorithms.AES(bytes(key)), cipher_mode)
        op = cipher.encryptor() if encrypt else cipher.decryptor()
        return op.update(bytes(data)) + op.finalize()

    @staticmethod
    def _check_gcm(key: bytes, iv: bytes, tag_len: int) -> None:
        AesEngine._check_key(key)
        if not 8 <= len(iv) <= 128:
            raise EngineError("bad-iv", "the GCM engine takes IVs of 8..128 bytes")
        if not 4 <= tag_len <= 16:
            raise EngineError("bad-tag-length", "GCM tag length must be 4..16 bytes")

    def encrypt(self, key: bytes, iv: bytes, plaintext: bytes, aad: bytes = b"", tag_len: int = 16) -> tuple[bytes, bytes]:
        """AES-GCM. Returns (ciphertext, tag truncated to tag_len)."""
        self._check_gcm(key, iv, tag_len)
        self._charge(len(plaintext), len(aad))
        enc = Cipher(algorithms.AES(bytes(key)), modes.GCM(bytes(iv))).encryptor()
        enc.authenticate_additional_data(bytes(aad))
        ct = enc.update(bytes(plaintext)) + enc.finalize()
        return ct, enc.tag[:tag_len]

    def decrypt(self, key: bytes, iv: bytes, ciphertext: bytes, tag: bytes, aad: bytes = b"") -> bytes:
        """AES-GCM. Returns the plaintext; raises EngineError('bad-tag') when authentication fails."""
        self._check_gcm(key, iv, len(tag))
        self._charge(len(ciphertext), len(aad))
        dec = Cipher(algorithms.AES(bytes(key)), modes.GCM(bytes(iv), bytes(tag), min_tag_length=4)).decryptor()
        dec.authenticate_additional_data(bytes(aad))
        try:
            return dec.update(bytes(ciphertext)) + dec.finalize()
        except InvalidTag:
            raise EngineError("bad-tag", "authentication failed") from None


AesGcmEngine = AesEngine


class HmacEngine:
    """HMAC (FIPS 198-1) over the SHA engine's algorithms."""

    def __init__(self, owner: "Engines") -> None:
        self.owner = owner

    def mac(self, key: bytes, message: bytes, algorithm: str = "sha256") -> bytes:
        if algorithm not in HASHES:
            raise EngineError("bad-algorithm", f"HMAC offers {', '.join(HASHES)}, not {algorithm}")
        block = HASHES[algorithm][1]
        sha = self.owner.sha256
        if len(key) > block:
            sha.charge(algorithm, len(key))
        sha.charge(algorithm, block + len(message))          # inner hash
        sha.charge(algorithm, block + hashlib.new(algorithm).digest_size)   # outer hash
        return hmac.new(bytes(key), bytes(message), algorithm).digest()


class EcdsaEngine:
    def __init__(self, owner: "Engines") -> None:
        self.owner = owner

    def sign(self, private_key: ec.EllipticCurvePrivateKey, message: bytes) -> bytes:
        """ECDSA P-256 / SHA-256, deterministic nonce (RFC 6979): raw r||s."""
        self.owner.sha256.digest(message)          # the hash runs on the SHA engine
        self.owner.charge(ECDSA_SIGN_CYCLES)
        return sign_raw(private_key, message, deterministic=True)

    def verify(self, public_key_64: bytes | None, message: bytes, signature: bytes) -> bool:
        """ECDSA P-256 / SHA-256. Both (r, s) and (r, n - s) verify, as the standard says (no low-s rule: real
        SDK signatures use both halves)."""
        self.owner.sha256.digest(message)
        self.owner.charge(ECDSA_VERIFY_CYCLES)
        if public_key_64 is None:
            return False
        try:
            key = public_key_from_raw(public_key_64)
        except ValueError:
            return False
        return verify_raw_signature(key, message, signature)

    def keygen(self, scalar_bytes: bytes) -> ec.EllipticCurvePrivateKey:
        """Private key from 32 bytes of DRBG or KDF output, reduced into [1, n-1]."""
        self.owner.charge(ECDH_KEYGEN_CYCLES)
        return ec.derive_private_key(int.from_bytes(scalar_bytes, "big") % (P256_ORDER - 1) + 1, ec.SECP256R1())

    def private_from_scalar(self, scalar: bytes) -> ec.EllipticCurvePrivateKey:
        """A caller's private key d (32 bytes, big-endian, 1 <= d < n) for the engine commands."""
        d = int.from_bytes(bytes(scalar), "big")
        if len(scalar) != 32 or not 1 <= d < P256_ORDER:
            raise EngineError("bad-key", "a P-256 private key is 32 bytes with 1 <= d < n")
        return ec.derive_private_key(d, ec.SECP256R1())

    def ecdh(self, private_key: ec.EllipticCurvePrivateKey, peer_point: bytes) -> bytes:
        """ECDH on P-256 (SP 800-56A, the x coordinate of d * Q). The peer's point is SEC1-encoded (65-byte
        uncompressed or 33-byte compressed) and must lie on the curve."""
        self.owner.charge(ECDH_KEYGEN_CYCLES)
        try:
            peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), bytes(peer_point))
        except ValueError:
            raise EngineError("bad-point", "the peer public key is not a P-256 point") from None
        return private_key.exchange(ec.ECDH(), peer)


# ---- TRNG ----------------------------------------------------------------------------------------------------

class CounterEntropy:
    """Deterministic entropy for CI: SHA-256(seed || counter)."""

    def __init__(self, seed: bytes) -> None:
        self.seed = bytes(seed)
        self.counter = 0

    def __call__(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            out += hashlib.sha256(self.seed + self.counter.to_bytes(8, "little")).digest()
            self.counter += 1
        return out[:n]


# SP 800-90B section 4.4 with alpha = 2^-20 for 8-bit (non-binary) samples and a claimed min-entropy of
# H = 4 bits per sample (emulator-defined claim):
#   repetition count test cutoff C = 1 + ceil(20 / H) = 6
#   adaptive proportion test window W = 1024 (non-binary samples), cutoff C = 1 + CRITBINOM(W, 2^-H, 1 - alpha)
#   = 105 (90B Table 2; tests/pluton/test_pluton_trng.py recomputes it from the binomial distribution)
CLAIMED_ENTROPY_BITS = 4
RCT_CUTOFF = 6
APT_WINDOW = 1024
APT_CUTOFF = 105
STARTUP_SAMPLES = 1024          # 90B 4.3 (9): start-up tests over at least 1024 consecutive samples


@dataclass
class HealthTests:
    """SP 800-90B continuous health tests over every raw sample, in order, across requests. A failure puts the
    source in the error state: no output until a fresh start-up test (1024 new samples) passes."""
    rct_cutoff: int = RCT_CUTOFF
    apt_window: int = APT_WINDOW
    apt_cutoff: int = APT_CUTOFF
    failures: int = 0
    error: str | None = "start-up test not run"
    # running state
    _rct_last: int | None = None
    _rct_run: int = 0
    _apt_first: int | None = None
    _apt_count: int = 0
    _apt_seen: int = 0

    def reset_state(self) -> None:
        self._rct_last, self._rct_run = None, 0
        self._apt_first, self._apt_count, self._apt_seen = None, 0, 0

    def feed(self, samples: bytes) -> str | None:
        """Run both tests over `samples`; the failure description, or None."""
        for b in samples:
            # Repetition count test (4.4.1): C or more identical samples in a row.
            if b == self._rct_last:
                self._rct_run += 1
                if self._rct_run >= self.rct_cutoff:
                    self.reset_state()
                    return f"repetition count test: {self.rct_cutoff} identical samples in a row"
            else:
                self._rct_last, self._rct_run = b, 1
            # Adaptive proportion test (4.4.2): the first sample of each W-sample window occurs C or more times.
            if self._apt_seen == 0:
                self._apt_first, self._apt_count = b, 1
            elif b == self._apt_first:
                self._apt_count += 1
                if self._apt_count >= self.apt_cutoff:
                    self.reset_state()
                    return (f"adaptive proportion test: one value {self.apt_cutoff} times in a window of "
                            f"{self.apt_window} samples")
            self._apt_seen = (self._apt_seen + 1) % self.apt_window
        return None


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
    """Entropy source -> SP 800-90B health tests -> HMAC_DRBG, reseeded on every request (prediction
    resistance). Fails closed: no output while the health tests are failing."""

    ENTROPY_BYTES = 64          # 64 samples x 4 bits claimed = 256 bits of entropy per (re)seed
    NONCE_BYTES = 32            # another 32 samples as the instantiation nonce

    def __init__(self, owner: "Engines", source: Callable[[int], bytes], personalization: bytes = b"",
                 skip_check: Callable[[str], bool] = lambda point: False) -> None:
        self.owner = owner
        self.source = source
        self.personalization = b"MT3620 Pluton TRNG" + bytes(personalization)
        self.health = HealthTests()
        self._skip = skip_check             # the glitch model: a glitch may skip one health verdict
        self._drbg: HmacDrbg | None = None

    def _samples(self, n: int) -> bytes:
        samples = bytes(self.source(n))
        if len(samples) != n:
            raise EntropyHealthError("entropy-health", "the entropy source returned the wrong number of samples")
        failure = self.health.feed(samples)
        if failure is not None and not self._skip("trng.health"):
            self.health.failures += 1
            self.health.error = failure
            raise EntropyHealthError("entropy-health", f"TRNG health test failed: {failure}")
        return samples

    def _start_up(self) -> None:
        """90B 4.3: the start-up test runs the continuous tests over 1024 fresh samples, none of them used."""
        self.health.reset_state()
        self._samples(STARTUP_SAMPLES)
        self.health.error = None

    def read(self, n: int) -> bytes:
        if n < 0:
            raise EngineError("bad-length", "negative length")
        if self.health.error is not None:
            self._start_up()                        # raises EntropyHealthError: fail closed
        try:
            entropy = self._samples(self.ENTROPY_BYTES)
            if self._drbg is None:
                self._drbg = HmacDrbg(entropy, self._samples(self.NONCE_BYTES), self.personalization)
            else:
                self._drbg.reseed(entropy)
        except EntropyHealthError:
            raise
        self.owner.charge(TRNG_PER_32_BYTES * _blocks(n, 32))
        return self._drbg.generate(n)


@dataclass
class Engines:
    """The engines of one Pluton with a shared cycle counter."""
    entropy: Callable[[int], bytes]
    personalization: bytes = b""
    skip_check: Callable[[str], bool] = lambda point: False
    cycles: int = 0
    sha256: ShaEngine = field(init=False)
    aes: AesEngine = field(init=False)
    hmac: HmacEngine = field(init=False)
    ecdsa: EcdsaEngine = field(init=False)
    trng: Trng = field(init=False)

    def __post_init__(self) -> None:
        self.sha256 = ShaEngine(self)
        self.aes = AesEngine(self)
        self.hmac = HmacEngine(self)
        self.ecdsa = EcdsaEngine(self)
        self.trng = Trng(self, self.entropy, self.personalization, self.skip_check)

    @property
    def aes_gcm(self) -> AesEngine:
        return self.aes

    @property
    def sha(self) -> ShaEngine:
        return self.sha256

    def charge(self, cycles: int) -> None:
        self.cycles += int(cycles)

    def take_cycles(self) -> int:
        spent, self.cycles = self.cycles, 0
        return spent
