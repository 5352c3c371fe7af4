/* crc32: the compute-bound benchmark. Runs at 197.6 MHz; fills a 4 KB buffer from a linear congruential
 * generator, then computes the standard CRC-32 (reflected, polynomial 0xEDB88320, as zlib.crc32) of it
 * once, and of 1024 back-to-back copies of it (4 MB), table-driven (drivers/crc32.c, shared with the QEMU build
 * in firmware/crc32_qemu). GPT3 measures the run in microseconds of (virtual) chip time. */
#include "crc32.h"
#include "rt.h"

#define ROUNDS 1024u

int main(void)
{
    uint32_t hz = clock_select(HCLK_SRC_PLL);
    print("crc32: start at %u Hz\r\n", hz);
    crc32_prepare();
    print("crc32: buffer crc=0x%08x\r\n", crc32_update(0, crc32_buffer, CRC32_BUF_SIZE));

    wr32(GPT3_INIT, 0);
    wr32(GPT3_CTRL, GPT3_OSC_CNT_1US | GPT_CTRL_EN);
    uint32_t crc = 0;
    for (uint32_t r = 0; r < ROUNDS; r++) {
        crc = crc32_update(crc, crc32_buffer, CRC32_BUF_SIZE);
    }
    uint32_t us = rd32(GPT3_CNT);
    wr32(GPT3_CTRL, 0);
    print("crc32: rounds=%u crc=0x%08x\r\n", ROUNDS, crc);
    print("crc32: elapsed_us=%u\r\n", us);
    print("crc32: done\r\n");
    return 0;
}
