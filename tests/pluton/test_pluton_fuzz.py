"""Property tests: no input from the A7 side crashes the Pluton core, the ring-table parser or the facade."""
import struct

from hypothesis import HealthCheck, given, settings, strategies as st

from mt3620.peripherals.pluton import make_device
from mt3620.peripherals.pluton import remoteapi as api
from mt3620.peripherals.pluton.secureboot import TrustedKeystore

KEYSTORE = TrustedKeystore({b"\x01" * 20: bytes(range(64))})
DEVICE = make_device(b"fuzz", KEYSTORE)
COMMANDS = sorted(api.COMMAND_NAMES) + [0x00, 0x04, 0x42, 0x55, 0x57, 0xFF]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(COMMANDS), st.binary(max_size=300))
def test_core_execute_never_raises(command, payload):
    status, out = DEVICE.execute(command, payload)
    assert status in api.STATUS_NAMES and isinstance(out, bytes)
    assert len(out) <= api.MAX_PAYLOAD - 4


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=api.TABLE_SIZE, max_size=api.TABLE_SIZE))
def test_ring_table_decode_never_crashes(raw):
    try:
        m4, a7, buffers = api.decode_table(raw)
    except ValueError:
        return
    assert m4 + a7 <= api.MAX_BUFFERS and len(buffers) == m4 + a7


@given(st.integers(0, 0xFFFFFFFF))
def test_message_word_roundtrip(value):
    assert api.Word.decode(value).encode() == value


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from([0x00, 0x14, 0x18, 0x1C, 0x38, 0x3C, 0x40, 0x44, 0x48, 0x50, 0x54, 0x58,
                                           0x7C]),
                          st.booleans(), st.integers(0, 0xFFFFFFFF)), max_size=40),
       st.binary(min_size=64, max_size=64))
def test_random_register_traffic_never_crashes(mailbox, memory, clock, ops, junk):
    memory.write(0x10000, api.encode_table(2, 2, 0x10000))
    memory.write(0x10000 + api.TABLE_SIZE + 2 * api.BUFFER_SIZE, junk)
    for offset, is_write, value in ops:
        if is_write:
            if offset == 0x40 and value & 0xFF == 2 and (value >> 16) & 0xFF == api.SEND_EVENT_BUFFERS:
                mailbox.write(0x44, 4, 0x10000)
            mailbox.write(offset, 4, value)
        else:
            mailbox.read(offset)
        clock.advance_to(clock.now + 50_000_000_000)
    assert mailbox.read(0x48) <= 15 and mailbox.read(0x58) <= 15


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_keystore_payload_decode_never_crashes(raw):
    from mt3620.imagepackage import ImagePackageError
    from mt3620.peripherals.pluton.secureboot import decode_keystore_payload
    for data in (raw, b"MTKS" + raw):
        try:
            keys = decode_keystore_payload(data)
        except ImagePackageError:
            continue
        assert all(len(t) == 20 and len(k) == 64 for t, k in keys.items())


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
                 st.recursive(st.none() | st.integers() | st.text(max_size=12),
                              lambda c: st.lists(c, max_size=40) | st.dictionaries(st.text(max_size=6), c, max_size=4),
                              max_leaves=60).map(lambda v: __import__("json").dumps({"words": v}))))
def test_efuse_file_loader_never_crashes(tmp_path_factory, text):
    from mt3620.peripherals.pluton.efuse import EfuseBank, EfuseError
    path = tmp_path_factory.mktemp("fuse") / "efuse.json"
    path.write_text(text)
    try:
        bank = EfuseBank.load(path)
    except EfuseError:
        return
    assert bank.read(16) >= 0


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_metadata_section_decoder_never_crashes(raw):
    from mt3620.imagepackage.metadata import MetadataError, decode_sections
    for data in (raw, struct.pack("<II", 0x4D345834, len(raw) // 8) + raw):
        try:
            decode_sections(data).describe()
        except MetadataError:
            pass
