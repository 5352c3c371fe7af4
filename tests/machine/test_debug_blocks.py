"""The IO core's private peripheral bus beyond the SCS: DWT cycle counter, ITM stimulus ports, CoreDebug."""
from mt3620.engine.machine import Machine
from mt3620.engine.simulation.clock import PS_PER_SECOND

DWT_CTRL, DWT_CYCCNT = 0xE0001000, 0xE0001004
ITM_STIM0, ITM_TER, ITM_TCR, ITM_LAR = 0xE0000000, 0xE0000E00, 0xE0000E80, 0xE0000FB0
DEMCR = 0xE000EDFC
MS = PS_PER_SECOND // 1000


def test_cyccnt_counts_hclk_cycles_of_virtual_time_while_enabled():
    m = Machine()
    view, core = m.view("io0"), m.core("io0")
    assert view.read_u32(DWT_CTRL) >> 28 == 4                   # four comparators
    view.write_u32(DEMCR, 1 << 24)                               # TRCENA
    assert view.read_u32(DEMCR) == 1 << 24
    assert view.read_u32(DWT_CYCCNT) == 0
    view.write_u32(DWT_CTRL, view.read_u32(DWT_CTRL) | 1)       # CYCCNTENA
    m.clock.advance_to(m.clock.now + MS)
    assert view.read_u32(DWT_CYCCNT) == 26_000                   # 1 ms at the 26 MHz crystal
    core.set_hz(197_600_000)                                     # the app selects the PLL
    m.clock.advance_to(m.clock.now + MS)
    assert view.read_u32(DWT_CYCCNT) == 26_000 + 197_600
    view.write_u32(DWT_CTRL, view.read_u32(DWT_CTRL) & ~1)      # stopped: the count holds
    m.clock.advance_to(m.clock.now + MS)
    assert view.read_u32(DWT_CYCCNT) == 223_600
    view.write_u32(DWT_CYCCNT, 5)
    assert view.read_u32(DWT_CYCCNT) == 5


def test_itm_stimulus_port_output_is_a_labelled_stream():
    m = Machine()
    view = m.view("io0")
    view.write_u32(ITM_TCR, 1)                                   # locked: ignored
    assert view.read_u32(ITM_TCR) == 0
    view.write_u32(ITM_LAR, 0xC5ACCE55)
    view.write_u32(ITM_TCR, 1)
    view.write_u32(ITM_TER, 1)
    assert view.read_u32(ITM_STIM0) == 1                         # FIFO ready
    for byte in b"swo\n":
        view.write(ITM_STIM0, bytes([byte]))
    view.write(ITM_STIM0 + 4, b"x")                              # port 1 is not enabled
    assert m.uarts["io0.itm"].lines == ["swo"]


def test_probing_the_rest_of_the_debug_bus_never_faults():
    m = Machine()
    view = m.view("io0")
    for address in (0xE0002000, 0xE0040000, 0xE0041000, 0xE00FF000, 0xE000EDF0):
        assert view.read_u32(address) == 0
