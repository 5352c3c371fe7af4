/* gpioif_count: the GPIOIF event counter of GPIO block 3 in up/down mode (edges of GPIO 12 count up, of GPIO 13
 * down, from 100, interrupts at 90 and 110: MediaTek's GPIOIF sample settings), the count printed every 100 ms for
 * 1.2 s and each limit interrupt reported. The test drives the pins (waveforms, RDB buttons). */
#include "gpioif.h"
#include "sleep.h"

static volatile unsigned limits;

static void on_limit(uint32_t status, uint32_t count)
{
    limits++;
    print("gpioif_count: limit status=0x%x count=%u\r\n", status, count);
}

int main(void)
{
    print("gpioif_count: start\r\n");
    gpio_input(12);
    gpio_input(13);
    gpioif_updown(3, 100, 90, 110, on_limit);
    for (unsigned t = 1; t <= 12; t++) {
        sleep_us(100000);
        print("gpioif_count: t=%ums count=%u\r\n", t * 100u, gpioif_count(3));
    }
    print("gpioif_count: done after %u limit interrupts\r\n", limits);
    return 0;
}
