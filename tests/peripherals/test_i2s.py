"""Register-level tests of the I2S controllers: sample rates, the 16/32-bit, mono and TDM frame formats the drivers
use, the FIFO port, underrun/overflow status and interrupts, internal loopback, DMA virtual FIFOs (channels 25/26),
the soft reset. Frames move on the virtual clock, stepped explicitly."""
import pytest

from mt3620.engine.simulation.clock import PS_PER_SECOND, VirtualClock
from mt3620.peripherals.buses.i2s import I2sDevice
from mt3620.peripherals.dma.m4_dma import M4Dma
from mt3620.peripherals.i2s.i2s import BATCH, I2s, I2sFifoPort, sample_rate
from mt3620.peripherals.mailbox.intercore import ByteMemory

O = I2s.offset
D = M4Dma.offset
SYSRAM = 0x22000000
EN, DLFIFO, ULFIFO, ENGEN, MONO, MONO_DUP, EMPTY_EN, LOOP = 1, 2, 4, 8, 1 << 8, 1 << 9, 1 << 22, 1 << 31
DL_UNDR, UL_OVF = 1 << 17, 1 << 18


class Codec(I2sDevice):
    name = "codec"

    def __init__(self, capture=()):
        self.played, self.formats, self.times = [], set(), []
        self.capture = list(capture)

    def i2s_playback(self, frames, fmt, t_ps):
        self.played += frames
        self.formats.add(fmt)
        self.times.append(t_ps)

    def i2s_capture(self, count, fmt, t_ps):
        out = self.capture[:count]
        del self.capture[:count]
        return out + [(0,) * fmt.channels] * (count - len(out))


@pytest.fixture
def chip():
    clock = VirtualClock()
    i2s = I2s(clock=clock, base_address=0x380D0000)
    port = I2sFifoPort(clock=clock, base_address=0x380F0000)
    port.link("i2s", i2s)
    codec = i2s.attach(Codec())
    return clock, i2s, port, codec


def ctl(sr=0b1001, wlen=0, fmt=1, ch_per_s=0, en=1):
    return en | wlen << 1 | fmt << 3 | sr << 8 | ch_per_s << 29


def batches(clock, i2s, n=1):
    rate = sample_rate(i2s.regs.DL_CONTROL.SR if i2s.regs.DL_CONTROL.EN else i2s.regs.UL_CONTROL.SR)
    clock.advance_to(clock.now + n * BATCH * PS_PER_SECOND // rate + 1)


def test_sample_rates_follow_the_sr_formula():
    assert [sample_rate(sr) for sr in (0, 1, 2, 4, 5, 6, 9)] == [8000, 10000, 12000, 16000, 20000, 24000, 40000]
    assert sample_rate(0b1010) == 48000 and sample_rate(0b1000) == 32000


def test_reset_values_and_bases():
    i2s = I2s(clock=VirtualClock(), base_address=0x380E0000)
    assert i2s.index == 1 and i2s.dma_channels == (27, 28)
    assert i2s.read(O("GLOBAL_CONTROL")) == 0 and i2s.read(O("GLOBAL_INT_STS")) == 0
    assert i2s.read(O("DL_FIFO_R_CONTROL")) & 3 == 3                 # almost empty, empty
    with pytest.raises(ValueError):
        I2s(clock=VirtualClock(), base_address=0x380F0000)
    with pytest.raises(ValueError):
        I2sFifoPort(clock=VirtualClock(), base_address=0x380D0000)


def test_16_bit_stereo_playback_through_the_port(chip):
    clock, i2s, port, codec = chip
    for i in range(BATCH):
        port.write(0, 4, (i & 0xFFFF) | ((-i) & 0xFFFF) << 16)       # left in the low half
    assert i2s.read(O("DL_FIFO_W_CONTROL")) >> 8 & 0xFF == BATCH
    i2s.write(O("DL_CONTROL"), 4, ctl(sr=0b1010))                    # 48 kHz
    i2s.write(O("GLOBAL_CONTROL"), 4, EN | DLFIFO | ENGEN)
    t0 = clock.now
    clock.advance_to(t0 + BATCH * PS_PER_SECOND // 48000 - 1)
    assert codec.played == []
    clock.advance_to(t0 + BATCH * PS_PER_SECOND // 48000 + 1)
    assert codec.played == [(i, -i) for i in range(BATCH)]
    (fmt,) = codec.formats
    assert (fmt.rate_hz, fmt.channels, fmt.bits, fmt.tdm) == (48000, 2, 16, False)


def test_32_bit_samples_one_per_word(chip):
    clock, i2s, port, codec = chip
    for i in range(2 * BATCH):
        port.write(0, 4, (i << 16) if i % 2 == 0 else (-i) & 0xFFFFFFFF)
    i2s.write(O("DL_CONTROL"), 4, ctl(wlen=1))
    i2s.write(O("GLOBAL_CONTROL"), 4, EN | DLFIFO)
    batches(clock, i2s)
    assert codec.played[:2] == [(0, -1), (2 << 16, -3)]


def test_mono_duplicated_to_both_channels(chip):
    clock, i2s, port, codec = chip
    for i in range(BATCH):
        port.write(0, 4, 100 + i)
    i2s.write(O("DL_CONTROL"), 4, ctl())
    i2s.write(O("GLOBAL_CONTROL"), 4, EN | DLFIFO | MONO | MONO_DUP)
    batches(clock, i2s)
    assert codec.played[:3] == [(100, 100), (101, 101), (102, 102)]


def test_tdm_frames_carry_more_channels(chip):
    clock, i2s, port, codec = chip
    for i in range(2 * BATCH):
        port.write(0, 4, 0x00020001 if i % 2 == 0 else 0x00040003)
    i2s.write(O("DL_CONTROL"), 4, ctl(fmt=0, ch_per_s=1))            # TDM, 4 channels
    i2s.write(O("GLOBAL_CONTROL"), 4, EN | DLFIFO)
    batches(clock, i2s)
    assert codec.played[0] == (1, 2, 3, 4)
    assert next(iter(codec.formats)).tdm


def test_underrun_plays_the_empty_value_and_sets_status(chip):
    clock, i2s, _, codec = chip
    i2s.write(O("DL_EMPTY_VALUE_LR"), 4, 0x0005_0007)                # L = 5, R = 7
    i2s.write(O("GLOBAL_INT_EN"), 4, DL_UNDR)
    i2s.write(O("DL_CONTROL"), 4, ctl())
    i2s.write(O("GLOBAL_CONTROL"), 4, EN | DLFIFO | EMPTY_EN)
    batches(clock, i2s)
    assert codec.played[0] == (5, 7) and i2s.underruns == BATCH
    assert i2s.irq[0].level and i2s.read(O("GLOBAL_INT_STS")) & DL_UNDR
    i2s.write(O("GLOBAL_INT_STS_CLR"), 4, DL_UNDR)
    assert not i2s.irq[0].level


def test_capture_from_the_codec_and_overflow(chip):
    clock, i2s, port, codec = chip
    codec.capture = [(i, -i) for i in range(3 * BATCH)]
    i2s.write(O("GLOBAL_INT_EN"), 4, UL_OVF)
    i2s.write(O("UL_CONTROL"), 4, ctl())
    i2s.write(O("GLOBAL_CONTROL"), 4, EN | ULFIFO)
    batches(clock, i2s)
    word = port.read(0)
    assert (word & 0xFFFF, word >> 16) == (0, 0)
    assert port.read(0) == (1 | (0xFFFF << 16))
    batches(clock, i2s, 2)                                            # 46 words for a 32-word FIFO
    assert i2s.overflows > 0 and i2s.irq[0].level
    assert i2s.read(O("UL_FIFO_R_CONTROL")) >> 8 & 0xFF == 32


def test_internal_loopback_returns_the_output(chip):
    clock, i2s, port, codec = chip
    for i in range(BATCH):
        port.write(0, 4, 0x1000 + i)
    i2s.write(O("DL_CONTROL"), 4, ctl())
    i2s.write(O("UL_CONTROL"), 4, ctl())
    i2s.write(O("GLOBAL_CONTROL"), 4, EN | DLFIFO | ULFIFO | LOOP)
    batches(clock, i2s)
    assert codec.played == []                                        # nothing reaches the pins
    assert [port.read(0) for _ in range(BATCH)] == [0x1000 + i for i in range(BATCH)]


def test_port_reads_empty_and_writes_full(chip):
    _, i2s, port, _ = chip
    assert port.read(0) == 0 and i2s.read(O("GLOBAL_INT_STS")) & (1 << 19)
    for i in range(33):
        port.write(0, 4, i)
    assert i2s.read(O("GLOBAL_INT_STS")) & (1 << 16)                 # DL_MI_OVF: the 33rd was dropped
    assert i2s.read(O("DL_FIFO_W_CONTROL")) & 3 == 3                  # almost full, full
    i2s.write(O("DL_FIFO_W_CONTROL"), 4, 1 << 2)                       # CLEAR
    assert i2s.read(O("DL_FIFO_W_CONTROL")) >> 8 & 0xFF == 0


def test_soft_reset_empties_fifos_and_holds_the_engine(chip):
    clock, i2s, port, codec = chip
    port.write(0, 4, 1)
    i2s.write(O("DL_CONTROL"), 4, ctl())
    i2s.write(O("SOFT_RESET"), 4, 1)
    i2s.write(O("GLOBAL_CONTROL"), 4, EN | DLFIFO)
    batches(clock, i2s, 3)
    assert codec.played == [] and len(i2s.dl) == 0
    i2s.write(O("SOFT_RESET"), 4, 0)
    batches(clock, i2s)
    assert len(codec.played) == BATCH


class Bus(ByteMemory):
    def __init__(self, i2s):
        super().__init__(SYSRAM, 0x4000)


def vff(dma, ch, addr, size, rx, count=0):
    dma.write(D("CH_EN_SET"), 4, 1 << ch)
    dma.write(D(f"CH{ch}_PGMADDR"), 4, addr)
    dma.write(D(f"CH{ch}_FIXADDR"), 4, 0x380F0000)
    dma.write(D(f"CH{ch}_FFSIZE"), 4, size)
    dma.write(D(f"CH{ch}_COUNT"), 4, count)
    dma.write(D(f"CH{ch}_CON"), 4, 2 | 1 << 4 | (1 << 18 if rx else 0))
    dma.write(D(f"CH{ch}_START"), 4, 1 << 15)


@pytest.mark.parametrize("driver", ["codethink", "mediatek"])
def test_dma_rings_play_and_record(chip, driver):
    """CodethinkLabs sets DMA_MODE_SEL and the FIFO enables, MediaTek's driver neither: a running channel moves
    the data either way."""
    clock, i2s, _, codec = chip
    mem = Bus(i2s)
    dma = M4Dma(clock=clock, base_address=0x21080000, cpu="io0", memory=mem)
    i2s.link("dma", dma)
    out = [(i, 1000 - i) for i in range(64)]
    mem.write(SYSRAM, b"".join(((l & 0xFFFF) | (r & 0xFFFF) << 16).to_bytes(4, "little") for l, r in out))
    codec.capture = [(7 * i, -7 * i) for i in range(64)]
    vff(dma, 25, SYSRAM, 64, rx=False)
    vff(dma, 26, SYSRAM + 0x1000, 64, rx=True)
    dma.write(D("CH25_SWPTR"), 4, 0x10000)                          # the whole 64-word ring is full
    if driver == "codethink":
        i2s.write(O("DMA_IF_CONTROL"), 4, 1 << 15 | 1 << 31)
    i2s.write(O("DL_CONTROL"), 4, ctl())
    i2s.write(O("UL_CONTROL"), 4, ctl())
    i2s.write(O("GLOBAL_CONTROL"), 4, EN | (DLFIFO | ULFIFO if driver == "codethink" else 0))
    batches(clock, i2s, 4)
    assert codec.played == out
    assert dma.read(D("CH26_FFCNT")) == 64
    got = [int.from_bytes(mem.read(SYSRAM + 0x1000 + 4 * i, 4), "little") for i in range(64)]
    assert [(w & 0xFFFF, w >> 16) for w in got[:2]] == [(0, 0), (7, 0xFFF9)]
    assert i2s.underruns == 0
