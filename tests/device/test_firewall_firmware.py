"""Firewalls with real firmware: fw_probe (firmware/fw_probe) reads one register of every guarded block with
BusFault enabled, sideloaded with manifests granting each hardware capability kind in turn. A block its
manifest grants reads fine; every other block is a precise BusFault (CFSR = PRECISERR | BFARVALID, BFAR = the
address, as the Cortex-M4 reports any bus error), and each refusal is logged with initiator, block and address."""
import re

import pytest

from device_helpers import pack, rt_manifest, run_until

PROBES = ["gpio0", "pwm0", "gpio1", "pwm1", "gpio2", "pwm2", "gpio3", "gpio4", "gpio5", "isu0_i2c", "isu0_spi",
          "isu0_uart", "isu1_uart", "isu2_uart", "isu3_uart", "isu4_uart", "adc", "i2s0", "i2s1", "mbox_a7",
          "mbox_m4"]
LINE = re.compile(r"^probe (\w+) 0x([0-9a-f]{8}): (ok|BusFault CFSR=0x([0-9a-f]{8}) BFAR=0x([0-9a-f]{8}))")

# capability kind -> (what the manifest grants, the probes that must then read fine besides mbox_a7)
KINDS = {
    "Gpio": ({"Gpio": [1, 9]}, {"gpio0", "pwm0", "gpio2", "pwm2"}),
    "Uart": ({"Uart": ["ISU0"]}, {"isu0_i2c", "isu0_spi", "isu0_uart"}),
    "I2cMaster": ({"I2cMaster": ["ISU3"]}, {"isu3_uart"}),
    "SpiMaster": ({"SpiMaster": ["ISU4"]}, {"isu4_uart"}),
    "Pwm": ({"Pwm": ["PWM-CONTROLLER-1"]}, {"gpio1", "pwm1"}),
    "Adc": ({"Adc": ["ADC-CONTROLLER-0"]}, {"adc"}),
    "I2sSubordinate": ({"I2sSubordinate": ["I2S1"]}, {"i2s1"}),
    "names": ({"Gpio": ["$MT3620_RDB_LED2_RED"], "Uart": ["$MT3620_RDB_HEADER4_ISU2_UART"]}, {"gpio3", "isu2_uart"}),
}


def probe(dev, core="io0"):
    run_until(dev, r"^probe: done", "500ms", uart=f"{core}.{core}_uart")
    out = {}
    for line in dev.machine.uarts[f"{core}.{core}_uart"].lines:
        m = LINE.match(line)
        if m:
            out[m.group(1)] = (m.group(3) == "ok", m.group(2), m.group(4), m.group(5))
    assert list(out) == PROBES
    return out


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_capability_kind_granted_and_refused(board, rt_elf, kind):
    caps, granted = KINDS[kind]
    dev = board()
    dev.apps.deploy(pack(rt_elf("fw_probe"), rt_manifest("fw_probe", caps)))
    result = probe(dev)
    for name, (ok, address, cfsr, bfar) in result.items():
        if name in granted or name == "mbox_a7":              # its own A7 mailbox: every RTApp's
            assert ok, f"{name} should be granted by {caps}"
        else:
            assert not ok, f"{name} should be refused with {caps}"
            assert cfsr == "00008200" and bfar == address       # precise BusFault, BFAR = the faulting address
    refusals = dev.machine.devices["firewall"].refusals
    assert len(refusals) == len(PROBES) - 1 - len(granted)
    assert all(r.initiator == "io0" and not r.write for r in refusals)


def test_real_firmware_touching_an_isu_it_does_not_own(board, rt_elf):
    """An RTApp granted ISU0 reads ISU0, then touches ISU1: a BusFault it reports, and the refusal in the log."""
    dev = board()
    dev.apps.deploy(pack(rt_elf("fw_probe"), rt_manifest("fw_probe", {"Uart": ["ISU0"]})))
    result = probe(dev)
    assert result["isu0_uart"][0] and result["isu0_uart"][1] == "38070514"
    assert result["isu1_uart"] == (False, "38080514", "00008200", "38080514")
    os_lines = dev.machine.uarts["a7.os"].lines
    assert "firewall: io0 refused read of 4 byte(s) at 0x38080514: block isu1 belongs to no core" in os_lines
    fw = dev.machine.devices["firewall"]
    assert fw.locked and fw.owners("isu0") == ("io0",) and fw.owners("isu1") == ()
    # The same refusal, by the registers the A7 reads.
    from mt3620.peripherals.firewall.bus_firewall import SECURE_MONITOR
    a7 = dev.machine.view("a7")
    assert a7.read_u32(0x30000010, SECURE_MONITOR) == fw.core.refused
    # Visible from GDB's monitor command too (engine/gdb/monitor.py).
    from mt3620.engine.gdb.monitor import run_monitor

    class _Server:
        machine = dev.machine
    text = run_monitor(_Server(), type("S", (), {"target": type("T", (), {"core": dev.machine.core("io0")})()})(),
                       "firewall 3")
    assert "isu0           io0" in text and "block isu1 belongs to no core" not in text.split("last")[0]
    assert "io0 refused read of 4 byte(s) at 0x21060000: block mbox_io0_io1" in text


def test_two_rtapps_that_list_each_other_share_the_io_mailbox(board, rt_elf):
    dev = board()
    a = rt_manifest("probe_a", {"AllowedApplicationConnections": [rt_manifest("probe_b")["ComponentId"]]})
    b = rt_manifest("probe_b", {"AllowedApplicationConnections": [a["ComponentId"]]})
    dev.apps.deploy(pack(rt_elf("fw_probe"), a))
    assert not probe(dev, "io0")["mbox_m4"][0]               # alone: nobody owns the IO0-IO1 mailbox
    dev.apps.deploy(pack(rt_elf("fw_probe"), b))              # the second app starts: the table is programmed again
    assert probe(dev, "io1")["mbox_m4"][0]
    assert dev.machine.devices["firewall"].owners("mbox_io0_io1") == ("io0", "io1")


def test_the_table_is_locked_until_the_next_app_start(board, rt_elf):
    dev = board()
    dev.apps.deploy(pack(rt_elf("fw_probe"), rt_manifest("fw_probe", {"Uart": ["ISU0"]})))
    fw = dev.machine.devices["firewall"]
    from mt3620.peripherals.firewall.bus_firewall import SECURE_MONITOR
    a7 = dev.machine.view("a7")
    isu1 = 0x30000100 + 4 * [b.name for b in __import__("mt3620.peripherals.firewall", fromlist=["BLOCKS"]).BLOCKS
                             ].index("isu1")
    a7.write_u32(isu1, 0x2, SECURE_MONITOR)                    # locked: ignored
    assert fw.owners("isu1") == () and fw.core.ignored_writes == 1
