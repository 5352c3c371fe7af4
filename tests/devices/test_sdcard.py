"""SD card in SPI mode: the initialisation sequence (CMD0/8/55/41/58), CRC checks where the card checks them,
block reads and writes (CMD17/24) with tokens, data CRC and busy time, address errors, the image file."""
import pytest

from mt3620.engine.simulation.clock import PS_PER_SECOND
from mt3620.peripherals.buses.spi import SpiBus
from mt3620.peripherals.devices.base import DeviceError
from mt3620.peripherals.devices.sdcard import SdCard, crc7, crc16


def frame(index, arg, crc=None):
    body = bytes([0x40 | index]) + arg.to_bytes(4, "big")
    return body + bytes([(crc7(body) if crc is None else crc) << 1 | 1])


class Host:
    def __init__(self, card):
        self.bus = SpiBus()
        self.bus.attach(card, "csA")
        self.card = card

    def command(self, index, arg, extra=0, crc=None):
        reply = self.bus.transfer(frame(index, arg, crc) + b"\xff" * (8 + extra))[6:]
        i = next(i for i, b in enumerate(reply) if b != 0xFF)
        return reply[i:]

    def init(self):
        assert self.command(0, 0)[0] == 0x01
        assert self.command(8, 0x1AA)[:5] == b"\x01\x00\x00\x01\xaa"
        polls = 0
        while True:                                                 # ACMD41 until ready, 1 ms apart
            self.command(55, 0)
            polls += 1
            if self.command(41, 1 << 30)[0] == 0x00:
                break
            self.card.clock.advance_to(self.card.clock.now + PS_PER_SECOND // 1000)
        assert polls == 3                                           # init_ms = 2 from the first ACMD41
        ocr = self.command(58, 0)[1:5]
        assert ocr[0] & 0xC0 == 0xC0                                # powered up, block addressing


def test_crc7_and_crc16_known_values():
    assert crc7(bytes([0x40, 0, 0, 0, 0])) == 0x4A                  # CMD0's CRC byte is 0x95
    assert crc7(bytes([0x48, 0, 0, 1, 0xAA])) == 0x43               # CMD8 0x1AA: 0x87
    assert crc16(b"\xff" * 512) == 0x7FA1


def test_initialisation_waits_for_acmd41():
    card = SdCard(size_mb=1)
    h = Host(card)
    h.command(0, 0)
    h.command(55, 0)
    assert h.command(41, 1 << 30)[0] == 0x01                        # still initialising
    h.init()
    assert not card.idle and card.ready


def test_crc_is_checked_for_cmd0_and_cmd8_and_after_cmd59():
    card = SdCard(size_mb=1)
    h = Host(card)
    assert h.command(0, 0, crc=0)[0] & 0x08                          # CRC error
    h.init()
    assert h.command(17, 0, crc=0)[0] == 0x00                        # unchecked: read goes ahead
    assert h.command(59, 1)[0] == 0x00
    assert h.command(17, 0, crc=0)[0] & 0x08


def test_commands_before_init_are_illegal():
    h = Host(SdCard(size_mb=1))
    h.command(0, 0)
    assert h.command(17, 0)[0] == 0x05                               # idle + illegal


def test_write_then_read_a_block_with_busy_time(tmp_path):
    img = tmp_path / "card.img"
    img.write_bytes(bytes(1024 * 1024))
    card = SdCard(image=str(img), busy_us=100)
    h = Host(card)
    h.init()
    payload = bytes(range(256)) * 2
    assert h.command(24, 7)[0] == 0x00
    resp = h.bus.transfer(b"\xfe" + payload + crc16(payload).to_bytes(2, "big") + b"\xff\xff")
    assert resp[-2] & 0x1F == 0x05 and resp[-1] == 0x00              # accepted, then busy (MISO low)
    card.clock.advance_to(card.clock.now + PS_PER_SECOND // 10000 + 1)
    assert h.bus.transfer(b"\xff") == b"\xff"                         # ready
    reply = h.command(17, 7, extra=520)
    assert reply[0] == 0x00
    start = reply.index(0xFE, 1) + 1
    assert reply[start:start + 512] == payload
    assert int.from_bytes(reply[start + 512:start + 514], "big") == crc16(payload)
    card.close()
    assert img.read_bytes()[7 * 512:8 * 512] == payload


def test_data_crc_error_when_crc_is_on():
    card = SdCard(size_mb=1)
    h = Host(card)
    h.init()
    h.command(59, 1)
    h.command(24, 1)
    resp = h.bus.transfer(b"\xfe" + bytes(512) + b"\x12\x34" + b"\xff")       # zeros have CRC 0
    assert resp[-1] & 0x1F == 0x0B and card.writes == 0


def test_out_of_range_and_csd():
    card = SdCard(size_mb=2)
    h = Host(card)
    h.init()
    assert h.command(17, card.blocks)[0] == 0x20                    # address error
    csd = h.command(9, 0, extra=20)
    data = csd[csd.index(0xFE, 1) + 1:][:16]
    assert data[0] >> 6 == 1 and data[3] == 0x32
    c_size = (data[7] & 0x3F) << 16 | data[8] << 8 | data[9]
    assert (c_size + 1) * 1024 == card.blocks


def test_bad_images_are_refused(tmp_path):
    with pytest.raises(DeviceError, match="card"):
        SdCard(name="card", image=str(tmp_path / "none.img"))
    (tmp_path / "empty.img").write_bytes(b"")
    with pytest.raises(DeviceError, match="empty"):
        SdCard(image=str(tmp_path / "empty.img"))
    with pytest.raises(DeviceError):
        SdCard(size_mb=0)
