"""The TRNG: SP 800-90B health tests (continuous, right windows and cutoffs, fail closed), a device-unique
DRBG personalization, and NIST CAVP HMAC_DRBG known answers."""
import json
import math
import struct
from pathlib import Path

import pytest

from mt3620.peripherals.pluton import make_device
from mt3620.peripherals.pluton import remoteapi as api
from mt3620.peripherals.pluton.engines import (APT_CUTOFF, APT_WINDOW, CLAIMED_ENTROPY_BITS, RCT_CUTOFF,
                                               CounterEntropy, HealthTests, HmacDrbg)

DATA = Path(__file__).parent / "data"


def rng(device, n=64):
    return device.execute(api.READ_RNG, struct.pack("<I", n))


class Source:
    """A scripted entropy source: healthy counter-mode output, or a pattern, switchable at run time."""

    def __init__(self, seed=b"src"):
        self.healthy = CounterEntropy(seed)
        self.pattern = None

    def __call__(self, n):
        if self.pattern is None:
            return self.healthy(n)
        return bytes(self.pattern(i) for i in range(n))


def test_cutoffs_are_sp800_90b_values_for_the_claimed_entropy():
    # Repetition count: C = 1 + ceil(-log2(alpha) / H), alpha = 2^-20.
    assert RCT_CUTOFF == 1 + math.ceil(20 / CLAIMED_ENTROPY_BITS)
    # Adaptive proportion: non-binary samples use W = 1024; C = 1 + CRITBINOM(W, 2^-H, 1 - alpha).
    assert APT_WINDOW == 1024
    p, cdf, k = 2.0 ** -CLAIMED_ENTROPY_BITS, 0.0, 0
    while True:
        cdf += math.comb(APT_WINDOW, k) * p ** k * (1 - p) ** (APT_WINDOW - k)
        if cdf >= 1 - 2.0 ** -20:
            break
        k += 1
    assert APT_CUTOFF == 1 + k == 105          # 410 would be the value for H = 0.5 with W = 512


def test_reads_are_deterministic_per_seed_and_move_on(keystore):
    a, b = make_device(b"s", keystore), make_device(b"s", keystore)
    ra = rng(a)
    assert ra == rng(b) and ra[0] == api.OK and len(ra[1]) == 64
    assert rng(a) != ra
    assert rng(make_device(b"s", keystore, entropy_seed=b"ci-seed")) != ra


def test_read_rng_length_limits(device):
    assert rng(device, 0)[0] == api.E_LENGTH
    assert rng(device, 5000)[0] == api.E_LENGTH
    assert device.execute(api.READ_RNG, b"\1\2")[0] == api.E_LENGTH


def test_periodic_source_fails_the_adaptive_proportion_test(keystore):
    """0,1,0,1...: no runs for the repetition count test, but one value in half of every window. The old gate ran
    the proportion test only on 512-sample draws while each reseed drew 64, so this source passed."""
    src = Source()
    src.pattern = lambda i: i % 2
    device = make_device(b"periodic", keystore, entropy=src)
    assert rng(device) == (api.E_RNG, b"")
    assert "adaptive proportion" in device.engines.trng.health.error


def test_proportion_test_runs_across_requests(keystore):
    """A source that is healthy in every single 64-sample draw but biased over the window: 1 sample in 8 is 0x00,
    never two in a row. Each draw alone could not show it; the continuous window does."""
    src = Source()
    device = make_device(b"biased", keystore, entropy=src)
    assert rng(device)[0] == api.OK                     # start-up passed on healthy samples
    healthy = CounterEntropy(b"biased")
    src.pattern = lambda i, stream=iter(lambda: healthy(1)[0] | 1, None): 0 if i % 8 == 0 else next(stream)
    statuses = [rng(device)[0] for _ in range(3 * APT_WINDOW // 64)]    # windows are not aligned to draws
    assert statuses[0] == api.OK and api.E_RNG in statuses


def test_repetition_run_across_two_requests_is_caught(keystore):
    class Split:
        def __init__(self):
            self.inner, self.calls = CounterEntropy(b"split"), 0

        def __call__(self, n):
            self.calls += 1
            data = bytearray(self.inner(n))
            if self.calls == 3:
                data[-3:] = b"\x7e" * 3           # a run of 3 at the end of one draw ...
            if self.calls == 4:
                data[:3] = b"\x7e" * 3            # ... continued by 3 more at the start of the next
            return bytes(data)

    device = make_device(b"split", keystore, entropy=Split())
    assert rng(device)[0] == api.OK                 # calls 1 (start-up), 2 (entropy), then the nonce is call 3
    assert rng(device) == (api.E_RNG, b"")           # call 4 completes the run of 6 identical samples
    assert "repetition count" in device.engines.trng.health.error


def test_stalled_source_fails_closed_until_a_fresh_start_up_test_passes(keystore):
    src = Source()
    device = make_device(b"stall", keystore, entropy=src)
    assert rng(device)[0] == api.OK
    src.pattern = lambda i: 0xA5
    for _ in range(3):
        assert rng(device) == (api.E_RNG, b"")       # fail closed: no output while unhealthy
    failures = device.engines.trng.health.failures
    assert failures >= 3
    src.pattern = None
    assert rng(device)[0] == api.OK                 # the start-up test ran again over 1024 fresh samples


def test_two_devices_with_the_same_degenerate_source_make_different_keys(keystore):
    """A source that passes the health tests but is the same on two devices (a cloned or predictable source):
    the DRBG's device-unique personalization keeps their client keys apart."""
    a = make_device(b"device-a", keystore, entropy=CounterEntropy(b"same-source"))
    b = make_device(b"device-b", keystore, entropy=CounterEntropy(b"same-source"))
    key_a, key_b = a.execute(api.GENERATE_CLIENT_AUTH_KEY, b""), b.execute(api.GENERATE_CLIENT_AUTH_KEY, b"")
    assert key_a[0] == key_b[0] == api.OK
    assert key_a[1] != key_b[1]
    assert rng(a) != rng(b)


def test_a_glitch_can_skip_one_health_verdict(keystore):
    src = Source()
    device = make_device(b"glitch-trng", keystore, entropy=src)
    assert rng(device)[0] == api.OK
    src.pattern = lambda i: 0x11
    device.glitches.arm("skip:trng.health@1")
    assert rng(device)[0] == api.OK                 # the glitched verdict let one weak reseed through ...
    assert rng(device) == (api.E_RNG, b"")           # ... the next one is caught
    assert [g.point for g in device.glitches.fired] == ["trng.health"]


def test_health_tests_state_machine():
    tests = HealthTests()
    assert tests.feed(bytes(range(256)) * 8) is None
    assert "repetition" in tests.feed(b"\x01\x02" + b"\x07" * RCT_CUTOFF)
    assert tests.feed(b"\x07" * (RCT_CUTOFF - 1)) is None     # a failure restarts the counts


def test_hmac_drbg_nist_cavp_known_answers():
    doc = json.loads((DATA / "hmac_drbg_sha256_nist.json").read_text())
    count = 0
    for v in doc["vectors"]:
        drbg = HmacDrbg(bytes.fromhex(v["EntropyInput"]), bytes.fromhex(v["Nonce"]),
                        bytes.fromhex(v["PersonalizationString"]))
        out_len = len(v["ReturnedBits"]) // 2
        drbg.generate(out_len, bytes.fromhex(v["AdditionalInput"][0]))
        assert drbg.generate(out_len, bytes.fromhex(v["AdditionalInput"][1])).hex() == v["ReturnedBits"], count
        count += 1
    assert count == 30


def test_hmac_drbg_reseed_changes_the_stream():
    a, b = HmacDrbg(b"e" * 32, b"n" * 16), HmacDrbg(b"e" * 32, b"n" * 16)
    assert a.generate(48) == b.generate(48)
    b.reseed(b"f" * 32)
    assert a.generate(32) != b.generate(32)


@pytest.mark.parametrize("n", [1, 31, 32, 33, 2040])
def test_read_rng_sizes(device, n):
    status, out = rng(device, n)
    assert status == api.OK and len(out) == n
