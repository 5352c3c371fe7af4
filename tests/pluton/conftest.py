import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from mt3620.attestation import public_key_to_raw
from mt3620.engine.simulation.clock import VirtualClock
from mt3620.imagepackage import KeySigner
from mt3620.peripherals.pluton import BootStage, PlutonMailbox, TrustedKeystore, make_device

from pluton_helpers import CHAIN, Memory, stage_image  # noqa: E402

VENDOR_SEED = 0xC0FFEE


@pytest.fixture
def vendor_key():
    return ec.derive_private_key(VENDOR_SEED, ec.SECP256R1())


@pytest.fixture
def signer(vendor_key):
    return KeySigner(vendor_key)


@pytest.fixture
def keystore(signer, vendor_key):
    return TrustedKeystore({signer.thumbprint: public_key_to_raw(vendor_key)})


@pytest.fixture
def device(keystore):
    return make_device(b"device-seed-1", keystore)


@pytest.fixture
def chain(signer):
    return [BootStage(t, stage_image(signer, t), stage_image(signer, t, body=b"backup")) for t in CHAIN]


@pytest.fixture
def memory():
    return Memory()


@pytest.fixture
def clock():
    return VirtualClock()


@pytest.fixture
def mailbox(device, memory, clock):
    return PlutonMailbox(clock=clock, core=device, memory=memory, buffer_windows=((0, len(memory.data)),))
