"""The RSP framing on its own: checksums, acknowledgements, interrupts, escapes, hex parsing."""
from __future__ import annotations

import pytest

from mt3620.engine.gdb import rsp


def test_frame_and_checksum_match_the_protocol_examples():
    # GDB manual: "$qSupported...": the checksum is the modulo-256 sum of the data in two lower-case hex digits
    assert rsp.frame(b"OK") == b"$OK#9a"
    assert rsp.frame(b"") == b"$#00"
    assert rsp.checksum(b"g") == 0x67


def test_decoder_splits_packets_acks_and_interrupts_across_chunks():
    d = rsp.Decoder()
    stream = b"+$g#67" + b"\x03" + b"-" + rsp.frame(b"m100000,4")
    events = []
    for i in range(len(stream)):   # byte by byte: nothing depends on how TCP cuts the stream
        events += d.feed(stream[i:i + 1])
    assert [(e.kind, e.data) for e in events] == [("ack", b""), ("packet", b"g"), ("interrupt", b""),
                                                  ("nak", b""), ("packet", b"m100000,4")]


def test_decoder_reports_bad_checksums_and_ignores_noise_between_packets():
    d = rsp.Decoder()
    events = d.feed(b"garbage$g#00\n" + rsp.frame(b"?"))
    assert [(e.kind, e.data) for e in events] == [("bad", b"g"), ("packet", b"?")]
    events = d.feed(b"$g#zz")
    assert [e.kind for e in events] == ["bad"]


def test_decoder_keeps_0x03_inside_a_packet_as_data():
    d = rsp.Decoder()
    data = b"X100,1:\x03"
    assert [(e.kind, e.data) for e in d.feed(rsp.frame(data))] == [("packet", data)]


def test_decoder_drops_a_packet_that_never_ends():
    d = rsp.Decoder(max_packet=64)
    events = d.feed(b"$" + b"a" * 200)
    assert [e.kind for e in events] == ["bad"]
    assert [(e.kind, e.data) for e in d.feed(rsp.frame(b"g"))] == [("packet", b"g")]


@pytest.mark.parametrize("raw", [b"", b"plain", b"#$}*", bytes(range(256))])
def test_escape_round_trip(raw):
    escaped = rsp.escape(raw)
    assert not any(b in b"#$*" for b in escaped)
    assert rsp.unescape(escaped) == raw


def test_unescape_rejects_a_dangling_escape():
    with pytest.raises(rsp.ProtocolError):
        rsp.unescape(b"ab}")


def test_hex_helpers_reject_bad_input():
    assert rsp.parse_hex(b"1f") == 31
    for bad in (b"", b"xyz", b"1" * 17):
        with pytest.raises(rsp.ProtocolError):
            rsp.parse_hex(bad)
    assert rsp.unhex_bytes(b"00ff") == b"\x00\xff"
    with pytest.raises(rsp.ProtocolError):
        rsp.unhex_bytes(b"0g")
    with pytest.raises(rsp.ProtocolError):
        rsp.unhex_bytes(b"abc")
    assert rsp.hex_text("hi\n") == b"68690a"


def test_qcrc_is_crc32_mpeg2():
    # GDB's qCRC uses libiberty's xcrc32 from 0xFFFFFFFF: the CRC-32/MPEG-2 catalogue check value
    assert rsp.gdb_crc32(b"123456789") == 0x0376E6E7
    assert rsp.gdb_crc32(b"") == 0xFFFFFFFF
    assert rsp.gdb_crc32(b"56789", rsp.gdb_crc32(b"1234")) == 0x0376E6E7
