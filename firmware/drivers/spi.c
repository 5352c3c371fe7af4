/* ISU SPI master in "more buffer" mode, interrupt-driven, registers or DMA.
 *
 * As the public drivers program it (facts, not code): CodethinkLabs SPIMaster.c (SOAR holds a 1-4 byte opcode in
 * its low bytes, first byte most significant; SDOR0-7 the payload; SMBCR the command/MOSI/MISO bit counts; SMMR the
 * mode, divider RS_CLK_SEL = ceil(79.04 MHz / f) - 2 and chip select; STCSR.START; the interrupt acknowledged by
 * reading SCSR; the reply in SDIR; DMA mode writes the 12-word block SOAR, SDOR0-7, SMMR, SMBCR, STCSR to DATAPORT
 * from SYSRAM on the ISU's TX channel 2n) and MediaTek hdl_spim.c (a full-duplex reply from SDIR word 4).
 */
#include "spi.h"

static volatile bool done[5];
static uint32_t smmr[5];
static bool use_dma[5];
/* The DMA reads the configuration block from SYSRAM (the DMA does not reach TCM). */
static __attribute__((section(".sysram"))) uint32_t dma_block[5][13];

static void isr(unsigned isu)
{
    (void)rd32(SPI_BASE(isu) + SPI_SCSR);      /* acknowledges the interrupt */
    done[isu] = true;
}

void irq_isu0_spim(void) { isr(0); }
void irq_isu1_spim(void) { isr(1); }
void irq_isu2_spim(void) { isr(2); }
void irq_isu3_spim(void) { isr(3); }
void irq_isu4_spim(void) { isr(4); }

uint32_t spi_open(unsigned isu, uint32_t hz, unsigned mode)
{
    wr32(ISU_GLOBAL_CTRL(isu), rd32(ISU_GLOBAL_CTRL(isu)) | (0xFu << 9) | 1u);
    uint32_t div = (SPI_HCLK_HZ + hz - 1u) / hz;
    div = div < 2u ? 0u : div - 2u;
    if (div > 4095u) {
        div = 4095u;
    }
    smmr[isu] = (1u << 2) | ((mode >> 1 & 1u) << 4) | ((mode & 1u) << 5) | (1u << 9) | (div << 16);
    wr32(SPI_BASE(isu) + SPI_SMMR, smmr[isu] | (SPI_CS_NONE << 29));
    wr32(SPI_BASE(isu) + SPI_CSPOL, 0);
    (void)rd32(SPI_BASE(isu) + SPI_SCSR);
    use_dma[isu] = false;
    nvic_clear_pending(IRQ_ISU_SPIM(isu));
    nvic_enable_irq(IRQ_ISU_SPIM(isu), 2);
    return SPI_HCLK_HZ / (div + 2u);
}

void spi_set_dma(unsigned isu, bool dma)
{
    use_dma[isu] = dma;
    wr32(SPI_BASE(isu) + SPI_CSPOL, dma ? (1u << 8) : 0u);
}

static int run(unsigned isu, const uint32_t *words)
{
    uint32_t base = SPI_BASE(isu);
    done[isu] = false;
    if (use_dma[isu]) {
        for (unsigned i = 0; i < 12; i++) {
            dma_block[isu][i] = words[i];
        }
        dma_block[isu][12] = 0;                  /* one more word: dropped while the transfer runs */
        unsigned ch = 2u * isu;
        wr32(DMA_CH_EN_SET, 1u << ch);
        wr32(DMA_CH(ch) + DMA_START, 0);
        wr32(DMA_CH(ch) + DMA_CON, DMA_CON_SIZE_WORD | DMA_CON_SINC);   /* free-running, memory to DATAPORT */
        wr32(DMA_CH(ch) + DMA_PGMADDR, (uint32_t)(uintptr_t)dma_block[isu]);
        wr32(DMA_CH(ch) + DMA_FIXADDR, base + SPI_DATAPORT);
        wr32(DMA_CH(ch) + DMA_COUNT, 13);
        wr32(DMA_CH(ch) + DMA_START, DMA_STR);
    } else {
        wr32(base + SPI_SOAR, words[0]);
        for (unsigned i = 0; i < 8; i++) {
            wr32(base + SPI_SDOR(i), words[1 + i]);
        }
        wr32(base + SPI_SMMR, words[9]);
        wr32(base + SPI_SMBCR, words[10]);
        wr32(base + SPI_STCSR, words[11]);
    }
    wait_irq_flag(&done[isu], false);
    if (use_dma[isu]) {
        wr32(DMA_CH(2u * isu) + DMA_START, 0);
    }
    return 0;
}

static void pack(uint32_t *words, unsigned isu, unsigned cs, const uint8_t *cmd, unsigned cmdlen, const uint8_t *tx,
                 unsigned txlen, bool full)
{
    uint32_t soar = 0xFFFFFFFFu;
    for (unsigned i = 0; i < cmdlen; i++) {
        soar = (soar << 8) | cmd[i];
    }
    words[0] = soar;
    uint8_t *sdor = (uint8_t *)&words[1];
    for (unsigned i = 0; i < 32; i++) {
        sdor[i] = i < txlen ? tx[i] : 0xFFu;
    }
    words[9] = smmr[isu] | (full ? (1u << 10) : 0u) | ((cs & 7u) << 29);
    words[11] = 1u << 8;                         /* START */
}

int spi_transfer(unsigned isu, unsigned cs, const uint8_t *cmd, unsigned cmdlen, const uint8_t *tx, unsigned txlen,
                 uint8_t *rx, unsigned rxlen)
{
    if (cmdlen > 4u || txlen > 32u || rxlen > 32u) {
        return -1;
    }
    uint32_t words[12];
    pack(words, isu, cs, cmd, cmdlen, tx, txlen, false);
    words[10] = (txlen * 8u) | ((rxlen * 8u) << 12) | ((cmdlen * 8u) << 24);
    run(isu, words);
    for (unsigned i = 0; i < rxlen; i++) {
        rx[i] = (uint8_t)(rd32(SPI_BASE(isu) + SPI_SDIR(i / 4u)) >> (8u * (i % 4u)));
    }
    return 0;
}

int spi_full_duplex(unsigned isu, unsigned cs, const uint8_t *cmd, unsigned cmdlen, const uint8_t *tx, uint8_t *rx,
                    unsigned len)
{
    if (cmdlen < 1u || cmdlen > 4u || len < 1u || len > 16u) {
        return -1;
    }
    uint32_t words[12];
    pack(words, isu, cs, cmd, cmdlen, tx, len, true);
    words[10] = (len * 8u) | ((len * 8u) << 12) | ((cmdlen * 8u) << 24);
    run(isu, words);
    for (unsigned i = 0; i < len; i++) {
        rx[i] = (uint8_t)(rd32(SPI_BASE(isu) + SPI_SDIR(4u + i / 4u)) >> (8u * (i % 4u)));
    }
    return 0;
}
