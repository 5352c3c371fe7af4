/* GPIO pins through the set/reset registers of their 4-pin block (CodethinkLabs GPIO.c, mt3620/gpio.h). */
#include "rt.h"

static inline uint32_t pin_mask(unsigned pin) { return 1u << (pin % 4u); }

void gpio_output(unsigned pin, bool level)
{
    uint32_t base = GPIO_BLOCK_BASE(pin);
    gpio_write(pin, level);
    wr32(base + GPIO_OE_SET, pin_mask(pin));
    wr32(base + GPIO_IES_RESET, pin_mask(pin));
}

void gpio_input(unsigned pin)
{
    uint32_t base = GPIO_BLOCK_BASE(pin);
    wr32(base + GPIO_IES_SET, pin_mask(pin));
    wr32(base + GPIO_OE_RESET, pin_mask(pin));
}

void gpio_write(unsigned pin, bool level)
{
    wr32(GPIO_BLOCK_BASE(pin) + (level ? GPIO_DOUT_SET : GPIO_DOUT_RESET), pin_mask(pin));
}

bool gpio_read(unsigned pin)
{
    return (rd32(GPIO_BLOCK_BASE(pin) + GPIO_DIN) & pin_mask(pin)) != 0;
}
