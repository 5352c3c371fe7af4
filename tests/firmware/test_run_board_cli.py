"""`mt3620 run --board FILE` and `--adc CH=SIGNAL`: devices from a board file, inputs from the command line, the
board's state printed at the start and the end, output files written at exit, one clear line for bad input."""
from pathlib import Path

from mt3620.cli import main

BOARDS = Path(__file__).resolve().parent / "boards"


def test_run_with_a_board_file(firmware, capsys):
    code = main(["run", "--rt0", str(firmware("i2c_bus")), "--board", str(BOARDS / "i2c_bus.board"),
                 "--until", "i2c_bus: done", "--for", "3s"])
    out = capsys.readouterr().out
    assert code == 0
    assert "[board] imu (LSM6DS3)" in out and "i2c_bus: done" in out
    assert out.count("[board] eeprom") == 2                          # at the start and at the end


def test_adc_inputs_from_the_command_line(firmware, capsys):
    code = main(["run", "--rt0", str(firmware("adc_scan")), "--adc", "0=2.0", "--adc", "2=sine(1.25, 0, 1Hz)",
                 "--until", "adc_scan: one-shot", "--for", "1s"])
    out = capsys.readouterr().out
    assert code == 0 and "ch0=3276" in out and "ch2=2048" in out


def test_display_png_written_at_exit(firmware, tmp_path, capsys):
    board = tmp_path / "d.board"
    board.write_text('oled: Video.SSD1306 @ isu1.i2c 0x3C\n    png_path: "oled.png"\n'
                     'rgb: Video.SSD1331 @ isu0.spi csA\n    dc: 0\n    reset: 1\n    png_path: "rgb.png"\n')
    assert main(["run", "--rt0", str(firmware("displays")), "--board", str(board), "--until", "displays: done",
                 "--for", "3s"]) == 0
    assert (tmp_path / "oled.png").read_bytes()[:4] == b"\x89PNG" and (tmp_path / "rgb.png").exists()


def test_bad_board_and_adc_arguments_get_one_line(firmware, tmp_path, capsys):
    bad = tmp_path / "bad.board"
    bad.write_text("imu: Sensors.LSM6DS3 @ isu9.i2c 0x6A\n")
    assert main(["run", "--rt0", str(firmware("hello")), "--board", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.board:1" in err and "Traceback" not in err
    assert main(["run", "--rt0", str(firmware("hello")), "--board", str(tmp_path / "none.board")]) == 2
    assert "cannot read" in capsys.readouterr().err
    for spec in ("9=1.0", "x", "1=banana"):
        assert main(["run", "--rt0", str(firmware("hello")), "--adc", spec]) == 2
        err = capsys.readouterr().err
        assert "--adc" in err and "Traceback" not in err
