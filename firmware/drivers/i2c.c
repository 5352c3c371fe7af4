/* ISU I2C master and subordinate, interrupt-driven, FIFO or DMA.
 *
 * The register sequences follow the public drivers (facts, not code): CodethinkLabs I2CMaster.c (packets with
 * MM_PACK_CON0 and MM_CNT_BYTE_VAL_PKn, GMODE for repeated starts, DMA channels 2n/2n + 1 paced by the handshake
 * for transfers beyond the 8-byte FIFO, MM_INT_STA at the end) and MediaTek mhal_i2c.c (SCL phases from a 40 MHz
 * source: each phase = period / 4 - 1 plus the remainder, +3/-3 or +5/-5 cycles between phases 0 and 2, minus
 * the sync and deglitch delays from phase 1; MM_ACK_VAL for NACKs).
 */
#include "i2c.h"

#define SOURCE_HZ 40000000u

static volatile bool done[5];
static volatile bool sub_done[5];

static void isr(unsigned isu)
{
    uint32_t base = I2C_BASE(isu);
    uint32_t ctrl = rd32(base + I2C_INT_CTRL);
    if (ctrl & 1u) {
        done[isu] = true;
    }
    if (ctrl & (1u << 4)) {
        sub_done[isu] = true;
    }
    wr32(base + I2C_INT_CTRL, ctrl);          /* W1C the status bits, keep the enables */
}

void irq_isu0_i2c(void) { isr(0); }
void irq_isu1_i2c(void) { isr(1); }
void irq_isu2_i2c(void) { isr(2); }
void irq_isu3_i2c(void) { isr(3); }
void irq_isu4_i2c(void) { isr(4); }

uint32_t i2c_open(unsigned isu, uint32_t hz)
{
    uint32_t base = I2C_BASE(isu);
    wr32(ISU_GLOBAL_CTRL(isu), rd32(ISU_GLOBAL_CTRL(isu)) | (1u << 8) | 1u);
    wr32(base + I2C_MM_CON0, 1u << 15);                     /* master, idle */
    wr32(base + I2C_S_CON0, 0);
    wr32(base + I2C_MM_FIFO_CON0, 3u);
    wr32(base + I2C_MM_PAD_CON0, (1u << 7) | 1u);           /* sync + deglitch 1: 2 + 5 cycles of delay */
    uint32_t ratio = SOURCE_HZ / hz;
    uint32_t phase = ratio / 4u - 1u, rem = ratio % 4u;
    uint32_t p0 = phase + (rem >= 1u), p1 = phase, p2 = phase + (rem >= 2u), p3 = phase + (rem >= 3u);
    uint32_t shift = (hz == 400000u) ? 5u : 3u;
    p0 += shift;
    p2 -= shift;
    uint32_t adjust = 7u;
    if (p1 > adjust) {
        p1 -= adjust;
    } else {
        adjust -= p1 - 1u;
        p1 = 1u;
        p2 -= adjust;
    }
    wr32(base + I2C_MM_CNT_VAL_PHL, (p1 << 8) | p0);
    wr32(base + I2C_MM_CNT_VAL_PHH, (p3 << 8) | p2);
    wr32(base + I2C_INT_CTRL, 1u);                          /* clear a stale status */
    done[isu] = false;
    nvic_clear_pending(IRQ_ISU_I2C(isu));
    nvic_enable_irq(IRQ_ISU_I2C(isu), 2);
    return (p0 + 1u) + (p1 + 1u) + (p2 + 1u) + (p3 + 1u) + 7u;
}

static void dma_setup(unsigned ch, uint32_t mem, uint32_t fifo, unsigned len, bool rx)
{
    wr32(DMA_CH_EN_SET, 1u << ch);
    wr32(DMA_CH(ch) + DMA_START, 0);
    wr32(DMA_CH(ch) + DMA_CON, DMA_CON_SIZE_BYTE | DMA_CON_DREQ | (rx ? (DMA_CON_DIR | DMA_CON_DINC) : DMA_CON_SINC));
    wr32(DMA_CH(ch) + DMA_PGMADDR, mem);
    wr32(DMA_CH(ch) + DMA_FIXADDR, fifo);
    wr32(DMA_CH(ch) + DMA_COUNT, len);
    wr32(DMA_CH(ch) + DMA_START, DMA_STR);
}

int i2c_transfer(unsigned isu, uint8_t addr, const uint8_t *wr, unsigned wlen, uint8_t *rd, unsigned rlen)
{
    uint32_t base = I2C_BASE(isu);
    if (addr > 0x7Fu || (!wlen && !rlen) || wlen > 0xFFFFu || rlen > 0xFFFFu) {
        return I2C_PARAM;
    }
    if (rd32(base + I2C_MM_STATUS) & 1u) {
        return I2C_BUSY;
    }
    bool dma = wlen > I2C_FIFO_DEPTH || rlen > I2C_FIFO_DEPTH;
    unsigned packets = 0;
    uint32_t rw = 0;
    if (wlen) {
        wr32(base + I2C_MM_CNT_BYTE_PK(packets), wlen);
        packets++;
    }
    if (rlen) {
        wr32(base + I2C_MM_CNT_BYTE_PK(packets), rlen);
        rw |= 1u << packets;
        packets++;
    }
    wr32(base + I2C_MM_ID_CON0, addr);
    wr32(base + I2C_MM_PACK_CON0, rw | ((packets - 1u) << 4));
    wr32(base + I2C_MM_FIFO_CON0, 3u);
    if (dma) {
        if (wlen) {
            dma_setup(2u * isu, (uint32_t)(uintptr_t)wr, base + I2C_MM_FIFO_DATA, wlen, false);
        }
        if (rlen) {
            dma_setup(2u * isu + 1u, (uint32_t)(uintptr_t)rd, base + I2C_MM_FIFO_DATA, rlen, true);
        }
        wr32(base + I2C_DMA_CON0, 1u << 4);                 /* handshakes on, master side */
    } else {
        wr32(base + I2C_DMA_CON0, 0);
        for (unsigned i = 0; i < wlen; i++) {
            wr32(base + I2C_MM_FIFO_DATA, wr[i]);
        }
    }
    while (!(rd32(base + I2C_MM_STATUS) & (1u << 2))) {
    }
    done[isu] = false;
    wr32(base + I2C_INT_CTRL, 1u << 1);                     /* MM_INT_EN */
    wr32(base + I2C_MM_CON0, (1u << 15) | (1u << 14) | 1u);  /* master, repeated start, go */
    wait_irq_flag(&done[isu], false);
    uint32_t ack = rd32(base + I2C_MM_ACK_VAL);
    if (dma) {
        wr32(DMA_CH(2u * isu) + DMA_START, 0);
        wr32(DMA_CH(2u * isu + 1u) + DMA_START, 0);
    } else {
        for (unsigned i = 0; i < rlen; i++) {
            if (rd32(base + I2C_MM_FIFO_STATUS) & 1u) {
                break;
            }
            rd[i] = (uint8_t)rd32(base + I2C_MM_FIFO_DATA);
        }
    }
    uint32_t fifo = rd32(base + I2C_MM_FIFO_STATUS);
    wr32(base + I2C_MM_FIFO_CON0, 3u);
    if (ack & 0xF00u) {
        return I2C_NACK_ADDR;
    }
    if (ack & 0xFFu) {
        return I2C_NACK_DATA;
    }
    if ((fifo & 0x11u) != 0x11u || (fifo & 0xCCu)) {
        return I2C_INCOMPLETE;
    }
    return I2C_OK;
}

uint32_t i2c_last_ack(unsigned isu)
{
    return rd32(I2C_BASE(isu) + I2C_MM_ACK_VAL);
}

void i2c_sub_open(unsigned isu, uint8_t addr)
{
    uint32_t base = I2C_BASE(isu);
    wr32(ISU_GLOBAL_CTRL(isu), rd32(ISU_GLOBAL_CTRL(isu)) | (1u << 8) | 1u);
    wr32(base + I2C_S_FIFO_CON0, 3u);
    wr32(base + I2C_S_ID_CON0, addr);
    wr32(base + I2C_INT_CTRL, (1u << 4) | (1u << 5));       /* clear S_INT_STA, enable */
    sub_done[isu] = false;
    nvic_clear_pending(IRQ_ISU_I2C(isu));
    nvic_enable_irq(IRQ_ISU_I2C(isu), 2);
    wr32(base + I2C_S_CON0, 1u << 15);
}

void i2c_sub_write(unsigned isu, const uint8_t *data, unsigned len)
{
    for (unsigned i = 0; i < len; i++) {
        wr32(I2C_BASE(isu) + I2C_S_FIFO_DATA, data[i]);
    }
}

unsigned i2c_sub_wait(unsigned isu, uint8_t *data, unsigned max, bool *was_read)
{
    uint32_t base = I2C_BASE(isu);
    wait_irq_flag(&sub_done[isu], true);
    if (was_read) {
        *was_read = (rd32(base + I2C_S_ID_RECEIVED0) >> 7) & 1u;
    }
    unsigned n = 0;
    while (n < max && !(rd32(base + I2C_S_FIFO_STATUS) & 1u)) {
        data[n++] = (uint8_t)rd32(base + I2C_S_FIFO_DATA);
    }
    return n;
}
