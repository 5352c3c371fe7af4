/* M4 DMA: virtual-FIFO rings and the interrupt dispatch by GLBSTA (CodethinkLabs mt3620/dma.h and VectorTable.c
 * m4dma_irq_b; MediaTek hdl_dma.h: FFSIZE and COUNT in beats, SWPTR/HWPTR in bytes with bit 16 the wrap bit,
 * CodethinkLabs ADC.c / I2S.c advance SWPTR in bytes). */
#include "dma.h"

static dma_handler handlers[30];

void irq_m4dma(void)
{
    for (unsigned ch = 0; ch < 30; ch++) {
        uint32_t sta = rd32(ch < 16 ? DMA_GLBSTA0 : DMA_GLBSTA1);
        if (sta & (2u << (2u * (ch % 16u)))) {
            if (handlers[ch]) {
                handlers[ch](ch);
            } else {
                wr32(DMA_CH(ch) + DMA_ACKINT, DMA_INT);
            }
        }
    }
}

void dma_vff_start(unsigned ch, void *ring, unsigned beats, unsigned size, unsigned threshold, bool rx,
                   dma_handler handler)
{
    handlers[ch] = handler;
    wr32(DMA_CH_EN_SET, 1u << ch);
    wr32(DMA_CH(ch) + DMA_START, 0);
    wr32(DMA_CH(ch) + DMA_PGMADDR, (uint32_t)(uintptr_t)ring);
    wr32(DMA_CH(ch) + DMA_FFSIZE, beats);
    wr32(DMA_CH(ch) + DMA_COUNT, threshold);
    wr32(DMA_CH(ch) + DMA_SWPTR, 0);
    wr32(DMA_CH(ch) + DMA_ACKINT, DMA_INT);
    wr32(DMA_CH(ch) + DMA_CON, (size & 3u) | DMA_CON_DREQ | DMA_CON_ITEN | (rx ? DMA_CON_DIR : 0u));
    nvic_enable_irq(IRQ_M4DMA, 2);
    wr32(DMA_CH(ch) + DMA_START, DMA_STR);
}

void dma_vff_stop(unsigned ch)
{
    wr32(DMA_CH(ch) + DMA_START, 0);
    wr32(DMA_CH(ch) + DMA_ACKINT, DMA_INT);
    handlers[ch] = 0;
}

unsigned dma_vff_count(unsigned ch)
{
    return rd32(DMA_CH(ch) + DMA_FFCNT);
}

unsigned dma_vff_swptr(unsigned ch)
{
    return rd32(DMA_CH(ch) + DMA_SWPTR) & 0xFFFFu;
}

void dma_vff_advance(unsigned ch, unsigned bytes, unsigned ring_bytes)
{
    uint32_t sw = rd32(DMA_CH(ch) + DMA_SWPTR);
    uint32_t wrap = sw & 0x10000u;
    uint32_t pos = (sw & 0xFFFFu) + bytes;
    if (pos >= ring_bytes) {
        pos -= ring_bytes;
        wrap ^= 0x10000u;
    }
    wr32(DMA_CH(ch) + DMA_SWPTR, wrap | pos);
}

void dma_memcpy(void *dst, const void *src, unsigned bytes)
{
    const unsigned ch = 12;
    wr32(DMA_CH_EN_SET, 1u << ch);
    wr32(DMA_CH(ch) + DMA_START, 0);
    wr32(DMA_CH(ch) + DMA_SRC, (uint32_t)(uintptr_t)src);
    wr32(DMA_CH(ch) + DMA_DST, (uint32_t)(uintptr_t)dst);
    wr32(DMA_CH(ch) + DMA_COUNT, bytes);
    wr32(DMA_CH(ch) + DMA_CON, DMA_CON_SIZE_BYTE | DMA_CON_SINC | DMA_CON_DINC);
    wr32(DMA_CH(ch) + DMA_START, DMA_STR);
    while (rd32(DMA_CH(ch) + DMA_START) & DMA_STR) {
    }
}
