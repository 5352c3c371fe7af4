"""Register-level tests of the A7 <-> Pluton mailbox, with virtual time stepped explicitly."""
import struct

import pytest

from mt3620.attestation import verify_evidence
from mt3620.engine.simulation.clock import PS_PER_SECOND
from mt3620.imagepackage import capability as cap
from mt3620.peripherals.pluton import remoteapi as api
from mt3620.peripherals.pluton.mailbox import FIFO_DEPTH, INT_NE, INT_NF, INT_RD, INT_WR, PlutonMailbox

VER, SW_RX_EN, SW_RX_STS, INT_EN, INT_STS = (PlutonMailbox.offset(n) for n in ("VER", "SW_RX_INT_EN", "SW_RX_INT_STS",
                                                                             "INT_EN", "INT_STS"))
CMD_POST, DATA_POST, WRITE_COUNT, CMD_POP, DATA_POP, READ_COUNT = (
    PlutonMailbox.offset(n) for n in ("CMD_POST", "DATA_POST", "FIFO_WRITE_COUNT", "CMD_POP", "DATA_POP",
                                      "FIFO_READ_COUNT"))
TABLE = 0x10000
M4_COUNT, A7_COUNT = 4, 4
MS = PS_PER_SECOND // 1000


def buffer_address(index):
    return TABLE + api.TABLE_SIZE + index * api.BUFFER_SIZE


class Driver:
    """Plays the A7 kernel driver at register level."""

    def __init__(self, mailbox, memory, clock):
        self.mb, self.mem, self.clock = mailbox, memory, clock
        self.seq = 0

    @classmethod
    def on_ring(cls, mailbox, memory, clock):
        """A driver that has registered its ring of shared buffers (what a booted A7 kernel has done)."""
        driver = cls(mailbox, memory, clock)
        driver.register_ring()
        return driver

    def post(self, cmd, data=0):
        self.mb.write(DATA_POST, 4, data)
        self.mb.write(CMD_POST, 4, cmd)

    def pop(self):
        data = self.mb.read(DATA_POP)
        return self.mb.read(CMD_POP), data

    def run(self, ps=1000 * MS):
        self.clock.advance_to(self.clock.now + ps)

    def register_ring(self):
        self.mem.write(TABLE, api.encode_table(M4_COUNT, A7_COUNT, TABLE))
        self.post(api.Word(2, 0, api.SEND_EVENT_BUFFERS, 0).encode(), TABLE)
        self.run()
        word, status = self.pop()
        assert status == api.OK and api.Word.decode(word).command == api.SEND_EVENT_BUFFERS

    def send(self, command, payload=b"", index=M4_COUNT, version=2, seq=None, run=True):
        if seq is None:
            self.seq = self.seq % 255 + 1
            seq = self.seq
        if 0 <= index < 128:
            self.mem.write(buffer_address(index), api.encode_message(payload))
        self.post(api.Word(version, seq, command, index).encode())
        if run:
            return self.reply()

    def reply(self):
        self.run()
        assert self.mb.read(READ_COUNT) >= 1
        word, status = self.pop()
        w = api.Word.decode(word)
        if status == api.OK or w.buffer_index < 128 and M4_COUNT <= w.buffer_index < M4_COUNT + A7_COUNT:
            size = struct.unpack("<H", self.mem.read(buffer_address(w.buffer_index), 2))[0] \
                if M4_COUNT <= w.buffer_index < M4_COUNT + A7_COUNT else 0
            body = self.mem.read(buffer_address(w.buffer_index) + 4, size) if size else b""
        else:
            body = b""
        return w, status, body


@pytest.fixture
def drv(mailbox, memory, clock):
    return Driver.on_ring(mailbox, memory, clock)


def test_reset_state(mailbox):
    assert mailbox.read(VER) == 0x36200000
    assert mailbox.read(WRITE_COUNT) == 0 and mailbox.read(READ_COUNT) == 0
    assert mailbox.read(INT_STS) == INT_NF
    assert mailbox.read(CMD_POP) == 0                 # empty FIFO pops zero, no crash


def test_security_state_and_attestation_through_registers(drv, device, chain):
    device.boot(chain)
    w, status, body = drv.send(api.GET_SECURITY_STATE)
    assert status == api.OK and w.version == 2 and w.command == api.GET_SECURITY_STATE
    assert body[:4] == struct.pack("<I", api.OK)
    state, general, attest = struct.unpack("<I", body[4:8])[0], body[8:72], body[72:136]
    assert state == 0x3 and general == device.general_public_key and attest == device.device_id
    nonce = bytes(range(100, 132))
    start = drv.clock.now
    drv.send(api.PROCESS_ATTESTATION, nonce, run=False)
    drv.run(5 * MS)
    assert drv.mb.read(READ_COUNT) == 0              # ECDSA signing takes modelled time (8 ms at 200 MHz)
    w, status, body = drv.reply()
    assert status == api.OK and drv.clock.now - start >= 8 * MS
    evidence = verify_evidence(body[4:], device.device_id)
    assert evidence.nonce == nonce and len(evidence.measurements) == len(chain)


def test_public_command_list(drv, device, signer):
    ok = lambda r: r[1] == api.OK
    assert ok(drv.send(api.SET_POSTCODE, struct.pack("<I", 0x1234))) and device.postcodes == [0x1234]
    assert drv.send(api.GET_BOOT_MODE_FLAGS)[2][4:8] == struct.pack("<I", 0)
    w, status, body = drv.send(api.READ_RNG, struct.pack("<I", 100))
    assert status == api.OK and len(body) == 104
    assert drv.send(api.GET_TENANT_PUBLIC_KEY)[1] == api.E_STATE
    assert drv.send(api.COMMIT_CLIENT_AUTH_KEY)[1] == api.E_STATE
    pending = drv.send(api.GENERATE_CLIENT_AUTH_KEY)[2][4:]
    assert ok(drv.send(api.COMMIT_CLIENT_AUTH_KEY))
    assert drv.send(api.GET_TENANT_PUBLIC_KEY)[2][4:] == pending
    sig = drv.send(api.SIGN_WITH_TENANT_ATTESTATION_KEY, b"\x42" * 32)[2][4:]
    assert len(sig) == 64
    assert drv.send(api.GET_MANUFACTURING_STATE)[2][4:] == struct.pack("<I", 0)
    assert drv.send(api.SET_MANUFACTURING_STATE, struct.pack("<II", 0xDEAD, 1))[1] == api.E_DENIED
    assert ok(drv.send(api.SET_MANUFACTURING_STATE, struct.pack("<II", api.MANUFACTURING_MAGIC, 2)))
    assert drv.send(api.GET_MANUFACTURING_STATE)[2][4:] == struct.pack("<I", 2)
    assert drv.send(api.SET_MANUFACTURING_STATE, struct.pack("<II", api.MANUFACTURING_MAGIC, 1))[1] == api.E_DENIED
    mine = cap.build(device.device_id, [cap.APP_DEVELOPMENT, cap.FIELD_SERVICING], signer)
    w, status, body = drv.send(api.DECODE_CAPABILITIES, mine)
    assert status == api.OK and body[4:10] == struct.pack("<I", 2) + bytes([11, 13])   # padded to 4 bytes
    theirs = cap.build(b"\x07" * 64, [cap.APP_DEVELOPMENT], signer)
    assert drv.send(api.DECODE_CAPABILITIES, theirs)[1] == api.E_DENIED
    assert drv.send(api.IS_CAPABILITY_ENABLED, struct.pack("<I", 11))[2][4:] == struct.pack("<I", 0)
    device.install_capability(mine)
    assert drv.send(api.IS_CAPABILITY_ENABLED, struct.pack("<I", 11))[2][4:] == struct.pack("<I", 1)
    assert drv.send(api.GET_ENABLED_CAPABILITIES)[2][4:6] == bytes([11, 13])
    resets = []
    device.on_device_reset = lambda: resets.append(1)
    assert ok(drv.send(api.DEVICE_RESET)) and resets == [1]
    assert drv.send(0x77)[1] == api.E_COMMAND


def test_wrong_version_bad_index_oversized_and_reserved_sequence(drv, memory):
    assert drv.send(api.GET_SECURITY_STATE, version=1)[1] == api.E_VERSION
    assert drv.send(api.GET_SECURITY_STATE, index=0)[1] == api.E_INDEX          # an M4 (event) buffer
    assert drv.send(api.GET_SECURITY_STATE, index=M4_COUNT + A7_COUNT)[1] == api.E_INDEX
    assert drv.send(api.GET_SECURITY_STATE, index=0xFF)[1] == api.E_INDEX
    memory.write(buffer_address(M4_COUNT), struct.pack("<HH", 2046, 0))
    drv.post(api.Word(2, 9, api.READ_RNG, M4_COUNT).encode())
    assert drv.reply()[1] == api.E_LENGTH
    assert drv.send(api.READ_RNG, b"\1\2\3\4\5\6\7\x08")[1] == api.E_LENGTH   # wrong payload size
    assert drv.send(api.GET_SECURITY_STATE, seq=0)[1] == api.E_SEQUENCE
    assert drv.mb.stats["rejected"] >= 5


def test_requests_before_ring_registration_are_rejected(mailbox, memory, clock):
    d = Driver(mailbox, memory, clock)
    assert d.send(api.GET_SECURITY_STATE)[1] == api.E_INDEX


def test_bad_ring_tables(mailbox, memory, clock):
    d = Driver(mailbox, memory, clock)
    memory.write(TABLE, api.encode_table(100, 100, TABLE))
    d.post(api.Word(2, 0, api.SEND_EVENT_BUFFERS, 0).encode(), TABLE)
    d.run()
    assert d.pop()[1] == api.E_ARGUMENT
    d.post(api.Word(2, 0, api.SEND_EVENT_BUFFERS, 0).encode(), 0xFFFFF000)        # wild address
    d.run()
    assert d.pop()[1] == api.E_ADDRESS


@pytest.mark.parametrize("where", [
    0xFFFFF000,            # past the end of the address space
    (1 << 20) - 100,       # a buffer that runs off the caller's memory
])
def test_ring_buffers_outside_the_callers_memory_are_refused(mailbox, memory, clock, where):
    """Every buffer address in the ring table is checked when the ring is registered: a bad one is an error
    reply, and no later request can make Pluton touch it."""
    d = Driver(mailbox, memory, clock)
    table = bytearray(api.encode_table(M4_COUNT, A7_COUNT, TABLE))
    entry = api.TABLE_HEADER + (M4_COUNT + 1) * api.TABLE_ENTRY
    table[entry:entry + 8] = struct.pack("<II", where, where)
    memory.write(TABLE, bytes(table))
    d.post(api.Word(2, 0, api.SEND_EVENT_BUFFERS, 0).encode(), TABLE)
    d.run()
    assert d.pop()[1] == api.E_ADDRESS and mailbox.ring is None
    assert d.send(api.GET_SECURITY_STATE, index=M4_COUNT + 1)[1] == api.E_INDEX     # no ring: nothing served


def test_concurrent_request_is_refused_cleanly(drv, device, chain):
    device.boot(chain)
    drv.send(api.PROCESS_ATTESTATION, b"\x05" * 32, index=M4_COUNT, run=False)
    drv.send(api.READ_RNG, struct.pack("<I", 8), index=M4_COUNT + 1, run=False)
    drv.run()
    replies = [drv.pop() for _ in range(drv.mb.read(READ_COUNT))]
    by_command = {api.Word.decode(w).command: status for w, status in replies}
    assert by_command == {api.READ_RNG: api.E_BUSY, api.PROCESS_ATTESTATION: api.OK}
    size = struct.unpack("<H", drv.mem.read(buffer_address(M4_COUNT), 2))[0]
    verify_evidence(drv.mem.read(buffer_address(M4_COUNT) + 8, size - 4), device.device_id)
    assert drv.send(api.READ_RNG, struct.pack("<I", 8))[1] == api.OK               # idle again


def test_fifo_overflow_is_counted_not_fatal(mailbox):
    for i in range(FIFO_DEPTH + 3):
        mailbox.write(CMD_POST, 4, api.Word(2, 1, api.GET_BOOT_MODE_FLAGS, 0).encode())
    assert mailbox.read(WRITE_COUNT) == FIFO_DEPTH
    assert mailbox.read(INT_STS) & INT_NF == 0
    assert mailbox.stats["overflows"] == 3


def test_interrupts_follow_status_and_enable(drv):
    mb = drv.mb
    mb.write(INT_EN, 4, INT_RD | INT_WR | INT_NE)
    drv.send(api.GET_BOOT_MODE_FLAGS, run=False)
    drv.run()
    names = {line.name.split(".")[-1]: line.level for line in mb.irq}
    assert names["rd"] and names["wr"] and names["ne"] and not names["nf"]      # nf not enabled
    mb.write(INT_STS, 4, INT_RD | INT_WR)                                        # W1C
    assert not mb.irq[0].level and not mb.irq[2].level and mb.irq[3].level
    drv.pop()
    assert not mb.irq[3].level and mb.read(INT_STS) & INT_NE == 0
    mb.write(SW_RX_EN, 4, 1)
    mb.raise_sw_interrupt(0)
    assert mb.irq[4].level
    mb.write(SW_RX_STS, 4, 1)
    assert not mb.irq[4].level


def test_a_glitch_on_the_nth_message_loses_that_message_only(drv, device):
    device.glitches.arm("skip:mailbox.take@2")
    assert drv.send(api.GET_BOOT_MODE_FLAGS)[1] == api.OK          # 1st message: served
    drv.send(api.GET_BOOT_MODE_FLAGS, run=False)
    drv.run()
    assert drv.mb.read(READ_COUNT) == 0 and drv.mb.stats["dropped"] == 1   # 2nd: Pluton never saw it
    assert drv.send(api.GET_BOOT_MODE_FLAGS)[1] == api.OK          # one-shot: the 3rd is served


def test_snapshot_restore_and_determinism(keystore, memory, clock):
    from mt3620.engine.simulation.clock import VirtualClock
    from mt3620.peripherals.pluton import PlutonMailbox, make_device
    from pluton_helpers import Memory

    def run_once():
        clk, mem = VirtualClock(), Memory()
        mb = PlutonMailbox(clock=clk, core=make_device(b"det", keystore), memory=mem, buffer_windows=((0, 1 << 20),))
        d = Driver.on_ring(mb, mem, clk)
        out = [d.send(api.READ_RNG, struct.pack("<I", 32)), d.send(api.GET_SECURITY_STATE)]
        return out, clk.now, mb.snapshot()

    a, b = run_once(), run_once()
    assert a[0] == b[0] and a[1] == b[1]
    snap = a[2]
    assert "ring" in snap["state"] and snap["regs"]["VER"] == 0x36200000


def test_back_pressure_when_replies_are_not_popped(drv):
    for _ in range(FIFO_DEPTH):
        drv.send(api.GET_BOOT_MODE_FLAGS, run=False)
        drv.run()
    assert drv.mb.read(READ_COUNT) == FIFO_DEPTH
    for _ in range(3):
        drv.send(api.GET_BOOT_MODE_FLAGS, run=False)
        drv.run()
    assert drv.mb.read(WRITE_COUNT) == 2                 # Pluton stopped taking requests it cannot answer
    statuses = []
    while drv.mb.read(READ_COUNT):
        statuses.append(drv.pop()[1])
        drv.run()
    assert statuses == [api.OK] * (FIFO_DEPTH + 3) and drv.mb.read(WRITE_COUNT) == 0


def test_unsolicited_events_use_free_m4_buffers(drv, memory):
    assert drv.mb.post_event(api.SET_POSTCODE, b"\x01\x02\x03\x04\x05")
    word, status = drv.pop()
    w = api.Word.decode(word)
    assert (w.version, w.sequence, w.command, w.buffer_index, status) == (2, 0, api.SET_POSTCODE, 0, api.OK)
    assert memory.read(buffer_address(0), 12) == struct.pack("<HH", 8, 0) + b"\x01\x02\x03\x04\x05\0\0\0"
    flag = lambda i: memory.read(TABLE + api.TABLE_HEADER + i * api.TABLE_ENTRY + 10, 1)
    assert flag(0) == b"\0"                            # in use until the driver releases it
    for i in range(1, M4_COUNT):
        assert drv.mb.post_event(api.SET_POSTCODE, b"")
    assert not drv.mb.post_event(api.SET_POSTCODE, b"")  # every M4 buffer busy
    memory.write(TABLE + api.TABLE_HEADER + 2 * api.TABLE_ENTRY + 10, b"\x01")   # driver releases buffer 2
    assert drv.mb.post_event(api.SET_POSTCODE, b"")
    words = [api.Word.decode(drv.pop()[0]).buffer_index for _ in range(drv.mb.read(READ_COUNT))]
    assert words == [1, 2, 3, 2]
