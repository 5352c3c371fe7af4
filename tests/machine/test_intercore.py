"""Intercore messages between the A7 side (played by the test, as a high-level app would) and an RTApp, through
the shared buffers every CPU sees and the IO core's A7 mailbox."""
from mt3620.testing import Device

CID = "25025d2c-66da-4448-bae1-ac26fcdd3627"


def test_messages_round_trip_through_the_default_shared_buffers(firmware):
    dev = Device.boot(rt0=firmware("mailbox"), rt1=firmware("mailbox"))
    dev.wait_for_line(r"^mailbox: waiting for the A7$", uart="io0.io0_uart")
    for core in ("io0", "io1"):
        a7 = dev.intercore(core, CID)
        a7.start()
        dev.wait_for_line(r"^mailbox: setup done$", timeout="50ms", uart=f"{core}.{core}_uart")
        a7.send(f"ping {core}".encode())
        dev.wait_for_line(rf"^mailbox: echoed {len(f'ping {core}')} bytes$", timeout="50ms",
                          uart=f"{core}.{core}_uart")
        sender, payload = a7.receive()
        assert payload == f"ping {core}".encode() and sender == a7.component_id
    assert "mailbox: outbound buffer 0x20100000, 4096 bytes" in dev.lines("io0.io0_uart")
    assert "mailbox: outbound buffer 0x20102000, 4096 bytes" in dev.lines("io1.io1_uart")
