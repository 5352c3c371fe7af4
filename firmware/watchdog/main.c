/* watchdog: the IO core's watchdog (MediaTek hdl_wdt.c register keys). On a cold start STA is 0: the
 * firmware sets a 500 ms timeout (16 ticks of 1/32 s: LENGTH = (15 << 5) | key 0x08), enables it in reset
 * mode, kicks it three times 200 ms apart (sleeping on GPT3 in between), then stops kicking and sleeps.
 * The watchdog resets the core; on that boot STA bit 15 says the hardware timeout caused the reset, the
 * firmware says so, disables the watchdog and stops. */
#include "sleep.h"

int main(void)
{
    uint32_t sta = rd32(WDT_STA);
    print("watchdog: start (STA=0x%08x)\r\n", sta);
    if (sta & WDT_STA_HW) {
        wr32(WDT_MODE, WDT_MODE_KEY);  /* EN = 0 */
        print("watchdog: reset by watchdog\r\n");
        return 0;
    }
    if (sta & WDT_STA_SW) {
        print("watchdog: reset by software\r\n");
    }

    wr32(WDT_LENGTH, ((15u & 0x7FFu) << 5) | WDT_LENGTH_KEY);
    wr32(WDT_RESTART, WDT_RESTART_KEY);
    wr32(WDT_MODE, WDT_MODE_KEY | WDT_MODE_EN);  /* IRQ bit clear: a timeout resets the core */
    print("watchdog: enabled, timeout 500 ms\r\n");
    for (uint32_t i = 1; i <= 3; i++) {
        sleep_us(200000);
        wr32(WDT_RESTART, WDT_RESTART_KEY);
        print("watchdog: kick %u\r\n", i);
    }
    print("watchdog: stopped kicking\r\n");
    for (;;) {
        cpu_wfi();  /* nothing left to wake us but the watchdog's reset */
    }
}
