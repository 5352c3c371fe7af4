/* ADC driver (facts from CodethinkLabs ADC.c and MediaTek hdl_adc.c / mhal_adc.c: reset through
 * ADC_GLOBAL_CTRL, CTL3 analog settings, CTL0 with T_INIT 20 and T_CH 8, the channel map in CTL0 bits 31:16,
 * FSM_EN to start; the FIFO trigger level in TRI_LVL bits 6:2 with RXFEN for the interrupt; periodic mode with
 * REG_PERIOD and the virtual-FIFO DMA channel 29, SWPTR advanced by the bytes consumed). */
#include "adc.h"
#include "dma.h"

static volatile bool fifo_ready;
static void (*periodic_cb)(unsigned, unsigned);
static unsigned ring_beats;

void irq_adc(void)
{
    wr32(ADC_FIFO_IER, 0);                   /* the level stays until the FIFO is read: mask it meanwhile */
    fifo_ready = true;
}

void adc_open(void)
{
    wr32(ADC_GLOBAL_CTRL, 0);
    wr32(ADC_GLOBAL_CTRL, 1);
    /* CodethinkLabs' analog settings; VCM_AZURE_EN (bit 31) 0 for the 2.5 V reference. */
    wr32(ADC_CTL3, (1u << 0) | (1u << 2) | (1u << 4) | (1u << 6) | (2u << 8) | (1u << 11) | (1u << 13) | (1u << 15));
    nvic_clear_pending(IRQ_ADC);
    nvic_enable_irq(IRQ_ADC, 2);
}

static uint32_t ctl0(uint16_t map, bool periodic)
{
    return (8u << 4) | (periodic ? (1u << 8) : 0u) | (20u << 9) | ((uint32_t)map << 16);
}

unsigned adc_one_shot(uint16_t map, uint32_t *out, unsigned max)
{
    unsigned channels = 0;
    for (unsigned i = 0; i < 8; i++) {       /* channels 0-7 exist; other map bits give no sample */
        channels += (map >> i) & 1u;
    }
    wr32(ADC_CTL0, ctl0(map, false));
    while (rd32(ADC_FIFO_LSR) & 1u) {        /* empty the FIFO */
        (void)rd32(ADC_FIFO_RBR);
    }
    wr32(ADC_FIFO_DMA_EN, 0);
    wr32(ADC_FIFO_TRI_LVL, (channels ? channels : 1u) << 2);
    fifo_ready = false;
    wr32(ADC_FIFO_IER, 1u);
    wr32(ADC_CTL0, ctl0(map, false) | 1u);
    wait_irq_flag(&fifo_ready, false);
    unsigned n = 0;
    while (n < max && (rd32(ADC_FIFO_LSR) & 1u)) {
        out[n++] = rd32(ADC_FIFO_RBR);
    }
    wr32(ADC_CTL0, ctl0(map, false));
    return n;
}

static void ring_irq(unsigned ch)
{
    unsigned count = dma_vff_count(ch);
    unsigned first = dma_vff_swptr(ch) / 4u;
    if (periodic_cb) {
        periodic_cb(first, count);
    }
    dma_vff_advance(ch, count * 4u, ring_beats * 4u);
    wr32(DMA_CH(ch) + DMA_ACKINT, DMA_INT);
}

void adc_periodic(uint16_t map, uint32_t period_clocks, uint32_t *ring, unsigned beats, unsigned threshold,
                  void (*on_samples)(unsigned first, unsigned count))
{
    periodic_cb = on_samples;
    ring_beats = beats;
    wr32(ADC_CTL0, ctl0(map, true));
    wr32(ADC_REG_PERIOD, period_clocks);
    wr32(ADC_FIFO_IER, 0);
    dma_vff_start(ADC_DMA_CHANNEL, ring, beats, DMA_CON_SIZE_WORD, threshold, true, ring_irq);
    wr32(ADC_FIFO_DMA_EN, 1u);
    wr32(ADC_CTL0, ctl0(map, true) | 1u);
}

void adc_stop(void)
{
    wr32(ADC_CTL0, rd32(ADC_CTL0) & ~1u);
    wr32(ADC_FIFO_DMA_EN, 0);
    dma_vff_stop(ADC_DMA_CHANNEL);
}
