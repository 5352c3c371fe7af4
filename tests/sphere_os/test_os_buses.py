"""I2C master, SPI master and ADC through Applibs to the ISU I2C/SPI bus models and the ADC model (issue 12's
models; these tests need them in the machine), with an LSM6DS3 on the board."""
import pytest

from os_programs import pack_c

pytest.importorskip("mt3620.peripherals.buses.i2c", reason="the ISU I2C/SPI bus models are not in this tree")
pytest.importorskip("mt3620.peripherals.adc.adc", reason="the ADC model is not in this tree")

BOARD = """
imu: Sensors.LSM6DS3 @ isu2.i2c 0x6A
imu2: Sensors.LSM6DS3 @ isu1.spi csA
"""
CAPS = {"I2cMaster": ["ISU2"], "SpiMaster": ["ISU1"], "Adc": ["ADC-CONTROLLER-0"]}


def test_i2c_spi_and_adc_reach_the_models(sysroot, tmp_path):
    from mt3620.testing.device import Device
    board = tmp_path / "imu.board"
    board.write_text(BOARD)
    dev = Device.boot(board=str(board))
    dev.machine.devices["adc"].set_input(0, 1.25)
    dev.launch(pack_c("buses", CAPS, tmp_path))
    assert dev.wait_for_exit(timeout="2s") == 0
    assert dev.lines("a7.buses") == [
        "i2c isu1: Permission denied",
        "i2c again: Resource busy",
        "speed 400k: 0, 3.4M: Invalid argument",
        "WHO_AM_I: 2 bytes, 0x69, at bus speed",
        "write CTRL1_XL: 2",
        "CTRL1_XL reads 0x40",
        "nobody at 0x33: No such device or address",
        "read(2) after write(2): 0x69",
        "spi WHO_AM_I: 2 bytes, 0x69",
        "full duplex: Invalid argument",
        "adc bits: 12",
        "adc channel 0 at 2.5 V reference: 2048",
        "reference 1.8 V: 0",
        "adc channel 0 at 1.8 V reference: 2844",
        "reference 3.3 V: Invalid argument",
        "channel 9: Invalid argument",
    ]


def test_no_capabilities_no_buses(sysroot, tmp_path):
    from mt3620.testing.device import Device
    dev = Device.boot(hl=pack_c("buses", {}, tmp_path))
    assert dev.wait_for_exit(timeout="2s") == 0
    assert dev.lines("a7.buses") == ["i2c isu1: Permission denied", "i2c isu2: Permission denied",
                                     "spi isu1: Permission denied", "adc: Permission denied"]
