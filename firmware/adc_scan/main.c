/* adc_scan: the ADC against the inputs of tests/firmware/boards/adc.board: one-shot scans of channels 0-3 through
 * the FIFO (twice, 50 ms apart, so a changing input shows), a channel map naming a channel that does not exist,
 * then periodic scans of channels 1 and 2 at 1 kHz into a 16-word DMA ring, printed as they arrive. */
#include "adc.h"
#include "sleep.h"

static __attribute__((section(".sysram"))) uint32_t ring[16];
static volatile unsigned received;
static uint32_t seen[24];

static void on_samples(unsigned first, unsigned count)
{
    for (unsigned i = 0; i < count; i++) {
        if (received < 24) {
            seen[received] = ring[(first + i) % 16u];
        }
        received++;
    }
}

static void show(const char *what, const uint32_t *samples, unsigned n)
{
    print("adc_scan: %s %u samples:", what, n);
    for (unsigned i = 0; i < n; i++) {
        uint32_t mv = ADC_VALUE(samples[i]) * 2500u / 4095u;
        print(" ch%u=%u(%umV)", ADC_CHANNEL(samples[i]), ADC_VALUE(samples[i]), mv);
    }
    print("\r\n");
}

int main(void)
{
    uint32_t samples[8];
    print("adc_scan: start\r\n");
    adc_open();
    unsigned n = adc_one_shot(0x000F, samples, 8);
    show("one-shot", samples, n);
    sleep_us(50000);
    n = adc_one_shot(0x000F, samples, 8);
    show("one-shot", samples, n);
    n = adc_one_shot(0x0201, samples, 8);                   /* channel 9 does not exist */
    show("map 0x0201", samples, n);

    adc_periodic(0x0006, 2000u - 1u, ring, 16, 8, on_samples);
    while (received < 24) {
        cpu_irq_disable();
        if (received < 24) {
            cpu_wfi();
        }
        cpu_irq_enable();
    }
    adc_stop();
    show("periodic", seen, 24);
    print("adc_scan: done\r\n");
    return 0;
}
