"""Private key halves must not leave the core through any path: commands, registers, fuses, snapshots."""
import json
import pickle
import struct

from cryptography.hazmat.primitives.asymmetric import ec

from mt3620.peripherals.pluton import remoteapi as api
from mt3620.peripherals.pluton.efuse import WORDS
from test_pluton_attestation import SEED, reference_key
from test_pluton_mailbox import Driver


def scalar_bytes(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_numbers().private_value.to_bytes(32, "big")


def test_no_private_key_material_escapes(device, chain, mailbox, memory, clock, tmp_path, keystore):
    secrets = [scalar_bytes(reference_key(SEED, b"identity")), scalar_bytes(reference_key(SEED, b"general"))]
    secrets += [s[::-1] for s in secrets]                       # little-endian too
    device.boot(chain)
    seen = bytearray()
    payloads = {api.READ_RNG: struct.pack("<I", 2000), api.PROCESS_ATTESTATION: b"\x11" * 32,
                api.SIGN_WITH_TENANT_ATTESTATION_KEY: b"\x22" * 32, api.IS_CAPABILITY_ENABLED: struct.pack("<I", 11),
                api.SET_POSTCODE: struct.pack("<I", 1), api.SET_MANUFACTURING_STATE: struct.pack("<II", api.MANUFACTURING_MAGIC, 1)}
    for command in list(api.COMMAND_NAMES) + [0x46, 0x47, 0xFF]:
        if command == api.SEND_EVENT_BUFFERS:
            continue
        status, out = device.execute(command, payloads.get(command, b""))
        seen += out
    drv = Driver.on_ring(mailbox, memory, clock)
    drv.send(api.GET_SECURITY_STATE)
    for offset in range(0, 0x100, 4):
        seen += struct.pack("<I", mailbox.read(offset))
    seen += memory.data
    seen += b"".join(struct.pack("<I", device.fuses.read(i)) for i in range(WORDS))
    seen += pickle.dumps(mailbox.snapshot()["state"]["stats"]) + json.dumps(device.public_state()).encode()
    seen += repr(vars(device.fuses)).encode()
    for secret in secrets:
        assert secret not in seen
    # The core keeps its keys in private attributes only; no public attribute holds a private key object.
    for name, value in vars(device).items():
        if not name.startswith("_"):
            assert not isinstance(value, ec.EllipticCurvePrivateKey), name
