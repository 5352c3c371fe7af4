"""The firewall block at 0x30000000 (peripherals/firewall): owner registers, lock, unlock key, refusals, the
violation interrupt, who may reach the registers, and the per-access check on each core's bus."""
import pytest

from mt3620.engine.simulation.access import Access, AccessDenied
from mt3620.engine.simulation.clock import VirtualClock
from mt3620.peripherals.firewall import BLOCKS, BusFirewall, block
from mt3620.peripherals.firewall.bus_firewall import SECURE_MONITOR, UNLOCK_KEY

IO0, IO1, A7 = Access("io0"), Access("io1"), Access("a7")


def owner_offset(name):
    return BusFirewall.offset(f"OWNER{[b.name for b in BLOCKS].index(name)}")


@pytest.fixture
def fw():
    return BusFirewall(clock=VirtualClock(), base_address=0x30000000)


def test_power_on_every_block_is_open_and_unlocked(fw):
    assert fw.read(0) == 0x46570001
    assert fw.read(BusFirewall.offset("FW_BLOCK_COUNT")) == len(BLOCKS)
    assert all(fw.read(BusFirewall.offset(f"OWNER{i}")) == 7 for i in range(len(BLOCKS)))
    assert fw.read(BusFirewall.offset("FW_CTRL")) == 0
    for access in (IO0, IO1, A7, Access("dma")):
        fw.bus_check("io0", access, 0x38070500, 4, True)           # nothing refused


def test_owner_writes_then_lock_then_ignored_until_unlock(fw):
    isu0 = owner_offset("isu0")
    fw.write(isu0, 4, 0b010)                                       # IO core 0 only
    assert fw.read(isu0) == 2 and fw.owners("isu0") == ("io0",)
    fw.write(BusFirewall.offset("FW_CTRL"), 4, 1)
    assert fw.locked and fw.read(BusFirewall.offset("FW_CTRL")) == 1
    fw.write(isu0, 4, 0b111)                                       # locked: ignored
    fw.write(BusFirewall.offset("FW_CTRL"), 4, 0)                  # writing 0 does not unlock
    fw.write(BusFirewall.offset("FW_UNLOCK"), 4, 0x12345678)       # a wrong key does not either
    assert fw.owners("isu0") == ("io0",) and fw.locked and fw.core.ignored_writes == 1
    fw.write(BusFirewall.offset("FW_UNLOCK"), 4, UNLOCK_KEY)
    assert not fw.locked
    fw.write(isu0, 4, 0b100)
    assert fw.owners("isu0") == ("io1",)
    fw.write(isu0, 4, 0xFFFFFFF8)                                  # only three owner bits exist
    assert fw.read(isu0) == 0


def test_an_access_by_a_core_that_does_not_own_the_block_is_refused_and_recorded(fw):
    fw.program({"isu0": ("io0",), "gpio2": ("a7",)})
    assert fw.locked
    fw.bus_check("io0", IO0, 0x38070514, 4, False)                 # io0 owns ISU0
    with pytest.raises(AccessDenied) as err:
        fw.bus_check("io1", IO1, 0x38070514, 4, True)
    assert err.value.address == 0x38070514 and err.value.write
    assert "io1 refused write of 4 byte(s) at 0x38070514: block isu0 belongs to io0" in str(err.value)
    with pytest.raises(AccessDenied):                              # PWM controller 2 is in GPIO block 2
        fw.bus_check("io0", IO0, 0x38031100, 4, False)
    fw.bus_check("a7", A7, 0x38031100, 4, False)
    with pytest.raises(AccessDenied):                              # a block nobody owns
        fw.bus_check("a7", A7, 0x38000000, 4, False)
    r = fw.refusals
    assert [(x.initiator, x.block, x.address, x.write) for x in r] == [
        ("io1", "isu0", 0x38070514, True), ("io0", "gpio2", 0x38031100, False), ("a7", "adc", 0x38000000, False)]
    assert fw.read(BusFirewall.offset("FW_REFUSED")) == 3
    assert fw.read(BusFirewall.offset("FW_LAST_ADDR")) == 0x38000000
    info = fw.read(BusFirewall.offset("FW_LAST_INFO"))
    assert info >> 31 == 1 and info & 0xFF == [b.name for b in BLOCKS].index("adc") and (info >> 8) & 7 == 1
    assert fw.bus_check("io0", IO0, 0x50000000, 4, False) is None  # outside every block: not the firewall's


def test_dma_counts_as_its_core_and_host_accesses_pass(fw):
    fw.program({"io0_sysram": ("io0",), "intercore_io0": ("io0", "a7")})
    fw.bus_check("io0", Access("dma"), 0x22000010, 4, True)
    with pytest.raises(AccessDenied):
        fw.bus_check("io1", Access("dma"), 0x20100000, 4, True)    # io1's DMA into io0's intercore window
    fw.bus_check("a7", A7, 0x20100040, 4, False)
    for host in ("test", "debugger", "pluton"):
        fw.bus_check("io1", Access(host), 0x20100000, 4, True)


def test_per_core_windows(fw):
    """0x21050000 is each IO core's own A7 mailbox port: the same address is another block on each core."""
    fw.program({"mbox_a7_io0": ("io0",), "mbox_io0_io1": ()})
    fw.bus_check("io0", IO0, 0x21050040, 4, True)
    with pytest.raises(AccessDenied):
        fw.bus_check("a7", A7, 0x31010040, 4, True)                # the A7's side of the same channel
    with pytest.raises(AccessDenied):
        fw.bus_check("io0", IO0, 0x21060040, 4, True)              # nobody owns the IO0-IO1 mailbox
    with pytest.raises(AccessDenied):
        fw.bus_check("io1", IO1, 0x21050040, 4, True)              # io1's port there is mbox_a7_io1
    assert [r.block for r in fw.refusals] == ["mbox_a7_io0", "mbox_io0_io1", "mbox_a7_io1"]


def test_unprogrammed_blocks_get_no_owner_when_programmed(fw):
    fw.program({"isu1": ("io1",)})
    assert fw.owners("isu1") == ("io1",) and fw.owners("isu2") == () and fw.owners("io1_tcm") == ()


def test_violation_interrupt(fw):
    fw.write(BusFirewall.offset("FW_INT_EN"), 4, 1)
    fw.program({})
    assert not fw.irq[0].level
    with pytest.raises(AccessDenied):
        fw.bus_check("io0", IO0, 0x38010000, 4, False)
    assert fw.irq[0].level
    fw.write(BusFirewall.offset("FW_INT_STS"), 4, 1)
    assert not fw.irq[0].level


def test_reset_opens_everything_and_snapshot_restores(fw):
    fw.program({"isu0": ("io0",)})
    snap = fw.snapshot()
    fw.reset()
    assert not fw.locked and fw.owners("isu0") == ("a7", "io0", "io1")
    fw.restore(snap)
    assert fw.locked and fw.owners("isu0") == ("io0",) and fw.owners("isu1") == ()


def test_listeners_and_description(fw):
    seen = []
    fw.add_refusal_listener(seen.append)
    fw.program({"isu3": ("a7",)})
    with pytest.raises(AccessDenied):
        fw.bus_check("io0", IO0, 0x380A0500, 1, False)
    assert seen[0].block == "isu3"
    text = "\n".join(fw.describe())
    assert "firewalls: locked, 1 refusal(s)" in text and "isu3           a7" in text
    assert fw.state()["blocks"]["isu3"] == ["a7"]


def test_block_table_facts():
    assert block("gpio0").windows[1].start == 0x38011000
    assert [b.name for b in BLOCKS if b.kind == "isu"] == [f"isu{n}" for n in range(5)]
    assert block("isu4").windows[0].start == 0x380B0000
    assert block("io0_tcm").windows[0].size == 192 * 1024


def test_only_the_secure_a7_reaches_the_registers():
    from mt3620.engine.machine import Machine
    from mt3620.peripherals.firewall import firewall_of
    machine = Machine()
    fw = firewall_of(machine)
    a7 = machine.view("a7")
    assert a7.read_u32(0x30000000, SECURE_MONITOR) == 0x46570001
    for view, access in (("a7", Access("a7", secure=False, privileged=False)), ("io0", IO0)):
        with pytest.raises(AccessDenied):
            machine.view(view).write_u32(0x30000000 + owner_offset("isu0"), 0, access)
    fw.program({"isu0": ("io0",)}, bus=a7)                          # through the bus, as the security monitor
    assert fw.owners("isu0") == ("io0",)
    assert machine.view("io0").read_u32(0x38070514, IO0) is not None
    with pytest.raises(AccessDenied):
        machine.view("io1").read_u32(0x38070514, IO1)


def test_the_check_is_on_the_bus_only_while_some_block_is_closed():
    from mt3620.engine.machine import Machine
    from mt3620.engine.simulation.peripheral import ResetKind
    from mt3620.peripherals.firewall import firewall_of
    machine = Machine()
    fw = firewall_of(machine)
    assert all(not view.access_hooks for view in machine.views.values())      # power-on: open, no cost
    fw.program({"isu0": ("io0",)}, bus=machine.view("a7"))
    assert all(len(view.access_hooks) == 1 for view in machine.views.values())
    fw.reset(ResetKind.WARM)
    assert all(not view.access_hooks for view in machine.views.values())
