"""Register-level tests of the GPT0-4 model, virtual time stepped explicitly."""
import pytest

from mt3620.engine.simulation.clock import PS_PER_SECOND, VirtualClock
from mt3620.peripherals.timers.gpt import Gpt

ISR, IER = Gpt.offset("GPT_ISR"), Gpt.offset("GPT_IER")
CTRL = {i: Gpt.offset(f"GPT{i}_CTRL") for i in range(5)}
ICNT = {i: Gpt.offset(f"GPT{i}_ICNT") for i in range(2)}
CNT = {i: Gpt.offset(f"GPT{i}_CNT") for i in range(5)}
GPT3_INIT, GPT3_EXPIRE, GPT4_INIT = Gpt.offset("GPT3_INIT"), Gpt.offset("GPT3_EXPIRE"), Gpt.offset("GPT4_INIT")
MS = PS_PER_SECOND // 1000
US = PS_PER_SECOND // 1_000_000


def at_32k(n):
    """Virtual time of the n-th tick of the 32.768 kHz clock."""
    return -(-n * PS_PER_SECOND // 32768)


@pytest.fixture
def gpt():
    return Gpt(clock=VirtualClock(), base_address=0x21030000)


def test_reset_values(gpt):
    assert gpt.read(ISR) == 0 and gpt.read(IER) == 0
    assert gpt.read(CTRL[3]) == 0x19 << 16          # OSC_CNT_1US: 26 MHz / 26 = 1 MHz
    for i in range(5):
        assert gpt.read(CNT[i]) == 0
    assert not gpt.irq[0].level and not gpt.irq[1].level


def test_gpt0_one_shot_32k(gpt):
    clock = gpt.clock
    gpt.write(IER, 4, 1)
    gpt.write(ICNT[0], 4, 99)                       # 100 ticks
    gpt.write(CTRL[0], 4, 0x4 | 0x1)
    assert gpt.read(CNT[0]) == 99
    clock.advance_to(at_32k(40))
    assert gpt.read(CNT[0]) == 59
    clock.advance_to(at_32k(100) - 1)
    assert not gpt.irq[0].level
    clock.advance_to(at_32k(100))
    assert gpt.irq[0].level
    assert gpt.read(ISR) == 1
    assert gpt.read(CTRL[0]) & 1 == 0               # one-shot stopped itself
    assert gpt.read(CNT[0]) == 0
    gpt.write(ISR, 4, 1)                            # W1C
    assert gpt.read(ISR) == 0 and not gpt.irq[0].level
    clock.advance_to(at_32k(1000))
    assert gpt.read(ISR) == 0


def test_gpt1_repeat_slow_speed_and_ier_gating(gpt):
    clock = gpt.clock
    gpt.write(ICNT[1], 4, 32)                       # 33 ticks of 32768/33 Hz = 33 * 33 / 32768 s
    gpt.write(CTRL[1], 4, 0x2 | 0x1)
    period = 33 * 33 * PS_PER_SECOND / 32768
    clock.advance_to(int(period) + 1)
    assert gpt.read(ISR) == 2
    assert not gpt.irq[0].level                     # not enabled in IER
    gpt.write(IER, 4, 2)
    assert gpt.irq[0].level
    gpt.write(ISR, 4, 2)
    assert not gpt.irq[0].level
    clock.advance_to(int(2 * period) - 10)
    assert gpt.read(ISR) == 0
    assert gpt.read(CNT[1]) == 0
    clock.advance_to(int(2 * period) + 10)
    assert gpt.read(ISR) == 2 and gpt.read(CNT[1]) == 32
    assert gpt.read(CTRL[1]) & 1 == 1               # repeat keeps running


def test_isr_w1c_only_clears_written_bits(gpt):
    clock = gpt.clock
    for i in (0, 1):
        gpt.write(ICNT[i], 4, 0)
        gpt.write(CTRL[i], 4, 0x5)
    clock.advance_to(at_32k(2))
    assert gpt.read(ISR) == 3
    gpt.write(ISR, 4, 1)
    assert gpt.read(ISR) == 2
    gpt.write(ISR, 4, 0)                            # writing zeros changes nothing
    assert gpt.read(ISR) == 2


def test_gpt0_disable_holds_and_enable_reloads(gpt):
    clock = gpt.clock
    gpt.write(ICNT[0], 4, 1000)
    gpt.write(CTRL[0], 4, 0x5)
    clock.advance_to(at_32k(10))
    gpt.write(CTRL[0], 4, 0x4)
    clock.advance_to(at_32k(500))
    assert gpt.read(CNT[0]) == 990                  # held while disabled
    gpt.write(ICNT[0], 4, 990)                      # CTD GPT_Resume: write the saved count, enable
    gpt.write(CTRL[0], 4, 0x5)
    clock.advance_to(at_32k(500) + at_32k(991))
    assert gpt.read(ISR) & 1


def test_restart_bit_reloads_running_timer(gpt):
    clock = gpt.clock
    gpt.write(ICNT[0], 4, 100)
    gpt.write(CTRL[0], 4, 0x5)
    clock.advance_to(at_32k(60))
    gpt.write(CTRL[0], 4, 0x5 | 0x8)
    assert gpt.read(CNT[0]) == 100
    clock.advance_to(at_32k(130))
    assert gpt.read(ISR) == 0                       # expiry moved out to tick 161
    clock.advance_to(at_32k(161) + 1)
    assert gpt.read(ISR) == 1


def test_gpt2_free_running_and_cnt_write(gpt):
    clock = gpt.clock
    gpt.write(CTRL[2], 4, 0x3)                      # enabled, 32.768 kHz
    clock.advance_to(PS_PER_SECOND)
    assert gpt.read(CNT[2]) == 32768
    gpt.write(CNT[2], 4, 5)
    clock.advance_to(PS_PER_SECOND + at_32k(10))
    assert gpt.read(CNT[2]) == 15
    gpt.write(CTRL[2], 4, 0x1)                      # slow speed: continues from the current count
    clock.advance_to(2 * PS_PER_SECOND + at_32k(10))
    assert gpt.read(CNT[2]) == 15 + 32768 // 33
    gpt.write(CTRL[2], 4, 0)
    held = gpt.read(CNT[2])
    clock.advance_to(5 * PS_PER_SECOND)
    assert gpt.read(CNT[2]) == held


def test_gpt3_microseconds_expire_and_iclr(gpt):
    clock = gpt.clock
    gpt.write(GPT3_INIT, 4, 0)
    gpt.write(GPT3_EXPIRE, 4, 999)                  # 1000 us
    gpt.write(CTRL[3], 4, (0x19 << 16) | (1 << 15) | 1)
    assert gpt.read(CTRL[3]) & (1 << 15) == 0       # ICLR does not stay set
    clock.advance_to(500 * US)
    assert gpt.read(CNT[3]) == 500
    clock.advance_to(1000 * US - 1)
    assert not gpt.irq[1].level
    clock.advance_to(1000 * US)
    assert gpt.irq[1].level
    assert not gpt.irq[0].level
    clock.advance_to(1500 * US)
    assert gpt.irq[1].level                         # held until ICLR
    assert gpt.read(CNT[3]) == 1500                 # keeps counting
    gpt.write(CTRL[3], 4, gpt.read(CTRL[3]) | (1 << 15))
    assert not gpt.irq[1].level
    # CTD repeat: disable, enable -> counts again from INIT
    gpt.write(CTRL[3], 4, 0x19 << 16)
    gpt.write(CTRL[3], 4, (0x19 << 16) | 1)
    clock.advance_to(2500 * US)
    assert gpt.irq[1].level


def test_gpt3_osc_cnt_changes_rate(gpt):
    clock = gpt.clock
    gpt.write(CTRL[3], 4, (12 << 16) | 1)           # 26 MHz / 13 = 2 MHz
    clock.advance_to(10 * US)
    assert gpt.read(CNT[3]) == 20
    assert gpt.frequency_hz(3) == 2_000_000


def test_gpt4_bus_clock_and_hclk_change(gpt):
    clock = gpt.clock
    gpt.write(GPT4_INIT, 4, 100)
    gpt.write(CTRL[4], 4, 0x3)
    clock.advance_to(US)
    assert gpt.read(CNT[4]) == 126
    gpt.set_hclk(197_600_000)
    clock.advance_to(2 * US)
    assert gpt.read(CNT[4]) == 126 + 197 or gpt.read(CNT[4]) == 126 + 198
    gpt.write(CTRL[4], 4, 0x1)                      # half speed
    before = gpt.read(CNT[4])
    clock.advance_to(3 * US)
    assert gpt.read(CNT[4]) - before in (98, 99)


def test_nonsense_writes(gpt):
    gpt.write(CNT[0], 4, 1234)                      # read-only
    gpt.write(0xF0, 4, 1)                           # undefined
    gpt.write(ISR, 4, 0xFFFFFFFC)                   # reserved bits
    assert gpt.read(CNT[0]) == 0 and gpt.read(ISR) == 0 and gpt.read(0xF0) == 0


def test_snapshot_restore_keeps_pending_expiry(gpt):
    gpt.write(ICNT[0], 4, 327)
    gpt.write(IER, 4, 1)
    gpt.write(CTRL[0], 4, 0x7)
    gpt.clock.advance_to(at_32k(100))
    snap = gpt.snapshot()
    g2 = Gpt(clock=VirtualClock())
    g2.clock.advance_to(at_32k(100))
    g2.restore(snap)
    assert g2.read(CNT[0]) == 227
    g2.clock.advance_to(at_32k(328))
    assert g2.irq[0].level


def test_gpt4_follows_rgu_through_its_hclk_link():
    from mt3620.peripherals.clock.rgu import Rgu
    clock = VirtualClock()
    rgu = Rgu(clock=clock, base_address=0x21010000, cpu="io0")
    gpt = Gpt(clock=clock, base_address=0x21030000, cpu="io0", hclk=rgu)
    other = Gpt(clock=clock, base_address=0x21030000, cpu="io1", hclk=Rgu(clock=clock, cpu="io1"))
    gpt.write(CTRL[4], 4, 0x3)
    other.write(CTRL[4], 4, 0x3)
    clock.advance_to(US)
    rgu.write(Rgu.offset("CM4_HCLK_CK_CTRL"), 4, 0x200)     # PLL
    clock.advance_to(2 * US)
    assert gpt.read(CNT[4]) in (26 + 197, 26 + 198)
    assert other.read(CNT[4]) == 52                 # the other core's clock did not change
