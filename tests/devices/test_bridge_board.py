"""Board devices behind the Renode bridge: `mt3620 renode-bridge --board FILE` puts them on the bridged buses, the
guest's register traffic (as Renode forwards it) reaches them, and their files are written when the bridge stops."""
import pytest

from mt3620.engine.renode import bridge as rb
from mt3620.peripherals.devices.png import decode_png
from mt3620.peripherals.isu.i2c import IsuI2c

O = IsuI2c.offset


def test_bridge_serves_board_devices(tmp_path):
    board = tmp_path / "b.board"
    board.write_text('imu: Sensors.LSM6DS3 @ isu2.i2c 0x6A\noled: Video.SSD1306 @ isu1.i2c 0x3C\n'
                     '    png_path: "oled.png"\npot: Analog.Input @ adc 3\n    voltage: 1.25\n')
    server = rb.build_server(token="0" * 32, board=str(board))
    try:
        models = server.models
        assert models.board_devices.device("imu").name == "imu"
        h = models.handle
        # a WHO_AM_I read as the guest writes it: register 0x0F, repeated START, one byte back
        h(f"WRITE isu2_i2c {O('MM_FIFO_DATA')} 4 15 0 -")
        h(f"WRITE isu2_i2c {O('MM_ID_CON0')} 4 {0x6A} 0 -")
        h(f"WRITE isu2_i2c {O('MM_PACK_CON0')} 4 {0b10 | 1 << 4} 0 -")
        h(f"WRITE isu2_i2c {O('MM_CNT_BYTE_VAL_PK0')} 4 1 0 -")
        h(f"WRITE isu2_i2c {O('MM_CNT_BYTE_VAL_PK1')} 4 1 0 -")
        h(f"WRITE isu2_i2c {O('MM_CON0')} 4 {1 << 15 | 1 << 14 | 1} 0 -")
        reply = h(f"READ isu2_i2c {O('MM_FIFO_DATA')} 4 5000000 -")
        assert reply.split()[1] == str(0x69)
        assert models.block("adc").model.voltage(3) == 1.25
        models.board_devices.device("oled").on = True
    finally:
        server.close()
    assert decode_png((tmp_path / "oled.png").read_bytes())[:2] == (512, 256)


def test_bad_board_is_a_bridge_error(tmp_path):
    board = tmp_path / "bad.board"
    board.write_text("x: Sensors.LSM6DS3 @ isu2.i2c\n")
    with pytest.raises(rb.BridgeError, match="bad.board:1"):
        rb.build_server(token="0" * 32, board=str(board))
