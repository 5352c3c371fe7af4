/* GPIOIF event counter (facts from MediaTek hdl_gpioif.c / mhal_gpioif.c and its GPIOIF sample: the group's
 * GLOBAL_CTRL software reset pulse and counter clock/mode enables, STATIC_CTRL3 edge type 2 = both edges, mode
 * 1 = up/down, interrupt mode 3 = both limits; RST_VAL, LOW_LIMIT, HIGH_LIMIT; DYNAMIC_CTRL0 EVENT_CNT_EN; INT_EN,
 * INT_STS and INT_STS_CLR written 1 then 0; the counter interrupt is IRQ 71 + group). */
#include "gpioif.h"

static void (*limit_cb[6])(uint32_t, uint32_t);

static void isr(unsigned group)
{
    uint32_t base = GPIOIF_BASE(group);
    uint32_t sts = rd32(base + GPIO_CNT_INT_STS);
    wr32(base + GPIO_CNT_INT_STS_CLR, sts);
    wr32(base + GPIO_CNT_INT_STS_CLR, 0);
    if (limit_cb[group]) {
        limit_cb[group](sts, rd32(base + GPIO_CNT_COUNTER_VALUE));
    }
}

void irq_gpio_cnt0(void) { isr(0); }
void irq_gpio_cnt1(void) { isr(1); }
void irq_gpio_cnt2(void) { isr(2); }
void irq_gpio_cnt3(void) { isr(3); }
void irq_gpio_cnt4(void) { isr(4); }
void irq_gpio_cnt5(void) { isr(5); }

void gpioif_updown(unsigned group, uint32_t reset, uint32_t low, uint32_t high,
                   void (*on_limit)(uint32_t status, uint32_t count))
{
    uint32_t base = GPIOIF_BASE(group);
    uint32_t g = rd32(base + GPIO_GLOBAL_CTRL);
    wr32(base + GPIO_GLOBAL_CTRL, g & ~(1u << 1));
    wr32(base + GPIO_GLOBAL_CTRL, g | (1u << 1));
    wr32(base + GPIO_GLOBAL_CTRL, rd32(base + GPIO_GLOBAL_CTRL) | 1u | (1u << 3));
    /* both edges (2 << 16), up/down mode (1 << 18), interrupts at both limits (3 << 24), no saturation */
    wr32(base + GPIO_CNT_STATIC_CTRL3, (2u << 16) | (1u << 18) | (3u << 24));
    wr32(base + GPIO_CNT_RST_VAL, reset);
    wr32(base + GPIO_CNT_LOW_LIMIT, low);
    wr32(base + GPIO_CNT_HIGH_LIMIT, high);
    limit_cb[group] = on_limit;
    wr32(base + GPIO_CNT_INT_EN, 3u);
    nvic_clear_pending(IRQ_GPIO_CNT(group));
    nvic_enable_irq(IRQ_GPIO_CNT(group), 3);
    wr32(base + GPIO_CNT_DYNAMIC_CTRL0, 1u);
}

uint32_t gpioif_count(unsigned group)
{
    return rd32(GPIOIF_BASE(group) + GPIO_CNT_COUNTER_VALUE);
}
