import struct

from mt3620.peripherals.pluton import make_device
from mt3620.peripherals.pluton import remoteapi as api
from mt3620.peripherals.pluton.engines import CounterEntropy, EntropyHealthError, HmacDrbg, HealthGate
import pytest


def test_read_rng_is_deterministic_per_seed(keystore):
    a, b = make_device(b"s", keystore), make_device(b"s", keystore)
    ra = a.execute(api.READ_RNG, struct.pack("<I", 64))
    assert ra == b.execute(api.READ_RNG, struct.pack("<I", 64))
    assert ra[0] == api.OK and len(ra[1]) == 64
    assert a.execute(api.READ_RNG, struct.pack("<I", 64)) != ra          # the stream moves on
    c = make_device(b"s", keystore, entropy_seed=b"ci-seed")
    assert c.execute(api.READ_RNG, struct.pack("<I", 64)) != ra


def test_read_rng_length_limits(device):
    assert device.execute(api.READ_RNG, struct.pack("<I", 0))[0] == api.E_LENGTH
    assert device.execute(api.READ_RNG, struct.pack("<I", 5000))[0] == api.E_LENGTH
    assert device.execute(api.READ_RNG, b"\1\2")[0] == api.E_LENGTH


def test_stalled_trng_fails_health_gate_and_read_rng_errors(device):
    faults = device.enable_fault_injection()
    faults.stall_trng = True
    assert device.execute(api.READ_RNG, struct.pack("<I", 16)) == (api.E_RNG, b"")
    assert device.engines.trng.health.failures >= 1
    faults.stall_trng = False
    assert device.execute(api.READ_RNG, struct.pack("<I", 16))[0] == api.OK


def test_stall_hook_is_inert_until_fault_injection_enabled(device):
    device.faults.stall_trng = True            # set without enabling: must have no effect
    assert device.execute(api.READ_RNG, struct.pack("<I", 16))[0] == api.OK


def test_health_gate_repetition_and_proportion():
    gate = HealthGate()
    gate.check(bytes(range(256)) * 2)
    with pytest.raises(EntropyHealthError):
        gate.check(b"\x01\x02" + b"\x07" * 6)
    gate.check(bytes([0, 1, 0, 2, 0, 3, 0, 4]) * 64)          # symbol 0 is half the window: healthy
    dominant = bytes(0 if i % 5 != 4 else i % 200 + 1 for i in range(512))
    assert dominant.count(0) == 410
    with pytest.raises(EntropyHealthError):
        gate.check(dominant)                                     # 0 in 410 of 512 samples, runs of 4 only

def test_hmac_drbg_matches_sp800_90a_structure():
    # Two instances with equal inputs agree; reseeding changes the stream.
    a, b = HmacDrbg(b"e" * 32, b"n" * 16), HmacDrbg(b"e" * 32, b"n" * 16)
    assert a.generate(48) == b.generate(48)
    b.reseed(b"f" * 32)
    assert a.generate(32) != b.generate(32)
    src = CounterEntropy(b"x")
    assert src(100) != src(100)
