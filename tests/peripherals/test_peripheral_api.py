"""The register API models are written on: declarations checked when the class is defined, fields by name, register
arrays, banks, aliases, the volatile flag, timers that snapshot themselves, typed links and reset kinds."""
import pytest

from mt3620.engine.repl import load_platform
from mt3620.engine.simulation.clock import VirtualClock
from mt3620.engine.simulation.links import Link, LinkError
from mt3620.engine.simulation.peripheral import (COLD, CORE, WARM, Field, Peripheral, Register, RegisterArray,
                                                 Timer)
from mt3620.engine.simulation.protocols import ClockSource
from mt3620.peripherals.clock.rgu import Rgu
from mt3620.peripherals.dma.m4_dma import M4Dma
from mt3620.peripherals.timers.gpt import Gpt
from mt3620.peripherals.uart.mt3620_uart import Mt3620Uart


class Block(Peripheral):
    """A small block using every feature once."""
    SIZE = 0x100
    IRQS = ("irq",)
    BANKS = ("a", "b")
    REGISTERS = (
        Register(0x00, "CTRL", write="_ctrl", fields=(Field("EN", 0), Field("MODE", 4, 3), Field("GO", 8, access="wo"))),
        Register(0x04, "STATUS", survives=(CORE, WARM), fields=(Field("DONE", 0, access="w1c"),
                                                                Field("SEEN", 1, access="rc"))),
        Register(0x08, "STATUS_SET", fields=(Field("DONE", 0, access="w1s"),), alias_of="STATUS"),
        Register(0x0C, "COUNT", read="_count", volatile=True),
        Register(0x10, "LOW", banks=("a",)),
        Register(0x10, "HIGH", banks=("b",), reset=0x55),
        RegisterArray("CH", 0x40, count=3, stride=0x10, names="CH{i}_{reg}", registers=(
            Register(0x0, "ADDR"), Register(0x4, "LEN", fields=(Field("LEN", 0, 16),), write="_len"))),
        RegisterArray("PRIO", 0x80, count=2, stride=4, first=1,
                      registers=Register(0, "PRIO", read="_prio", write="_set_prio")),
    )
    STATE = ("log",)

    done = Timer("_done")
    ticks = Timer("_tick", count=2)
    hclk = Link(ClockSource)

    def reset(self, kind=COLD):
        super().reset(kind)
        self.log = []

    def _ctrl(self, value, old):
        self.log.append(("ctrl", old.EN, self.regs.CTRL.EN, self.regs.CTRL.GO))

    def _count(self):
        return self.clock.now // 1000

    def _len(self, index, value, lanes):
        self.log.append(("len", index, value, lanes))

    def _prio(self, index):
        return 0x10 + index

    def _set_prio(self, index, value):
        self.log.append(("prio", index, value))

    def _done(self, *args):
        self.log.append(("done", self.clock.now, args))
        self.regs.STATUS.DONE = 1

    def _tick(self, index):
        self.log.append(("tick", index, self.clock.now))


def test_fields_read_and_write_by_name():
    b = Block()
    b.write(0x00, 4, 0x31)
    assert (b.regs.CTRL.EN, b.regs.CTRL.MODE) == (1, 3)
    assert b.log[-1] == ("ctrl", 0, 1, 0)
    b.regs.CTRL.MODE = 5
    assert b.read(0x00) == 0x51 and b.regs["CTRL"] == 0x51
    with pytest.raises(ValueError, match="CTRL.MODE"):
        b.regs.CTRL.MODE = 8                       # three bits
    with pytest.raises(AttributeError):
        b.regs.CTRL.MDOE                           # noqa: B018 - a typo is an error, not a new attribute
    with pytest.raises(AttributeError):
        b.regs.CTRL.MDOE = 1


def test_access_kinds_and_alias():
    b = Block()
    b.write(0x00, 4, 0x100)                        # GO is write-only: stored, reads 0
    assert b.read(0x00) == 0 and b.regs.CTRL.GO == 1
    b.write(0x08, 4, 1)                            # STATUS_SET sets DONE in STATUS
    assert b.regs.STATUS.DONE == 1 and b.read(0x08) == 0
    b.regs.STATUS.SEEN = 1
    assert b.read(0x04) == 0x3 and b.read(0x04) == 0x1      # SEEN clears on read
    b.write(0x04, 4, 1)                            # W1C
    assert b.regs.STATUS.value == 0


def test_register_arrays_index_their_callbacks():
    b = Block()
    assert Block.offset("CH2_LEN") == 0x64 and Block.offset("PRIO2") == 0x84
    b.write(Block.offset("CH1_LEN"), 2, 0x1234)
    assert b.regs.CH[1].LEN.LEN == 0x1234 and b.regs["CH1_LEN"] == 0x1234
    assert b.log[-1] == ("len", 1, 0x1234, 0xFFFF)
    b.write(Block.offset("CH1_LEN") + 1, 1, 0xAB)          # one byte: the callback sees which lane was written
    assert b.log[-1] == ("len", 1, 0xAB34, 0xFF00)
    b.regs.CH[1].ADDR.value = 0x100
    b.regs.CH[1].reset()
    assert b.regs.CH[1].ADDR.value == 0 and b.regs.CH[1].LEN.value == 0
    assert b.read(Block.offset("PRIO1")) == 0x10 and b.read(Block.offset("PRIO2")) == 0x11
    b.write(Block.offset("PRIO2"), 4, 7)
    assert b.log[-1] == ("prio", 1, 7)
    offsets = {r.offset for r in Block.register_map()}
    assert {0x40, 0x44, 0x50, 0x54, 0x60, 0x64, 0x80, 0x84} <= offsets


def test_banks_route_one_offset_to_different_registers():
    b = Block()
    b.write(0x10, 4, 0x11)
    assert b.regs.LOW.value == 0x11 and b.regs.HIGH.value == 0x55
    b.select_bank("b")
    assert b.read(0x10) == 0x55
    snap = b.snapshot()
    assert snap["bank"] == "b"
    b.reset()
    assert b.bank == "a" and b.read(0x10) == 0
    b.restore(snap)
    assert b.bank == "b" and b.read(0x10) == 0x55


def test_volatile_registers_are_declared():
    b = Block()
    assert b.is_volatile(0x0C) and b.is_volatile(0x0E) and not b.is_volatile(0x00) and not b.is_volatile(0xF0)
    gpt = Gpt()
    assert {off for off in range(0, 0x100, 4) if gpt.is_volatile(off)} == {0x34, 0x40, 0x44, 0x58, 0x68}


def test_timers_snapshot_and_rearm_themselves():
    b = Block()
    b.done.start(500, "x")
    b.ticks[1].start_at(700)
    b.clock.advance_to(100)
    snap = b.snapshot()
    assert snap["timers"] == {"done": [(500, ("x",))], "ticks": [[], [(700, ())]]}
    other = Block(clock=VirtualClock())
    other.clock.advance_to(100)
    other.restore(snap)
    other.clock.advance_to(1000)
    assert other.log == [("done", 500, ("x",)), ("tick", 1, 700)]
    assert other.regs.STATUS.DONE == 1
    b.reset()                                      # a reset cancels pending timers
    b.clock.advance_to(1000)
    assert b.log == [] and not b.done.armed


def test_reset_kinds_keep_what_survives():
    b = Block()
    b.regs.STATUS.DONE = 1
    b.regs.CTRL.EN = 1
    for kind in (CORE, WARM):
        b.reset(kind)
        assert b.regs.STATUS.DONE == 1 and b.regs.CTRL.EN == 0
    b.reset(COLD)
    assert b.regs.STATUS.DONE == 0


def test_links_are_typed():
    rgu = Rgu()
    b = Block(hclk=rgu)
    assert b.hclk is rgu
    with pytest.raises(LinkError, match="already linked"):
        b.link("hclk", rgu)
    with pytest.raises(LinkError, match="ClockSource"):
        Block(hclk=Block())
    with pytest.raises(LinkError, match="no link 'dma'"):
        Block().link("dma", rgu)
    with pytest.raises(AttributeError):
        b.hclk = rgu
    uart = Mt3620Uart(base_address=0x38080500)         # ISU1: DMA channels 15 and 16
    dmas = [M4Dma(memory=None), M4Dma(memory=None)]
    uart.link("dma", *dmas)
    assert uart.dma == tuple(dmas) and all(d._peers[15] is uart and d._peers[16] is uart for d in dmas)
    with pytest.raises(LinkError, match="debug UART"):
        Mt3620Uart(base_address=0x21040000, dma=dmas[0])


@pytest.mark.parametrize("source, message", [
    ('''class Bad(Peripheral):
    REGISTERS = (Register(0x0, "CTRL", write="_ctrl_writen"),)
    def _ctrl_written(self, value): pass''', "Bad.REGISTERS: register CTRL: write callback '_ctrl_writen'"),
    ('''class Bad(Peripheral):
    REGISTERS = (Register(0x0, "CTRL", read="_read"),)
    def _read(self, index): pass''', "read callback Bad._read must take ()"),
    ('''class Bad(Peripheral):
    REGISTERS = (RegisterArray("CH", 0, 2, 4, Register(0, "X", write="_w")),)
    def _w(self, value): pass''', "must take (index, value"),
    ('''class Bad(Peripheral):
    REGISTERS = (Register(0x0, "A"), Register(0x0, "B"))''', "registers A and B both at 0x0"),
    ('''class Bad(Peripheral):
    REGISTERS = (Register(0x0, "A", fields=(Field("X", 0, 4), Field("Y", 3))),)''', "field Y overlaps"),
    ('''class Bad(Peripheral):
    SIZE = 0x10
    REGISTERS = (Register(0x10, "A"),)''', "not a word inside the block's 0x10 bytes"),
    ('''class Bad(Peripheral):
    REGISTERS = (Register(0x0, "A", banks=("x",)),)''', "names bank 'x'"),
    ('''class Bad(Peripheral):
    REGISTERS = (Register(0x0, "A_SET", alias_of="A"),)''', "alias of 'A', which is not declared"),
    ('''class Bad(Peripheral):
    REGISTERS = (Register(0x0, "A", fields=(Field("value", 0),)),)''', "field name 'value'"),
    ('''class Bad(Peripheral):
    t = Timer("_fire")''', "Bad.t: timer callback '_fire'"),
    ('''class Bad(Peripheral):
    clk = Link(ClockSource, bind="_follow")''', "Bad.clk: bind method '_follow'"),
])
def test_mistakes_are_errors_when_the_class_is_defined(source, message):
    scope = dict(Peripheral=Peripheral, Register=Register, RegisterArray=RegisterArray, Field=Field, Timer=Timer,
                 Link=Link, ClockSource=ClockSource)
    with pytest.raises(TypeError) as err:
        exec(source, scope)
    assert message in str(err.value)


# ---- the platform's links, resolved the same way by both engines ---------------------------------------------------
def _check_links(model, uarts=True):
    assert model("io0_gpt").hclk is model("io0_rgu") and model("io1_dma").hclk is model("io1_rgu")
    if uarts:
        assert model("isu2_uart").dma == (model("io0_dma"), model("io1_dma"))
    assert model("io0_mbox_m4").channel is model("io1_mbox_m4").channel
    assert (model("io0_mbox_m4").side, model("io1_mbox_m4").side) == (0, 1)


def test_the_machine_makes_the_platforms_links():
    from mt3620.engine.machine import Machine
    m = Machine()
    _check_links(m.device)
    rgu = m.device("io1_rgu")
    rgu.write(Rgu.offset("CM4_HCLK_CK_CTRL"), 4, 0x200)
    assert m.cores["io1"].hz == 197_600_000 and m.cores["io0"].hz == 26_000_000


def test_the_bridge_makes_the_same_links():
    from mt3620.engine.renode.bridge import BridgeModels
    from mt3620.engine.repl import default_platform_path
    models = BridgeModels(load_platform(default_platform_path()))
    _check_links(lambda name: models.blocks[name].model, uarts=False)   # UARTs are Renode's own in Renode


@pytest.mark.parametrize("line, message", [
    ("io0_gpt:\n    hclk: io0_rgx\n", "io0_rgx"),                         # a typo in the target
    ("io0_gpt:\n    hclk: io0_gpt\n", "needs a ClockSource"),             # a block of the wrong kind
    ("io0_gpt:\n    clock_block: io0_rgu\n", "declares no link 'clock_block'"),
    ("io0_mbox_m4:\n    channel: \"mbox_a7_io0\"\n", None),               # a shared object may be named anywhere
])
def test_link_mistakes_in_the_platform_are_one_line_errors(tmp_path, line, message):
    from mt3620.engine.machine import Machine
    from mt3620.engine.machine.machine import MachineError
    from mt3620.engine.repl import default_platform_path
    platform = tmp_path / "p.repl"
    platform.write_text(f'using "{default_platform_path()}"\n\n{line}')
    if message is None:
        Machine(platform)
        return
    with pytest.raises(MachineError, match=message) as err:
        Machine(platform)
    assert "io0_gpt" in str(err.value) and ".repl:" in str(err.value) and "\n" not in str(err.value)
