"""The A7's view of Pluton through the machine: register traffic on the A7 bus, replies in virtual time."""
import pytest

from mt3620.attestation import verify_evidence
from mt3620.engine.machine import Machine
from mt3620.engine.simulation.clock import PS_PER_SECOND
from mt3620.peripherals.pluton import remoteapi as api
from mt3620.peripherals.pluton.a7_driver import PlutonDriver, PlutonError


@pytest.fixture
def machine():
    return Machine(device_seed=b"driver-test")


@pytest.fixture
def driver(machine):
    return PlutonDriver(machine.view("a7"), lambda cond, t: machine.run(duration_ps=t, until=cond))


def test_security_state_names_this_device(machine, driver):
    state, general, attestation = driver.security_state()
    assert attestation == machine.pluton.device_id and len(general) == 64 and general != attestation


def test_attestation_takes_modelled_time_and_verifies(machine, driver):
    driver.security_state()
    start = machine.clock.now
    challenge = bytes(range(32, 64))
    evidence = verify_evidence(driver.process_attestation(challenge), machine.pluton.device_id)
    assert evidence.nonce == challenge
    assert machine.clock.now - start >= 8 * PS_PER_SECOND // 1000   # ECDSA signing latency in virtual time


def test_rng_and_errors(driver):
    assert len(driver.read_rng(16)) == 16 and driver.read_rng(16) != driver.read_rng(16)
    with pytest.raises(PlutonError, match="E_LENGTH"):
        driver.process_attestation(b"short")


def test_same_seed_same_identity_different_seed_different_identity():
    a, b, c = (Machine(device_seed=s).pluton.device_id for s in (b"x", b"x", b"y"))
    assert a == b != c
    assert api.PROTOCOL_VERSION == 2
