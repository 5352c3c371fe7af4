"""Helpers shared by the Pluton tests (imported by name: test folders are not packages)."""
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


