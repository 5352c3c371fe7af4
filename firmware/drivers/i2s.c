/* I2S driver (facts from CodethinkLabs I2S.c and MediaTek hdl_i2s.c: GLOBAL_CONTROL EN/DLFIFO_EN/ULFIFO_EN,
 * ENGEN_EN, clock selects, LOOPBACK bit 31; DL/UL_CONTROL EN, WLEN 0 (16-bit), SRC 1 (subordinate), FMT 1 (I2S), SR
 * in bits 11:8, WS_RSYNC; DMA_IF_CONTROL request and DMA mode bits; virtual-FIFO channels 25 + 2n out and
 * 26 + 2n in with 32-bit beats, the interrupt refilling at a quarter left / draining at three quarters full). */
#include "i2s.h"
#include "dma.h"

static struct {
    uint32_t *tx, *rx;
    unsigned tx_beats, rx_beats;
    i2s_ring_cb refill, consume;
} ctx[2];

static void tx_irq(unsigned ch)
{
    unsigned n = (ch - 25u) / 2u;
    unsigned space = ctx[n].tx_beats - dma_vff_count(ch);
    unsigned first = dma_vff_swptr(ch) / 4u;
    unsigned head = ctx[n].tx_beats - first;         /* to the end of the ring, then from its start */
    unsigned part = space < head ? space : head;
    if (ctx[n].refill) {
        ctx[n].refill(ctx[n].tx, first, part);
        if (space > part) {
            ctx[n].refill(ctx[n].tx, 0, space - part);
        }
    }
    dma_vff_advance(ch, space * 4u, ctx[n].tx_beats * 4u);
    wr32(DMA_CH(ch) + DMA_ACKINT, DMA_INT);
}

static void rx_irq(unsigned ch)
{
    unsigned n = (ch - 26u) / 2u;
    unsigned count = dma_vff_count(ch);
    unsigned first = dma_vff_swptr(ch) / 4u;
    unsigned head = ctx[n].rx_beats - first;
    unsigned part = count < head ? count : head;
    if (ctx[n].consume) {
        ctx[n].consume(ctx[n].rx, first, part);
        if (count > part) {
            ctx[n].consume(ctx[n].rx, 0, count - part);
        }
    }
    dma_vff_advance(ch, count * 4u, ctx[n].rx_beats * 4u);
    wr32(DMA_CH(ch) + DMA_ACKINT, DMA_INT);
}

void i2s_open(unsigned n, bool loopback)
{
    uint32_t base = I2S_BASE(n);
    wr32(base + I2S_SOFT_RESET, 1u << 1);
    wr32(base + I2S_SOFT_RESET, 0);
    /* ENGEN_EN, EXT_IO_CK, EXT, I2S in/out clocks, 26 MHz select, external clock selects, loopback. */
    uint32_t g = (1u << 3) | (1u << 4) | (1u << 5) | (1u << 11) | (1u << 12) | (1u << 18) | (3u << 24) | (3u << 26);
    wr32(base + I2S_GLOBAL_CONTROL, g | (loopback ? (1u << 31) : 0u));
}

static uint32_t control(unsigned sr)
{
    return 1u | (1u << 2) | (1u << 3) | ((sr & 0xFu) << 8) | (1u << 15);
}

void i2s_output(unsigned n, unsigned sr, uint32_t *ring, unsigned beats, i2s_ring_cb refill)
{
    uint32_t base = I2S_BASE(n);
    ctx[n].tx = ring;
    ctx[n].tx_beats = beats;
    ctx[n].refill = refill;
    wr32(base + I2S_DL_CONTROL, control(sr));
    wr32(base + I2S_DMA_IF_CONTROL, rd32(base + I2S_DMA_IF_CONTROL) | 1u | (1u << 4) | (1u << 15));
    dma_vff_start(I2S_DMA_TX(n), ring, beats, DMA_CON_SIZE_WORD, beats / 4u, false, tx_irq);
    wr32(base + I2S_GLOBAL_CONTROL, rd32(base + I2S_GLOBAL_CONTROL) | 1u | (1u << 1));
}

void i2s_input(unsigned n, unsigned sr, uint32_t *ring, unsigned beats, i2s_ring_cb consume)
{
    uint32_t base = I2S_BASE(n);
    ctx[n].rx = ring;
    ctx[n].rx_beats = beats;
    ctx[n].consume = consume;
    wr32(base + I2S_UL_CONTROL, control(sr) | (8u << 24));
    wr32(base + I2S_DMA_IF_CONTROL, rd32(base + I2S_DMA_IF_CONTROL) | (1u << 16) | (1u << 20) | (1u << 31));
    dma_vff_start(I2S_DMA_RX(n), ring, beats, DMA_CON_SIZE_WORD, beats * 3u / 4u, true, rx_irq);
    wr32(base + I2S_GLOBAL_CONTROL, rd32(base + I2S_GLOBAL_CONTROL) | 1u | (1u << 2));
}

void i2s_stop(unsigned n)
{
    uint32_t base = I2S_BASE(n);
    wr32(base + I2S_DL_CONTROL, 0);
    wr32(base + I2S_UL_CONTROL, 0);
    wr32(base + I2S_GLOBAL_CONTROL, rd32(base + I2S_GLOBAL_CONTROL) & ~7u);
    dma_vff_stop(I2S_DMA_TX(n));
    dma_vff_stop(I2S_DMA_RX(n));
}
