"""The A7 <-> Pluton remote API: message word, command numbers, shared buffer layout, status codes.

Public facts (ASOS include/azure-sphere/pluton_remoteapi.h and drivers/.../pluton_remoteapi.c):
- the mailbox CMD word is {u8 version = 2, u8 sequence_number, u8 command, u8 buffer_index} (little-endian, so
  version is bits 7:0); sequence 0 is reserved for unsolicited messages and SEND_EVENT_BUFFERS;
- SEND_EVENT_BUFFERS hands Pluton a table {u16 m4_buffer_count, u16 a7_buffer_count, 128 x {u32 m4_address,
  u32 a7_buffer, u16 length, u8 available, u8 index}} followed by 2048-byte buffers (M4-originated first);
- a request occupies one A7 buffer: {u16 message_size (payload length rounded up to 4), u16 padding, payload};
  the response comes back in the same buffer with the same word.
Emulator-defined (docs/pluton.md): the table address travels in DATA_POST with SEND_EVENT_BUFFERS; every reply
carries a status code in the DATA word and as the first u32 of the response payload; the payloads of each
command are listed in docs/pluton.md.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

PROTOCOL_VERSION = 2
BUFFER_SIZE = 2048
MESSAGE_HEADER = 4
MAX_PAYLOAD = BUFFER_SIZE - MESSAGE_HEADER
MAX_BUFFERS = 128
TABLE_HEADER = 4
TABLE_ENTRY = 12
TABLE_SIZE = TABLE_HEADER + MAX_BUFFERS * TABLE_ENTRY     # 1540 bytes
MANUFACTURING_MAGIC = 0x5F04C5AB                          # PLUTON_SET_MANUFACTURING_STATE_MAGICNUM

SEND_EVENT_BUFFERS = 0x01
SET_POSTCODE = 0x02
GET_BOOT_MODE_FLAGS = 0x03
READ_RNG = 0x40
GET_SECURITY_STATE = 0x41
IS_CAPABILITY_ENABLED = 0x48
GET_ENABLED_CAPABILITIES = 0x49
GENERATE_CLIENT_AUTH_KEY = 0x4A
GET_TENANT_PUBLIC_KEY = 0x4B
PROCESS_ATTESTATION = 0x4C
SIGN_WITH_TENANT_ATTESTATION_KEY = 0x4D
COMMIT_CLIENT_AUTH_KEY = 0x4E
DEVICE_RESET = 0x50
GET_MANUFACTURING_STATE = 0x51
SET_MANUFACTURING_STATE = 0x52
DECODE_CAPABILITIES = 0x56

# Engine commands (emulator-defined, docs/pluton.md "Engine commands"): the public remote API gives callers no
# access to the SHA, AES or ECC engines, so the emulator adds these in an unused range; they take the caller's
# own keys and data, never a device key. Payload layouts are in docs/pluton.md.
ENGINE_HASH_INIT = 0x60
ENGINE_HASH_UPDATE = 0x61
ENGINE_HASH_FINAL = 0x62
ENGINE_HMAC = 0x63
ENGINE_AES = 0x64
ENGINE_ECDSA_SIGN = 0x65
ENGINE_ECDSA_VERIFY = 0x66
ENGINE_ECDH = 0x67
ENGINE_ECC_PUBLIC_KEY = 0x68

COMMAND_NAMES = {
    SEND_EVENT_BUFFERS: "SEND_EVENT_BUFFERS", SET_POSTCODE: "SET_POSTCODE", GET_BOOT_MODE_FLAGS: "GET_BOOT_MODE_FLAGS",
    READ_RNG: "READ_RNG", GET_SECURITY_STATE: "GET_SECURITY_STATE", IS_CAPABILITY_ENABLED: "IS_CAPABILITY_ENABLED",
    GET_ENABLED_CAPABILITIES: "GET_ENABLED_CAPABILITIES", GENERATE_CLIENT_AUTH_KEY: "GENERATE_CLIENT_AUTH_KEY",
    GET_TENANT_PUBLIC_KEY: "GET_TENANT_PUBLIC_KEY", PROCESS_ATTESTATION: "PROCESS_ATTESTATION",
    SIGN_WITH_TENANT_ATTESTATION_KEY: "SIGN_WITH_TENANT_ATTESTATION_KEY", COMMIT_CLIENT_AUTH_KEY: "COMMIT_CLIENT_AUTH_KEY",
    DEVICE_RESET: "DEVICE_RESET", GET_MANUFACTURING_STATE: "GET_MANUFACTURING_STATE",
    SET_MANUFACTURING_STATE: "SET_MANUFACTURING_STATE", DECODE_CAPABILITIES: "DECODE_CAPABILITIES",
    ENGINE_HASH_INIT: "ENGINE_HASH_INIT", ENGINE_HASH_UPDATE: "ENGINE_HASH_UPDATE", ENGINE_HASH_FINAL: "ENGINE_HASH_FINAL",
    ENGINE_HMAC: "ENGINE_HMAC", ENGINE_AES: "ENGINE_AES", ENGINE_ECDSA_SIGN: "ENGINE_ECDSA_SIGN",
    ENGINE_ECDSA_VERIFY: "ENGINE_ECDSA_VERIFY", ENGINE_ECDH: "ENGINE_ECDH", ENGINE_ECC_PUBLIC_KEY: "ENGINE_ECC_PUBLIC_KEY",
}

# Status codes (emulator-defined).
OK = 0
E_VERSION = 1         # message word version is not 2
E_INDEX = 2           # buffer index outside the A7 buffers of the registered ring (or no ring yet)
E_LENGTH = 3          # message_size does not fit the buffer, or the command's payload size is wrong
E_BUSY = 4            # a request is already being processed (Pluton serves one at a time)
E_COMMAND = 5         # unknown command
E_ARGUMENT = 6        # payload content invalid
E_RNG = 7             # TRNG entropy health test failed
E_DENIED = 8          # refused by policy (bad magic, fuse rules, capability not for this device, bad signature)
E_STATE = 9           # command not valid in the current state (no pending / committed key)
E_SEQUENCE = 10       # sequence 0 is reserved for unsolicited messages
E_ADDRESS = 11        # a ring table or buffer address outside the memory the caller may hand Pluton
E_AUTH = 12           # authenticated decryption failed (GCM tag)
STATUS_NAMES = {OK: "OK", E_VERSION: "E_VERSION", E_INDEX: "E_INDEX", E_LENGTH: "E_LENGTH", E_BUSY: "E_BUSY",
                E_COMMAND: "E_COMMAND", E_ARGUMENT: "E_ARGUMENT", E_RNG: "E_RNG", E_DENIED: "E_DENIED",
                E_STATE: "E_STATE", E_SEQUENCE: "E_SEQUENCE", E_ADDRESS: "E_ADDRESS", E_AUTH: "E_AUTH"}


@dataclass(frozen=True)
class Word:
    version: int
    sequence: int
    command: int
    buffer_index: int

    @classmethod
    def decode(cls, value: int) -> "Word":
        return cls(value & 0xFF, (value >> 8) & 0xFF, (value >> 16) & 0xFF, (value >> 24) & 0xFF)

    def encode(self) -> int:
        return (self.version & 0xFF) | (self.sequence & 0xFF) << 8 | (self.command & 0xFF) << 16 | \
            (self.buffer_index & 0xFF) << 24


def encode_message(payload: bytes) -> bytes:
    """Request or response as it sits in a shared buffer: u16 size (rounded up to 4), u16 padding, payload."""
    size = -(-len(payload) // 4) * 4
    if size > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes does not fit a {BUFFER_SIZE}-byte buffer")
    return struct.pack("<HH", size, 0) + payload + b"\0" * (size - len(payload))


@dataclass(frozen=True)
class RingBuffer:
    index: int
    address: int
    length: int


def encode_table(m4_count: int, a7_count: int, base: int, buffers_at: int | None = None) -> bytes:
    """The ring table a driver would write (used by tests and by whatever plays the A7 driver)."""
    first = base + TABLE_SIZE if buffers_at is None else buffers_at
    out = bytearray(struct.pack("<HH", m4_count, a7_count))
    for i in range(MAX_BUFFERS):
        if i < m4_count + a7_count:
            addr = first + i * BUFFER_SIZE
            out += struct.pack("<IIHBB", addr, addr, BUFFER_SIZE, 1, i)
        else:
            out += b"\0" * TABLE_ENTRY
    return bytes(out)


def decode_table(raw: bytes) -> tuple[int, int, list[RingBuffer]]:
    """Bounds-checked ring table decode. Raises ValueError with the reason."""
    if len(raw) < TABLE_SIZE:
        raise ValueError("ring table truncated")
    m4_count, a7_count = struct.unpack_from("<HH", raw, 0)
    if m4_count + a7_count > MAX_BUFFERS or a7_count == 0:
        raise ValueError(f"ring table counts {m4_count}+{a7_count} are invalid (at most {MAX_BUFFERS}, a7 > 0)")
    buffers = []
    for i in range(m4_count + a7_count):
        address, _a7, length, _available, index = struct.unpack_from("<IIHBB", raw, TABLE_HEADER + i * TABLE_ENTRY)
        if index != i:
            raise ValueError(f"ring entry {i} carries index {index}")
        if not MESSAGE_HEADER <= length <= BUFFER_SIZE:
            raise ValueError(f"ring entry {i} length {length} is outside {MESSAGE_HEADER}..{BUFFER_SIZE}")
        if address + length > 0x1_0000_0000:
            raise ValueError(f"ring entry {i} wraps the address space")
        buffers.append(RingBuffer(i, address, length))
    return m4_count, a7_count, buffers
